import Foundation
import HTTPTypes
import Hummingbird
import PaperPostCore
import PaperPostStore
import Rendering

/// Signing up with double opt-in: the form, the confirmation mail, and the confirmation.
extension Site {
    /// What the newsletter is, a sample from the latest edition, and the subscribe form.
    func home(_ request: Request) async throws -> Response {
        let language = Self.language(request)
        let text = WebText.for(language)
        let nonce = csrf.nonce(for: request)
        var context: [String: Any] = [
            "heading": text.homeHeading, "intro": text.homeIntro,
            "other_lang": language == .zh ? "en" : "zh", "other_lang_label": language == .zh ? "English" : "中文",
            "subscribe": subscribeForm(language, nonce: nonce.value, categories: settings.defaultCategories, chosenLanguage: language),
        ]
        if let day = try await curation.digestDays(limit: 1).first, let digest = try await curation.digest(on: day) {
            context["sample"] = [
                "heading": text.sampleHeading(day.description), "url": "/archive/\(day)?lang=\(language.rawValue)",
                "titles": digest.picks.prefix(3).map(\.paper.title.linkInert), "more": text.readEdition,
            ]
        }
        return page(language, title: text.homeHeading, template: "home", context: context, nonce: nonce)
    }

    /// The same answer whether the address is new, pending or already subscribed, so that the
    /// form cannot tell anyone who is on the list. Only the mail differs, and only its owner
    /// reads it.
    func subscribe(_ request: Request, context: WebRequestContext) async throws -> Response {
        let language = Self.language(request)
        let text = WebText.for(language)
        guard let form = try await formFields(request, context) else { return unreadableForm(language) }
        let nonce = csrf.nonce(for: request)
        let typedCategories = form.category ?? []
        let chosenLanguage = form.language.flatMap(Language.init(rawValue:)) ?? language
        func again(_ errors: [String], status: HTTPResponse.Status) -> Response {
            let context: [String: Any] = [
                "heading": text.homeHeading, "intro": text.homeIntro,
                "subscribe": subscribeForm(
                    language, nonce: nonce.value, email: form.email ?? "", name: form.name ?? "", categories: typedCategories,
                    chosenLanguage: chosenLanguage, errors: errors),
            ]
            return page(language, title: text.homeHeading, template: "home", context: context, status: status, nonce: nonce)
        }
        guard csrf.isValid(form.csrf, request: request) else { return again([text.csrfFailed], status: .forbidden) }

        var errors: [String] = []
        var address: EmailAddress?
        do { address = try settings.address(form.email ?? "") } catch { errors.append(text.badEmail(form.email ?? "")) }
        var name: String?
        do { name = try Subscriber.validName(form.name ?? "") } catch { errors.append(text.badName) }
        let (categories, choiceErrors) = validChoices(form, text: text)
        errors += choiceErrors
        guard let address, errors.isEmpty else { return again(errors, status: .badRequest) }

        if let refused = try await rateLimited(request, context, address: address, language: language) { return refused }

        let notice: Notice
        let subscriber: Subscriber
        switch try await subscribers.requestSubscription(
            NewSubscriber(email: address, name: name, categories: categories, language: chosenLanguage, status: .pending))
        {
        case .needsConfirmation(let pending):
            subscriber = pending
            notice = WebText.for(pending.language).confirmationNotice(
                try await link(.confirm, for: pending), Int(settings.web.confirmationLifetime.seconds / 86_400))
        case .alreadySubscribed(let active):
            subscriber = active
            notice = WebText.for(active.language).alreadySubscribedNotice(try await link(.preferences, for: active))
        }
        guard await mail(notice, to: subscriber) else {
            return message(language, heading: text.mailFailedTitle, paragraphs: [text.mailFailed], status: .serviceUnavailable)
        }
        return message(language, heading: text.checkInboxTitle, paragraphs: [text.checkInbox(Self.masked(address.value))])
    }

    /// The 429 page when this client or this address has asked too often, else `nil`: sign-ups
    /// and fresh-link requests share the limits, as both send mail to a typed address.
    func rateLimited(_ request: Request, _ context: WebRequestContext, address: EmailAddress, language: Language) async throws -> Response? {
        let web = settings.web
        var wait = try await limits.admit(
            scope: "client", key: clientAddress(request, context), limit: web.subscribeLimitPerClient, window: web.clientWindow)
        if wait == nil {
            wait = try await limits.admit(scope: "address", key: address.key, limit: web.subscribeLimitPerAddress, window: web.addressWindow)
        }
        guard let wait else { return nil }
        let text = WebText.for(language)
        var response = message(language, heading: text.tooManyTitle, paragraphs: [text.tooMany(wait)], status: .tooManyRequests)
        response.headers[.retryAfter] = "\(Int(wait.seconds.rounded(.up)))"
        return response
    }

    /// A GET only shows the button: mail scanners follow every link in a message, and must not
    /// confirm an address whose owner never clicked.
    func confirmPage(_ request: Request) async throws -> Response {
        let nonce = csrf.nonce(for: request)
        switch try await holder(of: Self.token(request), .confirm) {
        case .failure(let problem):
            return linkProblem(problem, language: Self.language(request), nonce: nonce)
        case .success(let subscriber):
            return confirmButton(request, subscriber, nonce: nonce)
        }
    }

    /// Activates the subscriber, then shows their preferences.
    func confirm(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let form = try await formFields(request, context) else { return unreadableForm(Self.language(request)) }
        let nonce = csrf.nonce(for: request)
        switch try await holder(of: Self.token(request), .confirm) {
        case .failure(let problem):
            return linkProblem(problem, language: Self.language(request), nonce: nonce)
        case .success(let subscriber):
            guard csrf.isValid(form.csrf, request: request) else {
                return confirmButton(request, subscriber, nonce: nonce, refused: true)
            }
            let language = Self.language(request, reader: subscriber.language)
            guard let confirmed = try await subscribers.confirm(id: subscriber.id) else {
                return linkProblem(.invalid, language: language, nonce: nonce)
            }
            // Once, when the subscription becomes active: confirming again sends nothing more.
            if subscriber.status != .active, confirmed.status == .active {
                let names = confirmed.categories.map { ArxivCategory.named($0).map { c in "\(c.code) (\(c.name(in: confirmed.language)))" } ?? $0 }
                let notice = WebText.for(confirmed.language).welcomeNotice(
                    try await link(.preferences, for: confirmed), names.joined(separator: confirmed.language == .zh ? "、" : ", "))
                _ = await mail(notice, to: confirmed)
            }
            return try await preferences(confirmed, language: language, nonce: nonce, notice: WebText.for(language).confirmed)
        }
    }

    /// The page with the one "Confirm my subscription" button; `refused` when a POST came
    /// without a valid CSRF field, so the reader can simply press it again.
    func confirmButton(_ request: Request, _ subscriber: Subscriber, nonce: (value: String, isNew: Bool), refused: Bool = false) -> Response {
        let language = Self.language(request, reader: subscriber.language)
        let text = WebText.for(language)
        return message(
            language, heading: text.confirmTitle,
            paragraphs: [refused ? text.csrfFailed : text.confirmQuestion(Self.masked(subscriber.email))],
            status: refused ? .forbidden : .ok,
            button: button("/confirm?token=\(Self.token(request))", label: text.confirmButton, nonce: nonce.value), nonce: nonce)
    }

    /// A refused link: what happened, and the form to ask for a new one.
    func linkProblem(_ problem: LinkProblem, language: Language, nonce: (value: String, isNew: Bool)) -> Response {
        let text = WebText.for(language)
        let form = subscribeForm(language, nonce: nonce.value, categories: settings.defaultCategories, chosenLanguage: language)
        switch problem {
        case .expired:
            return message(language, heading: text.expiredTitle, paragraphs: [text.expiredMessage], status: .gone, subscribeForm: form, nonce: nonce)
        case .invalid:
            return message(language, heading: text.invalidTitle, paragraphs: [text.invalidMessage], status: .badRequest, subscribeForm: form, nonce: nonce)
        }
    }

    func subscribeForm(
        _ language: Language, nonce: String, email: String = "", name: String = "", categories: [String], chosenLanguage: Language,
        errors: [String] = []
    ) -> [String: Any] {
        let text = WebText.for(language)
        return [
            "lang": language.rawValue, "csrf": csrf.field(for: nonce), "errors": errors, "email": email, "name": name,
            "email_label": text.emailLabel, "name_label": text.nameLabel, "categories_label": text.categoriesLabel,
            "language_label": text.languageLabel, "button": text.subscribeButton,
            "categories": categoryChoices(categories, language: language),
            "languages": Self.languageChoices(chosenLanguage, labels: text),
        ]
    }

    /// The categories and language a form chose, checked: the valid codes, and a message for
    /// each problem (shared by the sign-up form and the preference page).
    func validChoices(_ form: FormFields, text: WebText) -> (categories: [String], errors: [String]) {
        var categories: [String] = []
        var errors: [String] = []
        for code in form.category ?? [] {
            do { categories.append(try ArxivCategory.validCode(code)) } catch { errors.append(text.badCategory(code)) }
        }
        if (form.category ?? []).isEmpty { errors.append(text.noCategory) }
        if let language = form.language, Language(rawValue: language) == nil { errors.append(text.badLanguage(language)) }
        return (categories, errors)
    }

    func button(_ action: String, label: String, nonce: String) -> [String: Any] {
        ["action": action, "label": label, "fields": [["name": CSRFProtection.fieldName, "value": csrf.field(for: nonce)]]]
    }

    /// The client's address for rate limits: the peer, or behind a trusted proxy the last
    /// `X-Forwarded-For` entry (the one the proxy itself added).
    func clientAddress(_ request: Request, _ context: WebRequestContext) -> String {
        if settings.web.trustForwardedFor, let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last
        {
            return last.trimmingCharacters(in: .whitespaces)
        }
        return context.peerAddress ?? "unknown"
    }
}

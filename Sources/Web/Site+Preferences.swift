import Foundation
import HTTPTypes
import Hummingbird
import PaperPostCore
import PaperPostStore

/// The preference centre and unsubscribing: what a reader can do with the links in every email.
extension Site {
    func preferencesPage(_ request: Request) async throws -> Response {
        let nonce = csrf.nonce(for: request)
        switch try await holder(of: Self.token(request), .preferences) {
        case .failure:
            return invalidLink(Self.language(request), request)
        case .success(let subscriber):
            return try await preferences(subscriber, language: Self.language(request, reader: subscriber.language), nonce: nonce)
        }
    }

    /// Saves categories and language, pauses, resumes or unsubscribes, as the pressed button says.
    func changePreferences(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let form = try await formFields(request, context) else { return unreadableForm(Self.language(request)) }
        let nonce = csrf.nonce(for: request)
        guard case .success(let subscriber) = try await holder(of: Self.token(request), .preferences) else {
            return invalidLink(Self.language(request))
        }
        var language = Self.language(request, reader: subscriber.language)
        var text = WebText.for(language)
        let typedCategories = form.category ?? []
        let typedLanguage = form.language.flatMap(Language.init(rawValue:))
        guard csrf.isValid(form.csrf, request: request) else {
            return try await preferences(
                subscriber, language: language, nonce: nonce, errors: [text.csrfFailed], categories: typedCategories,
                chosenLanguage: typedLanguage, status: .forbidden)
        }
        let change: SubscriberChange
        let notice: String
        switch form.action ?? "save" {
        case "pause":
            guard subscriber.status == .active else { return try await preferences(subscriber, language: language, nonce: nonce) }
            (change, notice) = (SubscriberChange(status: .paused), text.paused)
        case "resume":
            guard subscriber.status != .active && subscriber.status != .pending else { return try await preferences(subscriber, language: language, nonce: nonce) }
            (change, notice) = (SubscriberChange(status: .active), text.resumed)
        case "unsubscribe":
            (change, notice) = (SubscriberChange(status: .unsubscribed), text.done(Self.masked(subscriber.email)))
        case "save":
            var (categories, errors) = validChoices(form, text: text)
            var interests: [ReaderInterests.Kind: [String]] = [:]
            for kind in ReaderInterests.Kind.allCases {
                guard let typed = form[kind] else { continue }
                do {
                    interests[kind] = try ReaderInterests.parse(typed, as: kind)
                } catch {
                    let entry = if case .invalidValue(_, let value, _) = error { value } else { typed }
                    errors.append(text.badInterest(text.interestLabels[kind] ?? kind.field, String(entry.prefix(120))))
                }
            }
            var schedule: Schedule?
            if let chosen = form.schedule {
                do {
                    schedule = try Schedule(parsing: chosen == "weekly" ? "weekly:\(form.weekday ?? "mon")" : chosen)
                } catch {
                    errors.append(text.badSchedule)
                }
            }
            guard errors.isEmpty else {
                return try await preferences(
                    subscriber, language: language, nonce: nonce, errors: errors, categories: typedCategories, chosenLanguage: typedLanguage,
                    typedInterests: form, status: .badRequest)
            }
            if let typedLanguage, request.uri.queryParameters["lang"] == nil {
                language = typedLanguage
                text = WebText.for(language)
            }
            (change, notice) = (SubscriberChange(categories: categories, language: typedLanguage, interests: interests, schedule: schedule), text.saved)
        default:
            return try await preferences(
                subscriber, language: language, nonce: nonce, errors: [text.unknownAction], status: .badRequest)
        }
        let changed = try await subscribers.update(id: subscriber.id, change, source: .web)
        return try await preferences(changed, language: language, nonce: nonce, notice: notice)
    }

    /// The preference page, showing what the reader typed when it could not be saved.
    func preferences(
        _ subscriber: Subscriber, language: Language, nonce: (value: String, isNew: Bool), notice: String? = nil, errors: [String] = [],
        categories: [String]? = nil, chosenLanguage: Language? = nil, typedInterests: FormFields? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let text = WebText.for(language)
        let token = try await token(.preferences, for: subscriber)
        var context: [String: Any] = [
            "heading": text.preferencesTitle, "address": text.preferencesFor(Self.masked(subscriber.email)),
            "status": text.statusLine(subscriber.status), "action": "/preferences?token=\(token)", "csrf": csrf.field(for: nonce.value),
            "errors": errors, "categories_label": text.categoriesLabel, "language_label": text.languageLabel,
            "categories": categoryChoices(categories ?? subscriber.categories, language: language),
            "languages": Self.languageChoices(chosenLanguage ?? subscriber.language, labels: text),
            "save": text.saveButton, "unsubscribe": text.unsubscribeButton,
            "schedule_legend": text.scheduleLegend, "daily_label": text.dailyLabel, "weekly_label": text.weeklyLabel,
            "daily": subscriber.schedule == .daily,
            "weekdays": ["mon", "tue", "wed", "thu", "fri"].enumerated().map { index, code in
                ["code": code, "name": text.weekdayNames[index], "selected": subscriber.schedule == .weekly(weekday: index + 2)] as [String: Any]
            },
            "interests_legend": text.interestsLegend, "interests_hint": text.interestsHint,
            "interest_boxes": ReaderInterests.Kind.allCases.map { kind in
                [
                    "name": kind.field, "label": text.interestLabels[kind] ?? kind.field,
                    "text": typedInterests?[kind] ?? subscriber.interests[kind].joined(separator: "\n"),
                ]
            },
        ]
        context["notice"] = notice
        switch subscriber.status {
        case .active: context["pause"] = text.pauseButton
        case .paused, .unsubscribed, .bounced: context["resume"] = text.resumeButton
        case .pending: break
        }
        context["can_unsubscribe"] = subscriber.status != .unsubscribed
        return page(language, title: text.preferencesTitle, template: "preferences", context: context, status: status, nonce: nonce)
    }

    // MARK: Unsubscribe (RFC 8058)

    /// A GET only shows a button: mail scanners follow every link in a message and must not
    /// unsubscribe anyone.
    func unsubscribePage(_ request: Request) async throws -> Response {
        let token = Self.token(request)
        guard case .success(let subscriber) = try await holder(of: token, .unsubscribe) else { return invalidLink(Self.language(request), request) }
        let language = Self.language(request, reader: subscriber.language)
        let text = WebText.for(language)
        if subscriber.status == .unsubscribed || subscriber.status == .bounced {
            return unsubscribedState(subscriber, token: token, language: language)
        }
        return message(
            language, heading: text.unsubscribeTitle, paragraphs: [text.unsubscribeQuestion(Self.masked(subscriber.email))],
            button: [
                "action": "/unsubscribe?token=\(token)&lang=\(language.rawValue)", "label": text.unsubscribeButton,
                "fields": [["name": "List-Unsubscribe", "value": "One-Click"]],
            ])
    }

    /// The one-click POST as mail providers send it (`List-Unsubscribe=One-Click` URL-encoded or
    /// as multipart, the token in the URL, no cookies), and the button's POST: unsubscribes at
    /// once, idempotently.
    func unsubscribe(_ request: Request, context: WebRequestContext) async throws -> Response {
        var language = Self.language(request)
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        guard OneClickForm.isPresent(in: body, contentType: request.headers[.contentType]) else {
            let text = WebText.for(language)
            return message(language, heading: text.invalidTitle, paragraphs: [text.missingOneClick], status: .badRequest)
        }
        let token = Self.token(request)
        guard let claims = LinkToken(unverified: token), claims.purpose == .unsubscribe,
            let subscriber = try await subscribers.unsubscribe(id: claims.subscriberID, source: .link, authorized: { [keys = verificationKeys] identity in
                (try? LinkToken.verify(token, purpose: .unsubscribe, serverSecrets: keys, subscriberSecret: identity.secret)) != nil
            })
        else { return invalidLink(language) }
        language = Self.language(request, reader: subscriber.language)
        let text = WebText.for(language)
        return message(
            language, heading: text.doneTitle, paragraphs: [text.done(Self.masked(subscriber.email))],
            button: ["action": "/unsubscribe/undo?token=\(token)&lang=\(language.rawValue)", "label": text.undoButton])
    }

    /// The link of someone no longer subscribed shows that, not the question again: an undo
    /// while it is fresh, and a way back that goes through confirmation.
    func unsubscribedState(_ subscriber: Subscriber, token: String, language: Language) -> Response {
        let text = WebText.for(language)
        var buttons: [[String: Any]] = []
        if canUndo(subscriber) {
            buttons.append(["action": "/unsubscribe/undo?token=\(token)&lang=\(language.rawValue)", "label": text.undoButton])
        }
        buttons.append(["action": "/resubscribe?token=\(token)&lang=\(language.rawValue)", "label": text.resubscribeButton])
        return message(
            language, heading: text.doneTitle, paragraphs: [text.alreadyUnsubscribed(Self.masked(subscriber.email))], buttons: buttons)
    }

    /// An unsubscribe undone within ``WebSettings/undoWindow``, by the same link: the reader
    /// just clicked, so no confirmation is needed.
    func canUndo(_ subscriber: Subscriber) -> Bool {
        guard subscriber.status == .unsubscribed, let at = subscriber.unsubscribedAt else { return false }
        return Date().timeIntervalSince(at) <= settings.web.undoWindow.seconds
    }

    func undoUnsubscribe(_ request: Request) async throws -> Response {
        let token = Self.token(request)
        guard case .success(let subscriber) = try await holder(of: token, .unsubscribe) else { return invalidLink(Self.language(request), request) }
        let language = Self.language(request, reader: subscriber.language)
        let text = WebText.for(language)
        if subscriber.status == .active {
            return message(language, heading: text.undone, paragraphs: [])
        }
        guard canUndo(subscriber) else {
            return message(
                language, heading: text.doneTitle, paragraphs: [text.undoExpired],
                button: ["action": "/resubscribe?token=\(token)&lang=\(language.rawValue)", "label": text.resubscribeButton])
        }
        _ = try await subscribers.update(id: subscriber.id, SubscriberChange(status: .active), source: .link)
        return message(language, heading: text.undone, paragraphs: [])
    }

    /// "Subscribe again" from an unsubscribe link: a confirmation mail, as for a new sign-up.
    func resubscribe(_ request: Request) async throws -> Response {
        let token = Self.token(request)
        guard case .success(let subscriber) = try await holder(of: token, .unsubscribe) else { return invalidLink(Self.language(request), request) }
        let language = Self.language(request, reader: subscriber.language)
        let text = WebText.for(language)
        if subscriber.status == .unsubscribed || subscriber.status == .bounced {
            let days = Int((settings.web.confirmationLifetime.seconds / 86_400).rounded())
            let url = try await link(.confirm, for: subscriber)
            // In the reader's language, whatever language the page is shown in.
            _ = await mail(WebText.for(subscriber.language).confirmationNotice(url, days), to: subscriber)
        }
        return message(language, heading: text.checkInboxTitle, paragraphs: [text.resubscribeSent(Self.masked(subscriber.email))])
    }

    /// A broken or expired link is not a dead end: the page asks for the address and mails a
    /// fresh link to manage the subscription.
    func invalidLink(_ language: Language, _ request: Request? = nil) -> Response {
        let text = WebText.for(language)
        guard let request else {
            return message(language, heading: text.invalidTitle, paragraphs: [text.invalidMessage], status: .badRequest)
        }
        let nonce = csrf.nonce(for: request)
        return message(
            language, heading: text.invalidTitle, paragraphs: [text.invalidMessage, text.freshLinkPrompt], status: .badRequest,
            linkForm: freshLinkForm(language, nonce: nonce.value), nonce: nonce)
    }

    func freshLinkForm(_ language: Language, nonce: String) -> [String: Any] {
        let text = WebText.for(language)
        return ["lang": language.rawValue, "csrf": csrf.field(for: nonce), "email_label": text.emailLabel, "button": text.freshLinkButton]
    }

    /// Mails a fresh preferences link to the address typed, if it is a subscriber's. The answer
    /// is the same whether or not it is, and both the client and the address are rate-limited,
    /// so the form tells nobody who is on the list and mails nobody over and over.
    func freshLink(_ request: Request, context: WebRequestContext) async throws -> Response {
        let language = Self.language(request)
        let text = WebText.for(language)
        guard let form = try await formFields(request, context) else { return unreadableForm(language) }
        let nonce = csrf.nonce(for: request)
        guard csrf.isValid(form.csrf, request: request) else {
            return message(
                language, heading: text.invalidTitle, paragraphs: [text.csrfFailed], status: .forbidden,
                linkForm: freshLinkForm(language, nonce: nonce.value), nonce: nonce)
        }
        guard let address = try? settings.address(form.email ?? "") else {
            return message(
                language, heading: text.invalidTitle, paragraphs: [text.badEmail(form.email ?? "")], status: .badRequest,
                linkForm: freshLinkForm(language, nonce: nonce.value), nonce: nonce)
        }
        if let refused = try await rateLimited(request, context, address: address, language: language) { return refused }
        if let subscriber = try await subscribers.find(address), !subscriber.isForgotten {
            _ = await mail(WebText.for(subscriber.language).freshLinkNotice(try await link(.preferences, for: subscriber)), to: subscriber)
        }
        return message(language, heading: text.checkInboxTitle, paragraphs: [text.freshLinkSent])
    }
}

import PaperPostCore
import Rendering

/// The words on the pages and in the notices, in Chinese and English.
struct WebText: Sendable {
    var homeLabel: String
    var homeHeading: String
    var homeIntro: [String]
    var sampleHeading: @Sendable (String) -> String
    var readEdition: String
    var emailLabel: String
    var nameLabel: String
    var categoriesLabel: String
    var languageLabel: String
    var subscribeButton: String
    var languageName: @Sendable (Language) -> String
    var csrfFailed: String
    var unreadableFormTitle: String
    var unreadableForm: String
    var badEmail: @Sendable (String) -> String
    var badName: String
    var badCategory: @Sendable (String) -> String
    var noCategory: String
    var badLanguage: @Sendable (String) -> String
    var tooManyTitle: String
    var tooMany: @Sendable (Duration) -> String
    var mailFailedTitle: String
    var mailFailed: String
    var checkInboxTitle: String
    var checkInbox: @Sendable (String) -> String
    var confirmTitle: String
    var confirmQuestion: @Sendable (String) -> String
    var confirmButton: String
    var confirmed: String
    var expiredTitle: String
    var expiredMessage: String
    var preferencesTitle: String
    var preferencesFor: @Sendable (String) -> String
    var statusLine: @Sendable (SubscriberStatus) -> String
    var saveButton: String
    var pauseButton: String
    var resumeButton: String
    var saved: String
    var paused: String
    var resumed: String
    var unknownAction: String
    var unsubscribeTitle: String
    var unsubscribeButton: String
    var unsubscribeQuestion: @Sendable (String) -> String
    /// The unsubscribe link of someone already unsubscribed (or bounced): the state as it is.
    var alreadyUnsubscribed: @Sendable (String) -> String
    /// Under a broken or expired link: ask for a fresh one by address.
    var freshLinkPrompt: String
    var freshLinkButton: String
    var freshLinkSent: String
    var freshLinkNotice: @Sendable (_ url: String) -> Notice
    var undoButton: String
    var undone: String
    var undoExpired: String
    var resubscribeButton: String
    /// The preference page's interests: a legend, a hint, each list's label, and an entry refused.
    var interestsLegend: String
    var interestsHint: String
    var interestLabels: [ReaderInterests.Kind: String]
    var badInterest: @Sendable (_ label: String, _ entry: String) -> String
    /// Daily or weekly, and the weekday (Monday … Friday) of a weekly edition.
    var scheduleLegend: String
    var dailyLabel: String
    var weeklyLabel: String
    var weekdayNames: [String]
    var badSchedule: String
    var resubscribeSent: @Sendable (String) -> String
    var doneTitle: String
    var done: @Sendable (String) -> String
    var invalidTitle: String
    var invalidMessage: String
    var missingOneClick: String
    var archiveTitle: String
    var archiveEmpty: String
    var notFoundTitle: String
    var notFoundMessage: String
    /// The heading and sentence of the page for an error status that no handler answered itself
    /// (an unknown address, a body too large, a failure of the server).
    var errorPage: @Sendable (_ status: Int) -> (title: String, message: String)
    var confirmationNotice: @Sendable (_ url: String, _ days: Int) -> Notice
    var alreadySubscribedNotice: @Sendable (_ url: String) -> Notice
    /// Sent once, when a subscription is confirmed: what comes when, and how to change it.
    var welcomeNotice: @Sendable (_ url: String, _ categories: String) -> Notice

    static func `for`(_ language: Language) -> WebText {
        language == .zh ? zh : en
    }

    static let zh = WebText(
        homeLabel: "首页", homeHeading: "ArXiv AI 日报",
        homeIntro: [
            "每个工作日，从 arXiv 当天新发布的 AI 论文（cs.AI、cs.CL、cs.LG 以及你选的其他分类）里挑出最值得读的几篇，写成结构化的中文摘要，发到你的邮箱。",
            "免费，没有广告；每封邮件都有一键退订链接。",
        ],
        sampleHeading: { "最新一期：\($0)" }, readEdition: "阅读这一期", emailLabel: "邮箱", nameLabel: "称呼（可不填）",
        categoriesLabel: "分类", languageLabel: "语言", subscribeButton: "订阅",
        languageName: { $0 == .zh ? "中文" : "English" },
        csrfFailed: "表单已过期或来自别的网站。请再提交一次。",
        unreadableFormTitle: "表单无法读取", unreadableForm: "提交的表单格式不对。请回到页面重新填写。",
        badEmail: { $0.isEmpty ? "请填写邮箱地址。" : "“\($0)”不是有效的邮箱地址。" },
        badName: "称呼不能超过 100 个字符，也不能包含换行。",
        badCategory: { "“\($0)”不是 arXiv 分类。" }, noCategory: "请至少选择一个分类。",
        badLanguage: { "“\($0)”不是可选的语言。" },
        tooManyTitle: "请求太频繁", tooMany: { "订阅请求太多了。请在 \(WebText.minutes($0)) 分钟后再试。" },
        mailFailedTitle: "暂时无法发送邮件", mailFailed: "确认邮件现在发不出去。请稍后再试。",
        checkInboxTitle: "请查收邮件",
        checkInbox: { "我们向 \($0) 发了一封邮件。点击其中的链接即可完成订阅或管理你的订阅。没有收到的话，请看看垃圾邮件。" },
        confirmTitle: "确认订阅", confirmQuestion: { "确认让 \($0) 订阅 ArXiv AI 日报吗？" }, confirmButton: "确认订阅",
        confirmed: "订阅已确认。下一期日报会发到你的邮箱。",
        expiredTitle: "链接已过期", expiredMessage: "这个确认链接已经过期。请在下面重新填写邮箱，我们会发一封新的确认邮件。",
        preferencesTitle: "订阅设置", preferencesFor: { "\($0) 的订阅设置" },
        statusLine: { status in
            switch status {
            case .active: "状态：正在接收"
            case .paused: "状态：已暂停，不会收到日报"
            case .pending: "状态：等待确认"
            case .unsubscribed: "状态：已退订"
            case .bounced: "状态：邮件多次无法投递，已停止发送"
            }
        },
        saveButton: "保存", pauseButton: "暂停接收", resumeButton: "恢复接收", saved: "已保存。", paused: "已暂停。恢复之前不会再收到日报。",
        resumed: "已恢复。下一期日报会发到你的邮箱。", unknownAction: "未知的操作。",
        unsubscribeTitle: "退订 ArXiv AI 日报", unsubscribeButton: "确认退订",
        unsubscribeQuestion: { "要让 \($0) 不再收到 ArXiv AI 日报吗？" },
        alreadyUnsubscribed: { "\($0) 已经退订，不会收到 ArXiv AI 日报。想重新订阅的话，我们会先发一封确认邮件。" },
        freshLinkPrompt: "填写你的邮箱地址，我们会把管理订阅的新链接发给你。", freshLinkButton: "发送新链接",
        freshLinkSent: "如果这个地址在订阅名单里，我们已经把新链接发过去了。没有收到的话，请看看垃圾邮件。",
        freshLinkNotice: { url in
            Notice(
                language: .zh, subject: "你的 ArXiv AI 日报订阅设置链接", heading: "管理你的订阅",
                paragraphs: ["有人（希望是你）请求了一个新的订阅设置链接。在设置页上可以换分类、语言，暂停或退订。"],
                actionLabel: "管理订阅", actionURL: url, footer: "如果不是你本人操作，忽略这封邮件即可：你的订阅没有任何变化。")
        },
        undoButton: "撤销退订", undone: "已撤销：你会照常收到 ArXiv AI 日报。", undoExpired: "撤销的时限已过。想重新订阅的话，我们会先发一封确认邮件。",
        resubscribeButton: "重新订阅", interestsLegend: "兴趣（可不填）",
        interestsHint: "每行一项，每栏最多 20 项，每项不超过 100 个字符。感兴趣的主题和关注的作者会排在前面；屏蔽的主题不再出现。",
        interestLabels: [.interest: "感兴趣的主题", .muted: "屏蔽的主题", .author: "关注的作者"],
        badInterest: { "“\($1)”无法保存到“\($0)”：每栏最多 20 项，每项不超过 100 个字符，不能包含控制字符或分号。" },
        scheduleLegend: "多久收一次", dailyLabel: "每天（每个 arXiv 发布日）", weeklyLabel: "每周一次：这一周里最适合你的论文，在",
        weekdayNames: ["周一", "周二", "周三", "周四", "周五"], badSchedule: "请选择每天或每周，每周的话选周一到周五中的一天。",
        resubscribeSent: { "我们向 \($0) 发了一封确认邮件。打开其中的链接即可重新订阅。" },
        doneTitle: "已退订", done: { "\($0) 不会再收到 ArXiv AI 日报。" },
        invalidTitle: "链接无效", invalidMessage: "这个链接无效或已失效。请使用最近一封邮件中的链接。",
        missingOneClick: "请求缺少 List-Unsubscribe=One-Click。", archiveTitle: "往期日报", archiveEmpty: "还没有日报。",
        notFoundTitle: "没有这一期", notFoundMessage: "这一天没有日报。",
        errorPage: { status in
            switch status {
            case 404: ("页面不存在", "这个地址没有页面。请从首页重新开始。")
            case 413: ("提交的内容太大", "提交的内容超过了本站接受的大小。")
            case 500...: ("出错了", "服务器没能处理这个请求。请稍后再试。")
            default: ("无法处理这个请求", "这个请求无法处理（\(status)）。请从首页重新开始。")
            }
        },
        confirmationNotice: { url, days in
            Notice(
                language: .zh, subject: "请确认订阅 ArXiv AI 日报", heading: "请确认你的订阅",
                paragraphs: ["有人（希望是你）用这个邮箱订阅了 ArXiv AI 日报。打开下面的链接，在打开的页面上确认即可。", "链接 \(days) 天内有效。"],
                actionLabel: "确认订阅", actionURL: url, footer: "如果不是你本人操作，忽略这封邮件即可：不确认就不会收到任何日报。")
        },
        alreadySubscribedNotice: { url in
            Notice(
                language: .zh, subject: "你已经订阅了 ArXiv AI 日报", heading: "你已经订阅了",
                paragraphs: ["有人（希望是你）又用这个邮箱订阅了 ArXiv AI 日报。你已经在订阅名单里，无需再确认。", "想换分类、语言或者暂停，请打开订阅设置。"],
                actionLabel: "管理订阅", actionURL: url, footer: "如果不是你本人操作，忽略这封邮件即可：你的订阅没有任何变化。")
        },
        welcomeNotice: { url, categories in
            Notice(
                language: .zh, subject: "欢迎订阅 ArXiv AI 日报", heading: "欢迎！",
                paragraphs: [
                    "你的订阅已确认。arXiv 每个工作日公布新论文（美东时间周日到周四晚上），第二天早上你会收到当天最值得读的几篇，附结构化中文摘要。",
                    "你订阅的分类：\(categories)。",
                    "想换分类、语言或者暂停，打开下面的订阅设置；每封日报底部也有设置和一键退订的链接。",
                ],
                actionLabel: "管理订阅", actionURL: url, footer: "你收到这封邮件，是因为你刚刚确认了订阅。")
        })

    static let en = WebText(
        homeLabel: "Home", homeHeading: "The ArXiv AI Daily",
        homeIntro: [
            "Every weekday, the best of the day's new AI papers on arXiv (cs.AI, cs.CL, cs.LG and whichever categories you pick), with structured summaries, in your inbox.",
            "Free, no ads; every email has a one-click unsubscribe link.",
        ],
        sampleHeading: { "Latest edition: \($0)" }, readEdition: "Read this edition", emailLabel: "Email", nameLabel: "Name (optional)",
        categoriesLabel: "Categories", languageLabel: "Language", subscribeButton: "Subscribe",
        languageName: { $0 == .zh ? "中文" : "English" },
        csrfFailed: "This form expired or came from another site. Please send it again.",
        unreadableFormTitle: "This form could not be read", unreadableForm: "The form arrived in a shape it cannot have. Please go back and fill it in again.",
        badEmail: { $0.isEmpty ? "Please enter your email address." : "'\($0)' is not a valid email address." },
        badName: "The name must be at most 100 characters, without line breaks.",
        badCategory: { "'\($0)' is not an arXiv category." }, noCategory: "Please choose at least one category.",
        badLanguage: { "'\($0)' is not a language on offer." },
        tooManyTitle: "Too many requests", tooMany: { "Too many sign-up requests. Please try again in \(WebText.minutes($0)) minutes." },
        mailFailedTitle: "Cannot send mail right now", mailFailed: "The confirmation email could not be sent. Please try again later.",
        checkInboxTitle: "Check your inbox",
        checkInbox: { "We sent an email to \($0). Click the link in it to finish subscribing or to manage your subscription. If it does not arrive, look in your spam folder." },
        confirmTitle: "Confirm your subscription", confirmQuestion: { "Subscribe \($0) to the ArXiv AI Daily?" },
        confirmButton: "Confirm my subscription", confirmed: "Your subscription is confirmed. The next digest will come to your inbox.",
        expiredTitle: "This link has expired",
        expiredMessage: "This confirmation link has expired. Enter your address below and we will send you a new one.",
        preferencesTitle: "Your preferences", preferencesFor: { "Preferences for \($0)" },
        statusLine: { status in
            switch status {
            case .active: "Status: receiving the digest"
            case .paused: "Status: paused, no digests until you resume"
            case .pending: "Status: waiting for confirmation"
            case .unsubscribed: "Status: unsubscribed"
            case .bounced: "Status: stopped, mail to this address bounced"
            }
        },
        saveButton: "Save", pauseButton: "Pause", resumeButton: "Resume", saved: "Saved.", paused: "Paused. No digests until you resume.",
        resumed: "Resumed. The next digest will come to your inbox.", unknownAction: "Unknown action.",
        unsubscribeTitle: "Unsubscribe from the ArXiv AI Daily", unsubscribeButton: "Unsubscribe",
        unsubscribeQuestion: { "Stop sending the ArXiv AI Daily to \($0)?" },
        alreadyUnsubscribed: { "\($0) is unsubscribed and receives no ArXiv AI Daily. To subscribe again, we first send a confirmation email." },
        freshLinkPrompt: "Type your address and we will mail you a fresh link to manage your subscription.",
        freshLinkButton: "Send me a fresh link",
        freshLinkSent: "If this address is on the list, a fresh link is on its way. If it does not arrive, look in your spam folder.",
        freshLinkNotice: { url in
            Notice(
                language: .en, subject: "Your link to manage the ArXiv AI Daily", heading: "Manage your subscription",
                paragraphs: ["Someone (we hope you) asked for a fresh link to your preferences. There you can change your categories or language, pause, or unsubscribe."],
                actionLabel: "Manage my subscription", actionURL: url,
                footer: "If this was not you, ignore this email: nothing about your subscription changed.")
        },
        undoButton: "Undo", undone: "Undone: the ArXiv AI Daily will keep coming as before.",
        undoExpired: "The time to undo has passed. To subscribe again, we first send a confirmation email.",
        resubscribeButton: "Subscribe again", interestsLegend: "Interests (optional)",
        interestsHint: "One per line, up to 20 in each box, each at most 100 characters. Papers on your topics and by authors you follow come first; muted topics are left out.",
        interestLabels: [.interest: "Topics you care about", .muted: "Topics to leave out", .author: "Authors you follow"],
        badInterest: { "'\($1)' cannot be saved in “\($0)”: at most 20 entries per box, each at most 100 characters, without control characters or semicolons." },
        scheduleLegend: "How often", dailyLabel: "Daily (every arXiv announcement day)", weeklyLabel: "Weekly: the week's best papers for you, on",
        weekdayNames: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], badSchedule: "Please choose daily, or weekly on a day from Monday to Friday.",
        resubscribeSent: { "We sent a confirmation email to \($0). Open the link in it to subscribe again." },
        doneTitle: "You are unsubscribed", done: { "\($0) will not receive the ArXiv AI Daily again." },
        invalidTitle: "This link is not valid", invalidMessage: "This link is not valid or no longer works. Please use the link in a recent email.",
        missingOneClick: "The request lacks List-Unsubscribe=One-Click.", archiveTitle: "Past editions",
        archiveEmpty: "No editions yet.", notFoundTitle: "No such edition", notFoundMessage: "There is no digest for that day.",
        errorPage: { status in
            switch status {
            case 404: ("Page not found", "There is no page at this address. Please start again from the home page.")
            case 413: ("Too large", "What was sent is larger than this site accepts.")
            case 500...: ("Something went wrong", "The server could not handle this request. Please try again later.")
            default: ("This request could not be handled", "The request was refused (\(status)). Please start again from the home page.")
            }
        },
        confirmationNotice: { url, days in
            Notice(
                language: .en, subject: "Please confirm your subscription to the ArXiv AI Daily", heading: "Confirm your subscription",
                paragraphs: [
                    "Someone (we hope you) subscribed this address to the ArXiv AI Daily. Open the link below and confirm on the page that opens.",
                    "The link works for \(days) days.",
                ],
                actionLabel: "Confirm my subscription", actionURL: url,
                footer: "If this was not you, ignore this email: without confirmation you will receive nothing.")
        },
        alreadySubscribedNotice: { url in
            Notice(
                language: .en, subject: "You are already subscribed to the ArXiv AI Daily", heading: "You are already subscribed",
                paragraphs: [
                    "Someone (we hope you) asked to subscribe this address to the ArXiv AI Daily again. You are already on the list; there is nothing to confirm.",
                    "To change your categories or language, or to pause, open your preferences.",
                ],
                actionLabel: "Manage my subscription", actionURL: url,
                footer: "If this was not you, ignore this email: nothing about your subscription changed.")
        },
        welcomeNotice: { url, categories in
            Notice(
                language: .en, subject: "Welcome to the ArXiv AI Daily", heading: "Welcome!",
                paragraphs: [
                    "Your subscription is confirmed. arXiv announces new papers every weekday (Sunday to Thursday evenings, US Eastern); the next morning you get the few most worth reading, with structured summaries.",
                    "Your categories: \(categories).",
                    "To change your categories or language, or to pause, open your preferences below; every digest also carries links to your preferences and a one-click unsubscribe.",
                ],
                actionLabel: "Manage my subscription", actionURL: url,
                footer: "You receive this because you have just confirmed your subscription.")
        })

    static func minutes(_ wait: Duration) -> Int {
        max(1, Int((wait.seconds / 60).rounded(.up)))
    }
}

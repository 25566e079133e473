import PaperPostCore

/// The words around the digest, in the reader's language.
struct DigestLabels {
    var title: String
    /// A weekly edition's title, and the subject's name for it.
    var weeklyTitle: String
    var weeklyName: String
    var scannedPicked: String
    /// In a reader's own edition, where the first number is the day's and the second theirs.
    var scannedPickedForYou: String
    var scannedPickedThisWeek: String
    /// Before the reader's category that brought in a paper filed elsewhere (`cs.SE · via cs.AI`).
    var via: String
    var mustRead: String
    var alsoWorth: String
    var paper: String
    var reason: String
    var fields: (title: String?, background: String, innovation: String, details: String, results: String)
    var etAl: String
    var weekdays: [String]
    var brand: String
    var scanned: String
    var heuristicBanner: String
    var mixedBanner: String
    /// Instead of the other banners when the model failed and the operator asked for the
    /// heuristic's digest rather than none (`PAPERPOST_LLM_FALLBACK=heuristic`).
    var fallbackBanner: String
    /// After a field's label when the field is the paper's original English text, not a summary.
    var original: String
    /// Instead of the cost when prices are not configured.
    var notPriced: String
    /// Above the digest's notes (fallbacks, the spending cap, dropped sentences), which stay in
    /// English: they are written for the operator.
    var notes: String
    /// A greeting is `before + name + after`, or `anonymous` without a name.
    var greeting: (before: String, after: String, anonymous: String)
    var subscribedTo: String
    var unsubscribe: String
    var preferences: String
    var archive: String
    var noPapers: String
    /// The line under a paper in a reader's own edition saying why it ranks where it does.
    var why: (interest: String, author: (before: String, after: String), votedUp: String)
    var moreLikeThis: String
    var lessLikeThis: String

    /// "matches your interest: RLHF" / "符合你的兴趣：RLHF".
    func why(_ reason: PersonalReason) -> String {
        switch reason {
        case .interest(let phrase): why.interest + phrase
        case .author(let name): why.author.before + name + why.author.after
        case .likeVotedUp: why.votedUp
        }
    }

    static func `for`(_ language: Language) -> DigestLabels {
        switch language {
        case .zh:
            DigestLabels(
                title: "🧪 ArXiv AI 日报", weeklyTitle: "🧪 ArXiv AI 周报", weeklyName: "ArXiv AI 周报", scannedPicked: "扫描/精选", scannedPickedForYou: "今日扫描/为你精选", scannedPickedThisWeek: "本周扫描/为你精选", via: "来自", mustRead: "今日必读", alsoWorth: "同样值得关注",
                paper: "论文", reason: "推荐理由",
                fields: ("中文标题", "背景与痛点", "核心创新", "技术细节", "实验结果"), etAl: " 等",
                weekdays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"], brand: "🧪 ArXiv Daily Digest", scanned: "扫描",
                heuristicBanner: "⚙️ 启发式模式：本期没有大模型的结果，评分来自摘要中的信号，摘要为论文原文句子。",
                mixedBanner: "⚙️ 混合模式：部分论文由启发式整理，而不是大模型，原因见文末的说明。",
                fallbackBanner: "⚙️ 启发式备用模式：今天大模型出了故障，本期由启发式整理（评分来自摘要中的信号，摘要为论文原文句子），经过见文末的说明。",
                original: "「原文」", notPriced: "费用未计价", notes: "ℹ️ 本期说明（运行记录，英文）",
                greeting: ("", "，你好！", "你好！"), subscribedTo: "你订阅了：", unsubscribe: "退订", preferences: "管理订阅类别",
                archive: "在网页上阅读本期", noPapers: "今天你订阅的类别没有新论文。",
                why: ("符合你的兴趣：", ("作者 ", " 是你关注的"), "与你点赞过的论文相似"), moreLikeThis: "多推荐这类", lessLikeThis: "少推荐这类")
        case .en:
            DigestLabels(
                title: "🧪 ArXiv AI Daily", weeklyTitle: "🧪 ArXiv AI Weekly", weeklyName: "ArXiv AI Weekly", scannedPicked: "Scanned/picked", scannedPickedForYou: "Scanned today/picked for you", scannedPickedThisWeek: "Scanned this week/picked for you",
                via: "via",
                mustRead: "Must read", alsoWorth: "Also worth a look",
                paper: "Paper", reason: "Why read it",
                fields: (nil, "Background", "Core idea", "Technical details", "Results"), etAl: " et al.",
                weekdays: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], brand: "🧪 ArXiv Daily Digest", scanned: "scanned",
                heuristicBanner: "⚙️ Heuristic mode: nothing in this edition comes from a language model; scores come from signals in the abstracts and summaries are the abstracts' own sentences.",
                mixedBanner: "⚙️ Mixed mode: some papers were curated by the heuristic instead of the language model; the notes at the end say why.",
                fallbackBanner: "⚙️ Heuristic fallback: the language model failed today, so this edition was curated by the heuristic (scores from signals in the abstracts, summaries in the abstracts' own words); the notes at the end say what happened.",
                original: "(original)", notPriced: "cost not priced", notes: "ℹ️ Notes on this edition",
                greeting: ("Hi ", ",", "Hi,"), subscribedTo: "You subscribed to:", unsubscribe: "Unsubscribe",
                preferences: "Manage your categories", archive: "Read this edition on the web", noPapers: "No new papers in your categories today.",
                why: ("matches your interest: ", ("by ", ", whom you follow"), "like papers you voted up"), moreLikeThis: "More like this",
                lessLikeThis: "Less like this")
        }
    }
}

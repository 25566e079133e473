import PaperPostCore

/// The words around the digest, in the reader's language.
struct DigestLabels {
    var title: String
    var scannedPicked: String
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
    /// A greeting is `before + name + after`, or `anonymous` without a name.
    var greeting: (before: String, after: String, anonymous: String)
    var subscribedTo: String
    var unsubscribe: String
    var preferences: String
    var archive: String
    var noPapers: String

    static func `for`(_ language: Language) -> DigestLabels {
        switch language {
        case .zh:
            DigestLabels(
                title: "🧪 ArXiv AI 日报", scannedPicked: "扫描/精选", mustRead: "今日必读", alsoWorth: "同样值得关注",
                paper: "论文", reason: "推荐理由",
                fields: ("中文标题", "背景与痛点", "核心创新", "技术细节", "实验结果"), etAl: " 等",
                weekdays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"], brand: "🧪 ArXiv Daily Digest", scanned: "扫描",
                heuristicBanner: "⚙️ 启发式模式：本期未使用大模型，评分来自摘要中的信号，摘要为论文原文句子。",
                mixedBanner: "⚙️ 部分论文由启发式整理（模型不可用或已达费用上限）。",
                greeting: ("", "，你好！", "你好！"), subscribedTo: "你订阅了：", unsubscribe: "退订", preferences: "管理订阅类别",
                archive: "在网页上阅读本期", noPapers: "今天你订阅的类别没有新论文。")
        case .en:
            DigestLabels(
                title: "🧪 ArXiv AI Daily", scannedPicked: "Scanned/picked", mustRead: "Must read", alsoWorth: "Also worth a look",
                paper: "Paper", reason: "Why read it",
                fields: (nil, "Background", "Core idea", "Technical details", "Results"), etAl: " et al.",
                weekdays: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], brand: "🧪 ArXiv Daily Digest", scanned: "scanned",
                heuristicBanner: "⚙️ Heuristic mode: no language model was used; scores come from signals in the abstracts and summaries are the abstracts' own sentences.",
                mixedBanner: "⚙️ Some papers were curated by the heuristic (the model was unavailable or the spending cap was reached).",
                greeting: ("Hi ", ",", "Hi,"), subscribedTo: "You subscribed to:", unsubscribe: "Unsubscribe",
                preferences: "Manage your categories", archive: "Read this edition on the web", noPapers: "No new papers in your categories today.")
        }
    }
}

import struct Crypto.SymmetricKey
import Foundation
import PaperPostCore
import Rendering

/// 100,000 personal emails of a 50-scanned / 9-picked digest, readers spread over 40 distinct
/// (categories, language) preference sets, rendered to bytes on one core and not sent.
/// Targets (issue 5): under 5 s, peak memory under 200 MB.
enum RenderingBenchmark {
    static let categorySets: [[String]] = [
        ["cs.AI"], ["cs.CL"], ["cs.LG"], ["cs.CV"], ["cs.RO"], ["stat.ML"], ["cs.AI", "cs.CL"], ["cs.AI", "cs.LG"],
        ["cs.CL", "cs.LG"], ["cs.CV", "cs.LG"], ["cs.RO", "cs.AI"], ["stat.ML", "cs.LG"], ["cs.AI", "cs.CL", "cs.LG"],
        ["cs.CV", "cs.RO"], ["cs.CL", "stat.ML"], ["cs.AI", "cs.CV"], ["cs.AI", "cs.CL", "cs.LG", "cs.CV"],
        ["cs.LG", "cs.RO"], ["cs.CL", "cs.CV"], ["cs.AI", "stat.ML"],
    ]

    static func digest() -> Digest {
        let categories = ["cs.AI", "cs.CL", "cs.LG", "cs.CV", "cs.RO", "stat.ML"]
        let entries = (0..<50).map { index -> DigestEntry in
            let paper = Paper(
                id: String(format: "2602.%05d", index), version: 1,
                title: "Paper \(index): Scaling Long-Horizon Agents with Trajectory Splitting and Progressive Reinforcement Learning",
                abstract: "Abstract.", authors: ["Yue Liu", "Zhiyuan Hu", "Flood Sung", "Jiaheng Zhang"],
                categories: [categories[index % categories.count], categories[(index + 1) % categories.count]])
            var entry = DigestEntry(
                paper: paper, score: 10 - Double(index) * 0.1, scoredBy: .llm,
                reasons: [.zh: "针对超长周期任务训练智能体的痛点，提出轨迹拆分与渐进强化学习方案，显著提升智能体能力。",
                          .en: "Addresses training agents for extremely long tasks with trajectory splitting and progressive RL."])
            entry.summaries = [
                .zh: Summary(
                    title: "面向超长周期任务训练大语言模型智能体", background: String(repeating: "现有大模型智能体多针对普通长周期任务设计，超长任务交互轮次多、耗时长。", count: 3),
                    innovation: String(repeating: "提出开源超长周期任务智能体，从数据构建到训练的全流程方案。", count: 3),
                    details: String(repeating: "轨迹拆分监督微调保留开头上下文，渐进强化学习逐步延长任务超时。", count: 3),
                    results: String(repeating: "在多个智能体基准上取得一致提升，长周期能力可迁移到其他任务。", count: 3), source: .llm),
                .en: Summary(
                    title: paper.title, background: String(repeating: "Agents are built for ordinary long tasks; extremely long ones exceed the context. ", count: 3),
                    innovation: String(repeating: "An open agent with an end-to-end pipeline from data to training. ", count: 3),
                    details: String(repeating: "Trajectory-splitting fine-tuning and progressive reinforcement learning. ", count: 3),
                    results: String(repeating: "Consistent gains on agent benchmarks that transfer to other tasks. ", count: 3), source: .llm),
            ]
            return entry
        }
        return Digest(
            day: Day(year: 2026, month: 2, day: 20)!, mode: .llm, model: "bench", entries: entries, candidates: 64, mustRead: 2,
            more: 7, languages: [.zh, .en], categories: categories,
            usage: TokenUsage(promptTokens: 50_000, completionTokens: 11_155, cost: 0.0198, currency: "CNY"), notes: [], createdAt: Date())
    }

    static func run(templates: String) throws {
        let digest = digest()
        let recipients = (0..<100_000).map { index in
            Recipient(
                subscriberID: Int64(index + 1), email: "reader\(index)@example.com", name: index % 2 == 0 ? "李伟\(index)" : "Ada \(index)",
                language: index % 2 == 0 ? .zh : .en, categories: categorySets[(index / 2) % categorySets.count],
                linkSecret: "secret-\(index)")
        }
        let settings = settings(templates: templates)
        let start = ContinuousClock.now
        let composer = try EmailComposer(digest: digest, recipients: recipients, settings: settings, serverSecret: SymmetricKey(size: .bits256))
        let prepared = ContinuousClock.now
        var buffer: [UInt8] = []
        var bytes = 0
        var messages = 0
        let date = MessageDate()
        for recipient in recipients {
            guard composer.compose(for: recipient, date: date, into: &buffer) != nil else { continue }
            bytes += buffer.count
            messages += 1
        }
        let end = ContinuousClock.now
        print("rendering: \(messages) personal emails, \(composer.pieceCount) pieces, \(bytes / messages) bytes each on average, one core")
        print("  prepare \((prepared - start).ms) + compose \((end - prepared).ms) = \((end - start).ms)  [target < 5000 ms]; "
            + "peak memory \(peakMemoryMB()) MB  [target < 200 MB]")
    }

    static func settings(templates: String) -> Settings {
        Settings(
            baseURL: "https://digest.example.org", templatesDirectory: templates,
            mail: MailSettings(unsubscribeMailto: try? EmailAddress("unsubscribe@example.org")))
    }

    /// The process's peak resident set (VmHWM), in MB.
    static func peakMemoryMB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return -1 }
        return kilobytes / 1024
    }
}

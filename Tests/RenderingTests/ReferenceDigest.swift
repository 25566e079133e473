import Foundation
import PaperPostCore

/// The day of the reference digest (`Fixtures/digest-2026-02-21.zh.md`) as a `Digest` value:
/// 50 scanned, 2 must-read with Chinese summaries, 7 more, 61,155 tokens for ¥0.0198.
enum ReferenceDigest {
    static func paper(_ id: String, _ title: String, _ category: String, authors: [String] = ["A. Author"]) -> Paper {
        Paper(id: id, version: 1, title: title, abstract: "An abstract.", authors: authors, categories: [category])
    }

    static let mustRead: [DigestEntry] = [
        DigestEntry(
            paper: paper("2602.17547", "KLong: Training LLM Agent for Extremely Long-horizon Tasks", "cs.AI",
                         authors: ["Yue Liu", "Zhiyuan Hu", "Flood Sung", "Jiaheng Zhang"]),
            score: 9.5, scoredBy: .llm, reasons: [.zh: "超长周期任务智能体。"],
            summaries: [.zh: Summary(
                title: "KLong：面向超长周期任务训练大语言模型智能体", background: "现有大模型智能体多针对普通长周期任务设计。",
                innovation: "提出开源超长周期任务大模型智能体KLong。", details: "轨迹拆分SFT与渐进RL。",
                results: "在PaperBench上平均得分超出Kimi K2 Thinking 11.28个百分点。", source: .llm)]),
        DigestEntry(
            paper: paper("2602.17550", "MASPO: Unifying Gradient Utilization, Probability Mass, and Signal Reliability for Robust and Sample-Efficient LLM Reasoning", "cs.LG",
                         authors: ["Xiaoliang Fu", "Jiaye Lin", "Yangyi Fang", "Another One"]),
            score: 9.2, scoredBy: .llm, reasons: [.zh: "统一软策略优化。"],
            summaries: [.zh: Summary(
                title: "MASPO：统一梯度利用、概率质量与信号可靠性", background: "RLVR范式的信任域缺陷。", innovation: "质量自适应软策略优化。",
                details: "软高斯门控、质量自适应限制器、不对称风险控制器。", results: "平均提升约2.8至3个百分点。", source: .llm)]),
    ]

    static let more: [DigestEntry] = [
        ("2602.17658", "MARS: Margin-Aware Reward-Modeling with Self-Refinement", "cs.LG", "改进奖励模型可靠性。"),
        ("2602.17664", "Sink-Aware Pruning for Diffusion Language Models", "cs.CL", "提升扩散语言模型推理效率。"),
        ("2602.17588", "Modeling Distinct Human Interaction in Web Agents", "cs.CL", "建模人类交互的Web Agent。"),
        ("2602.17560", "ODESteer: A Unified ODE-Based Steering Framework for LLM Alignment", "cs.AI", "统一的激活转向框架。"),
        ("2602.17602", "MolHIT: Advancing Molecular-Graph Generation with Hierarchical Discrete Diffusion Models", "cs.AI", "分层离散扩散分子生成。"),
        ("2602.17633", "When to Trust the Cheap Check: Weak and Strong Verification for Reasoning", "cs.LG", "弱验证与强验证的决策框架。"),
        ("2602.17634", "Reverso: Efficient Time Series Foundation Models for Zero-shot Forecasting", "cs.LG", "高效时间序列基础模型。"),
    ].enumerated().map { index, item in
        DigestEntry(paper: paper(item.0, item.1, item.2), score: 8 - Double(index) * 0.1, scoredBy: .llm, reasons: [.zh: item.3])
    }

    static func digest(extraScanned: Int = 41) -> Digest {
        let filler = (0..<extraScanned).map { index in
            DigestEntry(paper: paper(String(format: "2602.19%03d", index), "Filler \(index)", "cs.AI"), score: 3, scoredBy: .llm, reasons: [.zh: "一般。"])
        }
        return Digest(
            day: Day(year: 2026, month: 2, day: 21)!, mode: .llm, model: "test", entries: mustRead + more + filler,
            candidates: 50, mustRead: 2, more: 7, languages: [.zh], categories: ["cs.CL", "cs.AI", "cs.LG"],
            usage: TokenUsage(promptTokens: 50_000, completionTokens: 11_155, cost: 0.0198, currency: "CNY"),
            notes: [], createdAt: Date())
    }
}

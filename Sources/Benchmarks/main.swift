import Foundation

// `make bench`: each issue's speed target, measured in a release build and printed.
// Usage: paperpost-bench [arxiv] [curation] [rendering] [personal] [sending] [scale] [web] [inbound] (all when none is named),
// or paperpost-bench ranking: the personal bench's ranking alone.

let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
let wanted = Set(CommandLine.arguments.dropFirst())
func selected(_ name: String) -> Bool { wanted.isEmpty || wanted.contains(name) }

if selected("arxiv") {
    try await ArxivBenchmark.run(fixture: root.appendingPathComponent("Tests/ArxivSourceTests/Fixtures/q_testing_s0_m100.atom"))
}

if selected("curation") {
    try await CurationBenchmark.run(templates: root.appendingPathComponent("templates").path)
}

if selected("rendering") {
    try RenderingBenchmark.run(templates: root.appendingPathComponent("templates").path)
}

if selected("personal") {
    try PersonalBenchmark.run(templates: root.appendingPathComponent("templates").path)
} else if wanted.contains("ranking") {
    try PersonalBenchmark.run(templates: root.appendingPathComponent("templates").path, rankingOnly: true)
}

if selected("sending") {
    let count = ProcessInfo.processInfo.environment["PAPERPOST_BENCH_MESSAGES"].flatMap(Int.init) ?? 100_000
    try await SendingBenchmark.run(templates: root.appendingPathComponent("templates").path, messages: count)
}

if selected("scale") {
    let sizes = (ProcessInfo.processInfo.environment["PAPERPOST_BENCH_SCALE"] ?? "10000,100000,1000000").split(separator: ",").compactMap { Int($0) }
    try await ScaleBenchmark.run(templates: root.appendingPathComponent("templates").path, sizes: sizes)
}

if selected("web") {
    try await WebBenchmark.run(templates: root.appendingPathComponent("templates").path)
}

if selected("inbound") {
    try InboundBenchmark.run(corpus: root.appendingPathComponent("Tests/InboundTests/Fixtures/bounces"))
}

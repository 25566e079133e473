// swift-tools-version:6.1
import PackageDescription

/// Swift 6 language mode everywhere, and `any` spelled out for existentials.
let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "PaperPost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "paperpost", targets: ["paperpost"]),
        .executable(name: "paperpost-bench", targets: ["Benchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: []),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C libraries, each behind one small Swift type.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CCmark",
            providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]
        ),

        // Domain values, the arXiv category table and configuration.
        .target(
            name: "PaperPostCore",
            dependencies: [
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictness
        ),
        // SQLite: migrations, subscribers and their audit trail, papers, CSV import/export.
        .target(
            name: "PaperPostStore",
            dependencies: [
                "PaperPostCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: strictness
        ),
        // PostgreSQL, for installations one SQLite file no longer serves: its schema, and
        // `paperpost migrate`, which copies a SQLite installation into it.
        .target(
            name: "PostgresStore",
            dependencies: [
                "PaperPostCore", "PaperPostStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness
        ),
        // libcurl easy handles: the HTTP client here, SMTP later.
        .target(
            name: "Curl",
            dependencies: ["CCurl"],
            swiftSettings: strictness
        ),
        // arXiv's announcement feed and export API: parsing, and fetching over HTTP.
        .target(
            name: "ArxivSource",
            dependencies: ["PaperPostCore", "PaperPostStore", "Curl"],
            swiftSettings: strictness
        ),
        // Scoring, picking and summarising a day's papers: a language model, or the heuristic.
        .target(
            name: "Curation",
            dependencies: [
                "PaperPostCore", "PaperPostStore", "Curl", "Ranking",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strictness
        ),
        // Each reader's own order of the day's papers, from their interests and votes.
        .target(
            name: "Ranking",
            dependencies: ["PaperPostCore"],
            swiftSettings: strictness
        ),
        // The digest as Markdown, HTML and plain text, and each reader's email as one MIME message.
        .target(
            name: "Rendering",
            dependencies: [
                "PaperPostCore", "Ranking", "CCmark",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strictness
        ),
        // Delivery: SMTP over libcurl or an outbox directory, and the delivery log that never
        // loses or repeats a mail.
        .target(
            name: "Mail",
            dependencies: [
                "PaperPostCore", "PaperPostStore", "Rendering", "Curl", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictness
        ),
        // Mail coming back: bounces, complaints, auto-replies and unsubscribe requests, read
        // from any MTA's wording and recorded against the subscriber.
        .target(
            name: "Inbound",
            dependencies: ["PaperPostCore", "PaperPostStore", "Curl", "CCurl"],
            swiftSettings: strictness
        ),
        // `paperpost check`: the configuration a real send needs, checked before one happens.
        .target(
            name: "Preflight",
            dependencies: ["PaperPostCore", "Mail", "Curation", "Inbound"],
            swiftSettings: strictness
        ),
        // The web app: subscribing with double opt-in, preferences, unsubscribe links, the archive.
        .target(
            name: "Web",
            dependencies: [
                "PaperPostCore", "PaperPostStore", "Rendering", "Ranking", "Mail",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictness
        ),
        // The thin executable: argument parsing, one subcommand per file.
        .executableTarget(
            name: "paperpost",
            dependencies: [
                "PaperPostCore",
                "PaperPostStore",
                "ArxivSource",
                "Curation",
                "Rendering",
                "Mail",
                "Web",
                "Inbound",
                "Preflight",
                "PostgresStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness
        ),
        // `make bench`: the speed targets, measured in a release build.
        .executableTarget(
            name: "Benchmarks",
            dependencies: [
                "PaperPostCore", "PaperPostStore", "ArxivSource", "Curation", "Ranking", "Rendering", "Mail", "Inbound", "TestSupport",
                "PostgresStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictness
        ),

        .target(
            name: "TestSupport",
            dependencies: [
                "PaperPostCore", "PaperPostStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictness
        ),
        .testTarget(
            name: "PaperPostCoreTests",
            dependencies: [
                "PaperPostCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "PaperPostStoreTests",
            dependencies: ["PaperPostStore", "TestSupport"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: [
                "PostgresStore", "PaperPostStore", "PaperPostCore", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "CurlTests",
            dependencies: ["Curl", "TestSupport"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "ArxivSourceTests",
            dependencies: ["ArxivSource", "PaperPostCore", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "CurationTests",
            dependencies: ["Curation", "PaperPostCore", "PaperPostStore", "Ranking", "TestSupport"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "RenderingTests",
            dependencies: ["Rendering", "PaperPostCore", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "RankingTests",
            dependencies: ["Ranking", "PaperPostCore"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "MailTests",
            dependencies: [
                "Mail", "Curation", "PaperPostCore", "PaperPostStore", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "WebTests",
            dependencies: [
                "Web", "Mail", "PaperPostCore", "PaperPostStore", "PostgresStore", "Curation", "Rendering", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "InboundTests",
            dependencies: ["Inbound", "PaperPostCore", "PaperPostStore", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "PaperPostCLITests",
            dependencies: [
                "paperpost", "PaperPostCore", "PaperPostStore", "PostgresStore", "Mail", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictness
        ),
    ]
)

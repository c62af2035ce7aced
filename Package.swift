// swift-tools-version:6.1
import PackageDescription

/// ParkLink: gateway → termios → ring → MariaDB, plus the sampler and the technician CLI.
/// Modules follow the data path; each owns one concern (see README "Layout").
let package = Package(
    name: "ParkLink",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "parklink", targets: ["parklink"]),
        .library(name: "ParkLinkProtocol", targets: ["ParkLinkProtocol"]),
        .library(name: "ParkLinkIngest", targets: ["ParkLinkIngest"]),
        .library(name: "ParkLinkStore", targets: ["ParkLinkStore"]),
        .library(name: "ParkLinkSystem", targets: ["ParkLinkSystem"]),
        .library(name: "ParkLinkSimulator", targets: ["ParkLinkSimulator"]),
        .library(name: "ParkLinkAnalytics", targets: ["ParkLinkAnalytics"]),
        .library(name: "ParkLinkSampler", targets: ["ParkLinkSampler"]),
        .library(name: "ParkLinkDaemon", targets: ["ParkLinkDaemon"]),
        .library(name: "ParkLinkHarness", targets: ["ParkLinkHarness"]),
        .library(name: "ParkLinkReports", targets: ["ParkLinkReports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The arrows point one way, along the data path:
        // Protocol ← System ← {Ingest, Store} ← {Sampler, Daemon} ← parklink; the harness
        // (simulator, stress, demo) sits beside the daemon and is never linked into it.
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .target(name: "CParkLinkShims"),
        // Wire messages, codecs, and the row and event types every layer passes.
        .target(name: "ParkLinkProtocol"),
        // Syscalls, termios, ptys, sockets, locks, service threads.
        .target(
            name: "ParkLinkSystem",
            dependencies: ["CParkLinkShims"]
        ),
        // Reader, session tracking, ring, and the writer loop against a sink protocol:
        // no database client here.
        .target(
            name: "ParkLinkIngest",
            dependencies: [
                "CParkLinkShims", "ParkLinkProtocol", "ParkLinkSystem",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Everything that speaks SQL, and the private MariaDB server.
        .target(
            name: "ParkLinkStore",
            dependencies: [
                "CMariaDB", "ParkLinkProtocol", "ParkLinkSystem",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Pure computation: health, alert rules, zones, forecasting, evaluation.
        .target(
            name: "ParkLinkAnalytics",
            dependencies: ["ParkLinkProtocol"]
        ),
        // The sampler thread: analytics over the committed state, written through the store.
        .target(
            name: "ParkLinkSampler",
            dependencies: [
                "ParkLinkAnalytics", "ParkLinkStore", "ParkLinkSystem", "ParkLinkProtocol",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Configuration, wiring, the status server and its typed protocol.
        .target(
            name: "ParkLinkDaemon",
            dependencies: [
                "ParkLinkProtocol", "ParkLinkSystem", "ParkLinkStore", "ParkLinkIngest",
                "ParkLinkAnalytics", "ParkLinkSampler",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // A gateway on a pty that behaves like hardware.
        .target(
            name: "ParkLinkSimulator",
            dependencies: ["CParkLinkShims", "ParkLinkProtocol", "ParkLinkSystem"]
        ),
        // Tools that prove the daemon (stress harness, demo); never linked into it.
        .target(
            name: "ParkLinkHarness",
            dependencies: [
                "ParkLinkDaemon", "ParkLinkSimulator", "ParkLinkStore", "ParkLinkSystem", "ParkLinkProtocol",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What people do with the stored data, daemon or not: status and alerts from the
        // database, reports, exports, a sample config from the sensors seen.
        .target(
            name: "ParkLinkReports",
            dependencies: [
                "ParkLinkDaemon", "ParkLinkStore", "ParkLinkAnalytics", "ParkLinkSampler", "ParkLinkSystem", "ParkLinkProtocol",
            ]
        ),
        .executableTarget(
            name: "parklink",
            dependencies: [
                "ParkLinkDaemon", "ParkLinkReports", "ParkLinkHarness", "ParkLinkStore", "ParkLinkSimulator", "ParkLinkAnalytics",
                "ParkLinkSystem", "ParkLinkProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ParkLinkTestSupport",
            dependencies: ["ParkLinkProtocol", "ParkLinkStore", "ParkLinkSystem"],
            path: "Tests/ParkLinkTestSupport"
        ),
        .testTarget(
            name: "ParkLinkProtocolTests",
            dependencies: ["ParkLinkProtocol"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ParkLinkSystemTests",
            dependencies: ["ParkLinkSystem"]
        ),
        .testTarget(
            name: "ParkLinkIngestTests",
            dependencies: [
                "ParkLinkIngest", "ParkLinkSystem", "ParkLinkProtocol", "ParkLinkSimulator", "ParkLinkTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ParkLinkStoreTests",
            dependencies: ["ParkLinkStore", "ParkLinkProtocol", "ParkLinkSystem", "ParkLinkTestSupport"]
        ),
        .testTarget(
            name: "ParkLinkAnalyticsTests",
            dependencies: ["ParkLinkAnalytics"]
        ),
        .testTarget(
            name: "ParkLinkReportsTests",
            dependencies: [
                "ParkLinkReports", "ParkLinkDaemon", "ParkLinkStore", "ParkLinkAnalytics", "ParkLinkSampler", "ParkLinkSystem",
                "ParkLinkProtocol", "ParkLinkTestSupport",
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ParkLinkDaemon", "ParkLinkHarness", "ParkLinkSampler", "ParkLinkStore", "ParkLinkSimulator",
                "ParkLinkSystem", "ParkLinkProtocol", "ParkLinkIngest", "ParkLinkAnalytics", "ParkLinkTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

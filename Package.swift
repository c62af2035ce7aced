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
        .library(name: "ParkLinkDaemon", targets: ["ParkLinkDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .target(name: "CParkLinkShims"),
        .target(name: "ParkLinkProtocol"),
        .target(
            name: "ParkLinkSystem",
            dependencies: ["CParkLinkShims"]
        ),
        .target(
            name: "ParkLinkStore",
            dependencies: [
                "CMariaDB", "ParkLinkProtocol", "ParkLinkSystem",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ParkLinkIngest",
            dependencies: [
                "CParkLinkShims", "ParkLinkProtocol", "ParkLinkSystem", "ParkLinkStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ParkLinkAnalytics",
            dependencies: ["ParkLinkProtocol"]
        ),
        .target(
            name: "ParkLinkSimulator",
            dependencies: ["CParkLinkShims", "ParkLinkProtocol", "ParkLinkSystem"]
        ),
        .target(
            name: "ParkLinkDaemon",
            dependencies: [
                "ParkLinkProtocol", "ParkLinkSystem", "ParkLinkStore", "ParkLinkIngest",
                "ParkLinkSimulator", "ParkLinkAnalytics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .executableTarget(
            name: "parklink",
            dependencies: [
                "ParkLinkDaemon", "ParkLinkStore", "ParkLinkSimulator", "ParkLinkAnalytics",
                "ParkLinkSystem", "ParkLinkProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ParkLinkTestSupport",
            dependencies: ["ParkLinkStore", "ParkLinkSystem"],
            path: "Tests/ParkLinkTestSupport"
        ),
        .testTarget(
            name: "ParkLinkProtocolTests",
            dependencies: ["ParkLinkProtocol"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ParkLinkIngestTests",
            dependencies: ["ParkLinkIngest", "ParkLinkSystem", "ParkLinkProtocol", "ParkLinkSimulator", "ParkLinkTestSupport"]
        ),
        .testTarget(
            name: "ParkLinkStoreTests",
            dependencies: ["ParkLinkStore", "ParkLinkProtocol", "ParkLinkTestSupport"]
        ),
        .testTarget(
            name: "ParkLinkAnalyticsTests",
            dependencies: ["ParkLinkAnalytics"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ParkLinkDaemon", "ParkLinkStore", "ParkLinkSimulator", "ParkLinkSystem",
                "ParkLinkProtocol", "ParkLinkIngest", "ParkLinkTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

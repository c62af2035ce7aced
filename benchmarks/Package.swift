// swift-tools-version:6.1
import PackageDescription

#if canImport(Foundation)
import class Foundation.ProcessInfo
#endif

/// ParkLink's benchmarks, a separate package so the main one stays light (as swift-nio does).
///
/// - `Benchmarks/<Name>/<Name>.swift`: ordo-one/benchmark suites (`swift package benchmark`).
///   Gated on counts (mallocs) through `Thresholds/`; times are reported, never asserted.
/// - `Sources/EndToEnd`: a plain executable (`swift run -c release EndToEnd`): a gateway
///   simulator at fixed rates for seconds at a time does not fit the harness's iterations.
/// - `Sources/ClusterWrite`: a plain executable (`swift run -c release ClusterWrite`): the
///   writer's rows/s into one server and a three-node Galera cluster, with nodes killed.
///
/// `PARKLINK_PATH` points the benchmarks at another checkout of ParkLink (default: `..`), e.g.
/// an export of a commit to compare with (`git archive <rev> | tar -x -C DIR`).
///
/// `traits: ["MallocInterposer"]` turns off the package's default `RuntimeInterposer`
/// trait, whose dependency is not in this machine's package mirror.
let parkLinkPath = ProcessInfo.processInfo.environment["PARKLINK_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? ".."

let package = Package(
    name: "ParkLinkBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ParkLink", path: parkLinkPath),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "BenchmarkSupport", path: "Sources/BenchmarkSupport"),
        .executableTarget(
            name: "Decode",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ParkLinkProtocol", package: "ParkLink"),
                .product(name: "ParkLinkSystem", package: "ParkLink"),
            ],
            path: "Benchmarks/Decode",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Ring",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ParkLinkIngest", package: "ParkLink"),
                .product(name: "ParkLinkStore", package: "ParkLink"),
                .product(name: "ParkLinkSystem", package: "ParkLink"),
                .product(name: "ParkLinkProtocol", package: "ParkLink"),
            ],
            path: "Benchmarks/Ring",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Store",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ParkLinkStore", package: "ParkLink"),
                .product(name: "ParkLinkProtocol", package: "ParkLink"),
                .product(name: "ParkLinkSystem", package: "ParkLink"),
            ],
            path: "Benchmarks/Store",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EndToEnd",
            dependencies: [
                .product(name: "ParkLinkDaemon", package: "ParkLink"),
                .product(name: "ParkLinkSimulator", package: "ParkLink"),
                .product(name: "ParkLinkStore", package: "ParkLink"),
                .product(name: "ParkLinkIngest", package: "ParkLink"),
                .product(name: "ParkLinkSystem", package: "ParkLink"),
                .product(name: "ParkLinkProtocol", package: "ParkLink"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/EndToEnd"
        ),
        .executableTarget(
            name: "ClusterWrite",
            dependencies: [
                .product(name: "ParkLinkHarness", package: "ParkLink"),
                .product(name: "ParkLinkStore", package: "ParkLink"),
                .product(name: "ParkLinkSystem", package: "ParkLink"),
                .product(name: "ParkLinkProtocol", package: "ParkLink"),
            ],
            path: "Sources/ClusterWrite"
        ),
    ]
)

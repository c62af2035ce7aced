// swift-tools-version:5.4
import PackageDescription

/// libFuzzer targets for ParkLink's hostile-input surfaces (README "Tests", `fuzz/run`).
///
/// A package of its own so that the product's build never sees `-sanitize=fuzzer`: each
/// target defines `LLVMFuzzerTestOneInput` and gets libFuzzer's `main`. Build it only
/// through `fuzz/run`, which passes `-Xswiftc -sanitize=fuzzer,address -Xswiftc
/// -parse-as-library` to every module (the product's modules too, so the fuzzer sees
/// their coverage).
///
/// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry
/// point to `<Module>_main` and links with `--defsym main=<Module>_main`, a symbol a
/// `-parse-as-library` module never defines, so the link fails; below 5.5 libFuzzer's
/// own `main` is the entry point, as it must be.
let package = Package(
    name: "ParkLinkFuzz",
    dependencies: [
        .package(name: "ParkLink", path: ".."),
    ],
    targets: [
        // The streaming harness shared by both decoder targets: chunk plan, reference
        // model, invariants.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "ParkLinkProtocol", package: "ParkLink")]
        ),
        .executableTarget(
            name: "FuzzTextDecoder",
            dependencies: ["FuzzSupport", .product(name: "ParkLinkProtocol", package: "ParkLink")]
        ),
        .executableTarget(
            name: "FuzzBinaryDecoder",
            dependencies: ["FuzzSupport", .product(name: "ParkLinkProtocol", package: "ParkLink")]
        ),
        .executableTarget(
            name: "FuzzStatusRequest",
            dependencies: [.product(name: "ParkLinkDaemon", package: "ParkLink")]
        ),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [.product(name: "ParkLinkDaemon", package: "ParkLink")]
        ),
    ]
)

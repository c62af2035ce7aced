// The options of the EndToEnd executable (see main.swift).

import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

struct EndToEndOptions {
    var framings: [FrameEncoding] = [.text, .binary]
    var rates = [50_000, 100_000, 150_000, 200_000, 250_000]
    var seconds = 5.0
    var sensors = 500
    /// The sensor-count comparison: `sensors` vs `manySensors` at `compareRate` readings/s.
    var manySensors = 50_000
    var compareRate = 50_000
    var compareSensors = true
    /// Flapping storms: every reading flips its bay, so nearly every reading carries an
    /// occupancy event. Rates, and the debounce of the extra storm step (0: none).
    var stormRates = [150_000, 250_000]
    var stormDebounceMs = 100
    /// Idle efficiency: `idleRate` readings/s, each frame written on its own (the
    /// simulator ticks every millisecond), for `idleSeconds`, with the sampler attached.
    var idleRate = 500
    var idleSeconds = 60.0
    /// Store ceilings (array binding, LOAD DATA) measured before every step, on the same
    /// server, `ceilingRows` rows each in batches of `batch_max_rows`.
    var ceilingRows = 200_000
    var measureCeiling = true
    /// `--set KEY=VALUE` for every pipeline child (see `PipelineSetting`).
    var pipelineSettings: [String] = []
    var jsonPath: String?
    /// The simulated gateway's transmit buffer (the firmware's: 64 KiB).
    var txBufferKiB = 64
    /// `PARKLINK_E2E_PIPELINE_WRAPPER`, e.g. "valgrind --tool=callgrind": runs the pipeline
    /// child under a profiler (expect loss: the profiler slows it down many times).
    var pipelineWrapper: [String] = ProcessInfo.processInfo.environment["PARKLINK_E2E_PIPELINE_WRAPPER"]?
        .split(separator: " ").map(String.init) ?? []
    /// `PARKLINK_E2E_SIMULATOR_WRAPPER`, e.g. "chrt -f 20": the simulator stands in for a
    /// gateway that nothing on the host can preempt; this takes its scheduling jitter out.
    var simulatorWrapper: [String] = ProcessInfo.processInfo.environment["PARKLINK_E2E_SIMULATOR_WRAPPER"]?
        .split(separator: " ").map(String.init) ?? []

    static let usage = """
        USAGE: EndToEnd [--quick] [--framing text|binary|both] [--rates 25000,50000,...]
                        [--seconds 5] [--sensors 500] [--many-sensors 50000] [--compare-rate 50000]
                        [--no-compare] [--tx-buffer-kib 64] [--json PATH]
                        [--storm-rates 150000,250000] [--storm-debounce-ms 100]
                        [--idle-seconds 60] [--idle-rate 500] [--ceiling-rows 200000] [--no-ceiling]
                        [--only ladder|storm|idle|compare[,...]] [--set KEY=VALUE]...
        Rates are total readings/s (all sensors together). --storm-rates "" or --idle-seconds 0
        skips that part; --storm-debounce-ms 0 skips the debounced storm step.
        """

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw Failure("\(args[i - 1]) needs a value\n\(Self.usage)") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--quick":
                rates = [25_000, 100_000]
                seconds = 2
                compareRate = 25_000
                stormRates = [50_000]
                idleSeconds = 10
                ceilingRows = 50_000
            case "--framing":
                let v = try value()
                framings = v == "both" ? [.text, .binary] : [try FrameEncoding(rawValue: v).orThrow("framing \(v)")]
            case "--rates":
                rates = try value().split(separator: ",").map { try Int($0).orThrow("rate \($0)") }
            case "--seconds": seconds = try Double(try value()).orThrow("seconds")
            case "--sensors": sensors = try Int(try value()).orThrow("sensors")
            case "--many-sensors": manySensors = try Int(try value()).orThrow("many-sensors")
            case "--compare-rate": compareRate = try Int(try value()).orThrow("compare-rate")
            case "--no-compare": compareSensors = false
            case "--json": jsonPath = try value()
            case "--tx-buffer-kib": txBufferKiB = try Int(try value()).orThrow("tx-buffer-kib")
            case "--storm-rates":
                stormRates = try value().split(separator: ",").map { try Int($0).orThrow("storm rate \($0)") }
            case "--storm-debounce-ms": stormDebounceMs = try Int(try value()).orThrow("storm-debounce-ms")
            case "--idle-seconds": idleSeconds = try Double(try value()).orThrow("idle-seconds")
            case "--idle-rate": idleRate = try Int(try value()).orThrow("idle-rate")
            case "--ceiling-rows": ceilingRows = try Int(try value()).orThrow("ceiling-rows")
            case "--no-ceiling": measureCeiling = false
            case "--set": pipelineSettings.append(try value())
            case "--only":
                let parts = Set(try value().split(separator: ",").map(String.init))
                let known: Set = ["ladder", "storm", "idle", "compare"]
                guard parts.isSubset(of: known) else { throw Failure("--only takes \(known.sorted().joined(separator: ","))\n\(Self.usage)") }
                if !parts.contains("ladder") { rates = [] }
                if !parts.contains("storm") { stormRates = [] }
                if !parts.contains("idle") { idleSeconds = 0 }
                if !parts.contains("compare") { compareSensors = false }
            case "-h", "--help":
                print(Self.usage)
                exit(0)
            default: throw Failure("unknown argument \(args[i])\n\(Self.usage)")
            }
            i += 1
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Optional {
    func orThrow(_ what: String) throws -> Wrapped {
        guard let self else { throw Failure("invalid \(what)\n\(EndToEndOptions.usage)") }
        return self
    }
}


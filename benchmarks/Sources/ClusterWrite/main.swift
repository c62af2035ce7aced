// Write throughput: one server, a three-node Galera cluster, and the cluster while a node dies.
//
//     swift run -c release ClusterWrite                      # 3 rounds × 4 steps of 20 s
//     swift run -c release ClusterWrite --seconds 10 --rounds 1
//
// Each step writes as the appliance's writer does, through the same code: `BatchTransaction`
// (array binding, batches of 5,000 readings, one transaction each, INSERT IGNORE), over TCP
// on loopback (a cluster is reached over the network), as fast as the database takes them,
// retrying a failed batch the writer's way (a lost connection: reconnect through
// `ClusterConnector`, the failed node last; a conflict: the same batch again). Steps:
//
//   one server     a plain MariaDB with the nodes' settings (no Galera)
//   three nodes    the cluster, written through node 1
//   peer killed    the same, node 2 SIGKILLed a quarter into the step (writes pause until it
//                  is evicted, then go on with two nodes)
//   writer's node  the same, node 1 (the one written to) SIGKILLed a quarter into the step:
//                  the writer fails over to node 2
//
// After each kill the node comes back by IST before the next step. The rounds run the steps
// back to back, so a busy neighbour on a shared machine shows in every step alike; the load
// average is printed with each step. Needs galera-4 (see ../README.md "Tests").

import Foundation
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var seconds = 20.0
    var rounds = 3
    var batch = 5_000

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw Usage("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--seconds": seconds = try Double(value()).flatMap { $0 > 0 ? $0 : nil } ?? { throw Usage("--seconds: a positive number") }()
            case "--rounds": rounds = try Int(value()).flatMap { $0 > 0 ? $0 : nil } ?? { throw Usage("--rounds: a positive whole number") }()
            case "--batch": batch = try Int(value()).flatMap { $0 > 0 ? $0 : nil } ?? { throw Usage("--batch: a positive whole number") }()
            case "--help", "-h": throw Usage(nil)
            default: throw Usage("unknown argument \(args[i])")
            }
            i += 1
        }
    }

    struct Usage: Error, CustomStringConvertible {
        var problem: String?
        init(_ p: String?) { problem = p }
        var description: String {
            (problem.map { "ClusterWrite: \($0)\n" } ?? "") + "USAGE: ClusterWrite [--seconds 20] [--rounds 3] [--batch 5000]"
        }
    }
}

/// The sessions of the rows written: one gateway, one boot per step.
struct OneSession: SessionResolving {
    var key: SessionKey
    func key(for index: UInt32) -> SessionKey { key }
}

/// What one step measured.
struct Step {
    var name: String
    var rows = 0
    var seconds = 0.0
    /// The longest time without a commit (a node dying shows here).
    var longestPause = 0.0
    var failovers = 0
    var retries = 0
    var load = ""
    /// From the first commit after the fault to the end: the cluster that is left.
    var rowsAfter = 0
    var secondsAfter = 0.0
    var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    var rowsPerSecondAfter: Double? { secondsAfter > 0 ? Double(rowsAfter) / secondsAfter : nil }
}

/// Writes batches for `seconds` (calling `fault` once, a quarter in) as the writer would.
func measure(_ name: String, dsn: DSN, options: Options, bootId: UInt32, fault: (() -> Void)? = nil) throws -> Step {
    let key = SessionKey(gatewayId: "BENCH", bootId: bootId)
    let t = BatchTransaction(dsn: dsn, method: .arrayBinding, maxRows: options.batch, sessions: OneSession(key: key),
                             zoneOf: { _ in nil })
    try t.connect()
    let batch = UnsafeMutablePointer<StampedReading>.allocate(capacity: options.batch)
    defer { batch.deallocate() }
    var step = Step(name: name)
    var seq: UInt32 = 0
    let start = Clock.monotonicNanoseconds()
    var lastCommit = start
    var faulted = fault == nil
    var resumedAt: UInt64?
    var backoffMs = 100
    var connected = true
    while true {
        let now = Clock.monotonicNanoseconds()
        let elapsed = Double(now - start) / 1e9
        if elapsed >= options.seconds { break }
        if !faulted && elapsed >= options.seconds / 4 {
            fault?()
            faulted = true
        }
        let nowMs = Clock.wallMilliseconds()
        for i in 0..<options.batch {
            let s = seq &+ UInt32(i)
            let r = Reading(seq: s, sensor: UInt16(s % 500), gatewayMs: s &* 10, occupied: false,
                            distanceCm: UInt16(s % 400), voltageDv: 2300, currentMa: UInt16(s % 3000), powerFactorPct: 95)
            (batch + i).initialize(to: StampedReading(session: 0, receivedAtMs: nowMs, reading: r))
        }
        do {
            if !connected {
                try t.connect()
                connected = true
            }
            _ = try t.write(UnsafeBufferPointer(start: batch, count: options.batch), events: [])
            let committed = Clock.monotonicNanoseconds()
            step.longestPause = max(step.longestPause, Double(committed - lastCommit) / 1e9)
            lastCommit = committed
            step.rows += options.batch
            if fault != nil && faulted {
                if let resumedAt {
                    step.rowsAfter += options.batch
                    step.secondsAfter = Double(committed - resumedAt) / 1e9
                } else {
                    resumedAt = committed
                }
            }
            seq &+= UInt32(options.batch)
            backoffMs = 100
        } catch {
            step.retries += 1
            if BatchTransaction.classify(error) != .transient {
                t.disconnect()
                connected = false
            }
            Clock.sleep(milliseconds: backoffMs)
            backoffMs = min(backoffMs * 2, 1_000)
        }
        batch.deinitialize(count: options.batch)
    }
    step.seconds = Double(Clock.monotonicNanoseconds() - start) / 1e9
    step.failovers = t.connector.snapshot.failovers
    t.disconnect()
    return step
}

func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
}

func report(_ s: Step) {
    let after = s.rowsPerSecondAfter.map { String(format: "  after the pause %6.0f rows/s", $0) } ?? ""
    print(String(format: "%@ %7.0f rows/s  %8d rows in %5.1f s  longest pause %5.2f s  failovers %d  retries %d%@  load %@",
                 s.name.padding(toLength: 14, withPad: " ", startingAt: 0) as NSString, s.rowsPerSecond, s.rows, s.seconds, s.longestPause, s.failovers, s.retries,
                 after as NSString, s.load as NSString))
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    if let reason = GaleraCluster.unavailableReason { throw Options.Usage("cannot run a cluster here: \(reason)") }
    MariaDB.initializeLibrary()
    signal(SIGPIPE, SIG_IGN)

    // The plain server: the nodes' InnoDB settings, no Galera, a TCP user like the cluster's.
    let plain = try PrivateMariaDBServer.temporary(options: .init(
        port: 0, bufferPoolSize: "128M", logFileSize: "128M",
        stopWhenProcessExits: getpid(), removeStateDirectoryWithOwner: true))
    defer { try? plain.destroy() }
    let admin = try MariaDBConnection(dsn: try plain.start())
    try admin.execute("CREATE USER IF NOT EXISTS 'bench'@'127.0.0.1' IDENTIFIED BY 'bench-pw'")
    try admin.execute("GRANT ALL ON *.* TO 'bench'@'127.0.0.1'")
    admin.close()
    let plainDSN = try DSN.parse("mysql://bench:bench-pw@127.0.0.1:\(plain.port ?? 0)/parklink", environment: [:])

    let cluster = try GaleraCluster()
    defer { cluster.destroy() }
    try cluster.start()
    let clusterDSN = try cluster.dsnWithPassword()
    print("ClusterWrite: \(options.rounds) round(s) of 4 steps × \(Int(options.seconds)) s, batches of \(options.batch); \(ProcessInfo.processInfo.activeProcessorCount) cores")

    var all: [String: [Step]] = [:]
    var boot: UInt32 = 1
    for round in 1...options.rounds {
        print("round \(round)")
        func run(_ name: String, _ dsn: DSN, fault: (() -> Void)? = nil, after: (() throws -> Void)? = nil) throws {
            let load = loadAverage()
            var s = try measure(name, dsn: dsn, options: options, bootId: boot, fault: fault)
            boot += 1
            s.load = load + " → " + loadAverage()
            report(s)
            all[name, default: []].append(s)
            try after?()
        }
        try run("one server", plainDSN)
        try run("three nodes", clusterDSN)
        try run("peer killed", clusterDSN, fault: { cluster.kill(2) }, after: { try cluster.restart([2]) })
        try run("writer's node", clusterDSN, fault: { cluster.kill(1) }, after: { try cluster.restart([1]) })
    }
    print("median rows/s over the rounds:")
    for name in ["one server", "three nodes", "peer killed", "writer's node"] {
        let steps = all[name] ?? []
        let sorted = steps.map(\.rowsPerSecond).sorted()
        let pauses = steps.map { String(format: "%.1f", $0.longestPause) }.joined(separator: ", ")
        let after = steps.compactMap(\.rowsPerSecondAfter).sorted()
        let afterText = after.isEmpty ? "" : String(format: "; after the pause, median %.0f rows/s", after[after.count / 2])
        print(String(format: "  %@ %7.0f  (each: %@; longest pauses s: %@%@)",
                     name.padding(toLength: 14, withPad: " ", startingAt: 0) as NSString, sorted[sorted.count / 2],
                     steps.map { String(format: "%.0f", $0.rowsPerSecond) }.joined(separator: ", ") as NSString, pauses as NSString,
                     afterText as NSString))
    }
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}

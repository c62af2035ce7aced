import Foundation
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// `parklink stress` end to end, as a user runs it: the built executable starts its own
/// private MariaDB, a simulated gateway and `parklink run` as a child process, and
/// judges the run from the database. These tests read its verdict from the JSON line.
@Suite("End to end: parklink stress")
struct StressTests {
    /// What one `parklink stress …` printed and how it ended.
    struct Outcome {
        /// The exit status; nil if it did not end within the time-out (it was then
        /// sent SIGTERM, which makes it clean up).
        var status: Int32?
        var output: String
        /// The last line of the output, parsed (empty if it is not a JSON object).
        var report: [String: Any]

        func int(_ key: String) -> Int? { (report[key] as? NSNumber)?.intValue }
        func lost(_ reason: String) -> Int? { ((report["lost_by_reason"] as? [String: Any])?[reason] as? NSNumber)?.intValue }
        func daemon(_ key: String) -> Int? { ((report["daemon"] as? [String: Any])?[key] as? NSNumber)?.intValue }
    }

    /// Runs the built executable. With `stderr: false` only stdout is kept, so the
    /// report's last line is stdout's own; with `stderr: true` both, for messages.
    static func stress(_ arguments: [String], stderr: Bool = false, timeoutSeconds: Double = 120) throws -> Outcome {
        let child = try ChildProcess(Repository.parklinkExecutable, ["stress"] + arguments,
                                     standardError: stderr ? .merge : .discard)
        let status = child.wait(timeoutSeconds: timeoutSeconds)
        if status == nil {
            child.signal(SIGTERM)
            _ = child.wait(timeoutSeconds: 30)
        }
        let output = child.output
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        let report = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
        return Outcome(status: status, output: output, report: report)
    }

    static let requiredKeys = [
        "emitted", "stored", "lost", "readings_per_second", "latency_ms_p50", "latency_ms_p99", "cpu_seconds",
        "peak_rss_mib", "lost_by_reason", "fault", "framing", "sensors", "rate_per_sensor", "duration_s",
        "daemon_exit_code", "mariadb_cpu_seconds", "cpu_seconds_per_million_readings",
        "mariadb_cpu_seconds_per_million_readings",
    ]

    @Test("no fault: every emitted reading is in the database, and the report has its keys")
    func noFaultStoresEverything() throws {
        let run = try Self.stress(["--sensors", "50", "--rate", "100", "--duration", "5", "--json"])
        #expect(run.status == 0, "output:\n\(run.output)")
        for key in Self.requiredKeys { #expect(run.report[key] != nil, "missing key \(key)") }
        let emitted = try #require(run.int("emitted"))
        #expect(emitted > 0)
        #expect(run.int("stored") == emitted)
        #expect(run.int("lost") == 0)
        for reason in ["gateway_tx_dropped", "bad_crc", "link_gap", "other"] { #expect(run.lost(reason) == 0, "\(reason)") }
        #expect(run.int("daemon_exit_code") == 0)
        #expect(run.report["fault"] as? String == "none")
        #expect(run.int("sensors") == 50)
        for key in ["mariadb_cpu_seconds", "cpu_seconds_per_million_readings", "mariadb_cpu_seconds_per_million_readings"] {
            #expect(run.report[key] is NSNumber, "\(key): the private server's CPU is read from /proc")
        }
    }

    @Test("--db naming a server on this machine: its CPU is read from its process (found by its pid file)")
    func localServerCPU() throws {
        let dsn = try TestDatabase.newDatabase("stresscpu")
        let run = try Self.stress(["--sensors", "50", "--rate", "40", "--duration", "3", "--json", "--db", dsn.description])
        #expect(run.status == 0, "output:\n\(run.output)")
        let cpu = try #require(run.report["mariadb_cpu_seconds"] as? NSNumber, "output:\n\(run.output)")
        #expect(cpu.doubleValue >= 0)
        #expect(run.report["mariadb_cpu_seconds_per_million_readings"] is NSNumber)
        let perMillion = try #require(run.report["cpu_seconds_per_million_readings"] as? NSNumber)
        let stored = try #require(run.int("stored"))
        let daemonCPU = try #require((run.report["cpu_seconds"] as? NSNumber)?.doubleValue)
        // `cpu_seconds` is rounded to 10 ms and the figure per million to 0.01 s; the rest must agree.
        let roundingBound = 0.005 / Double(stored) * 1e6 + 0.005
        #expect(abs(perMillion.doubleValue - daemonCPU / Double(stored) * 1e6) <= roundingBound + 1e-9)
    }

    @Test("unplug: readings due while the cable is out are tx_dropped, none sent is missing")
    func unplugLosesNothingSent() throws {
        let run = try Self.stress(["--sensors", "50", "--rate", "100", "--duration", "8", "--fault", "unplug", "--json"])
        #expect(run.status == 0, "output:\n\(run.output)")
        #expect(run.lost("other") == 0)
        #expect(run.int("daemon_exit_code") == 0)
        // The fault happened: the link went down and came back, and the gateway counted
        // what it could not send meanwhile.
        #expect((run.lost("gateway_tx_dropped") ?? 0) > 0)
        #expect((run.daemon("link_hangups") ?? 0) >= 1)
        #expect((run.daemon("link_opens") ?? 0) >= 2)
        // Every emitted reading is stored or lost under a reason, and the reasons add up.
        let reasons = ["gateway_tx_dropped", "bad_crc", "link_gap", "gateway_discarded", "other"].compactMap { run.lost($0) }
        #expect(reasons.count == 5)
        #expect(run.int("lost") == reasons.reduce(0, +))
        #expect(run.int("emitted") == (run.int("stored") ?? -1) + (run.int("lost") ?? -1))
    }

    /// The short version of the fault matrix's first two rows (the README gives the long
    /// ones: 30 s at 20,000/s). 10,000/s here because CI runs other suites beside it on 2
    /// cores, in a debug build.
    @Test("the database away for 10 s (killed, or stalled by a read lock), a gateway without flow control: the spool takes it, 0 lost",
          .serialized, arguments: ["db-restart", "db-stall"])
    func databaseAwayLosesNothing(fault: String) throws {
        let run = try Self.stress(["--sensors", "500", "--rate", "20", "--duration", "30", "--framing", "binary",
                                   "--fault", fault, "--down-seconds", "10", "--stall-seconds", "10", "--json"],
                                  timeoutSeconds: 240)
        #expect(run.status == 0, "output:\n\(run.output)")
        #expect(run.int("lost") == 0, "nothing lost: \(run.report["lost_by_reason"] ?? "?")")
        #expect(run.int("daemon_exit_code") == 0)
        #expect((run.int("emitted") ?? 0) >= 500 * 20 * 29)
    }

    @Test("unplugged and replugged 10 times: each new port reopened within a second, nothing sent intact is missing")
    func replugsAreFoundQuickly() throws {
        let run = try Self.stress(["--sensors", "50", "--rate", "20", "--duration", "30", "--fault", "unplug",
                                   "--unplugs", "10", "--unplug-seconds", "0.5", "--json"], timeoutSeconds: 180)
        #expect(run.status == 0, "output:\n\(run.output)")
        #expect(run.int("replugs") == 10)
        let worst = (run.report["reopen_ms_max"] as? NSNumber)?.doubleValue ?? .infinity
        #expect(worst <= 1_000, "reopened within a second of each replug (worst \(worst) ms)")
        #expect(run.lost("other") == 0, "only what the gateway could not send while unplugged is missing")
        #expect((run.daemon("link_opens") ?? 0) >= 11)
    }

    @Test("bad arguments are refused with usage, before anything starts")
    func badArguments() throws {
        let few = try Self.stress(["--sensors", "2"], stderr: true, timeoutSeconds: 30)
        #expect(few.status.map { $0 != 0 } == true)
        #expect(few.output.contains("--sensors"))
        let restartWithDSN = try Self.stress(["--fault", "db-restart", "--db", "mysql://u@localhost/x?socket=/nonexistent"],
                                             stderr: true, timeoutSeconds: 30)
        #expect(restartWithDSN.status.map { $0 != 0 } == true)
        #expect(restartWithDSN.output.contains("db-restart"))
        let unknownFault = try Self.stress(["--fault", "meteor"], stderr: true, timeoutSeconds: 30)
        #expect(unknownFault.status.map { $0 != 0 } == true)
        #expect(unknownFault.output.contains("Usage"))
    }
}

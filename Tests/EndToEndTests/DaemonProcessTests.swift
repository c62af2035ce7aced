import Foundation
import ParkLinkDaemon
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// `parklink run` as the field runs it: a separate process, stopped by SIGTERM.
@Suite("End to end: the parklink run process", .serialized, .timeLimit(.minutes(5)))
struct DaemonProcessTests {
    @Test("SIGTERM drains and commits everything, then exits 0")
    func sigtermDrainsAndExitsZero() throws {
        let dsn = try TestDatabase.newDatabase("e2e_proc")
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "5000", "--count", "10000", "--sensors", "500", "--seed", "3",
        ])
        let state = Repository.temporaryDirectory("plproc")
        let run = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", gateway.devicePath, "--framing", "binary", "--db", dsn.description,
            "--state-dir", state, "--log-level", "warning",
        ])
        let manifest = try gateway.finish()
        let socket = StateDirectory(path: state).statusSocket
        let settled = eventually(timeoutSeconds: 20) {
            guard let s = try? StatusClient.status(socket: socket) else { return false }
            return s.store.rows_committed == manifest.readings.count
        }
        #expect(settled)
        // What a script reads: `status --json` through the CLI, every key present, `null` for no value.
        let cli = try ChildProcess(Repository.parklinkExecutable, ["status", "--json", "--state-dir", state])
        #expect(cli.wait(timeoutSeconds: 30) == 0)
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(cli.output.utf8)) as? [String: Any])
        let store = try #require(printed["store"] as? [String: Any])
        #expect(store["last_error"] is NSNull, "no database error: the key is there, null")
        #expect(printed["sampler"] is [String: Any], "the appliance runs the sampler")
        #expect((store["rows_committed"] as? Int) == manifest.readings.count)
        run.signal(SIGTERM)
        #expect(run.wait(timeoutSeconds: 60) == 0, "SIGTERM: drained, committed, exit 0")
        #expect(try storedReadings(dsn).count == manifest.readings.count)
        // Gone means gone: status now says so and exits non-zero.
        #expect(throws: StatusClient.Failure.self) { try StatusClient.status(socket: socket) }
    }

    @Test("status without a daemon says so plainly and exits 1")
    func statusWithoutDaemon() throws {
        let p = try ChildProcess(Repository.parklinkExecutable, ["status", "--state-dir", Repository.temporaryDirectory("plnone")],
                                 standardError: .merge)
        #expect(p.wait(timeoutSeconds: 30) == 1)
        let text = p.output
        #expect(text.contains("not running"))
    }

    @Test("a bad argument prints usage and exits non-zero")
    func badArgument() throws {
        let p = try ChildProcess(Repository.parklinkExecutable, ["run", "--baud", "banana"], standardError: .merge)
        let status = p.wait(timeoutSeconds: 30)
        let text = p.output
        #expect(status != nil && status != 0)
        #expect(text.contains("Usage"))
    }
}

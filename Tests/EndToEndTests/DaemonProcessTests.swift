import Foundation
import ParkLinkDaemon
import ParkLinkStore
import ParkLinkTestSupport
import Testing

/// `parklink run` as the field runs it: a separate process, stopped by SIGTERM.
@Suite("End to end: the parklink run process", .serialized)
struct DaemonProcessTests {
    @Test("SIGTERM drains and commits everything, then exits 0")
    func sigtermDrainsAndExitsZero() throws {
        let dsn = try TestDatabase.newDatabase("e2e_proc")
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "5000", "--count", "10000", "--sensors", "500", "--seed", "3",
        ])
        let state = Repository.temporaryDirectory("plproc")
        let run = Process()
        run.executableURL = URL(fileURLWithPath: Repository.parklinkExecutable)
        run.arguments = ["run", "--device", gateway.devicePath, "--framing", "binary", "--db", dsn.description,
                         "--state-dir", state, "--log-level", "warning"]
        try run.run()
        let manifest = try gateway.finish()
        let socket = StateDirectory(path: state).statusSocket
        let settled = eventually(timeoutSeconds: 20) {
            guard let reply = try? StatusClient.request("status", socket: socket),
                  let s = try? JSONDecoder().decode(StatusSnapshot.self, from: Data(reply.utf8)) else { return false }
            return s.store.rows_committed == manifest.readings.count
        }
        #expect(settled)
        kill(run.processIdentifier, SIGTERM)
        run.waitUntilExit()
        #expect(run.terminationReason == .exit)
        #expect(run.terminationStatus == 0)
        #expect(try storedReadings(dsn).count == manifest.readings.count)
        // Gone means gone: status now says so and exits non-zero.
        #expect(throws: StatusClient.Failure.self) { try StatusClient.request("status", socket: socket) }
    }

    @Test("status without a daemon says so plainly and exits 1")
    func statusWithoutDaemon() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repository.parklinkExecutable)
        p.arguments = ["status", "--state-dir", Repository.temporaryDirectory("plnone")]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 1)
        #expect(text.contains("not running"))
    }

    @Test("a bad argument prints usage and exits non-zero")
    func badArgument() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repository.parklinkExecutable)
        p.arguments = ["run", "--baud", "banana"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus != 0)
        #expect(text.contains("Usage"))
    }
}

import ParkLinkDaemon
import Foundation
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem

/// Injects the run's one fault at its moment, on a thread of its own (a server restart
/// or a 20-second lock must not stall the progress display or the simulator), and
/// keeps a timestamped log of what it did for the report.
///
/// Times are seconds since the gateway started sending.
///
/// Its thread is a plain `NamedThread`, not a `ServiceThread`: it is not a service that
/// runs until stopped but one errand (sleep until the moment, inject, end), and nobody
/// cuts it short: `join()` means "wait until the fault is over" (the stall released,
/// the server back), so there is no stop flag or wake pipe to share.
final class FaultInjector: @unchecked Sendable {
    // @unchecked: `thread` is touched by start/join (the harness's thread) only; the log is locked.
    typealias Event = StressReport.FaultEvent

    let fault: StressOptions.Fault
    private let options: StressOptions
    private let database: StressDatabase
    private let simulator: GatewaySimulator
    private let log = Locked<[Event]>([])
    private let failure = Locked<String?>(nil)
    private var thread: NamedThread?
    private var startNs: UInt64 = 0

    init(options: StressOptions, database: StressDatabase, simulator: GatewaySimulator) {
        self.fault = options.fault
        self.options = options
        self.database = database
        self.simulator = simulator
    }

    /// When the fault strikes, seconds after sending began (nil: no timed fault).
    var triggerSeconds: Double? {
        switch fault {
        case .none, .noise: nil
        case .dbRestart, .dbStall: options.durationSeconds / 3
        case .unplug: options.unplugs > 1 ? options.durationSeconds / 10 : options.durationSeconds / 2
        }
    }

    var events: [Event] { log.withLock { $0 } }
    /// Why the fault could not be injected as asked, if it could not.
    var error: String? { failure.withLock { $0 } }

    /// Starts the clock (sending began at `startNs`) and the fault's thread.
    func start(sendingStartedAtNs: UInt64) {
        startNs = sendingStartedAtNs
        if fault == .noise {
            record("corrupt_fraction 0.01 and garbage_fraction 0.01 for the whole run")
        }
        guard let at = triggerSeconds else { return }
        thread = NamedThread(name: "pl-stress-fault") { [self] in
            sleep(until: at)
            switch fault {
            case .dbRestart: restartDatabase()
            case .dbStall: stallDatabase()
            case .unplug: unplug()
            case .none, .noise: break
            }
        }
    }

    /// Waits for the fault to be over (the stall released, the server back).
    func join() {
        thread?.join()
        thread = nil
    }

    // MARK: The faults

    private func restartDatabase() {
        guard let server = database.server else { return fail("db-restart needs the private server") }
        let pid = server.pid.map(String.init) ?? "?"
        do {
            try server.killServer(signal: SIGKILL)
            record("mariadbd (pid \(pid)) killed with SIGKILL")
        } catch {
            return fail("could not kill mariadbd: \(error)")
        }
        Clock.sleep(milliseconds: Int(options.restartDownSeconds * 1000))
        record("restarting mariadbd on the same datadir and socket")
        // The new server must not inherit the gateway's pty or the harness's sockets.
        InheritedDescriptors.closeOnExec()
        do {
            try server.start()
            record("mariadbd answering again (pid \(server.pid.map(String.init) ?? "?"))")
        } catch {
            fail("could not restart mariadbd: \(error)")
        }
    }

    private func stallDatabase() {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        let c: MariaDBConnection
        do {
            c = try Connections.open(database.dsn, profile: .tool)
        } catch {
            return fail("db-stall could not connect: \(error)")
        }
        defer { c.close() }
        do {
            try c.withGlobalReadLock {
                record("FLUSH TABLES WITH READ LOCK taken: every commit waits")
                Clock.sleep(milliseconds: Int(options.stallSeconds * 1000))
            }
            record("UNLOCK TABLES after \(Int(options.stallSeconds)) s")
        } catch {
            fail("db-stall failed: \(error)")
        }
    }

    private func unplug() {
        let start = elapsed
        for i in 0..<options.unplugs {
            if i > 0 { sleep(until: start + Double(i) * 2 * options.unplugSeconds) }
            simulator.unplug(forSeconds: options.unplugSeconds)
            if options.unplugs == 1 || i == 0 || i == options.unplugs - 1 {
                record("gateway unplugged for \(options.unplugSeconds) s (orderly: queued frames drained first)"
                       + (options.unplugs > 1 ? " [\(i + 1) of \(options.unplugs)]" : ""))
            }
        }
    }

    // MARK: Helpers

    private var elapsed: Double { Double(Clock.monotonicNanoseconds() &- startNs) / 1e9 }

    private func sleep(until seconds: Double) {
        let wait = seconds - elapsed
        if wait > 0 { Clock.sleep(milliseconds: Int(wait * 1000)) }
    }

    private func record(_ what: String) {
        let e = Event(at_s: (elapsed * 10).rounded() / 10, what: what)
        log.withLock { $0.append(e) }
    }

    private func fail(_ message: String) {
        record("FAILED: " + message)
        failure.withLock { $0 = message }
    }
}

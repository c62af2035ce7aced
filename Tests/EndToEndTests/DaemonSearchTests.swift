import Foundation
import ParkLinkDaemon
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// `sudo parklink status` must find the service's daemon, whose state is in
/// /var/lib/parklink, not in root's own ~/.local/state/parklink.
@Suite("Finding the system daemon", .serialized, .timeLimit(.minutes(5)))
struct DaemonSearchTests {
    @Test("where it looks: --state-dir or PARKLINK_STATE_DIR alone; else the default, the config's, the system one")
    func candidates() throws {
        let base = ["HOME": "/home/tech", DaemonSearch.systemConfigFileVariable: "/nonexistent/parklink.toml"]
        #expect(DaemonSearch.make(explicit: "/srv/pl", environment: base).candidates.map(\.directory.path) == ["/srv/pl"])
        #expect(DaemonSearch.make(explicit: nil, environment: base.merging(["PARKLINK_STATE_DIR": "/srv/env"]) { $1 })
            .candidates.map(\.directory.path) == ["/srv/env"])
        #expect(DaemonSearch.make(explicit: nil, environment: base).candidates.map(\.directory.path)
            == ["/home/tech/.local/state/parklink", "/var/lib/parklink"])

        // A config file's directory comes before the system one, relative to the file.
        let etc = Repository.temporaryDirectory("plsearch")
        let config = etc + "/parklink.toml"
        try Data("[link]\nbaud = 9600\n\n[state]\ndirectory = \"state\"\n".utf8).write(to: URL(fileURLWithPath: config))
        let environment = base.merging([DaemonSearch.systemConfigFileVariable: config,
                                        DaemonSearch.systemStateDirectoryVariable: "/srv/system"]) { $1 }
        let search = DaemonSearch.make(explicit: nil, environment: environment)
        #expect(search.candidates.map(\.directory.path) == ["/home/tech/.local/state/parklink", etc + "/state", "/srv/system"])
        #expect(search.candidates.map(\.origin) == ["your default state directory", "named by \(config)", "the system state directory"])
        // The same directory twice is tried once; none answering names every socket.
        let same = DaemonSearch.make(explicit: nil, environment: environment.merging(["HOME": "/srv/home",
                                     DaemonSearch.systemStateDirectoryVariable: "/srv/home/.local/state/parklink"]) { $1 })
        #expect(same.candidates.count == 2)
        #expect(throws: DaemonSearch.Failure.self) { try search.ask { try StatusClient.status(socket: $0) } }
        let message = "\(DaemonSearch.Failure.notRunning(tried: search.candidates.map(\.directory.path)))"
        #expect(message.contains("/home/tech/.local/state/parklink/parklink.sock, nor at \(etc)/state/parklink.sock, nor at /srv/system/parklink.sock"))
    }

    @Test("status and alerts without --state-dir find a real daemon in the system directory, and say so on stderr")
    func findsTheSystemDaemon() throws {
        let dsn = try TestDatabase.newDatabase("e2e_search")
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "2000", "--count", "2000", "--sensors", "50", "--seed", "11",
        ])
        // The "system" state directory is T/parklink, so that XDG_STATE_HOME=T makes it a
        // user's default too.
        let top = Repository.temporaryDirectory("plsys")
        let system = top + "/parklink"
        let run = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", gateway.devicePath, "--framing", "binary", "--db", dsn.description,
            "--state-dir", system, "--log-level", "warning",
        ])
        let manifest = try gateway.finish()
        #expect(eventually(timeoutSeconds: 30) {
            (try? StatusClient.status(socket: StateDirectory(path: system).statusSocket))?.store.rows_committed == manifest.readings.count
        })
        let home = Repository.temporaryDirectory("plhome")

        // As `sudo parklink status` over SSH: nothing in the user's directory, the service's found.
        let found = try Self.parklink(["status", "--json"], home: home, systemState: system)
        #expect(found.status == 0, "\(found.stderr)")
        let snapshot = try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [String: Any]
        #expect((snapshot?["store"] as? [String: Any])?["rows_committed"] as? Int == manifest.readings.count)
        #expect(found.stderr == "parklink: no daemon answers in \(home)/.local/state/parklink (your default state directory); "
            + "using \(system) (the system state directory)\n")
        let alerts = try Self.parklink(["alerts", "--json"], home: home, systemState: system)
        #expect(alerts.status == 0 && alerts.stdout.hasPrefix("["), "\(alerts.stderr)")
        #expect(alerts.stderr.contains("using \(system) (the system state directory)"))

        // Through the directory the installed config file names.
        let config = home + "/parklink.toml"
        try Data("[state]\ndirectory = \"\(system)\"\n".utf8).write(to: URL(fileURLWithPath: config))
        let viaConfig = try Self.parklink(["status", "--json"], home: home, systemState: home + "/none", config: config)
        #expect(viaConfig.status == 0, "\(viaConfig.stderr)")
        #expect(viaConfig.stderr.contains("using \(system) (named by \(config))"))

        // A daemon in the user's own default directory is used without a word.
        let own = try Self.parklink(["status", "--json"], home: home, systemState: home + "/none", extra: ["XDG_STATE_HOME": top])
        #expect(own.status == 0 && own.stderr.isEmpty, "\(own.stderr)")

        // --state-dir means that directory only; nowhere at all is "not running", naming each.
        let explicit = try Self.parklink(["status", "--state-dir", home], home: home, systemState: system)
        #expect(explicit.status == 1 && explicit.stderr.contains("no daemon answers at \(home)/parklink.sock)"), "\(explicit.stderr)")
        let nowhere = try Self.parklink(["status"], home: home, systemState: home + "/none")
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("no daemon answers at \(home)/.local/state/parklink/parklink.sock, nor at \(home)/none/parklink.sock"))

        if ThrowawayAccounts.available {
            // Someone who may not enter the directory is told so, and how to get in.
            let accounts = ThrowawayAccounts()
            defer { accounts.remove() }
            let outsider = try accounts.user("s")
            let denied = try accounts.run(as: outsider, "/usr/bin/env", [
                "\(DaemonSearch.systemStateDirectoryVariable)=\(system)", "\(DaemonSearch.systemConfigFileVariable)=/nonexistent",
                Repository.parklinkExecutable, "status",
            ])
            #expect(denied.status == 1)
            #expect(denied.output.contains("the daemon's socket \(system)/parklink.sock is not open to you"), "\(denied.output)")
            #expect(denied.output.contains("Fix: run the command as root (sudo)"))
        }

        run.signal(SIGTERM)
        #expect(run.wait(timeoutSeconds: 60) == 0)
    }

    /// `parklink arguments…` as a user whose home is `home`, with the system paths pointed
    /// at `systemState` (and `config`); stdout and stderr apart.
    static func parklink(_ arguments: [String], home: String, systemState: String, config: String = "/nonexistent/parklink.toml",
                         extra: [String: String] = [:]) throws -> (status: Int32?, stdout: String, stderr: String) {
        var environment = ProcessInfo.processInfo.environment
        for key in ["PARKLINK_STATE_DIR", "XDG_STATE_HOME", "INVOCATION_ID"] { environment[key] = nil }
        environment["HOME"] = home
        environment[DaemonSearch.systemStateDirectoryVariable] = systemState
        environment[DaemonSearch.systemConfigFileVariable] = config
        environment.merge(extra) { $1 }
        let errors = Repository.temporaryDirectory("plerr") + "/stderr"
        let p = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>\"$PL_STDERR\"", Repository.parklinkExecutable] + arguments,
                                 environment: environment.merging(["PL_STDERR": errors]) { $1 }.map { "\($0.key)=\($0.value)" })
        let status = p.wait(timeoutSeconds: 60)
        return (status, p.output, (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")
    }
}

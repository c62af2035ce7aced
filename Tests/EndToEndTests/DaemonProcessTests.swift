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

    // MARK: The database password, kept out of argv

    @Test("--db-password-file: a file others can read is refused with the reason and `chmod 600 PATH`, before anything starts")
    func passwordFileTooOpen() throws {
        let db = try Self.passwordUser("e2e_pwopen")
        let file = try Self.writePasswordFile(db.password, mode: 0o644)
        let check = try Self.parklink(["db", "status", "--db", db.dsn.description, "--db-password-file", file])
        #expect(check.status == 2, "\(check.output)")
        #expect(check.output.contains("database password file \(file): it has mode 0644, so other users can read or change it"))
        #expect(check.output.contains("Fix: `chmod 600 \(file)`"))
        #expect(!check.output.contains(db.password))
        // `run` refuses it the same way, before it opens the device or the database.
        let run = try Self.parklink(["run", "--device", "/dev/null", "--db", db.dsn.description, "--db-password-file", file,
                                     "--state-dir", Repository.temporaryDirectory("plpwopen")])
        #expect(run.status == 2, "\(run.output)")
        #expect(run.output.contains("Fix: `chmod 600 \(file)`"))
    }

    @Test("--db-password-file: a private file's password is used, and wins over PARKLINK_DB_PASSWORD and the DSN's own")
    func passwordFileUsed() throws {
        let db = try Self.passwordUser("e2e_pwok")
        let good = try Self.writePasswordFile(db.password, mode: 0o600)
        let wrong = try Self.writePasswordFile("Wrong-\(db.password)", mode: 0o400)
        let env = DSN.passwordEnvironmentVariable
        let plain = db.dsn.description
        // Connected as that user, with the password from the file; the DSN printed masked.
        let ok = try Self.parklink(["db", "status", "--db", plain, "--db-password-file", good])
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.output.hasPrefix("reachable: mysql://\(db.user):***@localhost/"))
        #expect(!ok.output.contains(db.password))
        // The file wins over the variable and over a password in the DSN; that one draws a
        // warning, as it sits in argv for every local user to read.
        let inArgv = plain.replacingOccurrences(of: "mysql://\(db.user)@", with: "mysql://\(db.user):Wrong-In-Argv@")
        let first = try Self.parklink(["db", "status", "--db", inArgv, "--db-password-file", good], environment: [env: "Wrong-In-Env"])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("warning: the --db DSN holds a password"))
        #expect(first.output.contains("--db-password-file PATH, mode 0600"))
        #expect(!first.output.contains("Wrong-In-Argv"))
        // A wrong file is not made up for by a right variable: the file is the password.
        let fileWins = try Self.parklink(["db", "status", "--db", plain, "--db-password-file", wrong], environment: [env: db.password])
        #expect(fileWins.status == 1)
        #expect(fileWins.output.contains("Access denied"))
        // Without a file the variable wins over the DSN's own.
        let envWins = try Self.parklink(["db", "status", "--db", inArgv], environment: [env: db.password])
        #expect(envWins.status == 0, "\(envWins.output)")
        let noWarning = try Self.parklink(["db", "status", "--db", plain], environment: [env: db.password])
        #expect(noWarning.status == 0)
        #expect(!noWarning.output.contains("warning"), "no password in argv, no warning")
        // A password file without a DSN is a mistake, not something to ignore.
        let noDSN = try Self.parklink(["run", "--device", "/dev/null", "--db-password-file", good,
                                       "--state-dir", Repository.temporaryDirectory("plpwnodsn")])
        #expect(noDSN.status == 2)
        #expect(noDSN.output.contains("a database password file (\(good)) but no DSN"))
    }

    // MARK: Least privilege on the status socket

    @Test("status socket: another user reads status but may not acknowledge; group parklink and root may",
          .enabled(if: ThrowawayAccounts.available, "needs root and useradd"))
    func statusSocketLeastPrivilege() throws {
        let accounts = ThrowawayAccounts()
        defer { accounts.remove() }
        // The state directory's group is the one whose members may connect.
        let shared = try accounts.group("s")
        let outsider = try accounts.user("o", groups: [shared.name])
        _ = try accounts.ensureGroup(named: StatusAccess.operatorGroup)
        let technician = try accounts.user("t", groups: [shared.name, StatusAccess.operatorGroup])
        let state = Repository.temporaryDirectory("plpriv")
        try #require(chown(state, 0, shared.gid) == 0 && chmod(state, 0o750) == 0)

        // The daemon as root, its database password from a private file (a user with one).
        let db = try Self.passwordUser("e2e_priv")
        let file = try Self.writePasswordFile(db.password, mode: 0o600)
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "2000", "--count", "2000", "--sensors", "50", "--seed", "5",
        ])
        let run = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", gateway.devicePath, "--framing", "binary", "--db", db.dsn.description,
            "--db-password-file", file, "--state-dir", state, "--log-level", "notice",
        ], standardError: .merge)
        let manifest = try gateway.finish()
        let socket = StateDirectory(path: state).statusSocket
        #expect(eventually(timeoutSeconds: 30) {
            (try? StatusClient.status(socket: socket))?.store.rows_committed == manifest.readings.count
        }, "every reading committed as \(db.user), with the password from the file")
        let mode = try FileSystem.status(socket)
        #expect(mode.permissions == 0o660 && mode.group == shared.gid, "0660, the state directory's group")

        let exe = Repository.parklinkExecutable
        // Reading is open to whoever can connect.
        let status = try accounts.run(as: outsider, exe, ["status", "--json", "--state-dir", state])
        #expect(status.status == 0, "\(status.output)")
        let snapshot = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
        #expect((snapshot?["store"] as? [String: Any])?["rows_committed"] as? Int == manifest.readings.count)
        let alerts = try accounts.run(as: outsider, exe, ["alerts", "--json", "--state-dir", state])
        #expect(alerts.status == 0, "\(alerts.output)")
        // A command is not.
        let refused = try accounts.run(as: outsider, exe, ["alerts", "ack", "--all", "--state-dir", state])
        #expect(refused.status == 1)
        #expect(refused.output.contains("ack changes the daemon, so it needs root, the daemon's own user (uid 0) or membership of group `parklink`"),
                "\(refused.output)")
        #expect(refused.output.contains("\(outsider.name) (uid \(outsider.uid)) is none of these"))
        #expect(refused.output.contains("Fix: add the user to the group: `usermod -aG parklink \(outsider.name)`"))
        // A member of group parklink may, and so may root.
        let member = try accounts.run(as: technician, exe, ["alerts", "ack", "--all", "--state-dir", state])
        #expect(member.status == 0, "\(member.output)")
        #expect(member.output.contains("\"ok\":true"))
        let root = try Self.parklink(["alerts", "ack", "--all", "--state-dir", state])
        #expect(root.status == 0, "\(root.output)")

        run.signal(SIGTERM)
        #expect(run.wait(timeoutSeconds: 60) == 0)
        // The log says who asked, refused or not (one line each: message, then key=value,
        // values with spaces quoted).
        let log = run.output.split(separator: "\n")
        let refusal = log.first { $0.contains("parklink: status command refused ") && $0.contains("status.peer_uid=\(outsider.uid) ") }
        #expect(refusal?.contains("status.peer_pid=") == true, "\(run.output)")
        #expect(refusal?.contains(#"status.command="ack all""#) == true)
        let granted = log.first { $0.contains("parklink: status command ") && $0.contains("status.peer_user=\(technician.name) ") }
        #expect(granted?.contains(#"status.granted="member of group parklink""#) == true, "\(run.output)")
        #expect(granted?.contains("status.peer_uid=\(technician.uid) ") == true)
        #expect(log.contains { $0.contains("parklink: status command ") && $0.contains("status.peer_uid=0 ") && $0.contains("status.granted=root") })
    }

    /// A new database and a MariaDB user with a password who owns it; the DSN has no password.
    static func passwordUser(_ label: String) throws -> (dsn: DSN, user: String, password: String) {
        let base = try TestDatabase.newDatabase(label)
        let admin = try MariaDBConnection(dsn: base)
        defer { admin.close() }
        let user = "plpw\(UInt32.random(in: 0...999_999))"
        let password = "Pw-\(UInt64.random(in: 0...UInt64.max))"
        _ = try admin.execute("CREATE USER '\(user)'@'localhost' IDENTIFIED BY '\(password)'")
        _ = try admin.execute("GRANT ALL ON `\(base.database!)`.* TO '\(user)'@'localhost'")
        var dsn = base
        dsn.user = user
        dsn.password = nil
        return (dsn, user, password)
    }

    static func writePasswordFile(_ password: String, mode: mode_t) throws -> String {
        let path = Repository.temporaryDirectory("plpwf") + "/db-password"
        try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try #require(chmod(path, mode) == 0)
        return path
    }

    /// `parklink arguments…` with stderr merged, without PARKLINK_DB_PASSWORD unless given.
    static func parklink(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32?, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment[DSN.passwordEnvironmentVariable] = nil
        environment.merge(extra) { $1 }
        let p = try ChildProcess(Repository.parklinkExecutable, arguments,
                                 environment: environment.map { "\($0.key)=\($0.value)" }, standardError: .merge)
        let status = p.wait(timeoutSeconds: 60)
        return (status, p.output)
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

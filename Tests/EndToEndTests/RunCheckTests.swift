import Foundation
@testable import ParkLinkDaemon
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// `parklink run --check`, run as a technician runs it: one line per check, each failure
/// with its fix, exit 0 or 1, nothing started, created or left open.
@Suite("End to end: parklink run --check", .serialized, .timeLimit(.minutes(5)))
struct RunCheckTests {
    @Test("all good: four ok lines and exit 0; relative paths are taken from the current directory; nothing is created")
    func allGood() throws {
        let dsn = try TestDatabase.newDatabase("check_ok")
        let pty = try PseudoTerminal()
        let cwd = Repository.temporaryDirectory("plchk")
        try FileManager.default.createSymbolicLink(atPath: cwd + "/gateway", withDestinationPath: pty.followerPath)
        let (status, lines) = try parklink(["run", "--check", "--device", "./gateway", "--db", dsn.description,
                                            "--state-dir", "st4"], in: cwd)
        #expect(status == 0, "\(lines)")
        #expect(lines.map { String($0.prefix(13)) } == ["ok   config  ", "ok   device  ", "ok   state   ", "ok   database"])
        #expect(lines.first == "ok   config   none: command-line options and defaults")
        #expect(lines.count > 1 && lines[1].hasPrefix("ok   device   \(cwd)/gateway (serial port"))
        #expect(lines.count > 2 && lines[2] == "ok   state    \(cwd)/st4 (missing: run creates it, mode 0750)")
        #expect(lines.count > 3 && lines[3].contains("schema at version 0 of \(Schema.currentVersion): run migrates it"))
        #expect(!FileManager.default.fileExists(atPath: cwd + "/st4"), "a check creates nothing")
        #expect(try query(dsn, "SHOW TABLES").isEmpty, "a check migrates nothing")
        #expect(SerialLockFile.holder(of: pty.followerPath) == nil, "and holds nothing")
        // Once migrated, the same check says the schema is current.
        let admin = try MariaDBConnection(dsn: dsn)
        _ = try Schema.migrate(admin)
        admin.close()
        let again = try parklink(["run", "--check", "--device", pty.followerPath, "--db", dsn.description, "--state-dir", "st4"], in: cwd)
        #expect(again.status == 0)
        #expect(again.lines.last?.contains("schema at version \(Schema.currentVersion), current") == true, "\(again.lines)")
    }

    @Test("a configuration mistake: the file (resolved), the line and the fix; the rest is skipped; exit 1")
    func configMistake() throws {
        let cwd = Repository.temporaryDirectory("plchk")
        try "[link]\ndevice = \"/dev/ttyACM0\"\nbaudrate = 9600\n".write(toFile: cwd + "/bad.toml", atomically: true, encoding: .utf8)
        let (status, lines) = try parklink(["run", "--check", "--config", "bad.toml"], in: cwd)
        #expect(status == 1)
        #expect(lines.first?.hasPrefix("FAIL config   \(cwd)/bad.toml:3: unknown key `baudrate` in [link]. Fix: did you mean `baud`?") == true,
                "\(lines)")
        #expect(lines.dropFirst().map { String($0.prefix(14)) } == ["skip device   ", "skip state    ", "skip database "])
    }

    @Test("paths in the config file are relative to the file's directory, wherever parklink is started from")
    func configRelativePaths() throws {
        let dsn = try TestDatabase.newDatabase("check_rel")
        let pty = try PseudoTerminal()
        let root = Repository.temporaryDirectory("plchk")
        try FileSystem.makeDirectory(root + "/etc")
        try FileSystem.makeDirectory(root + "/elsewhere")
        try FileManager.default.createSymbolicLink(atPath: root + "/gateway", withDestinationPath: pty.followerPath)
        try """
            [link]
            device = "../gateway"
            [database]
            dsn = "\(dsn.description)"
            [state]
            directory = "state"
            """.write(toFile: root + "/etc/parklink.toml", atomically: true, encoding: .utf8)
        let (status, lines) = try parklink(["run", "--check", "--config", "../etc/parklink.toml"], in: root + "/elsewhere")
        #expect(status == 0, "\(lines)")
        #expect(lines.first == "ok   config   \(root)/etc/parklink.toml")
        #expect(lines.count > 1 && lines[1].hasPrefix("ok   device   \(root)/gateway "))
        #expect(lines.count > 2 && lines[2].hasPrefix("ok   state    \(root)/etc/state "))
    }

    @Test("device problems each come with their fix")
    func deviceProblems() throws {
        let cwd = Repository.temporaryDirectory("plchk")
        try "not a device".write(toFile: cwd + "/file", atomically: true, encoding: .utf8)
        func deviceLine(_ device: String) throws -> String? {
            let (status, lines) = try parklink(["run", "--check", "--device", device, "--db", "mysql://nobody@127.0.0.1:1/x",
                                                "--state-dir", "st"], in: cwd)
            #expect(status == 1)
            return lines.first { $0.contains(" device ") }
        }
        #expect(try deviceLine("./missing") == "FAIL device   \(cwd)/missing: no such device. Fix: plug in the gateway and check the path "
            + "(ls /dev/ttyACM* /dev/ttyUSB* /dev/serial/by-id/); udev/99-parklink-gateway.rules names it /dev/parklink-gateway")
        #expect(try deviceLine("file")?.hasPrefix("FAIL device   \(cwd)/file: not a character device (it is a regular file). Fix: ") == true)
        #expect(try deviceLine("/dev/null")?.hasPrefix("FAIL device   /dev/null: a character device but not a serial port") == true)
        let (_, none) = try parklink(["run", "--check", "--state-dir", "st"], in: cwd)
        #expect(none.contains("FAIL device   none configured. Fix: give --device PATH (e.g. /dev/ttyACM0) or set `device` under [link] in the config file"))
    }

    @Test("permission denied says who owns the device and what to run", arguments: [
        // (device group may open it, this process in its group, /etc/group lists the user, expected fix)
        (true, false, false, "Fix: add the user to the dialout group (sudo usermod -aG dialout tech) and log in again"),
        (true, false, true, "tech is in dialout, but this login session started before that. Fix: log in again (or run it under `newgrp dialout`)"),
        (false, false, false, "Fix: install udev/99-parklink-gateway.rules (group dialout, mode 0660) and replug the gateway, then add the user"),
    ])
    func permissionAdvice(groupMayOpen: Bool, inProcessGroups: Bool, listed: Bool, fix: String) throws {
        var status = try FileSystem.status("/dev/null")
        status.owner = 0
        status.group = 20
        status.permissions = groupMayOpen ? 0o660 : 0o600
        let text = ApplianceCheck.permissionAdvice(
            status: status, user: "tech", userPrimaryGroup: 1000, processGroups: inProcessGroups ? [1000, 20] : [1000],
            groupName: "dialout", groupMembers: listed ? ["other", "tech"] : ["other"], ownerName: "root")
        #expect(text.hasPrefix("permission denied (owned by root:dialout, mode \(groupMayOpen ? "0660" : "0600"))"))
        #expect(text.contains(fix), "\(text)")
    }

    @Test("a user who may only SELECT is told which statement the server refuses and the GRANT that fixes it")
    func missingPrivileges() throws {
        let account = try CheckAccount(database: "check_priv", grants: "SELECT")
        defer { account.drop() }
        let (dsn, user, admin, reader) = (account.dsn, account.user, account.admin, account.account)
        let pty = try PseudoTerminal()
        let (status, lines) = try runCheck(as: account, on: pty)
        #expect(status == 1)
        let line = try #require(lines.last)
        #expect(line.hasPrefix("FAIL database \(reader.description): INSERT on readings refused (error 1142: "), "\(line)")
        #expect(line.hasSuffix("Fix: GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER, DROP ON `\(dsn.database!)`.* TO '\(user)'@'localhost'"))
        // The same user with the grant it names passes.
        _ = try admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER, DROP ON `\(dsn.database!)`.* TO '\(user)'@'localhost'")
        let fixed = try runCheck(as: account, on: pty)
        #expect(fixed.status == 0, "\(fixed.lines)")
    }

    @Test("a user without DELETE is told the storage upkeep's DELETE on a rollup table is refused")
    func missingDelete() throws {
        let account = try CheckAccount(database: "check_delete", grants: "SELECT, INSERT, UPDATE, CREATE, INDEX, ALTER, DROP")
        defer { account.drop() }
        let (status, lines) = try runCheck(as: account, on: try PseudoTerminal())
        #expect(status == 1)
        let line = try #require(lines.last)
        #expect(line.contains("DELETE on rollup_"), "\(line)")
        #expect(line.contains("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER, DROP"), "\(line)")
    }

    @Test("without a DSN it names the private server it would start, and starts nothing")
    func privateServerNamed() throws {
        let pty = try PseudoTerminal()
        let cwd = Repository.temporaryDirectory("plchk")
        let (status, lines) = try parklink(["run", "--check", "--device", pty.followerPath, "--state-dir", "st"], in: cwd)
        #expect(status == 0, "\(lines)")
        #expect(lines.last == "ok   database no DSN: run starts the private MariaDB in \(cwd)/st/mariadb (its first start installs it)")
        #expect(!FileManager.default.fileExists(atPath: cwd + "/st"))
    }

    @Test("one daemon per device: check and a second daemon both name the pid of the one holding it")
    func deviceHeldByDaemon() throws {
        let dsn = try TestDatabase.newDatabase("check_held")
        let pty = try PseudoTerminal()
        let first = Repository.temporaryDirectory("plheld")
        let daemon = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", pty.followerPath, "--db", dsn.description, "--state-dir", first, "--log-level", "warning",
        ])
        defer {
            daemon.signal(SIGTERM)
            _ = daemon.wait(timeoutSeconds: 60)
        }
        let up = eventually(timeoutSeconds: 30) {
            (try? StatusClient.status(socket: StateDirectory(path: first).statusSocket))?.link.connected == true
        }
        try #require(up)
        let lockFile = SerialLockFile.path(for: pty.followerPath, in: try #require(SerialLockFile.directory(.conventional)))
        let holder = "in use by pid \(daemon.pid) (parklink), per \(lockFile)"

        let (status, lines) = try parklink(["run", "--check", "--device", pty.followerPath, "--db", dsn.description,
                                            "--state-dir", Repository.temporaryDirectory("plchk")])
        #expect(status == 1)
        #expect(lines.contains { $0.hasPrefix("FAIL device   \(pty.followerPath): \(holder). Fix: stop that process first") }, "\(lines)")

        let second = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", pty.followerPath, "--db", dsn.description, "--state-dir", Repository.temporaryDirectory("plheld"),
        ], standardError: .merge)
        var refused = false
        while let line = second.readLine(timeoutSeconds: 30) {
            if line.contains("cannot open link") {
                refused = line.contains(holder)
                #expect(refused, "\(line)")
                break
            }
        }
        #expect(refused)
        second.signal(SIGTERM)
        #expect(second.wait(timeoutSeconds: 60) == 0)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeoutSeconds: 60) == 0)
        #expect(!FileManager.default.fileExists(atPath: lockFile), "the daemon removes its lock file when it stops")
    }

    @Test("run with a relative --state-dir runs the private server there, and sets the directory to 0750")
    func relativeStateDirectoryWithPrivateServer() throws {
        let pty = try PseudoTerminal()
        let cwd = Repository.temporaryDirectory("plrel")
        // Searchable by others (as a working directory usually is): the private server runs
        // as a service account when root starts it, and must reach st4.
        try FileSystem.setPermissions(cwd, 0o755)
        try FileSystem.makeDirectory(cwd + "/st4", mode: 0o777)
        try FileSystem.setPermissions(cwd + "/st4", 0o777)
        let server = PrivateMariaDBServer(stateDirectory: cwd + "/st4")
        defer {
            try? server.stop()
            try? FileManager.default.removeItem(atPath: cwd)  // a datadir: hundreds of MB
        }
        let daemon = try ChildProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", cwd, Repository.parklinkExecutable,
                                                  "run", "--device", pty.followerPath, "--state-dir", "st4"],
                                      standardError: .merge)
        let up = eventually(timeoutSeconds: 120) {
            daemon.poll() == nil
                && (try? StatusClient.status(socket: cwd + "/st4/parklink.sock"))?.link.connected == true
        }
        #expect(up, "\(daemon.output)")
        #expect(server.status().running)
        #expect(try FileSystem.status(cwd + "/st4").permissions == 0o750)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeoutSeconds: 60) == 0)
    }

    /// Runs the built `parklink` with `arguments`, in `directory` if given; its stdout
    /// (stderr merged) as lines.
    /// `parklink run --check` as the account's user, on `pty`.
    private func runCheck(as account: CheckAccount, on pty: PseudoTerminal) throws -> (status: Int32?, lines: [String]) {
        try parklink(["run", "--check", "--device", pty.followerPath, "--db", account.account.description,
                      "--state-dir", Repository.temporaryDirectory("plchk")])
    }

    private func parklink(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32?, lines: [String]) {
        let p: ChildProcess
        if let directory {
            p = try ChildProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory, Repository.parklinkExecutable] + arguments,
                                 standardError: .merge)
        } else {
            p = try ChildProcess(Repository.parklinkExecutable, arguments, standardError: .merge)
        }
        let status = p.wait(timeoutSeconds: 60)
        return (status, p.output.split(separator: "\n").map(String.init))
    }
}

/// A migrated database and a MariaDB user with only `grants` on it: what `run --check`
/// says to an appliance account that lacks a privilege.
private struct CheckAccount {
    let dsn: DSN
    let user = "chk_\(UInt32.random(in: 0...UInt32.max))"
    let admin: MariaDBConnection
    /// `dsn` as the user.
    var account: DSN

    init(database: String, grants: String) throws {
        dsn = try TestDatabase.newDatabase(database)
        admin = try MariaDBConnection(dsn: dsn)
        _ = try Schema.migrate(admin)
        _ = try admin.execute("CREATE USER '\(user)'@'localhost'")
        _ = try admin.execute("GRANT \(grants) ON `\(dsn.database!)`.* TO '\(user)'@'localhost'")
        account = dsn
        account.user = user
    }

    func drop() {
        _ = try? admin.execute("DROP USER '\(user)'@'localhost'")
        admin.close()
    }
}

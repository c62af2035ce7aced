import Foundation
import ParkLinkProtocol
import ParkLinkSystem
import Testing

@testable import ParkLinkStore

/// What the private server will not do for a statement, whoever sends it.
@Suite("Private server: hardening")
struct PrivateServerHardeningTests {
    @Test("server-side file access is confined to its own directory (--secure-file-priv)")
    func noFilesOutsideItsDirectory() throws {
        MariaDB.initializeLibrary()
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("securefile"))
        defer { c.close() }
        let target = NSTemporaryDirectory() + "plsecure-\(UInt32.random(in: 0...UInt32.max)).txt"
        let error = #expect(throws: MariaDBError.self) { _ = try c.execute("SELECT 1 INTO OUTFILE '\(target)'") }
        #expect(error?.code.rawValue == 1290, "ER_OPTION_PREVENTS_STATEMENT: \(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(try c.queryValue("SELECT LOAD_FILE('/etc/hostname')") == nil, "LOAD_FILE outside it reads nothing")
    }

    /// The uid a process runs as, from /proc (the real one, which `--user` also sets).
    func uid(of pid: Int32) throws -> uid_t {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Uid:") })
        return try #require(line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) })
    }

    @Test("it never runs as root: started by root it becomes a service account, and owns its files")
    func neverRoot() throws {
        MariaDB.initializeLibrary()
        let server = try PrivateMariaDBServer.temporary()
        defer { try? server.destroy() }
        try server.start()
        let pid = try #require(server.pid)
        let serverUID = try uid(of: pid)
        if Accounts.effectiveUserID == 0 {
            #expect(serverUID != 0, "mariadbd runs as uid \(serverUID)")
            let account = try #require(try Accounts.user(uid: serverUID))
            #expect(PrivateMariaDBServer.serviceAccountNames.contains(account.name))
            #expect(try FileSystem.status(server.dataDirectory).owner == serverUID, "the datadir is the server's")
        } else {
            #expect(serverUID == Accounts.effectiveUserID, "a non-root owner runs it as itself")
        }
        // This process still reaches it, by socket authentication.
        let c = try MariaDBConnection(dsn: server.dsn)
        c.close()
    }

    @Test("only root and its owner log in: any other name is refused at the socket, with no password to guess")
    func socketAuthenticationOnly() throws {
        MariaDB.initializeLibrary()
        let server = try PrivateMariaDBServer.temporary()
        defer { try? server.destroy() }
        let dsn = try server.start()
        #expect(dsn.password == nil)
        for name in ["mysql", "parklink", "someone"] where name != dsn.user {
            var other = dsn
            other.user = name
            let error = #expect(throws: MariaDBError.self, "\(name) must not log in") { _ = try MariaDBConnection(dsn: other) }
            #expect([1045, 1698].contains(error?.code.rawValue ?? 0), "access denied: \(String(describing: error))")
        }
        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        let accounts = try c.query("SELECT user, host, plugin FROM mysql.user ORDER BY user")
        #expect(accounts.allSatisfy { $0[1] == "localhost" }, "no TCP accounts: \(accounts)")
    }

    @Test("a state directory the service account cannot reach is refused with the directory and the fix",
          .enabled(if: Accounts.effectiveUserID == 0, "only root hands the server to another account"))
    func unreachableStateDirectory() throws {
        let outer = NSTemporaryDirectory() + "plclosed-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectory(outer + "/state", mode: 0o700)
        try FileSystem.setPermissions(outer, 0o700)
        defer { try? FileManager.default.removeItem(atPath: outer) }
        let server = PrivateMariaDBServer(stateDirectory: outer + "/state")
        let error = #expect(throws: PrivateMariaDBServerError.self) { try server.start() }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("cannot enter \(outer) "), "\(text)")
        #expect(text.contains("--state-dir"), "says what to do: \(text)")
        #expect(server.pid == nil)
    }
}

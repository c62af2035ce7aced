import Foundation
import ParkLinkProtocol
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

@testable import ParkLinkStore

@Suite("DSN parsing")
struct DSNTests {
    @Test func tcpWithEverything() throws {
        let dsn = try DSN.parse("mysql://parklink:s3cret@db.example.com:3307/parklink", environment: [:])
        #expect(dsn.user == "parklink")
        #expect(dsn.password == "s3cret")
        #expect(dsn.transport == .tcp(host: "db.example.com", port: 3307))
        #expect(dsn.database == "parklink")
    }

    @Test func defaultPortAndMariadbScheme() throws {
        let dsn = try DSN.parse("mariadb://u@10.0.0.5/db", environment: [:])
        #expect(dsn.transport == .tcp(host: "10.0.0.5", port: 3306))
        #expect(dsn.password == nil)
    }

    @Test func ipv6Host() throws {
        let dsn = try DSN.parse("mysql://u@[::1]:3310/db", environment: [:])
        #expect(dsn.transport == .tcp(host: "::1", port: 3310))
        #expect(dsn.description == "mysql://u@[::1]:3310/db")
    }

    @Test func percentDecoding() throws {
        let dsn = try DSN.parse("mysql://us%40er:p%40ss%3Aw%2Frd%25@h/my%2Ddb", environment: [:])
        #expect(dsn.user == "us@er")
        #expect(dsn.password == "p@ss:w/rd%")
        #expect(dsn.database == "my-db")
    }

    @Test func unencodedAtInPasswordSplitsAtTheLastAt() throws {
        let dsn = try DSN.parse("mysql://u:a@b@h/db", environment: [:])
        #expect(dsn.password == "a@b")
        #expect(dsn.transport == .tcp(host: "h", port: 3306))
    }

    @Test func unixSocket() throws {
        let dsn = try DSN.parse("mysql://root@localhost/parklink?socket=/var/lib/parklink/mariadb/mariadb.sock", environment: [:])
        #expect(dsn.transport == .unixSocket(path: "/var/lib/parklink/mariadb/mariadb.sock"))
        #expect(dsn.socketPath == "/var/lib/parklink/mariadb/mariadb.sock")
        #expect(dsn.description == "mysql://root@localhost/parklink?socket=/var/lib/parklink/mariadb/mariadb.sock")
        let encoded = try DSN.parse("mysql://root@/p?socket=%2Ftmp%2Fa%20b.sock", environment: [:])
        #expect(encoded.transport == .unixSocket(path: "/tmp/a b.sock"))
    }

    // MARK: Several hosts (a cluster)

    @Test("several hosts: every node in order, each with its port (3306 when none), one user, password and database")
    func severalHosts() throws {
        let dsn = try DSN.parse("mysql://parklink:pw@h1:3307,h2,[::1]:3308/city", environment: [:])
        #expect(dsn.isCluster)
        #expect(dsn.hosts == [.tcp(host: "h1", port: 3307), .tcp(host: "h2", port: 3306), .tcp(host: "::1", port: 3308)])
        #expect(dsn.transport == .tcp(host: "h1", port: 3307), "the first host stands for the DSN where one is needed")
        #expect(dsn.user == "parklink" && dsn.password == "pw" && dsn.database == "city")
        #expect(dsn.description == "mysql://parklink:***@h1:3307,h2:3306,[::1]:3308/city")
        #expect(try DSN.parse(dsn.description.replacingOccurrences(of: ":***", with: ""), environment: [:]).hosts == dsn.hosts,
                "the printed form parses back to the same nodes")
        #expect(dsn.hosts.map(\.description) == ["h1:3307", "h2:3306", "[::1]:3308"])
        #expect(try !DSN.parse("mysql://u@h1:3306/db", environment: [:]).isCluster)
    }

    @Test("several hosts: the password and the TLS options apply to every node")
    func severalHostsShareCredentialsAndTLS() throws {
        let dsn = try DSN.parse("mysql://u@10.0.0.1,10.0.0.2:3307/db?ssl=verify-full&ssl-ca=/etc/parklink/ca.pem",
                                environment: [DSN.passwordEnvironmentVariable: "from-env"])
        for host in dsn.hosts {
            let node = dsn.node(host)
            #expect(node.hosts == [host] && !node.isCluster)
            #expect(node.password == "from-env")
            #expect(node.tls == DSN.TLS(mode: .verifyFull, caFile: "/etc/parklink/ca.pem"))
            #expect(node.user == "u" && node.database == "db")
        }
        #expect(dsn.description == "mysql://u:***@10.0.0.1:3306,10.0.0.2:3307/db?ssl=verify-full&ssl-ca=/etc/parklink/ca.pem")
    }

    @Test(arguments: [
        ("mysql://u@h1,,h2/db", DSNError.missingHost),
        ("mysql://u@h1,/db", .missingHost),
        ("mysql://u@,h2/db", .missingHost),
        ("mysql://u@h1,h2:0/db", .invalidPort("0")),
        ("mysql://u@h1,h2:x/db", .invalidPort("x")),
        ("mysql://u@h1,h1:3306/db", .duplicateHost("h1:3306")),
        ("mysql://u@h1:3307,h2,h1:3307/db", .duplicateHost("h1:3307")),
        ("mysql://u@localhost,h2/db?socket=/run/mysqld/mysqld.sock", .socketWithSeveralHosts),
    ])
    func rejectsBadHostLists(_ input: String, _ expected: DSNError) {
        #expect(throws: expected) { try DSN.parse(input, environment: [:]) }
        #expect(!expected.description.isEmpty)
    }

    @Test func passwordFromEnvironment() throws {
        let env = [DSN.passwordEnvironmentVariable: "from-env"]
        #expect(try DSN.parse("mysql://u@h/db", environment: env).password == "from-env")
        // The variable wins over the URL's own password; an empty variable counts as unset.
        #expect(try DSN.parse("mysql://u:from-url@h/db", environment: env).password == "from-env")
        #expect(try DSN.parse("mysql://u:from-url@h/db", environment: [DSN.passwordEnvironmentVariable: ""]).password == "from-url")
        #expect(try DSN.parse("mysql://u@h/db", environment: [DSN.passwordEnvironmentVariable: ""]).password == nil)
    }

    // MARK: Password files

    @Test("precedence: the password file, then PARKLINK_DB_PASSWORD, then the URL")
    func passwordPrecedence() throws {
        let file = try Self.passwordFile("from-file\n")
        let env = [DSN.passwordEnvironmentVariable: "from-env"]
        #expect(try DSN.resolve("mysql://u:from-url@h/db", passwordFile: file, environment: env).password == "from-file")
        #expect(try DSN.resolve("mysql://u:from-url@h/db", passwordFile: nil, environment: env).password == "from-env")
        #expect(try DSN.resolve("mysql://u:from-url@h/db", passwordFile: nil, environment: [:]).password == "from-url")
        #expect(try DSN.resolve("mysql://u@h/db", passwordFile: nil, environment: [:]).password == nil)
        #expect(try DSN.resolve("mysql://u@h/db", passwordFile: file, environment: [:]).description == "mysql://u:***@h:3306/db")
    }

    @Test("the password is the file's first line, without its line ending")
    func passwordFileFirstLine() throws {
        for (text, expected) in [("s3cret", "s3cret"), ("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"),
                                 ("s3cret\nsecond line\n", "s3cret"), (" spaced out \n", " spaced out "),
                                 ("pässwörd:@/%\n", "pässwörd:@/%")] {
            #expect(try PasswordFile.read(try Self.passwordFile(text)) == expected, "\(text.debugDescription)")
        }
        for mode: mode_t in [0o600, 0o400] {
            #expect(try PasswordFile.read(try Self.passwordFile("pw\n", mode: mode)) == "pw", "mode \(String(mode, radix: 8)) is private")
        }
    }

    @Test("a file others may read is refused with the reason and `chmod 600 PATH`", arguments: [0o644, 0o640, 0o604, 0o620, 0o660])
    func passwordFileReadableByOthers(mode: Int) throws {
        let path = try Self.passwordFile("Hunter2Secret\n", mode: mode_t(mode))
        let refusal = #expect(throws: PasswordFile.Refusal.self) { try PasswordFile.read(path) }
        #expect(refusal?.reason.contains("mode 0\(String(mode, radix: 8))") == true, "\(String(describing: refusal))")
        #expect(refusal?.fix == "`chmod 600 \(path)`")
        #expect(refusal?.description.hasPrefix("database password file \(path): it has mode 0\(String(mode, radix: 8))") == true)
        #expect(refusal?.description.contains("Hunter2Secret") == false, "the refusal never shows the password")
        // Through DSN.resolve as well: a refused file is never silently skipped for the next source.
        #expect(throws: PasswordFile.Refusal.self) {
            try DSN.resolve("mysql://u:from-url@h/db", passwordFile: path, environment: [DSN.passwordEnvironmentVariable: "e"])
        }
    }

    @Test("a file owned by another user (not root) is refused: it could be changed behind the appliance's back")
    func passwordFileOwnedByAnother() throws {
        let path = try Self.passwordFile("pw\n")
        var reader = Accounts.effectiveUserID
        if reader == 0 {
            // Root reads a file that uid 4321 owns.
            try #require(chown(path, 4_321, 4_321) == 0)
        } else {
            // The file is ours; uid 4321 would be reading another's.
            reader = 4_321
        }
        let owner = try FileDescriptor.open(path, flags: O_RDONLY).status().owner
        let refusal = #expect(throws: PasswordFile.Refusal.self) { try PasswordFile.read(path, user: reader) }
        #expect(refusal?.reason.contains("owned by uid \(owner), not by uid \(reader)") == true, "\(String(describing: refusal))")
        #expect(refusal?.fix.contains("chown \(reader) \(path)") == true)
        if Accounts.effectiveUserID == 0 {
            // A file of root's is accepted for any user: root could change anything anyway.
            let rootOwned = try Self.passwordFile("pw\n")
            #expect(try PasswordFile.read(rootOwned, user: 4_321) == "pw")
        }
    }

    @Test("missing, empty, a directory, a FIFO: each refused with the reason and a fix, never waiting")
    func passwordFileNotUsable() throws {
        let dir = Repository.temporaryDirectory("plpw")
        let cases: [(String, String)] = [
            (dir + "/missing", "no such file"),
            (try Self.passwordFile(""), "first line is empty"),
            (try Self.passwordFile("\nsecond\n"), "first line is empty"),
            (dir, "a directory, not a regular file"),
            (try Self.fifo(), "a FIFO, not a regular file"),
            (try Self.passwordFile(String(repeating: "x", count: 5_000)), "longer than 4096 bytes"),
        ]
        for (path, reason) in cases {
            let refusal = #expect(throws: PasswordFile.Refusal.self) { try PasswordFile.read(path) }
            #expect(refusal?.reason.contains(reason) == true, "\(path): \(String(describing: refusal))")
            #expect(refusal?.fix.isEmpty == false)
        }
    }

    @Test("a DSN with a password in it is recognised (for the command line's warning)")
    func carriesPassword() {
        #expect(DSN.carriesPassword("mysql://u:pw@h/db"))
        #expect(DSN.carriesPassword("mysql://u:@h/db"), "even an empty one")
        #expect(DSN.carriesPassword("mysql://u:p%40w@localhost/db?socket=/x.sock"))
        #expect(!DSN.carriesPassword("mysql://u@h/db"))
        #expect(!DSN.carriesPassword("mysql://u@localhost/db?socket=/x:y.sock"))
    }

    /// A new file holding `text`, with `mode` (owner: the current user).
    static func passwordFile(_ text: String, mode: mode_t = 0o600) throws -> String {
        let path = Repository.temporaryDirectory("plpw") + "/password"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        guard chmod(path, mode) == 0 else { throw CocoaError(.fileWriteNoPermission) }
        return path
    }

    static func fifo() throws -> String {
        let path = Repository.temporaryDirectory("plpw") + "/fifo"
        guard mkfifo(path, 0o600) == 0 else { throw CocoaError(.fileWriteUnknown) }
        return path
    }

    @Test func descriptionMasksPassword() throws {
        let dsn = try DSN.parse("mysql://u:Sup3rS3cret@h:3306/db", environment: [:])
        #expect(dsn.description == "mysql://u:***@h:3306/db")
        #expect(!"\(dsn)".contains("Sup3rS3cret"))
        #expect(!String(reflecting: dsn).contains("Sup3rS3cret"))
        var dumped = ""
        dump(dsn, to: &dumped)
        #expect(!dumped.contains("Sup3rS3cret"))
        let fromEnv = try DSN.parse("mysql://u@h/db", environment: [DSN.passwordEnvironmentVariable: "EnvS3cret"])
        #expect(!"\(fromEnv)".contains("EnvS3cret"))
        #expect("\(fromEnv)".contains("***"))
    }

    @Test(arguments: [
        ("localhost:3306", DSNError.notAURL("localhost:3306")),
        ("postgres://u@h/db", .unsupportedScheme("postgres")),
        ("mysql://h/db", .missingUser),
        ("mysql://:pw@h/db", .missingUser),
        ("mysql://u@/db", .missingHost),
        ("mysql://u@h:99999/db", .invalidPort("99999")),
        ("mysql://u@h:0/db", .invalidPort("0")),
        ("mysql://u@h:abc/db", .invalidPort("abc")),
        ("mysql://u@h", .missingDatabase),
        ("mysql://u@h/", .missingDatabase),
        ("mysql://u@h/a/b", .invalidDatabase("a/b")),
        ("mysql://u:%zz@h/db", .invalidPercentEncoding(component: "password")),
        ("mysql://u@h/db?sock=/x", .unknownOption("sock")),
        ("mysql://u@localhost/db?socket=relative.sock", .invalidSocket("relative.sock")),
        ("mysql://u@db.example.com/db?socket=/x.sock", .socketNeedsLocalhost(host: "db.example.com")),
        ("mysql://u@[::1/db", .invalidHost("[::1")),
    ])
    func rejects(_ input: String, _ expected: DSNError) {
        #expect(throws: expected) { try DSN.parse(input, environment: [:]) }
    }

    @Test func errorsNeverShowThePassword() {
        for input in ["mysql://u:TopS3cret@h:99999/db", "mysql://u:TopS3cret@h/", "TopS3cret@h", "mysql://u:TopS3cret@h/db?x=1"] {
            do {
                _ = try DSN.parse(input, environment: [:])
                Issue.record("\(input) parsed")
            } catch {
                #expect(!error.description.contains("TopS3cret"), "\(error)")
            }
        }
    }

    @Test func errorMessagesNameTheProblem() {
        #expect(DSNError.invalidPort("99999").description.contains("99999"))
        #expect(DSNError.missingDatabase.description.contains("database"))
        #expect(DSNError.unknownOption("sock").description.contains("sock"))
    }
}

@Suite("CivilTime")
struct CivilTimeTests {
    @Test func matchesFoundationOverAWideRange() {
        var generator = SystemRandomNumberGenerator()
        let bounds: [Int64] = [0, -1, 1, 951_868_799_999, 951_868_800_000, 2_147_483_648_001, 253_402_300_799_999, -62_135_596_800_000]
        let randoms = (0..<2000).map { _ in Int64.random(in: -2_000_000_000_000...7_000_000_000_000, using: &generator) }
        for ms in bounds + randoms {
            var w = [UInt8](repeating: 0, count: 32)
            let text = w.withUnsafeMutableBufferPointer { p -> String in
                var writer = ByteWriter(base: p.baseAddress!)
                writer.dateTime(millisecondsSinceEpoch: ms)
                return String(decoding: UnsafeBufferPointer(start: p.baseAddress, count: writer.count), as: UTF8.self)
            }
            if ms >= -12_212_553_600_000 {  // Foundation switches to the Julian calendar before 1583
                #expect(text == utcText(ms), "ms \(ms)")
            }
            #expect(CivilTime(millisecondsSinceEpoch: ms).millisecondsSinceEpoch == ms)
        }
    }

    @Test func decimalDigits() {
        for v: UInt32 in [0, 1, 9, 10, 99, 100, 65535, 4_294_967_295] {
            var w = [UInt8](repeating: 0, count: 16)
            let text = w.withUnsafeMutableBufferPointer { p -> String in
                var writer = ByteWriter(base: p.baseAddress!)
                writer.decimal(v)
                return String(decoding: UnsafeBufferPointer(start: p.baseAddress, count: writer.count), as: UTF8.self)
            }
            #expect(text == String(v))
        }
    }
}

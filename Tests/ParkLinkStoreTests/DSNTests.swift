import Foundation
import ParkLinkProtocol
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

    @Test func passwordFromEnvironment() throws {
        let env = [DSN.passwordEnvironmentVariable: "from-env"]
        #expect(try DSN.parse("mysql://u@h/db", environment: env).password == "from-env")
        // The URL's own password wins; an empty variable counts as unset.
        #expect(try DSN.parse("mysql://u:from-url@h/db", environment: env).password == "from-url")
        #expect(try DSN.parse("mysql://u@h/db", environment: [DSN.passwordEnvironmentVariable: ""]).password == nil)
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

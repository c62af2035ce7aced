import Foundation
import ParkLinkProtocol
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

@testable import ParkLinkStore

/// TLS to the database, against a private server started with a certificate the test
/// makes itself (openssl): each mode does what its name promises, and a certificate that
/// does not fit is refused, never silently accepted.
@Suite("TLS to the database", .serialized, .timeLimit(.minutes(3)))
struct TLSTests {
    /// A CA and a server certificate for 127.0.0.1 signed by it, plus a second CA that
    /// signed nothing here, and a certificate for another host name.
    struct Certificates {
        var directory: String
        var ca: String { directory + "/ca.pem" }
        var otherCA: String { directory + "/other-ca.pem" }
        var serverCert: String { directory + "/server.pem" }
        var serverKey: String { directory + "/server.key" }
        var wrongHostCert: String { directory + "/wrong-host.pem" }
        var wrongHostKey: String { directory + "/wrong-host.key" }
    }

    static func openssl(_ arguments: [String], in directory: String) throws {
        // Every file argument is relative to `directory`.
        let files: Set<String> = ["-keyout", "-out", "-in", "-CA", "-CAkey", "-extfile"]
        var absolute = arguments
        for i in absolute.indices.dropFirst() where files.contains(absolute[i - 1]) { absolute[i] = directory + "/" + absolute[i] }
        let child = try ChildProcess("openssl", absolute, standardError: .merge)
        let status = child.wait(timeoutSeconds: 60)
        guard status == 0 else {
            throw TestFailure("openssl \(arguments.joined(separator: " ")) failed (\(String(describing: status))): \(child.output)")
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func makeCertificates() throws -> Certificates {
        let dir = Repository.temporaryDirectory("pltls")
        let c = Certificates(directory: dir)
        for (name, subject) in [("ca", "/CN=ParkLink test CA"), ("other-ca", "/CN=Someone else's CA")] {
            try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject,
                         "-keyout", "\(name).key", "-out", "\(name).pem"], in: dir)
        }
        for (name, san) in [("server", "IP:127.0.0.1"), ("wrong-host", "DNS:db.elsewhere.example")] {
            try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout", "\(name).key",
                         "-out", "\(name).csr"], in: dir)
            try "subjectAltName=\(san)\n".write(toFile: dir + "/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                         "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).pem"], in: dir)
        }
        // The private server never runs as root: like any server's, its certificate and
        // key must be readable by the account it runs as (a test CA: readable by all).
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/" + name)
        }
        return c
    }

    /// A private server on a loopback port with the given certificate, and a TCP user.
    static func server(cert: String, key: String, ca: String) throws -> (PrivateMariaDBServer, UInt16) {
        var options = PrivateMariaDBServer.Options(port: 0, stopWhenProcessExits: getpid(), removeStateDirectoryWithOwner: true)
        options.extraServerArguments = ["--ssl-cert=\(cert)", "--ssl-key=\(key)", "--ssl-ca=\(ca)"]
        let server = try PrivateMariaDBServer.temporary(options: options)
        let socketDSN = try server.start()
        let admin = try MariaDBConnection(dsn: socketDSN)
        defer { admin.close() }
        _ = try admin.execute("CREATE USER IF NOT EXISTS 'tls'@'127.0.0.1' IDENTIFIED BY 'tls-pw'")
        _ = try admin.execute("GRANT ALL ON *.* TO 'tls'@'127.0.0.1'")
        return (server, try #require(server.port))
    }

    func cipher(_ dsn: DSN) throws -> String? {
        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(5))
        defer { c.close() }
        return try c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'").first?[1]
    }

    func dsn(_ port: UInt16, _ query: String) throws -> DSN {
        try DSN.parse("mysql://tls:tls-pw@127.0.0.1:\(port)/mysql" + query, environment: [:])
    }

    @Test("required encrypts; verify-ca and verify-full check the certificate; a wrong CA or host is refused")
    func modes() throws {
        MariaDB.initializeLibrary()
        let certs = try Self.makeCertificates()
        let (server, port) = try Self.server(cert: certs.serverCert, key: certs.serverKey, ca: certs.ca)
        defer { try? server.destroy() }

        #expect(try cipher(dsn(port, "")) ?? "" == "", "without ssl the session is not encrypted")
        #expect(!(try cipher(dsn(port, "?ssl=required")) ?? "").isEmpty)
        #expect(!(try cipher(dsn(port, "?ssl=verify-ca&ssl-ca=\(certs.ca)")) ?? "").isEmpty)
        #expect(!(try cipher(dsn(port, "?ssl=verify-full&ssl-ca=\(certs.ca)")) ?? "").isEmpty)
        #expect(throws: MariaDBError.self, "a certificate signed by another CA") {
            _ = try cipher(dsn(port, "?ssl=verify-ca&ssl-ca=\(certs.otherCA)"))
        }
    }

    @Test("verify-full refuses a certificate for another host; verify-ca accepts it")
    func hostName() throws {
        MariaDB.initializeLibrary()
        let certs = try Self.makeCertificates()
        let (server, port) = try Self.server(cert: certs.wrongHostCert, key: certs.wrongHostKey, ca: certs.ca)
        defer { try? server.destroy() }
        #expect(!(try cipher(dsn(port, "?ssl=verify-ca&ssl-ca=\(certs.ca)")) ?? "").isEmpty)
        #expect(throws: MariaDBError.self, "the certificate names db.elsewhere.example, not 127.0.0.1") {
            _ = try cipher(dsn(port, "?ssl=verify-full&ssl-ca=\(certs.ca)"))
        }
    }

    @Test("a server without TLS: ssl=required fails instead of falling back to clear text")
    func noFallback() throws {
        MariaDB.initializeLibrary()
        var options = PrivateMariaDBServer.Options(port: 0, stopWhenProcessExits: getpid(), removeStateDirectoryWithOwner: true)
        options.extraServerArguments = ["--skip-ssl"]
        let server = try PrivateMariaDBServer.temporary(options: options)
        defer { try? server.destroy() }
        let admin = try MariaDBConnection(dsn: try server.start())
        _ = try admin.execute("CREATE USER IF NOT EXISTS 'tls'@'127.0.0.1' IDENTIFIED BY 'tls-pw'")
        admin.close()
        let port = try #require(server.port)
        #expect(throws: MariaDBError.self) { _ = try cipher(dsn(port, "?ssl=required")) }
    }

    @Test("the DSN's TLS options: parsed, checked, and shown in its description")
    func dsnOptions() throws {
        let d = try DSN.parse("mysql://u@h/db?ssl=verify-full&ssl-ca=/etc/ssl/ca.pem", environment: [:])
        #expect(d.tls == DSN.TLS(mode: .verifyFull, caFile: "/etc/ssl/ca.pem"))
        #expect(d.description == "mysql://u@h:3306/db?ssl=verify-full&ssl-ca=/etc/ssl/ca.pem")
        #expect(try DSN.parse("mysql://u@h/db?ssl=required", environment: [:]).tls?.mode == .required)
        #expect(throws: DSNError.invalidTLSMode("yes")) { _ = try DSN.parse("mysql://u@h/db?ssl=yes", environment: [:]) }
        #expect(throws: DSNError.tlsNeedsCA("verify-ca")) { _ = try DSN.parse("mysql://u@h/db?ssl=verify-ca", environment: [:]) }
        #expect(throws: DSNError.invalidCAFile("ca.pem")) {
            _ = try DSN.parse("mysql://u@h/db?ssl=verify-ca&ssl-ca=ca.pem", environment: [:])
        }
        #expect(throws: DSNError.caFileWithoutTLS) { _ = try DSN.parse("mysql://u@h/db?ssl-ca=/ca.pem", environment: [:]) }
    }
}

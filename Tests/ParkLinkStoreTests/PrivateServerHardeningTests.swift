import Foundation
import ParkLinkProtocol
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
}

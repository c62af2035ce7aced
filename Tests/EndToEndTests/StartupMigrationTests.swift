import Foundation
@testable import ParkLinkDaemon
import ParkLinkStore
import ParkLinkTestSupport
import Testing

/// The daemon reads its resume points before the reader starts, and a migration's DDL may
/// run long: those reads must not migrate, so the gateway is read while the writer's
/// connection migrates (the ring and the spool take the readings).
@Suite("Start-up: resume points before the reader")
struct StartupMigrationTests {
    @Test("reading the resume points migrates nothing: a new database is left without a table")
    func resumePointsDoNotMigrate() throws {
        let dsn = try TestDatabase.newDatabase("resume_nomig")
        #expect(Pipeline.resumePoints(dsn: dsn).isEmpty)
        #expect(try query(dsn, "SHOW TABLES").isEmpty, "the writer's connection migrates, after the reader has started")
    }
}

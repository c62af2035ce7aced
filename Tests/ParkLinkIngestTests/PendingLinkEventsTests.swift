import Foundation
import ParkLinkProtocol
import ParkLinkSystem
import Testing

@testable import ParkLinkIngest

/// The link events a stop with the database down keeps beside the spool come back exactly,
/// and a damaged file costs the damaged lines only.
@Suite("Spool: link events kept across a stop")
final class PendingLinkEventsTests {
    let key = SessionKey(gatewayId: "GW-7_a", bootId: 0xDEADBEEF)
    var events: [LinkEvent] {
        [
            .session(key, hello: Hello(gatewayId: key.gatewayId, bootId: key.bootId,
                                       firmware: FirmwareVersion(major: 1, minor: 20, patch: 255), sensorCount: 500),
                     atMs: 1_764_000_000_123),
            .session(SessionKey(gatewayId: "FALLBACK", bootId: 0), hello: nil, atMs: 7),
            .gap(key, firstMissing: 4_294_967_290, count: 6, atMs: 1_764_000_000_500, reason: .link),
            .gap(key, firstMissing: 0, count: 1, atMs: 0, reason: .applianceRestart),
        ]
    }

    /// The directories this test made, removed when it ends.
    private var made: [String] = []

    deinit {
        for path in made { try? FileManager.default.removeItem(atPath: path) }
    }

    func path(_ label: String) -> String {
        let dir = NSTemporaryDirectory() + "plevents-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileSystem.makeDirectory(dir)
        made.append(dir)
        return dir + "/link-events"
    }

    @Test("every kind of event round-trips, in order")
    func roundTrip() throws {
        let file = PendingLinkEvents(path: path("trip"))
        try file.save(events)
        #expect(file.load() == PendingLinkEvents.Contents(events: events, unreadableLines: 0))
        #expect(!FileManager.default.fileExists(atPath: file.path + ".tmp"), "no temporary file left behind")
    }

    @Test("saving nothing removes the file; a missing file holds nothing")
    func emptyRemoves() throws {
        let file = PendingLinkEvents(path: path("empty"))
        try file.save(events)
        try file.save([])
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(file.load() == PendingLinkEvents.Contents())
    }

    @Test("a damaged line is counted and skipped; the others are kept")
    func damagedLine() throws {
        let file = PendingLinkEvents(path: path("damaged"))
        try file.save(events)
        var text = try String(contentsOfFile: file.path, encoding: .utf8)
        text += "gap\tGW\tzz\t1\t2\t3\tlink\nsession\tGW\t1\t5\t1.2\t3\ngap\tGW\t1\t1\t2\t3\tcosmic_rays\n"
        try text.write(toFile: file.path, atomically: true, encoding: .utf8)
        let contents = file.load()
        #expect(contents.events == events)
        #expect(contents.unreadableLines == 3)
    }
}

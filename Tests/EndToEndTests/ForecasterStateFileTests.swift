import Foundation
import Logging
import ParkLinkAnalytics
import Testing

@testable import ParkLinkSampler

/// The forecaster's state file: it survives a restart, and a file that does not fit never
/// stops the sampler (it is set aside and the model starts afresh).
@Suite("Forecaster state file")
struct ForecasterStateFileTests {
    let logger = Logger(label: "forecaster-file") { _ in SwiftLogNoOpLogHandler() }

    func path() -> String { NSTemporaryDirectory() + "plforecaster-\(UInt32.random(in: 0...UInt32.max)).json" }

    @Test("what is saved loads back, with its format version")
    func roundTrip() throws {
        let p = path()
        var model = FacilityForecaster(capacities: ["A": 100, "B": 50])
        model.observe(["A": 40, "B": 10], at: 1_700_000_000)
        #expect(ForecasterStateFile.save(model, to: p))
        let text = try String(contentsOfFile: p, encoding: .utf8)
        #expect(text.contains("\"format\":2"))
        let loaded = try #require(ForecasterStateFile.load(p, logger: logger))
        #expect(Set(loaded.zoneNames) == ["A", "B"])
    }

    @Test("a file from before the format version still loads")
    func legacyFile() throws {
        let p = path()
        let model = FacilityForecaster(capacities: ["A": 100])
        try JSONEncoder().encode(model).write(to: URL(fileURLWithPath: p))
        #expect(ForecasterStateFile.load(p, logger: logger)?.zoneNames == ["A"])
    }

    @Test("a file that does not fit is set aside, not a crash", arguments: ["", "{", "{\"format\":99,\"model\":{}}", "\u{0}\u{1}garbage"])
    func unreadableFileSetAside(content: String) throws {
        let p = path()
        try Data(content.utf8).write(to: URL(fileURLWithPath: p))
        #expect(ForecasterStateFile.load(p, logger: logger) == nil)
        #expect(!FileManager.default.fileExists(atPath: p), "moved out of the way")
        let dir = (p as NSString).deletingLastPathComponent, name = (p as NSString).lastPathComponent
        let aside = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(name + ".unreadable-") }
        #expect(aside.count == 1, "kept for the operator to look at")
    }
}

import Foundation
import Logging
import ParkLinkAnalytics

/// The forecaster's learned state across restarts: `STATE/forecaster.json`, with a format
/// version, written aside and renamed so a crash never leaves half a file.
///
/// A file that does not fit this version (another format, a truncated or edited file) is
/// moved aside with a warning and the model starts fresh: a bad file must never become a
/// crash loop, and the operator keeps it to look at.
enum ForecasterStateFile {
    /// 2: the model with level interactions, error scales and interval calibration; a
    /// format-1 file is set aside and the model learns afresh (about a week to be good).
    static let format = 2

    private struct Envelope: Codable {
        var format: Int
        var model: FacilityForecaster
    }

    static func load(_ path: String, logger: Logger) -> FacilityForecaster? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        if let e = try? decoder.decode(Envelope.self, from: data), e.format == format { return e.model }
        // Written before the format version existed: a model that fits, unwrapped.
        if let legacy = try? decoder.decode(FacilityForecaster.self, from: data) { return legacy }
        let aside = path + ".unreadable-\(Int(Date().timeIntervalSince1970))"
        let moved = rename(path, aside) == 0
        logger.warning("forecaster state does not fit this version: starting the model afresh", metadata: [
            "sampler.file": "\(path)", "sampler.set_aside": "\(moved ? aside : "no (rename failed)")",
            "sampler.expected_format": "\(format)",
        ])
        if !moved { unlink(path) }
        return nil
    }

    /// Returns false (with errno set) when the file could not be written.
    static func save(_ model: FacilityForecaster, to path: String) -> Bool {
        guard let data = try? JSONEncoder().encode(Envelope(format: format, model: model)) else { return false }
        let tmp = path + ".tmp"
        return FileManager.default.createFile(atPath: tmp, contents: data) && rename(tmp, path) == 0
    }
}

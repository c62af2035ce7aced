import Foundation
import ParkLinkSystem

/// The clean-shutdown marker, `STATE/running`: written (and made durable) with the
/// daemon's pid when the pipeline starts, removed once it has stopped cleanly.
///
/// Found at start, it says the last run ended without stopping: SIGKILL, a power cut, a
/// crash. Whatever that run had received and not yet committed or spooled (its ring, its
/// writer's batch) died with it; the pipeline then records that stretch of each session
/// it resumes as an `appliance_restart` gap rather than a link gap, because nothing was
/// wrong with the link. A file rather than a lock or the status socket because it must
/// outlive the process that wrote it: that is the whole point.
public struct RunMarker: Sendable {
    /// What the marker an earlier run left says.
    public struct Previous: Sendable, Equatable {
        /// The pid that run had (nil: the file could not be read or parsed).
        public var pid: Int32?
        public var startedAt: String?
        /// Readings that run gave up at shutdown (the database stayed down and there was
        /// no spool): it stopped, but not cleanly; nil when it was killed.
        public var abandoned: Int?
    }

    public let path: String

    public init(state: StateDirectory) {
        path = state.runningMarker
    }

    /// The marker the previous run left, or nil when it stopped cleanly (or never ran).
    public func previous() -> Previous? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var p = Previous()
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "pid": p.pid = Int32(parts[1])
            case "started_at": p.startedAt = parts[1]
            case "abandoned": p.abandoned = Int(parts[1])
            default: break
            }
        }
        return p
    }

    /// Marks this run as running. Durable before the first reading is accepted, so a power
    /// cut at any later moment finds it.
    public func write(pid: Int32, startedAt: String, abandoned: Int? = nil) throws {
        var text = "pid=\(pid)\nstarted_at=\(startedAt)\n"
        if let abandoned { text += "abandoned=\(abandoned)\n" }
        let fd = try FileDescriptor.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o640)
        defer { fd.close() }
        try fd.writeAll(Array(text.utf8))
        try fd.syncData()
        FileSystem.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// This run stopped cleanly: the next start has nothing to account for.
    public func remove() {
        try? FileSystem.remove(path)
        FileSystem.syncDirectory((path as NSString).deletingLastPathComponent)
    }
}

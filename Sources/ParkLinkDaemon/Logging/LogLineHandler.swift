import Foundation
import Logging
import ParkLinkSystem

/// The executable's swift-log backend: every event is one line on stderr, in the text or
/// JSON form of `LogLineFormat`, with the syslog priority in front when stderr is the
/// systemd journal. The executable bootstraps it once; libraries only take a `Logger`.
public struct LogLineHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let label: String
    private let format: LogLineFormat
    private let sink: @Sendable (String) -> Void

    /// - Parameter sink: receives each line without its newline (tests keep them;
    ///   `standardError` writes them).
    public init(label: String, format: LogLineFormat, metadataProvider: Logger.MetadataProvider? = nil,
                sink: @escaping @Sendable (String) -> Void = LogLineHandler.standardError) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        sink(format.line(level: event.level, label: label, message: "\(event.message)", metadata: all,
                         source: event.source, date: Date()))
    }

    // MARK: stderr

    /// Writes the line and its newline to stderr in one `write`, under a lock, so lines
    /// from different threads never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array((line + "\n").utf8)
        stderrLock.withLock { _ in try? stderrDescriptor.writeAll(bytes) }
    }

    private static let stderrLock = Locked(())
    /// Never deinitialised (a static), so descriptor 2 is never closed by it.
    private static let stderrDescriptor = FileDescriptor(adopting: 2, label: "stderr")

    /// Whether stderr is the journal: systemd sets `JOURNAL_STREAM` to the device and
    /// inode of the stream it connected, and a child whose stderr was redirected inherits
    /// the variable but not the stream, so the two are compared (as sd_journal_stream_fd's
    /// documentation asks).
    public static func stderrIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
              let status = try? FileSystem.status("/proc/self/fd/2") else { return false }
        return UInt64(status.device) == device && UInt64(status.inode) == inode
    }
}

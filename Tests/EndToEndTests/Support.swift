import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// The suites that start a Galera cluster run where `galera-4` is installed, and say why not elsewhere.
    static var galeraAvailable: Self {
        .enabled(if: GaleraCluster.unavailableReason == nil,
                 Comment(rawValue: "Galera cluster tests skipped: \(GaleraCluster.unavailableReason ?? "")"))
    }
}

/// Rows of `readings` in the manifest's shape, ordered by key, for row-by-row comparison.
func storedReadings(_ dsn: DSN) throws -> [IndependentGateway.Manifest.Reading] {
    let c = try MariaDBConnection(dsn: dsn)
    defer { c.close() }
    let rows = try c.query("""
        SELECT gateway_id, boot_id, seq, sensor_id, gateway_ms, occupied, distance_cm, voltage_dv,
               current_ma, power_factor_pct
        FROM readings ORDER BY gateway_id, boot_id, seq
        """)
    return rows.map { r in
        IndependentGateway.Manifest.Reading(
            gateway_id: r[0]!, boot_id: UInt32(r[1]!)!, seq: UInt32(r[2]!)!, sensor: UInt16(r[3]!)!,
            t_ms: UInt32(r[4]!)!, occupied: r[5]! == "1", distance_cm: r[6].flatMap { UInt16($0) },
            voltage_dv: r[7].flatMap { UInt16($0) }, current_ma: r[8].flatMap { UInt16($0) },
            power_factor_pct: r[9].flatMap { UInt8($0) })
    }
}

func query(_ dsn: DSN, _ sql: String) throws -> [[String?]] {
    let c = try MariaDBConnection(dsn: dsn)
    defer { c.close() }
    return try c.query(sql)
}

extension IndependentGateway.Manifest.Reading {
    var sortKey: String { "\(gateway_id)/\(String(format: "%010u", boot_id))/\(String(format: "%010u", seq))" }
}

/// Waits until `condition` holds, polling; false on time-out.
func eventually(timeoutSeconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

/// A pipeline in this process, on a fresh state directory, writing to `dsn`.
/// With `stateDirectory`, that directory (a restart test runs two pipelines on one).
func makePipeline(device: String, framing: FrameEncoding, dsn: DSN, logger custom: Logger? = nil,
                  stateDirectory: String? = nil, configure: (inout ApplianceConfig) -> Void = { _ in }) throws -> Pipeline {
    MariaDB.initializeLibrary()
    var c = ApplianceConfig()
    c.device = device
    c.framing = framing
    c.batchLingerMs = 5
    configure(&c)
    let state = StateDirectory(path: stateDirectory ?? Repository.temporaryDirectory("ple2e"))
    var logger = custom ?? Logger(label: "e2e")
    if custom == nil { logger.logLevel = .warning }
    return try Pipeline.overMariaDB(
        options: .init(config: c, device: device, state: state, databaseLabel: dsn.description),
        dsn: dsn, logger: logger)
}

/// Keeps every log record, so a test can say what the operator would read.
final class CapturedLog: @unchecked Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
        /// The line as a log file would show it.
        var line: String { "\(level) \(metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) \(message)" }
    }

    private let records = Locked<[Record]>([])

    var all: [Record] { records.withLock { $0 } }

    func logger(label: String = "captured") -> Logger {
        var logger = Logger(label: label) { _ in Handler(log: self) }
        logger.logLevel = .info
        return logger
    }

    fileprivate func append(_ r: Record) { records.withLock { $0.append(r) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { $1 }
            log.append(Record(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}

/// A private server of the test's own (one it may kill), and the DSN of a fresh database
/// `label` on it; `destroy()` stops it for good.
func privateServer(_ label: String) throws -> (PrivateMariaDBServer, DSN) {
    MariaDB.initializeLibrary()
    let server = try PrivateMariaDBServer.temporary()
    let base = try server.start()
    let admin = try MariaDBConnection(dsn: base.withDatabase(nil))
    defer { admin.close() }
    _ = try admin.execute("CREATE DATABASE IF NOT EXISTS `\(label)`")
    return (server, base.withDatabase(label))
}

import Foundation
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore

/// What the alert requests of the status socket need: list open alerts (from the sampler's
/// book), list all (from the database, history included), acknowledge one or all. Typed
/// results only; the daemon's status protocol puts them on the wire.
public final class AlertDesk: Sendable {
    let sampler: Sampler
    let dsn: DSN

    public init(sampler: Sampler, dsn: DSN) {
        self.sampler = sampler
        self.dsn = dsn
    }

    /// One alert as `parklink alerts --json` prints it.
    public struct Row: Codable, Sendable, Equatable {
        public var id: UInt64
        public var type: String
        public var severity: String
        public var subject: String
        @ExplicitNull public var sensor: UInt16?
        @ExplicitNull public var gateway_id: String?
        public var message: String
        public var created_at: String
        public var acknowledged: Bool
        @ExplicitNull public var acknowledged_at: String?
        @ExplicitNull public var resolved_at: String?
    }

    /// The result of acknowledging one alert by id.
    public enum Acknowledgement: Sendable, Equatable {
        case acknowledged
        /// Acknowledged before: nothing changes, the first time stands.
        case alreadyAcknowledged
        /// No open alert has this id (unknown, or resolved already).
        case notOpen
    }

    /// The open alerts, newest first (from the sampler's book: no database round trip).
    public func openAlerts() -> [Row] {
        sampler.activeAlerts().map(Self.row)
    }

    /// The last 500 alerts, open or not, from the database (a short-lived connection of
    /// the calling thread's own).
    public func history() throws -> [Row] {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        let c = try Connections.open(dsn, profile: .interactive)
        defer { c.close() }
        return try AlertRepository(connection: c, appliance: sampler.config.applianceId).recent(limit: 500).map(Self.row)
    }

    public func acknowledge(id: UInt64) -> Acknowledgement {
        switch sampler.acknowledge(id: id) {
        case .acknowledged: .acknowledged
        case .alreadyAcknowledged: .alreadyAcknowledged
        case .notActive: .notOpen
        }
    }

    /// Acknowledges every open alert; returns how many were not acknowledged before.
    public func acknowledgeAll() -> Int {
        sampler.acknowledgeAll()
    }

    /// One alert as `parklink alerts --json` (and a notification) shows it.
    public static func row(_ a: Alert) -> Row { row(AlertRecord(a)) }

    public static func row(_ r: AlertRecord) -> Row {
        Row(id: r.id, type: r.type, severity: r.severity, subject: r.subject, sensor: r.sensorId, gateway_id: r.gatewayId,
            message: r.message, created_at: Timestamps.iso(ms: r.createdAtMs) ?? "", acknowledged: r.acknowledgedAtMs != nil,
            acknowledged_at: r.acknowledgedAtMs.flatMap(Timestamps.iso), resolved_at: r.resolvedAtMs.flatMap(Timestamps.iso))
    }
}

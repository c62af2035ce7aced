import Foundation
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore

/// The alert commands of the status socket: list open alerts (from the sampler's book),
/// list all (from the database, history included), acknowledge one or all.
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
        public var sensor: UInt16?
        public var gateway_id: String?
        public var message: String
        public var created_at: String
        public var acknowledged: Bool
        public var acknowledged_at: String?
        public var resolved_at: String?
    }

    public func handle(_ words: [String]) -> String {
        switch (words.first, words.dropFirst().first) {
        case ("alerts", nil):
            return encode(sampler.activeAlerts().map(Self.row))
        case ("alerts", "all"):
            do {
                return encode(try history())
            } catch {
                return "{\"error\":\(quote("cannot read alert history from the database: \(error)"))}\n"
            }
        case ("ack", "all"):
            return "{\"ok\":true,\"acknowledged\":\(sampler.acknowledgeAll())}\n"
        case ("ack", let id?):
            guard let id = UInt64(id) else { return "{\"error\":\"usage: ack ID|all\"}\n" }
            switch sampler.acknowledge(id: id) {
            case .acknowledged: return "{\"ok\":true,\"acknowledged\":1}\n"
            case .alreadyAcknowledged: return "{\"ok\":true,\"acknowledged\":0,\"note\":\"already acknowledged\"}\n"
            case .notActive: return "{\"error\":\(quote("no open alert has id \(id) (it may be resolved already)"))}\n"
            }
        default:
            return "{\"error\":\"usage: alerts [all] | ack ID|all\"}\n"
        }
    }

    static func row(_ a: Alert) -> Row { row(AlertRecord(a)) }

    /// The last 500 alerts, open or not, from the database (a short-lived connection of
    /// the status thread's own).
    private func history() throws -> [Row] {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        let c = try Connections.open(dsn, profile: .interactive)
        defer { c.close() }
        return try AlertRepository(connection: c, appliance: sampler.config.applianceId).recent(limit: 500).map(Self.row)
    }

    static func row(_ r: AlertRecord) -> Row {
        Row(id: r.id, type: r.type, severity: r.severity, subject: r.subject, sensor: r.sensorId, gateway_id: r.gatewayId,
            message: r.message, created_at: Timestamps.iso(ms: r.createdAtMs) ?? "", acknowledged: r.acknowledgedAtMs != nil,
            acknowledged_at: r.acknowledgedAtMs.flatMap(Timestamps.iso), resolved_at: r.resolvedAtMs.flatMap(Timestamps.iso))
    }

    private func encode(_ rows: [Row]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(rows)) ?? Data("[]".utf8), as: UTF8.self) + "\n"
    }

    private func quote(_ s: String) -> String {
        String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}

import Foundation
import ParkLinkAnalytics
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

    func handle(_ words: [String]) -> String {
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

    static func row(_ a: Alert) -> Row {
        var sensor: UInt16?, gateway: String?
        if case .sensor(let g, let s) = a.subject {
            sensor = s
            gateway = g
        }
        return Row(id: a.id, type: a.type.rawValue, severity: a.severity.rawValue, subject: a.subject.description,
                   sensor: sensor, gateway_id: gateway, message: a.message, created_at: Timestamps.iso(ms: a.openedAtMs) ?? "",
                   acknowledged: a.acknowledgedAtMs != nil, acknowledged_at: a.acknowledgedAtMs.flatMap(Timestamps.iso),
                   resolved_at: a.resolvedAtMs.flatMap(Timestamps.iso))
    }

    /// The last 500 alerts, open or not, from the database (a short-lived connection of
    /// the status thread's own).
    private func history() throws -> [Row] {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(3), readTimeout: .seconds(10), writeTimeout: .seconds(10))
        defer { c.close() }
        func iso(_ s: String?) -> String? { s.flatMap { Double($0) }.flatMap { Timestamps.iso(ms: Int64($0)) } }
        return try c.query("""
            SELECT id, type, severity, subject, sensor_id, gateway_id, message,
                   ROUND(UNIX_TIMESTAMP(created_at) * 1000), ROUND(UNIX_TIMESTAMP(acknowledged_at) * 1000),
                   ROUND(UNIX_TIMESTAMP(resolved_at) * 1000)
            FROM alerts WHERE appliance = \(try c.quoted(sampler.config.applianceId)) ORDER BY id DESC LIMIT 500
            """).map { r in
            Row(id: UInt64(r[0] ?? "0") ?? 0, type: r[1] ?? "", severity: r[2] ?? "", subject: r[3] ?? "",
                sensor: r[4].flatMap { UInt16($0) }, gateway_id: r[5], message: r[6] ?? "",
                created_at: iso(r[7]) ?? "", acknowledged: r[8] != nil, acknowledged_at: iso(r[8]), resolved_at: iso(r[9]))
        }
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

import Foundation
import ParkLinkProtocol
import Testing

@testable import ParkLinkStore

/// The `overrides` table (migration 4) and the history `watch --since` replays, against a
/// real MariaDB.
@Suite("Overrides and watch history")
struct OverrideRepositoryTests {
    let t0: Int64 = 1_760_000_000_000

    func override(_ sensor: UInt16, _ state: String, at: Int64, expires: Int64? = nil, gateway: String = "GW-01") -> OverrideRecord {
        OverrideRecord(gatewayId: gateway, sensorId: sensor, zoneId: "A", state: state, reason: "coned off", setByUid: 1000,
                       setByUser: "alice", setByPid: 4242, setAtMs: at, expiresAtMs: expires)
    }

    @Test("the table is the published contract")
    func columns() throws {
        let c = try TestServer.migratedConnection("ovr_cols")
        defer { c.close() }
        let columns = try c.query("""
            SELECT COLUMN_NAME FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'overrides' AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION
            """).compactMap { $0[0] }
        #expect(columns == ["id", "appliance", "gateway_id", "sensor_id", "zone_id", "state", "reason", "set_by_uid", "set_by_user",
                            "set_by_pid", "set_at", "expires_at", "ended_at", "end_reason", "ended_by_uid", "ended_by_user"])
    }

    @Test("set, replace, set back: each recorded with who, when and why; one active override per bay")
    func lifecycle() throws {
        let c = try TestServer.migratedConnection("ovr_life")
        defer { c.close() }
        let repo = OverrideRepository(connection: c, appliance: "host:/state")
        let (first, none) = try repo.set(override(12, "occupied", at: t0, expires: t0 + 3_600_000))
        #expect(none == nil && first.id > 0)
        let (second, replaced) = try repo.set(override(12, "free", at: t0 + 1_000))
        #expect(replaced?.id == first.id && replaced?.endReason == "replaced" && replaced?.endedAtMs == t0 + 1_000)
        #expect(try repo.active().map(\.id) == [second.id])
        // Another appliance's bay 12 is its own.
        _ = try OverrideRepository(connection: c, appliance: "other:/state").set(override(12, "free", at: t0))
        #expect(try repo.active().count == 1)
        let ended = try repo.endActive(gateway: "GW-01", sensor: 12, atMs: t0 + 2_000, reason: "auto", byUid: 0, byUser: "root")
        #expect(ended?.id == second.id)
        #expect(try repo.active().isEmpty)
        #expect(try repo.endActive(gateway: "GW-01", sensor: 12, atMs: t0 + 3_000, reason: "auto", byUid: 0, byUser: "root") == nil)
        let rows = try c.query("""
            SELECT id, state, set_by_uid, set_by_user, set_by_pid, reason, ROUND(UNIX_TIMESTAMP(set_at) * 1000),
                   ROUND(UNIX_TIMESTAMP(expires_at) * 1000), end_reason, ended_by_user
            FROM overrides WHERE appliance = 'host:/state' ORDER BY id
            """)
        #expect(rows.map { $0.map { $0 ?? "NULL" } } == [
            ["\(first.id)", "occupied", "1000", "alice", "4242", "coned off", "\(t0)", "\(t0 + 3_600_000)", "replaced", "alice"],
            ["\(second.id)", "free", "1000", "alice", "4242", "coned off", "\(t0 + 1_000)", "NULL", "auto", "root"],
        ])
        // The database itself refuses a second active override of one bay.
        #expect(throws: MariaDBError.self) {
            try c.execute("""
                INSERT INTO overrides (appliance, gateway_id, sensor_id, state, set_by_uid, set_by_pid, set_at)
                VALUES ('host:/state', 'GW-01', 7, 'free', 0, 1, NOW(3)), ('host:/state', 'GW-01', 7, 'occupied', 0, 1, NOW(3))
                """)
        }
    }

    @Test("an expiry ends the override once; a second end changes nothing")
    func expiry() throws {
        let c = try TestServer.migratedConnection("ovr_exp")
        defer { c.close() }
        let repo = OverrideRepository(connection: c, appliance: "a")
        let (o, _) = try repo.set(override(3, "occupied", at: t0, expires: t0 + 5_000))
        try repo.end(id: o.id, atMs: t0 + 5_000, reason: "expired")
        try repo.end(id: o.id, atMs: t0 + 9_000, reason: "auto", byUid: 0)
        let row = try c.query("SELECT end_reason, ROUND(UNIX_TIMESTAMP(ended_at) * 1000), ended_by_uid FROM overrides")[0]
        #expect(row == ["expired", "\(t0 + 5_000)", nil])
    }

    @Test("history merges bay changes, alerts and overrides in time order, page after page, filtered by zone")
    func history() throws {
        let c = try TestServer.migratedConnection("ovr_hist")
        defer { c.close() }
        // 25 bay changes (zone A, then B alternately) at 1 s steps, two of them at one instant.
        for i in 0..<25 {
            let at = t0 + Int64(i) * 1_000 - (i == 10 ? 1_000 : 0)
            try c.execute("""
                INSERT INTO occupancy_events (gateway_id, boot_id, seq, sensor_id, zone_id, event, at)
                VALUES ('GW-01', 1, \(i), \(i % 5), '\(i % 2 == 0 ? "A" : "B")', '\(i % 3 == 0 ? "arrival" : "departure")', '\(Timestamps.sql(ms: at))')
                """)
        }
        try AlertRepository(connection: c, appliance: "a").write([
            .opened(AlertRecord(id: 1, type: "ZONE_FULL", severity: "info", subject: "zone:A", gatewayId: nil, sensorId: nil,
                                message: "zone full", createdAtMs: t0 + 4_500)),
            .resolved(id: 1, atMs: t0 + 7_500),
        ])
        let repo = OverrideRepository(connection: c, appliance: "a")
        let (o, _) = try repo.set(override(2, "occupied", at: t0 + 12_500))
        try repo.end(id: o.id, atMs: t0 + 30_000, reason: "expired")
        let h = try WatchHistory(connection: c, appliance: "a", sinceMs: t0, untilMs: t0 + 60_000, zone: nil, pageSize: 4)
        var items: [WatchHistory.Item] = []
        while let item = try h.next() { items.append(item) }
        #expect(items.count == 25 + 2 + 2)
        #expect(items.map(\.atMs) == items.map(\.atMs).sorted(), "in time order across pages and tables")
        #expect(Set(items.compactMap { if case .bay(let e) = $0 { e.seq } else { nil } }).count == 25, "each bay change once")
        #expect(items.contains(.alertRaised(AlertRecord(id: 1, type: "ZONE_FULL", severity: "info", subject: "zone:A", gatewayId: nil,
                                                        sensorId: nil, message: "zone full", createdAtMs: t0 + 4_500, resolvedAtMs: t0 + 7_500))))
        #expect(items.last.map { if case .overrideEnded(let r) = $0 { r.endReason == "expired" } else { false } } == true)
        // Zone B: its 12 bay changes; overrides of zone A left out; alerts (no zone here) all kept.
        let b = try WatchHistory(connection: c, appliance: "a", sinceMs: t0, untilMs: t0 + 60_000, zone: "B", pageSize: 5)
        var inB: [WatchHistory.Item] = []
        while let item = try b.next() { inB.append(item) }
        #expect(inB.filter { if case .bay = $0 { true } else { false } }.count == 12)
        #expect(!inB.contains { if case .overrideSet = $0 { true } else { false } })
        // A window: only what happened inside it.
        let late = try WatchHistory(connection: c, appliance: "a", sinceMs: t0 + 20_000, untilMs: t0 + 22_000, zone: nil)
        var few: [WatchHistory.Item] = []
        while let item = try late.next() { few.append(item) }
        #expect(few.count == 3)
    }
}

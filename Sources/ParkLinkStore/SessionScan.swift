/// The (gateway_id, boot_id) sessions a readings table holds and each one's highest seq,
/// found by walking the primary key one session at a time: two index lookups a session,
/// however many rows it has.
///
/// `SELECT gateway_id, boot_id, MAX(seq) … GROUP BY gateway_id, boot_id` can do the same
/// by a loose index scan, but only when the optimizer's statistics say so: with stale
/// statistics after a bulk load it chose a full scan of the index (1.8 million rows
/// here; 3.9 billion for 90 days of 500 sensors at 1 reading/s). This never scans.
struct SessionScan {
    struct Session: Hashable {
        var gatewayId: String
        var bootId: UInt32
    }

    let connection: MariaDBConnection
    let table: String

    /// Every session with its highest seq, in key order.
    func maxima() throws -> [(session: Session, top: UInt64)] {
        let c = connection
        var out: [(session: Session, top: UInt64)] = []
        var after: Session?
        while true {
            let from = try after.map { s in
                let g = try c.quoted(s.gatewayId)
                return "WHERE gateway_id > \(g) OR (gateway_id = \(g) AND boot_id > \(s.bootId))"
            } ?? ""
            guard let row = try c.query("SELECT gateway_id, boot_id FROM \(table) \(from) ORDER BY gateway_id, boot_id LIMIT 1").first,
                  let g = row[0], let b = row[1].flatMap({ UInt32($0) }) else { return out }
            let session = Session(gatewayId: g, bootId: b)
            let top = try c.queryValue("SELECT MAX(seq) FROM \(table) WHERE gateway_id = \(try c.quoted(g)) AND boot_id = \(b)")
            if let top = top.flatMap({ UInt64($0) }) { out.append((session, top)) }
            after = session
        }
    }
}

import ParkLinkDaemon
import ParkLinkSimulator
import ParkLinkStore

/// Checks the database against what the simulated gateway did, reading by reading: the
/// proof of "zero loss" rests on rows in `readings`, not on anybody's counters.
///
/// For each boot in the ledger, the stored seqs must be exactly those that could arrive
/// (given a seq, sent intact, not thrown away inside the gateway), each once, and no row
/// may name a boot the gateway never had. Every emitted reading then falls in exactly
/// one bucket: stored, or lost for a named reason.
struct StressVerifier {
    let dsn: DSN
    let gatewayId: String
    /// Seqs fetched per query (keyset pagination on the primary key).
    var pageSize = 500_000

    struct Result: Sendable {
        /// Every reading the sensors produced: given a seq (sent intact, corrupted, skipped
        /// on the wire or thrown away in the gateway) plus `tx_dropped` (produced, but the
        /// gateway's transmit buffer had no room, or the link was down, so it never got a seq).
        var emitted = 0
        /// Rows of this run's gateway that match a reading sent intact.
        var stored = 0
        var gatewayTxDropped = 0
        /// Corrupted on purpose (bad CRC) and, rightly, not stored.
        var badCRC = 0
        /// Skipped on the wire (`injectGap`) and so never sent.
        var linkGap = 0
        /// Given a seq but thrown away inside the gateway (its queue at an unplug or at
        /// the end, when the host had not read it within the drain time-out).
        var gatewayDiscarded = 0
        /// Sent intact and not in the database: a real loss.
        var other = 0
        /// The first few `other` losses, as "BOOT/seq".
        var missingExamples: [String] = []
        /// Rows that must not exist: a seq never sent intact, or beyond the last seq.
        var unexpectedRows = 0
        /// Rows of this gateway under a boot id the gateway never had.
        var unknownBootRows = 0
        /// COUNT(*) − COUNT(DISTINCT seq), summed over boots (the primary key makes it 0).
        var duplicateRows = 0
        var boots = 0
        /// Readings the host had to store (`EmissionLedger.mustArrive`).
        var mustArrive = 0

        var lost: Int { emitted - stored }
        var lostSum: Int { gatewayTxDropped + badCRC + linkGap + gatewayDiscarded + other }
    }

    func verify(_ ledger: EmissionLedger) throws -> Result {
        let c = try Connections.open(dsn, profile: .tool)
        defer { c.close() }
        var r = Result()
        r.boots = ledger.boots.count
        r.mustArrive = ledger.mustArrive
        r.gatewayTxDropped = Int(ledger.txDropped)

        // Per-boot row counts, for unknown boots and duplicates.
        let history = ReadingHistory(connection: c)
        let known = Set(ledger.boots.filter { $0.gatewayId == gatewayId }.map(\.bootId))
        for (boot, n, distinct) in try history.bootCounts(gatewayId: gatewayId) {
            r.duplicateRows += n - distinct
            if !known.contains(boot) { r.unknownBootRows += n }
        }

        for boot in ledger.boots {
            r.emitted += Int(boot.nextSeq) + Int(boot.txDropped)
            let stored = try storedSeqs(history, boot: boot.bootId, nextSeq: boot.nextSeq, unexpected: &r.unexpectedRows)
            classify(boot, stored: stored, into: &r)
        }
        return r
    }

    /// A bit per seq `0..<nextSeq`; rows at or past `nextSeq` are counted as unexpected.
    private func storedSeqs(_ history: ReadingHistory, boot: UInt32, nextSeq: UInt32, unexpected: inout Int) throws -> [UInt64] {
        var bits = [UInt64](repeating: 0, count: (Int(nextSeq) + 63) / 64)
        try history.forEachSeq(gatewayId: gatewayId, bootId: boot, pageSize: pageSize) { seq in
            if seq >= UInt64(nextSeq) { unexpected += 1 } else { bits[Int(seq >> 6)] |= 1 << (seq & 63) }
        }
        return bits
    }

    private func classify(_ boot: EmissionLedger.Boot, stored bits: [UInt64], into r: inout Result) {
        let corrupted = Set(boot.corrupted), skipped = Set(boot.skipped)
        let discarded = Set(boot.lost), uncertain = Set(boot.uncertain)
        let anyExcluded = !corrupted.isEmpty || !skipped.isEmpty || !discarded.isEmpty
        for seq in 0..<boot.nextSeq {
            let isStored = bits[Int(seq >> 6)] & (1 << UInt64(seq & 63)) != 0
            if isStored {
                // Stored although it never left the gateway intact: a phantom row.
                if anyExcluded && (corrupted.contains(seq) || skipped.contains(seq) || discarded.contains(seq)) {
                    r.unexpectedRows += 1
                } else {
                    r.stored += 1
                }
            } else if corrupted.contains(seq) {
                r.badCRC += 1
            } else if skipped.contains(seq) {
                r.linkGap += 1
            } else if discarded.contains(seq) || uncertain.contains(seq) {
                r.gatewayDiscarded += 1
            } else {
                r.other += 1
                if r.missingExamples.count < 10 { r.missingExamples.append("\(Self.hex8(boot.bootId))/\(seq)") }
            }
        }
    }

    static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}

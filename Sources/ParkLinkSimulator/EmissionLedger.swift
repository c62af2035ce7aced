import ParkLinkProtocol

/// What the simulated gateway sent, per boot, so a harness can check the database
/// against it: every seq the gateway gave out is accounted for exactly once, as sent
/// intact, corrupted, skipped (an injected gap), lost or uncertain.
///
/// A reading the host must store is one of `0..<nextSeq` that is in none of `skipped`,
/// `corrupted`, `lost` and `uncertain` (`mustArrive`); an `uncertain` one may be stored
/// at most once; no other reading may be stored at all.
public struct EmissionLedger: Sendable {
    public struct Boot: Sendable {
        public let gatewayId: String
        public let bootId: UInt32
        /// Whether the boot began with a `HELLO` (an unannounced reboot sends none until
        /// the host PINGs).
        public let announced: Bool
        /// Seqs `0..<nextSeq` were given out.
        public internal(set) var nextSeq: UInt32 = 0
        /// Given out but never sent: frames "lost on the wire" by `injectGap`.
        public internal(set) var skipped: [UInt32] = []
        /// Sent with a wrong CRC: the host must reject them as `bad_crc`.
        public internal(set) var corrupted: [UInt32] = []
        /// Given a seq but discarded inside the simulator before a byte of them left it:
        /// the transmit buffer's content at a reboot (RAM is wiped), at an unplug, or at
        /// `stop` when the host did not read it within the drain time-out.
        public internal(set) var lost: [UInt32] = []
        /// Written to a pty that was then hung up (`unplug`, `close`) before the host was
        /// seen to read everything: each may or may not have arrived. Empty whenever the
        /// host kept up.
        public internal(set) var uncertain: [UInt32] = []
        /// Readings dropped before they got a seq (transmit buffer full, unplugged, no
        /// host): the gateway's `tx_dropped`, which its `HB` reports.
        public internal(set) var txDropped: UInt64 = 0
        /// With `recordReadings`: every reading written intact, in seq order, including
        /// the `lost` and `uncertain` ones (filter with `mustArrive`).
        public internal(set) var readings: [Reading] = []

        /// Everything that was given a seq and not skipped: frames intact or corrupted.
        public var emitted: Int { Int(nextSeq) - skipped.count }
        /// Frames sent with a good CRC.
        public var intact: Int { emitted - corrupted.count }

        /// Whether the host must store `seq` of this boot exactly once.
        public func mustArrive(_ seq: UInt32) -> Bool {
            seq < nextSeq && !skipped.contains(seq) && !corrupted.contains(seq)
                && !lost.contains(seq) && !uncertain.contains(seq)
        }

        /// The readings the host must store, with `recordReadings`.
        public var readingsThatMustArrive: [Reading] {
            let excluded = Set(corrupted).union(lost).union(uncertain)
            return readings.filter { !excluded.contains($0.seq) }
        }
    }

    /// In boot order; the last is the current one.
    public internal(set) var boots: [Boot] = []
    /// Noise bursts written between frames (`garbageFraction`) and their bytes,
    /// terminating `0x00` included in binary. In binary each burst is one
    /// `bad_framing` reject at the host; in text, its bytes are the decoder's noise.
    public internal(set) var garbageBursts = 0
    public internal(set) var garbageBytes = 0
    public internal(set) var hellosSent = 0
    public internal(set) var heartbeatsSent = 0
    /// HELLO or HB frames that found the transmit buffer full even with its reserve.
    public internal(set) var controlFramesDropped = 0

    public init() {}

    /// Everything that was given a seq, over all boots: intact and corrupted frames.
    public var emitted: Int { boots.reduce(0) { $0 + $1.emitted } }
    public var txDropped: UInt64 { boots.reduce(0) { $0 + $1.txDropped } }
    public var corrupted: Int { boots.reduce(0) { $0 + $1.corrupted.count } }
    public var skipped: Int { boots.reduce(0) { $0 + $1.skipped.count } }
    public var lost: Int { boots.reduce(0) { $0 + $1.lost.count } }
    public var uncertain: Int { boots.reduce(0) { $0 + $1.uncertain.count } }
    /// Readings the host must store exactly once.
    public var mustArrive: Int { boots.reduce(0) { $0 + $1.intact - $1.lost.count - $1.uncertain.count } }

    /// The boot `(gatewayId, bootId)`, if the simulator had it.
    public func boot(_ gatewayId: String, _ bootId: UInt32) -> Boot? {
        boots.first { $0.gatewayId == gatewayId && $0.bootId == bootId }
    }
}

/// One tick's worth of changes to the current boot, built by the simulator thread
/// without a lock and merged under it once per tick.
struct LedgerDelta {
    var nextSeq: UInt32 = 0
    var txDropped: UInt64 = 0
    var skipped: [UInt32] = []
    var corrupted: [UInt32] = []
    var lost: [UInt32] = []
    /// Corrupted frames that were then lost: they leave `corrupted` for `lost`.
    var lostCorrupted: [UInt32] = []
    var uncertain: [UInt32] = []
    var readings: [Reading] = []
    var garbageBursts = 0
    var garbageBytes = 0
    var hellosSent = 0
    var heartbeatsSent = 0
    var controlFramesDropped = 0

    init(reserving readings: Int) {
        self.readings.reserveCapacity(readings)
    }

    var isEmpty: Bool {
        txDropped == 0 && skipped.isEmpty && corrupted.isEmpty && lost.isEmpty && uncertain.isEmpty
            && readings.isEmpty && garbageBursts == 0 && hellosSent == 0 && heartbeatsSent == 0
            && controlFramesDropped == 0
    }

    /// Applies the delta to the ledger's last boot and empties it, keeping capacity.
    mutating func merge(into ledger: inout EmissionLedger) {
        if !ledger.boots.isEmpty {
            let i = ledger.boots.count - 1
            ledger.boots[i].nextSeq = nextSeq
            ledger.boots[i].txDropped += txDropped
            ledger.boots[i].skipped.append(contentsOf: skipped)
            ledger.boots[i].corrupted.append(contentsOf: corrupted)
            ledger.boots[i].lost.append(contentsOf: lost)
            for seq in lostCorrupted {
                if let k = ledger.boots[i].corrupted.lastIndex(of: seq) { ledger.boots[i].corrupted.remove(at: k) }
            }
            ledger.boots[i].uncertain.append(contentsOf: uncertain)
            ledger.boots[i].readings.append(contentsOf: readings)
        }
        ledger.garbageBursts += garbageBursts
        ledger.garbageBytes += garbageBytes
        ledger.hellosSent += hellosSent
        ledger.heartbeatsSent += heartbeatsSent
        ledger.controlFramesDropped += controlFramesDropped
        txDropped = 0
        skipped.removeAll(keepingCapacity: true)
        corrupted.removeAll(keepingCapacity: true)
        lost.removeAll(keepingCapacity: true)
        lostCorrupted.removeAll(keepingCapacity: true)
        uncertain.removeAll(keepingCapacity: true)
        readings.removeAll(keepingCapacity: true)
        garbageBursts = 0
        garbageBytes = 0
        hellosSent = 0
        heartbeatsSent = 0
        controlFramesDropped = 0
    }
}

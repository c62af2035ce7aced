#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem

/// The gateway's bounded transmit buffer, and a record of where each frame lies in the
/// byte stream so a reboot or an unplug can say exactly which seqs went down with it.
///
/// Frames are encoded straight into `bytes` (one array, capacity reserved once, never
/// reallocated) and written to the non-blocking pty in one large `write` per flush;
/// what the pty does not take stays at the front for the next flush. Readings may fill
/// the buffer only up to `capacity - controlReserve`, so a full buffer still has room
/// for the `HB` that reports the drops and the `HELLO` that answers a `PING`.
struct TransmitBuffer {
    /// Room kept for HELLO and HB: the longest HELLO is under 100 bytes in either encoding.
    static let controlReserve = 256
    /// The longest reading frame (text: 61 bytes; binary: 23) plus the longest noise
    /// burst in front of it.
    static let maxReadingBytes = 64 + NoiseBurst.maxBytes

    /// Pending bytes, oldest first.
    var bytes: [UInt8]
    let capacity: Int
    /// Stream offsets: bytes appended and bytes handed to the kernel since the buffer was made.
    private(set) var appendedTotal: UInt64 = 0
    private(set) var writtenTotal: UInt64 = 0
    private var segments: SegmentRing

    struct Segment {
        var start: UInt64
        var end: UInt64
        /// The reading's seq; `nil` for HELLO, HB and noise.
        var seq: UInt32?
        var corrupted: Bool
    }

    init(capacity: Int) {
        self.capacity = capacity
        bytes = []
        bytes.reserveCapacity(capacity + 512)
        // Enough segments for a full buffer plus what the kernel can hold (see
        // `kernelAllowance`) at the smallest segment size, a 4-byte noise burst.
        segments = SegmentRing(capacity: (capacity + Self.kernelAllowance) / 4)
    }

    var pending: Int { bytes.count }
    var isEmpty: Bool { bytes.isEmpty }

    /// Whether a reading (and possibly a noise burst before it) fits.
    @inline(__always)
    var hasRoomForReading: Bool { bytes.count + Self.maxReadingBytes <= capacity - Self.controlReserve }

    @inline(__always)
    var hasRoomForControl: Bool { bytes.count + Self.controlReserve <= capacity }

    /// Records that `bytes[startIndex...]` is one frame (or noise burst).
    @inline(__always)
    mutating func noteSegment(from startIndex: Int, seq: UInt32?, corrupted: Bool) {
        let start = writtenTotal + UInt64(startIndex)
        let end = writtenTotal + UInt64(bytes.count)
        appendedTotal = end
        segments.push(Segment(start: start, end: end, seq: seq, corrupted: corrupted))
    }

    /// Writes as much as the pty takes now; returns the bytes written. EAGAIN is not an
    /// error: the host is slow and the bytes wait.
    mutating func flush(to fd: FileDescriptor) throws(SystemError) -> Int {
        guard !bytes.isEmpty else { return 0 }
        let n = bytes.withUnsafeBytes { p in Glibc.write(fd.raw, p.baseAddress, p.count) }
        if n < 0 {
            let e = errno
            if e == EAGAIN || e == EINTR { return 0 }
            throw SystemError(call: "write(\(fd.label))", errno: e)
        }
        if n > 0 {
            writtenTotal += UInt64(n)
            bytes.removeSubrange(0..<n)
        }
        return n
    }

    /// Throws away what is queued, as a reboot wipes the gateway's RAM. If the pty is
    /// staying, the frame half out of the door is kept so the host does not get a cut
    /// frame glued to the next one; if the pty is going away, it goes too.
    /// Returns the readings thrown away: none of them can arrive intact.
    mutating func discardQueued(keepingPartialFrame: Bool) -> [(seq: UInt32, corrupted: Bool)] {
        var keepUntil = writtenTotal
        if keepingPartialFrame, let head = segments.first(where: { $0.start < writtenTotal && $0.end > writtenTotal }) {
            keepUntil = head.end
        }
        // A frame cut in two by an unplug ends past `keepUntil` and is discarded too.
        var discarded: [(seq: UInt32, corrupted: Bool)] = []
        for s in segments.all() where s.end > keepUntil {
            if let seq = s.seq { discarded.append((seq, s.corrupted)) }
        }
        bytes.removeSubrange(Int(keepUntil - writtenTotal)...)
        appendedTotal = keepUntil
        segments.removeAll(where: { $0.end > keepUntil })
        return discarded
    }

    /// What the kernel can still be holding of a pty's data beyond the `unread` bytes
    /// counted at the hang-up's look: a count that is not 0 leaves out the flip buffer
    /// (`PseudoTerminal.unreadByFollower`), which held up to ~22 KB here (measured);
    /// 64 KiB over-estimates on purpose, since an uncertain seq wrongly called certain
    /// would fail a harness for nothing.
    static let kernelAllowance = 64 * 1024

    /// Readings written to the kernel that the host may not have read when the pty is
    /// hung up with `unread` bytes in the follower's input queue.
    func possiblyUnread(unreadInLineDiscipline unread: Int) -> [UInt32] {
        let window = UInt64(unread + Self.kernelAllowance)
        let from = writtenTotal > window ? writtenTotal - window : 0
        return segments.all().compactMap { s in
            s.end > from && s.end <= writtenTotal && !s.corrupted ? s.seq : nil
        }
    }

    /// The segment bookkeeping starts over (a new pty: nothing of it is in any kernel).
    mutating func forgetWritten() {
        segments.removeAll(where: { $0.end <= writtenTotal })
    }
}

/// A fixed ring of segments, oldest overwritten first.
struct SegmentRing {
    private var storage: [TransmitBuffer.Segment]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        storage = Array(repeating: .init(start: 0, end: 0, seq: nil, corrupted: false), count: max(capacity, 16))
    }

    @inline(__always)
    mutating func push(_ s: TransmitBuffer.Segment) {
        let cap = storage.count
        var i = head + count
        if i >= cap { i -= cap }
        storage[i] = s
        if count < cap {
            count += 1
        } else {
            head += 1
            if head == cap { head = 0 }
        }
    }

    func all() -> [TransmitBuffer.Segment] {
        (0..<count).map { storage[(head + $0) % storage.count] }
    }

    func first(where predicate: (TransmitBuffer.Segment) -> Bool) -> TransmitBuffer.Segment? {
        for k in 0..<count {
            let s = storage[(head + k) % storage.count]
            if predicate(s) { return s }
        }
        return nil
    }

    mutating func removeAll(where predicate: (TransmitBuffer.Segment) -> Bool) {
        let kept = all().filter { !predicate($0) }
        head = 0
        count = 0
        for s in kept { push(s) }
    }
}

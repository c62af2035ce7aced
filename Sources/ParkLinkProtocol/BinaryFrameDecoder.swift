/// Splits a byte stream into `0x00`-delimited COBS frames and turns each into a message
/// or a reject.
///
/// As with text, frames that lie wholly inside one `read()` piece are decoded where
/// they lie; only the frame a piece ends inside is copied into a carry buffer, which
/// never holds more than `maxFrameBytes` and keeps its storage between frames.
///
/// Resynchronisation, where PROTOCOL.md leaves it open:
/// - An empty frame (a `0x00` straight after another) and a frame that decodes to
///   nothing (`01 00`) are padding some senders use to flush a link: counted in
///   `noiseBytes`, neither a message nor an error.
/// - Anything else between delimiters is one frame, judged as a whole. A receiver that
///   starts mid-stream therefore rejects the tail of the frame it joined (usually as
///   `badFraming` or `badCRC`) and is in step from the next `0x00`. Garbage between
///   frames counts the same way: COBS cannot tell noise from a corrupt frame.
/// - A frame with more than `maxFrameBytes` encoded bytes is rejected as `tooLong` as
///   soon as the byte past the limit arrives; the rest of it is skipped, not buffered,
///   up to the next `0x00`.
/// - A decoded frame of 1 or 2 bytes cannot hold a type and a checksum: `badFraming`.
public struct BinaryFrameDecoder: Sendable {
    /// The most encoded bytes a frame may have, its delimiter excluded.
    ///
    /// The longest valid message, a `HELLO` with a 32-character id, is 45 bytes and 46
    /// encoded. The limit leaves slack up to 64 so that a frame a little too long is
    /// still decoded and counted by what is wrong with it (a `HELLO` whose id is too
    /// long is `malformed`), while the carry buffer stays one cache line.
    public static let maxFrameBytes = 64

    @usableFromInline var carry: [UInt8] = []
    /// A frame was rejected as too long; its remaining bytes are skipped up to the next `0x00`.
    @usableFromInline var skippingLongFrame = false
    @usableFromInline var _noiseBytes: UInt64 = 0

    /// Bytes of frames that decode to nothing (empty frames, padding) since the decoder
    /// was made.
    public var noiseBytes: UInt64 { _noiseBytes }

    public init() {}

    /// Decodes `bytes`, delivering each complete frame to `sink` in stream order; the
    /// start of an unfinished frame is kept for the next call.
    @inlinable
    public mutating func feed<S: DecodeSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout S) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let end = bytes.count
        let maxFrame = BinaryFrameDecoder.maxFrameBytes
        var i = 0

        if !carry.isEmpty {
            // The carried frame may take at most `room` more bytes before its delimiter.
            let room = maxFrame - carry.count
            let stop = Swift.min(end, room + 1)
            let z = ByteScan.first(0, in: base, from: 0, to: stop)
            if z < stop {
                carry.append(contentsOf: UnsafeRawBufferPointer(start: base, count: z))
                let outcome = carry.withUnsafeBytes { frame in
                    BinaryMessageParser.parse(frame.baseAddress!, count: frame.count)
                }
                if case .nothing = outcome { _noiseBytes &+= UInt64(carry.count + 1) }
                sink.deliver(outcome)
                carry.removeAll(keepingCapacity: true)
                i = z + 1
            } else if room + 1 <= end {
                sink.reject(.tooLong)
                carry.removeAll(keepingCapacity: true)
                skippingLongFrame = true
                i = room + 1
            } else {
                carry.append(contentsOf: bytes)
                return
            }
        }

        var noise = 0
        while i < end {
            if skippingLongFrame {
                let z = ByteScan.first(0, in: base, from: i, to: end)
                if z == end { break }
                skippingLongFrame = false
                i = z + 1
                continue
            }
            let limit = i + maxFrame + 1
            let stop = Swift.min(end, limit)
            let z = ByteScan.first(0, in: base, from: i, to: stop)
            if z < stop {
                if z == i {
                    noise &+= 1
                } else {
                    let outcome = BinaryMessageParser.parse(base + i, count: z - i)
                    if case .nothing = outcome { noise &+= z - i + 1 }
                    sink.deliver(outcome)
                }
                i = z + 1
            } else if limit <= end {
                sink.reject(.tooLong)
                skippingLongFrame = true
                i = limit
            } else {
                if carry.capacity < maxFrame { carry.reserveCapacity(maxFrame) }
                carry.append(contentsOf: UnsafeRawBufferPointer(start: base + i, count: end - i))
                break
            }
        }
        _noiseBytes &+= UInt64(noise)
    }

    /// Ends the stream (the device went away, the reader reopens it): a frame left
    /// unfinished is rejected as `badFraming` (a frame cut short) rather than glued to
    /// the next stream's bytes.
    @inlinable
    public mutating func finish<S: DecodeSink>(into sink: inout S) {
        if !carry.isEmpty { sink.reject(.badFraming) }
        carry.removeAll(keepingCapacity: true)
        skippingLongFrame = false
    }
}

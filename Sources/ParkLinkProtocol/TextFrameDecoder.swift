/// Splits a byte stream into `$…\n` lines and turns each into a message or a reject.
///
/// Bytes arrive in whatever pieces `read()` returns, so a line may span calls. Lines
/// that lie wholly inside one piece are parsed where they lie; only the line a piece
/// ends inside is copied, into a carry buffer that never holds more than one line
/// (under 128 bytes) and keeps its storage from line to line.
///
/// Resynchronisation, the rules PROTOCOL.md leaves to the reader:
/// - Bytes outside a line (before a `$`) are noise: skipped, counted in `noiseBytes`.
/// - A `$` inside a line starts a new line there. The cut-off line before it is rejected
///   as `malformed`: it is a frame that was lost (a gateway reset or dropped bytes
///   mid-line), and a loss must show in the counters.
/// - A line longer than `maxLineBytes` (counting the bytes actually received, from `$`
///   to `\n` inclusive) is rejected as `tooLong` as soon as that is certain: once
///   128 of its bytes have arrived and none ended it (so a `finish` right there counts
///   it as `tooLong`, not as an unfinished `malformed` line). The rest of it is skipped, not
///   buffered, up to the next `$` or the end of the line. Those skipped bytes belong to
///   the rejected line and are not counted as noise.
/// - Only `\n` ends a line; a `\r` before it is optional, a `\r` anywhere else makes
///   the line malformed.
public struct TextFrameDecoder: Sendable {
    /// The longest line, including `$` and `\r\n`.
    public static let maxLineBytes = 128

    @usableFromInline
    enum State: Sendable {
        /// Between lines: waiting for a `$`, counting noise.
        case outside
        /// `carry` holds the start of a line, from its `$`.
        case inLine
        /// A line was rejected as too long; waiting for its end or the next `$`.
        case skippingLongLine
    }

    @usableFromInline var state: State = .outside
    @usableFromInline var carry: [UInt8] = []
    @usableFromInline var _noiseBytes: UInt64 = 0

    /// Bytes skipped outside any line (before a `$`) since the decoder was made.
    public var noiseBytes: UInt64 { _noiseBytes }

    public init() {}

    /// Decodes `bytes`, delivering each complete line to `sink` in stream order; the
    /// start of an unfinished line is kept for the next call.
    @inlinable
    public mutating func feed<S: DecodeSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout S) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let end = bytes.count
        var i = 0
        let dollar = UInt8(ascii: "$")
        let newline = UInt8(ascii: "\n")
        let maxLine = TextFrameDecoder.maxLineBytes

        if state == .inLine {
            // The carried line may take at most `room` more bytes, its `\n` included.
            let room = maxLine - carry.count
            let stop = Swift.min(end, room)
            let j = ByteScan.first(newline, or: dollar, in: base, from: 0, to: stop)
            if j < stop {
                if base.load(fromByteOffset: j, as: UInt8.self) == dollar {
                    sink.reject(.malformed)
                    i = j
                } else {
                    carry.append(contentsOf: UnsafeRawBufferPointer(start: base, count: j))
                    let outcome = carry.withUnsafeBytes { line in
                        TextMessageParser.parse(line.baseAddress! + 1, count: line.count - 1)
                    }
                    sink.deliver(outcome)
                    i = j + 1
                }
                carry.removeAll(keepingCapacity: true)
                state = .outside
            } else if room <= end {
                sink.reject(.tooLong)
                carry.removeAll(keepingCapacity: true)
                state = .skippingLongLine
                i = room
            } else {
                carry.append(contentsOf: bytes)
                return
            }
        }

        var noise = 0
        while i < end {
            if state == .skippingLongLine {
                let j = ByteScan.first(newline, or: dollar, in: base, from: i, to: end)
                if j == end { break }
                state = .outside
                i = base.load(fromByteOffset: j, as: UInt8.self) == dollar ? j : j + 1
                continue
            }
            let start = ByteScan.first(dollar, in: base, from: i, to: end)
            noise &+= start - i
            if start == end { break }
            // A line's `\n` can be at most `maxLine - 1` bytes after its `$`.
            let limit = start + maxLine
            let stop = Swift.min(end, limit)
            let j = ByteScan.first(newline, or: dollar, in: base, from: start + 1, to: stop)
            if j < stop {
                if base.load(fromByteOffset: j, as: UInt8.self) == dollar {
                    sink.reject(.malformed)
                    i = j
                } else {
                    sink.deliver(TextMessageParser.parse(base + start + 1, count: j - start - 1))
                    i = j + 1
                }
            } else if limit <= end {
                sink.reject(.tooLong)
                state = .skippingLongLine
                i = limit
            } else {
                if carry.capacity < maxLine { carry.reserveCapacity(maxLine) }
                carry.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: end - start))
                state = .inLine
                break
            }
        }
        _noiseBytes &+= UInt64(noise)
    }

    /// Ends the stream (the device went away, the reader reopens it): a line left
    /// unfinished is rejected as `malformed` rather than glued to the next stream's bytes.
    @inlinable
    public mutating func finish<S: DecodeSink>(into sink: inout S) {
        if state == .inLine { sink.reject(.malformed) }
        carry.removeAll(keepingCapacity: true)
        state = .outside
    }
}

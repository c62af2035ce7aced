import ParkLinkProtocol

/// One fuzz input run through a decoder the way the reader runs it: `StreamDecoder`,
/// fed in pieces, with `finish` where a reopen would call it.
///
/// Input layout: the first 4 bytes seed the plan (piece sizes, where `finish` falls,
/// whether the stream ends with one); the rest is the byte stream. The fuzzer mutates
/// both, so chunk boundaries are fuzzed along with the bytes.
///
/// Checked on every input:
/// 1. The events (accepts and rejects, in order) and `noiseBytes` equal those of a
///    byte-at-a-time reference model of the framing rules written from the decoders'
///    documentation (`TextFrameDecoder`, `BinaryFrameDecoder`), so the piece
///    boundaries change nothing.
/// 2. The same again with each stretch between `finish` calls fed in one piece.
/// 3. Every byte is accounted for: noise, or part of a frame that produced an event
///    (its skipped tail included), or part of the one frame still unfinished.
/// 4. Each frame's verdict up to the type is the model's own (COBS, length, CRC,
///    trailer, known type), so a frame is never accepted past a failed check.
/// 5. An accepted message obeys PROTOCOL.md (gateway id, power factor), and its
///    re-encoding (`MessageEncoder`) decodes to the same message; in binary, where
///    the encoding is canonical, the re-encoding is the received frame byte for byte.
public enum StreamFuzz {
    public static func run(_ encoding: FrameEncoding, _ data: UnsafeRawBufferPointer) {
        let header = min(4, data.count)
        var seed: UInt64 = 0
        for k in 0..<header { seed |= UInt64(data[k]) << (8 * UInt64(k)) }
        let stream = UnsafeRawBufferPointer(rebasing: data[header...])
        let plan = Plan(streamCount: stream.count, seed: seed)

        // The reference model, byte by byte.
        var model = Model(encoding: encoding)
        for step in plan.steps {
            switch step {
            case .feed(let range): for i in range { model.push(stream[i]) }
            case .finish: model.finish()
            }
        }
        let accounted = model.noise + model.attributed + model.pending
        check(accounted == stream.count, "bytes unaccounted for: \(stream.count) in, noise \(model.noise) + frames \(model.attributed) + pending \(model.pending)")

        // The decoder, in the plan's pieces.
        let chunked = feed(encoding, stream, plan.steps)
        compare(chunked, model, "fed in pieces", plan)

        // The decoder, each stretch between finishes in one piece.
        var merged: [Step] = []
        for step in plan.steps {
            if case .feed(let r) = step, case .feed(let prev)? = merged.last {
                merged[merged.count - 1] = .feed(prev.lowerBound..<r.upperBound)
            } else {
                merged.append(step)
            }
        }
        compare(feed(encoding, stream, merged), model, "fed whole", plan)
    }

    enum Step: CustomStringConvertible {
        case feed(Range<Int>)
        case finish
        var description: String {
            switch self {
            case .feed(let r): "\(r.count)"
            case .finish: "finish"
            }
        }
    }

    /// Piece sizes drawn from four scales (single bytes, a few, about a frame, several
    /// frames), an occasional `finish` between pieces, and one at the end half the time.
    struct Plan {
        var steps: [Step] = []
        init(streamCount: Int, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            var offset = 0
            while offset < streamCount {
                if rng.next() % 32 == 0 { steps.append(.finish) }
                let r = rng.next()
                let scale: UInt64 = [1, 8, 80, 300][Int(r % 4)]
                let size = min(streamCount - offset, 1 + Int((r >> 8) % scale))
                steps.append(.feed(offset..<offset + size))
                offset += size
            }
            if rng.next() % 2 == 0 { steps.append(.finish) }
        }
    }

    struct Outcome {
        var events: [Event]
        var noise: UInt64
    }

    /// Each piece is copied to the very end of an allocation of the stream's size, as a
    /// separate `read()` would deliver it, so that a read past a piece's end is an
    /// AddressSanitizer report, not a lucky read of the next piece.
    static func feed(_ encoding: FrameEncoding, _ stream: UnsafeRawBufferPointer, _ steps: [Step]) -> Outcome {
        var decoder = StreamDecoder(encoding: encoding)
        var sink = Sink()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(stream.count, 1), alignment: 1)
        defer { buffer.deallocate() }
        for step in steps {
            switch step {
            case .feed(let range):
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[(buffer.count - range.count)...])
                piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: stream[range]))
                decoder.feed(UnsafeRawBufferPointer(piece), into: &sink)
            case .finish:
                decoder.finish(into: &sink)
            }
        }
        return Outcome(events: sink.events, noise: decoder.noiseBytes)
    }

    static func compare(_ got: Outcome, _ model: Model, _ how: String, _ plan: Plan) {
        guard got.events != model.events || got.noise != UInt64(model.noise) else { return }
        var at = 0
        while at < min(got.events.count, model.events.count) && got.events[at] == model.events[at] { at += 1 }
        fail("""
            \(model.encoding) decoder \(how) differs from the reference model
              plan: \(plan.steps.map(\.description).joined(separator: " "))
              noise: decoder \(got.noise), model \(model.noise)
              events: decoder \(got.events.count), model \(model.events.count), first difference at \(at)
              decoder: \(got.events[at...].prefix(3))
              model:   \(model.events[at...].prefix(3))
            """)
    }

    /// One frame fed to a fresh decoder in one piece.
    static func alone(_ frame: [UInt8], _ encoding: FrameEncoding) -> Outcome {
        frame.withUnsafeBytes { feed(encoding, $0, [.feed(0..<frame.count)]) }
    }
}

public enum Event: Equatable, CustomStringConvertible {
    case message(Message)
    case rejected(RejectReason)
    public var description: String {
        switch self {
        case .message(let m): "\(m)"
        case .rejected(let r): "rejected(\(r.rawValue))"
        }
    }
}

struct Sink: DecodeSink {
    var events: [Event] = []
    mutating func accept(_ message: Message) { events.append(.message(message)) }
    mutating func reject(_ reason: RejectReason) { events.append(.rejected(reason)) }
}

/// Stops the run with the invariant's text; libFuzzer saves the input as a crash.
func fail(_ what: String) -> Never {
    fatalError("fuzz invariant violated: \(what)")
}

@inline(__always)
func check(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fail(what()) }
}

/// SplitMix64: small, fast, and fully determined by the input's seed bytes.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Where a decoder delivers what it finds, one call per frame.
///
/// A protocol the decoders are generic over, rather than a closure or a returned array,
/// so that the reader's hot path is a direct, inlined call into the reader's own state
/// with no allocation and no dynamic dispatch per frame.
public protocol DecodeSink {
    /// A frame that passed every check.
    mutating func accept(_ message: Message)
    /// A frame that failed one; the decoder has already resynchronised.
    mutating func reject(_ reason: RejectReason)
}

/// What one frame came to, returned by the per-frame parsers.
///
/// The parsers stay out of line (they run once per frame, so a call costs little) and
/// return this; only the framing loops, which run once per byte, are inlined into the
/// caller's module.
@usableFromInline
enum FrameOutcome {
    case message(Message)
    case rejected(RejectReason)
    /// A binary frame that decodes to no bytes (`01 00`): padding, not a message and not
    /// an error, so it counts as noise.
    case nothing
}

extension DecodeSink {
    @inlinable
    mutating func deliver(_ outcome: FrameOutcome) {
        switch outcome {
        case .message(let message): accept(message)
        case .rejected(let reason): reject(reason)
        case .nothing: break
        }
    }
}

/// The decoder for a link whose encoding is known only at run time (from configuration).
///
/// Holds both decoders side by side rather than an enum of the two: mutating a decoder
/// inside an enum payload would copy it out and back, and the copy would force its
/// carry buffer to be reallocated on every call. The unused one never allocates.
public struct StreamDecoder: Sendable {
    public let encoding: FrameEncoding
    @usableFromInline var text = TextFrameDecoder()
    @usableFromInline var binary = BinaryFrameDecoder()

    public init(encoding: FrameEncoding) {
        self.encoding = encoding
    }

    /// Decodes `bytes` with the decoder for `encoding`; see `TextFrameDecoder` and
    /// `BinaryFrameDecoder` for what counts as noise and how each resynchronises.
    @inlinable
    public mutating func feed<S: DecodeSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout S) {
        switch encoding {
        case .text: text.feed(bytes, into: &sink)
        case .binary: binary.feed(bytes, into: &sink)
        }
    }

    /// Ends the stream: an unfinished frame is rejected and the decoder starts clean.
    @inlinable
    public mutating func finish<S: DecodeSink>(into sink: inout S) {
        switch encoding {
        case .text: text.finish(into: &sink)
        case .binary: binary.finish(into: &sink)
        }
    }

    /// Bytes skipped as noise by the active decoder.
    public var noiseBytes: UInt64 {
        switch encoding {
        case .text: text.noiseBytes
        case .binary: binary.noiseBytes
        }
    }
}

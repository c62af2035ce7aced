import ParkLinkProtocol

/// One thing a decoder reported, in stream order.
enum DecodeEvent: Hashable, Sendable, CustomStringConvertible {
    case message(Message)
    case rejected(RejectReason)

    var description: String {
        switch self {
        case .message(let m): "message(\(m))"
        case .rejected(let r): "rejected(\(r))"
        }
    }
}

/// Records everything a decoder reports, in order, so a test can compare whole streams.
struct CollectingSink: DecodeSink {
    var events: [DecodeEvent] = []

    mutating func accept(_ message: Message) { events.append(.message(message)) }
    mutating func reject(_ reason: RejectReason) { events.append(.rejected(reason)) }
}

/// The three decoders seen alike, so that one streaming test can run against each.
protocol ChunkDecoder {
    mutating func feed<S: DecodeSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout S)
    mutating func finish<S: DecodeSink>(into sink: inout S)
    var noiseBytes: UInt64 { get }
}

extension TextFrameDecoder: ChunkDecoder {}
extension BinaryFrameDecoder: ChunkDecoder {}
extension StreamDecoder: ChunkDecoder {}

/// What decoding a whole stream came to.
struct DecodeResult: Equatable, CustomStringConvertible {
    var events: [DecodeEvent]
    var noiseBytes: UInt64

    var messages: [Message] {
        events.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }
    var rejects: [RejectReason] {
        events.compactMap { if case .rejected(let r) = $0 { r } else { nil } }
    }
    var description: String { "\(events), noise \(noiseBytes)" }
}

/// Feeds `bytes` to a fresh decoder in pieces of the given sizes (the last piece takes
/// whatever is left). Each piece is copied into its own array, as separate `read()`
/// calls would deliver it, so no decoder can rely on pieces being adjacent in memory.
func decode<D: ChunkDecoder>(
    _ bytes: [UInt8], with decoder: D, pieces sizes: [Int] = [], finish: Bool = false
) -> DecodeResult {
    var decoder = decoder
    var sink = CollectingSink()
    var offset = 0
    for size in sizes where offset < bytes.count {
        let piece = Array(bytes[offset..<min(bytes.count, offset + size)])
        piece.withUnsafeBytes { decoder.feed($0, into: &sink) }
        offset += piece.count
    }
    if offset < bytes.count {
        let piece = Array(bytes[offset...])
        piece.withUnsafeBytes { decoder.feed($0, into: &sink) }
    }
    if finish { decoder.finish(into: &sink) }
    return DecodeResult(events: sink.events, noiseBytes: decoder.noiseBytes)
}

/// A fresh decoder for `encoding`, as the concrete type (not `StreamDecoder`), so that
/// each is tested directly.
func decode(
    _ bytes: [UInt8], as encoding: FrameEncoding, pieces sizes: [Int] = [], finish: Bool = false
) -> DecodeResult {
    switch encoding {
    case .text: decode(bytes, with: TextFrameDecoder(), pieces: sizes, finish: finish)
    case .binary: decode(bytes, with: BinaryFrameDecoder(), pieces: sizes, finish: finish)
    }
}

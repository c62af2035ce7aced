import ParkLinkProtocol

/// The framing rules, one byte at a time, written from the decoders' documentation
/// rather than their code: no carry, no scanning, no pointer arithmetic.
///
/// Text (`TextFrameDecoder`): bytes before a `$` are noise; a `$` inside a line rejects
/// the line so far as `malformed` and starts a new one; only `\n` ends a line; a line
/// that reaches 128 bytes (from its `$`) without its `\n` is rejected as `tooLong` there
/// and then, and the bytes after it up to the next `$` (which starts a line) or `\n`
/// (which ends the skip) belong to the rejected line.
///
/// Binary (`BinaryFrameDecoder`): an empty frame is one byte of noise; a frame that
/// decodes to nothing (`01`) is noise, its delimiter included; the 65th encoded byte of
/// a frame rejects it as `tooLong`, and the rest up to and including the next `0x00`
/// belongs to it.
///
/// `finish` rejects an unfinished frame (`malformed` in text, `badFraming` in binary)
/// and forgets a skip in progress.
struct Model {
    let encoding: FrameEncoding
    private(set) var events: [Event] = []
    private(set) var noise = 0
    /// Bytes of frames that produced an event, skipped tails included.
    private(set) var attributed = 0

    private enum State { case outside, inFrame, skipping }
    private var state = State.outside
    private var frame: [UInt8] = []

    init(encoding: FrameEncoding) {
        self.encoding = encoding
        frame.reserveCapacity(130)
    }

    /// Bytes of the frame still unfinished.
    var pending: Int { state == .inFrame ? frame.count : 0 }

    mutating func push(_ byte: UInt8) {
        switch encoding {
        case .text: pushText(byte)
        case .binary: pushBinary(byte)
        }
    }

    mutating func finish() {
        if state == .inFrame {
            events.append(.rejected(encoding == .text ? .malformed : .badFraming))
            attributed += frame.count
        }
        frame.removeAll(keepingCapacity: true)
        state = .outside
    }

    private mutating func pushText(_ byte: UInt8) {
        let dollar = UInt8(ascii: "$"), newline = UInt8(ascii: "\n")
        switch state {
        case .outside:
            if byte == dollar { startFrame(byte) } else { noise += 1 }
        case .inFrame:
            if byte == dollar {
                events.append(.rejected(.malformed))
                attributed += frame.count
                startFrame(byte)
            } else if byte == newline {
                frame.append(byte)
                events.append(Verdict.text(frame))
                attributed += frame.count
                frame.removeAll(keepingCapacity: true)
                state = .outside
            } else {
                frame.append(byte)
                if frame.count == 128 {
                    // 128 bytes and none is the `\n`: too long, whatever comes next.
                    events.append(.rejected(.tooLong))
                    attributed += frame.count
                    frame.removeAll(keepingCapacity: true)
                    state = .skipping
                }
            }
        case .skipping:
            if byte == dollar {
                startFrame(byte)
            } else {
                attributed += 1
                if byte == newline { state = .outside }
            }
        }
    }

    private mutating func pushBinary(_ byte: UInt8) {
        switch state {
        case .skipping:
            attributed += 1
            if byte == 0 { state = .outside }
        case .outside where byte == 0:
            noise += 1
        case .outside:
            startFrame(byte)
        case .inFrame where byte == 0:
            if let event = Verdict.binary(frame) {
                events.append(event)
                attributed += frame.count + 1
            } else {
                noise += frame.count + 1
            }
            frame.removeAll(keepingCapacity: true)
            state = .outside
        case .inFrame where frame.count == 64:
            events.append(.rejected(.tooLong))
            attributed += frame.count + 1
            frame.removeAll(keepingCapacity: true)
            state = .skipping
        case .inFrame:
            frame.append(byte)
        }
    }

    private mutating func startFrame(_ byte: UInt8) {
        frame.removeAll(keepingCapacity: true)
        frame.append(byte)
        state = .inFrame
    }
}

/// What one complete frame must come to.
///
/// The checks up to the message type are made here, independently (a bitwise CRC, a
/// plain COBS decoder); whether the fields are valid is left to the decoder fed the
/// frame alone, and an accepted message is then checked against PROTOCOL.md and
/// re-encoded.
enum Verdict {
    private static let textTypes: [[UInt8]] = ["R", "HB", "HELLO", "LED", "PING"].map { Array($0.utf8) }
    private static let binaryTypes: Set<UInt8> = [0x01, 0x02, 0x03, 0x10, 0x11]

    /// `line` runs from `$` to `\n` inclusive.
    static func text(_ line: [UInt8]) -> Event {
        var body = line[1..<(line.count - 1)]
        if body.last == UInt8(ascii: "\r") { body.removeLast() }
        guard let star = body.firstIndex(of: UInt8(ascii: "*")) else { return .rejected(.noChecksum) }
        let trailer = body[(star + 1)...]
        guard trailer.count == 4, let sent = hex(trailer) else { return .rejected(.malformed) }
        guard crc16(body[..<star]) == sent else { return .rejected(.badCRC) }
        let type = Array(body[..<star].prefix { $0 != UInt8(ascii: ",") })
        guard textTypes.contains(type) else { return .rejected(.unknownType) }
        return fieldsVerdict(line, .text)
    }

    /// `encoded` is a frame without its delimiter; nil when it is padding.
    static func binary(_ encoded: [UInt8]) -> Event? {
        guard let decoded = cobsDecode(encoded) else { return .rejected(.badFraming) }
        if decoded.isEmpty { return nil }
        guard decoded.count >= 3 else { return .rejected(.badFraming) }
        let sent = UInt16(decoded[decoded.count - 2]) | UInt16(decoded[decoded.count - 1]) << 8
        guard crc16(decoded[..<(decoded.count - 2)]) == sent else { return .rejected(.badCRC) }
        guard binaryTypes.contains(decoded[0]) else { return .rejected(.unknownType) }
        return fieldsVerdict(encoded + [0], .binary)
    }

    /// A frame whose type is known: the decoder judges the fields; an accepted message
    /// must be valid and survive re-encoding.
    private static func fieldsVerdict(_ frame: [UInt8], _ encoding: FrameEncoding) -> Event {
        let alone = StreamFuzz.alone(frame, encoding)
        check(alone.noise == 0 && alone.events.count == 1,
              "\(encoding) frame \(frame) alone gave \(alone.events) and \(alone.noise) noise bytes")
        let event = alone.events[0]
        switch event {
        case .rejected(.malformed):
            break
        case .rejected(let reason):
            fail("\(encoding) frame \(frame) passed framing, CRC and type, yet was rejected as \(reason)")
        case .message(let message):
            checkValid(message, frame, encoding)
            let again = MessageEncoder.encode(message, as: encoding)
            if encoding == .binary {
                check(again == frame, "binary frame \(frame) decoded to \(message), which encodes as \(again)")
            }
            let back = StreamFuzz.alone(again, encoding)
            check(back.events == [event] && back.noise == 0,
                  "\(message) from \(encoding) frame \(frame) re-encodes as \(again), which decodes to \(back.events)")
        }
        return event
    }

    private static func checkValid(_ message: Message, _ frame: [UInt8], _ encoding: FrameEncoding) {
        switch message {
        case .hello(let h):
            let id = Array(h.gatewayId.utf8)
            let valid = (1...32).contains(id.count) && id.allSatisfy { b in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            }
            check(valid, "\(encoding) frame \(frame) accepted a HELLO with gateway id \(id)")
        case .reading(let r):
            check((r.powerFactorPct ?? 0) <= 100, "\(encoding) frame \(frame) accepted power factor \(r.powerFactorPct!)")
        case .heartbeat, .led, .ping:
            break
        }
    }

    /// CRC-16/CCITT-FALSE, bit by bit.
    static func crc16<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    static func hex(_ digits: ArraySlice<UInt8>) -> UInt16? {
        var value: UInt16 = 0
        for d in digits {
            let nibble: UInt8
            switch d {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = d - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = d - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = d - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt16(nibble)
        }
        return value
    }

    /// Plain COBS: each code byte c is followed by c-1 data bytes and, unless c is 0xFF
    /// or the frame ends there, an implied zero. nil for a zero code or a run cut short.
    static func cobsDecode(_ encoded: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count)
        var i = 0
        while i < encoded.count {
            let code = Int(encoded[i])
            guard code != 0 else { return nil }
            i += 1
            for _ in 1..<code {
                guard i < encoded.count, encoded[i] != 0 else { return nil }
                out.append(encoded[i])
                i += 1
            }
            if code != 0xFF && i < encoded.count { out.append(0) }
        }
        return out
    }
}

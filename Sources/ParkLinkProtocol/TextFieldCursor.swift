/// Reads the comma-separated fields of one text line straight from the received bytes.
///
/// No `String`, no `split`: a reading is eight numbers, and building strings to parse
/// them would allocate several times per frame on the reader's hot path. Its methods
/// are a few instructions each, called a dozen times per line, so they are forced
/// inline: left as calls they cost as much as the checksum.
struct TextFieldCursor {
    let base: UnsafeRawPointer
    private(set) var index: Int
    let end: Int

    init(_ base: UnsafeRawPointer, from index: Int, to end: Int) {
        self.base = base
        self.index = index
        self.end = end
    }

    var isAtEnd: Bool { index == end }

    private var current: UInt8? {
        index < end ? base.load(fromByteOffset: index, as: UInt8.self) : nil
    }

    /// Consumes `byte` if it is next.
    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    /// Consumes the field separator.
    @inline(__always)
    mutating func comma() -> Bool { consume(UInt8(ascii: ",")) }

    /// A plain decimal number of at least one digit and at most `max`; stops before the
    /// first non-digit and leaves it to the caller, so "12a" fails at the separator.
    ///
    /// Leading zeros are accepted: the protocol does not forbid them and the value
    /// is still unambiguous. The bound is checked digit by digit, so a run of digits of
    /// any length cannot overflow.
    @inline(__always)
    mutating func number(max: UInt32) -> UInt32? {
        let start = index
        var value: UInt64 = 0
        while index < end {
            let digit = base.load(fromByteOffset: index, as: UInt8.self) &- UInt8(ascii: "0")
            if digit > 9 { break }
            value = value * 10 + UInt64(digit)
            if value > UInt64(max) { return nil }
            index += 1
        }
        return index == start ? nil : UInt32(truncatingIfNeeded: value)
    }

    /// An optional number: an empty field (the next byte is `,` or the end) is `nil`.
    /// The outer optional is `nil` when the field is present but not a valid number.
    @inline(__always)
    mutating func optionalNumber(max: UInt32) -> UInt32?? {
        if index == end || current == UInt8(ascii: ",") { return .some(nil) }
        guard let value = number(max: max) else { return nil }
        return .some(value)
    }

    /// Exactly `count` hex digits (either case) as a number.
    @inline(__always)
    mutating func hex(digits count: Int) -> UInt32? {
        guard end - index >= count else { return nil }
        var value: UInt32 = 0
        for k in 0..<count {
            guard let nibble = hexValue(base.load(fromByteOffset: index + k, as: UInt8.self)) else {
                return nil
            }
            value = value << 4 | UInt32(nibble)
        }
        index += count
        return value
    }

    /// The bytes up to the next `,` or the end, which are consumed.
    mutating func token() -> UnsafeRawBufferPointer {
        let start = index
        while let byte = current, byte != UInt8(ascii: ",") { index += 1 }
        return UnsafeRawBufferPointer(start: base + start, count: index - start)
    }
}

/// The value of one hex digit, upper- or lower-case.
///
/// Lower case is accepted on receive (the protocol writes upper case, and so does
/// `MessageEncoder`): the case carries no information, the checksum still covers every
/// field, and NMEA-style senders are known to differ.
@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
    default: nil
    }
}

/// `[A-Za-z0-9_-]`: the characters of a gateway id, in both encodings.
@inline(__always)
func isGatewayIdByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
        true
    default:
        false
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes spell `literal` (ASCII); compares without building a String.
    func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        return elementsEqual(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}

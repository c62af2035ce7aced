/// Writes messages in either encoding: what the simulator sends, what the host sends to
/// the gateway (`LED`, `PING`), and what the tests check against the vectors byte for byte.
///
/// The encoder writes what it is given and checks nothing a receiver checks: a reading
/// with a power factor of 101 or a `HELLO` with an invalid id goes out as is, so that the
/// simulator can inject faults and the tests can build invalid frames. The one exception
/// is a binary `HELLO` id over 255 bytes, which its one-byte length cannot express: that
/// is a programming error and traps.
public enum MessageEncoder {
    /// Appends `message`, framed and checksummed, to `buffer`: text lines end with
    /// `\r\n`, binary frames with their `0x00` delimiter.
    public static func append(_ message: Message, as encoding: FrameEncoding, to buffer: inout [UInt8]) {
        switch encoding {
        case .text: TextMessageWriter.append(message, to: &buffer)
        case .binary: BinaryMessageWriter.append(message, to: &buffer)
        }
    }

    /// `message`, framed and checksummed, as a new buffer.
    public static func encode(_ message: Message, as encoding: FrameEncoding) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        append(message, as: encoding, to: &buffer)
        return buffer
    }
}

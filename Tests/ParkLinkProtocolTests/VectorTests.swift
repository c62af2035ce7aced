import ParkLinkProtocol
import Testing

/// PROTOCOL.md's worked examples: every implementation must decode them exactly, and
/// ours must also write them byte for byte.
@Suite("vectors.json")
struct VectorTests {
    @Test("the fixture holds every kind of vector", arguments: [FrameEncoding.text, .binary])
    func fixtureIsComplete(encoding: FrameEncoding) {
        let kinds: Set<String> = switch encoding {
        case .text: Set(Vectors.all.text.map(\.decoded.type))
        case .binary: Set(Vectors.all.binary.map(\.decoded.type))
        }
        #expect(kinds == ["hello", "reading", "heartbeat", "led", "ping"])
        #expect(!Vectors.all.invalidText.isEmpty)
    }

    @Test("a text vector decodes to its message", arguments: Vectors.all.text)
    func textDecodes(vector: TextVector) {
        let result = decode(vector.bytes, as: .text)
        #expect(result.events == [.message(vector.decoded.message)])
        #expect(result.noiseBytes == 0)
    }

    @Test("a text vector is what the encoder writes", arguments: Vectors.all.text)
    func textEncodes(vector: TextVector) {
        #expect(MessageEncoder.encode(vector.decoded.message, as: .text) == vector.bytes)
    }

    @Test("an invalid text vector is rejected for its reason", arguments: Vectors.all.invalidText)
    func invalidTextRejected(vector: InvalidTextVector) {
        #expect(decode(vector.bytes, as: .text).events == [.rejected(vector.reason)])
    }

    @Test("an invalid text vector costs only itself", arguments: Vectors.all.invalidText)
    func invalidTextCostsOnlyItself(vector: InvalidTextVector) {
        let good = Vectors.all.text[1]
        let result = decode(good.bytes + vector.bytes + good.bytes, as: .text)
        #expect(
            result.events == [
                .message(good.decoded.message), .rejected(vector.reason), .message(good.decoded.message),
            ])
    }

    @Test("a binary vector decodes to its message", arguments: Vectors.all.binary)
    func binaryDecodes(vector: BinaryVector) {
        let result = decode(vector.wire, as: .binary)
        #expect(result.events == [.message(vector.decoded.message)])
        #expect(result.noiseBytes == 0)
    }

    @Test("a binary vector is what the encoder writes", arguments: Vectors.all.binary)
    func binaryEncodes(vector: BinaryVector) {
        #expect(MessageEncoder.encode(vector.decoded.message, as: .binary) == vector.wire)
    }

    @Test("a binary vector's wire bytes are its unencoded bytes, COBS-stuffed and delimited", arguments: Vectors.all.binary)
    func binaryStuffing(vector: BinaryVector) {
        #expect(COBS.encode(vector.unencoded) + [0] == vector.wire)
        #expect(COBS.decode(Array(vector.wire.dropLast())) == vector.unencoded)
        let body = Array(vector.unencoded.dropLast(2))
        let crc = CRC16.checksum(body)
        #expect(Array(vector.unencoded.suffix(2)) == [UInt8(crc & 0xFF), UInt8(crc >> 8)])
    }

    @Test("a reading is 23 bytes on the wire, as PROTOCOL.md says")
    func readingWireSize() {
        for vector in Vectors.all.binary where vector.decoded.type == "reading" {
            #expect(vector.wire.count == 23)
        }
    }
}

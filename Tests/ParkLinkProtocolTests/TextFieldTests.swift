import ParkLinkProtocol
import Testing

/// Field rules of the text encoding, beyond the vectors. Every line here carries a
/// correct checksum, so the verdict is about the fields alone.
@Suite("Text fields")
struct TextFieldTests {
    @Test(
        "a line that breaks a field rule is malformed",
        arguments: [
            "R,+0,12,1034,1,38,2301,420,97",  // leading +
            "R, 0,12,1034,1,38,2301,420,97",  // space
            "R,0,12,1034,1,38,2301,420,97,",  // empty ninth field
            "R,0,12,1034,1,38,2301,420,97,5",  // too many fields
            "R,0,12,1034,,38,2301,420,97",  // occupied is never empty
            "R,,12,1034,1,38,2301,420,97",  // seq is never empty
            "R,0,12,,1,38,2301,420,97",  // t_ms is never empty
            "R,0,12,1034,1,65536,2301,420,97",  // distance exceeds u16
            "R,0,12,1034,1,38,65536,420,97",  // voltage exceeds u16
            "R,0,12,1034,1,38,2301,65536,97",  // current exceeds u16
            "R,0,12,4294967296,1,38,2301,420,97",  // t_ms exceeds u32
            "R,0,12,1034,1,3.8,2301,420,97",  // not an integer
            "R,0x1,12,1034,1,38,2301,420,97",  // not decimal
            "R",  // no fields
            "R,",  // one empty field
            "HB,3,2000",  // too few
            "HB,3,2000,0,0",  // too many
            "HB,3,2000,-1",
            "HELLO,,9F3A11C2,1.0.0,48",  // empty id
            "HELLO,ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456,9F3A11C2,1.0.0,48",  // 33-character id
            "HELLO,GW.01,9F3A11C2,1.0.0,48",  // '.' is not an id character
            "HELLO,GW-01,9F3A11C,1.0.0,48",  // boot id of 7 digits
            "HELLO,GW-01,9F3A11C23,1.0.0,48",  // boot id of 9 digits
            "HELLO,GW-01,9F3A11CG,1.0.0,48",  // not hex
            "HELLO,GW-01,9F3A11C2,1.0,48",  // two-part firmware
            "HELLO,GW-01,9F3A11C2,1.0.0.0,48",  // four-part firmware
            "HELLO,GW-01,9F3A11C2,1.256.0,48",  // minor exceeds u8
            "HELLO,GW-01,9F3A11C2,1.0.0,65536",  // sensor_count exceeds u16
            "LED,12,PURPLE",
            "LED,12,red",  // colours are spelled in upper case
            "LED,12,",
            "LED,65536,RED",
            "PING,",  // PING has no fields
            "PING,1",
        ])
    func malformed(body: String) {
        #expect(decode(Frames.textLine(body), as: .text).events == [.rejected(.malformed)])
    }

    @Test(
        "a type the protocol does not define is unknownType, whatever its fields",
        arguments: ["ZZ,1,2", "r,0,12,1034,1,38,2301,420,97", "", "PINGX", "HELLOS,GW-01"])
    func unknownType(body: String) {
        #expect(decode(Frames.textLine(body), as: .text).events == [.rejected(.unknownType)])
    }

    @Test("leading zeros are accepted: the value is still unambiguous")
    func leadingZeros() {
        let events = decode(Frames.textLine("R,007,0012,1034,1,038,2301,420,097"), as: .text).events
        #expect(
            events == [
                .message(.reading(Reading(seq: 7, sensor: 12, gatewayMs: 1034, occupied: true,
                                          distanceCm: 38, voltageDv: 2301, currentMa: 420, powerFactorPct: 97)))
            ])
    }

    @Test("all four optional fields may be empty at once; occupied 0 is false")
    func allOptionalEmpty() {
        let events = decode(Frames.textLine("R,5,6,7,0,,,,"), as: .text).events
        #expect(events == [.message(.reading(Reading(seq: 5, sensor: 6, gatewayMs: 7, occupied: false)))])
    }

    @Test("a lower-case boot id is read as the same number")
    func lowercaseBootId() {
        let events = decode(Frames.textLine("HELLO,gw_01,9f3a11c2,255.255.255,0"), as: .text).events
        let hello = Hello(gatewayId: "gw_01", bootId: 0x9F3A_11C2,
                          firmware: FirmwareVersion(major: 255, minor: 255, patch: 255), sensorCount: 0)
        #expect(events == [.message(.hello(hello))])
    }

    @Test("a 32-character id of every allowed kind of character is accepted")
    func longestId() {
        let id = "Az09_-" + String(repeating: "x", count: 26)
        let events = decode(Frames.textLine("HELLO,\(id),00000000,0.0.0,1"), as: .text).events
        let hello = Hello(gatewayId: id, bootId: 0, firmware: FirmwareVersion(major: 0, minor: 0, patch: 0), sensorCount: 1)
        #expect(events == [.message(.hello(hello))])
    }

    @Test("every colour decodes by its upper-case name", arguments: LEDColor.allCases)
    func colours(color: LEDColor) {
        #expect(decode(Frames.textLine("LED,9,\(color.name)"), as: .text).events == [.message(.led(LEDCommand(sensor: 9, color: color)))])
    }

    @Test("a line without a checksum is noChecksum, even an empty one")
    func noChecksum() {
        #expect(decode(Array("$\r\n$HB,1,2,3\n".utf8), as: .text).rejects == [.noChecksum, .noChecksum])
    }
}

import ParkLinkDaemon
import ParkLinkProtocol
import Testing

/// The configuration file: every mistake names the file, the line and the fix.
@Suite("Configuration file")
struct ConfigTests {
    @Test("a complete file is read with every setting")
    func completeFile() throws {
        let c = try ApplianceConfig.parse(text: """
            [link]
            device = "/dev/ttyACM0"
            baud = 1000000
            framing = "binary"
            max_sessions = 128

            [database]
            dsn = "mysql://parklink@db.example:3307/parklink"

            [pipeline]
            ring_capacity = 65536
            batch_max_rows = 2000
            insert_method = "multi-row"

            [sampler]
            interval_seconds = 2
            hourly_rate_cents = 250
            timezone = "Europe/London"
            offline_after_seconds = 300

            [[zone]]
            id = "A"
            facility = "North"
            sensors = "1-10, 20"
            daily_target = 50

            [[zone]]
            id = "B"
            sensors = [11, 12]
            capacity = 5

            [[bay]]
            sensor = 20
            name = "A-VIP"
            """)
        #expect(c.device == "/dev/ttyACM0")
        #expect(c.baud == 1_000_000)
        #expect(c.framing == .binary)
        #expect(c.maxSessions == 128)
        #expect(ApplianceConfig().maxSessions == 4_096, "generous by default")
        #expect(c.ringCapacity == 65_536)
        #expect(c.batchMaxRows == 2_000)
        #expect(c.insertMethod == .multiRow)
        #expect(c.samplerIntervalSeconds == 2)
        #expect(c.hourlyRateCents == 250)
        #expect(c.timeZone == "Europe/London")
        #expect(c.alertRules.offlineAfterSeconds == 300)
        #expect(c.zones.zones.map(\.id) == ["A", "B"])
        #expect(c.zones.zones[0].capacity == 11)
        #expect(c.zones.zones[1].capacity == 5)
        #expect(c.zones.zoneId(of: 12) == "B")
        #expect(c.zones.zoneId(of: 13) == nil)
        #expect(c.zones.bay(of: 20) == "A-VIP")
        #expect(c.zones.bay(of: 3) == "A-3")
    }

    func error(_ text: String) -> ConfigError? {
        do {
            _ = try ApplianceConfig.parse(text: text, path: "/etc/parklink.toml")
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            return nil
        }
    }

    @Test("a misspelt key names the file, the line and the key it probably meant")
    func unknownKey() throws {
        let e = try #require(error("[link]\ndevice = \"/dev/ttyACM0\"\nbaudrate = 9600\n"))
        #expect(e.file == "/etc/parklink.toml")
        #expect(e.line == 3)
        #expect(e.description.hasPrefix("/etc/parklink.toml:3: unknown key `baudrate`"))
        #expect(e.fix.contains("did you mean `baud`?"))
    }

    @Test("a value of the wrong type or out of range names its line and the fix")
    func wrongValues() throws {
        let type = try #require(error("[link]\n\nbaud = \"fast\"\n"))
        #expect(type.line == 3)
        #expect(type.message.contains("whole number"))
        let range = try #require(error("[pipeline]\nring_capacity = 10\n"))
        #expect(range.line == 2)
        #expect(range.fix == "ring_capacity = 262144")
        let framing = try #require(error("[link]\nframing = \"morse\"\n"))
        #expect(framing.line == 2)
        #expect(framing.fix.contains("\"text\" or \"binary\""))
    }

    @Test("broken TOML is reported at its line")
    func brokenSyntax() throws {
        let e = try #require(error("[link]\ndevice = \n"))
        #expect(e.line == 2)
        #expect(e.message.contains("not valid TOML"))
    }

    @Test("a password in the config file's DSN is refused: it belongs in PARKLINK_DB_PASSWORD")
    func passwordInFile() throws {
        let e = try #require(error("[database]\ndsn = \"mysql://u:secret@h/db\"\n"))
        #expect(e.line == 2)
        #expect(!e.description.contains("secret"))
        #expect(e.fix.contains("PARKLINK_DB_PASSWORD"))
    }

    @Test("a malformed DSN is a configuration error at load time, with its line and the fix",
          arguments: ["postgres://u@h/db", "mysql://u@h:99999/db", "mysql://u@h", "not a url"])
    func malformedDSN(dsn: String) throws {
        let e = try #require(error("# the database\n[database]\ndsn = \"\(dsn)\"\n"))
        #expect(e.line == 3)
        #expect(e.message.contains("DSN"))
        #expect(e.fix.contains("mysql://"))
    }

    @Test("zones: a sensor in two zones, a bad sensor list and an unknown section are errors")
    func zoneMistakes() throws {
        let twice = try #require(error("[[zone]]\nid = \"A\"\nsensors = \"1-5\"\n[[zone]]\nid = \"B\"\nsensors = \"5-9\"\n"))
        #expect(twice.message.contains("sensor 5"))
        let list = try #require(error("[[zone]]\nid = \"A\"\nsensors = \"1-x\"\n"))
        #expect(list.line == 3)
        let section = try #require(error("[sampling]\ninterval_seconds = 5\n"))
        #expect(section.line == 1)
        #expect(section.fix.contains("[sampler]"))
        let tz = try #require(error("[sampler]\ntimezone = \"Mars/Olympus\"\n"))
        #expect(tz.line == 2)
    }
}

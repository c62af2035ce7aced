import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
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
            coalesce_ms = 5

            [database]
            dsn = "mysql://parklink@db.example:3307/parklink"

            [pipeline]
            ring_capacity = 65536
            batch_max_rows = 2000
            insert_method = "multi-row"
            occupancy_debounce_ms = 1500
            idle_linger_ms = 50

            [spool]
            max_megabytes = 512
            sync_interval_ms = 100
            high_water_percent = 75

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
        #expect(c.occupancyDebounceMs == 1_500)
        #expect(c.idleLingerMs == 50 && c.coalesceMs == 5)
        #expect(ApplianceConfig().occupancyDebounceMs == 0, "off by default: every change is an event")
        #expect(c.spoolEnabled && c.spoolMaxMegabytes == 512 && c.spoolSyncIntervalMs == 100 && c.spoolHighWaterPercent == 75)
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
        let debounce = try #require(error("[pipeline]\noccupancy_debounce_ms = -5\n"))
        #expect(debounce.line == 2 && debounce.fix.contains("occupancy_debounce_ms = 2000"))
        let framing = try #require(error("[link]\nframing = \"morse\"\n"))
        #expect(framing.line == 2)
        #expect(framing.fix.contains("\"text\" or \"binary\""))
    }

    @Test("[metrics] listen: off when absent, an address when given, its line and the form when wrong")
    func metricsListen() throws {
        #expect(try ApplianceConfig.parse(text: "[link]\nbaud = 9600\n").metricsListen == nil, "off by default")
        let on = try ApplianceConfig.parse(text: "[metrics]\nlisten = \"127.0.0.1:9464\"\n")
        #expect(on.metricsListen?.description == "127.0.0.1:9464")
        let bad = try #require(error("[metrics]\n\nlisten = \"9464\"\n"))
        #expect(bad.line == 3)
        #expect(bad.fix.contains("127.0.0.1:9464"))
        let key = try #require(error("[metrics]\nlisten_address = \"127.0.0.1:9464\"\n"))
        #expect(key.fix.contains("did you mean `listen`?"))
    }

    @Test("broken TOML is reported at its line")
    func brokenSyntax() throws {
        let e = try #require(error("[link]\ndevice = \n"))
        #expect(e.line == 2)
        #expect(e.message.contains("not valid TOML"))
    }

    @Test("a password in the config file's DSN is refused: it belongs in password_file or PARKLINK_DB_PASSWORD")
    func passwordInFile() throws {
        let e = try #require(error("[database]\ndsn = \"mysql://u:secret@h/db\"\n"))
        #expect(e.line == 2)
        #expect(!e.description.contains("secret"))
        #expect(e.fix.contains("password_file"))
        #expect(e.fix.contains("PARKLINK_DB_PASSWORD"))
    }

    @Test("password_file under [database]: a private file is accepted and only its path is kept")
    func passwordFileAccepted() throws {
        let path = try passwordFile(mode: 0o600)
        let c = try ApplianceConfig.parse(text: "[database]\ndsn = \"mysql://u@h/db\"\npassword_file = \"\(path)\"\n")
        #expect(c.passwordFile == path)
        #expect(c.dsn == "mysql://u@h/db")
        let readOnly = try passwordFile(mode: 0o400)
        #expect(try ApplianceConfig.parse(text: "[database]\npassword_file = \"\(readOnly)\"\n").passwordFile == readOnly)
    }

    @Test("password_file that others may read is refused at its line, with `chmod 600 PATH`", arguments: [0o644, 0o640, 0o604])
    func passwordFileTooOpen(mode: Int) throws {
        let path = try passwordFile(mode: mode_t(mode))
        let e = try #require(error("[database]\ndsn = \"mysql://u@h/db\"\n\npassword_file = \"\(path)\"\n"))
        #expect(e.file == "/etc/parklink.toml")
        #expect(e.line == 4)
        #expect(e.message.contains("password_file \(path): it has mode 0\(String(mode, radix: 8))"))
        #expect(e.fix == "`chmod 600 \(path)`")
        #expect(!e.description.contains("Hunter2Secret"), "never the password")
    }

    @Test("password_file: missing, relative, not a file, not a string: each at its line with the fix")
    func passwordFileMistakes() throws {
        let missing = try #require(error("[database]\npassword_file = \"/nonexistent/parklink/db-password\"\n"))
        #expect(missing.line == 2)
        #expect(missing.message.contains("no such file"))
        #expect(missing.fix.contains("chmod 600 /nonexistent/parklink/db-password"))
        let relative = try #require(error("[database]\npassword_file = \"db-password\"\n"))
        #expect(relative.line == 2)
        #expect(relative.message.contains("not an absolute path"))
        #expect(relative.fix.hasPrefix("password_file = \"/etc/parklink/db-password\""))
        let directory = try #require(error("[database]\npassword_file = \"/tmp\"\n"))
        #expect(directory.message.contains("a directory, not a regular file"))
        let number = try #require(error("[database]\npassword_file = 600\n"))
        #expect(number.line == 2)
        #expect(number.message.contains("must be a string"))
        let typo = try #require(error("[database]\npasword_file = \"/x\"\n"))
        #expect(typo.fix.contains("did you mean `password_file`?"))
    }

    /// A password file with `mode`, owned by the current user.
    func passwordFile(mode: mode_t) throws -> String {
        let path = Repository.temporaryDirectory("plcfg") + "/db-password"
        try Data("Hunter2Secret\n".utf8).write(to: URL(fileURLWithPath: path))
        try #require(chmod(path, mode) == 0)
        return path
    }

    @Test("a malformed DSN is a configuration error at load time, with its line and the fix",
          arguments: ["postgres://u@h/db", "mysql://u@h:99999/db", "mysql://u@h", "not a url"])
    func malformedDSN(dsn: String) throws {
        let e = try #require(error("# the database\n[database]\ndsn = \"\(dsn)\"\n"))
        #expect(e.line == 3)
        #expect(e.message.contains("DSN"))
        #expect(e.fix.contains("mysql://"))
    }

    @Test("a cluster's DSN in the config file: several hosts load; a host named twice is refused at its line")
    func clusterDSN() throws {
        let c = try ApplianceConfig.parse(text: "[database]\ndsn = \"mysql://parklink@db1:3306,db2:3306,db3/parklink\"\n")
        #expect(c.dsn == "mysql://parklink@db1:3306,db2:3306,db3/parklink")
        #expect(try DSN.parse(#require(c.dsn), environment: [:]).hosts.count == 3)
        let twice = try #require(error("[database]\ndsn = \"mysql://parklink@db1,db1:3306/parklink\"\n"))
        #expect(twice.line == 2)
        #expect(twice.message.contains("names host 'db1:3306' twice"), "\(twice)")
        let secret = try #require(error("[database]\ndsn = \"mysql://parklink:pw@db1,db2/parklink\"\n"))
        #expect(secret.message.contains("holds a password") && !secret.description.contains(":pw@"))
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

    // MARK: Hostile input (fuzz/run, FuzzConfig)

    @Test("a table header that does not start with a name is a config error, not an abort in toml++",
          arguments: ["[!]\n", "[ *x]\n", "[[.a]]\n", "[[[a]]]\n", "[\u{FFFD}nik]\ndevice = 1\n"])
    func headerWithoutName(text: String) throws {
        // Before the fix the process died in toml++: "Assertion `is_bare_key_character(*cp)
        // || is_string_delimiter(*cp)' failed". The fifth input is what the fuzzer found
        // (its invalid UTF-8 byte read as the replacement character).
        let e = try #require(error("# parklink\n" + text))
        #expect(e.line == 2)
        #expect(e.message.contains("does not start with a name"))
        #expect(e.fix.contains("[link]"))
        // toml++ skips a byte-order mark first; so does the check.
        let bom = try #require(error("\u{FEFF}[=]\n"))
        #expect(bom.line == 1)
        #expect(bom.message.contains("does not start with a name"))
    }

    @Test("an unquoted value that is not a number or a boolean is a config error, not an abort in toml++",
          arguments: ["link = { device = 1979-05-27Te07:32:00Z, baud = 1 }", "[link]\nbaud = 1979-05-27T07:32:00Z",
                      "[link]\nbaud = 07:32:00", "[link]\nbaud = [1, 2, 1979-05-27]", "[link]\ndevice = /dev/ttyACM0"])
    func unquotedNonNumber(text: String) throws {
        // The first is what the fuzzer found: toml++ took it for a date-time and died in
        // parse_time ("Assertion `is_decimal_digit(*cp)' failed").
        let e = try #require(error(text + "\n"))
        #expect(e.line == text.split(separator: "\n").count)
        #expect(e.message.contains("is not a number, true or false"))
    }

    @Test("a NUL byte is an error at its line, not the silent end of the file")
    func nulByte() throws {
        let e = try #require(error("[link]\ndevice = \"/dev/ttyACM0\"\u{0}\n[nonsense]\n"))
        #expect(e.line == 2)
        #expect(e.message.contains("NUL"))
    }

    @Test("valid TOML that only looks like those is still read: numbers of every form, `[` in arrays, strings and comments")
    func lookalikesAreRead() throws {
        let c = try ApplianceConfig.parse(text: #"""
            [link] # [!not a header]
            baud = 0x1C200
            device = '''
            [!not a header either'''
            [sampler]
            interval_seconds = 1e1
            high_power_watts = 1_500.5
            low_health_below = +30
            hourly_rate_cents = 0o17
            "offline_after_seconds" = 90.0

            [[zone]]
            id = "A"
            facility = """
            [=] "quoted" \\
            """
            sensors = [
              1, 2,  # [!comment
              3,
            ]
            [[zone]]
            id = "B"
            sensors = []
            """#)
        #expect(c.baud == 115_200)
        #expect(c.device == "[!not a header either")
        #expect(c.samplerIntervalSeconds == 10)
        #expect(c.alertRules.highPowerWatts == 1_500.5)
        #expect(c.alertRules.lowHealthBelow == 30)
        #expect(c.hourlyRateCents == 15)
        #expect(c.alertRules.offlineAfterSeconds == 90)
        #expect(c.zones.zones.map(\.sensors) == [[1, 2, 3], []])
        #expect(c.zones.zones[0].facility == "[=] \"quoted\" \\\n")
    }

    @Test("the [spool] section is read (it was refused as an unknown section)")
    func spoolSection() throws {
        let c = try ApplianceConfig.parse(text: """
            [spool]
            enabled = false
            max_megabytes = 64
            sync_interval_ms = 100
            high_water_percent = 75
            """)
        #expect(!c.spoolEnabled)
        #expect(c.spoolMaxMegabytes == 64)
        #expect(c.spoolSyncIntervalMs == 100)
        #expect(c.spoolHighWaterPercent == 75)
        let e = try #require(error("[spool]\nmax_megabytes = 0\n"))
        #expect(e.line == 2)
    }

    @Test("relative paths in the file are taken from the file's directory; on the command line, from the current one")
    func relativePaths() throws {
        let dir = Repository.temporaryDirectory("plcfg")
        try "[link]\ndevice = \"./gw\"\n[state]\ndirectory = \"../state\"\n"
            .write(toFile: dir + "/parklink.toml", atomically: true, encoding: .utf8)
        let c = try ApplianceConfig.load(path: dir + "/parklink.toml")
        #expect(c.device == dir + "/gw")
        #expect(c.stateDirectory == FileSystem.directoryName(dir) + "/state")

        var o = ApplianceRunner.Overrides()
        o.device = "ttyX"
        o.stateDirectory = "st4"
        let cwd = try FileSystem.currentDirectory()
        let overridden = try ApplianceRunner.configuration(file: dir + "/parklink.toml", overrides: o)
        #expect(overridden.device == cwd + "/ttyX")
        #expect(overridden.stateDirectory == cwd + "/st4")
    }

    @Test("a missing file is named by its absolute path")
    func missingFile() throws {
        #expect {
            try ApplianceConfig.load(path: "no-such-parklink.toml")
        } throws: { error in
            (error as? ConfigError)?.file == (try? FileSystem.currentDirectory()).map { $0 + "/no-such-parklink.toml" }
        }
    }
}

/// The state directory: always absolute, always 0750.
@Suite("State directory")
struct StateDirectoryTests {
    @Test("a relative path is taken from the current directory, as are PARKLINK_STATE_DIR's")
    func relative() throws {
        let cwd = try FileSystem.currentDirectory()
        #expect(StateDirectory.resolve(explicit: "st4").path == cwd + "/st4")
        #expect(StateDirectory.resolve(explicit: nil, environment: ["PARKLINK_STATE_DIR": "st5"]).path == cwd + "/st5")
        #expect(StateDirectory.resolve(explicit: nil, environment: ["XDG_STATE_HOME": "rel", "HOME": "/home/t"]).path
                == "/home/t/.local/state/parklink", "a relative XDG_STATE_HOME is ignored, as the XDG spec says")
    }

    @Test("create makes it 0750, and sets 0750 on one that already exists with another mode")
    func modeIsEnforced() throws {
        let root = Repository.temporaryDirectory("plst")
        let fresh = StateDirectory(path: root + "/a/b")
        try fresh.create()
        #expect(try FileSystem.status(fresh.path).permissions == 0o750)
        let existing = StateDirectory(path: root + "/c")
        try FileSystem.makeDirectory(existing.path)
        try FileSystem.setPermissions(existing.path, 0o777)
        try existing.create()
        #expect(try FileSystem.status(existing.path).permissions == 0o750)
        try "x".write(toFile: root + "/file", atomically: true, encoding: .utf8)
        #expect(throws: SystemError.self) { try StateDirectory(path: root + "/file").create() }
    }
}

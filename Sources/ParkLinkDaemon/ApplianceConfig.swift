import Foundation
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkStore
import ParkLinkSystem
import TOMLKit

/// Everything `parklink run` can be told, from the config file, then overridden by
/// command-line options. Secrets never live here: the database password comes from the
/// file `passwordFile` names (only its path is kept), `PARKLINK_DB_PASSWORD`, or the DSN
/// on the command line, in that order.
public struct ApplianceConfig: Sendable {
    public typealias InsertMethod = ReadingInsertMethod

    // [link]
    public var device: String?
    public var baud: UInt32 = 115_200
    public var framing: FrameEncoding = .text
    public var helloTimeoutMs = 2_000
    public var fallbackGatewayId = "unknown"
    /// Raise the reader thread to SCHED_FIFO (or nice −10) when allowed.
    public var readerRealtime = true
    /// On a slow line, the reader's pause between reads (see `SerialReader.Config.coalesceMs`).
    public var coalesceMs = 30
    /// The most (gateway, boot) sessions one run keeps; past it a new session's readings
    /// are dropped and counted (a gateway changing its id or boot id on and on).
    public var maxSessions = 4_096
    // [database]
    public var dsn: String?
    /// A file holding the database password (`--db-password-file`, `password_file`):
    /// checked by `PasswordFile` when the configuration is loaded and again when read.
    public var passwordFile: String?
    // [pipeline]
    public var ringCapacity = 262_144
    /// Large, so that a writer that fell behind catches up with fewer commits (each waits
    /// for the log's fsync); a moderate rate fills batches by the linger, not by this.
    public var batchMaxRows = 20_000
    /// A batch is taken this long after its oldest reading came (or when it is full).
    public var batchLingerMs = 20
    /// The linger while batches are small (a slow line): fewer commits, a longer wait.
    public var idleLingerMs = 100
    public var insertMethod: InsertMethod = .arrayBinding
    /// Hold a bay's change of `occupied` back until it has lasted this long; a bay that
    /// flips back sooner (a flapping sensor) yields no arrival or departure, and what is
    /// suppressed is counted. 0: off, every change is an event. Readings are stored either way.
    public var occupancyDebounceMs = 0
    /// How long `run` keeps retrying the last batches on SIGTERM when the database is down.
    public var shutdownGraceSeconds = 30
    // [spool]
    /// Readings the ring cannot hold go to the spool in the state directory.
    public var spoolEnabled = true
    public var spoolMaxMegabytes = 2_048
    public var spoolSyncIntervalMs = 250
    /// The reader spools once the ring is this full (or the writer stops committing).
    public var spoolHighWaterPercent = 50
    // [state]
    public var stateDirectory: String?
    // [metrics]
    /// Where `run` serves Prometheus metrics (`GET /metrics`); nil: not at all (the default).
    public var metricsListen: TCPAddress?
    // [sampler]
    public var samplerIntervalSeconds = 5.0
    /// How often each sensor's health is appended to `sensor_health_history`.
    public var healthHistoryIntervalSeconds = 60.0
    /// Parking tariff for the garage's revenue figure, integer cents per hour.
    public var hourlyRateCents = 0
    /// The day boundary for "arrivals today" (an IANA name, e.g. "Europe/London").
    public var timeZone = "UTC"
    /// The file sets `timezone` (reports then use it rather than `TZ`).
    public var timeZoneSetInFile = false
    public var healthRules = HealthRules()
    public var alertRules = AlertRules()
    // [storage]
    public var storage = StorageUpkeepConfig()
    // [[zone]], [[bay]]
    public var zones = try! ZoneMap()
    // [notify]
    public var notify = NotifyConfig()
    // [[target]]: a zone's daily target on particular dates, over its `daily_target`.
    public var dateTargets: [DateTarget] = []

    public init() {}

    /// Loads and checks `path`; every mistake names the file (as an absolute path), line
    /// and fix. Relative paths in the file (`device`, `directory`) are relative to the
    /// file's own directory, so the file means the same whoever starts parklink, from
    /// wherever.
    public static func load(path: String) throws -> ApplianceConfig {
        let file = FileSystem.absolutePath(path)
        var c = try parse(TOMLDocument(path: file))
        c.resolvePaths(relativeTo: FileSystem.directoryName(file))
        return c
    }

    /// Makes `device` and `stateDirectory` absolute against `directory`.
    public mutating func resolvePaths(relativeTo directory: String) {
        device = device.map { FileSystem.absolutePath($0, relativeTo: directory) }
        stateDirectory = stateDirectory.map { FileSystem.absolutePath($0, relativeTo: directory) }
    }

    public static func parse(text: String, path: String = "parklink.toml") throws -> ApplianceConfig {
        try parse(TOMLDocument(path: path, text: text))
    }

    static func parse(_ doc: TOMLDocument) throws -> ApplianceConfig {
        var c = ApplianceConfig()
        let sections = ["link", "database", "pipeline", "spool", "state", "metrics", "sampler", "storage", "notify", "zone", "bay", "target"]
        for key in doc.root.keys where !sections.contains(key) {
            let best = sections.min { editDistance($0, key) < editDistance($1, key) }!
            throw ConfigError(file: doc.path, line: doc.line(of: key, in: nil) ?? doc.line(of: "", in: key),
                              message: "unknown section or key `\(key)`",
                              fix: "the sections are [\(sections.joined(separator: "], ["))]; did you mean [\(best)]?")
        }
        func table(_ name: String) throws -> ConfigSection? {
            guard let v = doc.root[name] else { return nil }
            guard let t = v.table else {
                throw ConfigError(file: doc.path, line: doc.line(of: name, in: nil), message: "`\(name)` must be a table",
                                  fix: "write it as a [\(name)] header followed by key = value lines")
            }
            return ConfigSection(doc: doc, name: name, table: t)
        }
        if var s = try table("link") {
            c.device = try s.string("device", fix: "device = \"/dev/ttyACM0\"")
            if let b = try s.int("baud", range: 50...4_000_000, fix: "baud = 115200 (a USB CDC gateway ignores it)") {
                c.baud = UInt32(b)
            }
            if let f = try s.string("framing", fix: "framing = \"text\" or \"binary\"") {
                guard let e = FrameEncoding(rawValue: f) else {
                    throw doc.error("link", "framing", "framing `\(f)` is not known", fix: "framing = \"text\" or \"binary\"")
                }
                c.framing = e
            }
            if let v = try s.bool("realtime_reader", fix: "realtime_reader = true") { c.readerRealtime = v }
            if let v = try s.int("coalesce_ms", range: 0...100, fix: "coalesce_ms = 30 (0: read each frame as it comes)") { c.coalesceMs = v }
            if let t = try s.int("hello_timeout_ms", range: 100...600_000, fix: "hello_timeout_ms = 2000") { c.helloTimeoutMs = t }
            if let v = try s.int("max_sessions", range: 1...10_000_000, fix: "max_sessions = 4096") { c.maxSessions = v }
            if let g = try s.string("fallback_gateway_id", fix: "fallback_gateway_id = \"GW-01\"") {
                guard (1...32).contains(g.count), g.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                    throw doc.error("link", "fallback_gateway_id", "`\(g)` is not a gateway id", fix: "1–32 characters of A–Z a–z 0–9 _ -")
                }
                c.fallbackGatewayId = g
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("database") {
            c.dsn = try s.string("dsn", fix: "dsn = \"mysql://user@host:3306/parklink\" (password in password_file or PARKLINK_DB_PASSWORD)")
            if let dsn = c.dsn, let scheme = dsn.range(of: "://"),
               let at = dsn[scheme.upperBound...].firstIndex(of: "@"),
               dsn[scheme.upperBound..<at].contains(":") {
                throw doc.error("database", "dsn", "the DSN holds a password; config files are readable by too many", fix: "remove the password from the DSN and put it in a file named by password_file (mode 0600) or in PARKLINK_DB_PASSWORD")
            }
            if let dsn = c.dsn {
                // Parsed now, so a malformed DSN is reported like any other configuration
                // mistake (file, line, fix) instead of when the writer first connects.
                do {
                    _ = try DSN.parse(dsn, environment: [:])
                } catch {
                    throw doc.error("database", "dsn", "\(error)", fix: "dsn = \"mysql://user@host:3306/parklink\" or \"mysql://user@localhost/parklink?socket=/run/mysqld/mysqld.sock\"")
                }
            }
            let example = "password_file = \"/etc/parklink/db-password\" (the password on its first line, mode 0600)"
            if let file = try s.string("password_file", fix: example) {
                // Absolute: the daemon's working directory is no place to look for a secret.
                guard file.hasPrefix("/") else {
                    throw doc.error("database", "password_file", "password_file `\(file)` is not an absolute path", fix: example)
                }
                // Checked now (type, owner, mode, content), so a loose file is reported like
                // any other configuration mistake; the password itself is not kept.
                do throws(PasswordFile.Refusal) {
                    _ = try PasswordFile.read(file)
                } catch {
                    throw doc.error("database", "password_file", "password_file \(file): \(error.reason)", fix: error.fix)
                }
                c.passwordFile = file
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("pipeline") {
            if let v = try s.int("ring_capacity", range: 1_024...16_777_216, fix: "ring_capacity = 262144") { c.ringCapacity = v }
            if let v = try s.int("batch_max_rows", range: 1...50_000, fix: "batch_max_rows = 20000") { c.batchMaxRows = v }
            if let v = try s.int("batch_linger_ms", range: 0...10_000, fix: "batch_linger_ms = 20") { c.batchLingerMs = v }
            if let v = try s.int("idle_linger_ms", range: 0...10_000, fix: "idle_linger_ms = 100") { c.idleLingerMs = v }
            if let v = try s.int("shutdown_grace_seconds", range: 0...3_600, fix: "shutdown_grace_seconds = 30") { c.shutdownGraceSeconds = v }
            if let v = try s.int("occupancy_debounce_ms", range: 0...3_600_000, fix: "occupancy_debounce_ms = 2000 (0: off)") {
                c.occupancyDebounceMs = v
            }
            if let m = try s.string("insert_method", fix: "insert_method = \"array-binding\" or \"multi-row\"") {
                guard let e = InsertMethod(rawValue: m) else {
                    throw doc.error("pipeline", "insert_method", "insert_method `\(m)` is not known", fix: "insert_method = \"array-binding\" or \"multi-row\"")
                }
                c.insertMethod = e
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("spool") {
            if let v = try s.bool("enabled", fix: "enabled = true") { c.spoolEnabled = v }
            if let v = try s.int("max_megabytes", range: 1...1_048_576, fix: "max_megabytes = 2048 (2 GiB)") { c.spoolMaxMegabytes = v }
            if let v = try s.int("sync_interval_ms", range: 10...60_000, fix: "sync_interval_ms = 250") { c.spoolSyncIntervalMs = v }
            if let v = try s.int("high_water_percent", range: 1...100, fix: "high_water_percent = 50") { c.spoolHighWaterPercent = v }
            try s.rejectUnknownKeys()
        }
        if var s = try table("state") {
            c.stateDirectory = try s.string("directory", fix: "directory = \"/var/lib/parklink\"")
            try s.rejectUnknownKeys()
        }
        if var s = try table("metrics") {
            let fix = "listen = \"127.0.0.1:9464\" (HOST:PORT; an IPv6 address in brackets: \"[::1]:9464\")"
            if let v = try s.string("listen", fix: fix) {
                do {
                    c.metricsListen = try TCPAddress(parsing: v)
                } catch {
                    throw doc.error("metrics", "listen", "`listen` in [metrics]: \(error.text) is not an address to listen on (\(error.reason))", fix: fix)
                }
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("sampler") {
            if let v = try s.double("interval_seconds", range: 0.2...3_600, fix: "interval_seconds = 5") { c.samplerIntervalSeconds = v }
            if let v = try s.double("health_history_interval_seconds", range: 1...86_400, fix: "health_history_interval_seconds = 60") { c.healthHistoryIntervalSeconds = v }
            if let v = try s.int("hourly_rate_cents", range: 0...1_000_000, fix: "hourly_rate_cents = 250 (2.50 an hour)") { c.hourlyRateCents = v }
            if let v = try s.string("timezone", fix: "timezone = \"Europe/London\" (an IANA time zone name)") {
                guard TimeZone(identifier: v) != nil else {
                    throw doc.error("sampler", "timezone", "`\(v)` is not a time zone this system knows", fix: "an IANA name such as \"UTC\" or \"Europe/London\"")
                }
                c.timeZone = v
                c.timeZoneSetInFile = true
            }
            if let v = try s.double("offline_after_seconds", range: 1...86_400, fix: "offline_after_seconds = 120") {
                c.alertRules.offlineAfterSeconds = v
                c.healthRules.freshSeconds = v
            }
            if let v = try s.double("high_power_watts", range: 1...1_000_000, fix: "high_power_watts = 1500") { c.alertRules.highPowerWatts = v }
            if let v = try s.double("low_health_below", range: 0...100, fix: "low_health_below = 30") { c.alertRules.lowHealthBelow = v }
            if let v = try s.double("ring_high_fraction", range: 0.01...1, fix: "ring_high_fraction = 0.8") { c.alertRules.ringHighFraction = v }
            if let v = try s.double("zone_filling_minutes", range: 0...60, fix: "zone_filling_minutes = 30 (the forecast looks an hour ahead)") {
                c.alertRules.zoneFillingMinutes = v
            }
            if let v = try s.int("flapping_changes_per_minute", range: 1...10_000, fix: "flapping_changes_per_minute = 6") {
                c.alertRules.flappingChangesPerMinute = v
            }
            try s.rejectUnknownKeys()
        }
        if var s = try table("storage") { c.storage = try parseStorage(&s) }
        if var s = try table("notify") { c.notify = try parseNotify(&s, doc) }
        c.zones = try parseZones(doc)
        c.dateTargets = try parseDateTargets(doc)
        return c
    }

    /// `[notify]`: the alert actions (see `NotifyConfig`).
    static func parseNotify(_ s: inout ConfigSection, _ doc: TOMLDocument) throws -> NotifyConfig {
        var n = NotifyConfig()
        func url(_ key: String) throws -> WebhookURL? {
            guard let text = try s.string(key, fix: "\(key) = \"http://alerts.example:8080/parklink\"") else { return nil }
            do {
                return try WebhookURL(text)
            } catch {
                throw doc.error("notify", key, "\(error)", fix: "\(key) = \"http://host:port/path\" (plain http)")
            }
        }
        func command(_ key: String) throws -> String? {
            guard let text = try s.string(key, fix: "\(key) = \"/usr/local/bin/page-oncall\" (run with /bin/sh -c)") else { return nil }
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw doc.error("notify", key, "`\(key)` is empty", fix: "give a command, or remove the line")
            }
            return text
        }
        n.command = try command("command")
        n.webhook = try url("webhook")
        n.escalationCommand = try command("escalation_command")
        n.escalationWebhook = try url("escalation_webhook")
        if let v = try s.string("min_severity", fix: "min_severity = \"warning\" (info, warning or critical)") {
            guard let severity = AlertSeverity(rawValue: v) else {
                throw doc.error("notify", "min_severity", "min_severity `\(v)` is not a severity", fix: "min_severity = \"info\", \"warning\" or \"critical\"")
            }
            n.minSeverity = severity
        }
        if let v = try s.double("escalate_after_minutes", range: 0...10_080, fix: "escalate_after_minutes = 15 (0: never)") {
            n.escalateAfterSeconds = v * 60
        }
        if let v = try s.double("timeout_seconds", range: 0.1...600, fix: "timeout_seconds = 10") { n.timeoutSeconds = v }
        if let v = try s.int("retries", range: 0...100, fix: "retries = 3") { n.retries = v }
        if let v = try s.double("retry_backoff_seconds", range: 0...3_600, fix: "retry_backoff_seconds = 2 (doubling each retry)") {
            n.retryBackoffSeconds = v
        }
        if let v = try s.int("queue", range: 1...100_000, fix: "queue = 256") { n.queueCapacity = v }
        try s.rejectUnknownKeys()
        if !n.isEnabled {
            throw doc.error("notify", "", "[notify] names no action", fix: "add command = \"...\" and/or webhook = \"http://...\"")
        }
        return n
    }

    /// `[[zone]]` tables (id, facility, sensors, capacity, daily_target, hourly_rate_cents) and `[[bay]]`
    /// tables (sensor, name) naming individual bays.
    static func parseZones(_ doc: TOMLDocument) throws -> ZoneMap {
        var zones: [Zone] = []
        for var z in try doc.arrayOfTables("zone") {
            guard let id = try z.string("id", fix: "id = \"A\"") else {
                throw doc.error("zone", "", "a [[zone]] has no id", fix: "add id = \"A\" (any short name)")
            }
            // The database keeps zone ids and bay names in 64 characters (bays default to ZONE-SENSOR).
            guard (1...57).contains(id.count) else {
                throw doc.error("zone", "id", "zone id `\(id.prefix(70))` is \(id.count) characters", fix: "use 1–57 characters")
            }
            let facility = try z.string("facility", fix: "facility = \"North garage\"") ?? "default"
            guard facility.count <= 64 else {
                throw doc.error("zone", "facility", "facility name is \(facility.count) characters", fix: "use at most 64 characters")
            }
            var sensors: [UInt16] = []
            z.markUsed("sensors")
            if let v = z.table["sensors"] {
                if let text = v.string, let list = ZoneMap.parseSensorList(text) {
                    sensors = list
                } else if let arr = v.array, let list = Optional(arr.compactMap({ $0.int.flatMap(UInt16.init(exactly:)) })), list.count == arr.count {
                    sensors = list
                } else {
                    throw doc.error("zone", "sensors", "zone `\(id)`: `sensors` is not a sensor list", fix: "sensors = \"1-48, 60\" or sensors = [1, 2, 3] (ids 0–65535)")
                }
            }
            let capacity = try z.int("capacity", range: 0...1_000_000, fix: "capacity = 48") ?? sensors.count
            let target = try z.int("daily_target", range: 1...10_000_000, fix: "daily_target = 120 (arrivals per day)")
            let rate = try z.int("hourly_rate_cents", range: 0...1_000_000, fix: "hourly_rate_cents = 300 (3.00 per started hour)")
            try z.rejectUnknownKeys()
            guard !zones.contains(where: { $0.id == id }) else {
                throw doc.error("zone", "id", "two zones are called `\(id)`", fix: "give each [[zone]] its own id")
            }
            zones.append(Zone(id: id, facility: facility, capacity: capacity, dailyTarget: target, sensors: sensors,
                              hourlyRateCents: rate))
        }
        var bays: [UInt16: String] = [:]
        for var b in try doc.arrayOfTables("bay") {
            guard let sensor = try b.int("sensor", range: 0...65_535, fix: "sensor = 12"),
                  let name = try b.string("name", fix: "name = \"A-012\"") else {
                throw doc.error("bay", "", "a [[bay]] needs both sensor and name", fix: "sensor = 12 and name = \"A-012\"")
            }
            try b.rejectUnknownKeys()
            guard (1...64).contains(name.count) else {
                throw doc.error("bay", "name", "bay name `\(name.prefix(70))` is \(name.count) characters", fix: "use 1–64 characters")
            }
            bays[UInt16(sensor)] = name
        }
        do {
            return try ZoneMap(zones: zones, bays: bays)
        } catch let e as ZoneMap.Conflict {
            throw doc.error("zone", "sensors", "\(e)", fix: "a sensor belongs to one zone: remove it from one of the lists")
        }
    }
}

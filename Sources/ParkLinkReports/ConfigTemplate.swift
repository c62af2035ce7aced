import Foundation
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore

/// `parklink config init`: a commented config file to start from, with one zone per
/// gateway holding every sensor it reported, a rate, and targets from the last week's
/// arrivals. It loads as it is (`ApplianceConfig.load`); the comments say what to change.
public enum ConfigTemplate {
    public struct Seen: Sendable {
        /// Sensors by gateway, ascending.
        public var sensors: [String: [UInt16]]
        /// Arrivals over the last `days` days, by gateway.
        public var arrivals: [String: Int]
        public var days: Int
        public var database: String

        public init(sensors: [String: [UInt16]], arrivals: [String: Int], days: Int, database: String) {
            self.sensors = sensors
            self.arrivals = arrivals
            self.days = days
            self.database = database
        }
    }

    /// What the database has seen, for the template.
    public static func seen(_ c: MariaDBConnection, nowMs: Int64, days: Int = 7) throws -> Seen {
        let repo = StoredStateRepository(connection: c)
        return Seen(sensors: try repo.sensorsSeen(), arrivals: try repo.arrivalsByGateway(sinceMs: nowMs - Int64(days) * 86_400_000),
                    days: days, database: c.dsn.description)
    }

    /// `"1-48, 60, 62-63"`: runs of consecutive ids as ranges (what `sensors =` takes).
    public static func sensorList(_ sensors: [UInt16]) -> String {
        var parts: [String] = []
        var i = 0
        let s = Array(Set(sensors)).sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    /// The file's text. `gateway` limits it to one gateway; otherwise a gateway whose
    /// sensor ids another (listed earlier) already holds gets a commented-out zone, since
    /// one config maps one gateway's sensors (a sensor id belongs to one zone).
    public static func render(_ seen: Seen, gateway: String?, timeZone: String, hourlyRateCents: Int, generatedAt: String) -> String {
        let gateways = seen.sensors.keys.sorted().filter { gateway == nil || $0 == gateway }
        let total = gateways.map { seen.sensors[$0]!.count }.reduce(0, +)
        var out = """
            # ParkLink configuration, written by `parklink config init` at \(generatedAt)
            # from the sensors seen in \(seen.database)
            # (\(gateways.count) gateway\(gateways.count == 1 ? "" : "s"), \(total) sensors). It loads as it is; check every
            # value, then start the daemon with `parklink run --config THIS-FILE`.

            # [link]
            # device = "/dev/ttyACM0"        # the gateway's serial port
            # baud = 115200
            # framing = "text"               # or "binary"

            # [database]                     # without it: the private database in the state directory
            # dsn = "mysql://parklink@db.example/parklink"   # never a password here
            # password_file = "/etc/parklink/db-password"    # mode 0600; or PARKLINK_DB_PASSWORD

            [sampler]
            hourly_rate_cents = \(hourlyRateCents)          # the default parking rate, integer cents per started hour
            timezone = "\(timeZone)"         # the day boundary for "today" and for reports

            # One zone per gateway, holding every sensor it reported. Split it into the real
            # zones (levels, rows, disabled bays): give each [[zone]] its own id and sensors.

            """
        var taken = Set<UInt16>()
        for g in gateways {
            let sensors = seen.sensors[g]!
            let clash = sensors.filter(taken.contains)
            let perDay = Double(seen.arrivals[g] ?? 0) / Double(max(1, seen.days))
            // No history yet: three cars a bay a day, a placeholder to replace.
            let target = perDay >= 1 ? Int(perDay.rounded()) : max(1, sensors.count * 3)
            let basis = perDay >= 1 ? "the mean of the last \(seen.days) days" : "a placeholder: 3 arrivals a bay a day"
            var zone = """
                [[zone]]
                id = "\(g)"
                facility = "\(g)"
                sensors = "\(sensorList(sensors))"
                capacity = \(sensors.count)
                daily_target = \(target)             # arrivals per day (\(basis)); efficiency % = arrivals / target x 100
                # hourly_rate_cents = \(hourlyRateCents)     # this zone's own rate, over the default

                """
            if !clash.isEmpty {
                zone = "# Gateway \(g) reports sensor ids another gateway above has (\(sensorList(clash))): one config maps\n"
                    + "# one gateway's sensors. Run `parklink config init --gateway \(g)` for its own appliance.\n"
                    + zone.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "# " + $0 }.joined(separator: "\n")
            } else {
                taken.formUnion(sensors)
            }
            out += zone + "\n"
        }
        let example = gateways.first ?? "A"
        let bay = gateways.first.flatMap { seen.sensors[$0]?.first } ?? 1
        out += """
            # Name a bay (default: ZONE-SENSOR):
            # [[bay]]
            # sensor = \(bay)
            # name = "\(example)-disabled-1"

            # Another target on particular dates (a match day, a holiday):
            # [[target]]
            # zone = "\(example)"
            # date = "2025-12-24"
            # daily_target = 600

            """
        return out
    }
}

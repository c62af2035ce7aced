import Foundation
import ParkLinkSampler

extension StatusSnapshot {
    /// The `stored` section: `parklink status` answered from the database because no
    /// daemon answered. Keys are a contract, like the rest of the snapshot.
    public struct Stored: Codable, Sendable, Equatable {
        /// Always false here (a running daemon answers itself).
        public var daemon_running: Bool
        /// Why the daemon did not answer, as the CLI saw it.
        public var reason: String
        /// The database read (password masked).
        public var database: String
        /// The newest thing stored: the last reading or the sampler's last write (UTC).
        @ExplicitNull public var as_of: String?
        /// Seconds between `as_of` and now: how old the picture is.
        @ExplicitNull public var age_seconds: Double?
        /// The newest reading stored, of any gateway.
        @ExplicitNull public var last_reading_at: String?
        public var gateways: [Gateway]

        public struct Gateway: Codable, Sendable, Equatable {
            public var gateway_id: String
            @ExplicitNull public var last_reading_at: String?
            @ExplicitNull public var age_seconds: Double?
            public var sensors: Int

            public init(gateway_id: String, last_reading_at: String?, age_seconds: Double?, sensors: Int) {
                self.gateway_id = gateway_id
                self.last_reading_at = last_reading_at
                self.age_seconds = age_seconds
                self.sensors = sensors
            }
        }

        public init(reason: String, database: String, as_of: String?, age_seconds: Double?, last_reading_at: String?,
                    gateways: [Gateway]) {
            self.daemon_running = false
            self.reason = reason
            self.database = database
            self.as_of = as_of
            self.age_seconds = age_seconds
            self.last_reading_at = last_reading_at
            self.gateways = gateways
        }
    }
}

import ParkLinkProtocol

extension GatewaySimulator {
    /// Everything a simulated gateway does, fixed at creation. Faults that a test or the
    /// stress harness triggers at a chosen moment (`injectGap`, `reboot`, `unplug`) are
    /// methods on the simulator instead.
    public struct Config: Sendable {
        /// Sensors on the gateway, numbered `firstSensor ..< firstSensor + sensors`.
        public var sensors: Int
        /// Readings per second per sensor; the gateway sends `sensors × ratePerSensor`.
        public var ratePerSensor: Double
        public var encoding: FrameEncoding = .text
        /// 1–32 characters of `[A-Za-z0-9_-]` (PROTOCOL.md).
        public var gatewayId = "SIM-01"
        /// The first boot's id; later boots (reboots) always get a fresh random one.
        /// `nil`: random from the system, never derived from `seed`.
        public var bootId: UInt32?
        public var firmware = FirmwareVersion(major: 1, minor: 0, patch: 0)
        public var firstSensor: UInt16 = 1
        /// Seeds the bays and the fault draws, so a run's values can be reproduced
        /// (their timing, and so which reading gets which value, still follows the clock).
        public var seed: UInt64 = 1
        public var heartbeatIntervalSeconds = 1.0
        /// The gateway's transmit buffer. A reading that does not fit is dropped before it
        /// gets a seq and counted in `tx_dropped`, as the firmware does.
        public var txBufferBytes = 64 * 1024
        /// How often the simulator wakes to emit what is due; 1–5 ms.
        public var tickMilliseconds = 1
        /// Bay time runs this many times faster than the wall clock: 60 turns a mean stay
        /// of 45 minutes into 45 seconds, so a demo shows cars coming and going.
        public var timeScale = 1.0
        /// Mean stay and mean vacancy of a bay, in bay seconds (before `timeScale`).
        public var meanStaySeconds = 45.0 * 60
        public var meanVacancySeconds = 25.0 * 60
        /// A flapping storm (a bad sensor bus, interference): every reading flips its bay's
        /// `occupied`, so every reading but a sensor's first is an arrival or a departure.
        public var flapping = false
        /// Emit for this long after the host appeared, then stop. `nil`: until `stop()`.
        public var durationSeconds: Double?
        /// A symlink kept pointing at the current pty, so `unplug` can replace the pty and
        /// the host finds the new one at the same path, as udev does for `/dev/parklink`.
        public var linkPath: String?
        /// Wait for the host before booting (its first downlink frame, normally the PING
        /// the appliance sends when it opens the port), so that the HELLO and the first
        /// readings are not written into a line that nobody has configured yet; frames
        /// written before a host opens the port with `TCSAFLUSH` are lost.
        /// The same wait follows every `unplug`.
        public var waitForHost = true
        /// Give up waiting and boot anyway after this long. `nil`: wait for ever.
        public var hostWaitTimeoutSeconds: Double?
        /// Misbehaving sensors on purpose (see `GatewaySimulator.misbehaviors`).
        public var misbehaving = false
        /// When the silent misbehaving sensor stops sending, after the first boot.
        public var silentAfterSeconds = 60.0
        /// Fraction of readings whose frame is corrupted after its CRC was computed: the
        /// seq is consumed, the host rejects the frame as `bad_crc` and sees a seq gap.
        public var corruptFraction = 0.0
        /// Fraction of readings preceded by a burst of noise bytes (see `NoiseBurst`).
        public var garbageFraction = 0.0
        /// Keep every reading sent, per boot, in the ledger for row-by-row checks.
        public var recordReadings = false
        /// On `stop`, how long to wait for the host to read what was sent before giving up
        /// (the pty stays open until `close()`; closing at once loses the tail).
        public var drainTimeoutSeconds = 2.0

        public init(sensors: Int, ratePerSensor: Double) {
            self.sensors = sensors
            self.ratePerSensor = ratePerSensor
        }

        /// Readings per second over all sensors.
        public var totalRate: Double { Double(sensors) * ratePerSensor }

        /// Checks what the protocol and the simulator need; the message says what is wrong
        /// in terms of the setting, for a command line to show.
        public func validate() throws(ConfigError) {
            func fail(_ message: String) throws(ConfigError) { throw ConfigError(message: message) }
            if sensors < 1 || sensors > Int(UInt16.max) - Int(firstSensor) + 1 {
                try fail("sensors must be 1...\(Int(UInt16.max) - Int(firstSensor) + 1), got \(sensors)")
            }
            if !(ratePerSensor > 0) || !ratePerSensor.isFinite { try fail("rate per sensor must be > 0, got \(ratePerSensor)") }
            let idBytes = gatewayId.utf8
            if !(1...32).contains(idBytes.count) || !idBytes.allSatisfy(Self.isGatewayIdByte) {
                try fail("gateway id must be 1–32 characters of [A-Za-z0-9_-], got \"\(gatewayId)\"")
            }
            if !(heartbeatIntervalSeconds > 0) { try fail("heartbeat interval must be > 0") }
            if txBufferBytes < 1024 { try fail("tx buffer must be at least 1024 bytes") }
            if !(1...5).contains(tickMilliseconds) { try fail("tick must be 1–5 ms") }
            if !(timeScale > 0) { try fail("time scale must be > 0") }
            if !(meanStaySeconds > 0) || !(meanVacancySeconds > 0) { try fail("mean dwell times must be > 0") }
            if let d = durationSeconds, !(d > 0) { try fail("duration must be > 0 seconds, got \(d)") }
            if let t = hostWaitTimeoutSeconds, !(t >= 0) { try fail("host wait timeout must be >= 0") }
            if !(0..<1).contains(corruptFraction) { try fail("corrupt fraction must be in [0, 1), got \(corruptFraction)") }
            if !(0..<1).contains(garbageFraction) { try fail("garbage fraction must be in [0, 1), got \(garbageFraction)") }
            if misbehaving && sensors < 4 { try fail("misbehaving needs at least 4 sensors (3 misbehave, 1 does not)") }
            if !(silentAfterSeconds >= 0) { try fail("silent-after must be >= 0") }
            if !(drainTimeoutSeconds >= 0) { try fail("drain timeout must be >= 0") }
        }

        static func isGatewayIdByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }

    /// A setting the simulator cannot run with.
    public struct ConfigError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }
}

/// The numbers PROTOCOL.md fixes and that more than one encoder or decoder needs, named
/// once so the text and binary paths cannot drift apart.
enum Wire {
    /// A gateway id is 1–32 characters of `[A-Za-z0-9_-]`.
    static let gatewayIdLengths = 1...32
    /// `power_factor_pct` is a percentage.
    static let maxPowerFactorPct: UInt32 = 100

    /// Binary type codes (the first byte of a decoded frame).
    enum TypeCode {
        static let hello: UInt8 = 0x01
        static let reading: UInt8 = 0x02
        static let heartbeat: UInt8 = 0x03
        static let led: UInt8 = 0x10
        static let ping: UInt8 = 0x11
    }

    /// Bits of the binary `R.flags` byte.
    enum ReadingFlag {
        static let occupied: UInt8 = 1 << 0
        static let distance: UInt8 = 1 << 1
        static let voltage: UInt8 = 1 << 2
        static let current: UInt8 = 1 << 3
        static let powerFactor: UInt8 = 1 << 4
        /// Bits 5–7 are not defined in version 1 and must be zero.
        static let reserved: UInt8 = 0b1110_0000
    }

    /// Binary payload lengths (between the type byte and the CRC).
    enum PayloadLength {
        static let reading = 18
        static let heartbeat = 12
        static let led = 3
        static let ping = 0
        /// Everything but the id bytes: id_len, boot_id, three firmware bytes, sensor_count.
        static let helloFixed = 1 + 4 + 3 + 2
    }
}

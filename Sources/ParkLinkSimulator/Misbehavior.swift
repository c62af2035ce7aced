/// A sensor that misbehaves on purpose (`Config.misbehaving`), so a test can expect
/// exactly these alerts and no others: every other sensor stays inside the alert
/// thresholds of DESIGN.md (200–250 V, at most ~1,450 W).
public struct Misbehavior: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Every reading carries this voltage, outside 100–300 V: INVALID_DATA.
        case voltageOutOfRange(voltageDv: UInt16)
        /// Every reading draws about this much power, above 1,500 W: HIGH_POWER.
        case highPower(watts: Double)
        /// Sends nothing at all after this many seconds from the first boot: after two
        /// more minutes, DEVICE_OFFLINE.
        case silent(afterSeconds: Double)
    }

    public let sensor: UInt16
    public let kind: Kind

    public var description: String {
        switch kind {
        case .voltageOutOfRange(let dv): "sensor \(sensor): voltage \(Double(dv) / 10) V"
        case .highPower(let w): "sensor \(sensor): ~\(Int(w)) W"
        case .silent(let s): "sensor \(sensor): silent after \(s) s"
        }
    }

    /// The last three sensors misbehave: voltage, power, silence, in that order.
    static func assign(_ config: GatewaySimulator.Config) -> [Misbehavior] {
        guard config.misbehaving else { return [] }
        let last = Int(config.firstSensor) + config.sensors - 1
        return [
            Misbehavior(sensor: UInt16(last - 2), kind: .voltageOutOfRange(voltageDv: BayModel.outOfRangeVoltageDv)),
            Misbehavior(sensor: UInt16(last - 1), kind: .highPower(watts: BayModel.highPowerWatts)),
            Misbehavior(sensor: UInt16(last), kind: .silent(afterSeconds: config.silentAfterSeconds)),
        ]
    }
}

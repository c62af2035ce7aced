import ParkLinkProtocol

/// The parking bays behind the sensors: what each sensor would measure at a moment.
///
/// Occupancy flips after exponentially distributed dwell times (a car stays, a bay stays
/// free), in bay time (`timeScale` × wall time). The ultrasonic distance follows the
/// occupancy (a car's roof 30–80 cm below the sensor, the floor 180–250 cm), mains
/// voltage wanders around 230 V, and charging bays draw a few amperes while a car is
/// parked. Every value of a well-behaved sensor stays inside the appliance's alert
/// thresholds, so the only alerts a run raises are those of `Misbehavior`.
///
/// Which sensors lack a ranger or metering, and which are chargers, follows from their
/// index, not from the seed, so a test can name them (`hasRanger`, `hasMeter`).
struct BayModel {
    static let outOfRangeVoltageDv: UInt16 = 3150
    static let highPowerWatts = 2000.0
    /// 220–242 V: with at most 6 A at PF 0.99 a charger stays under 1,440 W.
    static let voltageRangeDv = 2200.0...2420.0

    enum Behaviour {
        case normal, voltageOutOfRange, highPower, silent(afterSeconds: Double)
    }

    struct Bay {
        var hasRanger: Bool
        var hasMeter: Bool
        var isCharger: Bool
        var behaviour: Behaviour
        var occupied: Bool
        /// Bay time (seconds) at which the occupancy next flips.
        var nextFlipAt: Double
        /// The distance this stay or vacancy reads, before noise.
        var baseDistance: Double
        var baseVoltage: Double
    }

    private(set) var bays: [Bay]
    private let meanStay: Double
    private let meanVacancy: Double
    private let flapping: Bool

    init(config: GatewaySimulator.Config, misbehaviors: [Misbehavior], random: inout SimulatorRandom) {
        let meanStay = config.meanStaySeconds
        let meanVacancy = config.meanVacancySeconds
        self.meanStay = meanStay
        self.meanVacancy = meanVacancy
        flapping = config.flapping
        let pOccupied = meanStay / (meanStay + meanVacancy)
        bays = (0..<config.sensors).map { i in
            let sensor = UInt16(Int(config.firstSensor) + i)
            var behaviour = Behaviour.normal
            if let m = misbehaviors.first(where: { $0.sensor == sensor }) {
                switch m.kind {
                case .voltageOutOfRange: behaviour = .voltageOutOfRange
                case .highPower: behaviour = .highPower
                case .silent(let s): behaviour = .silent(afterSeconds: s)
                }
            }
            let misbehaves = if case .normal = behaviour { false } else { true }
            let occupied = random.unit() < pOccupied
            var bay = Bay(
                hasRanger: misbehaves || !Self.lacksRanger(index: i),
                hasMeter: misbehaves || !Self.lacksMeter(index: i),
                isCharger: Self.isCharger(index: i),
                behaviour: behaviour,
                occupied: occupied,
                nextFlipAt: 0,
                baseDistance: 0,
                baseVoltage: 2300 + random.uniform(-15...15)
            )
            Self.startDwell(&bay, at: 0, meanStay: meanStay, meanVacancy: meanVacancy, random: &random)
            return bay
        }
    }

    /// One sensor in eight has no ranger, another in eight no metering.
    static func lacksRanger(index: Int) -> Bool { index % 8 == 5 }
    static func lacksMeter(index: Int) -> Bool { index % 8 == 6 }
    /// One bay in four has a charger.
    static func isCharger(index: Int) -> Bool { index % 4 == 1 }

    private static func startDwell(
        _ bay: inout Bay, at now: Double, meanStay: Double, meanVacancy: Double, random: inout SimulatorRandom
    ) {
        bay.nextFlipAt = now + random.exponential(mean: bay.occupied ? meanStay : meanVacancy)
        bay.baseDistance = bay.occupied ? random.uniform(30...80) : random.uniform(180...250)
    }

    /// Whether sensor `index` sends nothing at `wallSeconds` since the first boot.
    @inline(__always)
    func isSilent(_ index: Int, wallSeconds: Double) -> Bool {
        if case .silent(let after) = bays[index].behaviour { return wallSeconds >= after }
        return false
    }

    /// What sensor `index` measures at bay time `bayNow`; `seq` and `gatewayMs` are left
    /// for the caller.
    mutating func sample(_ index: Int, sensor: UInt16, bayNow: Double, random: inout SimulatorRandom) -> Reading {
        if flapping {
            bays[index].occupied.toggle()
        } else if bayNow >= bays[index].nextFlipAt {
            // Catch up on every flip since the last sample (a long silence, a big timeScale).
            repeat {
                bays[index].occupied.toggle()
                let from = bays[index].nextFlipAt
                Self.startDwell(&bays[index], at: from, meanStay: meanStay, meanVacancy: meanVacancy, random: &random)
            } while bayNow >= bays[index].nextFlipAt
        }
        let bay = bays[index]
        var reading = Reading(seq: 0, sensor: sensor, gatewayMs: 0, occupied: bay.occupied)
        if bay.hasRanger {
            let low = bay.occupied ? 20.0 : 170.0
            let high = bay.occupied ? 90.0 : 260.0
            reading.distanceCm = UInt16(min(max(bay.baseDistance + random.noise(3), low), high))
        }
        guard bay.hasMeter else { return reading }
        var volts = min(max(bay.baseVoltage + random.noise(20), Self.voltageRangeDv.lowerBound), Self.voltageRangeDv.upperBound)
        var currentMa: Double
        var pf: Double
        switch bay.behaviour {
        case .voltageOutOfRange:
            volts = Double(Self.outOfRangeVoltageDv) + random.noise(10)
            currentMa = random.uniform(100...300)
            pf = random.uniform(85...95)
        case .highPower:
            pf = random.uniform(97...99)
            // I = P / (V × PF), so the power stays near `highPowerWatts` whatever the voltage.
            currentMa = Self.highPowerWatts / (volts / 10 * pf / 100) * 1000 + random.noise(100)
        case .normal, .silent:
            if bay.isCharger && bay.occupied {
                currentMa = min(random.uniform(4000...6000) + random.noise(50), 6000)
                pf = random.uniform(95...99)
            } else if bay.isCharger {
                currentMa = random.uniform(30...60)
                pf = random.uniform(50...70)
            } else {
                currentMa = random.uniform(100...300)
                pf = random.uniform(85...95)
            }
        }
        reading.voltageDv = UInt16(volts.rounded())
        reading.currentMa = UInt16(min(max(currentMa.rounded(), 0), 65535))
        reading.powerFactorPct = UInt8(pf.rounded())
        return reading
    }
}

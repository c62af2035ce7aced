import ParkLinkProtocol
import ParkLinkStore

/// The state of one gateway's sensors in flat arrays, indexed by a dense slot.
///
/// Why not a dictionary of structs: at 50,000 sensors that cost two heap objects per
/// sensor (100 MiB) and a String hash per reading; here a reading costs one array index
/// (`slotOfSensor`) and a few stores, and 50,000 sensors fit in about 11 MiB, so the
/// writer's cost per reading does not grow with the number of sensors.
///
/// Hour means are kept incrementally: 12 time-aligned buckets of 5 minutes per sensor,
/// each stamped with its bucket number so a stale bucket is recognised and reused.
public struct GatewaySensorBlock: Sendable {
    public static let bucketMs: Int64 = 300_000
    public static let buckets = 12

    private var slotOfSensor = [Int32](repeating: -1, count: 65_536)
    public private(set) var sensorOfSlot: [UInt16] = []
    public private(set) var lastSeenMs: [Int64] = []
    /// NaN: never reported.
    public private(set) var lastVoltage: [Float] = []
    public private(set) var lastPower: [Float] = []
    public private(set) var occupied: [Bool] = []
    private var voltageSum: [Float] = []
    private var voltageCount: [UInt32] = []
    private var powerSum: [Float] = []
    private var powerCount: [UInt32] = []
    /// The bucket number (time / bucketMs) each bucket currently holds.
    private var stamp: [Int32] = []

    public init() {}

    public var count: Int { sensorOfSlot.count }

    public func slot(of sensor: UInt16) -> Int? {
        let s = slotOfSensor[Int(sensor)]
        return s < 0 ? nil : Int(s)
    }

    private mutating func slot(creating sensor: UInt16) -> Int {
        let existing = slotOfSensor[Int(sensor)]
        if existing >= 0 { return Int(existing) }
        let s = sensorOfSlot.count
        slotOfSensor[Int(sensor)] = Int32(s)
        sensorOfSlot.append(sensor)
        lastSeenMs.append(.min)
        lastVoltage.append(.nan)
        lastPower.append(.nan)
        occupied.append(false)
        voltageSum.append(contentsOf: repeatElement(0, count: Self.buckets))
        voltageCount.append(contentsOf: repeatElement(0, count: Self.buckets))
        powerSum.append(contentsOf: repeatElement(0, count: Self.buckets))
        powerCount.append(contentsOf: repeatElement(0, count: Self.buckets))
        stamp.append(contentsOf: repeatElement(-1, count: Self.buckets))
        return s
    }

    @inline(__always)
    public mutating func add(_ r: Reading, atMs: Int64) {
        let s = slot(creating: r.sensor)
        if atMs > lastSeenMs[s] { lastSeenMs[s] = atMs }
        occupied[s] = r.occupied
        let number = Int32(truncatingIfNeeded: atMs / Self.bucketMs)
        let b = s * Self.buckets + Int(number) % Self.buckets
        if stamp[b] != number {
            stamp[b] = number
            voltageSum[b] = 0
            voltageCount[b] = 0
            powerSum[b] = 0
            powerCount[b] = 0
        }
        if let dv = r.voltageDv {
            let v = Float(dv) / 10
            lastVoltage[s] = v
            voltageSum[b] += v
            voltageCount[b] += 1
        }
        if let w = r.powerWatts {
            let p = Float(w)
            lastPower[s] = p
            powerSum[b] += p
            powerCount[b] += 1
        }
    }

    /// Mean voltage over the last hour (the 12 newest buckets), nil without samples.
    public func voltageMean(slot s: Int, nowMs: Int64) -> Double? {
        mean(voltageSum, voltageCount, slot: s, nowMs: nowMs)
    }

    public func powerMean(slot s: Int, nowMs: Int64) -> Double? {
        mean(powerSum, powerCount, slot: s, nowMs: nowMs)
    }

    private func mean(_ sums: [Float], _ counts: [UInt32], slot s: Int, nowMs: Int64) -> Double? {
        let now = Int32(truncatingIfNeeded: nowMs / Self.bucketMs)
        var sum = 0.0, n = 0.0
        for b in s * Self.buckets..<(s + 1) * Self.buckets where stamp[b] > now - Int32(Self.buckets) && stamp[b] <= now {
            sum += Double(sums[b])
            n += Double(counts[b])
        }
        return n > 0 ? sum / n : nil
    }

    public func lastSeen(slot s: Int) -> Int64? { lastSeenMs[s] == .min ? nil : lastSeenMs[s] }
    public func voltage(slot s: Int) -> Double? { lastVoltage[s].isNaN ? nil : Double(lastVoltage[s]) }
    public func power(slot s: Int) -> Double? { lastPower[s].isNaN ? nil : Double(lastPower[s]) }
}

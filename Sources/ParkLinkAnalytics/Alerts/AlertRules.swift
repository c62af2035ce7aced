/// Pure alert rules: a snapshot in, the set of conditions active now out. No state,
/// no clock of its own; `AlertBook` turns successive results into opened and resolved
/// alerts. Thresholds default to DESIGN.md's.
public struct AlertRules: Codable, Sendable, Equatable {
    /// DEVICE_OFFLINE when no reading for more than this.
    public var offlineAfterSeconds = 120.0
    /// HIGH_POWER when the last power is above this.
    public var highPowerWatts = 1_500.0
    /// INVALID_DATA when the last voltage lies outside this (strictly).
    public var validVoltage: ClosedRange<Double> = 100...300
    /// LOW_HEALTH when the score is below this.
    public var lowHealthBelow = 30.0
    /// RING_HIGH when the ring holds more than this fraction of its capacity.
    public var ringHighFraction = 0.8
    /// ZONE_FILLING when the forecast says a zone is full within this many minutes (or it
    /// is full now). The forecast looks an hour ahead, so 60 is the most that means
    /// anything; 0 raises it only for a zone that is full.
    public var zoneFillingMinutes = 30.0
    /// SENSOR_FLAPPING when a bay changes state more than this many times within a minute.
    public var flappingChangesPerMinute = 6

    public init() {}

    /// The sensor's active conditions at `nowMs`. A sensor never heard from is offline.
    /// Power and voltage rules read the last values even while the sensor is offline: the
    /// last thing it said is still the best knowledge, and the technician needs both alerts.
    public func conditions(for s: SensorSnapshot, nowMs: Int64) -> [AlertCondition] {
        var out: [AlertCondition] = []
        if let seen = s.lastSeenMs {
            let age = Double(nowMs - seen) / 1_000
            if age > offlineAfterSeconds {
                out.append(AlertCondition(subject: s.subject, type: .deviceOffline,
                                          message: "no reading for \(Int(age)) s"))
            }
        } else {
            out.append(AlertCondition(subject: s.subject, type: .deviceOffline, message: "never reported"))
        }
        if let p = s.lastPowerWatts, p > highPowerWatts {
            out.append(AlertCondition(subject: s.subject, type: .highPower,
                                      message: "power \(format(p)) W above \(format(highPowerWatts)) W"))
        }
        if let v = s.lastVoltage, !validVoltage.contains(v) {
            out.append(AlertCondition(subject: s.subject, type: .invalidData,
                                      message: "voltage \(format(v)) V outside \(format(validVoltage.lowerBound))–\(format(validVoltage.upperBound)) V"))
        }
        if let h = s.healthScore, h < lowHealthBelow {
            out.append(AlertCondition(subject: s.subject, type: .lowHealth,
                                      message: "health \(format(h)) below \(format(lowHealthBelow))"))
        }
        return out
    }

    /// The appliance's own conditions. LINK_GAP, SPOOL_FULL and SESSION_LIMIT are active
    /// when their count grew since `previous` (the counters at the last evaluation); with
    /// no previous evaluation, or after the counter went backwards (a restart), any loss
    /// counts as new.
    public func conditions(for c: PipelineCounters, previous: PipelineCounters?) -> [AlertCondition] {
        var out: [AlertCondition] = []
        if !c.linkUp {
            out.append(AlertCondition(subject: .link, type: .linkDown, message: "serial link down"))
        }
        let before = previous.map { $0.framesLost <= c.framesLost ? $0.framesLost : 0 } ?? 0
        if c.framesLost > before {
            out.append(AlertCondition(subject: .link, type: .linkGap,
                                      message: "\(c.framesLost - before) frames lost since last check"))
        }
        if c.ringCapacity > 0, Double(c.ringCount) > ringHighFraction * Double(c.ringCapacity) {
            out.append(AlertCondition(subject: .ring, type: .ringHigh,
                                      message: "ring \(c.ringCount)/\(c.ringCapacity) full"))
        }
        if c.spoolPending > 0 {
            out.append(AlertCondition(subject: .spool, type: .spoolInUse,
                                      message: "\(c.spoolPending) readings spooled to disk"))
        }
        let droppedBefore = previous.map { $0.spoolDropped <= c.spoolDropped ? $0.spoolDropped : 0 } ?? 0
        if c.spoolDropped > droppedBefore {
            out.append(AlertCondition(subject: .spool, type: .spoolFull,
                                      message: "spool full: \(c.spoolDropped - droppedBefore) readings could not be kept"))
        }
        let limitBefore = previous.map { $0.sessionLimitDropped <= c.sessionLimitDropped ? $0.sessionLimitDropped : 0 } ?? 0
        if c.sessionLimitDropped > limitBefore {
            out.append(AlertCondition(subject: .link, type: .sessionLimit,
                                      message: "session limit reached: \(c.sessionLimitDropped - limitBefore) readings of new gateway sessions dropped"))
        }
        if !c.databaseUp {
            out.append(AlertCondition(subject: .store, type: .databaseDown, message: "nothing committed for 10 s while readings wait"))
        }
        if let why = c.writeRejected {
            out.append(AlertCondition(subject: .store, type: .databaseRejected,
                                      message: "the database refuses the readings: \(why)"))
        }
        return out
    }

    /// A zone's conditions, given the minutes until the forecast says it is full (nil: it
    /// does not fill within the forecast's hour; 0: full now).
    public func conditions(forZone zone: String, minutesToFull: Double?) -> [AlertCondition] {
        guard let minutes = minutesToFull, minutes.isFinite, minutes <= zoneFillingMinutes else { return [] }
        let message = minutes <= 0 ? "zone full" : "forecast full in \(Int(minutes.rounded(.up))) min"
        return [AlertCondition(subject: .zone(zone), type: .zoneFilling, message: message)]
    }

    /// ZONE_FULL while every space is taken; a zone of capacity 0 is never full.
    public func conditions(forZone zone: String, occupied: Int, capacity: Int) -> [AlertCondition] {
        guard capacity > 0, occupied >= capacity else { return [] }
        return [AlertCondition(subject: .zone(zone), type: .zoneFull, message: "zone full: \(occupied)/\(capacity) occupied")]
    }

    /// SENSOR_FLAPPING for a bay that changed state `changes` times in the last minute.
    public func conditions(forBay gateway: String, sensor: UInt16, changesLastMinute changes: Int) -> [AlertCondition] {
        guard changes > flappingChangesPerMinute else { return [] }
        return [AlertCondition(subject: .sensor(gateway: gateway, sensor: sensor), type: .sensorFlapping,
                               message: "\(changes) state changes in the last minute (more than \(flappingChangesPerMinute))")]
    }

    private func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String((x * 10).rounded() / 10)
    }
}

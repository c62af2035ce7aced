import ParkLinkAnalytics
import ParkLinkProtocol

/// The LED of every bay, on the live thread: what each should show (`BayLight`), what was
/// last sent, and which bays need another look.
///
/// Deduplicated: a command goes out only when the wanted colour differs from the last one
/// sent. What was sent is forgotten when the link's epoch changes (reopened, a new gateway
/// session, a command the port did not take), since the gateway's LEDs may then be
/// anything: every bay is sent again. While the link is down nothing is sent, and no
/// more is offered than the downlink queue has room for; the rest waits for the next turn.
struct BayLights {
    /// What tells whether the gateway still shows what was sent.
    struct Epoch: Equatable {
        var connected: Bool
        var opens: Int
        var session: String?
        var commandsDropped: Int
    }

    private(set) var conditions: [SensorKey: BayCondition] = [:]
    /// When the last bay change of each bay arrived (its reading's receive time).
    private var lastChangeMs: [SensorKey: Int64] = [:]
    private var sent: [SensorKey: LEDColor] = [:]
    private var dirty: Set<SensorKey> = []
    private var epoch: Epoch?
    private(set) var commandsSent = 0
    /// Colours wanted that were already showing, so not sent again.
    private(set) var deduplicated = 0

    var pending: Int { dirty.count }

    /// A committed change of the bay's occupancy: it reported, so it is not offline.
    mutating func bayChanged(_ bay: SensorKey, occupied: Bool, atMs: Int64) {
        var c = conditions[bay] ?? BayCondition(occupied: nil)
        c.occupied = occupied
        c.offline = false
        conditions[bay] = c
        lastChangeMs[bay] = max(lastChangeMs[bay] ?? .min, atMs)
        dirty.insert(bay)
    }

    /// The sampler's view of every reporting bay at `atMs`. Offline and health come from
    /// it; so does occupancy, except for a bay whose change events are recent (they are
    /// newer than a snapshot can be, which the sampler took from state the writer records
    /// after the events were sent here). After a minute without events the snapshot wins,
    /// which also mends a bay whose events were dropped.
    mutating func sampled(_ snapshot: [SensorKey: BayCondition], atMs: Int64) {
        for (bay, s) in snapshot {
            var c = s
            if let changed = lastChangeMs[bay], changed > atMs - 60_000, let old = conditions[bay] {
                c.occupied = old.occupied
            }
            if conditions[bay] != c {
                conditions[bay] = c
                dirty.insert(bay)
            }
        }
    }

    /// An override began or ended: the bay's colour is looked at again.
    mutating func overrideChanged(_ bay: SensorKey) { dirty.insert(bay) }

    /// Sends what differs from what the gateway shows, at most `space` commands; returns
    /// how many went. `send` queues one command (false: the queue is full).
    mutating func reconcile(overridden: Set<SensorKey>, epoch now: Epoch, space: Int, send: (LEDCommand) -> Bool) -> Int {
        if now != epoch {
            epoch = now
            sent.removeAll()
            dirty.formUnion(conditions.keys)
            dirty.formUnion(overridden)
        }
        guard now.connected, !dirty.isEmpty else { return 0 }
        var budget = space, n = 0
        for bay in dirty {
            let c = conditions[bay]
            var wanted = BayLight.color(occupied: c?.occupied, overridden: overridden.contains(bay), offline: c?.offline ?? false,
                                        unhealthy: c?.unhealthy ?? false)
            // Nothing known and not overridden (an override of a silent bay ended): dark.
            if wanted == nil, sent[bay] != nil { wanted = .off }
            guard let color = wanted, sent[bay] != color else {
                if wanted != nil { deduplicated += 1 }
                dirty.remove(bay)
                continue
            }
            guard budget > 0, send(LEDCommand(sensor: bay.sensor, color: color)) else { break }
            budget -= 1
            n += 1
            sent[bay] = color
            dirty.remove(bay)
        }
        commandsSent += n
        return n
    }

    /// The colour last sent to `bay`.
    func shown(_ bay: SensorKey) -> LEDColor? { sent[bay] }
}

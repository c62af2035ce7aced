import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkStore
import ParkLinkSystem

/// The live side of the daemon, on a thread of its own (`pl-live`): bay LEDs, the `watch`
/// streams, and how often each bay changes (SENSOR_FLAPPING).
///
/// Where bay changes come from: the writer's batch transaction derives them (an arrival
/// or a departure is a change of `occupied` between a bay's consecutive readings) and,
/// once the batch is committed, hands them here (`bayChanged`): one short lock and a wake
/// per batch that has any, nothing per reading. The reader never sees any of this except
/// the LED commands, which it takes from its bounded `DownlinkQueue` between reads. The
/// sampler adds, each cycle, what events cannot say (a bay's first reading, offline,
/// unhealthy: `sampled`), and the alerts that opened or resolved; the status thread adds
/// overrides and new subscribers. Every input is a bounded inbox: past `inboxCapacity`
/// items an input is dropped and counted, so no sender ever waits for this thread.
public final class LiveDesk: @unchecked Sendable {
    // @unchecked: `lights`, `feed`, `flaps`-free state and `replays` belong to the live
    // thread; the inbox, the counters and the window are behind locks.
    public struct Config: Sendable {
        /// Items (bay changes, alert transitions, override changes) waiting for the thread.
        public var inboxCapacity = 65_536
        /// Bytes a watch subscriber may have waiting before it is dropped as too slow.
        public var subscriberBacklogBytes = 256 * 1_024
        /// Live events held for a subscriber while its replay is read.
        public var replayHeldEvents = 20_000
        public var maxSubscribers = 64
        public var tickMs: Int32 = 500
        public init() {}
    }

    /// Where `watch --since` reads its replay.
    public struct History: Sendable {
        public var dsn: DSN
        public var appliance: String
        public init(dsn: DSN, appliance: String) {
            self.dsn = dsn
            self.appliance = appliance
        }
    }

    private enum Input {
        case bayChanges([OccupancyEvent])
        case sampled([SensorKey: BayCondition], atMs: Int64)
        case alerts([AlertTransition])
        case override(OverrideChange)
        case subscribe(FileDescriptor, zone: String?, sinceMs: Int64?)
        case replayDone(id: Int, shown: Set<String>, problem: StatusProblem?)
    }

    public let config: Config
    let zones: ZoneMap
    private let logger: Logger
    private let service: ServiceThread
    private let send: @Sendable (Message) -> Bool
    private let downlinkSpace: @Sendable () -> Int
    private let epoch: @Sendable () -> BayLights.Epoch
    private let inbox = Locked<(items: [Input], count: Int)>(([], 0))
    private let window = Locked(BayChangeWindow())
    private let counters = Locked(StatusSnapshot.Live())
    private let setup = Locked<(overrides: OverrideBook?, history: History?)>((nil, nil))

    // Live-thread state.
    private var lights = BayLights()
    private let feed: WatchFeed
    private var replays: [Int: NamedThread] = [:]
    private var overridden: (generation: Int, bays: Set<SensorKey>) = (-1, [])

    init(config: Config = Config(), zones: ZoneMap, logger: Logger, send: @escaping @Sendable (Message) -> Bool,
         downlinkSpace: @escaping @Sendable () -> Int, epoch: @escaping @Sendable () -> BayLights.Epoch) throws {
        self.config = config
        self.zones = zones
        self.logger = logger
        self.send = send
        self.downlinkSpace = downlinkSpace
        self.epoch = epoch
        self.service = try ServiceThread(name: "pl-live")
        self.feed = WatchFeed(maxBacklogBytes: config.subscriberBacklogBytes, maxHeldEvents: config.replayHeldEvents)
    }

    /// The overrides the LEDs follow, and where replays are read: set before `start`.
    public func attach(overrides: OverrideBook?, history: History?) {
        setup.withLock { $0 = (overrides, history) }
        overrides?.observe { [weak self] change in self?.offer(.override(change)) }
    }

    public func start() { service.start { [self] in run() } }

    /// Ends every stream (with an `unavailable` line) and returns when the thread has.
    public func stop() { service.stop() }

    // MARK: - Inputs (any thread; never waits)

    /// Committed bay changes, from the writer thread.
    public func bayChanged(_ events: [OccupancyEvent]) { offer(.bayChanges(events), weight: events.count) }

    /// Every reporting bay's condition, from the sampler at the end of its cycle.
    public func sampled(_ bays: [SensorKey: BayCondition], atMs: Int64) { offer(.sampled(bays, atMs: atMs), weight: 0) }

    /// Alerts opened and resolved, from the sampler.
    public func alerts(_ transitions: [AlertTransition]) { offer(.alerts(transitions), weight: transitions.count) }

    /// Changes per bay in the last minute, for the sampler's SENSOR_FLAPPING rule.
    public func changesLastMinute(nowMs: Int64) -> [SensorKey: Int] { window.withLock { $0.counts(nowMs: nowMs) } }

    /// Whether another `watch` may start (nil), or why not.
    public func refusal() -> StatusProblem? {
        let n = counters.withLock { $0.watchers }
        guard n >= config.maxSubscribers else { return nil }
        return StatusProblem(code: .unavailable, message: "\(n) watch streams are open, the most this daemon serves; close one and try again")
    }

    /// Takes over a `watch` connection (its `watching` line has gone out).
    public func subscribe(_ fd: FileDescriptor, zone: String?, sinceMs: Int64?) {
        offer(.subscribe(fd, zone: zone, sinceMs: sinceMs), weight: 0)
    }

    /// Counters for `status`.
    public func section() -> StatusSnapshot.Live { counters.withLock { $0 } }

    private func offer(_ input: Input, weight: Int = 1) {
        let taken = inbox.withLock { box -> Bool in
            // Subscriptions and snapshots weigh nothing: they are few, and never dropped; a
            // snapshot not yet taken is replaced by the newer one, so they never pile up.
            guard weight == 0 || box.count + weight <= config.inboxCapacity else { return false }
            if case .sampled = input { box.items.removeAll { if case .sampled = $0 { true } else { false } } }
            box.items.append(input)
            box.count += weight
            return true
        }
        if taken {
            service.wake()
        } else {
            counters.withLock { $0.events_dropped += weight }
        }
    }

    // MARK: - The thread

    private func run() {
        while !service.isStopping {
            let (requests, polled) = feed.pollRequests()
            let woke = try? service.wait(for: requests, timeoutMs: config.tickMs)
            let now = Clock.wallMilliseconds()
            feed.service(woke?.revents ?? [], of: woke == nil ? [] : polled, nowMs: now)
            let items = inbox.withLock { box -> [Input] in
                defer { box = ([], 0) }
                return box.items
            }
            for item in items { handle(item, nowMs: now) }
            let overrides = setup.withLock { $0.overrides }
            if let overrides, overrides.generation != overridden.generation {
                overridden = (overrides.generation, Set(overrides.all.map(\.bay)))
            }
            _ = lights.reconcile(overridden: overridden.bays, epoch: epoch(), space: downlinkSpace()) { send(.led($0)) }
            feed.service([], of: [], nowMs: Clock.wallMilliseconds())
            publishCounters()
        }
        feed.closeAll(StatusProblem(code: .unavailable, message: "the daemon is stopping"))
        for (_, thread) in replays { thread.join() }
        // A replay that finished meanwhile left its socket to this thread: close it.
        for case .replayDone(let id, _, _) in inbox.withLock({ $0.items }) {
            feed.subscribers.first { $0.id == id }.map(feed.remove)
        }
        for s in feed.subscribers { feed.remove(s) }
    }

    private func handle(_ input: Input, nowMs: Int64) {
        switch input {
        case .bayChanges(let events):
            window.withLock { w in for e in events { w.record(SensorKey(gatewayId: e.gatewayId, sensor: e.sensor), atMs: e.atMs) } }
            for e in events {
                lights.bayChanged(SensorKey(gatewayId: e.gatewayId, sensor: e.sensor), occupied: e.arrival, atMs: e.atMs)
                feed.publish(WatchEvent(bay: e, zones: zones, replayed: false))
            }
            counters.withLock { $0.bay_changes += events.count }
        case .sampled(let bays, let at):
            lights.sampled(bays, atMs: at)
        case .alerts(let transitions):
            for t in transitions { WatchEvent(alert: t, zones: zones).map(feed.publish) }
        case .override(let change):
            switch change {
            case .set(let o), .ended(let o, _, _, _): lights.overrideChanged(o.bay)
            }
            feed.publish(WatchEvent(override: change, zones: zones))
        case .subscribe(let fd, let zone, let since):
            let history = setup.withLock { $0.history }
            let s = feed.add(fd: fd, zone: zone, replaying: since != nil && history != nil)
            logger.info("watch stream opened", metadata: ["watch.id": "\(s.id)", "watch.zone": "\(zone ?? "all")",
                                                           "watch.since": "\(since.flatMap(Timestamps.iso) ?? "live only")"])
            if let since, let history { startReplay(s, since: since, history: history, nowMs: nowMs) }
        case .replayDone(let id, let shown, let problem):
            replays.removeValue(forKey: id)?.join()
            if let s = feed.subscribers.first(where: { $0.id == id }) {
                feed.replayFinished(s, shown: shown, problem: problem, nowMs: nowMs)
            }
        }
    }

    /// Reads the database's history since `since` on a thread of its own, writing it to
    /// the subscriber's socket (this thread meanwhile holds its live events back).
    private func startReplay(_ s: WatchFeed.Subscriber, since: Int64, history: History, nowMs: Int64) {
        let id = s.id, fd = s.fd, zone = s.zone, zones = self.zones
        replays[id] = NamedThread(name: "pl-replay") { [weak self] in
            let (shown, problem) = WatchReplay.run(fd: fd, history: history, sinceMs: since, untilMs: nowMs, zone: zone, zones: zones)
            self?.offer(.replayDone(id: id, shown: shown, problem: problem), weight: 0)
        }
    }

    private func publishCounters() {
        let watchers = feed.subscribers.count
        counters.withLock { c in
            c.leds_sent = lights.commandsSent
            c.leds_deduplicated = lights.deduplicated
            c.leds_pending = lights.pending
            c.watchers = watchers
            c.watchers_dropped_slow = feed.droppedSlow
            c.watch_lines_sent = feed.linesSent
            c.overrides_active = overridden.bays.count
        }
    }
}

/// Writes one subscriber's replay: the database's history, then what the caller holds.
enum WatchReplay {
    static func run(fd: FileDescriptor, history: LiveDesk.History, sinceMs: Int64, untilMs: Int64, zone: String?,
                    zones: ZoneMap) -> (shown: Set<String>, problem: StatusProblem?) {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        // A client that reads nothing for 10 s is too slow for a replay too.
        UnixSocket.setTimeouts(fd, milliseconds: 10_000)
        var shown: Set<String> = []
        let c: MariaDBConnection
        let items: WatchHistory
        do {
            c = try Connections.open(history.dsn, profile: .interactive)
            items = try WatchHistory(connection: c, appliance: history.appliance, sinceMs: sinceMs, untilMs: untilMs, zone: zone)
        } catch {
            return ([], StatusProblem(code: .failed, message: "cannot replay from the database: \(error)"))
        }
        defer { c.close() }
        while true {
            let item: WatchHistory.Item?
            do {
                item = try items.next()
            } catch {
                return (shown, StatusProblem(code: .failed, message: "the replay from the database failed: \(error)"))
            }
            guard let item else { return (shown, nil) }
            guard let e = WatchEvent(history: item, zones: zones), e.belongs(to: zone) else { continue }
            do {
                try UnixSocket.sendAll(fd, WatchFeed.line(.event(e)))
            } catch {
                return (shown, StatusProblem(code: .tooSlow, message: "the replay could not be sent: \(error)"))
            }
            // Only the end of the replay can overlap the live events held meanwhile.
            if e.atMs >= untilMs - 60_000 { shown.insert(e.key) }
        }
    }
}

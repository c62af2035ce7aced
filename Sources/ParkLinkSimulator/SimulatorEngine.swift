#if canImport(Glibc)
import Glibc
#endif
import ParkLinkProtocol
import ParkLinkSystem

/// The gateway's firmware loop, run by the simulator's thread: wake every tick (or at
/// once on a downlink frame or a command), emit the readings that are due, send the
/// heartbeat when due, write the transmit buffer, publish the ledger.
///
/// A struct owned by the thread (a local variable there), so the hot loop touches no
/// class properties and pays no exclusivity checks or locks per reading; it is handed
/// back to the `GatewaySimulator` when the thread ends, for `close()`.
///
/// The loop, boots and publishing are here; emitting frames is in
/// SimulatorEngine+Emission.swift, pulling the cable in SimulatorEngine+HangUp.swift. The
/// state those files share is internal rather than private for that reason alone.
struct SimulatorEngine {
    let config: Config
    private let shared: SimulatorShared
    var link: PtyLink
    var linkOpen = true
    var tx: TransmitBuffer
    private var downlinkDecoder: StreamDecoder
    private var downSink = DownlinkSink()
    /// When the current pty appeared after an unplug, until the host speaks on it.
    var replugAtNs: UInt64?
    var random: SimulatorRandom
    var bays: BayModel
    var delta: LedgerDelta

    typealias Config = GatewaySimulator.Config

    enum Phase {
        case waitingForHost(sinceNs: UInt64)
        case running
        /// Waiting for the host to read what is queued, then the cable comes out.
        case unplugging(untilNs: UInt64, drainDeadlineNs: UInt64)
        case unplugged(untilNs: UInt64)
        case finishing(deadlineNs: UInt64)
        case finished
    }

    var phase: Phase = .waitingForHost(sinceNs: 0)

    // The current boot.
    var booted = false
    var bootId: UInt32 = 0
    var bootStartNs: UInt64 = 0
    var nextSeq: UInt32 = 0
    var bootTxDropped: UInt64 = 0
    /// Round-robin slots (a reading due from one sensor) since the boot began.
    var slotsDone: UInt64 = 0
    private var nextHeartbeatNs: UInt64 = 0
    var firstBootNs: UInt64 = 0
    var pendingGap = 0
    /// `next_seq` of the last HB sent, to avoid sending the same one twice in a row.
    var lastHeartbeatSeq: UInt32?

    let nanosPerSlot: Double
    private let heartbeatNs: UInt64
    let sensorCount: UInt64

    init(config: Config, misbehaviors: [Misbehavior], link: PtyLink, shared: SimulatorShared) {
        self.config = config
        self.shared = shared
        self.link = link
        tx = TransmitBuffer(capacity: config.txBufferBytes)
        downlinkDecoder = StreamDecoder(encoding: config.encoding)
        random = SimulatorRandom(seed: config.seed)
        bays = BayModel(config: config, misbehaviors: misbehaviors, random: &random)
        // A tick's readings, so that merging them into the ledger never reallocates.
        delta = LedgerDelta(reserving: config.recordReadings ? Int(config.totalRate / 100) + 64 : 0)
        nanosPerSlot = 1e9 / config.totalRate
        heartbeatNs = UInt64(config.heartbeatIntervalSeconds * 1e9)
        sensorCount = UInt64(config.sensors)
    }

    // MARK: - The loop

    mutating func run() {
        let now = Clock.monotonicNanoseconds()
        if config.waitForHost {
            setPhase(.waitingForHost(sinceNs: now))
        } else {
            boot(announced: true, now: now)
            setPhase(.running)
        }
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { readBuffer.deallocate() }
        while true {
            if case .finished = phase { break }
            // A fault or a stop wakes the wait early (the commands are taken below).
            let downlinkReady = (try? shared.thread.wait(
                for: [PollRequest(fd: linkOpen ? link.controller.raw : -1, events: Int16(POLLIN))],
                timeoutMs: Int32(config.tickMilliseconds)))?[0] ?? 0
            if linkOpen && downlinkReady & Int16(POLLIN) != 0 {
                readDownlink(into: readBuffer)
            }
            let now = Clock.monotonicNanoseconds()
            for command in shared.takeCommands() { apply(command, now: now) }
            step(now: now)
            publish()
        }
    }

    private mutating func readDownlink(into buffer: UnsafeMutableRawBufferPointer) {
        while true {
            let n: Int
            do {
                n = try link.controller.read(into: buffer)
            } catch {
                return  // EAGAIN: all read; EIO: no follower open (cannot happen while the keeper is)
            }
            if n <= 0 { return }
            downlinkDecoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), into: &downSink)
            if n < buffer.count { return }
        }
    }

    private mutating func step(now: UInt64) {
        switch phase {
        case .waitingForHost(let since):
            let timedOut = config.hostWaitTimeoutSeconds.map { Double(now - since) / 1e9 >= $0 } ?? false
            if booted {
                // After an unplug: the boot goes on, but nobody is listening yet.
                if endIfOver(now: now) { return }
                if downSink.sawHost || timedOut {
                    if downSink.sawHost, let replugged = replugAtNs {
                        shared.reopenDelaysMs.withLock { $0.append(Double(now - replugged) / 1e6) }
                    }
                    replugAtNs = nil
                    setPhase(.running)
                    running(now: now)
                }
            } else if downSink.sawHost || timedOut {
                boot(announced: true, now: now)
                downSink.unansweredPings = 0  // the boot's HELLO answers them
                setPhase(.running)
                running(now: now)
            }
        case .running:
            running(now: now)
        case .unplugging(let until, let deadline):
            if endIfOver(now: now) { return }
            if now < deadline { flush() }  // an abrupt unplug writes nothing more
            if now >= deadline || hostHasReadEverything() {
                hangUp()
                setPhase(.unplugged(untilNs: until))
            }
        case .unplugged(let until):
            if endIfOver(now: now) { return }
            if now >= until {
                do {
                    try link.replug()
                    replugAtNs = now
                    linkOpen = true
                    downlinkDecoder = StreamDecoder(encoding: config.encoding)
                    shared.devicePath.withLock { $0 = link.devicePath }
                    shared.downlink.withLock { $0.hostSeen = false }
                    setPhase(config.waitForHost ? .waitingForHost(sinceNs: now) : .running)
                } catch {
                    // Out of ptys: stay unplugged and try again next tick.
                }
            }
        case .finishing(let deadline):
            flush()
            if hostHasReadEverything() || now >= deadline {
                if !tx.isEmpty {
                    delta.recordLost(tx.discardQueued(keepingPartialFrame: false))
                }
                setPhase(.finished)
            }
        case .finished:
            break
        }
    }

    /// The normal state: answer PINGs, emit, heartbeat, write, and stop when the run's
    /// duration is over.
    private mutating func running(now: UInt64) {
        for _ in 0..<downSink.unansweredPings { appendHello() }
        downSink.unansweredPings = 0
        let (until, over) = runEnd(now: now)
        emitDue(now: until, linkUp: true)
        if until >= nextHeartbeatNs {
            appendHeartbeat(now: until)
            nextHeartbeatNs = max(nextHeartbeatNs + heartbeatNs, until + 1)
        }
        flush()
        if over { beginFinishing(now: now) }
    }

    /// `now`, or the end of the run's duration if that has passed (and whether it has),
    /// so that the last tick emits exactly the readings due by the end.
    private func runEnd(now: UInt64) -> (until: UInt64, over: Bool) {
        guard let d = config.durationSeconds else { return (now, false) }
        let end = firstBootNs + UInt64(d * 1e9)
        return now >= end ? (end, true) : (now, false)
    }

    /// With the link down (unplugged, or no host yet): count the readings due as
    /// `tx_dropped`, and end the run if its duration is over. Returns whether it ended.
    private mutating func endIfOver(now: UInt64) -> Bool {
        let (until, over) = runEnd(now: now)
        emitDue(now: until, linkUp: false)
        guard over else { return false }
        if linkOpen { beginFinishing(now: now) } else { setPhase(.finished) }
        return true
    }

    private mutating func apply(_ command: SimulatorShared.Command, now: UInt64) {
        switch command {
        case .stop:
            switch phase {
            case .finishing, .finished: break
            case .running: beginFinishing(now: now)
            case .unplugging, .unplugged, .waitingForHost:
                if linkOpen && booted { beginFinishing(now: now) } else { setPhase(.finished) }
            }
        case .gap(let count):
            pendingGap += count
        case .reboot(let announced):
            guard booted else { return }  // not booted yet: nothing to reboot
            delta.recordLost(tx.discardQueued(keepingPartialFrame: true))
            boot(announced: announced, now: now)
        case .unplug(let seconds, let abrupt):
            guard booted, linkOpen else { return }
            switch phase {
            case .running, .waitingForHost:
                let until = now + UInt64(seconds * 1e9)
                let drain = abrupt ? now : now + UInt64(config.drainTimeoutSeconds * 1e9)
                setPhase(.unplugging(untilNs: until, drainDeadlineNs: min(drain, until)))
                if abrupt { step(now: now) }
            default:
                break
            }
        }
    }

    private mutating func beginFinishing(now: UInt64) {
        // So the host sees the tail's next_seq at once (unless this tick's HB just did).
        if lastHeartbeatSeq != nextSeq { appendHeartbeat(now: now) }
        setPhase(.finishing(deadlineNs: now + UInt64(config.drainTimeoutSeconds * 1e9)))
    }

    // MARK: - Boots

    private mutating func boot(announced: Bool, now: UInt64) {
        publish()  // the old boot's last changes go to the old boot's record
        bootId = booted ? SimulatorRandom.freshBootId(avoiding: bootId) : (config.bootId ?? SimulatorRandom.freshBootId(avoiding: nil))
        if !booted { firstBootNs = now }
        booted = true
        bootStartNs = now
        nextSeq = 0
        lastHeartbeatSeq = nil
        bootTxDropped = 0
        slotsDone = 0
        pendingGap = 0
        nextHeartbeatNs = now + heartbeatNs
        let record = EmissionLedger.Boot(gatewayId: config.gatewayId, bootId: bootId, announced: announced)
        shared.ledger.withLock { $0.boots.append(record) }
        delta.nextSeq = 0
        if announced && linkOpen { appendHello() }
    }

    // MARK: - Publishing

    mutating func setPhase(_ new: Phase) {
        phase = new
        let state: GatewaySimulator.State =
            switch new {
            case .waitingForHost: .waitingForHost
            case .running: .running
            case .unplugging, .unplugged: .unplugged
            case .finishing: .finishing
            case .finished: .finished
            }
        shared.state.withLock { $0 = state }
    }

    /// Merges this tick's changes into the shared ledger and downlink stats.
    mutating func publish() {
        if booted {
            delta.nextSeq = nextSeq
            shared.ledger.withLock { delta.merge(into: &$0) }
        }
        if downSink.sawHost || downSink.rejected > 0 || downSink.unexpected > 0 {
            shared.downlink.withLock { downSink.merge(into: &$0) }
        }
    }
}

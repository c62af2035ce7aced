import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkStore
import ParkLinkSystem
import Synchronization

/// The running appliance: reader → ring → writer, plus the status socket.
///
/// Start order follows the data (status, writer, reader), stop order is the reverse of
/// the data's need: the reader stops first so nothing new arrives, the writer drains the
/// ring and commits, the status socket goes last so a technician can watch the drain.
public final class Pipeline: @unchecked Sendable {
    // @unchecked: the components are thread-safe; `status` is set once in start().
    public struct Options: Sendable {
        public var config: ApplianceConfig
        public var device: String
        public var state: StateDirectory
        public var databaseLabel: String
        /// Next expected seq of sessions already stored (see `SessionTracker`).
        public var resume: [SessionKey: UInt64]
        public init(config: ApplianceConfig, device: String, state: StateDirectory, databaseLabel: String,
                    resume: [SessionKey: UInt64] = [:]) {
            self.resume = resume
            self.config = config
            self.device = device
            self.state = state
            self.databaseLabel = databaseLabel
        }
    }

    public let options: Options
    public let ring: RingBuffer<StampedReading>
    public let sessions = SessionTable()
    public let events = LinkEventQueue()
    /// Set when `stop()` begins: from then on the link is closed on purpose.
    private let stopping = Atomic<Bool>(false)
    public let linkCounters = LinkCounters()
    public let storeCounters = StoreCounters()
    /// Per-sensor state from committed readings, for the sampler.
    public let sensorStates = SensorStateTable()
    public let reader: SerialReader
    public let writer: ReadingWriter
    /// Readings the ring cannot hold while the database is away (nil: disabled).
    public let spool: Spool?
    private let spoolSyncer: SpoolSyncer?
    private let logger: Logger
    private let startedAtMs = Clock.wallMilliseconds()
    private let marker: RunMarker
    /// What the marker of a run that did not stop cleanly said; nil when the last run
    /// stopped cleanly (or there was none).
    public let lastRun: RunMarker.Previous?
    private var status: StatusServer?
    /// Health, alerts and forecasts; attached before `start()` (absent in tools and tests
    /// that need only the data path).
    public var sampler: Sampler?
    /// Answers the alert commands of the status socket (`alerts`, `alerts all`, `ack`).
    public var alertDesk: AlertDesk?
    /// LEDs, watch streams, how often bays change (see `LiveDesk`).
    public let live: LiveDesk
    /// Answers `override` (attached with the sampler, which enforces expiry).
    public var overrideDesk: OverrideDesk?
    /// Alert actions (`[notify]`); nil when none are configured.
    public var notifier: Notifier?
    /// The writer's database node and its failovers (`store.node`, `store.cluster`);
    /// attached before `start()` by `overMariaDB`.
    public var databaseNodes: ClusterConnector?

    /// `store.method`: the configured insert method, but `multi-row` on a Galera node,
    /// where the writer sends no array-bound statement (README "Storage").
    var insertMethodInUse: String {
        let configured = options.config.insertMethod
        return configured == .arrayBinding && databaseNodes?.snapshot.galera == true
            ? ApplianceConfig.InsertMethod.multiRow.rawValue : configured.rawValue
    }

    public init(options: Options, logger: Logger, makeSink: @escaping @Sendable (SessionResolving) -> BatchSink) throws {
        self.options = options
        self.logger = logger
        let c = options.config
        ring = RingBuffer(capacity: c.ringCapacity)
        marker = RunMarker(state: options.state)
        lastRun = marker.previous()
        if let last = lastRun {
            let metadata: Logger.Metadata = [
                "last_run.pid": "\(last.pid.map(String.init) ?? "unknown")",
                "last_run.started_at": "\(last.startedAt ?? "unknown")", "state.marker": "\(marker.path)",
            ]
            if let abandoned = last.abandoned {
                logger.warning("the last run stopped without storing \(abandoned) readings (database down, no spool): the gap they leave is recorded as appliance_restart", metadata: metadata)
            } else {
                logger.warning("the last run did not stop cleanly (killed, power cut or crash): what it held in memory is recorded as appliance_restart gaps, and logged with its count once the gateway's seqs show it", metadata: metadata)
            }
        }
        var resume = options.resume
        if c.spoolEnabled {
            var sc = Spool.Config(directory: options.state.path + "/spool")
            sc.maxBytes = Int64(c.spoolMaxMegabytes) << 20
            sc.syncIntervalMs = c.spoolSyncIntervalMs
            let spool = try Spool(config: sc)
            let r = spool.recovery
            if r.readings > 0 || r.tornBytes > 0 {
                logger.notice("spool from an earlier run: writing it first", metadata: [
                    "spool.readings": "\(r.readings)", "spool.segments": "\(r.segments)",
                    "spool.torn_bytes": "\(r.tornBytes)", "spool.dir": "\(sc.directory)",
                ])
            }
            // The spooled readings are not in the database yet: resume after them, or they
            // would look like a link gap.
            resume.merge(r.resume) { max($0, $1) }
            // The sessions and gaps a stop with the database down kept: stored with the
            // first batch, before anything this run sees.
            if !r.linkEvents.events.isEmpty || r.linkEvents.unreadableLines > 0 {
                logger.notice("link events from an earlier run: storing them first", metadata: [
                    "link.events": "\(r.linkEvents.events.count)", "link.events_unreadable": "\(r.linkEvents.unreadableLines)",
                    "spool.file": "\(spool.linkEvents.path)",
                ])
            }
            for event in r.linkEvents.events { events.append(event) }
            self.spool = spool
            spoolSyncer = try SpoolSyncer(spool: spool)
        } else {
            spool = nil
            spoolSyncer = nil
        }
        var rc = SerialReader.Config(device: options.device)
        rc.baud = c.baud
        rc.encoding = c.framing
        rc.tracker.helloTimeoutMs = Int64(c.helloTimeoutMs)
        rc.tracker.fallbackGatewayId = c.fallbackGatewayId
        rc.tracker.maxSessions = c.maxSessions
        rc.resume = resume
        rc.lastRunStoppedCleanly = lastRun == nil
        rc.raisePriority = c.readerRealtime
        rc.coalesceMs = Int32(c.coalesceMs)
        rc.spoolHighWater = max(1, c.ringCapacity * c.spoolHighWaterPercent / 100)
        reader = try SerialReader(config: rc, ring: ring, events: events, sessions: sessions,
                                  counters: linkCounters, logger: logger, spool: spool)
        live = try Self.makeLiveDesk(reader: reader, zones: c.zones, logger: logger)
        var wc = ReadingWriter.Config()
        wc.maxRows = c.batchMaxRows
        wc.lingerMs = c.batchLingerMs
        wc.idleLingerMs = c.idleLingerMs
        wc.shutdownGraceMs = c.shutdownGraceSeconds * 1_000
        wc.lastRunStoppedCleanly = lastRun == nil
        wc.spooledFrom = spool?.recovery.first ?? [:]
        writer = ReadingWriter(config: wc, ring: ring, events: events, counters: storeCounters,
                               logger: logger, makeSink: { [sessions] in makeSink(sessions) },
                               sessions: sessions, spool: spool,
                               afterCommit: { [sensorStates, sessions] rows in sensorStates.record(rows, sessions: sessions) })
        writer.onGapRetracted = { [linkCounters] n, reason in
            switch reason {
            case .link: linkCounters.missingReadings.add(-n)
            case .applianceRestart: linkCounters.applianceRestartReadings.add(-n)
            }
        }
        writer.onRestartGap = { [linkCounters, logger] key, first, n, fromLinkGap in
            if fromLinkGap {
                linkCounters.gaps.add(-1)
                linkCounters.missingReadings.add(-n)
            }
            linkCounters.applianceRestartGaps.add(1)
            linkCounters.applianceRestartReadings.add(n)
            logger.warning("readings lost with the last run: it received them and was killed before storing them", metadata: [
                "link.session": "\(key)", "gap.first_seq": "\(first)", "gap.count": "\(n)",
                "gap.reason": "\(GapReason.applianceRestart.rawValue)",
            ])
        }
    }

    public func start() throws {
        try options.state.create()
        // Before the first reading is accepted: from here on, a kill leaves it behind.
        try marker.write(pid: getpid(), startedAt: Timestamps.iso(ms: startedAtMs) ?? "")
        let server: StatusServer
        do {
            server = try StatusServer(path: options.state.statusSocket, logger: logger, peerHandler: { [weak self] request, peer in
                self?.handle(request, peer: peer)
                    ?? StatusReply(.error(StatusProblem(code: .unavailable, message: "the daemon is stopping")))
            }, adopt: { [weak self] request, client in self?.adopt(request, client) })
        } catch {
            // Nothing was read: a start that fails here has nothing for the next one to account for.
            marker.remove()
            throw error
        }
        status = server
        server.start()
        spoolSyncer?.start()
        live.start()
        notifier?.start()
        writer.start()
        reader.start()
        sampler?.start()
        logger.info("pipeline started", metadata: [
            "link.device": "\(options.device)", "status.socket": "\(options.state.statusSocket)",
            "store.database": "\(options.databaseLabel)",
        ])
    }

    /// Stops reading, drains and commits; returns the readings that could not be stored
    /// (non-zero only if the database stayed down through the grace period).
    public func stop() -> Int {
        logger.info("stopping: reader first, then draining the ring", metadata: ["ring.fill": "\(ring.fill)"])
        stopping.store(true, ordering: .relaxed)
        writer.beginStop()
        reader.stop()
        writer.finish()
        spoolSyncer?.stop()
        sampler?.stop()
        notifier?.stop()
        live.stop()
        status?.stop()
        status = nil
        if writer.abandoned == 0 {
            marker.remove()
        } else {
            // Stopped, but with readings given up: the next start accounts for them as it
            // would for a killed run's.
            try? marker.write(pid: getpid(), startedAt: Timestamps.iso(ms: startedAtMs) ?? "", abandoned: writer.abandoned)
        }
        let s = snapshot()
        logger.info("pipeline stopped", metadata: [
            "link.readings": "\(s.link.readings)", "store.rows_committed": "\(s.store.rows_committed)",
            "store.rows_duplicate": "\(s.store.rows_duplicate)", "store.abandoned": "\(writer.abandoned)",
            "spool.readings": "\(spool?.pending ?? 0)", "spool.kept_at_shutdown": "\(writer.spooledAtShutdown)",
        ])
        return writer.abandoned
    }

    /// Answers one status-socket request (decoded, version checked, by `StatusServer`);
    /// `peer` is who gave a command (nil for a read).
    public func handle(_ request: StatusRequest, peer: StatusAccess.Peer? = nil) -> StatusReply {
        switch request.command {
        case .override(let o):
            return StatusReply(override(o, peer: peer))
        case .watch:
            return StatusReply(watch(request))
        case .status:
            return StatusReply(.status(snapshot()))
        case .led(let sensor, let color):
            reader.send(.led(LEDCommand(sensor: sensor, color: color)))
            return StatusReply(.ok)
        case .ping:
            reader.send(.ping)
            return StatusReply(.ok)
        case .alerts(let all):
            guard let desk = alertDesk else { return Self.noAlertDesk }
            return StatusReply(Self.alerts(all: all, desk: desk))
        case .acknowledge(let target):
            guard let desk = alertDesk else { return Self.noAlertDesk }
            return StatusReply(Self.acknowledge(target, desk: desk))
        }
    }

    private static let noAlertDesk = StatusReply(.error(StatusProblem(
        code: .unavailable, message: "this daemon runs no sampler, so it keeps no alerts")))

    private static func alerts(all: Bool, desk: AlertDesk) -> StatusReply.Body {
        guard all else { return .alerts(desk.openAlerts()) }
        do {
            return .alerts(try desk.history())
        } catch {
            return .error(StatusProblem(code: .failed, message: "cannot read alert history from the database: \(error)"))
        }
    }

    private static func acknowledge(_ target: StatusRequest.AlertTarget, desk: AlertDesk) -> StatusReply.Body {
        switch target {
        case .all:
            return .acknowledged(.init(acknowledged: desk.acknowledgeAll()))
        case .id(let id):
            switch desk.acknowledge(id: id) {
            case .acknowledged: return .acknowledged(.init(acknowledged: 1))
            case .alreadyAcknowledged: return .acknowledged(.init(acknowledged: 0, note: "already acknowledged"))
            case .notOpen: return .error(StatusProblem(code: .notFound, message: "no open alert has id \(id) (it may be resolved already)"))
            }
        }
    }

    /// What the alert rules need from the pipeline's counters (atomics: no lock).
    public func alertCounters() -> PipelineCounters {
        let batchStarted = storeCounters.batchStartedAtMs.load(ordering: .relaxed)
        return PipelineCounters(
            // Not yet tried is not down: no alert in the first moments after start. Nor is
            // a link this daemon closed on purpose to stop: a shutdown is no LINK_DOWN.
            linkUp: linkCounters.connected.load(ordering: .relaxed)
                || (linkCounters.opens.value == 0 && linkCounters.openFailures.value == 0)
                || stopping.load(ordering: .relaxed),
            framesLost: UInt64(linkCounters.missingReadings.value),
            ringCount: ring.fill, ringCapacity: ring.capacity, spoolPending: spool?.pending ?? 0,
            // Down: a batch in hand and nothing committed for 10 s, whatever the reason
            // (unreachable, refusing, stalled by a lock).
            databaseUp: batchStarted == 0 || Clock.wallMilliseconds() - batchStarted < 10_000,
            writeRejected: storeCounters.writeRejected,
            spoolDropped: UInt64((spool?.droppedFull ?? 0) + (spool?.droppedError ?? 0)),
            sessionLimitDropped: UInt64(linkCounters.droppedSessionLimit.value))
    }

    public func snapshot() -> StatusSnapshot {
        let l = linkCounters, s = storeCounters
        var rejects: [String: Int] = [:]
        for r in RejectReason.allCases { rejects[r.rawValue] = l.rejects(r) }
        let latency = s.latency
        let readings = l.readings.value
        let committed = s.rowsCommitted.value, dup = s.rowsDuplicate.value
        // Readings between the decoder and the database: waiting for a HELLO, in the
        // ring, or in the writer's current batch.
        let inFlight = l.pendingNoSession.value + ring.fill + s.inFlight.value + (spool?.pending ?? 0)
        let recovered = spool?.recovery.readings ?? 0
        let spoolDropped = (spool?.droppedFull ?? 0) + (spool?.droppedError ?? 0)
        let now = Clock.wallMilliseconds()
        let droppedNoSession = l.droppedNoSession.value, droppedSessionLimit = l.droppedSessionLimit.value
        return StatusSnapshot(
            pid: getpid(),
            started_at: Timestamps.iso(ms: startedAtMs) ?? "",
            uptime_seconds: Double(now - startedAtMs) / 1000,
            last_run_stopped_cleanly: lastRun == nil,
            link: .init(
                device: options.device, framing: options.config.framing.rawValue, baud: options.config.baud,
                connected: l.connected.load(ordering: .relaxed), session: l.session,
                opens: l.opens.value, open_failures: l.openFailures.value, hangups: l.hangups.value,
                bytes: l.bytes.value, frames: l.frames.value, readings: readings, hellos: l.hellos.value,
                heartbeats: l.heartbeats.value, noise_bytes: l.noiseBytes.value, rejects: rejects,
                rejects_total: l.totalRejects, gaps: l.gaps.value, missing_readings: l.missingReadings.value,
                appliance_restart_gaps: l.applianceRestartGaps.value,
                appliance_restart_readings: l.applianceRestartReadings.value,
                unannounced_reboots: l.unannouncedReboots.value, pending_no_session: l.pendingNoSession.value,
                dropped_no_session: droppedNoSession, sessions: sessions.count, max_sessions: options.config.maxSessions,
                sessions_refused: l.sessionsRefused.value, dropped_session_limit: droppedSessionLimit,
                gateway_tx_dropped: l.gatewayTxDropped.value,
                pings_sent: l.pingsSent.value, commands_sent: l.commandsSent.value,
                commands_dropped: l.commandsDropped.value,
                last_byte_at: Timestamps.iso(ms: l.lastByteAtMs.load(ordering: .relaxed))),
            ring: .init(
                capacity: ring.capacity, fill: ring.fill,
                fill_percent: (Double(ring.fill) / Double(ring.capacity) * 1000).rounded() / 10,
                high_water: ring.highWater, pushed: ring.pushed, popped: ring.popped,
                reader_waits: ring.producerWaits, reader_wait_ms: ring.producerWaitMilliseconds),
            store: .init(
                database: options.databaseLabel, method: insertMethodInUse,
                connected: s.connected.load(ordering: .relaxed), connects: s.connects.value,
                rows_committed: committed, rows_duplicate: dup, batches: s.batches.value,
                last_batch_rows: s.lastBatchRows.value,
                last_commit_at: Timestamps.iso(ms: s.lastCommitAtMs.load(ordering: .relaxed)),
                retries: s.retries.value, in_flight: s.inFlight.value, last_error: s.lastError,
                latency_ms: .init(p50: latency.percentile(0.5), p99: latency.percentile(0.99),
                                  max: latency.count > 0 ? latency.maxMs : nil, samples: latency.count),
                occupancy_events: s.occupancyEvents.value,
                occupancy_debounce_ms: options.config.occupancyDebounceMs > 0 ? options.config.occupancyDebounceMs : nil,
                occupancy_events_suppressed: s.occupancyEventsSuppressed.value,
                occupancy_events_held: s.occupancyEventsHeld.value,
                node: databaseNodes?.snapshot.current, cluster: databaseNodes.flatMap(StatusSnapshot.Cluster.init)),
            spool: spool.map { sp in
                .init(directory: sp.config.directory, active: sp.isActive, bytes: sp.bytes, readings: sp.pending,
                      oldest_age_seconds: sp.oldestReceivedAtMs.map { Double(max(0, now - $0)) / 1000 },
                      drain_per_second: sp.drainPerSecond, appended: sp.appended, drained: sp.drained,
                      dropped_full: sp.droppedFull, dropped_error: sp.droppedError,
                      recovered_readings: sp.recovery.readings, torn_bytes: sp.recovery.tornBytes,
                      max_bytes: sp.config.maxBytes, last_error: sp.error)
            },
            accounting: .init(
                readings_accepted: readings, rows_committed: committed, rows_duplicate: dup,
                in_flight: inFlight, dropped_no_session: droppedNoSession, dropped_session_limit: droppedSessionLimit,
                spool_recovered: recovered, spool_dropped: spoolDropped,
                balanced: readings + recovered
                    == committed + dup + inFlight + droppedNoSession + droppedSessionLimit + spoolDropped),
            sampler: sampler?.statusSections(),
            live: liveSection())
    }
}

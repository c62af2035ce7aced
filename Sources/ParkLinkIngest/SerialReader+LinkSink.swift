import Logging
import ParkLinkProtocol
import ParkLinkSystem

extension SerialReader {
    /// What the decoder calls per frame on the reader thread: counts and session effects
    /// gathered per chunk, then handed over at once (`hand(over:…)`), so the per-frame
    /// work is a few increments.
    struct LinkSink: DecodeSink {
        var tracker: SessionTracker
        var effects = SessionTracker.Effects()
        var nowMs: Int64 = 0
        var frames = 0, readings = 0, hellos = 0, heartbeats = 0
        var rejects: [RejectReason: Int] = [:]
        var lastGapLogMs: Int64 = 0
        var unloggedGaps = 0
        /// The session-limit line: at most one a minute, with what was dropped meanwhile.
        var lastLimitLogMs: Int64?
        var unloggedLimitDrops = 0
        var unloggedRefusals = 0

        mutating func accept(_ message: Message) {
            frames += 1
            switch message {
            case .reading(let r):
                readings += 1
                tracker.reading(r, atMs: nowMs, effects: &effects)
            case .hello(let h):
                hellos += 1
                tracker.hello(h, atMs: nowMs, effects: &effects)
            case .heartbeat(let hb):
                heartbeats += 1
                tracker.heartbeat(hb, atMs: nowMs, effects: &effects)
            case .led, .ping:
                break  // host → gateway messages echoed back: valid frames, nothing to store
            }
        }

        mutating func reject(_ reason: RejectReason) {
            rejects[reason, default: 0] += 1
        }

        /// Housekeeping at `now` (HELLO time-outs). A method, so the tracker and the
        /// effects are two fields of one exclusive access rather than two accesses to a
        /// captured variable.
        mutating func tick(now: Int64) {
            nowMs = now
            tracker.tick(nowMs: now, effects: &effects)
        }

        /// Hands what the last chunk produced to the ring, the event queue and the
        /// counters (once per chunk, not per frame), and clears it. Returns whether the
        /// gateway should be PINGed.
        mutating func hand(over ring: RingBuffer<StampedReading>, spool: Spool?, highWater: Int, sessions: SessionTable,
                           events queue: LinkEventQueue, counters: LinkCounters, logger: Logger) -> Bool {
            counters.frames.add(frames)
            counters.readings.add(readings)
            counters.hellos.add(hellos)
            counters.heartbeats.add(heartbeats)
            for (reason, n) in rejects where n > 0 { counters.addRejects(reason, n) }
            rejects.removeAll(keepingCapacity: true)
            frames = 0; readings = 0; hellos = 0; heartbeats = 0
            counters.gaps.add(effects.gaps)
            counters.missingReadings.add(effects.missingReadings)
            counters.applianceRestartGaps.add(effects.restartGaps)
            counters.applianceRestartReadings.add(effects.restartMissingReadings)
            counters.unannouncedReboots.add(effects.unannouncedReboots)
            counters.droppedNoSession.add(effects.droppedNoSession)
            counters.droppedSessionLimit.add(effects.droppedSessionLimit)
            counters.sessionsRefused.add(effects.sessionsRefused)
            if effects.droppedSessionLimit > 0 || effects.sessionsRefused > 0 {
                logSessionLimit(logger: logger)
            }
            counters.pendingNoSession.store(tracker.pendingCount, ordering: .relaxed)
            counters.gatewayTxDropped.store(Int(tracker.gatewayTxDropped), ordering: .relaxed)
            for event in effects.events {
                queue.append(event)
                switch event {
                case .gap(let key, let first, let count, _, .applianceRestart):
                    // Once per session the last run knew, at most: not rate-limited.
                    logger.warning("readings lost with the last run: it received them and was killed before storing or spooling them", metadata: [
                        "link.session": "\(key)", "gap.first_seq": "\(first)", "gap.count": "\(count)",
                        "gap.reason": "\(GapReason.applianceRestart.rawValue)",
                    ])
                case .gap(let key, let first, let count, _, .link):
                    // At most one line a second: a noisy line must not flood the log.
                    if nowMs - lastGapLogMs >= 1_000 {
                        logger.warning("link gap", metadata: [
                            "link.session": "\(key)", "gap.first_seq": "\(first)", "gap.count": "\(count)",
                            "gap.unlogged_since_last": "\(unloggedGaps)",
                        ])
                        lastGapLogMs = nowMs
                        unloggedGaps = 0
                    } else {
                        unloggedGaps += 1
                    }
                case .session(let key, let hello, _):
                    logger.info("gateway session", metadata: ["link.session": "\(key)", "session.synthetic": "\(hello == nil)"])
                }
            }
            if !effects.events.isEmpty { counters.setSession(tracker.currentSession?.description) }
            if effects.unannouncedReboots > 0 {
                logger.warning("gateway seq went back without HELLO: unannounced reboot")
            }
            if !effects.ready.isEmpty {
                effects.ready.withUnsafeBufferPointer { rows in
                    guard let spool else {
                        // Without a spool a full ring makes the reader wait (counted by the ring).
                        _ = ring.push(rows)
                        return
                    }
                    // The spool keeps order: once in use, everything goes there until the
                    // writer has drained it; the ring's older readings are written first.
                    if spool.appendIfActive(rows, sessions: sessions) { return }
                    var pushed = 0
                    if !spool.shouldSpill(ringFill: ring.fill, highWater: highWater, nowMs: nowMs) {
                        pushed = ring.tryPush(rows)
                    }
                    if pushed < rows.count {
                        spool.activate()
                        logger.notice("spooling to disk: the database is not keeping up", metadata: [
                            "ring.fill": "\(ring.fill)", "spool.pending": "\(spool.pending)",
                        ])
                        spool.append(UnsafeBufferPointer(rebasing: rows[pushed...]), sessions: sessions)
                    }
                }
            }
            let ping = effects.wantsPing
            effects.clear()
            return ping
        }

        /// One line at once, then at most one a minute while it goes on: a gateway changing
        /// its boot id on every frame must not flood the log.
        mutating func logSessionLimit(logger: Logger) {
            unloggedLimitDrops += effects.droppedSessionLimit
            unloggedRefusals += effects.sessionsRefused
            if let last = lastLimitLogMs, nowMs - last < 60_000 { return }
            logger.error("session limit reached: readings of new gateway sessions are dropped (is the gateway changing its id or boot id?)", metadata: [
                "link.max_sessions": "\(tracker.config.maxSessions)",
                "link.session_refused": "\(tracker.refusedSession.map { "\($0)" } ?? "none")",
                "link.refused_since_last_line": "\(unloggedRefusals)", "link.dropped_since_last_line": "\(unloggedLimitDrops)",
            ])
            lastLimitLogMs = nowMs
            unloggedLimitDrops = 0
            unloggedRefusals = 0
        }

        mutating func flushForShutdown(now: Int64) {
            nowMs = now
            tracker.flushForShutdown(nowMs: now, effects: &effects)
        }
    }
}

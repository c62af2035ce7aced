import ParkLinkProtocol
import ParkLinkSystem
import Logging

extension ReadingWriter {
    /// Stop was asked and the database cannot take the rest. With a spool, the batch (unless
    /// it came from the spool, where it still is) and what is left in the ring go in front of
    /// the spooled readings, and the next start writes them: nothing is lost. Without one,
    /// they are counted as abandoned and logged.
    func stopWithoutDatabase(batch: UnsafeMutablePointer<StampedReading>, count n: Int, fromSpool: Bool, capacity: Int,
                                     events held: [LinkEvent]) {
        var spooled = 0, abandoned = 0
        func keep(_ rows: UnsafeBufferPointer<StampedReading>) {
            if let spool {
                let kept = spool.appendInFront(rows, sessions: sessions)
                spooled += kept
                abandoned += rows.count - kept
            } else {
                abandoned += rows.count
            }
        }
        if !fromSpool { keep(UnsafeBufferPointer(start: batch, count: n)) }
        batch.deinitialize(count: n)
        // What is still queued, and what a reader blocked on the full ring still pushes
        // before it stops, cannot be written either.
        while !ring.isDrained {
            let m = ring.pop(into: batch, max: capacity, lingerMs: 0, firstWaitMs: 100)
            keep(UnsafeBufferPointer(start: batch, count: m))
            batch.deinitialize(count: m)
        }
        spool?.sync()
        // The sessions and gaps of those readings, and any the reader reported while
        // stopping: beside the spool, or a gap seen only in memory would be stored nowhere.
        let unstored = held + events.takeAll()
        var eventsKept = 0
        if let spool, !unstored.isEmpty {
            do {
                try spool.linkEvents.save(unstored)
                eventsKept = unstored.count
            } catch {
                logger.critical("link events not kept at shutdown: the sessions and gaps they describe will be missing", metadata: [
                    "link.events": "\(unstored.count)", "spool.error": "\(error)",
                ])
            }
        } else if !unstored.isEmpty {
            logger.critical("link events not stored at shutdown (no spool)", metadata: ["link.events": "\(unstored.count)"])
        }
        _abandoned.withLock { $0 += abandoned }
        _spooledAtShutdown.withLock { $0 += spooled }
        if abandoned > 0 {
            logger.critical("database unreachable at shutdown: readings not stored", metadata: [
                "store.abandoned": "\(abandoned)", "spool.kept": "\(spooled)", "store.error": "\(counters.lastError ?? "")",
            ])
        } else {
            logger.notice("database unreachable at shutdown: the rest is in the spool for the next start", metadata: [
                "spool.kept": "\(spooled)", "spool.link_events_kept": "\(eventsKept)", "spool.pending": "\(spool?.pending ?? 0)", "store.error": "\(counters.lastError ?? "")",
            ])
        }
        counters.inFlight.store(0, ordering: .relaxed)
    }

    /// Returns the number of new rows, or nil if stop was asked and the grace period ran out.
    ///
    /// The error decides what happens next. A lost connection: disconnect, back off (capped),
    /// reconnect. A transient error: the sink has rolled back; write the same batch again.
    /// A permanent error: logged once (until the next success or a different error) with
    /// the server's code and the step, shown in `status` and raised as an alert through
    /// `counters.writeRejected`, then retried every `permanentRetryMs` on a fresh
    /// connection, so the batch goes in as soon as somebody fixes the cause.
    func commitWithRetry(_ sink: BatchSink, _ rows: UnsafeBufferPointer<StampedReading>, _ pendingEvents: inout [LinkEvent]) -> Int? {
        var backoff = config.initialBackoffMs
        while true {
            let wait: Int
            do {
                if !counters.connected.load(ordering: .relaxed) {
                    let left = graceLeftMs()
                    if let left, left <= 0 { return nil }
                    try sink.connect(within: left.map { .milliseconds($0) })
                    counters.connected.store(true, ordering: .relaxed)
                    counters.connects.add(1)
                    logger.info("database connected")
                    if storedResume == nil, let points = try? sink.storedResumePoints() {
                        storedResume = points
                        pendingEvents += spoolHoles(stored: points)
                    }
                }
                if storedResume != nil { pendingEvents = withoutStoredSeqs(pendingEvents) }
                let inserted = try sink.write(rows, events: pendingEvents)
                if counters.lastError != nil { counters.setLastError(nil) }
                if let rejected = counters.writeRejected {
                    counters.setWriteRejected(nil)
                    rejectedSignature = nil
                    logger.notice("database accepts the readings again", metadata: [
                        "store.previous_error": "\(rejected)", "batch.rows": "\(rows.count)",
                    ])
                }
                return inserted
            } catch {
                counters.retries.add(1)
                let text = "\(error)"
                counters.setLastError(text)
                switch sink.classify(error) {
                case .connectionLost:
                    let now = Clock.wallMilliseconds()
                    if counters.connected.load(ordering: .relaxed) {
                        logger.error("batch not committed: connection lost; keeping it and reconnecting", metadata: [
                            "batch.rows": "\(rows.count)", "store.error": "\(text)", "store.backoff_ms": "\(backoff)",
                        ])
                        lastConnectFailureLogMs = now
                    } else if now - lastConnectFailureLogMs >= 10_000 {
                        // Every failed connect is counted (retries); a line at most every 10 s.
                        logger.error("cannot connect to the database; readings wait in the ring and the spool", metadata: [
                            "store.error": "\(text)", "store.retries": "\(counters.retries.value)",
                        ])
                        lastConnectFailureLogMs = now
                    }
                    counters.connected.store(false, ordering: .relaxed)
                    sink.disconnect()
                    wait = backoff
                    backoff = min(backoff * 2, config.maxBackoffMs)
                case .transient:
                    logger.warning("batch not committed: transient error; writing it again", metadata: [
                        "batch.rows": "\(rows.count)", "store.error": "\(text)",
                    ])
                    wait = min(backoff, config.maxBackoffMs)
                    backoff = min(backoff * 2, config.maxBackoffMs)
                case .permanent:
                    let signature = sink.signature(of: error)
                    if rejectedSignature != signature {
                        rejectedSignature = signature
                        logger.critical("the database refuses the batch; keeping it and retrying every \(config.permanentRetryMs / 1_000) s until the cause is fixed", metadata: [
                            "batch.rows": "\(rows.count)", "store.error": "\(text)",
                            "store.fix": "\(sink.fix(for: error) ?? "see the server's message")",
                        ])
                    }
                    counters.setWriteRejected(text)
                    // A fresh connection next time: a privilege given back may apply only
                    // to new sessions.
                    counters.connected.store(false, ordering: .relaxed)
                    sink.disconnect()
                    wait = config.permanentRetryMs
                }
            }
            spool?.writerFailing(nowMs: Clock.wallMilliseconds())
            if let asked = stopAskedAtMs.withLock({ $0 }),
               spool != nil || Int64(Clock.monotonicNanoseconds() / 1_000_000) - asked > Int64(config.shutdownGraceMs) {
                // With a spool nothing is lost by stopping now: no need to wait out the grace.
                return nil
            }
            sleepUnlessStopping(milliseconds: wait)
        }
    }

    /// Sleeps, in slices, so that a long permanent-error wait does not outlast the
    /// shutdown grace period.
    func sleepUnlessStopping(milliseconds: Int) {
        var left = milliseconds
        while left > 0 {
            let slice = min(left, 100)
            Clock.sleep(milliseconds: slice)
            left -= slice
            if let asked = stopAskedAtMs.withLock({ $0 }),
               spool != nil || Int64(Clock.monotonicNanoseconds() / 1_000_000) - asked > Int64(config.shutdownGraceMs) {
                return
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims
import Logging
import ParkLinkProtocol
import ParkLinkSystem

/// The producer: serial line → decoder → session tracker → ring.
///
/// It owns the serial descriptor and nothing slow: no database, no disk, no sampler.
/// It waits in `poll` on the line and a wake pipe (for stop and for downlink commands),
/// reads in large chunks, stamps each chunk with the host's UTC time (the time the
/// frames' last bytes arrived), and pushes a chunk's readings into the ring in one batch.
/// When the device goes away (EIO, hang-up, the node vanishing) it closes it, backs off
/// (100 ms doubling to `maxBackoffMs`) and reopens the same path, logging each transition.
public final class SerialReader: @unchecked Sendable {
    // @unchecked: the mutable link state lives in the thread's locals; shared pieces are
    // the ring, queues, atomics and the service thread, each thread-safe.
    public struct Config: Sendable {
        public var device: String
        public var baud: UInt32 = 115_200
        public var encoding: FrameEncoding = .text
        public var chunkBytes = 64 * 1024
        public var initialBackoffMs = 100
        /// Capped at half a second so a replugged gateway is found within a second.
        public var maxBackoffMs = 500
        /// Housekeeping period (HELLO time-outs) when the line is quiet.
        public var tickMs: Int32 = 250
        /// On a slow line (every wake-up for a second read fewer than `coalesceBelowBytes`),
        /// pause this long between reads, so that frames arriving one by one are read,
        /// decoded and handed over a dozen or more at a time: at 500 readings/s one wake-up per
        /// 30 ms instead of one per frame. The gateway's buffer holds what comes meanwhile (a
        /// 115,200-baud line sends 350 bytes in 30 ms, a full-speed USB link at most ~30 KB);
        /// a busy line is read at once. A frame is stamped when it is read, so on a slow line
        /// `received_at` may be up to this much after its last byte arrived. 0: read each
        /// frame as it comes.
        public var coalesceMs: Int32 = 30
        public var coalesceBelowBytes = 2_048
        public var tracker = SessionTracker.Config()
        /// Run the reader at real-time priority (SCHED_FIFO), else at nice −10, when the
        /// system allows: on 2 cores a reader that waits 50–300 ms for a core lets a
        /// full-speed gateway's transmit buffer overflow (measured in benchmarks/).
        public var raisePriority = true
        public var resume: [SessionKey: UInt64] = [:]
        /// False when the previous run did not stop cleanly (see `SessionTracker`).
        public var lastRunStoppedCleanly = true
        /// With a spool: readings go to it instead of the ring once the ring holds this many.
        public var spoolHighWater: Int?
        /// The most downlink commands waiting for the reader; past it they are refused and counted.
        public var downlinkCapacity = 4_096
        public init(device: String) { self.device = device }
    }

    public let config: Config
    public let counters: LinkCounters
    private let ring: RingBuffer<StampedReading>
    private let events: LinkEventQueue
    private let sessions: SessionTable
    private let spool: Spool?
    let logger: Logger
    let service: ServiceThread
    /// Commands for the gateway; the reader writes them between reads (see `DownlinkQueue`).
    public let downlink: DownlinkQueue

    public init(
        config: Config, ring: RingBuffer<StampedReading>, events: LinkEventQueue,
        sessions: SessionTable, counters: LinkCounters, logger: Logger, spool: Spool? = nil
    ) throws {
        self.spool = spool
        self.config = config
        self.ring = ring
        self.events = events
        self.sessions = sessions
        self.counters = counters
        self.logger = logger
        self.service = try ServiceThread(name: "pl-reader")
        self.downlink = DownlinkQueue(capacity: config.downlinkCapacity)
    }

    /// Starts the reader thread. Call once.
    public func start() {
        service.start { [self] in run() }
    }

    /// Stops reading, hands every reading already decoded to the ring, and returns
    /// when the thread has finished. A second call does nothing more.
    public func stop() {
        service.stop()
    }

    /// Queues a command for the gateway (LED, PING); the reader thread writes it. False
    /// when the queue is full (the command is counted in `downlink.dropped`).
    @discardableResult
    public func send(_ message: Message) -> Bool {
        guard downlink.offer(message) else { return false }
        service.wake()
        return true
    }

    // MARK: - The thread

    private func run() {
        if config.raisePriority {
            switch parklink_raise_thread_priority(10, -10) {
            case 1: logger.info("reader at real-time priority", metadata: ["thread.policy": "SCHED_FIFO 10"])
            case 2: logger.info("reader at raised priority", metadata: ["thread.policy": "nice -10"])
            default: logger.notice("reader priority unchanged (no CAP_SYS_NICE); under heavy load a fast gateway may drop readings")
            }
        }
        var sink = LinkSink(tracker: SessionTracker(sessions: sessions, config: config.tracker, resume: config.resume,
                                                    lastRunStoppedCleanly: config.lastRunStoppedCleanly))
        sink.effects.ready.reserveCapacity(8192)
        var decoder = StreamDecoder(encoding: config.encoding)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: config.chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var port: OpenSerialPort?
        /// Since when every wake-up has read little (nil: the line is busy), and whether the
        /// reader has just paused for it.
        var slowSinceMs: Int64?
        var paused = false
        var backoffMs = config.initialBackoffMs
        var lastOpenError: SerialPortError?
        var lastPingMs: Int64 = 0

        func publish() {
            let wantsPing = sink.hand(over: ring, spool: spool, highWater: config.spoolHighWater ?? ring.capacity / 2,
                                      sessions: sessions, events: events, counters: counters, logger: logger)
            counters.noiseBytes.store(Int(decoder.noiseBytes), ordering: .relaxed)
            if wantsPing, let fd = port?.descriptor, sink.nowMs - lastPingMs >= 1_000 {
                lastPingMs = sink.nowMs
                write(.ping, to: fd)
                counters.pingsSent.add(1)
            }
        }

        func hangUp(_ open: OpenSerialPort, reason: String) {
            open.close()
            port = nil
            counters.connected.store(false, ordering: .relaxed)
            counters.hangups.add(1)
            logger.warning("link down", metadata: ["link.device": "\(config.device)", "link.reason": "\(reason)"])
            // A frame cut by the unplug must not be glued to the first bytes after reopen:
            // it is rejected (and counted) here.
            decoder.finish(into: &sink)
        }

        while !service.isStopping {
            guard let open = port else {
                do {
                    let open = try SerialPort.open(config.device, baud: config.baud)
                    let fd = open.descriptor
                    port = open
                    if let why = open.lockFileSkipped {
                        // The flock still keeps a second reader out; only the convention is missing.
                        logger.debug("no UUCP lock file for the device", metadata: ["link.device": "\(config.device)", "link.lock_file": "\(why)"])
                    }
                    backoffMs = config.initialBackoffMs
                    lastOpenError = nil
                    counters.opens.add(1)
                    counters.connected.store(true, ordering: .relaxed)
                    logger.info("link up", metadata: ["link.device": "\(config.device)", "link.baud": "\(config.baud)", "link.framing": "\(config.encoding.rawValue)"])
                    // Ask the gateway who it is: readings are keyed by its boot.
                    write(.ping, to: fd)
                    counters.pingsSent.add(1)
                } catch {
                    counters.openFailures.add(1)
                    if lastOpenError != error {
                        logger.error("cannot open link, retrying", metadata: ["link.device": "\(config.device)", "link.error": "\(error)", "link.backoff_ms": "\(backoffMs)"])
                        lastOpenError = error
                    }
                    _ = try? service.wait(timeoutMs: Int32(backoffMs))
                    drainDownlink(to: nil)
                    backoffMs = min(backoffMs * 2, config.maxBackoffMs)
                    sink.tick(now: Clock.wallMilliseconds())
                    publish()
                }
                continue
            }
            let fd = open.descriptor

            var revents: Int16 = Int16(POLLIN)
            if paused {
                // Straight to reading after a pause: whatever came meanwhile is there (a read
                // that finds nothing returns 0 and the next round polls), one syscall less
                // per wake-up of a slow line.
                paused = false
            } else {
                let ready: ServiceThread.Wakeup
                do {
                    ready = try service.wait(for: [PollRequest(fd: fd.raw, events: Int16(POLLIN))], timeoutMs: config.tickMs)
                } catch {
                    logger.critical("poll failed", metadata: ["link.error": "\(error)"])
                    hangUp(open, reason: "\(error)")
                    continue
                }
                if ready.woken {
                    drainDownlink(to: fd)
                }
                revents = ready.revents[0]
            }
            var gone: String?
            var readNow = 0
            if revents & Int16(POLLIN) != 0 {
                // Take what is there now, in a few large reads, then decode and push once.
                for _ in 0..<16 {
                    let n: Int
                    do {
                        n = try fd.read(into: buffer)
                    } catch {
                        if error.errno != EAGAIN { gone = "\(error)" }
                        break
                    }
                    if n == 0 {
                        // A raw tty with VMIN = VTIME = 0 reads 0 both when it is merely
                        // empty and after a hang-up; only POLLHUP tells them apart.
                        if revents & Int16(POLLHUP) != 0 { gone = "hang-up" }
                        break
                    }
                    sink.nowMs = Clock.wallMilliseconds()
                    readNow += n
                    counters.bytes.add(n)
                    counters.lastByteAtMs.store(sink.nowMs, ordering: .relaxed)
                    decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), into: &sink)
                    if n < buffer.count { break }
                }
            } else if revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                gone = revents & Int16(POLLHUP) != 0 ? "hang-up" : "device error"
            }
            let now = Clock.wallMilliseconds()
            sink.tick(now: now)
            publish()
            if let gone {
                hangUp(open, reason: gone)
                slowSinceMs = nil
                paused = false
            } else if config.coalesceMs > 0 {
                if readNow >= config.coalesceBelowBytes {
                    slowSinceMs = nil
                } else if let since = slowSinceMs {
                    // Only after a read that found something: a read that found nothing goes
                    // back to poll, the only way to tell an empty line from a hung-up one.
                    // Stop and downlink commands still wake the pause.
                    if readNow > 0, now - since >= 1_000, let w = try? service.wait(timeoutMs: config.coalesceMs) {
                        if w.woken { drainDownlink(to: fd) }
                        paused = true
                    }
                } else {
                    slowSinceMs = now
                }
            }
        }

        // Stop: everything decoded goes to the ring, including readings that were
        // still waiting for a HELLO.
        sink.flushForShutdown(now: Clock.wallMilliseconds())
        publish()
        if let open = port {
            open.close()
            counters.connected.store(false, ordering: .relaxed)
        }
        logger.info("reader stopped", metadata: ["link.device": "\(config.device)"])
    }
}

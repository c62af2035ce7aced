import ParkLinkSystem

/// The spool's durability on a clock: every `syncIntervalMs` it makes what the reader
/// appended durable, on a thread of its own, so that neither the reader nor the writer
/// ever waits for the disk. A crash loses at most one interval of spooled readings (and
/// what was in the ring), and those show up as `appliance_restart` gaps at the next start.
public final class SpoolSyncer: Sendable {
    private let spool: Spool
    private let service: ServiceThread

    public init(spool: Spool) throws {
        self.spool = spool
        self.service = try ServiceThread(name: "pl-spool-sync")
    }

    public func start() {
        service.start { [spool, service] in
            while !service.isStopping {
                _ = try? service.wait(timeoutMs: Int32(spool.config.syncIntervalMs))
                spool.sync()
            }
        }
    }

    /// Stops the thread after a last sync.
    public func stop() {
        service.stop()
        spool.sync()
    }
}

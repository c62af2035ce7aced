#if canImport(Glibc)
import Glibc
#endif
import Logging
import ParkLinkProtocol
import ParkLinkSystem

/// The reader's other direction: commands to the gateway, written between reads.
extension SerialReader {
    /// Writes up to 256 queued commands; with more waiting, or the queue's lock busy at this
    /// instant, it wakes itself so the next turn comes at once (after a read, not instead).
    func drainDownlink(to fd: FileDescriptor?) {
        let limit = 256
        guard let queued = downlink.tryTake(limit: limit) else {
            service.wake()
            return
        }
        if queued.count == limit { service.wake() }
        guard let fd else {
            counters.commandsDropped.add(queued.count)
            if !queued.isEmpty { logger.warning("link down: downlink commands dropped", metadata: ["downlink.count": "\(queued.count)"]) }
            return
        }
        guard !queued.isEmpty else { return }
        // One write for the lot (a reconnect re-sends every bay's LED): the reader pays one
        // system call, not one per command.
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for m in queued {
            bytes += MessageEncoder.encode(m, as: config.encoding)
            ends.append(bytes.count)
        }
        let written = writeSome(bytes, to: fd)
        let whole = ends.prefix { $0 <= written }.count
        counters.commandsSent.add(whole)
        counters.commandsDropped.add(queued.count - whole)
    }

    /// Writes what the port takes now, never waiting; returns how many bytes went.
    private func writeSome(_ bytes: [UInt8], to fd: FileDescriptor) -> Int {
        var offset = 0
        while offset < bytes.count {
            do {
                offset += try bytes.withUnsafeBytes { p in try fd.write(UnsafeRawBufferPointer(rebasing: p[offset...])) }
            } catch {
                if (error as? SystemError)?.errno != EAGAIN {
                    logger.warning("downlink write failed", metadata: ["link.device": "\(config.device)", "link.error": "\(error)"])
                }
                break
            }
        }
        return offset
    }

    /// Writes a command without ever waiting: the reader must keep reading. What the
    /// port does not take at once is dropped and counted (the gateway resynchronises on
    /// the next frame, as it would after line noise).
    @discardableResult
    func write(_ message: Message, to fd: FileDescriptor) -> Bool {
        let bytes = MessageEncoder.encode(message, as: config.encoding)
        var offset = 0
        do {
            while offset < bytes.count {
                offset += try bytes.withUnsafeBytes { p in try fd.write(UnsafeRawBufferPointer(rebasing: p[offset...])) }
            }
            return true
        } catch {
            counters.commandsDropped.add(1)
            if (error as? SystemError)?.errno != EAGAIN {
                logger.warning("downlink write failed", metadata: ["link.device": "\(config.device)", "link.error": "\(error)"])
            }
            return false
        }
    }
}

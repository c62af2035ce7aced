#if canImport(Glibc)
import Glibc
#endif
import ParkLinkProtocol
import ParkLinkSystem

/// The writer's side of the spool: reading records oldest first, and forgetting them once
/// committed. The read cursor and its descriptor belong to the writer thread.
extension Spool {
    // MARK: - Draining (the writer thread)

    /// Reads whole records, oldest first, into `batch` (at most `max` readings; at least one
    /// record when `max` ≥ `SpoolRecord.maxReadingsPerRecord`). Returns how many readings
    /// and the cursor to pass to `commit` once they are committed. Nothing is forgotten
    /// until then: after a failure the same readings are read again.
    public func read(into batch: UnsafeMutablePointer<StampedReading>, max: Int, sessions: SessionTable) -> (count: Int, end: Cursor) {
        var cursor = readCursor
        var count = 0
        let snapshot = lock.withLock { segments.map { ($0.number, $0.path, $0.size) } }
        var header = [UInt8](repeating: 0, count: SpoolRecord.headerSize)
        var payload = [UInt8](repeating: 0, count: SpoolRecord.maxPayload)
        for (number, path, size) in snapshot where number >= cursor.segment {
            if number > cursor.segment { cursor = Cursor(segment: number, offset: 0) }
            guard let fd = readDescriptor(number: number, path: path) else { break }
            while cursor.offset + Int64(SpoolRecord.headerSize) <= size {
                let ok = header.withUnsafeMutableBytes { h -> Int? in
                    guard (try? fd.read(into: h, at: cursor.offset)) == SpoolRecord.headerSize else { return nil }
                    return SpoolRecord.payloadLength(header: UnsafeRawBufferPointer(h))
                }
                guard let length = ok else { return (count, cursor) }
                let decoded = payload.withUnsafeMutableBytes { p -> Int? in
                    let slice = UnsafeMutableRawBufferPointer(rebasing: p[0..<length])
                    guard (try? fd.read(into: slice, at: cursor.offset + Int64(SpoolRecord.headerSize))) == length,
                          header.withUnsafeBytes({ SpoolRecord.checksumMatches(header: $0, payload: UnsafeRawBufferPointer(slice)) })
                    else { return nil }
                    let p = UnsafeRawBufferPointer(slice)
                    // Count first: a record that does not fit this batch waits for the next.
                    let gw = Int(p[0])
                    let n = Int(SpoolRecord.get32(p, 1 + gw + 4))
                    guard count + n <= max else { return 0 }
                    var k = count
                    let result = SpoolRecord.decode(payload: p) { key, reading, at in
                        (batch + k).initialize(to: StampedReading(session: sessions.index(for: key), receivedAtMs: at, reading: reading))
                        k += 1
                    }
                    if result == nil { (batch + count).deinitialize(count: k - count) }
                    return result
                }
                guard let n = decoded else { return (count, cursor) }
                if n == 0 { return (count, cursor) }
                count += n
                cursor.offset += Int64(SpoolRecord.headerSize + length)
            }
            if count >= max { break }
        }
        return (count, cursor)
    }

    /// Forgets the `count` readings read up to `end`, now committed: deletes every segment
    /// wholly before the cursor (the active one stays, to be appended to).
    public func commit(through end: Cursor, count: Int, lastReceivedAtMs: Int64?) {
        readCursor = end
        var doomed: [String] = []
        lock.withLock {
            pendingReadings -= count
            if pendingReadings > 0, let t = lastReceivedAtMs { oldestAtMs = t }
            while let first = segments.first,
                  first.number < end.segment || (first.number == end.segment && end.offset >= first.size && segments.count > 1) {
                doomed.append(first.path)
                totalBytes -= first.size
                segments.removeFirst()
            }
            if let first = segments.first, end.segment < first.number { readCursor = Cursor(segment: first.number, offset: 0) }
        }
        _drained.add(count, ordering: .relaxed)
        drainRate.withLock { $0.add(count, nowMs: Int64(Clock.monotonicNanoseconds() / 1_000_000)) }
        for path in doomed {
            if readFD.map({ config.directory + "/" + Self.name($0.number) == path }) == true {
                readFD?.fd.close()
                readFD = nil
            }
            try? FileSystem.remove(path)
        }
    }

    func readDescriptor(number: UInt64, path: String) -> FileDescriptor? {
        if let r = readFD, r.number == number { return r.fd }
        readFD?.fd.close()
        readFD = nil
        guard let fd = try? FileDescriptor.open(path, flags: O_RDONLY) else { return nil }
        readFD = (number, fd)
        return fd
    }
}

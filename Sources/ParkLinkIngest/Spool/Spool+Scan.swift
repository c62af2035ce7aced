#if canImport(Glibc)
import Glibc
#endif
import ParkLinkProtocol
import ParkLinkSystem

/// Segment names, and the start-up scan that finds the good part of each segment.
extension Spool {

    static func name(_ number: UInt64) -> String {
        let digits = String(number)
        return "seg-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".spool"
    }

    /// The good part of a segment: whole records with matching checksums, from the start.
    static func scan(_ fd: FileDescriptor, size: Int64, resume: inout [SessionKey: UInt64],
                     first firstSeq: inout [SessionKey: UInt64]) throws
        -> (goodBytes: Int64, readings: Int, firstAtMs: Int64?)
    {
        var offset: Int64 = 0, readings = 0
        var first: Int64?
        var header = [UInt8](repeating: 0, count: SpoolRecord.headerSize)
        var payload = [UInt8](repeating: 0, count: SpoolRecord.maxPayload)
        while offset + Int64(SpoolRecord.headerSize) <= size {
            let length = try header.withUnsafeMutableBytes { h throws -> Int? in
                guard try fd.read(into: h, at: offset) == SpoolRecord.headerSize else { return nil }
                return SpoolRecord.payloadLength(header: UnsafeRawBufferPointer(h))
            }
            guard let length, offset + Int64(SpoolRecord.headerSize + length) <= size else { break }
            let n = try payload.withUnsafeMutableBytes { p throws -> Int? in
                let slice = UnsafeMutableRawBufferPointer(rebasing: p[0..<length])
                guard try fd.read(into: slice, at: offset + Int64(SpoolRecord.headerSize)) == length,
                      header.withUnsafeBytes({ SpoolRecord.checksumMatches(header: $0, payload: UnsafeRawBufferPointer(slice)) })
                else { return nil }
                var firstAt: Int64?
                let n = SpoolRecord.decode(payload: UnsafeRawBufferPointer(slice)) { key, reading, at in
                    if firstAt == nil { firstAt = at }
                    resume[key] = max(resume[key] ?? 0, UInt64(reading.seq) + 1)
                    firstSeq[key] = min(firstSeq[key] ?? .max, UInt64(reading.seq))
                }
                if first == nil { first = firstAt }
                return n
            }
            guard let n else { break }
            readings += n
            offset += Int64(SpoolRecord.headerSize + length)
        }
        return (offset, readings, first)
    }
}

/// Counts in one-second buckets over the last ten seconds.
struct RateWindow {
    private var buckets = [Int](repeating: 0, count: 10)
    private var bucketSecond = [Int64](repeating: -1, count: 10)

    mutating func add(_ n: Int, nowMs: Int64) {
        let second = nowMs / 1_000
        let i = Int(second % 10)
        if bucketSecond[i] != second {
            bucketSecond[i] = second
            buckets[i] = 0
        }
        buckets[i] += n
    }

    func perSecond(nowMs: Int64) -> Double {
        let now = nowMs / 1_000
        var sum = 0
        for i in 0..<10 where bucketSecond[i] > now - 10 { sum += buckets[i] }
        return Double(sum) / 10
    }
}

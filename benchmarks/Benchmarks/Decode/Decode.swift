import Benchmark
import BenchmarkSupport
import ParkLinkProtocol
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

// What the reader's thread spends its time on: turning bytes from the serial line into
// messages (framing, CRC-16, field parsing, COBS). Every benchmark reports MB/s (and
// frames/s where there are frames) as custom metrics, from its own clock around the
// measured work, and counts mallocs; `Thresholds/` gates the malloc counts, not the times.

let benchmarks: @Sendable () -> Void = {
    let decodeMetrics: [BenchmarkMetric] = [
        .wallClock, .mallocCountTotal, DecodeMetrics.megabytesPerSecond, DecodeMetrics.framesPerSecond,
    ]
    // The malloc gate: a per-frame allocation would add thousands per iteration. (No CPU
    // metrics here: their sampling thread allocates and would blur the count.)
    let gate: [BenchmarkMetric: BenchmarkThresholds] = [.mallocCountTotal: .init(absolute: [.p90: 2])]
    let config = Benchmark.Configuration(
        metrics: decodeMetrics, warmupIterations: 3, maxDuration: .seconds(2), maxIterations: 400, thresholds: gate)

    for encoding in FrameEncoding.allCases {
        // Built once per process, outside any measurement.
        let stream = GatewayStream.make(encoding: encoding, readings: GatewayStream.readingCount)
        Benchmark("decode-\(encoding.rawValue)-20k-frames", configuration: config) { benchmark in
            var decoder = StreamDecoder(encoding: encoding)
            var sink = CountingSink()
            benchmark.startMeasurement()
            let start = Clock.monotonicNanoseconds()
            stream.bytes.withUnsafeBytes { all in
                // Pieces as read() returns them from a tty, so frames straddle pieces and
                // the carry path runs once per piece.
                var offset = 0
                while offset < all.count {
                    let n = min(GatewayStream.readSize, all.count - offset)
                    decoder.feed(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)]), into: &sink)
                    offset += n
                }
            }
            let elapsed = Clock.monotonicNanoseconds() - start
            benchmark.stopMeasurement()
            precondition(sink.readings == stream.readings && sink.rejects == 0, "decoder lost frames: \(sink)")
            blackHole(sink.checksum)
            benchmark.measurement(DecodeMetrics.megabytesPerSecond, rate(stream.bytes.count, elapsed) / 1_000_000)
            benchmark.measurement(DecodeMetrics.framesPerSecond, rate(stream.frames, elapsed))
        }
    }

    // CRC-16 over 64 KiB of frame bytes: the checksum both framings run over nearly every byte.
    let crcInput = GatewayStream.make(encoding: .text, readings: 2_000).bytes.prefix(64 * 1024)
    precondition(crcInput.count == 64 * 1024)
    let crcBytes = Array(crcInput)
    Benchmark(
        "crc16-64KiB",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal, DecodeMetrics.megabytesPerSecond], warmupIterations: 10,
            maxDuration: .seconds(1), maxIterations: 5_000, thresholds: gate)
    ) { benchmark in
        let start = Clock.monotonicNanoseconds()
        let crc = crcBytes.withUnsafeBytes { CRC16.checksum($0) }
        let elapsed = Clock.monotonicNanoseconds() - start
        blackHole(crc)
        benchmark.measurement(DecodeMetrics.megabytesPerSecond, rate(crcBytes.count, elapsed) / 1_000_000)
    }

    // COBS frame by frame, as the binary framing uses it: ~3,100 unstuffed reading frames
    // (type | payload | crc, 21 bytes, absent fields as zero bytes) = 64 KiB.
    let frames = GatewayStream.rawBinaryFrames(totalBytes: 64 * 1024)
    let stuffed = frames.frames.map { frame in COBS.encode(frame) }
    let cobsConfig = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, DecodeMetrics.megabytesPerSecond, DecodeMetrics.framesPerSecond],
        warmupIterations: 5, maxDuration: .seconds(1), maxIterations: 2_000, thresholds: gate)

    Benchmark("cobs-encode-64KiB-of-frames", configuration: cobsConfig) { benchmark in
        var output: [UInt8] = []
        output.reserveCapacity(frames.totalBytes + frames.frames.count * 2 + 64)
        benchmark.startMeasurement()
        let start = Clock.monotonicNanoseconds()
        for frame in frames.frames {
            frame.withUnsafeBytes { COBS.encode($0, appendingTo: &output) }
            output.append(0)
        }
        let elapsed = Clock.monotonicNanoseconds() - start
        benchmark.stopMeasurement()
        blackHole(output.count)
        benchmark.measurement(DecodeMetrics.megabytesPerSecond, rate(frames.totalBytes, elapsed) / 1_000_000)
        benchmark.measurement(DecodeMetrics.framesPerSecond, rate(frames.frames.count, elapsed))
    }

    Benchmark("cobs-decode-64KiB-of-frames", configuration: cobsConfig) { benchmark in
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
        defer { scratch.deallocate() }
        var decoded = 0
        benchmark.startMeasurement()
        let start = Clock.monotonicNanoseconds()
        for frame in stuffed {
            decoded &+= frame.withUnsafeBytes { COBS.decode($0, into: scratch) } ?? 0
        }
        let elapsed = Clock.monotonicNanoseconds() - start
        benchmark.stopMeasurement()
        precondition(decoded == frames.totalBytes)
        benchmark.measurement(DecodeMetrics.megabytesPerSecond, rate(frames.totalBytes, elapsed) / 1_000_000)
        benchmark.measurement(DecodeMetrics.framesPerSecond, rate(frames.frames.count, elapsed))
    }
}

enum DecodeMetrics {
    /// Input bytes per second / 10^6.
    static var megabytesPerSecond: BenchmarkMetric { .custom("MB/s", polarity: .prefersLarger, useScalingFactor: false) }
    static var framesPerSecond: BenchmarkMetric { .custom("frames/s", polarity: .prefersLarger, useScalingFactor: false) }
}

/// A gateway's byte stream as the reader sees it.
struct GatewayStream: Sendable {
    /// Readings per iteration: 20,000 (plus a HELLO and 20 heartbeats), about 0.82 MB of
    /// text or 0.45 MB of binary.
    static let readingCount = 20_000
    /// One read() from a tty rarely returns more than 4 KiB.
    static let readSize = 4_096
    static let sensors = 500

    let bytes: [UInt8]
    let readings: Int
    let frames: Int

    /// A HELLO, then readings round-robin over 500 sensors with a heartbeat every 1,000.
    /// The field mix follows the simulator's bays: one sensor in eight has no ranger
    /// (distance absent), one in eight no meter (voltage, current, power factor absent),
    /// chargers draw amperes, values vary in width.
    static func make(encoding: FrameEncoding, readings count: Int) -> GatewayStream {
        var out: [UInt8] = []
        out.reserveCapacity(count * 64 + 256)
        var frames = 0
        MessageEncoder.append(
            .hello(Hello(gatewayId: "SIM-01", bootId: 0x9F3A_11C2, firmware: .init(major: 1, minor: 4, patch: 2), sensorCount: UInt16(sensors))),
            as: encoding, to: &out)
        frames += 1
        var random = SplitMix64(seed: 42)
        for seq in 0..<UInt32(count) {
            MessageEncoder.append(.reading(reading(seq: seq, random: &random)), as: encoding, to: &out)
            frames += 1
            if seq % 1_000 == 999 {
                MessageEncoder.append(.heartbeat(Heartbeat(nextSeq: seq + 1, uptimeMs: seq * 10, txDropped: 0)), as: encoding, to: &out)
                frames += 1
            }
        }
        return GatewayStream(bytes: out, readings: count, frames: frames)
    }

    static func reading(seq: UInt32, random: inout SplitMix64) -> Reading {
        let index = Int(seq) % sensors
        let occupied = random.next() % 3 == 0
        var r = Reading(seq: seq, sensor: UInt16(index + 1), gatewayMs: 1_000_000 + seq * 10, occupied: occupied)
        if index % 8 != 5 {
            r.distanceCm = UInt16(occupied ? 20 + random.next() % 70 : 170 + random.next() % 90)
        }
        if index % 8 != 6 {
            r.voltageDv = UInt16(2200 + random.next() % 220)
            let charging = index % 4 == 1 && occupied
            r.currentMa = UInt16(charging ? 4000 + random.next() % 2000 : 30 + random.next() % 270)
            r.powerFactorPct = UInt8(charging ? 95 + random.next() % 5 : 50 + random.next() % 46)
        }
        return r
    }

    /// Unstuffed binary reading frames (type | payload | crc16le) adding up to about `totalBytes`.
    static func rawBinaryFrames(totalBytes: Int) -> (frames: [[UInt8]], totalBytes: Int) {
        var random = SplitMix64(seed: 7)
        var frames: [[UInt8]] = []
        var total = 0
        var seq: UInt32 = 0
        while total < totalBytes {
            let encoded = MessageEncoder.encode(.reading(reading(seq: seq, random: &random)), as: .binary)
            let raw = COBS.decode(Array(encoded.dropLast()))!
            frames.append(raw)
            total += raw.count
            seq += 1
        }
        return (frames, total)
    }
}

/// Counts what the decoder delivers, like the reader's sink, without a session tracker.
struct CountingSink: DecodeSink, CustomStringConvertible {
    var readings = 0
    var others = 0
    var rejects = 0
    var checksum: UInt64 = 0

    mutating func accept(_ message: Message) {
        if case .reading(let r) = message {
            readings += 1
            checksum &+= UInt64(r.seq) &+ UInt64(r.distanceCm ?? 1) &+ UInt64(r.currentMa ?? 2)
        } else {
            others += 1
        }
    }

    mutating func reject(_ reason: RejectReason) { rejects += 1 }

    var description: String { "readings \(readings), others \(others), rejects \(rejects)" }
}



/// `count` per second over `nanoseconds`.
func rate(_ count: Int, _ nanoseconds: UInt64) -> Int {
    Int((Double(count) * 1e9 / Double(max(nanoseconds, 1))).rounded())
}

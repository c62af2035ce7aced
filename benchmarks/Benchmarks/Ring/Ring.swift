import Benchmark
import Dispatch
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// The reader → writer hand-over: `RingBuffer<StampedReading>` (one mutex, two condition
// variables) between two real threads, one pushing batches, one popping batches of the
// same size, through the pipeline's default capacity (262,144). 1,000,000 readings per
// iteration (`scalingFactor: .mega`), so `throughput` reads directly as readings/s.
// The threads are created (and have started) before the measurement and are released
// together by a flag, so the malloc count is that of push/pop alone: it must stay 0.
// (Malloc counts are per iteration of 1,000,000 readings; the table shows them scaled
// per reading, `thresholds check` compares the raw count.)

let benchmarks: @Sendable () -> Void = {
    for batch in [1, 64, 512] {
        Benchmark(
            "spsc-batch-\(batch)",
            configuration: .init(
                metrics: [.throughput, .wallClock, .mallocCountTotal, RingMetrics.producerWaits],
                scalingFactor: .mega,
                maxDuration: .seconds(3),
                maxIterations: 50,
                thresholds: [.mallocCountTotal: .init(absolute: [.p90: 2])])
        ) { benchmark in
            let items = benchmark.scaledIterations.count
            let ring = RingBuffer<StampedReading>(capacity: 262_144)
            let go = StartFlag()
            let template = (0..<batch).map { i in sampleRow(i) }
            let producer = NamedThread(name: "bench-producer") {
                go.wait()
                template.withUnsafeBufferPointer { chunk in
                    var sent = 0
                    while sent < items {
                        let n = min(batch, items - sent)
                        ring.push(UnsafeBufferPointer(rebasing: chunk[0..<n]))
                        sent += n
                    }
                }
                go.finish()
            }
            let consumer = NamedThread(name: "bench-consumer") {
                let buffer = UnsafeMutablePointer<StampedReading>.allocate(capacity: batch)
                defer { buffer.deallocate() }
                go.wait()
                var received = 0
                var sum: UInt64 = 0
                while received < items {
                    let n = ring.pop(into: buffer, max: batch, lingerMs: 0)
                    sum &+= UInt64(buffer[n - 1].reading.seq)
                    received += n
                }
                blackHole(sum)
                go.finish()
            }

            go.waitUntilReady(2)
            benchmark.startMeasurement()
            go.release()
            go.waitUntilDone(2)
            benchmark.stopMeasurement()
            producer.join()
            consumer.join()

            precondition(ring.pushed == items && ring.popped == items)
            benchmark.measurement(RingMetrics.producerWaits, ring.producerWaits)
        }
    }
}

/// A reading with every field present, as the reader pushes them.
func sampleRow(_ i: Int) -> StampedReading {
    let reading = Reading(
        seq: UInt32(i), sensor: UInt16(i % 500 + 1), gatewayMs: UInt32(i), occupied: i % 3 == 0,
        distanceCm: 120, voltageDv: 2300, currentMa: 250, powerFactorPct: 92)
    return StampedReading(session: 0, receivedAtMs: 1_764_000_000_000 + Int64(i), reading: reading)
}

enum RingMetrics {
    /// Times the producer found the ring full (a full ring is backpressure, not loss).
    static var producerWaits: BenchmarkMetric { .custom("producer waits", polarity: .prefersSmaller, useScalingFactor: false) }
}

/// Releases both threads at once, after the measurement has started; `waitUntilReady`
/// lets the measurement start only once both threads have finished starting up (a new
/// thread's first steps allocate, and those allocations are not the ring's).
final class StartFlag: Sendable {
    private let started = Atomic<Bool>(false)
    private let ready = Atomic<Int>(0)
    func release() { started.store(true, ordering: .releasing) }
    func wait() {
        ready.add(1, ordering: .releasing)
        while !started.load(ordering: .acquiring) { sched_yield() }
    }
    func waitUntilReady(_ threads: Int) {
        while ready.load(ordering: .acquiring) < threads { sched_yield() }
    }

    /// Thread exit runs the runtime's thread-local destructors, which allocate: the
    /// measurement stops when both bodies are done, before the threads exit. (A
    /// semaphore, so the waiting thread sleeps instead of taking a core from the two.)
    private let done = DispatchSemaphore(value: 0)
    func finish() { done.signal() }
    func waitUntilDone(_ threads: Int) {
        for _ in 0..<threads { done.wait() }
    }
}

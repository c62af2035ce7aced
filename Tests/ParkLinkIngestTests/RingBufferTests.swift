import Foundation
import ParkLinkIngest
import ParkLinkSystem
import Testing

@Suite("Ring buffer")
struct RingBufferTests {
    @Test("pops what was pushed, in order, across the wrap-around")
    func fifoAcrossWrap() {
        let ring = RingBuffer<Int>(capacity: 8)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        defer { out.deallocate() }
        var next = 0, expected = 0
        for round in 0..<50 {
            let k = round % 7 + 1
            let items = Array(next..<next + k)
            next += k
            #expect(ring.push(items))
            let n = ring.pop(into: out, max: 8, lingerMs: 0)
            #expect(n == k)
            for i in 0..<n {
                #expect(out[i] == expected)
                expected += 1
            }
        }
        #expect(ring.pushed == next)
        #expect(ring.popped == next)
        #expect(ring.fill == 0)
    }

    @Test("tryPush takes only what fits and the high-water mark remembers the peak")
    func boundedAndHighWater() {
        let ring = RingBuffer<Int>(capacity: 4)
        let taken = Array(0..<10).withUnsafeBufferPointer { ring.tryPush($0) }
        #expect(taken == 4)
        #expect(ring.fill == 4)
        #expect(ring.highWater == 4)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { out.deallocate() }
        #expect(ring.pop(into: out, max: 3, lingerMs: 0) == 3)
        #expect(ring.fill == 1)
        #expect(ring.highWater == 4)
    }

    @Test("a full ring makes the producer wait, counts the wait, and loses nothing")
    func producerWaitsWhenFull() {
        let ring = RingBuffer<Int>(capacity: 16)
        let total = 200_000
        let producer = NamedThread(name: "test-producer") {
            var batch: [Int] = []
            for i in 0..<total {
                batch.append(i)
                if batch.count == 64 || i == total - 1 {
                    _ = ring.push(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 512)
        defer { out.deallocate() }
        var expected = 0
        var ok = true
        while expected < total {
            let n = ring.pop(into: out, max: 512, lingerMs: 0)
            for i in 0..<n where out[i] != expected + i { ok = false }
            expected += n
            if expected % 10_000 < 512 { Clock.sleep(milliseconds: 1) }  // let it fill up
        }
        producer.join()
        #expect(ok)
        #expect(expected == total)
        #expect(ring.producerWaits > 0)
        #expect(ring.highWater == 16)
    }

    @Test("close wakes a waiting consumer; what is queued is still drained")
    func closeDrains() {
        let ring = RingBuffer<Int>(capacity: 8)
        _ = ring.push([1, 2, 3])
        ring.close()
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        defer { out.deallocate() }
        #expect(ring.pop(into: out, max: 8, lingerMs: 1_000) == 3)
        #expect(ring.pop(into: out, max: 8, lingerMs: 1_000) == 0)
        #expect(ring.push([4]) == false)
    }

    @Test("the consumer lingers for a fuller batch but returns what came")
    func lingerReturnsPartialBatch() {
        let ring = RingBuffer<Int>(capacity: 64)
        _ = ring.push([7])
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        defer { out.deallocate() }
        let n = ring.pop(into: out, max: 64, lingerMs: 30)
        #expect(n == 1)
        #expect(out[0] == 7)
    }

    /// The linger runs from the oldest queued element's arrival: readings that queued
    /// while the writer was committing have waited already.
    @Test("elements that have waited longer than the linger are taken at once; a fresh one still lingers")
    func lingerRunsFromTheOldestArrival() {
        let ring = RingBuffer<Int>(capacity: 64)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        defer { out.deallocate() }
        _ = ring.push([1, 2, 3])
        Thread.sleep(forTimeInterval: 0.6)
        var started = ContinuousClock.now
        #expect(ring.pop(into: out, max: 64, lingerMs: 500) == 3)
        #expect(ContinuousClock.now - started < .milliseconds(400), "taken without a second linger")
        // A fresh element: the consumer lingers for more, and gets the later one too.
        _ = ring.push([4])
        started = ContinuousClock.now
        Thread {
            Thread.sleep(forTimeInterval: 0.05)
            _ = ring.push([5])
        }.start()
        #expect(ring.pop(into: out, max: 2, lingerMs: 2_000) == 2)
        #expect(ContinuousClock.now - started < .milliseconds(1_500))
        #expect(out[0] == 4 && out[1] == 5)
    }

    /// A slow line's linger (the writer's 100 ms) must not hold up a flood that starts
    /// after a quiet spell, or at the start: the first batch of a 50,000/s run waited it out.
    @Test("a long linger is cut to the busy one once a busy batch's worth is queued; fewer keep the long one")
    func busyCountCutsTheLongLinger() {
        let ring = RingBuffer<Int>(capacity: 256)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        defer { out.deallocate() }
        // A flood: 100 elements arrive just after the first one; the 10-s linger ends
        // 20 ms after the oldest.
        _ = ring.push([0])
        Thread {
            Thread.sleep(forTimeInterval: 0.05)
            _ = ring.push(Array(1..<100))
        }.start()
        var started = ContinuousClock.now
        #expect(ring.pop(into: out, max: 256, lingerMs: 10_000, busy: (64, 20)) == 100)
        #expect(ContinuousClock.now - started < .seconds(5), "not the slow line's linger")
        // A trickle below the count: the long linger holds, and takes all of it.
        _ = ring.push([1, 2])
        started = ContinuousClock.now
        #expect(ring.pop(into: out, max: 256, lingerMs: 400, busy: (64, 20)) == 2)
        #expect(ContinuousClock.now - started >= .milliseconds(350), "the long linger was kept")
    }

    @Test("the writer's quiet wait ends when a busy batch's worth is queued, or at its end, or at close")
    func quietWait() {
        let ring = RingBuffer<Int>(capacity: 256)
        var started = ContinuousClock.now
        _ = ring.push([1, 2, 3])
        ring.waitQuietly(milliseconds: 300, untilCount: 64)
        #expect(ContinuousClock.now - started >= .milliseconds(250), "3 queued: it waited its time out")
        Thread {
            Thread.sleep(forTimeInterval: 0.05)
            _ = ring.push(Array(0..<64))
        }.start()
        started = ContinuousClock.now
        ring.waitQuietly(milliseconds: 10_000, untilCount: 64)
        #expect(ContinuousClock.now - started < .seconds(5), "woken by the flood")
        Thread {
            Thread.sleep(forTimeInterval: 0.05)
            ring.close()
        }.start()
        started = ContinuousClock.now
        ring.waitQuietly(milliseconds: 10_000, untilCount: 1_000)
        #expect(ContinuousClock.now - started < .seconds(5), "woken by close")
    }

    @Test("a bounded wait for the first element returns 0 without closing; a closed empty ring is drained")
    func boundedFirstWait() {
        let ring = RingBuffer<Int>(capacity: 8)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        defer { out.deallocate() }
        #expect(ring.pop(into: out, max: 8, lingerMs: 0, firstWaitMs: 20) == 0)
        #expect(!ring.isDrained)
        _ = ring.push([5])
        #expect(ring.pop(into: out, max: 8, lingerMs: 0, firstWaitMs: 20) == 1)
        ring.close()
        #expect(ring.pop(into: out, max: 8, lingerMs: 0, firstWaitMs: 20) == 0)
        #expect(ring.isDrained)
    }
}

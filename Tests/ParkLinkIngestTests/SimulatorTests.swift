import Foundation
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The simulated gateway, read the way the appliance reads it: `SerialPort.open` on its
/// pty and `StreamDecoder`. Serialized: the rates are checked against the wall clock
/// and the machine has two cores.
@Suite(.serialized)
struct SimulatorTests {
    // MARK: Boot, pacing, values

    @Test("HELLO first, seqs 0, 1, 2 … without a hole, the configured rate, the exact values", arguments: FrameEncoding.allCases)
    func helloThenContiguousReadings(encoding: FrameEncoding) throws {
        var config = testConfig(sensors: 10, rate: 50)
        config.encoding = encoding
        config.durationSeconds = 1.0
        config.recordReadings = true
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: encoding)
        defer { host.close() }
        try host.send(.ping)
        let started = Clock.monotonicNanoseconds()
        #expect(host.read(seconds: 5) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.first?.nextSeq })
        let elapsed = Double(Clock.monotonicNanoseconds() - started) / 1e9

        let ledger = sim.ledger
        let boot = try #require(ledger.boots.first)
        guard case .hello(let hello) = try #require(host.sink.messages.first) else {
            Issue.record("first message is not HELLO: \(host.sink.messages.first.map { "\($0)" } ?? "none")")
            return
        }
        #expect(hello.gatewayId == "SIM-01" && hello.bootId == boot.bootId && hello.sensorCount == 10)
        #expect(host.sink.hellos.count == 1)
        let readings = host.sink.readings
        #expect(readings.map(\.seq) == (0..<UInt32(readings.count)).map { $0 })
        #expect(readings.count == ledger.emitted && ledger.emitted == Int(boot.nextSeq))
        // 500 readings a second for one second; the pacing is computed to the end time.
        #expect((499...500).contains(readings.count))
        #expect(elapsed > 0.5 && elapsed < 3.0, "a 1 s run took \(elapsed) s")
        // Round robin over the sensors, gateway time rising with the slots.
        #expect(readings.allSatisfy { $0.sensor == UInt16(1 + Int($0.seq) % 10) })
        #expect(zip(readings, readings.dropFirst()).allSatisfy { $0.gatewayMs <= $1.gatewayMs })
        #expect(readings == boot.readings)
        #expect(host.sink.rejects.isEmpty && boot.txDropped == 0 && ledger.mustArrive == readings.count)
    }

    @Test("Sensors without a ranger or metering send empty fields; the others stay inside the alert thresholds")
    func bayValues() throws {
        var config = testConfig(sensors: 16, rate: 40)
        config.durationSeconds = 0.5
        config.timeScale = 2000  // flips every second or so: both occupancy states show up
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: .text)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 5) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.first?.nextSeq })
        let readings = host.sink.readings
        #expect(readings.count >= 300)
        let noRanger = Set(sim.sensorsWithoutRanger), noMeter = Set(sim.sensorsWithoutMeter)
        #expect(!noRanger.isEmpty && !noMeter.isEmpty)
        for r in readings {
            #expect((r.distanceCm == nil) == noRanger.contains(r.sensor))
            #expect((r.voltageDv == nil) == noMeter.contains(r.sensor) && (r.powerFactorPct == nil) == noMeter.contains(r.sensor))
            if let d = r.distanceCm { #expect(r.occupied ? d <= 90 : d >= 170) }
            if let v = r.voltageDv { #expect((2000...2500).contains(v)) }
            if let w = r.powerWatts { #expect(w <= 1500) }
        }
        #expect(readings.contains { $0.occupied } && readings.contains { !$0.occupied })
    }

    @Test("Misbehaving sensors: exactly one out-of-range voltage, one high power, one falls silent")
    func misbehavingSensors() throws {
        var config = testConfig(sensors: 8, rate: 100)
        config.encoding = .binary
        config.misbehaving = true
        config.silentAfterSeconds = 0.4
        config.durationSeconds = 1.0
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: .binary)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 5) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.first?.nextSeq })
        let m = sim.misbehaviors
        #expect(m.map(\.sensor) == [6, 7, 8])
        let readings = host.sink.readings
        for r in readings {
            let badVoltage = r.voltageDv.map { $0 < 1000 || $0 > 3000 } ?? false
            let highPower = (r.powerWatts ?? 0) > 1500
            #expect(badVoltage == (r.sensor == 6), "sensor \(r.sensor): \(r.voltageDv ?? 0) dV")
            #expect(highPower == (r.sensor == 7), "sensor \(r.sensor): \(r.powerWatts ?? 0) W")
        }
        // The silent sensor sent for the first 0.4 s only: about 40 readings, not 100.
        let fromSilent = readings.filter { $0.sensor == 8 }.count
        #expect(fromSilent >= 20 && fromSilent <= 60, "silent sensor sent \(fromSilent)")
        #expect(readings.filter { $0.sensor == 1 }.count >= 90)
    }

    // MARK: Downlink

    @Test("PING is answered with HELLO of the same boot; LED commands are counted per colour", arguments: FrameEncoding.allCases)
    func pingAndLED(encoding: FrameEncoding) throws {
        var config = testConfig(sensors: 4, rate: 10)
        config.encoding = encoding
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: encoding)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 3) { $0.hellos.count == 1 && $0.readings.count >= 3 })
        try host.send(.ping)
        try host.send(.led(LEDCommand(sensor: 2, color: .red)))
        try host.send(.led(LEDCommand(sensor: 3, color: .green)))
        try host.send(.led(LEDCommand(sensor: 2, color: .blue)))
        #expect(host.read(seconds: 3) { $0.hellos.count == 2 && sim.downlink.totalLEDCommands == 3 })
        let hellos = host.sink.hellos
        #expect(hellos.count == 2 && hellos[0] == hellos[1] && hellos[1].bootId == sim.ledger.boots.last?.bootId)
        let down = sim.downlink
        #expect(down.pings == 2 && down.ledCommands == [.red: 1, .green: 1, .blue: 1])
        #expect(down.ledBySensor == [2: .blue, 3: .green] && down.rejected == 0)
    }

    // MARK: Faults

    @Test("An injected gap skips exactly the seqs the ledger lists")
    func injectedGap() throws {
        var config = testConfig(sensors: 5, rate: 100)
        config.recordReadings = true
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: .text)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 3) { $0.readings.count >= 50 })
        sim.injectGap(count: 7)
        #expect(host.read(seconds: 3) { $0.readings.count >= 150 })
        sim.requestStop()
        #expect(host.read(seconds: 3) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.first?.nextSeq })
        let boot = try #require(sim.ledger.boots.first)
        let received = Set(host.sink.readings.map(\.seq))
        let missing = (0..<boot.nextSeq).filter { !received.contains($0) }
        #expect(boot.skipped.count == 7 && missing == boot.skipped)
        #expect(boot.skipped == (boot.skipped[0]..<boot.skipped[0] + 7).map { $0 })
        #expect(host.sink.readings.count == boot.emitted && host.sink.readings == boot.readings)
    }

    @Test("Corrupted frames are bad-CRC rejects, one per ledger entry; noise costs no frame", arguments: FrameEncoding.allCases)
    func corruptionAndNoise(encoding: FrameEncoding) throws {
        var config = testConfig(sensors: 20, rate: 100)
        config.encoding = encoding
        config.corruptFraction = 0.03
        config.garbageFraction = 0.03
        config.durationSeconds = 1.0
        config.recordReadings = true
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: encoding)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 5) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.first?.nextSeq })
        let ledger = sim.ledger
        let boot = try #require(ledger.boots.first)
        #expect(boot.corrupted.count > 20 && ledger.garbageBursts > 20)
        #expect(host.sink.rejects[.badCRC] == boot.corrupted.count)
        let received = Set(host.sink.readings.map(\.seq))
        #expect((0..<boot.nextSeq).filter { !received.contains($0) } == boot.corrupted)
        #expect(host.sink.readings == boot.readings)
        switch encoding {
        case .text:
            #expect(host.decoder.noiseBytes == UInt64(ledger.garbageBytes))
            #expect(host.sink.rejects.keys.sorted { $0.rawValue < $1.rawValue } == [.badCRC])
        case .binary:
            #expect(host.sink.rejects[.badFraming] == ledger.garbageBursts)
            #expect(Set(host.sink.rejects.keys) == [.badCRC, .badFraming])
        }
    }

    @Test("A reboot changes the boot id and restarts seq at 0; announced or not", arguments: [true, false])
    func reboot(announced: Bool) throws {
        var config = testConfig(sensors: 4, rate: 100)
        config.recordReadings = true
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: .text)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 3) { $0.readings.count >= 40 })
        sim.reboot(announced: announced)
        #expect(host.read(seconds: 3) { _ in sim.ledger.boots.count == 2 && (sim.ledger.boots.last?.nextSeq ?? 0) >= 40 })
        if !announced {
            // The host sees seq go back without HELLO, asks, and is told the new boot.
            #expect(host.sink.hellos.count == 1)
            try host.send(.ping)
        }
        #expect(host.read(seconds: 3) { $0.hellos.count == 2 })
        sim.requestStop()
        #expect(host.read(seconds: 3) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.last?.nextSeq })
        let ledger = sim.ledger
        let (first, second) = (ledger.boots[0], ledger.boots[1])
        #expect(first.bootId != second.bootId && second.announced == announced)
        #expect(host.sink.hellos.map(\.bootId) == [first.bootId, second.bootId])
        // Readings of the new boot start at 0 and follow each other; the old boot's
        // readings that were still queued at the reboot are `lost`, the rest arrived.
        let seqs = host.sink.readings.map(\.seq)
        let restart = try #require(seqs.indices.dropFirst().first { seqs[$0] <= seqs[$0 - 1] })
        #expect(seqs[restart] == 0)
        #expect(Array(seqs[restart...]) == (0..<second.nextSeq).map { $0 })
        #expect(Array(seqs[..<restart]) == (0..<first.nextSeq).filter { !first.lost.contains($0) })
        #expect(host.sink.readings == first.readingsThatMustArrive + second.readingsThatMustArrive)
    }

    @Test("A host that stops reading makes tx_dropped rise; the simulator never blocks and seqs stay contiguous")
    func stalledHost() throws {
        var config = testConfig(sensors: 50, rate: 400)  // 20,000 readings/s
        config.txBufferBytes = 16 * 1024
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: .text)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 3) { $0.readings.count >= 100 })
        // Stop reading: pty (~20 KB) and transmit buffer (16 KiB) fill, then readings drop.
        Clock.sleep(milliseconds: 400)
        let dropped1 = sim.ledger.txDropped
        Clock.sleep(milliseconds: 400)
        let dropped2 = sim.ledger.txDropped
        #expect(dropped1 > 1000 && dropped2 > dropped1 + 4000, "tx_dropped \(dropped1) then \(dropped2)")
        #expect(sim.state == .running)
        // It still answers: a PING queued now gets a HELLO once the host reads again.
        try host.send(.ping)
        while sim.downlink.pings < 2 { Clock.sleep(milliseconds: 5) }
        sim.requestStop()
        #expect(host.read(seconds: 5) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.first?.nextSeq })
        let boot = try #require(sim.ledger.boots.first)
        // Drops happen before a seq is given: what arrived is contiguous, and the last
        // HB reports the ledger's count.
        #expect(host.sink.readings.map(\.seq) == (0..<boot.nextSeq).map { $0 })
        #expect(host.lastHeartbeat?.txDropped == UInt32(truncatingIfNeeded: boot.txDropped))
        #expect(host.sink.hellos.count == 2 && host.sink.rejects.isEmpty)
    }

    @Test("stop() returns within the drain time-out although nobody reads; what was queued is `lost`")
    func stopWithoutReader() throws {
        var config = testConfig(sensors: 50, rate: 400)
        config.txBufferBytes = 16 * 1024
        config.drainTimeoutSeconds = 0.3
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: .text)
        defer { host.close() }
        try host.send(.ping)
        Clock.sleep(milliseconds: 300)  // booted, and the line is full by now
        let started = Clock.monotonicNanoseconds()
        sim.stop()
        let took = Double(Clock.monotonicNanoseconds() - started) / 1e9
        #expect(took >= 0.25 && took < 1.5, "stop took \(took) s")
        let boot = try #require(sim.ledger.boots.first)
        #expect(sim.state == .finished && boot.txDropped > 0 && !boot.lost.isEmpty)
        // What the kernel held is still readable, and is exactly the seqs neither lost nor dropped.
        #expect(host.read(seconds: 3) { $0.readings.last?.seq == boot.lost.first.map { $0 - 1 } })
        let lost = Set(boot.lost)
        #expect(host.sink.readings.map(\.seq) == (0..<boot.nextSeq).filter { !lost.contains($0) })
    }

    @Test("An unplug replaces the pty behind the link; readings due meanwhile are tx_dropped, none are lost")
    func unplugAndReplug() throws {
        let dir = try TemporaryDirectory()
        var config = testConfig(sensors: 4, rate: 100)
        config.linkPath = dir.path + "/gw"
        config.recordReadings = true
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        #expect(sim.devicePath == dir.path + "/gw")
        sim.start()
        var host = try HostLink(path: sim.devicePath, encoding: .text)
        try host.send(.ping)
        #expect(host.read(seconds: 3) { $0.readings.count >= 40 })
        sim.unplug(forSeconds: 0.3)
        #expect(host.read(seconds: 3) { _ in host.hungUp })
        let before = host.sink
        host.close()
        // The link comes back pointing at a new pty; the boot goes on.
        var reopened: HostLink?
        let deadline = Clock.monotonicNanoseconds() + 3_000_000_000
        while reopened == nil && Clock.monotonicNanoseconds() < deadline {
            if sim.state != .unplugged, let h = try? HostLink(path: sim.devicePath, encoding: .text) { reopened = h }
            Clock.sleep(milliseconds: 10)
        }
        host = try #require(reopened)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 3) { $0.hellos.count == 1 && $0.readings.count >= 40 })
        sim.requestStop()
        #expect(host.read(seconds: 3) { _ in sim.state == .finished && host.lastHeartbeat?.nextSeq == sim.ledger.boots.first?.nextSeq })
        let boot = try #require(sim.ledger.boots.first)
        #expect(sim.ledger.boots.count == 1 && host.sink.hellos.first?.bootId == boot.bootId)
        #expect(boot.txDropped >= 60, "0.3 s unplugged at 400/s dropped \(boot.txDropped)")
        #expect(boot.lost.isEmpty && boot.uncertain.isEmpty)
        let all = before.readings + host.sink.readings
        #expect(all.map(\.seq) == (0..<boot.nextSeq).map { $0 })
        #expect(all == boot.readings)
    }

    @Test("An abrupt unplug behind a stalled host: queued readings are `lost`, the kernel's `uncertain`, the rest arrived")
    func abruptUnplug() throws {
        var config = testConfig(sensors: 50, rate: 400)  // 20,000 readings/s
        config.txBufferBytes = 16 * 1024
        let sim = try GatewaySimulator(config: config)
        defer { sim.close() }
        sim.start()
        let host = try HostLink(path: sim.devicePath, encoding: .text)
        defer { host.close() }
        try host.send(.ping)
        #expect(host.read(seconds: 3) { $0.readings.count >= 2000 })
        Clock.sleep(milliseconds: 200)  // stalled: the pty and the transmit buffer fill
        sim.unplug(forSeconds: 5, abrupt: true)
        #expect(host.read(seconds: 3) { _ in host.hungUp })
        while sim.ledger.boots.first.map({ $0.lost.isEmpty }) ?? true { Clock.sleep(milliseconds: 5) }
        let boot = try #require(sim.ledger.boots.first)
        let received = Set(host.sink.readings.map(\.seq))
        let lost = Set(boot.lost), uncertain = Set(boot.uncertain)
        #expect(!lost.isEmpty && !uncertain.isEmpty && lost.isDisjoint(with: uncertain))
        #expect(received.isDisjoint(with: lost))
        // Everything neither lost nor uncertain was read before the stall.
        let mustHave = (0..<boot.nextSeq).filter { !lost.contains($0) && !uncertain.contains($0) }
        #expect(mustHave.allSatisfy { received.contains($0) })
        #expect(received.count == host.sink.readings.count && host.sink.rejects.isEmpty)
    }

    // MARK: The independent gateway

    @Test("tools/independent_gateway.py --self-test passes against vectors.json")
    func pythonSelfTest() throws {
        let result = try runProcess(["python3", repoRoot() + "/tools/independent_gateway.py", "--self-test"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(", 0 failed"))
    }

    @Test("The independent gateway and the Swift decoder agree on every frame", arguments: FrameEncoding.allCases)
    func pythonGatewayCrossCheck(encoding: FrameEncoding) throws {
        let dir = try TemporaryDirectory()
        let manifestPath = dir.path + "/manifest.json"
        let process = try ChildProcess("python3", [
            repoRoot() + "/tools/independent_gateway.py", "--framing", encoding.rawValue,
            "--rate", "4000", "--count", "4000", "--corrupt", "0.02", "--garbage", "0.02",
            "--gap-at", "100", "--gap-len", "3", "--reboot-at", "1000", "--unannounced-reboot-at", "1500",
            "--wait-timeout", "10", "--drain-timeout", "10", "--linger", "0.2", "--manifest", manifestPath,
        ])
        let path = try #require(process.readLine(timeoutSeconds: 30))
        let host = try HostLink(path: path, encoding: encoding)
        defer { host.close() }
        try host.send(.ping)
        _ = host.read(seconds: 20) { _ in process.poll() != nil }
        #expect(process.wait(timeoutSeconds: 30) == 0)

        let manifest = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any])
        let expected = (manifest["readings"] as? [[String: Any]] ?? []).map(Self.reading(fromManifest:))
        let corrupted = (manifest["corrupted"] as? [Any] ?? []).count
        let sessions = manifest["sessions"] as? [[String: Any]] ?? []
        #expect(expected.count > 3000 && corrupted > 20 && sessions.count == 3)
        #expect(host.sink.readings == expected)
        #expect(host.sink.rejects[.badCRC] == corrupted)
        #expect(host.sink.hellos.map { Int($0.bootId) } == sessions.filter { $0["announced"] as? Bool == true }.map { $0["boot_id"] as? Int ?? -1 })
    }

    private static func reading(fromManifest r: [String: Any]) -> Reading {
        func n(_ key: String) -> Int? { r[key] as? Int }
        return Reading(
            seq: UInt32(n("seq") ?? -1), sensor: UInt16(n("sensor") ?? 0), gatewayMs: UInt32(n("t_ms") ?? 0),
            occupied: r["occupied"] as? Bool ?? false, distanceCm: n("distance_cm").map(UInt16.init),
            voltageDv: n("voltage_dv").map(UInt16.init), currentMa: n("current_ma").map(UInt16.init),
            powerFactorPct: n("power_factor_pct").map(UInt8.init))
    }
}

// MARK: - Helpers

/// A config whose `stop` waits at most 0.3 s for a host that is gone (the tests close
/// their host before the simulator).
private func testConfig(sensors: Int, rate: Double) -> GatewaySimulator.Config {
    var config = GatewaySimulator.Config(sensors: sensors, ratePerSensor: rate)
    config.drainTimeoutSeconds = 0.3
    return config
}

/// What the host decoded.
private struct Collected: DecodeSink {
    var messages: [Message] = []
    var rejects: [RejectReason: Int] = [:]

    mutating func accept(_ message: Message) { messages.append(message) }
    mutating func reject(_ reason: RejectReason) { rejects[reason, default: 0] += 1 }

    var readings: [Reading] { messages.compactMap { if case .reading(let r) = $0 { r } else { nil } } }
    var hellos: [Hello] { messages.compactMap { if case .hello(let h) = $0 { h } else { nil } } }
    var heartbeats: [Heartbeat] { messages.compactMap { if case .heartbeat(let h) = $0 { h } else { nil } } }
}

/// The appliance's view of the line: `SerialPort.open`, `poll`, large reads, `StreamDecoder`.
private final class HostLink {
    let port: OpenSerialPort
    let fd: FileDescriptor
    let encoding: FrameEncoding
    var decoder: StreamDecoder
    var sink = Collected()
    private(set) var hungUp = false
    private(set) var lastHeartbeat: Heartbeat?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(path: String, encoding: FrameEncoding) throws {
        port = try SerialPort.open(path, baud: 115_200)
        fd = port.descriptor
        self.encoding = encoding
        decoder = StreamDecoder(encoding: encoding)
    }

    func send(_ message: Message) throws {
        try fd.writeAll(MessageEncoder.encode(message, as: encoding))
    }

    /// Reads and decodes until `done` holds (checked after every read and every 20 ms)
    /// or `seconds` pass; returns whether `done` held.
    func read(seconds: Double, until done: (Collected) -> Bool) -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        while true {
            if done(sink) { return true }
            if Clock.monotonicNanoseconds() >= deadline || !fd.isOpen { return done(sink) }
            if hungUp { Clock.sleep(milliseconds: 20); continue }
            let revents = (try? Poll.wait([PollRequest(fd: fd.raw, events: Int16(POLLIN))], timeoutMs: 20))?.first ?? 0
            while true {
                let n = buffer.withUnsafeMutableBytes { b in Glibc.read(fd.raw, b.baseAddress, b.count) }
                if n > 0 {
                    let seen = sink.messages.count
                    buffer.withUnsafeBytes { decoder.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n]), into: &sink) }
                    for case .heartbeat(let hb) in sink.messages[seen...] { lastHeartbeat = hb }
                    continue
                }
                // 0 is "nothing now" on a raw tty with VMIN = VTIME = 0 but also what a
                // hung-up pty returns, with POLLHUP: only poll tells them apart.
                if (n == 0 && revents & Int16(POLLHUP) != 0) || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    hungUp = true
                }
                break
            }
        }
    }

    func close() { port.close() }
}

/// A fresh directory under /tmp, removed when dropped.
private final class TemporaryDirectory {
    let path: String
    init() throws {
        var template = Array("/tmp/parklink-sim-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw SystemError(call: "mkdtemp", errno: errno) }
        path = String(cString: p)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

private func resolvedPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// The repository root, from this file's real location (a scratch package may build it
/// through a symlink).
private func repoRoot(_ file: String = #filePath) -> String {
    let real = resolvedPath(file) ?? file
    var parts = real.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/ParkLinkIngestTests/SimulatorTests.swift
    return parts.joined(separator: "/")
}

private func runProcess(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = try ChildProcess(arguments[0], Array(arguments.dropFirst()), standardError: .merge)
    let status = process.wait(timeoutSeconds: 120) ?? -1
    return (status, process.output)
}


import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// The real gateway firmware, built from `firmware/` and run in simavr, read by `parklink run`
/// as a separate process: what the appliance would see from an Uno on its USB port.
@Suite("End to end: the gateway firmware in an AVR emulator", .serialized, .timeLimit(.minutes(10)))
struct FirmwareEmulatorTests {
    /// The reference board's pin table (firmware/src/sensors.c): sensor 1 has every meter and
    /// its LED on D3 (red), D4 (green), D5 (blue); sensor 2 a ranger only; sensor 3 nothing
    /// but its detector, its LED on D11, D12, D13 (PB3, PB4, PB5).
    static let sensor1Red = "PD3", sensor1Green = "PD4", sensor1Blue = "PD5", sensor3Blue = "PB5"

    @Test("HELLO, readings and HB land in MariaDB; an LED command sets the pins; a PING is answered with HELLO",
          arguments: ["text", "binary"])
    func firmwareThroughTheDaemon(framing: String) throws {
        guard EmulatedFirmware.available else { return }
        let elf = try EmulatedFirmware.build(framing: framing)
        let dsn = try TestDatabase.newDatabase("e2e_fw_\(framing)")
        let gateway = try EmulatedFirmware(elf: elf)
        let state = Repository.temporaryDirectory("plfwd")
        let daemon = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", gateway.devicePath, "--framing", framing, "--db", dsn.description,
            "--state-dir", state, "--log-level", "warning",
        ], standardError: .merge)
        defer {
            daemon.signal(SIGKILL)
            _ = gateway.stop()
        }
        let socket = StateDirectory(path: state).statusSocket
        func status() -> StatusSnapshot? { try? StatusClient.status(socket: socket) }

        // Three sensors sampled every second, a heartbeat every second.
        let flowing = eventually(timeoutSeconds: 90) {
            guard let s = status() else { return false }
            return s.store.rows_committed >= 9 && s.link.heartbeats >= 3 && s.link.hellos >= 1
        }
        #expect(flowing, "readings, heartbeats and a HELLO arrive: \(String(describing: status())), daemon: \(daemon.output), bridge: \(gateway.process.output)")
        guard flowing, let s = status() else { return }
        #expect(s.link.rejects_total == 0, "every frame the firmware sent decodes: \(s.link.rejects)")
        #expect(s.link.gaps == 0 && s.link.missing_readings == 0, "no seq is skipped")
        #expect(s.link.gateway_tx_dropped == 0, "the HB reports no drops at this rate")
        #expect(s.link.session?.hasPrefix("GW-UNO-01/") == true, "readings go to the HELLO's session: \(s.link.session ?? "none")")

        // HELLO: the session as the firmware announced it.
        let sessions = try query(dsn, "SELECT gateway_id, firmware, sensor_count, synthetic FROM gateway_sessions")
        #expect(sessions.count == 1, "one boot, one session: \(sessions)")
        #expect(sessions.first == ["GW-UNO-01", "1.0.0", "3", "0"])

        // Readings: seqs 0, 1, 2… without a hole; each sensor carries exactly the meters it has.
        let rows = try storedReadings(dsn)
        #expect(rows.map(\.seq) == (0..<UInt32(rows.count)).map { $0 }, "seqs from 0, consecutive")
        #expect(Set(rows.map(\.sensor)) == [1, 2, 3])
        for r in rows {
            switch r.sensor {
            case 1: #expect(r.distance_cm != nil && r.voltage_dv != nil && r.current_ma != nil && r.power_factor_pct != nil)
            case 2: #expect(r.distance_cm != nil && r.voltage_dv == nil && r.current_ma == nil && r.power_factor_pct == nil)
            default: #expect(r.distance_cm == nil && r.voltage_dv == nil && r.current_ma == nil && r.power_factor_pct == nil)
            }
            if let pf = r.power_factor_pct { #expect(pf <= 100) }
        }
        let tMs = rows.filter { $0.sensor == 1 }.map(\.t_ms)
        #expect(tMs == tMs.sorted() && Set(tMs).count == tMs.count, "millis() advances between samples")
        #expect(try query(dsn, "SELECT COUNT(*) FROM link_gaps") == [["0"]])

        // LED: through the daemon's status socket to the firmware's pins.
        // (Not "off at boot": the daemon's live side may already have lit it from the readings.)
        let amber = try StatusClient.send(StatusRequest(.led(sensor: 1, color: .amber)), socket: socket)
        #expect(amber.body == .ok)
        #expect(eventually(timeoutSeconds: 30) { gateway.level(Self.sensor1Red) == 1 && gateway.level(Self.sensor1Green) == 1 },
                "AMBER lights red and green: \(gateway.pinChanges)")
        #expect(gateway.level(Self.sensor1Blue) != 1)
        _ = try StatusClient.send(StatusRequest(.led(sensor: 3, color: .blue)), socket: socket)
        _ = try StatusClient.send(StatusRequest(.led(sensor: 1, color: .off)), socket: socket)
        #expect(eventually(timeoutSeconds: 30) {
            gateway.level(Self.sensor3Blue) == 1 && gateway.level(Self.sensor1Red) == 0 && gateway.level(Self.sensor1Green) == 0
        }, "sensor 3 BLUE, sensor 1 OFF: \(gateway.pinChanges)")

        // PING: the firmware answers with a HELLO of the same boot.
        let hellosBefore = status()?.link.hellos ?? 0
        #expect(try StatusClient.send(StatusRequest(.ping), socket: socket).body == .ok)
        #expect(eventually(timeoutSeconds: 30) { (status()?.link.hellos ?? 0) > hellosBefore }, "a HELLO answers the PING")
        #expect(try query(dsn, "SELECT COUNT(*) FROM gateway_sessions") == [["1"]], "the same boot: no new session")
        #expect(status()?.link.rejects_total == 0)

        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeoutSeconds: 60) == 0, "SIGTERM: drained, exit 0: \(daemon.output)")
        let committed = try storedReadings(dsn)
        #expect(committed.map(\.seq) == (0..<UInt32(committed.count)).map { $0 }, "still no hole after the drain")
        #expect(gateway.stop() == 0, "the emulated firmware never crashed: \(gateway.process.output)")
    }

    @Test("more readings than 115200 baud carries: the firmware drops and counts them (tx_dropped), never a seq, never a torn frame")
    func transmitOverflowIsCounted() throws {
        guard EmulatedFirmware.available else { return }
        // Three sensors every 5 ms: about 18 KB/s of text for a UART that carries about 10.
        let elf = try EmulatedFirmware.build(framing: "text", flags: "-DPARKLINK_SAMPLE_MS=5", name: "overflow")
        let dsn = try TestDatabase.newDatabase("e2e_fw_overflow")
        let gateway = try EmulatedFirmware(elf: elf)
        let state = Repository.temporaryDirectory("plfwo")
        let daemon = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", gateway.devicePath, "--framing", "text", "--db", dsn.description,
            "--state-dir", state, "--log-level", "warning",
        ], standardError: .merge)
        defer {
            daemon.signal(SIGKILL)
            _ = gateway.stop()
        }
        let socket = StateDirectory(path: state).statusSocket
        func status() -> StatusSnapshot? { try? StatusClient.status(socket: socket) }
        let overflowing = eventually(timeoutSeconds: 120) {
            guard let s = status() else { return false }
            return s.link.gateway_tx_dropped >= 200 && s.link.heartbeats >= 3 && s.store.rows_committed >= 500
        }
        #expect(overflowing, "the HB reports drops: \(String(describing: status())), bridge: \(gateway.process.output)")
        let s = try #require(status())
        #expect(s.link.rejects_total == 0, "a frame that does not fit is not sent at all, never cut: \(s.link.rejects)")
        #expect(s.link.gaps == 0 && s.link.missing_readings == 0, "a dropped reading takes no seq: no link gap")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeoutSeconds: 60) == 0)
        let seqs = try storedReadings(dsn).map(\.seq)
        #expect(seqs == (0..<UInt32(seqs.count)).map { $0 }, "every seq the firmware gave out is stored")
        #expect(try query(dsn, "SELECT COUNT(*) FROM link_gaps") == [["0"]])
    }
}

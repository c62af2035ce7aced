#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem

/// A simulator run from the command line (`parklink simulate`): start, print where the
/// host should connect, run until the duration is over or SIGINT/SIGTERM/SIGHUP, stop cleanly
/// (drain, last HB), hang up, and say what was sent.
public enum SimulationRun {
    /// Runs `simulator` to the end. `announce` gets the device path before anything is
    /// sent (a script reads it from the first line of stdout); `report` gets the summary.
    public static func run(
        _ simulator: GatewaySimulator,
        announce: (String) -> Void,
        report: (String) -> Void
    ) -> EmissionLedger {
        // Before the simulator's thread exists, so it inherits the mask and the signals
        // wait for this thread's `sigtimedwait` instead of killing the process.
        Signals.blockTermination()
        announce(simulator.devicePath)
        simulator.start()
        while simulator.state != .finished {
            if Signals.waitForTermination(timeoutMs: 100) != nil { simulator.requestStop() }
        }
        simulator.close()
        let ledger = simulator.ledger
        report(summary(ledger, downlink: simulator.downlink, misbehaviors: simulator.misbehaviors))
        return ledger
    }

    /// One line per figure, `key: value`, for people and for scripts that grep.
    public static func summary(_ ledger: EmissionLedger, downlink: DownlinkStats, misbehaviors: [Misbehavior]) -> String {
        var lines = [
            "boots: \(ledger.boots.map { "\($0.gatewayId)/\(hex8($0.bootId)) next_seq=\($0.nextSeq)" }.joined(separator: ", "))",
            "emitted: \(ledger.emitted)",
            "must_arrive: \(ledger.mustArrive)",
            "tx_dropped: \(ledger.txDropped)",
            "corrupted: \(ledger.corrupted)",
            "skipped: \(ledger.skipped)",
            "lost: \(ledger.lost)",
            "uncertain: \(ledger.uncertain)",
            "garbage_bursts: \(ledger.garbageBursts)",
            "hellos: \(ledger.hellosSent)",
            "heartbeats: \(ledger.heartbeatsSent)",
            "pings_received: \(downlink.pings)",
            "led_commands: \(downlink.totalLEDCommands)",
        ]
        for m in misbehaviors { lines.append("misbehaving: \(m)") }
        return lines.joined(separator: "\n")
    }

    static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}

import Foundation
import ParkLinkSystem

/// `tools/independent_gateway.py` as a child process: a gateway written from
/// PROTOCOL.md alone, sharing no code with the appliance, and its manifest of exactly
/// what it sent.
public final class IndependentGateway {
    public let process: ChildProcess
    public let devicePath: String
    public let manifestPath: String

    public struct Manifest: Decodable {
        public struct Session: Decodable {
            public var gateway_id: String
            public var boot_id: UInt32
            public var announced: Bool
            public var next_seq: UInt32
            public var corrupted_seqs: [UInt32]
            public var skipped_seqs: [UInt32]
        }
        public struct Reading: Decodable, Hashable {
            public var gateway_id: String
            public var boot_id: UInt32
            public var seq: UInt32
            public var sensor: UInt16
            public var t_ms: UInt32
            public var occupied: Bool
            public var distance_cm: UInt16?
            public var voltage_dv: UInt16?
            public var current_ma: UInt16?
            public var power_factor_pct: UInt8?

            public init(gateway_id: String, boot_id: UInt32, seq: UInt32, sensor: UInt16, t_ms: UInt32, occupied: Bool,
                        distance_cm: UInt16?, voltage_dv: UInt16?, current_ma: UInt16?, power_factor_pct: UInt8?) {
                self.gateway_id = gateway_id
                self.boot_id = boot_id
                self.seq = seq
                self.sensor = sensor
                self.t_ms = t_ms
                self.occupied = occupied
                self.distance_cm = distance_cm
                self.voltage_dv = voltage_dv
                self.current_ma = current_ma
                self.power_factor_pct = power_factor_pct
            }
        }
        public var drained: Bool
        public var sessions: [Session]
        public var readings: [Reading]
    }

    /// Starts the gateway with `arguments` and waits for it to print its pty path.
    public init(arguments: [String]) throws {
        manifestPath = Repository.temporaryDirectory("plgw") + "/manifest.json"
        process = try ChildProcess("python3", [Repository.root + "/tools/independent_gateway.py", "--manifest", manifestPath] + arguments)
        devicePath = process.readLine(timeoutSeconds: 30) ?? ""
        guard devicePath.hasPrefix("/") else {
            process.signal(SIGKILL)
            throw GatewayFailed(message: "independent gateway did not print a device path (got '\(devicePath)')")
        }
        // Keeps the pty's number taken until this object goes (after the test has stopped
        // its pipeline): a pipeline still reopening this path after the gateway exited
        // must never find another test's new gateway behind it. Never read from.
        holder = open(devicePath, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
    }

    private var holder: Int32 = -1

    deinit {
        if holder >= 0 { close(holder) }
    }

    public struct GatewayFailed: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Waits for the gateway to finish (it waits for the host to drain), then reads the manifest.
    public func finish(timeoutSeconds: Double = 120) throws -> Manifest {
        guard let status = process.wait(timeoutSeconds: timeoutSeconds) else {
            process.signal(SIGKILL)
            throw GatewayFailed(message: "independent gateway still running after \(timeoutSeconds) s")
        }
        guard status == 0 else {
            throw GatewayFailed(message: "independent gateway exited with \(status)")
        }
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
    }
}

import Foundation
import ParkLinkSystem
import ParkLinkTestSupport

/// The gateway firmware (`firmware/`) built with `make` and running in simavr behind
/// `simavr-bridge`, its UART on a new pty: the real gateway, minus the board.
final class EmulatedFirmware {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Why the emulator cannot run here, or nil if it can: the packages `scripts/install-deps`
    /// installs (gcc-avr, avr-libc, libsimavr-dev, libelf-dev, pkg-config).
    static let unavailableReason: String? = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for tool in ["avr-gcc", "avr-objcopy", "make", "cc", "pkg-config"]
        where !path.contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }) {
            return "\(tool) is not installed (scripts/install-deps installs gcc-avr, avr-libc, simavr, libsimavr-dev, libelf-dev)"
        }
        for header in ["/usr/include/simavr/sim_avr.h", "/usr/include/libelf.h"]
        where !FileManager.default.fileExists(atPath: header) {
            return "\(header) is missing (apt-get install libsimavr-dev libelf-dev)"
        }
        return nil
    }()

    static var available: Bool {
        if let reason = unavailableReason { print("skipping the firmware emulator test: \(reason)") }
        return unavailableReason == nil
    }

    static let directory = Repository.root + "/firmware"

    /// Builds one variant of the firmware and the bridge (`make -C firmware ...`); the ELF's path.
    /// With `flags` (e.g. `-DPARKLINK_SAMPLE_MS=5`), built apart in `build-test-NAME`.
    static func build(framing: String, synthetic: Bool = true, flags: String? = nil, name: String? = nil) throws -> String {
        var dir = "build-\(framing)\(synthetic ? "-synthetic" : "")"
        var arguments = ["variant", "FRAMING=\(framing)", "SYNTHETIC=\(synthetic ? 1 : 0)"]
        if let flags, let name {
            dir = "build-test-\(name)"
            arguments += ["CFLAGS_EXTRA=\(flags)", "VARIANT_DIR=\(dir)"]
        }
        try make(arguments)
        try make(["bridge"])
        return directory + "/\(dir)/parklink-gateway.elf"
    }

    private static func make(_ arguments: [String]) throws {
        let p = try ChildProcess("make", ["-C", directory] + arguments, standardError: .merge)
        guard p.wait(timeoutSeconds: 300) == 0 else {
            throw Failure(description: "make \(arguments.joined(separator: " ")) failed:\n\(p.output)")
        }
    }

    let process: ChildProcess
    /// The pty the firmware's UART is bridged to.
    let devicePath: String
    /// Output pins as they change, one line each: `gpio PD3 1 at 1234 ms`.
    let gpioLog: String

    init(elf: String) throws {
        gpioLog = Repository.temporaryDirectory("plfw") + "/gpio.log"
        process = try ChildProcess(Self.directory + "/build-host/simavr-bridge", ["--gpio-log", gpioLog, elf],
                                   standardError: .merge)
        var found: String?
        while found == nil, let line = process.readLine(timeoutSeconds: 30) {
            if line.hasPrefix("pty ") { found = String(line.dropFirst(4)) }
        }
        guard let found, found.hasPrefix("/") else {
            process.signal(SIGKILL)
            throw Failure(description: "simavr-bridge printed no pty: \(process.output)")
        }
        devicePath = found
    }

    /// The pin changes so far, as (pin, level) in order.
    var pinChanges: [(pin: String, level: Int)] {
        let text = (try? String(contentsOfFile: gpioLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count >= 3, f[0] == "gpio", let level = Int(f[2]) else { return nil }
            return (String(f[1]), level)
        }
    }

    /// The last level written to `pin` (e.g. `PD3`), nil if it never changed.
    func level(_ pin: String) -> Int? { pinChanges.last { $0.pin == pin }?.level }

    /// Stops the emulator (SIGTERM); its exit status (0: it stopped, it did not crash).
    func stop() -> Int32? {
        process.signal(SIGTERM)
        return process.wait(timeoutSeconds: 10)
    }
}

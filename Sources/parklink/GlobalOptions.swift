import ArgumentParser
import Foundation
import Logging
import ParkLinkDaemon

/// Options every subcommand that touches the appliance's state takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "State directory (status socket, private database). Default: $PARKLINK_STATE_DIR, /var/lib/parklink under systemd, else ~/.local/state/parklink.")
    var stateDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical (got '\(logLevel)')")
        }
    }

    func state(config: ApplianceConfig? = nil) -> StateDirectory {
        StateDirectory.resolve(explicit: stateDirectory ?? config?.stateDirectory)
    }

    /// Bootstraps logging once, for the executable (libraries only take a Logger).
    func makeLogger(label: String = "parklink") -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        return Logger(label: label)
    }
}

/// Prints an error the way a technician should see it, and exits non-zero.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data(("parklink: " + message + "\n").utf8))
    exit(code)
}

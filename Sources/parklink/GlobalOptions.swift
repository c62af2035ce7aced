import ArgumentParser
import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkStore

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

/// The `--db-password-file` option of every command that takes `--db`.
let passwordFileHelp = ArgumentHelp(
    "File holding the database password on its first line: a regular file, mode 0600 or 0400, owned by you or root. "
        + "Wins over PARKLINK_DB_PASSWORD, which wins over a password in the DSN.",
    valueName: "path")

/// A password inside `--db` sits on the command line, which every local user can read
/// (`ps`, /proc/PID/cmdline) for as long as parklink runs: said on stderr, with the way out.
func warnIfPasswordInArguments(_ dsn: String?) {
    guard let dsn, DSN.carriesPassword(dsn) else { return }
    FileHandle.standardError.write(Data(("parklink: warning: the --db DSN holds a password, which every local user can "
        + "read in the process list; put it in a file (--db-password-file PATH, mode 0600) or in "
        + "\(DSN.passwordEnvironmentVariable) instead\n").utf8))
}

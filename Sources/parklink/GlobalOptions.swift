import ArgumentParser
import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkStore

extension LogLineFormat.Encoding: ExpressibleByArgument {}

/// Options every subcommand that touches the appliance's state takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "State directory (status socket, private database). Default: $PARKLINK_STATE_DIR, /var/lib/parklink under systemd, else ~/.local/state/parklink; status and alerts then also try the directory /etc/parklink/parklink.toml names and /var/lib/parklink.")
    var stateDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (one line per event: level, label, message, key=value fields) or json (one object per line).")
    var logFormat: LogLineFormat.Encoding = .text

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical (got '\(logLevel)')")
        }
    }

    func state(config: ApplianceConfig? = nil) -> StateDirectory {
        StateDirectory.resolve(explicit: stateDirectory ?? config?.stateDirectory)
    }

    /// What `findDaemon` found: a daemon's answer, or none answering anywhere it looked.
    enum DaemonAnswer<T> {
        case answered(T)
        /// No daemon answers: `state` is the directory whose database speaks for it (the
        /// first searched that holds a private database, else the first), `reason` says why.
        case away(state: StateDirectory, reason: String)
    }

    /// As `askDaemon`, but no daemon answering is an answer too, for the commands that then
    /// read the database instead. A daemon that refuses, or a socket this user may not
    /// reach, is still printed (exit 1).
    func findDaemon<T>(config: ApplianceConfig?, _ request: (_ socket: String) throws -> T) -> DaemonAnswer<T> {
        let search = DaemonSearch.make(explicit: stateDirectory ?? config?.stateDirectory)
        let fallback = search.candidates.first { FileManager.default.fileExists(atPath: $0.directory.databaseDirectory) }?
            .directory ?? state(config: config)
        do {
            let (value, used) = try search.ask(request)
            if let note = search.note(for: used) {
                FileHandle.standardError.write(Data(("parklink: " + note + "\n").utf8))
            }
            return .answered(value)
        } catch DaemonSearch.Failure.notRunning(let tried) {
            let sockets = tried.map { StateDirectory(path: $0).statusSocket }
            return .away(state: fallback, reason: "no daemon answers at \(sockets.joined(separator: ", nor at "))")
        } catch where daemonIsAway(error) {
            return .away(state: fallback, reason: "\(error)")
        } catch {
            fail("\(error)")
        }
    }

    /// Asks the daemon through `DaemonSearch`: the state directory given, else the
    /// default one, the config file's and the system one, in that order. Says on stderr
    /// which directory answered when it is not the first; any failure is printed, exit 1.
    func askDaemon<T>(_ request: (_ socket: String) throws -> T) -> T {
        let search = DaemonSearch.make(explicit: stateDirectory)
        do {
            let (value, used) = try search.ask(request)
            if let note = search.note(for: used) {
                FileHandle.standardError.write(Data(("parklink: " + note + "\n").utf8))
            }
            return value
        } catch {
            fail("\(error)")
        }
    }

    /// Bootstraps logging once, for the executable (libraries only take a Logger): one
    /// line per event on stderr, with the syslog priority in front under journald.
    func makeLogger(label: String = "parklink") -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = LogLineFormat(encoding: logFormat, journal: LogLineHandler.stderrIsJournal())
        LoggingSystem.bootstrap { label in
            var h = LogLineHandler(label: label, format: format)
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

/// A `--db` DSN with its password sources (as `run` resolves them), or exit 2 with the reason.
func resolveDSNOrExit(_ text: String, passwordFile: String?) -> DSN {
    do {
        return try DSN.resolve(text, passwordFile: passwordFile)
    } catch {
        fail("\(error)", code: 2)
    }
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

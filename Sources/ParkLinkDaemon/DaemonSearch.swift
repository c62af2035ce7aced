import Foundation
import ParkLinkSystem

/// Where a command that asks the daemon (`status`, `alerts`) looks for it.
///
/// Without `--state-dir` (or `PARKLINK_STATE_DIR`) a command would look only in the user's
/// own default directory, while the service keeps its state in `/var/lib/parklink`: `sudo
/// parklink status` said "not running", and following its advice started a second daemon.
/// So when nobody answers in the default directory, the directory the installed config
/// file names and the system state directory are tried too, and the command says which
/// one it used.
public struct DaemonSearch: Sendable {
    public struct Candidate: Sendable, Equatable {
        public var directory: StateDirectory
        /// Why this directory is tried, for the message that names it.
        public var origin: String

        public static func == (a: Candidate, b: Candidate) -> Bool {
            a.directory.path == b.directory.path && a.origin == b.origin
        }
    }

    /// The directories to try, in order; the first is the one the command would use alone.
    public let candidates: [Candidate]

    /// The system state directory, the one `parklink install` creates and the unit's
    /// `StateDirectory=` names.
    public static let systemStateDirectory = "/var/lib/parklink"
    /// The config file `parklink install` writes and the unit passes to `run`.
    public static let systemConfigFile = "/etc/parklink/parklink.toml"
    /// Test-only overrides of the two system paths, so a test can stand a daemon where the
    /// system one would be without touching `/var/lib` or `/etc`.
    public static let systemStateDirectoryVariable = "PARKLINK_SYSTEM_STATE_DIR"
    public static let systemConfigFileVariable = "PARKLINK_SYSTEM_CONFIG"

    public init(candidates: [Candidate]) {
        self.candidates = candidates
    }

    /// The search for a command given `explicit` (`--state-dir`): that directory alone, or
    /// `PARKLINK_STATE_DIR` alone, else the default directory, then the config file's
    /// `[state] directory`, then the system state directory (each tried once).
    public static func make(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> DaemonSearch {
        let first = StateDirectory.resolve(explicit: explicit, environment: environment)
        let chosen = explicit != nil || !(environment["PARKLINK_STATE_DIR"] ?? "").isEmpty
        var list = [Candidate(directory: first, origin: chosen ? "the state directory you gave" : "your default state directory")]
        guard !chosen else { return DaemonSearch(candidates: list) }
        let configFile = nonEmpty(environment[systemConfigFileVariable]) ?? systemConfigFile
        if let configured = ApplianceConfig.stateDirectory(namedIn: configFile) {
            list.append(Candidate(directory: StateDirectory(path: configured), origin: "named by \(configFile)"))
        }
        let system = nonEmpty(environment[systemStateDirectoryVariable]) ?? systemStateDirectory
        list.append(Candidate(directory: StateDirectory(path: system), origin: "the system state directory"))
        var seen: Set<String> = []
        return DaemonSearch(candidates: list.filter { seen.insert($0.directory.path).inserted })
    }

    private static func nonEmpty(_ s: String?) -> String? { s?.isEmpty == false ? s : nil }

    /// What went wrong when no candidate answered.
    public enum Failure: Error, CustomStringConvertible {
        /// No daemon in any of these directories.
        case notRunning(tried: [String])
        /// A daemon's socket exists where this user may not connect.
        case denied(socket: String, error: SystemError)

        public var description: String {
            switch self {
            case .notRunning(let tried):
                let sockets = tried.map { StateDirectory(path: $0).statusSocket }
                return "parklink is not running (no daemon answers at \(sockets.joined(separator: ", nor at "))). "
                    + "Start it with `systemctl start parklink`, `parklink run` or `parklink demo`, or name its "
                    + "directory with --state-dir."
            case .denied(let socket, let error):
                // The state directory's group may connect (README: the status socket); root's
                // group is no one's to join.
                let group = (try? FileSystem.status(FileSystem.directoryName(socket)))
                    .flatMap { $0.group == 0 ? nil : Accounts.group($0.group)?.name }
                let join = group.map { ", or join group \($0) (`sudo usermod -aG \($0) $USER`, then log in again)" } ?? ""
                return "the daemon's socket \(socket) is not open to you (\(error)). Fix: run the command as root (sudo)\(join)"
            }
        }
    }

    /// Sends `request` to each candidate's status socket in turn until a daemon answers:
    /// the answer and the candidate that gave it. A daemon that answers with an error (a
    /// refusal, another protocol version) ends the search: it is the daemon, saying no.
    public func ask<T>(_ request: (_ socket: String) throws -> T) throws -> (value: T, from: Candidate) {
        var denied: (socket: String, error: SystemError)?
        for candidate in candidates {
            let socket = candidate.directory.statusSocket
            do {
                return (try request(socket), candidate)
            } catch StatusClient.Failure.notRunning {
                continue
            } catch let e as SystemError where e.errno == EACCES || e.errno == EPERM {
                if denied == nil { denied = (socket, e) }
            }
        }
        if let denied { throw Failure.denied(socket: denied.socket, error: denied.error) }
        throw Failure.notRunning(tried: candidates.map(\.directory.path))
    }

    /// The line a command prints on stderr when the daemon was not where it would have
    /// looked alone; nil when it was.
    public func note(for used: Candidate) -> String? {
        guard let first = candidates.first, used != first else { return nil }
        return "no daemon answers in \(first.directory.path) (\(first.origin)); using \(used.directory.path) (\(used.origin))"
    }
}

extension ApplianceConfig {
    /// The `[state] directory` of the config file at `path` (absolute, against the file's
    /// directory), reading nothing else: the rest may hold what this user cannot check (a
    /// password file only the daemon's user may read). Nil when the file is absent,
    /// unreadable or not valid TOML, or names no directory.
    public static func stateDirectory(namedIn path: String) -> String? {
        guard FileManager.default.isReadableFile(atPath: path),
              let doc = try? TOMLDocument(path: FileSystem.absolutePath(path)),
              let directory = doc.root["state"]?.table?["directory"]?.string, !directory.isEmpty else { return nil }
        return FileSystem.absolutePath(directory, relativeTo: FileSystem.directoryName(FileSystem.absolutePath(path)))
    }
}

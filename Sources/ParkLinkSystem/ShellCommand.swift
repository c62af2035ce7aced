#if canImport(Glibc)
import Glibc
#endif

/// A configured shell command run to completion with a time-out: the notifier's alert
/// action. `/bin/sh -c COMMAND` in a process group of its own, stdin from /dev/null,
/// stdout and stderr appended to a log, so that a time-out can kill the command and
/// whatever it started, and the daemon never shares a pipe with it (nothing it leaves
/// running can hold the daemon up).
public enum ShellCommand {
    public enum Outcome: Sendable, Equatable {
        /// Exit code (or 128 + the signal).
        case exited(Int32)
        /// Still running at the time-out: its process group was killed.
        case timedOut
    }

    /// Runs `command` with `environment` added to this process's, waiting at most
    /// `timeoutSeconds`. The corresponding C functions are `posix_spawn`, `waitpid` and
    /// `kill`.
    public static func run(_ command: String, environment: [String: String], log: String?,
                           timeoutSeconds: Double) throws(SystemError) -> Outcome {
        var env: [String] = []
        var i = 0
        while let entry = environ[i] {
            let text = String(cString: entry)
            let name = text.prefix { $0 != "=" }
            if environment[String(name)] == nil { env.append(text) }
            i += 1
        }
        env += environment.map { "\($0.key)=\($0.value)" }
        let pid = try BackgroundProcess.spawn("/bin/sh", ["-c", command], environment: env, log: log, detach: .processGroup)
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return .exited((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)) }
            if r == -1 && errno != EINTR { return .exited(-1) }
            if Clock.monotonicNanoseconds() >= deadline { break }
            Clock.sleep(milliseconds: 10)
        }
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return .timedOut
    }
}

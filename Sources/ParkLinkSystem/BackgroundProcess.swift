#if canImport(Glibc)
import Glibc
#endif

/// Starting a long-lived child (a database server, a watchdog, a daemon under test) the
/// same careful way everywhere: stdin from /dev/null, stdout and stderr to a log (or
/// /dev/null), signal dispositions and mask reset to the defaults (a parent that blocks
/// SIGTERM or ignores SIGPIPE must not pass that on through exec), optionally in a new
/// session (it outlives a terminal and the CLI) or a new process group.
///
/// `ChildProcess` spawns the same way, with pipes instead of a log.
public enum BackgroundProcess {
    public enum Detach: Sendable {
        /// Same session and process group as the caller.
        case none
        /// Its own process group (a signal to the caller's group does not reach it).
        case processGroup
        /// Its own session (POSIX_SPAWN_SETSID): no terminal's signals reach it.
        case session
    }

    /// Spawns `executable` with `arguments` (argv[0] is the executable); returns its pid.
    /// - Parameters:
    ///   - environment: `KEY=value` strings, nil for this process's environment.
    ///   - log: where stdout and stderr go (appended unless `truncateLog`); nil: /dev/null.
    /// The corresponding C function is `posix_spawn`.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String]? = nil,
        log: String?, truncateLog: Bool = false, detach: Detach
    ) throws(SystemError) -> pid_t {
        try spawn(executable, arguments, environment: environment, detach: detach) { actions in
            posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0)
            if let log {
                posix_spawn_file_actions_addopen(actions, 1, log, O_WRONLY | O_CREAT | (truncateLog ? O_TRUNC : O_APPEND), 0o640)
            } else {
                posix_spawn_file_actions_addopen(actions, 1, "/dev/null", O_WRONLY, 0)
            }
            posix_spawn_file_actions_adddup2(actions, 1, 2)
        }
    }

    /// The one careful spawn, for `spawn(log:)` above and `ChildProcess`: signal
    /// dispositions and mask reset, `detach` applied, the child's descriptors set up by
    /// `files`. `searchPath`: look `executable` up in PATH (`posix_spawnp`) when it has no
    /// slash.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String]?, searchPath: Bool = false,
        detach: Detach, files: (UnsafeMutablePointer<posix_spawn_file_actions_t>) -> Void
    ) throws(SystemError) -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        switch detach {
        case .none: break
        case .processGroup:
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        case .session:
            flags |= 0x80  // POSIX_SPAWN_SETSID (glibc ≥ 2.26; hidden behind _GNU_SOURCE)
        }
        posix_spawnattr_setflags(&attr, Int16(flags))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        files(&actions)

        var pid: pid_t = 0
        let rc = withCStrings([executable] + arguments) { argv in
            func run(_ envp: UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
                searchPath
                    ? posix_spawnp(&pid, executable, &actions, &attr, argv, envp)
                    : posix_spawn(&pid, executable, &actions, &attr, argv, envp)
            }
            if let environment { return withCStrings(environment) { run($0) } }
            return run(environ)
        }
        guard rc == 0 else { throw SystemError(call: "posix_spawn(\(executable))", errno: rc) }
        return pid
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let c = strings.map { strdup($0) }
        defer { c.forEach { free($0) } }
        let array = c + [nil]
        return array.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

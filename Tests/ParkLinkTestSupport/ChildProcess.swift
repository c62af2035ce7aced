import Foundation
import ParkLinkSystem

/// A child process for tests: posix_spawn, its output collected by a thread, waited
/// for with waitpid on its own pid and a time-out.
///
/// Not Foundation's `Process`: with several tests spawning and waiting at once, its
/// SIGCHLD bookkeeping was seen to miss exits here and leave `waitUntilExit` hanging on
/// a zombie. A test must fail on a time-out, never hang.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `collected` is Locked; `exitStatus` is touched by `wait` on the test's thread.
    public let pid: pid_t
    private let collected = Locked<[UInt8]>([])
    private var reader: NamedThread?
    private var exitStatus: Int32?

    public struct SpawnFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `executable` with `arguments`; stdout (and stderr unless `discardStderr`)
    /// is collected.
    public init(_ executable: String, _ arguments: [String], discardStderr: Bool = true) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SpawnFailed(description: "pipe: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        if discardStderr {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        }
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, executable, &actions, nil, argv, environ)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw SpawnFailed(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
        let readFd = fds[0]
        let sink = collected
        reader = NamedThread(name: "test-child-out") {
            var buf = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = read(readFd, &buf, buf.count)
                if n > 0 {
                    sink.withLock { $0.append(contentsOf: buf[0..<n]) }
                } else if n == 0 || errno != EINTR {
                    break
                }
            }
            close(readFd)
        }
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        reader?.join()
    }

    /// Everything the child has written so far.
    public var output: String { String(decoding: collected.withLock { $0 }, as: UTF8.self) }

    /// The first line of output, waiting for it at most `timeoutSeconds`.
    public func firstLine(timeoutSeconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            let bytes = collected.withLock { $0 }
            if let nl = bytes.firstIndex(of: 0x0A) { return String(decoding: bytes[..<nl], as: UTF8.self) }
            if exitStatus == nil, let _ = poll() { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    /// The exit code (or 128 + signal) once the child has exited, without waiting.
    public func poll() -> Int32? {
        if let s = exitStatus { return s }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        reader?.join()
        reader = nil
        return code
    }

    /// Waits for the exit; nil on time-out (the child is then still running).
    public func wait(timeoutSeconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let s = poll() { return s }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return poll()
    }

    public func signal(_ s: Int32) { kill(pid, s) }
}

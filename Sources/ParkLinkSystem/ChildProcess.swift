#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// A short-lived child whose output the parent reads: a tool under test, a benchmark's
/// simulator or pipeline. Spawned as `BackgroundProcess` spawns (signal dispositions and
/// mask reset), its stdout collected by a thread of its own, waited for with `waitpid`
/// on its own pid, with a time-out.
///
/// Not Foundation's `Process`: with several children spawned and waited for at once,
/// its SIGCHLD bookkeeping was seen to miss exits and leave `waitUntilExit` hanging on
/// a zombie. A test or a benchmark must fail on a time-out, never hang. The parent's
/// ends of the pipes are close-on-exec, so a child never holds another child's pipe
/// open (which would hold back the end of its output).
///
///     let child = try ChildProcess("python3", ["tools/independent_gateway.py", …])
///     let path = child.readLine(timeoutSeconds: 30)      // its first line
///     …
///     let status = child.wait(timeoutSeconds: 120)      // nil: still running
///
/// Used from one thread (the owner's); the output is collected on another.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `exitStatus`, `collector` and `input` are touched by the owner's thread
    // only; the output is `Collected`, behind its lock.

    /// Where the child's stdin comes from.
    public enum StandardInput: Sendable {
        /// This process's stdin.
        case inherit
        /// A pipe: `send` writes lines to it, `closeInput` ends it.
        case pipe
    }

    /// Where the child's stderr goes.
    public enum StandardError: Sendable {
        /// /dev/null.
        case discard
        /// Into the collected output, interleaved with stdout.
        case merge
        /// This process's stderr (the child's warnings show).
        case inherit
    }

    /// The child's output so far; the collecting thread holds it, not the `ChildProcess`,
    /// so that dropping a `ChildProcess` kills a child that is still running.
    private final class Collected: @unchecked Sendable {
        // @unchecked: every field is guarded by `lock`.
        let lock = ConditionLock()
        var bytes: [UInt8] = []
        /// Bytes that `readLine` has returned.
        var consumed = 0
        /// The child's stdout reached end of file.
        var ended = false
    }

    public let pid: pid_t
    private let collected = Collected()
    private var collector: NamedThread?
    private var input: FileDescriptor?
    private var exitStatus: Int32?

    /// Starts `executable` (looked up in PATH if it has no slash) with `arguments`.
    /// - Parameter environment: `KEY=value` strings, nil for this process's environment.
    public init(_ executable: String, _ arguments: [String], environment: [String]? = nil,
                standardInput: StandardInput = .inherit, standardError: StandardError = .discard) throws(SystemError) {
        let output = try Self.pipe()
        let inputPipe = standardInput == .pipe ? try Self.pipe() : nil
        do {
            pid = try BackgroundProcess.spawn(executable, arguments, environment: environment, searchPath: true,
                                              detach: .none) { actions in
                if let inputPipe { posix_spawn_file_actions_adddup2(actions, inputPipe.read.raw, 0) }
                posix_spawn_file_actions_adddup2(actions, output.write.raw, 1)
                switch standardError {
                case .discard: posix_spawn_file_actions_addopen(actions, 2, "/dev/null", O_WRONLY, 0)
                case .merge: posix_spawn_file_actions_adddup2(actions, output.write.raw, 2)
                case .inherit: break
                }
            }
        } catch {
            output.read.close()
            output.write.close()
            inputPipe?.read.close()
            inputPipe?.write.close()
            throw error
        }
        // The child has its copies; ours would hold its output open, or its input.
        output.write.close()
        inputPipe?.read.close()
        input = inputPipe?.write

        let source = output.read
        let sink = collected
        collector = NamedThread(name: "pl-child-out") { Self.collect(from: source, into: sink) }
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        input?.close()
        collector?.join()
    }

    private static func pipe() throws(SystemError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        try syscall("pipe2") { parklink_pipe2(&fds, O_CLOEXEC) }
        return (FileDescriptor(adopting: fds[0], label: "child-pipe-r"), FileDescriptor(adopting: fds[1], label: "child-pipe-w"))
    }

    private static func collect(from source: FileDescriptor, into sink: Collected) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = (try? source.read(into: buffer)) ?? 0
            guard n > 0 else { break }
            sink.lock.withLock {
                sink.bytes.append(contentsOf: buffer[0..<n])
                sink.lock.broadcast()
            }
        }
        source.close()
        sink.lock.withLock {
            sink.ended = true
            sink.lock.broadcast()
        }
    }

    // MARK: Output

    /// Everything the child has written so far (what `readLine` returned included).
    public var output: String { String(decoding: collected.lock.withLock { collected.bytes }, as: UTF8.self) }

    /// The child's next line, without its newline, waiting for it at most
    /// `timeoutSeconds`; nil on time-out, or when its output ended first.
    public func readLine(timeoutSeconds: Double) -> String? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        let c = collected
        c.lock.lock()
        defer { c.lock.unlock() }
        while true {
            if let newline = c.bytes[c.consumed...].firstIndex(of: 0x0A) {
                let line = String(decoding: c.bytes[c.consumed..<newline], as: UTF8.self)
                c.consumed = newline + 1
                return line
            }
            let now = Clock.monotonicNanoseconds()
            if c.ended || now >= deadline { return nil }
            c.lock.wait(milliseconds: Int(min((deadline - now) / 1_000_000 + 1, 1_000)))
        }
    }

    // MARK: Input

    /// Writes `line` and a newline to the child's stdin (`standardInput: .pipe`);
    /// false if the child no longer reads it.
    @discardableResult
    public func send(_ line: String) -> Bool {
        guard let input, input.isOpen else { return false }
        return (try? input.writeAll(Array((line + "\n").utf8))) != nil
    }

    /// Ends the child's stdin: it reads end of file.
    public func closeInput() {
        input?.close()
    }

    // MARK: Exit

    /// The exit code (or 128 + the signal) once the child has exited, without waiting.
    public func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        return reaped(Self.code(status))
    }

    /// Waits for the exit; nil on time-out (the child is then still running).
    public func wait(timeoutSeconds: Double) -> Int32? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if let s = poll() { return s }
            Clock.sleep(milliseconds: 20)
        }
        return poll()
    }

    /// Waits for the exit, however long it takes: for a child told to finish that is
    /// known to (a time-out there would only hide a bug the caller reports anyway).
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return reaped(-1) }  // ECHILD: reaped by somebody else
        }
        return reaped(Self.code(status))
    }

    public func signal(_ s: Int32) { kill(pid, s) }

    /// The shell's convention: the exit code, or 128 + the signal.
    private static func code(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Records the exit and waits for the rest of the output (the collector ends at end
    /// of file; a grandchild still holding the pipe would hold it back).
    private func reaped(_ code: Int32) -> Int32 {
        exitStatus = code
        collector?.join()
        collector = nil
        input?.close()
        return code
    }
}

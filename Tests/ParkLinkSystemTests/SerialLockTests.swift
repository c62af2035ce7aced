#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ParkLinkSystem
import Testing

/// One reader per device: the UUCP lock file names the holder, the `flock` keeps a second
/// reader out even when it is root (the tests run as root, so `TIOCEXCL` would not).
@Suite("Serial device locks")
struct SerialLockTests {
    @Test("a second open of a device in use fails, naming the first opener's pid from its lock file")
    func secondOpenNamesTheHolder() throws {
        let pty = try PseudoTerminal()
        let locks = try LockDirectory()
        let first = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: locks.location)
        let lockFile = SerialLockFile.path(for: pty.followerPath, in: locks.path)
        #expect(first.lockFile?.path == lockFile)
        #expect(text(lockFile) == String(repeating: " ", count: 10 - String(getpid()).count) + "\(getpid())\n",
                "the pid in ten ASCII columns and a newline, as minicom and picocom write it")

        #expect {
            _ = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: locks.location)
        } throws: { error in
            guard case .inUse(let device, let holder?) = error as? SerialPortError else { return false }
            return device == pty.followerPath && holder.pid == getpid() && holder.source == lockFile
                && "\(error)".contains("in use by pid \(getpid())")
        }
        #expect(text(lockFile) != nil, "the failed open leaves the holder's lock file alone")

        first.close()
        #expect(text(lockFile) == nil, "closing removes the lock file")
        let again = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: locks.location)
        again.close()
    }

    @Test("without a lock file the flock still refuses a second open, and /proc/locks names the holder")
    func flockAloneNamesTheHolder() throws {
        let pty = try PseudoTerminal()
        let first = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: .none)
        defer { first.close() }
        #expect(first.lockFile == nil && first.lockFileSkipped != nil)
        #expect {
            _ = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: .none)
        } throws: { error in
            guard case .inUse(_, let holder?) = error as? SerialPortError else { return false }
            return holder.pid == getpid() && holder.source == "/proc/locks"
        }
    }

    @Test("another process's flock is found through /proc/locks, with its pid")
    func anotherProcessHoldsIt() throws {
        let pty = try PseudoTerminal()
        // util-linux flock(1): takes LOCK_EX on the device, then becomes `sleep`, holding it.
        let holder = try ChildProcess("flock", ["--exclusive", "--no-fork", pty.followerPath, "sleep", "30"])
        defer {
            holder.signal(SIGKILL)
            _ = holder.wait(timeoutSeconds: 10)
        }
        var seen: SerialPortError?
        for _ in 0..<100 {
            do {
                let port = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: .none)
                port.close()
                Clock.sleep(milliseconds: 20)  // flock(1) has not taken it yet
            } catch {
                seen = error
                break
            }
        }
        guard case .inUse(_, let found?) = seen else {
            Issue.record("the device was never reported in use: \(String(describing: seen))")
            return
        }
        #expect(found.pid == holder.pid)
        #expect("\(seen!)".contains("in use by pid \(holder.pid) ("), "the pid and the process's name")
        #expect("\(seen!)".hasSuffix(", per /proc/locks"))
    }

    @Test("a stale lock file (its process is gone) is replaced, as is one with our pid that we do not hold")
    func staleLockFilesAreReplaced() throws {
        let pty = try PseudoTerminal()
        let locks = try LockDirectory()
        let lockFile = SerialLockFile.path(for: pty.followerPath, in: locks.path)
        let gone = try ChildProcess("true", [])
        #expect(gone.wait(timeoutSeconds: 10) == 0)
        for stalePid in [gone.pid, getpid()] {
            try write(String(repeating: " ", count: 10 - String(stalePid).count) + "\(stalePid)\n", to: lockFile)
            let port = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: locks.location)
            #expect(text(lockFile)?.trimmingCharacters() == "\(getpid())")
            port.close()
            #expect(text(lockFile) == nil)
        }
    }

    @Test("where no lock file can be made the device still opens, and says why there is none")
    func unwritableLockDirectoryIsSkipped() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: .directory("/nonexistent/lock"))
        defer { port.close() }
        #expect(port.lockFile == nil)
        #expect(port.lockFileSkipped?.contains("/nonexistent/lock/LCK..") == true)
    }

    @Test("probe tells a serial port from other files and names a holder, keeping nothing open")
    func probe() throws {
        let pty = try PseudoTerminal()
        let locks = try LockDirectory()
        let free = try SerialPort.probe(pty.followerPath, lockFiles: locks.location)
        #expect(free.status.kind == .characterDevice && free.isTerminal)
        #expect(try SerialPort.probe("/dev/null").isTerminal == false)
        #expect(try SerialPort.probe(locks.path).status.kind == .directory)
        #expect(throws: SerialPortError.system(SystemError(call: "stat(/nonexistent/tty)", errno: ENOENT))) {
            try SerialPort.probe("/nonexistent/tty")
        }
        let port = try SerialPort.open(pty.followerPath, baud: 115_200, lockFiles: locks.location)
        #expect {
            _ = try SerialPort.probe(pty.followerPath, lockFiles: locks.location)
        } throws: { error in
            guard case .inUse(_, let holder?) = error as? SerialPortError else { return false }
            return holder.pid == getpid()
        }
        port.close()
        _ = try SerialPort.probe(pty.followerPath, lockFiles: locks.location)
        #expect(try FileSystem.list(locks.path).isEmpty, "probing makes no lock file")
    }

    @Test("paths are made absolute against a base and cleaned lexically")
    func absolutePaths() throws {
        #expect(FileSystem.absolutePath("st4", relativeTo: "/home/tech") == "/home/tech/st4")
        #expect(FileSystem.absolutePath("./ttyX", relativeTo: "/tmp/a/") == "/tmp/a/ttyX")
        #expect(FileSystem.absolutePath("../etc//parklink.toml", relativeTo: "/tmp/a") == "/tmp/etc/parklink.toml")
        #expect(FileSystem.absolutePath("/dev/ttyACM0", relativeTo: "/tmp") == "/dev/ttyACM0")
        #expect(FileSystem.absolutePath("/var/lib/parklink/") == "/var/lib/parklink")
        #expect(FileSystem.absolutePath("st4") == (try FileSystem.currentDirectory()) + "/st4")
    }
}

/// A fresh directory for lock files, so the tests never touch /run/lock; removed when dropped.
private final class LockDirectory {
    let path: String
    var location: SerialLockFile.Location { .directory(path) }

    init() throws {
        var template = Array("/tmp/pl-locks-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemError(call: "mkdtemp", errno: errno)
        }
        path = String(cString: p)
    }

    deinit {
        for name in (try? FileSystem.list(path)) ?? [] { try? FileSystem.remove(path + "/" + name) }
        rmdir(path)
    }
}

private func text(_ path: String) -> String? {
    FileSystem.contents(of: path).map { String(decoding: $0, as: UTF8.self) }
}

private func write(_ text: String, to path: String) throws {
    let fd = try FileDescriptor.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
    defer { fd.close() }
    try fd.writeAll(Array(text.utf8))
}

private extension String {
    func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == "\n" }.reversed())
    }

    @Test("the lock file is named after the device a path leads to, not the path's last component")
    func lockNamedAfterTheDevice() throws {
        let a = try PseudoTerminal(), b = try PseudoTerminal()
        defer { a.close(); b.close() }
        let dirs = (0..<2).map { _ in NSTemporaryDirectory() + "pllockname-\(UInt32.random(in: 0...UInt32.max))" }
        for (dir, pty) in zip(dirs, [a, b]) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: dir + "/gateway", withDestinationPath: pty.followerPath)
        }
        let viaLinks = dirs.map { SerialLockFile.path(for: $0 + "/gateway", in: "/run/lock") }
        #expect(viaLinks[0] != viaLinks[1], "two gateways behind links of the same name do not share a lock")
        #expect(viaLinks[0] == SerialLockFile.path(for: a.followerPath, in: "/run/lock"), "one device, one lock, by any path")
        #expect(SerialLockFile.path(for: a.followerPath, in: "/run/lock").hasPrefix("/run/lock/LCK..pts_"))
    }
}

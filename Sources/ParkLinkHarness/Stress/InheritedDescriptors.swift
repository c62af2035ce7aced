import ParkLinkDaemon
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Keeps this process's descriptors out of the processes it starts.
///
/// `parklink stress` starts long-lived processes: the daemon, mariadbd (again, after a
/// db-restart), and the database watchdog, a shell that waits for this process to end.
/// Whatever descriptor they inherit stays open as long as they live. Two real cases:
/// the socket Foundation's `Process` gives a child to learn of its exit (a test that runs
/// `parklink stress` then waits for ever: the watchdog holds the socket and waits for
/// its owner, an unreaped zombie, to go), and the simulated gateway's pty (a mariadbd
/// holding it would keep the "unplugged" line alive).
enum InheritedDescriptors {
    /// Sets close-on-exec on every open descriptor above stderr. They stay open here.
    static func closeOnExec() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for name in names {
            guard let fd = Int32(name), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}

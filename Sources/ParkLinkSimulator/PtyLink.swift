#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem

/// The simulator's end of the serial line: a pseudo-terminal, and optionally a symlink
/// to it that survives an unplug, as a udev rule's `/dev/parklink-gw` does for a USB
/// gateway that comes back as a different `/dev/ttyACM*`.
///
/// The controller is non-blocking: the simulator must never wait on a slow host.
struct PtyLink {
    private(set) var pty: PseudoTerminal
    let linkPath: String?

    init(linkPath: String?) throws(SystemError) {
        self.linkPath = linkPath
        pty = try Self.makePty()
        try pointLink()
    }

    var controller: FileDescriptor { pty.controller }

    /// What the host opens: the symlink if there is one, else the pty itself.
    var devicePath: String { linkPath ?? pty.followerPath }

    /// The cable comes out: the link vanishes and the host's reads fail (EIO, POLLHUP).
    func hangUp() {
        removeLink()
        pty.close()
    }

    /// The cable goes back in: a new pty, and the link points at it.
    mutating func replug() throws(SystemError) {
        pty = try Self.makePty()
        try pointLink()
    }

    /// Removes the symlink, if it still points at our pty (another simulator may have
    /// taken the path over).
    func removeLink() {
        guard let linkPath else { return }
        var buf = [CChar](repeating: 0, count: 512)
        let n = readlink(linkPath, &buf, buf.count - 1)
        guard n > 0 else { return }
        let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if target == pty.followerPath { unlink(linkPath) }
    }

    private static func makePty() throws(SystemError) -> PseudoTerminal {
        let pty = try PseudoTerminal()
        try pty.controller.setNonBlocking(true)
        return pty
    }

    /// Points `linkPath` at the current pty atomically (a new symlink renamed over the
    /// old), so a host polling the path never sees it missing or half made.
    private func pointLink() throws(SystemError) {
        guard let linkPath else { return }
        let temp = "\(linkPath).tmp-\(getpid())"
        unlink(temp)
        try syscall("symlink(\(temp))") { symlink(pty.followerPath, temp) }
        do {
            try syscall("rename(\(temp), \(linkPath))") { rename(temp, linkPath) }
        } catch {
            unlink(temp)
            throw error
        }
    }
}

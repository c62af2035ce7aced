#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem

/// The database password kept in a file of its own (`--db-password-file`, `password_file`
/// under `[database]`): out of the process list, where a password in `--db` is readable
/// by every local user, and out of the configuration file, which is shared more widely.
///
/// A password file is only as secret as its permissions, so it is refused unless it is a
/// regular file that nobody but its owner can read or write (mode 0600 or 0400, no group
/// or other bits) and its owner is the user reading it or root (another user's file could
/// be changed behind the appliance's back). The password is the first line, without its
/// line ending.
public enum PasswordFile {
    /// Why a password file was refused: what is wrong, and the command that fixes it.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var fix: String

        public var description: String {
            "database password file \(path): \(reason). Fix: \(fix)"
        }
    }

    /// The longest file read: a password is a line, not a document.
    static let maxBytes = 4_096

    /// The password in `path` (its first line), once the file has passed the checks.
    /// `user` is the uid the file must belong to (besides root): the current one.
    public static func read(_ path: String, user: uid_t = Accounts.effectiveUserID) throws(Refusal) -> String {
        func refuse(_ reason: String, _ fix: String) -> Refusal { Refusal(path: path, reason: reason, fix: fix) }
        let fd: FileDescriptor
        do throws(SystemError) {
            // O_NONBLOCK: a FIFO put in its place must not hang the start; it is refused below.
            fd = try FileDescriptor.open(path, flags: O_RDONLY | O_NOCTTY | O_NONBLOCK)
        } catch {
            switch error.errno {
            case ENOENT:
                throw refuse("no such file", "write the password on the first line of \(path), then `chmod 600 \(path)`")
            case EACCES:
                throw refuse("permission denied to uid \(user)",
                             "make the user parklink runs as its owner (`chown \(user) \(path)`), then `chmod 600 \(path)`")
            default:
                throw refuse("cannot open it: \(error)", "check the path")
            }
        }
        defer { fd.close() }
        // Judged on the open descriptor, so a file swapped after the check is never read.
        let status: FileStatus
        do {
            status = try fd.status()
        } catch {
            throw refuse("cannot examine it: \(error)", "check the path")
        }
        guard status.kind == .regular else {
            throw refuse("it is \(status.kind.rawValue), not a regular file", "give the path of a regular file holding the password")
        }
        guard status.owner == user || status.owner == 0 else {
            throw refuse("it is owned by uid \(status.owner), not by uid \(user) (the user parklink runs as) or root",
                         "`chown \(user) \(path)` (or root), then `chmod 600 \(path)`")
        }
        guard status.permissions & 0o077 == 0 else {
            throw refuse("it has mode \(octal(status.permissions)), so other users can read or change it (0600 or 0400 at most)",
                         "`chmod 600 \(path)`")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1_024)
        do {
            while bytes.count <= maxBytes {
                let n = try chunk.withUnsafeMutableBytes { p throws(SystemError) in try fd.read(into: p) }
                if n == 0 { break }
                bytes += chunk[..<n]
                if chunk[..<n].contains(UInt8(ascii: "\n")) { break }
            }
        } catch {
            throw refuse("cannot read it: \(error)", "check the file")
        }
        var line = bytes.prefix { $0 != UInt8(ascii: "\n") }
        guard line.count <= maxBytes else {
            throw refuse("its first line is longer than \(maxBytes) bytes", "write only the password, on the first line")
        }
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard !line.isEmpty else {
            throw refuse("its first line is empty", "write the password on the first line")
        }
        guard let password = String(validating: line, as: UTF8.self) else {
            throw refuse("its first line is not UTF-8 text", "write the password as UTF-8 text")
        }
        return password
    }

    private static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

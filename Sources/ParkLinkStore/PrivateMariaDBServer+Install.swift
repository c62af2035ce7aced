// First use of a state directory: finding the MariaDB binaries and initialising the
// datadir with mariadb-install-db.

import Foundation
import Logging
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

extension PrivateMariaDBServer {
    // MARK: Binaries

    static let searchDirectories = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin"]

    /// Finds an executable on PATH, then in the usual system directories.
    public static func findBinary(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        for name in names {
            for dir in path + searchDirectories where !dir.isEmpty {
                let candidate = dir + "/" + name
                if access(candidate, X_OK) == 0 { return candidate }
            }
        }
        return nil
    }

    static func requireBinary(_ names: [String]) throws -> String {
        guard let path = findBinary(names) else { throw PrivateMariaDBServerError.binaryNotFound(names[0]) }
        return path
    }

    // MARK: Install

    func installIfNeeded() throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: installedMarker) { return }
        let install = try Self.requireBinary(["mariadb-install-db", "mysql_install_db"])
        // A datadir without the marker is a half-finished install of ours: start again.
        try? fm.removeItem(atPath: dataDirectory)
        // A private tmpdir: the bootstrap server's temporary tables otherwise go to /tmp,
        // where concurrent installs were seen to trip over each other.
        // Socket authentication: root and the user running this (the owner) log in as
        // themselves, nobody else, and there is no password to leak.
        let owner = Accounts.user(Accounts.effectiveUserID)?.name ?? "root"
        var args = [
            "--no-defaults", "--datadir=\(dataDirectory)", "--tmpdir=\(baseDirectory)/tmp",
            "--auth-root-authentication-method=socket", "--auth-root-socket-user=\(owner)", "--skip-test-db",
        ]
        args += try userArguments()
        logger.info("initialising MariaDB datadir", metadata: ["db.datadir": "\(dataDirectory)"])
        _ = fm.createFile(atPath: installLogPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: installLogPath))
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: install)
        process.arguments = args
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PrivateMariaDBServerError.installFailed(
                status: process.terminationStatus, logPath: installLogPath, logTail: Self.tail(of: installLogPath))
        }
        _ = fm.createFile(atPath: installedMarker, contents: Data("ok\nauth=socket\n".utf8))
    }

    static func tail(of path: String, bytes: Int = 2000) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no log)" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }
}

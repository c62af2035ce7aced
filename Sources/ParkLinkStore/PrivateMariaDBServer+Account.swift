// Who the private server runs as, and who may log in to it: never root, and only its owner.

import Foundation
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

extension PrivateMariaDBServer {
    /// The account `mariadbd` runs as when this process is root (nil when it is not: the
    /// server then simply runs as this process's user).
    ///
    /// A database server started by root as root would give every flaw in it root's reach,
    /// and a `SELECT … INTO OUTFILE` root's files. So: the owner of the state directory if
    /// that is not root (a service user's directory), else the `parklink` service account
    /// (what `parklink install` creates), else `mysql` (which Debian's `mariadb-server`
    /// package creates); with none of them the start is refused with the fix.
    func serverAccount() throws -> UserAccount? {
        guard Accounts.effectiveUserID == 0 else { return nil }
        if let owner = try? FileSystem.status(stateDirectory).owner, owner != 0,
           let account = (try? Accounts.user(uid: owner)) ?? nil {
            return account
        }
        for name in Self.serviceAccountNames {
            if let account = (try? Accounts.user(named: name)) ?? nil, account.uid != 0 { return account }
        }
        throw PrivateMariaDBServerError.noServiceAccount(tried: Self.serviceAccountNames)
    }

    static let serviceAccountNames = ["parklink", "mysql"]

    /// Gives the server's directory to `account` and makes sure it can reach it.
    ///
    /// Everything under `mariadb/` becomes its own (a datadir installed by an earlier
    /// version as root included). The state directory stays the appliance's: when the
    /// account cannot search it and its group is root's (nobody else relies on it), its
    /// group becomes the account's; any other obstacle is an error that names the
    /// directory, because changing someone else's permissions silently is worse.
    func prepareDirectories(for account: UserAccount) throws {
        let groups = Accounts.groupIDs(ofUser: account.name, primary: account.gid)
        if FileSystem.firstUnsearchableDirectory(to: stateDirectory, for: account.uid, groups: groups) == stateDirectory,
           let s = try? FileSystem.status(stateDirectory), s.group == 0 {
            try wrap { () throws(SystemError) in
                try FileSystem.setGroup(stateDirectory, account.gid)
                try FileSystem.setPermissions(stateDirectory, s.permissions | 0o050)
            }
        }
        if let blocked = FileSystem.firstUnsearchableDirectory(to: baseDirectory, for: account.uid, groups: groups),
           blocked != baseDirectory {
            throw PrivateMariaDBServerError.unreachable(directory: blocked, account: account.name, stateDirectory: stateDirectory)
        }
        // The error log is opened by the server after it has become `account`.
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o640])
        }
        try wrap { () throws(SystemError) in
            try FileSystem.setOwnerRecursively(baseDirectory, account.uid, account.gid)
        }
    }

    /// The `--user` option of `mariadbd` and `mariadb-install-db`: the server switches to
    /// it right after start-up, before it opens a table.
    func userArguments() throws -> [String] {
        guard let account = try serverAccount() else { return [] }
        return ["--user=\(account.name)"]
    }

    /// Who logs in: socket authentication (the server asks the kernel who is at the other
    /// end of its Unix socket) for root and for the process's own user, no password and no
    /// TCP account. A datadir installed before this had a password-less `root` instead,
    /// reachable by anyone who could reach the socket; it keeps working as it was.
    var loginUser: String {
        let marker = (try? String(contentsOfFile: installedMarker, encoding: .utf8)) ?? ""
        guard marker.contains("auth=socket") else { return "root" }
        if Accounts.effectiveUserID == 0 { return "root" }
        return Accounts.user(Accounts.effectiveUserID)?.name ?? "root"
    }

    private func wrap(_ body: () throws(SystemError) -> Void) throws {
        do throws(SystemError) { try body() } catch {
            throw PrivateMariaDBServerError.io("\(error)")
        }
    }
}

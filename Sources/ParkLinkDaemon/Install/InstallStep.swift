import Foundation
import ParkLinkSystem

/// One thing `parklink install` or `uninstall` does, described before it is done: the
/// same list is printed by `--dry-run` and carried out otherwise, so what a dry run shows
/// is what a real run does.
public enum InstallStep: Sendable, Equatable {
    /// A user and group to give a path to (looked up when the step runs, after the
    /// accounts exist).
    public struct Owner: Sendable, Equatable {
        public var user: String
        public var group: String
        public init(user: String, group: String) {
            self.user = user
            self.group = group
        }
    }

    case createGroup(String)
    case createUser(name: String, group: String, groups: [String], home: String)
    case addToGroup(user: String, group: String)
    /// Created if missing; mode (and owner, if given) set either way.
    case makeDirectory(String, mode: mode_t, owner: Owner?)
    case writeFile(String, contents: String, mode: mode_t, owner: Owner?)
    case copyExecutable(from: String, to: String)
    /// A tool run on the live system (`udevadm`, `systemctl`).
    case run([String])
    case remove(String)
    /// A directory and everything in it (`uninstall --purge` only).
    case removeTree(String)
    case deleteUser(String)
    case deleteGroup(String)
    /// Nothing done: what was kept or skipped, and why.
    case note(String)

    /// The line printed for the step.
    public var description: String {
        switch self {
        case .createGroup(let g):
            "create group \(g) (groupadd --system \(g))"
        case .createUser(let name, let group, let groups, let home):
            "create user \(name) in group \(group) and \(groups.joined(separator: ", ")), home \(home), no login "
                + "(useradd --system --gid \(group) --groups \(groups.joined(separator: ",")) --home-dir \(home) "
                + "--no-create-home --shell /usr/sbin/nologin \(name))"
        case .addToGroup(let user, let group):
            "add user \(user) to group \(group) (usermod -aG \(group) \(user))"
        case .makeDirectory(let path, let mode, let owner):
            "create directory \(path) (\(Self.octal(mode))\(owner.map { ", \($0.user):\($0.group)" } ?? ""))"
        case .writeFile(let path, _, let mode, let owner):
            "write \(path) (\(Self.octal(mode))\(owner.map { ", \($0.user):\($0.group)" } ?? ""))"
        case .copyExecutable(let from, let to):
            "copy \(from) to \(to) (0755)"
        case .run(let argv):
            "run \(argv.joined(separator: " "))"
        case .remove(let path):
            "remove \(path)"
        case .removeTree(let path):
            "remove \(path) and everything in it"
        case .deleteUser(let name):
            "delete user \(name) (userdel \(name))"
        case .deleteGroup(let name):
            "delete group \(name) (groupdel \(name))"
        case .note(let text):
            text
        }
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// A step that could not be carried out: which one, and what the system said.
public struct InstallFailure: Error, CustomStringConvertible {
    public var step: String
    public var reason: String

    public var description: String { "\(step): \(reason)" }
}

extension InstallStep {
    /// Carries the step out.
    func apply() throws {
        do {
            try perform()
        } catch let e as InstallFailure {
            throw e
        } catch {
            throw InstallFailure(step: description, reason: "\(error)")
        }
    }

    private func perform() throws {
        switch self {
        case .createGroup(let g):
            try Self.tool("/usr/sbin/groupadd", ["--system", g])
        case .createUser(let name, let group, let groups, let home):
            try Self.tool("/usr/sbin/useradd", [
                "--system", "--gid", group, "--groups", groups.joined(separator: ","), "--home-dir", home,
                "--no-create-home", "--shell", "/usr/sbin/nologin", "--comment", "ParkLink appliance", name,
            ])
        case .addToGroup(let user, let group):
            try Self.tool("/usr/sbin/usermod", ["-aG", group, user])
        case .makeDirectory(let path, let mode, let owner):
            try FileSystem.makeDirectory(path, mode: mode)
            try FileSystem.setPermissions(path, mode)
            try owner.map { try Self.give(path, to: $0) }
        case .writeFile(let path, let contents, let mode, let owner):
            // Beside it, then renamed over it: never a half-written rule or unit.
            let temporary = path + ".parklink-new"
            try Data(contents.utf8).write(to: URL(fileURLWithPath: temporary))
            try FileSystem.setPermissions(temporary, mode)
            try owner.map { try Self.give(temporary, to: $0) }
            try FileSystem.rename(temporary, to: path)
        case .copyExecutable(let from, let to):
            // Renamed over the old one, which a running daemon may still be executing.
            let temporary = to + ".parklink-new"
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: from, toPath: temporary)
            try FileSystem.setPermissions(temporary, 0o755)
            try FileSystem.rename(temporary, to: to)
        case .run(let argv):
            try Self.tool(argv[0], Array(argv.dropFirst()))
        case .remove(let path):
            try FileSystem.remove(path)
        case .removeTree(let path):
            try FileManager.default.removeItem(atPath: path)
        case .deleteUser(let name):
            try Self.tool("/usr/sbin/userdel", [name])
        case .deleteGroup(let name):
            // userdel takes a user's own group with it; gone is what was asked.
            if try Accounts.groupID(named: name) != nil {
                try Self.tool("/usr/sbin/groupdel", [name])
            }
        case .note:
            break
        }
    }

    private static func give(_ path: String, to owner: Owner) throws {
        guard let user = try Accounts.user(named: owner.user) else {
            throw InstallFailure(step: "give \(path) to \(owner.user)", reason: "there is no user \(owner.user)")
        }
        guard let gid = try Accounts.groupID(named: owner.group) else {
            throw InstallFailure(step: "give \(path) to group \(owner.group)", reason: "there is no group \(owner.group)")
        }
        try FileSystem.setOwner(path, user.uid, gid)
    }

    /// Runs a system tool; a non-zero exit is a failure carrying what it printed.
    private static func tool(_ executable: String, _ arguments: [String]) throws {
        let p = try ChildProcess(executable, arguments, standardError: .merge)
        let status = p.wait(timeoutSeconds: 120)
        guard status == 0 else {
            let said = p.output.trimmingCharacters(in: .whitespacesAndNewlines)
            throw InstallFailure(step: ([executable] + arguments).joined(separator: " "),
                                 reason: (status.map { "exit \($0)" } ?? "no exit within 120 s") + (said.isEmpty ? "" : ": \(said)"))
        }
    }
}

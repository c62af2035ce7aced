import Foundation
import ParkLinkSystem

/// System users and groups made for one test and removed after it, so that a test can
/// be someone other than root (`useradd --system --no-create-home`, `runuser`).
///
/// Needs root and the shadow utilities; `unavailableReason` says why not when they are
/// missing, for the test's skip message.
final class ThrowawayAccounts {
    struct User {
        var name: String
        var uid: uid_t
        var gid: gid_t
    }

    /// Why these tests cannot run here, or nil if they can.
    static let unavailableReason: String? = {
        if getuid() != 0 { return "creating a throwaway user needs root (the tests run as uid \(getuid()))" }
        for tool in ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/groupadd", "/usr/sbin/groupdel", "/usr/sbin/runuser"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed"
        }
        return nil
    }()

    static var available: Bool {
        if let reason = unavailableReason { print("skipping: \(reason)") }
        return unavailableReason == nil
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var users: [String] = []
    private var groups: [String] = []
    private let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    /// A new system group, removed with the accounts; its gid.
    func group(_ suffix: String) throws -> (name: String, gid: gid_t) {
        let name = "plt\(tag)\(suffix)"
        try Self.tool("/usr/sbin/groupadd", ["--system", name])
        groups.append(name)
        guard let gid = try Accounts.groupID(named: name) else { throw Failure(description: "groupadd made no group \(name)") }
        return (name, gid)
    }

    /// The group called exactly `name`, created (and later removed) only if the host has
    /// none: an existing one (a real installation's) is left as it is.
    func ensureGroup(named name: String) throws -> gid_t {
        if let gid = try Accounts.groupID(named: name) { return gid }
        try Self.tool("/usr/sbin/groupadd", ["--system", name])
        groups.append(name)
        guard let gid = try Accounts.groupID(named: name) else { throw Failure(description: "groupadd made no group \(name)") }
        return gid
    }

    /// A new system user with a group of its own and, besides, `groups`.
    func user(_ suffix: String, groups extra: [String] = []) throws -> User {
        let name = "plt\(tag)\(suffix)"
        var arguments = ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin"]
        if !extra.isEmpty { arguments += ["--groups", extra.joined(separator: ",")] }
        try Self.tool("/usr/sbin/useradd", arguments + [name])
        users.append(name)
        // Its own group goes with it (userdel removes it), so it is not in `groups`.
        guard let uid = Self.uid(of: name), let account = try Accounts.user(uid: uid) else {
            throw Failure(description: "useradd made no user \(name)")
        }
        return User(name: name, uid: uid, gid: account.gid)
    }

    /// Runs `executable arguments…` as `user` (`runuser -u`, no login shell); exit status
    /// and output (stdout and stderr).
    func run(as user: User, _ executable: String, _ arguments: [String], timeoutSeconds: Double = 60) throws -> (status: Int32?, output: String) {
        let p = try ChildProcess("/usr/sbin/runuser", ["-u", user.name, "--", executable] + arguments, standardError: .merge)
        let status = p.wait(timeoutSeconds: timeoutSeconds)
        return (status, p.output)
    }

    /// Removes every user, then every group, this made.
    func remove() {
        for name in users.reversed() { try? Self.tool("/usr/sbin/userdel", [name]) }
        for name in groups.reversed() { try? Self.tool("/usr/sbin/groupdel", [name]) }
        users = []
        groups = []
    }

    deinit { remove() }

    private static func uid(of name: String) -> uid_t? {
        guard let p = try? ChildProcess("/usr/bin/id", ["-u", name]), p.wait(timeoutSeconds: 10) == 0 else { return nil }
        return uid_t(p.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func tool(_ path: String, _ arguments: [String]) throws {
        let p = try ChildProcess(path, arguments, standardError: .merge)
        guard p.wait(timeoutSeconds: 30) == 0 else {
            throw Failure(description: "\(path) \(arguments.joined(separator: " ")) failed: \(p.output)")
        }
    }
}

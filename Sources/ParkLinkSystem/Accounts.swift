#if canImport(Glibc)
import Glibc
#endif

/// A user as the account database (`/etc/passwd`, or whatever NSS is set up to use) knows it.
public struct UserAccount: Sendable, Hashable {
    public var name: String
    public var uid: uid_t
    /// The primary group.
    public var gid: gid_t

    public init(name: String, uid: uid_t, gid: gid_t) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }
}

/// Users and groups, for deciding who may command the daemon. Thin wrappers over the
/// re-entrant NSS calls (the status thread is not the only thread, so never the
/// `getpwuid`/`getgrnam` that share a static buffer); their error numbers become
/// `SystemError`.
public enum Accounts {
    /// The uid this process acts as (what the kernel checks files against).
    /// The corresponding C function is `geteuid`.
    public static var effectiveUserID: uid_t { geteuid() }

    /// The account with `uid`; nil if the database has none (a uid without a name is
    /// possible: containers, deleted users). The corresponding C function is `getpwuid_r`.
    public static func user(uid: uid_t) throws(SystemError) -> UserAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = max(1_024, sysconf(Int32(_SC_GETPW_R_SIZE_MAX)))
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
            if rc == ERANGE && size < 1 << 20 {
                size *= 4
                continue
            }
            guard rc == 0 else { throw SystemError(call: "getpwuid_r(\(uid))", errno: rc) }
            guard result != nil, let name = entry.pw_name else { return nil }
            return UserAccount(name: String(cString: name), uid: entry.pw_uid, gid: entry.pw_gid)
        }
    }

    /// The gid of the group called `name`; nil if there is none.
    /// The corresponding C function is `getgrnam_r`.
    public static func groupID(named name: String) throws(SystemError) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var size = max(1_024, sysconf(Int32(_SC_GETGR_R_SIZE_MAX)))
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
            // A group with many members needs a bigger buffer.
            if rc == ERANGE && size < 1 << 24 {
                size *= 4
                continue
            }
            guard rc == 0 else { throw SystemError(call: "getgrnam_r(\(name))", errno: rc) }
            return result == nil ? nil : entry.gr_gid
        }
    }

    /// Every group `user` belongs to: `primary` and the supplementary groups the group
    /// database lists for that name. The corresponding C function is `getgrouplist`.
    public static func groupIDs(ofUser user: String, primary: gid_t) -> [gid_t] {
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            let room = count
            // -1 when the list is longer than `count`, which it then sets to the length needed.
            if getgrouplist(user, primary, &groups, &count) >= 0 || room >= 65_536 {
                return Array(groups.prefix(Int(min(count, room))))
            }
            count = max(count, room * 2)
        }
    }
}

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

    /// The account called `name`; nil if the database has none.
    /// The corresponding C function is `getpwnam_r`.
    public static func user(named name: String) throws(SystemError) -> UserAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = max(1_024, sysconf(Int32(_SC_GETPW_R_SIZE_MAX)))
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
            if rc == ERANGE && size < 1 << 20 {
                size *= 4
                continue
            }
            guard rc == 0 else { throw SystemError(call: "getpwnam_r(\(name))", errno: rc) }
            guard result != nil else { return nil }
            return UserAccount(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
        }
    }

    /// The gid of the group called `name`; nil if there is none.
    /// The corresponding C function is `getgrnam_r`.
    public static func groupID(named name: String) throws(SystemError) -> gid_t? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
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

    /// The user this process acts as. The corresponding C function is `geteuid`.
    public static var effectiveUser: uid_t { geteuid() }

    /// The groups this process acts with (effective and supplementary): what the kernel
    /// checks, which lags behind /etc/group until the user logs in again. The
    /// corresponding C functions are `getegid` and `getgroups`.
    public static func processGroups() -> Set<gid_t> {
        var groups: Set<gid_t> = [getegid()]
        let count = getgroups(0, nil)
        if count > 0 {
            var list = [gid_t](repeating: 0, count: Int(count))
            let n = getgroups(count, &list)
            if n > 0 { groups.formUnion(list.prefix(Int(n))) }
        }
        return groups
    }

    /// The account of `uid` as a name and primary group, nil when unknown or unreadable:
    /// for messages, where a lookup failure only makes the message less specific.
    public static func user(_ uid: uid_t) -> (name: String, primaryGroup: gid_t)? {
        guard let account = (try? user(uid: uid)) ?? nil else { return nil }
        return (account.name, account.gid)
    }

    /// The group `gid`: its name and the users /etc/group lists as members (not those for
    /// whom it is the primary group). The corresponding C function is `getgrgid_r`.
    public static func group(_ gid: gid_t) -> (name: String, members: [String])? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let rc = getgrgid_r(gid, &entry, &buffer, buffer.count, &result)
            if rc == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            guard rc == 0, result != nil, let name = entry.gr_name else { return nil }
            var members: [String] = []
            if var p = entry.gr_mem {
                while let m = p.pointee {
                    members.append(String(cString: m))
                    p += 1
                }
            }
            return (String(cString: name), members)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Users and groups, to explain a refusal the way a technician can act on it: "the
/// device belongs to group dialout, and this user is not in it" rather than EACCES.
public enum Accounts {
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

    /// The account of `uid`: its name and primary group. The corresponding C function is
    /// `getpwuid_r`.
    public static func user(_ uid: uid_t) -> (name: String, primaryGroup: gid_t)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let rc = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
            if rc == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            guard rc == 0, result != nil, let name = entry.pw_name else { return nil }
            return (String(cString: name), entry.pw_gid)
        }
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

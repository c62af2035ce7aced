#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem

/// Who may do what over the status socket (least privilege).
///
/// Anyone who can connect may read: `status`, `alerts` and `watch` (the socket file is 0660 in
/// the state directory's group, so the file system already decides who that is).
/// Everything that changes something (acknowledging alerts, overrides, LEDs, `ping`, and any command
/// added later) is for root, the daemon's own user, or members of the group `parklink`
/// (by the peer's primary gid or the supplementary groups the group database lists for
/// its user name). The peer is judged by `SO_PEERCRED`, which the kernel fills in at
/// connect time: a client cannot claim to be someone else.
public struct StatusAccess: Sendable {
    /// The group whose members may command the daemon.
    public static let operatorGroup = "parklink"

    /// What a request needs.
    public enum Level: Sendable, Equatable {
        /// Reads state: open to anyone who can connect.
        case read
        /// Changes something: root, the daemon's user, or the `parklink` group.
        case command
    }

    /// The level each request needs. Exhaustive on purpose: a new request does not
    /// compile until someone decides who may send it.
    public static func level(of command: StatusRequest.Command) -> Level {
        switch command {
        case .status, .alerts, .watch: .read
        case .ping, .led, .acknowledge, .override: .command
        }
    }

    /// The client of one connection, with its account name when the system has one.
    public struct Peer: Sendable, Equatable, CustomStringConvertible {
        public var credentials: PeerCredentials
        /// From the account database; nil for a uid without a name.
        public var user: UserAccount?

        public init(credentials: PeerCredentials, user: UserAccount?) {
            self.credentials = credentials
            self.user = user
        }

        /// Looks the peer's uid up in the account database.
        public static func resolve(_ credentials: PeerCredentials) -> Peer {
            Peer(credentials: credentials, user: try? Accounts.user(uid: credentials.uid))
        }

        /// "alice (uid 1000)", or "uid 1000" without an account name.
        public var description: String {
            user.map { "\($0.name) (uid \(credentials.uid))" } ?? "uid \(credentials.uid)"
        }
    }

    /// Why a request was let through, for the log line that records who asked.
    public enum Grant: String, Sendable, Equatable {
        case read = "read-only request"
        case root
        case daemonUser = "the daemon's own user"
        case operatorGroup = "member of group parklink"
    }

    /// The uid the daemon runs as.
    public var daemonUID: uid_t
    /// The gid of `operatorGroup` now (nil: no such group on this host).
    var operatorGroupID: @Sendable () -> gid_t?
    /// Every group the peer's user belongs to.
    var groupsOfPeer: @Sendable (Peer) -> [gid_t]

    public init(daemonUID: uid_t,
                operatorGroupID: @escaping @Sendable () -> gid_t?,
                groupsOfPeer: @escaping @Sendable (Peer) -> [gid_t]) {
        self.daemonUID = daemonUID
        self.operatorGroupID = operatorGroupID
        self.groupsOfPeer = groupsOfPeer
    }

    /// The policy against this host's accounts. The group is looked up at each command, so
    /// creating it, or adding a technician to it, takes effect without a restart.
    public static func system(daemonUID: uid_t = Accounts.effectiveUserID) -> StatusAccess {
        StatusAccess(
            daemonUID: daemonUID,
            operatorGroupID: { try? Accounts.groupID(named: operatorGroup) },
            groupsOfPeer: { peer in
                guard let user = peer.user else { return [peer.credentials.gid] }
                return Accounts.groupIDs(ofUser: user.name, primary: peer.credentials.gid)
            })
    }

    /// Lets `command` through for `peer` (saying why), or refuses it with a `forbidden`
    /// problem that names what is needed.
    public func check(_ command: StatusRequest.Command, from peer: Peer) -> Result<Grant, StatusProblem> {
        if Self.level(of: command) == .read { return .success(.read) }
        let uid = peer.credentials.uid
        if uid == 0 { return .success(.root) }
        if uid == daemonUID { return .success(.daemonUser) }
        let group = operatorGroupID()
        if let group, peer.credentials.gid == group || groupsOfPeer(peer).contains(group) {
            return .success(.operatorGroup)
        }
        let name = peer.user?.name ?? "uid \(uid)"
        let fix = group == nil
            ? "create the group and add the user: `groupadd --system \(Self.operatorGroup) && usermod -aG \(Self.operatorGroup) \(name)`"
            : "add the user to the group: `usermod -aG \(Self.operatorGroup) \(name)`"
        return .failure(StatusProblem(
            code: .forbidden,
            message: "\(command.word) changes the daemon, so it needs root, the daemon's own user (uid \(daemonUID)) or "
                + "membership of group `\(Self.operatorGroup)`\(group == nil ? " (no such group exists on this host)" : ""); \(peer) is none of these (reading `status` and `alerts` "
                + "needs nothing more). Fix: \(fix)",
            request: command.word))
    }
}

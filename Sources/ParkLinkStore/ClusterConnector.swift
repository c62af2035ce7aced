import Logging
import ParkLinkSystem

/// Picks the node a connection goes to when a DSN names several hosts (a MariaDB Galera
/// cluster), and remembers which one the writer uses and how often it had to move.
///
/// A node takes writes when it answers and, if it is a Galera node, says so: `wsrep_ready`
/// ON and `wsrep_local_state_comment` Synced. A joiner, a donor and a node cut off from
/// the majority all answer `SHOW STATUS` but refuse statements (error 1047), so connecting
/// alone proves nothing. Nodes are tried in the DSN's order, except that the node the last
/// connection failed on goes last: a node that just dropped us is the least likely to take
/// writes now, and one that is down may take a connect timeout to say so.
///
/// There is no failback: the writer stays on the node it has until that one fails, so a
/// node that rejoins does not cause a move of its own.
///
/// One connector is shared by the writer (which opens and reports failures, from its own
/// thread) and the status thread (which reads `snapshot`); its state is behind a lock.
public final class ClusterConnector: Sendable {
    /// What a node said when asked whether it takes writes.
    public enum Health: Sendable, Equatable {
        /// A Galera node that is Synced and ready, or a plain server that answered.
        case ready
        /// A Galera node that answers but does not take writes (joining, donor, no quorum).
        case notReady(String)
        /// No connection could be made, or it broke while asking.
        case unreachable(String)
        /// It answered with an error that will not go away by itself (access denied, no such database).
        case refused(String)

        /// One word for `status`: `ready`, `not_ready`, `unreachable`, `refused`.
        public var state: String {
            switch self {
            case .ready: "ready"
            case .notReady: "not_ready"
            case .unreachable: "unreachable"
            case .refused: "refused"
            }
        }

        /// Why the node was not taken, or nil when it was ready.
        public var detail: String? {
            switch self {
            case .ready: nil
            case .notReady(let s), .unreachable(let s), .refused(let s): s
            }
        }
    }

    /// A node and what it said the last time it was tried.
    public struct NodeReport: Sendable, Equatable {
        public var host: String
        /// Nil until the node has been tried.
        public var health: Health?
        /// When it was last tried, ms since the epoch (0: never).
        public var checkedAtMs: Int64
    }

    /// A move of the writer from one node to another.
    public struct Failover: Sendable, Equatable {
        public var atMs: Int64
        public var from: String
        public var to: String
        /// Why the old node was left: the error the writer got on it, or what it answered.
        public var reason: String
    }

    /// What `status` shows.
    public struct Snapshot: Sendable, Equatable {
        public var hosts: [String]
        /// The node of the open connection; nil while there is none.
        public var current: String?
        public var failovers: Int
        public var lastFailover: Failover?
        public var nodes: [NodeReport]
        /// Whether the last connection made was to a Galera node (a wsrep provider is
        /// loaded); nil before one was made.
        public var galera: Bool?

        /// 1-based position of `current` in the DSN's hosts; nil while not connected.
        public var currentPosition: Int? { current.flatMap { c in hosts.firstIndex(of: c).map { $0 + 1 } } }
    }

    public let dsn: DSN
    private let logger: Logger?
    private let state: Locked<State>

    private struct State {
        var current: Int?
        /// The node of the last connection made, kept across disconnects to count moves.
        var previous: Int?
        /// The node the last connection failed on, and why (see `nodeFailed`).
        var failed: (node: Int, reason: String)?
        var failovers = 0
        var lastFailover: Failover?
        var nodes: [NodeReport]
        var galera: Bool?
    }

    public init(dsn: DSN, logger: Logger? = nil) {
        self.dsn = dsn
        self.logger = logger
        state = Locked(State(nodes: dsn.hosts.map { NodeReport(host: $0.description, health: nil, checkedAtMs: 0) }))
    }

    /// Connects to the first node that takes writes (see the type's comment).
    /// - Parameter limit: at most this long for all the nodes tried (a shutdown's time left).
    /// - Parameter interrupter: cuts a schema migration this open runs (its DDL may run long).
    /// - Throws: the node's own error for a single host that cannot be reached or refuses;
    ///   for a cluster, the refusal when every node that answered refused (a wrong password
    ///   is wrong on every node), else `NoWritableNode` naming what each node said.
    public func open(profile: Connections.Profile, within limit: Duration? = nil,
                     interrupter: ConnectionInterrupter? = nil) throws -> MariaDBConnection {
        let order = state.withLock { s -> [Int] in
            s.current = nil
            var order = Array(dsn.hosts.indices)
            if let failed = s.failed?.node, order.count > 1 {
                order.removeAll { $0 == failed }
                order.append(failed)
            }
            return order
        }
        let deadline = limit.map { Clock.monotonicNanoseconds() + UInt64(max(0, Self.nanoseconds($0))) }
        var attempts: [(node: Int, health: Health, error: any Error)] = []
        for index in order {
            var p = profile
            if let deadline {
                let now = Clock.monotonicNanoseconds()
                if now >= deadline && !attempts.isEmpty { break }
                p.connectTimeout = min(p.connectTimeout, .nanoseconds(Int64(deadline > now ? deadline - now : 0)))
            }
            let host = dsn.hosts[index]
            var opened: MariaDBConnection?
            do {
                let node = dsn.node(host)
                let c = try Connections.connect(node, profile: p)
                opened = c
                let (health, galera) = Self.inspect(c)
                record(index, health)
                guard health == .ready else {
                    c.close()
                    attempts.append((index, health, NoWritableNode(attempts: [(host.description, health)])))
                    continue
                }
                try Connections.migrateOnce(c, node: node, identity: dsn.databaseIdentity, profile: p, interrupter: interrupter)
                state.withLock { $0.galera = galera }
                chose(index, after: attempts)
                return c
            } catch {
                opened?.close()
                let health = Self.health(after: error)
                record(index, health)
                attempts.append((index, health, error))
            }
        }
        let notReady = attempts.contains { if case .notReady = $0.health { true } else { false } }
        if attempts.count == 1 && !notReady {
            // A single server: its own error, as before there were clusters.
            throw attempts[0].error
        }
        if !notReady, let refusal = attempts.first(where: { if case .refused = $0.health { true } else { false } }) {
            // Every node that answered said no: the same no (users and schema are replicated).
            throw refusal.error
        }
        throw NoWritableNode(attempts: attempts.map { (dsn.hosts[$0.node].description, $0.health) })
    }

    /// The connection in use failed in a way that may be the node's (lost, no quorum): the
    /// node is shown with that error, the next `open` tries it last, and a move away from it
    /// is a failover for `reason` (the error as the writer logs it, with its step).
    public func nodeFailed(_ error: any Error, reason: String) {
        let health = Self.health(after: error)
        state.withLock { s in
            guard let node = s.current ?? s.previous else { return }
            s.failed = (node, reason)
            s.current = nil
            s.nodes[node].health = health
            s.nodes[node].checkedAtMs = Clock.wallMilliseconds()
        }
    }

    /// The connection was closed (after any error, or at the end).
    public func disconnected() {
        state.withLock { $0.current = nil }
    }

    /// `snapshot.galera` without copying the snapshot.
    public var isGalera: Bool { state.withLock { $0.galera == true } }

    public var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(hosts: dsn.hosts.map(\.description), current: s.current.map { dsn.hosts[$0].description },
                     failovers: s.failovers, lastFailover: s.lastFailover, nodes: s.nodes, galera: s.galera)
        }
    }

    private func record(_ index: Int, _ health: Health) {
        state.withLock { s in
            s.nodes[index].health = health
            s.nodes[index].checkedAtMs = Clock.wallMilliseconds()
        }
    }

    /// Notes the node taken; a node other than the last one used is a failover.
    private func chose(_ index: Int, after attempts: [(node: Int, health: Health, error: any Error)]) {
        let moved: Failover? = state.withLock { s in
            defer {
                s.current = index
                s.previous = index
                s.failed = nil
            }
            guard let previous = s.previous, previous != index else { return nil }
            let said = attempts.first { $0.node == previous }.map { "\($0.health.state): \($0.health.detail ?? "")" }
            let reason = s.failed?.reason ?? said ?? "the connection was closed"
            let f = Failover(atMs: Clock.wallMilliseconds(), from: dsn.hosts[previous].description,
                             to: dsn.hosts[index].description, reason: reason)
            s.failovers += 1
            s.lastFailover = f
            return f
        }
        if let f = moved {
            logger?.warning("database failover: writing through another node", metadata: [
                "store.node": "\(f.to)", "store.previous_node": "\(f.from)", "store.failover_reason": "\(f.reason)",
            ])
        }
    }

    /// What a failed connect (or migration) says about the node.
    static func health(after error: any Error) -> Health {
        guard let e = error as? MariaDBError else { return .refused("\(error)") }
        if e.isConnectionLost { return .unreachable("\(e)") }
        // 1047 (no quorum), too many connections, a lock: the node may take writes soon.
        if e.isRetryable { return .notReady("\(e)") }
        return .refused("\(e)")
    }

    private static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }

    /// Asks a freshly opened connection whether its node takes writes, and whether it is a
    /// Galera node (the same status answers both: the writer needs to know, see
    /// `BatchTransaction.onGalera`). A server without Galera reports `wsrep_%` too (all
    /// OFF, no provider): it is ready when it answers.
    static func inspect(_ c: MariaDBConnection) -> (health: Health, galera: Bool) {
        let rows: [[String?]]
        do {
            rows = try c.query("SHOW STATUS LIKE 'wsrep_%'")
        } catch let e as MariaDBError where e.isConnectionLost {
            return (.unreachable("\(e)"), false)
        } catch {
            return (.notReady("SHOW STATUS LIKE 'wsrep_%' failed: \(error)"), false)
        }
        var status: [String: String] = [:]
        for row in rows where row.count >= 2 {
            if let k = row[0] { status[k.lowercased()] = row[1] ?? "" }
        }
        guard let provider = status["wsrep_provider_name"], !provider.isEmpty else { return (.ready, false) }
        let ready = status["wsrep_ready"] ?? "", state = status["wsrep_local_state_comment"] ?? ""
        if ready.uppercased() == "ON" && state == "Synced" { return (.ready, true) }
        let cluster = status["wsrep_cluster_status"] ?? "?", size = status["wsrep_cluster_size"] ?? "?"
        return (.notReady("wsrep_ready \(ready), state \(state), cluster \(cluster) of \(size) node(s)"), true)
    }
}

/// No node of the DSN takes writes now: each was unreachable, refused, or not ready. Worth
/// retrying (a node rejoins, quorum comes back); the spool holds the readings meanwhile.
public struct NoWritableNode: Error, Sendable, CustomStringConvertible {
    public var attempts: [(node: String, health: ClusterConnector.Health)]

    public var description: String {
        let each = attempts.map { "\($0.node) \($0.health.state.replacingOccurrences(of: "_", with: " ")): \($0.health.detail ?? "")" }
        return attempts.count == 1
            ? "database node \(each[0]) (it does not take writes now)"
            : "no database node takes writes now: " + each.joined(separator: "; ")
    }
}

import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkStore

extension StatusSnapshot {
    /// `store.cluster`: where the writer writes when the DSN names several nodes, and how
    /// often it had to move. Each node shows what it said the last time it was tried (at a
    /// connect: nodes are not polled in between).
    public struct Cluster: Codable, Sendable, Equatable {
        public struct Node: Codable, Sendable, Equatable {
            public var host: String
            /// `ready`, `not_ready`, `unreachable` or `refused`; null: not tried yet.
            @ExplicitNull public var state: String?
            /// Why it was not taken (its wsrep state, or the error); null when ready or untried.
            @ExplicitNull public var detail: String?
            @ExplicitNull public var checked_at: String?
        }

        /// 1-based position of `store.node` among the DSN's hosts; null while not connected.
        @ExplicitNull public var node_position: Int?
        /// Moves of the writer from one node to another since start.
        public var failovers: Int
        @ExplicitNull public var last_failover_at: String?
        @ExplicitNull public var last_failover_from: String?
        @ExplicitNull public var last_failover_to: String?
        /// Why the old node was left: the writer's error on it, or what it answered.
        @ExplicitNull public var last_failover_reason: String?
        /// In the DSN's order.
        public var nodes: [Node]

        /// What `connector` knows now; nil for a single server (nothing to fail over to).
        public init?(_ connector: ClusterConnector) {
            guard connector.dsn.isCluster else { return nil }
            let s = connector.snapshot
            node_position = s.currentPosition
            failovers = s.failovers
            last_failover_at = s.lastFailover.flatMap { Timestamps.iso(ms: $0.atMs) }
            last_failover_from = s.lastFailover?.from
            last_failover_to = s.lastFailover?.to
            last_failover_reason = s.lastFailover?.reason
            nodes = s.nodes.map { n in
                Node(host: n.host, state: n.health?.state, detail: n.health?.detail,
                     checked_at: n.checkedAtMs > 0 ? Timestamps.iso(ms: n.checkedAtMs) : nil)
            }
        }
    }
}

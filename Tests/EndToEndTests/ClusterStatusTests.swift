import Foundation
import ParkLinkDaemon
import ParkLinkStore
import ParkLinkSystem
import Testing

/// `store.node` and `store.cluster` in `status`: every key there, `null` where nothing is
/// known, and the text view's lines. (The failovers themselves are in the Galera test.)
@Suite("Status: the writer's node and the cluster")
struct ClusterStatusTests {
    static func json(_ value: some Encodable) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any])
    }

    @Test("one server: no cluster section; several hosts: every key, null until the node is tried")
    func keys() throws {
        MariaDB.initializeLibrary()
        #expect(StatusSnapshot.Cluster(ClusterConnector(dsn: try DSN.parse("mysql://u@h1/db", environment: [:]))) == nil)

        // Two hosts nobody listens on: neither is tried yet, then both are, and refuse.
        let ports = try (0..<2).map { _ in try PrivateMariaDBServer.freeLoopbackPort() }
        let connector = ClusterConnector(dsn: try DSN.parse("mysql://u@127.0.0.1:\(ports[0]),127.0.0.1:\(ports[1])/db", environment: [:]))
        let untried = try #require(StatusSnapshot.Cluster(connector))
        let top = try Self.json(untried)
        #expect(Set(top.keys) == ["node_position", "failovers", "last_failover_at", "last_failover_from", "last_failover_to",
                                  "last_failover_reason", "nodes"])
        for key in ["node_position", "last_failover_at", "last_failover_from", "last_failover_to", "last_failover_reason"] {
            #expect(top[key] is NSNull, "\(key) is present and null")
        }
        #expect(top["failovers"] as? Int == 0)
        let nodes = try #require(top["nodes"] as? [[String: Any]])
        #expect(nodes.map { $0["host"] as? String } == ["127.0.0.1:\(ports[0])", "127.0.0.1:\(ports[1])"])
        for n in nodes {
            #expect(Set(n.keys) == ["host", "state", "detail", "checked_at"])
            #expect(n["state"] is NSNull && n["detail"] is NSNull && n["checked_at"] is NSNull, "not tried yet")
        }

        #expect(throws: NoWritableNode.self) { try connector.open(profile: .interactive) }
        let tried = try #require(StatusSnapshot.Cluster(connector))
        #expect(tried.nodes.map(\.state) == ["unreachable", "unreachable"])
        #expect(tried.nodes.allSatisfy { $0.detail?.contains("Can't connect") == true && $0.checked_at != nil })
        #expect(tried.node_position == nil && tried.failovers == 0)
    }

    @Test("the text view: the node, its position, the failovers and a line per node")
    func text() throws {
        let ports = try (0..<2).map { _ in try PrivateMariaDBServer.freeLoopbackPort() }
        let connector = ClusterConnector(dsn: try DSN.parse("mysql://u@127.0.0.1:\(ports[0]),127.0.0.1:\(ports[1])/db", environment: [:]))
        _ = try? connector.open(profile: .interactive)
        let lines = StatusReport.renderCluster(try #require(StatusSnapshot.Cluster(connector)), node: nil)
        #expect(lines.first?.contains("node none, failovers 0") == true, "\(lines)")
        #expect(lines.filter { $0.contains("127.0.0.1:\(ports[0]) unreachable: ") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("127.0.0.1:\(ports[1]) unreachable: ") }.count == 1, "\(lines)")
    }
}

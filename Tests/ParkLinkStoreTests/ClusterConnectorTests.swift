import Foundation
import ParkLinkProtocol
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

@testable import ParkLinkStore

/// A DSN with several hosts, against real servers: two plain MariaDB servers on loopback
/// ports stand for two nodes (the Galera cluster itself is in the end-to-end tests), and a
/// port nobody listens on stands for a node that is down.
@Suite("Several hosts: the first that takes writes, failover", .serialized, .timeLimit(.minutes(5)))
struct ClusterConnectorTests {
    static let user = "pl", password = "pl-pw"

    /// A plain server on a loopback port with a TCP user and the `parklink` database.
    final class Server {
        let server: PrivateMariaDBServer
        let port: UInt16
        var address: String { "127.0.0.1:\(port)" }

        init() throws {
            MariaDB.initializeLibrary()
            let options = PrivateMariaDBServer.Options(port: 0, bufferPoolSize: "32M", logFileSize: "32M",
                                                       stopWhenProcessExits: getpid(), removeStateDirectoryWithOwner: true)
            server = try PrivateMariaDBServer.temporary(options: options)
            let admin = try MariaDBConnection(dsn: try server.start())
            defer { admin.close() }
            try admin.execute("CREATE USER IF NOT EXISTS '\(ClusterConnectorTests.user)'@'127.0.0.1' IDENTIFIED BY '\(ClusterConnectorTests.password)'")
            try admin.execute("GRANT ALL ON *.* TO '\(ClusterConnectorTests.user)'@'127.0.0.1'")
            // Two servers are two databases, where a cluster's nodes share one: each gets
            // its schema here (the connector migrates once per DSN, as for a cluster).
            _ = try Schema.migrate(admin)
            port = try #require(server.port)
        }

        deinit { try? server.destroy() }

        /// The writer's connections here (to cut one as a failing node would).
        func killClients() throws {
            let admin = try MariaDBConnection(dsn: server.dsn.withDatabase(nil))
            defer { admin.close() }
            for row in try admin.query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '\(ClusterConnectorTests.user)'") {
                if let id = row[0] { _ = try? admin.execute("KILL CONNECTION \(id)") }
            }
        }
    }

    static func dsn(_ addresses: [String], password: String = password) throws -> DSN {
        try DSN.parse("mysql://\(user):\(password)@\(addresses.joined(separator: ","))/parklink", environment: [:])
    }

    static func downAddress() throws -> String { "127.0.0.1:\(try PrivateMariaDBServer.freeLoopbackPort())" }

    static func port(of c: MariaDBConnection) throws -> String? { try c.queryValue("SELECT @@port") }

    @Test("the first host down: the connection goes to the next, the first is shown unreachable, no failover counted")
    func firstHostDown() throws {
        let a = try Server()
        let down = try Self.downAddress()
        let connector = ClusterConnector(dsn: try Self.dsn([down, a.address]))
        let c = try connector.open(profile: .interactive)
        defer { c.close() }
        #expect(try Self.port(of: c) == String(a.port))
        let s = connector.snapshot
        #expect(s.current == a.address)
        #expect(s.currentPosition == 2)
        #expect(s.nodes.map(\.health?.state) == ["unreachable", "ready"])
        #expect(s.nodes[0].health?.detail?.contains("Can't connect") == true, "\(String(describing: s.nodes[0].health))")
        #expect(s.failovers == 0, "a first connection is not a failover")
        // A plain server reports wsrep_% too (no provider): it is ready when it answers.
        let node = ClusterConnector.inspect(c)
        #expect(node.health == .ready && !node.galera)
    }

    @Test("the writer's node fails: the batch is written through the next node; that node failing, back to the first")
    func writerFailsOverAndBack() throws {
        let a = try Server(), b = try Server()
        let key = SessionKey(gatewayId: "GW-CLUSTER", bootId: 7)
        let t = BatchTransaction(dsn: try Self.dsn([a.address, b.address]), method: .arrayBinding, maxRows: 100,
                                 sessions: TestSessions([key]), zoneOf: { _ in nil })
        let rows = sampleRows(count: 50)
        try t.connect()
        #expect(t.connector.snapshot.current == a.address)
        #expect(try rows.withUnsafeBufferPointer { try t.write($0, events: []) } == 50)

        // Node a cuts the writer off (as a node that dies or leaves does): the write fails,
        // it means "reconnect", and the reconnect takes b, even though a answers again.
        try a.killClients()
        let more = sampleRows(count: 50, firstSeq: 50)
        let error = #expect(throws: BatchTransaction.StepError.self) { try more.withUnsafeBufferPointer { try t.write($0, events: []) } }
        #expect(error.map { BatchTransaction.classify($0) } == .connectionLost)
        t.disconnect()
        #expect(t.connector.snapshot.current == nil, "not connected: no node")
        try t.connect()
        var s = t.connector.snapshot
        #expect(s.current == b.address, "the node that failed is tried last")
        #expect(s.failovers == 1)
        #expect(s.lastFailover?.from == a.address && s.lastFailover?.to == b.address)
        #expect(s.lastFailover?.reason.contains("MariaDB error") == true, "\(String(describing: s.lastFailover))")
        #expect(try more.withUnsafeBufferPointer { try t.write($0, events: []) } == 50)

        // b goes down for good: the writer comes back to a.
        try b.server.killServer()
        let last = sampleRows(count: 50, firstSeq: 100)
        #expect(throws: BatchTransaction.StepError.self) { try last.withUnsafeBufferPointer { try t.write($0, events: []) } }
        t.disconnect()
        try t.connect()
        s = t.connector.snapshot
        #expect(s.current == a.address)
        #expect(s.failovers == 2)
        #expect(s.lastFailover?.from == b.address && s.lastFailover?.to == a.address)
        #expect(try last.withUnsafeBufferPointer { try t.write($0, events: []) } == 50)
        let onA = try MariaDBConnection(dsn: a.server.dsn)
        defer { onA.close() }
        #expect(try onA.queryValue("SELECT COUNT(*) FROM readings") == "100", "seqs 0–49 and 100–149 went to a, 50–99 to b")
    }

    @Test("no host answers: an error naming each node, which the writer retries (never a refusal)")
    func noHostAnswers() throws {
        let down1 = try Self.downAddress(), down2 = try Self.downAddress()
        let dsn = try Self.dsn([down1, down2])
        let error = #expect(throws: NoWritableNode.self) { try Connections.open(dsn, profile: .interactive) }
        let text = error?.description ?? ""
        #expect(text.contains("no database node takes writes now"))
        #expect(text.contains("\(down1) unreachable") && text.contains("\(down2) unreachable"), "\(text)")
        if let error { #expect(BatchTransaction.classify(error) == .connectionLost) }
    }

    @Test("a single host keeps its own error, as before there were clusters")
    func singleHostError() throws {
        let dsn = try Self.dsn([try Self.downAddress()])
        let error = #expect(throws: MariaDBError.self) { try Connections.open(dsn, profile: .interactive) }
        #expect(error?.isConnectionLost == true)
    }

    @Test("a wrong password on every node is the server's refusal (permanent), not a node to fail over from")
    func refusedEverywhere() throws {
        let a = try Server()
        let dsn = try Self.dsn([try Self.downAddress(), a.address], password: "wrong")
        let error = #expect(throws: MariaDBError.self) { try Connections.open(dsn, profile: .interactive) }
        #expect(error?.code == .accessDenied)
        if let error { #expect(BatchTransaction.classify(error) == .permanent) }
    }

    @Test("quorum lost (1047) and a statement cut by it (1180) mean another node, not the same batch on the same one")
    func noQuorumMeansAnotherNode() {
        for code in [MariaDBError.Code.unknownCommand, .errorDuringCommit] {
            let e = BatchTransaction.StepError(step: "insert readings", underlying: MariaDBError(code: code, message: "WSREP", operation: .execute))
            #expect(BatchTransaction.classify(e) == .connectionLost, "\(code)")
        }
        let conflict = MariaDBError(code: .deadlock, sqlState: "40001", message: "Deadlock", operation: .transaction)
        #expect(BatchTransaction.classify(BatchTransaction.StepError(step: "commit", underlying: conflict)) == .transient,
                "a certification conflict at commit: the same batch again")
    }
}

import Foundation
import ParkLinkDaemon
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// Many appliances, one cluster: two `parklink run` processes, each with an independent
/// gateway, writing into a three-node MariaDB Galera cluster on loopback while nodes die.
///
/// `swift test` runs the short version (CI); `scripts/galera-test` runs the full one
/// (`PARKLINK_GALERA_FULL=1`: more readings, longer phases). Skipped, with the reason, where
/// `galera-4` is not installed.
@Suite("End to end: two appliances on a three-node Galera cluster", .serialized, .timeLimit(.minutes(30)),
       .galeraAvailable)
struct GaleraClusterTests {
    /// How long and how fast: the phases of the run, in seconds from the first committed reading.
    struct Scale: CustomStringConvertible {
        var name: String
        /// Readings a second from each gateway.
        var rate: Int
        /// How long each gateway sends.
        var seconds: Int
        /// When node 1 (appliance A's) is killed, and for how long it stays down.
        var killAt: Double
        var downSeconds: Double
        /// How long nodes 1 and 2 stay down together (node 3 without quorum).
        var noQuorumSeconds: Double

        static let short = Scale(name: "short", rate: 500, seconds: 110, killAt: 8, downSeconds: 5, noQuorumSeconds: 30)
        static let full = Scale(name: "full", rate: 4_000, seconds: 240, killAt: 30, downSeconds: 20, noQuorumSeconds: 30)
        static var current: Scale { ProcessInfo.processInfo.environment["PARKLINK_GALERA_FULL"] == "1" ? full : short }

        var description: String {
            "\(name): 2 gateways × \(rate) readings/s for \(seconds) s; node 1 killed at \(Int(killAt)) s for \(Int(downSeconds)) s; nodes 1+2 down \(Int(noQuorumSeconds)) s"
        }
    }

    /// One appliance: its gateway (the independent Python one) and `parklink run` on it.
    final class Appliance {
        let name: String
        let gateway: IndependentGateway
        let run: ChildProcess
        let socket: String
        let metricsPort: UInt16

        init(name: String, cluster: GaleraCluster, order: [Int], scale: Scale, seed: Int) throws {
            self.name = name
            gateway = try IndependentGateway(arguments: [
                "--framing", "binary", "--rate", "\(scale.rate)", "--duration", "\(scale.seconds)", "--sensors", "200",
                "--gateway-id", "GW-\(name)", "--seed", "\(seed)", "--drain-timeout", "120",
            ])
            let state = Repository.temporaryDirectory("plgal\(name)")
            socket = StateDirectory(path: state).statusSocket
            metricsPort = try MetricsEndpointTests.freePort()
            var environment = ProcessInfo.processInfo.environment
            environment[DSN.passwordEnvironmentVariable] = cluster.password
            run = try ChildProcess(Repository.parklinkExecutable, [
                "run", "--device", gateway.devicePath, "--framing", "binary", "--db", cluster.dsnText(order: order),
                "--state-dir", state, "--log-level", "warning", "--metrics-listen", "127.0.0.1:\(metricsPort)",
            ], environment: environment.map { "\($0.key)=\($0.value)" }, standardError: .inherit)
        }

        func status() -> StatusSnapshot? { try? StatusClient.status(socket: socket, timeoutMs: 3_000) }
    }

    /// What the run saw, for the report and the checks at the end.
    struct Watch {
        var spoolPeak: [String: Int] = [:]
        var sawNotReady = false
        var sawBothDown = false
    }

    @Test("a node killed and caught up by IST, then two nodes down (no quorum): every reading stored exactly once, none lost")
    func failoverAndQuorumLoss() throws {
        let scale = Scale.current
        print("galera: \(scale)")
        MariaDB.initializeLibrary()
        let cluster = try GaleraCluster()
        defer { cluster.destroy() }
        let started = Date()
        try cluster.start()
        print("galera: three nodes Synced in \(Self.seconds(since: started)) s")
        let node = cluster.nodes.map(\.address)
        // `run --check` names the node `run` would write through.
        let checked = try Self.checkLine(cluster, order: [1, 2, 3])
        let shown = cluster.dsnText().replacingOccurrences(of: "://\(cluster.user)@", with: "://\(cluster.user):***@")
        #expect(checked.hasPrefix("ok   database \(shown) through node \(node[0]) ("), "\(checked)")

        // A writes through node 1 first, B through node 2: the nodes in different orders.
        let a = try Appliance(name: "A", cluster: cluster, order: [1, 2, 3], scale: scale, seed: 11)
        let b = try Appliance(name: "B", cluster: cluster, order: [2, 3, 1], scale: scale, seed: 12)
        defer {
            for x in [a, b] where x.run.poll() == nil { x.run.signal(SIGKILL) }
        }
        var watch = Watch()
        func look() {
            for x in [a, b] {
                guard let s = x.status() else { continue }
                watch.spoolPeak[x.name] = max(watch.spoolPeak[x.name] ?? 0, s.spool?.readings ?? 0)
                if s.store.cluster?.nodes.contains(where: { $0.state == "not_ready" }) == true { watch.sawNotReady = true }
            }
        }
        func wait(_ seconds: Double) {
            let until = Date().addingTimeInterval(seconds)
            while Date() < until {
                look()
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        let flowing = eventually(timeoutSeconds: 90) {
            [a, b].allSatisfy { ($0.status()?.store.rows_committed ?? 0) > 0 }
        }
        try #require(flowing, "both appliances commit readings; the cluster:\n\(cluster.diagnosis())")
        #expect(a.status()?.store.node == node[0] && b.status()?.store.node == node[1], "each on the first node of its list")
        // Configured with array binding (the default); on a Galera node the writer sends text.
        let methods = [a, b].map { $0.status()?.store.method }
        #expect(methods == ["multi-row", "multi-row"])
        let t0 = Date()

        // Phase 1: node 1 dies under appliance A, which moves on; node 1 comes back by IST.
        wait(scale.killAt)
        cluster.kill(1)
        let killed = Date()
        let movedOn = eventually(timeoutSeconds: 60) {
            guard let s = a.status(), let c = s.store.cluster else { return false }
            return s.store.node != nil && s.store.node != node[0] && c.failovers >= 1
        }
        #expect(movedOn, "A fails over from node 1")
        let failoverSeconds = Self.seconds(since: killed)
        // Counted after the move: what is added now went through the new node.
        let committedOnMove = a.status()?.store.rows_committed ?? 0
        let resumed = eventually(timeoutSeconds: 60) { (a.status()?.store.rows_committed ?? 0) > committedOnMove }
        #expect(resumed, "A commits through its new node; the cluster:\n\(cluster.diagnosis())")
        let resumeSeconds = Self.seconds(since: killed)
        let afterFirst = a.status()?.store.cluster
        #expect(afterFirst?.last_failover_from == node[0])
        #expect(afterFirst?.last_failover_reason?.isEmpty == false)
        #expect(afterFirst?.nodes.first?.state == "unreachable", "\(String(describing: afterFirst?.nodes.first))")
        wait(max(0, scale.downSeconds - Date().timeIntervalSince(killed)))
        let restarted = Date()
        let transfer1 = try cluster.restart([1])
        #expect(transfer1[1] == .incremental, "node 1 caught up by IST, not a full copy: \(cluster.tail(1, lines: 8))")
        let istSeconds = Self.seconds(since: restarted)

        // Phase 2: nodes 1 and 2 die together; node 3 alone has no quorum and refuses
        // writes (1047). Nothing is committed anywhere; the spools take the readings.
        cluster.kill(1)
        cluster.kill(2)
        let quorumLost = Date()
        while Date().timeIntervalSince(quorumLost) < scale.noQuorumSeconds {
            look()
            if [a, b].allSatisfy({ $0.status()?.store.connected == false }) { watch.sawBothDown = true }
            Thread.sleep(forTimeInterval: 0.25)
        }
        #expect(watch.sawBothDown, "no appliance can write while the cluster has no quorum")
        let refused = try Self.checkLine(cluster, order: [1, 2, 3])
        #expect(refused.hasPrefix("FAIL database ") && refused.contains("no database node takes writes now")
                    && refused.contains("\(node[2]) not ready: wsrep_ready OFF"), "\(refused)")
        #expect(watch.sawNotReady, "node 3 answered and was seen not ready (no quorum)")
        #expect((watch.spoolPeak["A"] ?? 0) > 0 && (watch.spoolPeak["B"] ?? 0) > 0, "the spools took the readings: \(watch.spoolPeak)")
        let stillSending = [a, b].allSatisfy { $0.gateway.process.poll() == nil }
        #expect(stillSending, "the gateways were still sending when quorum came back (else the scale is too short for this machine)")
        let back = Date()
        let transfer2 = try cluster.restart([1, 2])
        #expect(transfer2.values.allSatisfy { $0 != .full }, "no full copy after the quorum loss: \(transfer2)")
        let quorumBackSeconds = Self.seconds(since: back)
        // The spools drain while the gateways go on sending.
        let caughtUp = eventually(timeoutSeconds: 120) {
            look()
            return [a, b].allSatisfy { ($0.status()?.spool?.readings ?? 1) == 0 && $0.status()?.store.connected == true }
        }
        #expect(caughtUp, "the spools drain once quorum is back")
        let spoolDrainSeconds = Self.seconds(since: back)

        // The end: every reading the gateways sent is stored, once, and the same on every node.
        let manifests = try [a, b].map { try $0.gateway.finish(timeoutSeconds: Double(scale.seconds) + 300) }
        let drainStart = Date()
        let drained = eventually(timeoutSeconds: 240) {
            zip([a, b], manifests).allSatisfy { x, m in
                guard let s = x.status() else { return false }
                return s.store.rows_committed + s.store.rows_duplicate >= m.readings.count && (s.spool?.readings ?? 0) == 0
                    && s.accounting.in_flight == 0
            }
        }
        #expect(drained, "both appliances drained their spools")
        let drainSeconds = Self.seconds(since: drainStart)
        let finalA = a.status(), finalB = b.status()
        let scrape = MetricsEndpointTests.samples(try MetricsEndpointTests.get("/metrics", port: a.metricsPort))
        for x in [a, b] { x.run.signal(SIGTERM) }
        for x in [a, b] { #expect(x.run.wait(timeoutSeconds: 120) == 0, "appliance \(x.name) drained and exited 0") }

        let dsn = try cluster.dsnWithPassword(order: [3, 1, 2])
        let stored = try storedReadings(dsn)
        var total = 0
        for (x, m) in zip([a, b], manifests) {
            let mine = stored.filter { $0.gateway_id == "GW-\(x.name)" }
            #expect(mine.count == m.readings.count, "\(x.name): stored \(mine.count) of \(m.readings.count)")
            #expect(Set(mine.map(\.sortKey)).count == mine.count, "\(x.name): each reading once")
            #expect(mine == m.readings.sorted { $0.sortKey < $1.sortKey }, "\(x.name): exactly what the gateway sent")
            total += m.readings.count
        }
        #expect(stored.count == total, "nothing stored that no gateway sent")
        #expect(try query(dsn, "SELECT COUNT(*) FROM link_gaps").first?.first == "0", "no reading missing on any link")
        for n in 1...3 {
            let onNode = try query(cluster.adminDSN(n).withDatabase(cluster.database), "SELECT COUNT(*) FROM readings")
            #expect(onNode.first?.first == String(total), "node \(n) holds every reading")
        }
        // Status and metrics show the node and the failovers.
        #expect((finalA?.store.cluster?.failovers ?? 0) >= 2, "A moved at least twice (node 1, then node 2)")
        #expect((finalB?.store.cluster?.failovers ?? 0) >= 1, "B moved off node 2")
        #expect(finalA?.store.node != nil && finalA?.store.cluster?.node_position != nil)
        #expect((scrape["parklink_store_failovers_total"] ?? 0) >= 2, "\(scrape.filter { $0.key.hasPrefix("parklink_store") })")
        #expect((1...3).contains(Int(scrape["parklink_store_node"] ?? 0)))
        #expect(scrape["parklink_store_nodes"] == 3)

        print("""
            galera (\(scale.name)): \(total) readings from 2 gateways stored exactly once, none lost; \
            A failed over \(finalA?.store.cluster?.failovers ?? 0)×, B \(finalB?.store.cluster?.failovers ?? 0)×; \
            node 1 killed at \(Self.seconds(since: t0, to: killed)) s: A on node \
            \(afterFirst?.node_position.map(String.init) ?? "?") \(failoverSeconds) s later, committing again after \(resumeSeconds) s; node 1 back by IST in \(istSeconds) s; no quorum \(Int(scale.noQuorumSeconds)) s \
            (spool peak A \(watch.spoolPeak["A"] ?? 0), B \(watch.spoolPeak["B"] ?? 0)); quorum back in \(quorumBackSeconds) s, \
            spools empty \(spoolDrainSeconds) s after the restart began; all committed \(drainSeconds) s after the gateways stopped
            """)
    }

    @Test("a conflict with a write on another node (1213) is transient: the same batch written again is stored once")
    func certificationConflict() throws {
        MariaDB.initializeLibrary()
        let cluster = try GaleraCluster(nodeCount: 2)
        defer { cluster.destroy() }
        try cluster.start()
        let key = SessionKey(gatewayId: "GW-CERT", bootId: 1)
        let rows = (0..<10).map { i in
            StampedReading(session: 0, receivedAtMs: 1_764_000_000_000 + Int64(i), reading: Reading(
                seq: UInt32(i), sensor: 1, gatewayMs: UInt32(i), occupied: false, distanceCm: nil, voltageDv: nil,
                currentMa: nil, powerFactorPct: nil))
        }
        let onNode1 = try cluster.dsnWithPassword(order: [1]), onNode2 = try cluster.dsnWithPassword(order: [2])
        try Connections.open(onNode1, profile: .interactive).close()  // the schema, once

        // Node 1: another transaction holds the session's row, so the writer's transaction
        // (its readings inserted, not committed) waits there, in the middle of the batch.
        let holder = try MariaDBConnection(dsn: onNode1)
        defer { holder.close() }
        try holder.begin()
        try holder.execute("INSERT INTO gateway_sessions (gateway_id, boot_id, first_seen_at, synthetic) VALUES ('GW-CERT', 1, NOW(3), 1)")
        let outcome = Locked<Result<Int, any Error>?>(nil)
        let writer = NamedThread(name: "pl-test-writer") {
            let t = BatchTransaction(dsn: onNode1, method: .arrayBinding, maxRows: 100, sessions: OneSession(key: key),
                                     zoneOf: { _ in nil })
            let result = Result<Int, any Error> {
                try t.connect()
                return try rows.withUnsafeBufferPointer { try t.write($0, events: [.session(key, hello: nil, atMs: 0)]) }
            }
            outcome.withLock { $0 = result }
        }
        let waiting = eventually(timeoutSeconds: 30) {
            (try? query(cluster.adminDSN(1), """
                SELECT COUNT(*) FROM information_schema.PROCESSLIST
                WHERE USER = '\(cluster.user)' AND INFO LIKE 'INSERT INTO gateway_sessions%' AND TIME_MS > 500
                """))?.first?.first == "1"
        }
        try #require(waiting, "the writer's transaction waits on node 1: \(String(describing: outcome.withLock { $0 }))")
        // Node 2 commits one of the same readings first: replicated to node 1, it wins, and
        // the writer's transaction is aborted with 1213.
        let other = try MariaDBConnection(dsn: onNode2)
        try other.execute("""
            INSERT INTO readings (gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied)
            VALUES ('GW-CERT', 1, 5, 1, '2025-11-24 16:00:00.005', 5, 0)
            """)
        other.close()
        writer.join()
        try holder.rollback()
        let failure = try #require(outcome.withLock { $0 }.flatMap { if case .failure(let e) = $0 { e as? BatchTransaction.StepError } else { nil } },
                                   "the writer's batch was aborted: \(String(describing: outcome.withLock { $0 }))")
        #expect((failure.underlying as? MariaDBError)?.code == .deadlock, "\(failure)")
        #expect(BatchTransaction.classify(failure) == .transient, "the same batch again, on the same node")
        // Written again, the batch stores the nine readings node 2 did not, and nothing twice.
        let again = BatchTransaction(dsn: onNode1, method: .arrayBinding, maxRows: 100, sessions: OneSession(key: key),
                                     zoneOf: { _ in nil })
        try again.connect()
        #expect(try rows.withUnsafeBufferPointer { try again.write($0, events: [.session(key, hello: nil, atMs: 0)]) } == 9)
        again.disconnect()
        for n in 1...2 {
            let counts = try query(cluster.adminDSN(n).withDatabase(cluster.database),
                                   "SELECT COUNT(*), COUNT(DISTINCT seq) FROM readings WHERE gateway_id = 'GW-CERT'")
            #expect(counts.first == ["10", "10"], "node \(n)")
        }
    }

    /// The `database` line of `parklink run --check` with the cluster's DSN.
    static func checkLine(_ cluster: GaleraCluster, order: [Int]) throws -> String {
        let pty = try PseudoTerminal()
        var environment = ProcessInfo.processInfo.environment
        environment[DSN.passwordEnvironmentVariable] = cluster.password
        let p = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--check", "--device", pty.followerPath, "--db", cluster.dsnText(order: order),
            "--state-dir", Repository.temporaryDirectory("plgalchk"),
        ], environment: environment.map { "\($0.key)=\($0.value)" }, standardError: .merge)
        _ = p.wait(timeoutSeconds: 120)
        return p.output.split(separator: "\n").first { $0.contains(" database ") }.map(String.init) ?? p.output
    }

    static func seconds(since start: Date, to end: Date = Date()) -> String {
        String(format: "%.1f", end.timeIntervalSince(start))
    }
}

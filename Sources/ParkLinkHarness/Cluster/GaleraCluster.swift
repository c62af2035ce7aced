import Foundation
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

/// A MariaDB Galera cluster on loopback, for tests and benchmarks: Debian's `galera-4` and
/// `mariadb-server`, each node a `mariadbd` of its own in a fresh directory under /tmp,
/// set up as `../shared/PLATFORM-NOTES.md` found to work on these machines.
///
/// - Every node has its own SQL port, socket and datadir, and three cluster ports on
///   127.0.0.1 (group communication, incremental transfer, full transfer): the defaults
///   collide on one address.
/// - Each node reads its own `--defaults-file` (the state-transfer scripts read it too).
/// - As root, the nodes run as `mysql`: a root joiner's rsync transfer switches to `nobody`
///   and fails.
/// - The first node starts a new cluster; each other node joins once the one before is
///   Synced. A killed node comes back with an incremental transfer (IST): its position is
///   recovered first (`--wsrep-recover`) and given at start (`--wsrep-start-position`).
///   Nodes killed together keep their last view on disk (`gvwstate.dat`), so once they are
///   all back the cluster finds its majority again by itself.
///
/// A watchdog kills the nodes and removes the directory when the owning process ends, even
/// if it is killed. Used from one thread.
public final class GaleraCluster {
    public struct Node: Sendable {
        public let name: String
        public let directory: String
        public let sqlPort: UInt16
        let groupPort: UInt16
        let istPort: UInt16
        let sstPort: UInt16
        public var socket: String { directory + "/sock" }
        public var errorLog: String { directory + "/err.log" }
        var defaultsFile: String { directory + "/my.cnf" }
        var dataDirectory: String { directory + "/data" }
        var pidFile: String { directory + "/pid" }
        /// `host:port` as a DSN names it.
        public var address: String { "127.0.0.1:\(sqlPort)" }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    public static let providerLibrary = "/usr/lib/galera/libgalera_smm.so"

    /// Why a cluster cannot run on this machine, or nil when it can.
    public static var unavailableReason: String? {
        if access(providerLibrary, R_OK) != 0 { return "galera-4 is not installed (\(providerLibrary) is missing)" }
        for tool in ["mariadbd", "mariadb-install-db", "rsync"] where PrivateMariaDBServer.findBinary([tool]) == nil {
            return "\(tool) is not installed"
        }
        if Accounts.effectiveUserID == 0, (try? Accounts.user(named: "mysql")) == nil {
            return "there is no `mysql` account to run the nodes as (root's rsync transfers fail)"
        }
        return nil
    }

    public let directory: String
    public let nodes: [Node]
    /// The appliance's login over TCP: created once, replicated to every node.
    public let user = "parklink"
    public let password: String
    public let database = "parklink"
    private var pids: [Int: pid_t] = [:]
    private let runAs: UserAccount?

    /// Writes each node's configuration and datadir; starts nothing (see `start`).
    public init(nodeCount: Int = 3) throws {
        if let reason = Self.unavailableReason { throw Failure(reason) }
        var template = Array("/tmp/plgalera-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Failure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        let dir = String(cString: made)
        directory = dir
        try FileSystem.setPermissions(dir, 0o755)
        password = "pw-\(UInt64.random(in: 0...UInt64.max))"
        runAs = Accounts.effectiveUserID == 0 ? try Accounts.user(named: "mysql") : nil
        var ports: [UInt16] = []
        while ports.count < nodeCount * 4 {
            let p = try PrivateMariaDBServer.freeLoopbackPort()
            if !ports.contains(p) { ports.append(p) }
        }
        nodes = (0..<nodeCount).map { i in
            Node(name: "n\(i + 1)", directory: dir + "/n\(i + 1)",
                 sqlPort: ports[i * 4], groupPort: ports[i * 4 + 1], istPort: ports[i * 4 + 2], sstPort: ports[i * 4 + 3])
        }
        try startWatchdog()
        for node in nodes { try prepare(node) }
    }

    deinit { destroy() }

    /// A DSN naming the nodes in `order` (1-based; default 1, 2, 3…), without the password
    /// (give it through `PARKLINK_DB_PASSWORD`, or `dsnWithPassword`).
    public func dsnText(order: [Int]? = nil) -> String {
        let list = (order ?? Array(1...nodes.count)).map { nodes[$0 - 1].address }
        return "mysql://\(user)@\(list.joined(separator: ","))/\(database)"
    }

    public func dsnWithPassword(order: [Int]? = nil) throws -> DSN {
        var dsn = try DSN.parse(dsnText(order: order), environment: [:])
        dsn.password = password
        return dsn
    }

    /// Root over node `n`'s socket, no database: for the harness's own questions.
    public func adminDSN(_ n: Int) -> DSN {
        DSN(user: "root", transport: .unixSocket(path: nodes[n - 1].socket), database: nil)
    }

    // MARK: Life cycle

    /// Starts a new cluster: node 1 first, then each other node once the one before is
    /// Synced; creates the appliance's user and database.
    public func start(timeoutSeconds: Double = 180) throws {
        try launch(1, extra: ["--wsrep-new-cluster"])
        try waitUntilSynced([1], timeoutSeconds: timeoutSeconds)
        let admin = try MariaDBConnection(dsn: adminDSN(1), connectTimeout: .seconds(5))
        defer { admin.close() }
        try admin.execute("CREATE USER IF NOT EXISTS '\(user)'@'127.0.0.1' IDENTIFIED BY '\(password)'")
        try admin.execute("GRANT ALL ON `\(database)`.* TO '\(user)'@'127.0.0.1'")
        try admin.execute("CREATE DATABASE IF NOT EXISTS `\(database)` CHARACTER SET utf8mb4")
        for n in 2...max(2, nodes.count) where n <= nodes.count {
            try launch(n)
            try waitUntilSynced([n], timeoutSeconds: timeoutSeconds)
        }
    }

    /// SIGKILL, as a crash or a power cut would stop the node; waits for the process to go.
    public func kill(_ n: Int) {
        guard let pid = pids.removeValue(forKey: n) else { return }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// How a node that came back caught up, per its log.
    public enum Transfer: Sendable, Equatable {
        /// The write-sets it missed, from a peer's cache (IST).
        case incremental
        /// Nothing was missed.
        case none
        /// A full copy of the datadir (SST): what the restart is meant to avoid.
        case full
    }

    /// Brings killed nodes back with an incremental transfer: recovers each one's position
    /// from its datadir, starts them all (nodes killed together need each other to form a
    /// majority again), and waits until each is Synced. Returns how each one caught up.
    @discardableResult
    public func restart(_ ns: [Int], timeoutSeconds: Double = 180) throws -> [Int: Transfer] {
        var logSizes: [Int: Int] = [:]
        for n in ns {
            let position = try recoverPosition(n)
            logSizes[n] = (try? Data(contentsOf: URL(fileURLWithPath: nodes[n - 1].errorLog)).count) ?? 0
            try launch(n, extra: ["--wsrep-start-position=\(position)"])
        }
        try waitUntilSynced(ns, timeoutSeconds: timeoutSeconds)
        var transfers: [Int: Transfer] = [:]
        for n in ns {
            let log = (try? Data(contentsOf: URL(fileURLWithPath: nodes[n - 1].errorLog))) ?? Data()
            let since = String(decoding: log.dropFirst(logSizes[n] ?? 0), as: UTF8.self)
            // A joiner logs "SST received" for an IST too (the state transfer it bypassed):
            // the transfer script says which one it did.
            transfers[n] = since.contains("SST completed on joiner") ? .full
                : since.contains("IST received") ? .incremental : Transfer.none
        }
        return transfers
    }

    /// Stops every node (SIGTERM, then SIGKILL after 60 s) and removes the directory.
    public func destroy() {
        for (n, pid) in pids {
            Glibc.kill(pid, SIGTERM)
            var waited = 0
            var status: Int32 = 0
            while waitpid(pid, &status, WNOHANG) == 0 && waited < 600 {
                usleep(100_000)
                waited += 1
            }
            if waited >= 600 { kill(n) }
        }
        pids.removeAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `SHOW STATUS LIKE 'wsrep_%'` of node `n`, or nil when it does not answer.
    public func status(_ n: Int) -> [String: String]? {
        guard let c = adminConnection(n) else { return nil }
        defer { c.close() }
        return Self.status(of: c)
    }

    private func adminConnection(_ n: Int) -> MariaDBConnection? {
        guard pids[n] != nil else { return nil }
        return try? MariaDBConnection(dsn: adminDSN(n), connectTimeout: .seconds(2), readTimeout: .seconds(5))
    }

    private static func status(of c: MariaDBConnection) -> [String: String]? {
        guard let rows = try? c.query("SHOW STATUS LIKE 'wsrep_%'") else { return nil }
        var s: [String: String] = [:]
        for row in rows where row.count >= 2 { if let k = row[0] { s[k] = row[1] ?? "" } }
        return s
    }

    /// What each node is doing, for a test that found the cluster stuck: its state, flow
    /// control and queues, the statements running longer than a second, its log's tail.
    public func diagnosis(logLines: Int = 15) -> String {
        (1...nodes.count).map { n in
            guard let c = adminConnection(n) else { return "node \(n): not answering\n\(tail(n, lines: logLines))" }
            defer { c.close() }
            guard let s = Self.status(of: c) else { return "node \(n): no status\n\(tail(n, lines: logLines))" }
            let keys = ["wsrep_local_state_comment", "wsrep_ready", "wsrep_cluster_size", "wsrep_flow_control_paused",
                        "wsrep_local_recv_queue", "wsrep_local_send_queue", "wsrep_last_committed"]
            var text = "node \(n): " + keys.map { "\($0.dropFirst(6))=\(s[$0] ?? "?")" }.joined(separator: " ")
            let rows = (try? c.query("""
                SELECT ID, USER, COMMAND, TIME_MS, STATE, LEFT(INFO, 120) FROM information_schema.PROCESSLIST
                WHERE COMMAND <> 'Sleep' AND TIME_MS > 1000 ORDER BY TIME_MS DESC LIMIT 10
                """)) ?? []
            for row in rows { text += "\n  " + row.map { $0 ?? "NULL" }.joined(separator: " | ") }
            return text + "\n" + tail(n, lines: logLines)
        }.joined(separator: "\n")
    }

    public func isSynced(_ n: Int) -> Bool {
        guard let s = status(n) else { return false }
        return s["wsrep_ready"] == "ON" && s["wsrep_local_state_comment"] == "Synced"
    }

    public func waitUntilSynced(_ ns: [Int], timeoutSeconds: Double) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        for n in ns {
            while !isSynced(n) {
                if let pid = pids[n] {
                    var status: Int32 = 0
                    if waitpid(pid, &status, WNOHANG) == pid {
                        pids[n] = nil
                        throw Failure("node \(n) exited while starting; its log (\(nodes[n - 1].errorLog)):\n\(tail(n))")
                    }
                }
                if Date() > deadline {
                    throw Failure("node \(n) not Synced within \(Int(timeoutSeconds)) s (status \(status(n) ?? [:])); its log:\n\(tail(n))")
                }
                usleep(200_000)
            }
        }
    }

    /// The last lines of node `n`'s error log.
    public func tail(_ n: Int, lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: nodes[n - 1].errorLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    // MARK: Private

    private func launch(_ n: Int, extra: [String] = []) throws {
        let node = nodes[n - 1]
        try? FileManager.default.removeItem(atPath: node.pidFile)
        let server = try mariadbd()
        do throws(SystemError) {
            pids[n] = try BackgroundProcess.spawn(server, ["--defaults-file=\(node.defaultsFile)"] + extra,
                                                  log: node.directory + "/stdout.log", detach: .processGroup)
        } catch {
            throw Failure("could not start node \(n): \(error)")
        }
    }

    private func mariadbd() throws -> String {
        guard let path = PrivateMariaDBServer.findBinary(["mariadbd", "mysqld"]) else { throw Failure("mariadbd is not installed") }
        return path
    }

    /// `mariadbd --wsrep-recover`: the node's last committed position, from its datadir.
    private func recoverPosition(_ n: Int) throws -> String {
        let node = nodes[n - 1]
        let log = node.directory + "/recover.log"
        try? FileManager.default.removeItem(atPath: log)
        let child = try ChildProcess(try mariadbd(), ["--defaults-file=\(node.defaultsFile)", "--wsrep-recover",
                                                      "--log-error=\(log)"], standardError: .merge)
        guard child.wait(timeoutSeconds: 120) == 0 else { throw Failure("node \(n): --wsrep-recover failed: \(child.output)") }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard let r = text.range(of: "Recovered position: ") else {
            throw Failure("node \(n): --wsrep-recover printed no position; \(log):\n\(text.suffix(2_000))")
        }
        let position = text[r.upperBound...].prefix { $0.isHexDigit || $0 == "-" || $0 == ":" }
        // The line may run into the next one's date: a seqno ends at the first non-digit.
        guard let colon = position.lastIndex(of: ":") else { throw Failure("node \(n): odd position '\(position)'") }
        let seqno = position[position.index(after: colon)...].prefix { $0.isNumber || $0 == "-" }
        return String(position[..<colon]) + ":" + seqno
    }

    private func prepare(_ node: Node) throws {
        try FileSystem.makeDirectory(node.directory, mode: 0o755)
        let cluster = nodes.map { "127.0.0.1:\($0.groupPort)" }.joined(separator: ",")
        var config = """
            [mysqld]
            datadir=\(node.dataDirectory)
            socket=\(node.socket)
            port=\(node.sqlPort)
            bind-address=127.0.0.1
            pid-file=\(node.pidFile)
            log-error=\(node.errorLog)
            character-set-server=utf8mb4
            collation-server=utf8mb4_general_ci
            default-time-zone=+00:00
            skip-name-resolve
            skip-log-bin
            max-allowed-packet=64M
            innodb-buffer-pool-size=128M
            innodb-log-file-size=128M
            innodb-flush-log-at-trx-commit=1
            binlog-format=ROW
            innodb-autoinc-lock-mode=2
            wsrep-on=ON
            wsrep-provider=\(Self.providerLibrary)
            wsrep-cluster-name=parklink-test
            wsrep-cluster-address=gcomm://\(cluster)
            wsrep-node-name=\(node.name)
            wsrep-node-address=127.0.0.1:\(node.groupPort)
            wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:\(node.groupPort);ist.recv_addr=127.0.0.1:\(node.istPort);gcache.size=256M"
            wsrep-sst-receive-address=127.0.0.1:\(node.sstPort)
            wsrep-sst-method=rsync

            """
        if let runAs { config = config.replacingOccurrences(of: "[mysqld]\n", with: "[mysqld]\nuser=\(runAs.name)\n") }
        try config.write(toFile: node.defaultsFile, atomically: true, encoding: .utf8)
        let install = try ChildProcess(
            PrivateMariaDBServer.findBinary(["mariadb-install-db"]) ?? "mariadb-install-db",
            ["--defaults-file=\(node.defaultsFile)", "--auth-root-authentication-method=normal", "--skip-test-db"]
                + (runAs.map { ["--user=\($0.name)"] } ?? []),
            standardError: .merge)
        guard install.wait(timeoutSeconds: 120) == 0 else {
            throw Failure("mariadb-install-db for \(node.name) failed: \(install.output.suffix(2_000))")
        }
        if let runAs {
            for path in [node.directory, node.dataDirectory] { try FileSystem.setOwner(path, runAs.uid, runAs.gid) }
            try FileSystem.setOwner(node.defaultsFile, runAs.uid, runAs.gid)
        }
    }

    /// A detached `sh` that waits for this process to end, then kills what is left of the
    /// cluster and removes its directory.
    private func startWatchdog() throws {
        let script = """
            owner=$1; dir=$2
            while kill -0 "$owner" 2>/dev/null; do sleep 1; done
            for f in "$dir"/n*/pid; do
              pid=$(cat "$f" 2>/dev/null)
              if [ -n "$pid" ] && tr '\\0' '\\n' < /proc/$pid/cmdline 2>/dev/null | grep -q -- "--defaults-file=$dir/"; then kill -KILL "$pid"; fi
            done
            sleep 1; rm -rf -- "$dir"
            """
        do throws(SystemError) {
            _ = try BackgroundProcess.spawn("/bin/sh", ["-c", script, "parklink-galera-watchdog", String(getpid()), directory],
                                            log: nil, detach: .session)
        } catch {
            throw Failure("could not start the cluster's watchdog: \(error)")
        }
    }
}

// The server's command line: what the appliance's private MariaDB is tuned for, and the
// loopback port a test or benchmark may ask for.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension PrivateMariaDBServer {
    public struct Options: Sendable {
        /// nil: `--skip-networking` (socket only). 0: a free loopback port is picked on the
        /// first start and kept for later starts of the same state directory. Otherwise that
        /// port on 127.0.0.1.
        public var port: UInt16?
        public var bufferPoolSize: String
        public var logFileSize: String
        /// `innodb_flush_log_at_trx_commit`: 1 (the default) is durable at every commit.
        public var flushLogAtTrxCommit: Int
        /// Appended to the server's command line (they win over the defaults above).
        public var extraServerArguments: [String]
        public var databaseName: String
        public var startTimeout: Duration
        public var stopTimeout: Duration
        /// When this process (pid) ends, a detached watchdog shuts the server down
        /// (and removes the state directory if `removeStateDirectoryWithOwner`). For tests.
        public var stopWhenProcessExits: Int32?
        public var removeStateDirectoryWithOwner: Bool

        public init(
            port: UInt16? = nil,
            bufferPoolSize: String = "256M",
            logFileSize: String = "256M",
            flushLogAtTrxCommit: Int = 1,
            extraServerArguments: [String] = [],
            databaseName: String = "parklink",
            startTimeout: Duration = .seconds(60),
            stopTimeout: Duration = .seconds(60),
            stopWhenProcessExits: Int32? = nil,
            removeStateDirectoryWithOwner: Bool = false
        ) {
            self.port = port
            self.bufferPoolSize = bufferPoolSize
            self.logFileSize = logFileSize
            self.flushLogAtTrxCommit = flushLogAtTrxCommit
            self.extraServerArguments = extraServerArguments
            self.databaseName = databaseName
            self.startTimeout = startTimeout
            self.stopTimeout = stopTimeout
            self.stopWhenProcessExits = stopWhenProcessExits
            self.removeStateDirectoryWithOwner = removeStateDirectoryWithOwner
        }
    }

    func serverArguments() throws -> [String] {
        var args = [
            "--no-defaults",
            "--datadir=\(dataDirectory)",
            "--socket=\(socketPath)",
            "--pid-file=\(pidFilePath)",
            "--log-error=\(logPath)",
            "--tmpdir=\(baseDirectory)/tmp",
            // Server-side file reads and writes (LOAD DATA INFILE, SELECT … INTO OUTFILE)
            // only in a directory of its own: a statement must never reach the appliance's
            // files. The appliance's own LOAD DATA is LOCAL (the client reads the file).
            "--secure-file-priv=\(baseDirectory)/files",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--default-time-zone=+00:00",
            "--skip-log-bin",
            "--local-infile=1",
            "--skip-name-resolve",
            "--max-allowed-packet=64M",
            "--innodb-buffer-pool-size=\(options.bufferPoolSize)",
            "--innodb-log-file-size=\(options.logFileSize)",
            "--innodb-log-buffer-size=32M",
            "--innodb-flush-log-at-trx-commit=\(options.flushLogAtTrxCommit)",
            "--innodb-file-per-table=1",
            // Off by default since MariaDB 10.5 (it can contend under many writers); with the
            // appliance's one writer it finds each insert's leaf page without descending the
            // B-tree: 43k → 27k server instructions per reading (callgrind), 1.4–2× the rows/s
            // (benchmarks/README.md, "Server options").
            "--innodb-adaptive-hash-index=ON",
        ]
        args += try userArguments()
        if let requested = options.port {
            // Port 0: pick a free port once and keep it across restarts (a client reconnecting
            // after a crash test must find the server where it was).
            let remembered = (try? String(contentsOfFile: portFilePath, encoding: .utf8))
                .flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            let port = requested != 0 ? requested : try (remembered ?? Self.freeLoopbackPort())
            args += ["--port=\(port)", "--bind-address=127.0.0.1"]
            state.withLock { $0.port = port }
            try "\(port)\n".write(toFile: portFilePath, atomically: true, encoding: .utf8)
        } else {
            args.append("--skip-networking")
            state.withLock { $0.port = nil }
            try? FileManager.default.removeItem(atPath: portFilePath)
        }
        return args + options.extraServerArguments
    }

    /// A loopback port that is free right now (bind to port 0, read it back, close).
    public static func freeLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PrivateMariaDBServerError.io("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw PrivateMariaDBServerError.io("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: addr.sin_port)
    }
}

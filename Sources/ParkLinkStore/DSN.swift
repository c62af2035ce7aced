import Foundation

/// Where and as whom to connect to MariaDB.
///
/// Written as a URL:
///
///     mysql://user:password@host:port/database        TCP (port defaults to 3306)
///     mysql://user@h1:3306,h2:3306,h3:3306/database   a cluster: several hosts, tried in order
///     mysql://user@localhost/database?socket=PATH     Unix socket
///
/// `mariadb://` is accepted as well. User, password, database and socket path are
/// percent-decoded. Without a `socket` option the connection is always TCP, even to
/// `localhost` (Connector/C would otherwise silently pick its default socket). The password
/// should not be in the URL (command lines are readable by every local user): it comes
/// first from a password file (`resolve(_:passwordFile:environment:)`, see `PasswordFile`),
/// then from the environment variable `PARKLINK_DB_PASSWORD`, and only then from the URL.
/// `description` masks it.
///
/// Several hosts name the nodes of one cluster (MariaDB Galera): the same user, password,
/// database and TLS options for every one of them. `Connections.open` picks the node (see
/// `ClusterConnector`); `MariaDBConnection` itself connects to the first.
public struct DSN: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public enum Transport: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: UInt16)
        case unixSocket(path: String)

        /// `host:port` (`[v6]:port`), or the socket's path: how logs and `status` name a node.
        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): path
            }
        }
    }

    public static let passwordEnvironmentVariable = "PARKLINK_DB_PASSWORD"
    public static let defaultPort: UInt16 = 3306

    public var user: String
    public var password: String?
    /// Every host, in the order the DSN names them (never empty; one for a single server).
    public private(set) var hosts: [Transport]
    /// The first host: the only one of a single server.
    public var transport: Transport { hosts[0] }
    /// More than one host: the nodes of a cluster.
    public var isCluster: Bool { hosts.count > 1 }
    /// The default database; nil connects without one (server-level work only).
    public var database: String?
    /// TLS to the server (`?ssl=…&ssl-ca=…`); nil: the connection is not encrypted.
    public var tls: TLS?

    /// How a connection uses TLS, the names MySQL and MariaDB clients use for it.
    public struct TLS: Sendable, Hashable {
        public enum Mode: String, Sendable, CaseIterable {
            /// Encrypted, the server's certificate not checked (protects against listening,
            /// not against a server pretending to be ours).
            case required
            /// Encrypted, the certificate signed by the CA in `caFile`.
            case verifyCA = "verify-ca"
            /// As verify-ca, and the certificate names the host of the DSN.
            case verifyFull = "verify-full"
        }

        public var mode: Mode
        /// PEM file of the CA that signs the server's certificate (absolute path).
        public var caFile: String?

        public init(mode: Mode, caFile: String? = nil) {
            self.mode = mode
            self.caFile = caFile
        }
    }

    public init(user: String, password: String? = nil, transport: Transport, database: String?) {
        self.init(user: user, password: password, hosts: [transport], database: database)
    }

    /// A DSN naming several hosts (a cluster's nodes); `hosts` must not be empty.
    public init(user: String, password: String? = nil, hosts: [Transport], database: String?) {
        precondition(!hosts.isEmpty, "a DSN names at least one host")
        self.user = user
        self.password = password
        self.hosts = hosts
        self.database = database
    }

    /// The same credentials, database and TLS options, for one of the hosts only: what a
    /// connection to that node uses.
    public func node(_ host: Transport) -> DSN {
        var copy = self
        copy.hosts = [host]
        return copy
    }

    /// The same server and credentials with another default database.
    public func withDatabase(_ name: String?) -> DSN {
        var copy = self
        copy.database = name
        return copy
    }

    /// Parses a DSN URL and settles its password: a password file (if given) wins over
    /// `PARKLINK_DB_PASSWORD`, which wins over the URL's own. The more deliberate source
    /// wins: a file or a variable is set up for the appliance, a URL is often copied around
    /// with a stale password in it.
    public static func resolve(
        _ string: String,
        passwordFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> DSN {
        var dsn = try parse(string, environment: environment)
        if let passwordFile { dsn.password = try PasswordFile.read(passwordFile) }
        return dsn
    }

    /// Whether the DSN text itself holds a password (even an empty one): such a DSN on a
    /// command line is readable by every local user in `ps`.
    public static func carriesPassword(_ string: String) -> Bool {
        (try? parse(string, environment: [:]))?.password != nil
    }

    /// Parses a DSN URL; `environment`'s `PARKLINK_DB_PASSWORD`, when set and not empty,
    /// takes the place of the URL's password.
    public static func parse(
        _ string: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DSNError) -> DSN {
        let text = string.trimmingCharacters(in: .whitespaces)
        guard let schemeEnd = text.range(of: "://") else {
            throw .notAURL(DSN.maskedInput(text))
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "mysql" || scheme == "mariadb" else {
            throw .unsupportedScheme(scheme)
        }
        var rest = text[schemeEnd.upperBound...]

        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }

        // user[:password]@host[:port]; the last "@" separates, so a password may hold "@".
        guard let at = authority.lastIndex(of: "@") else {
            throw .missingUser
        }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        var rawUser = userInfo
        var rawPassword: Substring?
        if let colon = userInfo.firstIndex(of: ":") {
            rawUser = userInfo[..<colon]
            rawPassword = userInfo[userInfo.index(after: colon)...]
        }
        let user = try decode(rawUser, component: "user")
        guard !user.isEmpty else { throw .missingUser }
        var password: String?
        if let rawPassword { password = try decode(rawPassword, component: "password") }
        if let fromEnvironment = environment[passwordEnvironmentVariable], !fromEnvironment.isEmpty {
            password = fromEnvironment
        }

        // host[:port], or several separated by commas (a cluster's nodes).
        var tcpHosts: [(host: String, port: UInt16)] = []
        for item in hostPort.split(separator: ",", omittingEmptySubsequences: false) {
            let parsed = try parseHost(item)
            if hostPort.contains(","), parsed.host.isEmpty { throw .missingHost }
            if tcpHosts.contains(where: { $0.host == parsed.host && $0.port == parsed.port }) {
                throw .duplicateHost(Transport.tcp(host: parsed.host, port: parsed.port).description)
            }
            tcpHosts.append(parsed)
        }

        let database = try decode(path, component: "database")
        guard !database.isEmpty else { throw .missingDatabase }
        guard database.utf8.count <= 64, !database.contains("/"), !database.contains("\0") else {
            throw .invalidDatabase(database)
        }

        var socket: String?
        var tlsMode: TLS.Mode?
        var caFile: String?
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(keyValue[0])
            let value = keyValue.count > 1 ? keyValue[1] : ""
            switch key {
            case "socket":
                let path = try decode(value, component: "socket")
                guard path.hasPrefix("/") else { throw .invalidSocket(path) }
                socket = path
            case "ssl":
                let v = try decode(value, component: "ssl")
                guard let mode = TLS.Mode(rawValue: v) else { throw .invalidTLSMode(v) }
                tlsMode = mode
            case "ssl-ca":
                let path = try decode(value, component: "ssl-ca")
                guard path.hasPrefix("/") else { throw .invalidCAFile(path) }
                caFile = path
            default:
                throw .unknownOption(key)
            }
        }
        var tls: TLS?
        if let tlsMode {
            if tlsMode != .required && caFile == nil { throw .tlsNeedsCA(tlsMode.rawValue) }
            tls = TLS(mode: tlsMode, caFile: caFile)
        } else if caFile != nil {
            throw .caFileWithoutTLS
        }

        let hosts: [Transport]
        if let socket {
            guard tcpHosts.count == 1 else { throw .socketWithSeveralHosts }
            let host = tcpHosts[0].host
            guard host.isEmpty || host == "localhost" else {
                throw .socketNeedsLocalhost(host: host)
            }
            hosts = [.unixSocket(path: socket)]
        } else {
            guard !tcpHosts[0].host.isEmpty else { throw .missingHost }
            hosts = tcpHosts.map { .tcp(host: $0.host, port: $0.port) }
        }
        var dsn = DSN(user: user, password: password, hosts: hosts, database: database)
        dsn.tls = tls
        return dsn
    }

    /// One `host[:port]` of the authority; an IPv6 address in brackets.
    private static func parseHost(_ hostPort: Substring) throws(DSNError) -> (host: String, port: UInt16) {
        var host = ""
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .invalidHost(String(hostPort)) }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost(String(hostPort)) }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        var port = defaultPort
        if let portText {
            guard let p = UInt16(portText), p > 0 else { throw .invalidPort(String(portText)) }
            port = p
        }
        return (host, port)
    }

    private static func decode(_ s: Substring, component: String) throws(DSNError) -> String {
        if !s.contains("%") { return String(s) }
        guard let decoded = String(s).removingPercentEncoding else {
            throw .invalidPercentEncoding(component: component)
        }
        return decoded
    }

    /// Shows a malformed input without what could be a password.
    private static func maskedInput(_ s: String) -> String {
        if let at = s.lastIndex(of: "@") { return "…" + s[at...] }
        return s.count > 40 ? String(s.prefix(40)) + "…" : s
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        var s = "mysql://" + percentEncoded(user)
        if password != nil { s += ":***" }
        switch transport {
        case .tcp:
            s += "@" + hosts.map(\.description).joined(separator: ",") + "/\(database.map(percentEncoded) ?? "")"
        case .unixSocket(let path):
            s += "@localhost/\(database.map(percentEncoded) ?? "")?socket=\(path)"
        }
        if let tls {
            s += (s.contains("?") ? "&" : "?") + "ssl=\(tls.mode.rawValue)"
            if let ca = tls.caFile { s += "&ssl-ca=\(ca)" }
        }
        return s
    }

    public var debugDescription: String { "DSN(\(description))" }

    /// `dump()` and the debugger see the masked form too.
    public var customMirror: Mirror {
        Mirror(self, children: ["dsn": description], displayStyle: .struct)
    }

    private func percentEncoded(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// The socket path of a Unix-socket DSN.
    public var socketPath: String? {
        if case .unixSocket(let path) = transport { return path }
        return nil
    }
}

/// What is wrong with a DSN string. Messages never contain the password.
public enum DSNError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAURL(String)
    case unsupportedScheme(String)
    case missingUser
    case missingHost
    case invalidHost(String)
    case invalidPort(String)
    case missingDatabase
    case invalidDatabase(String)
    case invalidPercentEncoding(component: String)
    case unknownOption(String)
    case invalidSocket(String)
    case socketNeedsLocalhost(host: String)
    case invalidTLSMode(String)
    case invalidCAFile(String)
    case tlsNeedsCA(String)
    case caFileWithoutTLS
    case duplicateHost(String)
    case socketWithSeveralHosts

    public var description: String {
        switch self {
        case .notAURL(let s):
            "DSN is not a URL (expected mysql://user[:password]@host[:port][,host2[:port]…]/database): \(s)"
        case .unsupportedScheme(let s):
            "DSN scheme '\(s)' is not supported: use mysql:// or mariadb://"
        case .missingUser:
            "DSN has no user: expected mysql://user[:password]@host/database"
        case .missingHost:
            "DSN has no host: give one (mysql://user@host/database) or a socket (?socket=/path)"
        case .invalidHost(let s):
            "DSN host '\(s)' is malformed (an IPv6 address goes in brackets: [::1]:3306)"
        case .invalidPort(let s):
            "DSN port '\(s)' is not a number from 1 to 65535"
        case .missingDatabase:
            "DSN has no database: add it as the path, e.g. mysql://user@host/parklink"
        case .invalidDatabase(let s):
            "DSN database '\(s)' is not a valid database name"
        case .invalidPercentEncoding(let component):
            "DSN \(component) has an invalid percent-escape (%XX)"
        case .unknownOption(let s):
            "DSN option '\(s)' is unknown (supported: socket, ssl, ssl-ca)"
        case .invalidSocket(let s):
            "DSN socket '\(s)' must be an absolute path"
        case .invalidTLSMode(let s):
            "DSN ssl '\(s)' is not known: use ssl=required, ssl=verify-ca or ssl=verify-full"
        case .invalidCAFile(let s):
            "DSN ssl-ca '\(s)' must be an absolute path to the CA's PEM file"
        case .tlsNeedsCA(let mode):
            "DSN ssl=\(mode) checks the server's certificate: add ssl-ca=/path/to/ca.pem"
        case .caFileWithoutTLS:
            "DSN gives ssl-ca without ssl: add ssl=verify-ca or ssl=verify-full"
        case .duplicateHost(let host):
            "DSN names host '\(host)' twice: list each node of the cluster once (h1:3306,h2:3306,h3:3306)"
        case .socketWithSeveralHosts:
            "DSN gives a socket and several hosts: a Unix socket reaches one local server; list TCP hosts for a cluster"
        case .socketNeedsLocalhost(let host):
            "DSN gives a socket but host '\(host)': a Unix socket needs host localhost"
        }
    }
}

// Part of the Connector/C boundary (see MariaDB.swift): the typed error, and reading it
// from a connection or statement handle.

internal import CMariaDB

/// An error reported by the server or by Connector/C.
///
/// Carries the error number, SQLSTATE, message, the operation that failed and a short,
/// sanitised prefix of the statement. It never carries a password: connect errors hold
/// only the server's message ("Access denied for user ... (using password: YES)"), and a
/// statement is cut before any `IDENTIFIED` or `PASSWORD` keyword.
public struct MariaDBError: Error, CustomStringConvertible, Sendable {
    /// A MariaDB server (1000–1999, 3000+) or client (2000–2999) error number.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public init(_ rawValue: UInt32) { self.rawValue = rawValue }
        public var description: String { String(rawValue) }

        // Server errors.
        public static let tooManyConnections = Code(1040)
        /// `ER_UNKNOWN_COM_ERROR`: what a Galera node without quorum answers to everything.
        public static let unknownCommand = Code(1047)
        public static let serverShutdown = Code(1053)
        public static let duplicateEntry = Code(1062)
        public static let syntaxError = Code(1064)
        public static let unknownDatabase = Code(1049)
        public static let accessDenied = Code(1045)
        /// `ER_DBACCESS_DENIED_ERROR`: the user may not use the database.
        public static let databaseAccessDenied = Code(1044)
        public static let noSuchTable = Code(1146)
        public static let netReadError = Code(1158)
        public static let netReadInterrupted = Code(1159)
        public static let netErrorOnWrite = Code(1160)
        public static let netWriteInterrupted = Code(1161)
        /// `ER_ERROR_DURING_COMMIT`: Galera's answer to a statement in flight when quorum was lost.
        public static let errorDuringCommit = Code(1180)
        public static let lockWaitTimeout = Code(1205)
        /// Deadlock, or a Galera certification conflict: retry the transaction.
        public static let deadlock = Code(1213)
        public static let connectionKilled = Code(1927)
        /// `ER_CLIENT_INTERACTION_TIMEOUT`: the server closed an idle connection (wait_timeout).
        public static let clientInteractionTimeout = Code(4031)

        // Client (Connector/C) errors.
        public static let unknownError = Code(2000)
        public static let socketCreateError = Code(2001)
        /// Cannot connect through the Unix socket.
        public static let connectionError = Code(2002)
        /// Cannot connect to the TCP host.
        public static let connHostError = Code(2003)
        public static let unknownHost = Code(2005)
        public static let serverGone = Code(2006)
        public static let outOfMemory = Code(2008)
        public static let serverLost = Code(2013)
        public static let commandsOutOfSync = Code(2014)
        public static let serverLostExtended = Code(2055)
        /// The statement was invalidated because its connection was closed or reconnected.
        public static let statementClosed = Code(2056)
    }

    /// What the library was doing when the error happened.
    public enum Operation: String, Sendable {
        case connect, query, prepare, bind, execute, transaction, ping, option
    }

    public var code: Code
    /// Five characters, e.g. "42000"; "HY000" when the server gave none.
    public var sqlState: String
    public var message: String
    public var operation: Operation
    /// The first characters of the statement (at most `statementPrefixLength`), if any.
    public var statement: String?

    public static let statementPrefixLength = 160

    public init(code: Code, sqlState: String = "HY000", message: String, operation: Operation, statement: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.operation = operation
        self.statement = statement.map(Self.sanitize)
    }

    /// The connection is unusable (or could not be made): close it, back off, reconnect.
    public var isConnectionLost: Bool {
        switch code {
        case .connectionError, .connHostError, .serverGone, .serverLost, .serverLostExtended,
             .socketCreateError, .unknownHost, .statementClosed,
             .serverShutdown, .connectionKilled, .clientInteractionTimeout,
             .netReadError, .netReadInterrupted, .netErrorOnWrite, .netWriteInterrupted:
            return true
        default:
            return false
        }
    }

    /// The node does not take writes now (a Galera node without quorum answers 1047 to every
    /// statement, and 1180 to one in flight when quorum went): go to another node.
    public var isNodeUnavailable: Bool {
        code == .unknownCommand || code == .errorDuringCommit
    }

    /// Worth retrying the whole transaction (after a reconnect if `isConnectionLost`):
    /// deadlock / certification conflict, lock wait timeout, Galera without quorum, too
    /// many connections, or a lost connection.
    public var isRetryable: Bool {
        switch code {
        case .deadlock, .lockWaitTimeout, .unknownCommand, .errorDuringCommit, .tooManyConnections:
            return true
        default:
            return isConnectionLost
        }
    }

    public var description: String {
        var s = "MariaDB error \(code.rawValue) (\(sqlState)) during \(operation.rawValue): \(message)"
        if let statement, !statement.isEmpty {
            s += " [statement: \(statement)]"
        }
        return s
    }

    /// Keeps the first characters of a statement, never what follows a password keyword.
    static func sanitize(_ statement: String) -> String {
        var text = Substring(statement)
        let upper = statement.uppercased()
        for keyword in ["IDENTIFIED", "PASSWORD"] {
            if let r = upper.range(of: keyword) {
                let offset = upper.distance(from: upper.startIndex, to: r.lowerBound)
                let cut = statement.index(statement.startIndex, offsetBy: offset)
                if cut < text.endIndex { text = statement[statement.startIndex..<cut] + "…" }
            }
        }
        if text.count > statementPrefixLength {
            return String(text.prefix(statementPrefixLength)) + "…"
        }
        return String(text)
    }
}

extension MariaDBError {
    /// Reads the last error of a connection handle.
    init(handle: UnsafeMutablePointer<MYSQL>, operation: Operation, statement: String?) {
        let code = mysql_errno(handle)
        self.init(
            code: Code(code == 0 ? Code.unknownError.rawValue : code),
            sqlState: String(cString: mysql_sqlstate(handle)),
            message: String(cString: mysql_error(handle)),
            operation: operation,
            statement: statement
        )
    }

    /// Reads the last error of a statement handle.
    init(statement handle: UnsafeMutablePointer<MYSQL_STMT>, operation: Operation, statement: String?) {
        let code = mysql_stmt_errno(handle)
        self.init(
            code: Code(code == 0 ? Code.unknownError.rawValue : code),
            sqlState: String(cString: mysql_stmt_sqlstate(handle)),
            message: String(cString: mysql_stmt_error(handle)),
            operation: operation,
            statement: statement
        )
    }

    static func closed(_ operation: Operation, statement: String? = nil) -> MariaDBError {
        MariaDBError(
            code: .serverGone, message: "the connection is closed (reconnect first)",
            operation: operation, statement: statement
        )
    }
}

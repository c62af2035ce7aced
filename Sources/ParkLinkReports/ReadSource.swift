import Foundation
import ParkLinkDaemon
import ParkLinkStore

/// The database a reading command reads when it does not (or cannot) ask the daemon:
/// `--db DSN`, else the config file's `dsn`, else the private server in the state
/// directory. The private server is started for the read if it is stopped and stopped
/// again afterwards, unless a daemon began using it meanwhile (see
/// `PrivateMariaDBServer.openForReading`); a state directory that never had one gets none.
public final class ReadSource {
    public let dsn: DSN
    /// Where the DSN came from, for messages: `--db`, the config file, the private server.
    public let origin: String
    private let server: PrivateMariaDBServer?
    private var loan: PrivateMariaDBServer.ReadingLoan?

    init(dsn: DSN, origin: String, server: PrivateMariaDBServer? = nil, loan: PrivateMariaDBServer.ReadingLoan? = nil) {
        self.dsn = dsn
        self.origin = origin
        self.server = server
        self.loan = loan
    }

    deinit { end() }

    /// Why there is nothing to read; `exitCode` 2 for a mistake in what was given (a
    /// malformed DSN, a refused password file), 1 for a database that is not there.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public var exitCode: Int32

        public init(description: String, exitCode: Int32) {
            self.description = description
            self.exitCode = exitCode
        }
    }

    /// Finds the database by the rule above. `config` is the loaded config file, if any.
    public static func open(db: String?, passwordFile: String?, config: ApplianceConfig?, state: StateDirectory,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ReadSource {
        if let text = db ?? config?.dsn {
            let origin = db != nil ? "--db" : "the config file's dsn"
            do {
                let dsn = try DSN.resolve(text, passwordFile: passwordFile ?? config?.passwordFile, environment: environment)
                return ReadSource(dsn: dsn, origin: origin)
            } catch {
                throw Failure(description: "\(error)", exitCode: 2)
            }
        }
        if let file = passwordFile {
            throw Failure(description: "a database password file (\(file)) but no DSN: the private server needs no password; give --db DSN, or drop the password file",
                          exitCode: 2)
        }
        let server = PrivateMariaDBServer(stateDirectory: state.path)
        let loan: PrivateMariaDBServer.ReadingLoan?
        do {
            loan = try server.openForReading()
        } catch {
            throw Failure(description: "cannot start the private database in \(state.path) to read it: \(error)", exitCode: 1)
        }
        guard let loan else {
            throw Failure(description: "no database to read: no --db, no dsn in a config file (--config), and no private database in \(state.path) "
                              + "(the daemon never ran with this state directory). Fix: give --db DSN, --config FILE or --state-dir DIR",
                          exitCode: 1)
        }
        return ReadSource(dsn: loan.dsn, origin: "the private database in \(state.path)", server: server, loan: loan)
    }

    /// Opens a connection that changes nothing in the schema (`Connections.Profile.reader`).
    public func connect() throws -> MariaDBConnection {
        MariaDB.initializeLibrary()
        do {
            return try Connections.open(dsn, profile: .reader)
        } catch {
            throw Failure(description: "cannot read \(dsn) (\(origin)): \(error)", exitCode: 1)
        }
    }

    /// Returns the private server if this process started it (stopping it unless a daemon
    /// now uses it). Safe to call twice.
    public func end() {
        guard let server, let l = loan else { return }
        loan = nil
        _ = try? server.returnLoan(l)
    }

    /// The schema must be at least `version` (0: any ParkLink schema) for what is asked.
    public static func requireSchema(_ c: MariaDBConnection, atLeast version: Int, for what: String) throws {
        let have = try StoredStateRepository(connection: c).schemaVersion()
        if have == 0 {
            throw Failure(description: "\(c.dsn) has no ParkLink tables: no appliance has written to it yet. Fix: check --db, or start `parklink run` once",
                          exitCode: 1)
        }
        if have < version {
            throw Failure(description: "\(what) needs schema version \(version); \(c.dsn) is at \(have). Fix: start `parklink run` once with this version (it migrates the schema)",
                          exitCode: 1)
        }
    }
}

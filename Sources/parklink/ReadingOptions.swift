import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkReports
import ParkLinkStore
import ParkLinkSystem

/// Where the commands that read stored data (`status` and `alerts` with the daemon down,
/// `report`, `export`, `config init`) find the database and the zone map.
struct ReadingOptions: ParsableArguments {
    @Option(name: .long, help: "Read this database (a DSN) when the daemon does not answer. Default: the config file's dsn, else the private database in the state directory.")
    var db: String?

    @Option(name: .customLong("db-password-file"), help: passwordFileHelp)
    var dbPasswordFile: String?

    @Option(name: .long, help: "The appliance's config file (TOML): its database, state directory, zones, targets and time zone.")
    var config: String?

    func validate() throws {
        if dbPasswordFile != nil && db == nil && config == nil {
            throw ValidationError("--db-password-file goes with --db (or a config file's dsn): the private database needs no password")
        }
    }

    /// The config file, if given; a mistake in it exits 2 with its file, line and fix.
    func loadConfig() -> ApplianceConfig? {
        guard let config else { return nil }
        do {
            return try ApplianceConfig.load(path: config)
        } catch {
            fail("\(error)", code: 2)
        }
    }

    /// Opens the database to read (see `ReadSource`); failures exit with their code.
    func source(config: ApplianceConfig?, state: StateDirectory) -> ReadSource {
        warnIfPasswordInArguments(db)
        do {
            return try ReadSource.open(db: db, passwordFile: dbPasswordFile, config: config, state: state)
        } catch let e as ReadSource.Failure {
            fail(e.description, code: e.exitCode)
        } catch {
            fail("\(error)")
        }
    }
}

/// Runs `body` against the stored data: opens the source, connects, and always returns a
/// private server this process started before anything is printed or the process exits.
/// A `ReadSource.Failure` exits with its code; another error exits 1.
func withStoredData<T>(_ options: ReadingOptions, config: ApplianceConfig?, state: StateDirectory,
                       _ body: (MariaDBConnection, ReadSource) throws -> T) -> T {
    let source = options.source(config: config, state: state)
    let result: Result<T, any Error> = Result {
        let c = try source.connect()
        defer { c.close() }
        return try body(c, source)
    }
    source.end()
    switch result {
    case .success(let value):
        return value
    case .failure(let e as ReadSource.Failure):
        fail(e.description, code: e.exitCode)
    case .failure(let e as SystemError) where e.errno == EPIPE:
        // Whoever read standard output has gone (`| head`): stop quietly, as filters do
        // when SIGPIPE ends them (128 + 13).
        exit(141)
    case .failure(let e):
        fail("\(e)")
    }
}

/// The local calendar for dates shown and taken (see `LocalCalendar.resolve`); an unknown
/// zone is a bad argument.
func localCalendar(_ tz: String?, config: ApplianceConfig?) throws -> LocalCalendar {
    // The config's zone only if the file sets one (its default is UTC, which would hide TZ).
    let configured = config.flatMap { $0.timeZoneSetInFile ? $0.timeZone : nil }
    do {
        return try LocalCalendar.resolve(option: tz, config: configured)
    } catch {
        throw ValidationError("\(error)")
    }
}

/// Whether the daemon's socket failure means "ask the database instead": nobody answers,
/// or the daemon did not answer in time. A daemon that answers something else (another
/// protocol version, a refusal) is not bypassed.
func daemonIsAway(_ error: any Error) -> Bool {
    switch error as? StatusClient.Failure {
    case .notRunning?, .failed?: true
    default: false
    }
}

/// A line on stderr that says what the output is, without mixing into it.
func note(_ message: String) {
    FileHandle.standardError.write(Data(("parklink: " + message + "\n").utf8))
}

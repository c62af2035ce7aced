import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSystem

extension FrameEncoding: ExpressibleByArgument {}
extension ApplianceConfig.InsertMethod: ExpressibleByArgument {}

/// `parklink run`: the appliance daemon.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Read the gateway's serial line into MariaDB until SIGTERM/SIGINT.",
        discussion: """
            DSN: mysql://user:password@host:port/database or mysql://user@localhost/database?socket=PATH; \
            the password is better kept out of it: --db-password-file (or password_file in the config \
            file) wins over PARKLINK_DB_PASSWORD, which wins over the DSN. Without --db (and no dsn in the \
            config file), a private MariaDB in the state directory is started on demand. On SIGTERM or \
            SIGINT it stops reading, drains the ring, commits, and exits 0. Relative paths on the command \
            line are taken from the current directory, those in the config file from the file's directory.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Serial device of the gateway, e.g. /dev/ttyACM0.")
    var device: String?
    @Option(name: .long, help: "Database DSN (see below).")
    var db: String?
    @Option(name: .customLong("db-password-file"), help: passwordFileHelp)
    var dbPasswordFile: String?
    @Option(name: .long, help: "Wire framing: text or binary.")
    var framing: FrameEncoding?
    @Option(name: .long, help: "Baud rate (e.g. 115200, 1000000; a USB CDC gateway ignores it).")
    var baud: UInt32?
    @Option(name: .long, help: "Configuration file (TOML).")
    var config: String?
    @Option(name: .customLong("insert-method"), help: "array-binding (default) or multi-row.")
    var insertMethod: ApplianceConfig.InsertMethod?
    @Option(name: .customLong("metrics-listen"), help: "Serve Prometheus metrics on GET /metrics at HOST:PORT, e.g. 127.0.0.1:9464 (off by default).")
    var metricsListen: String?
    @Flag(name: .long, help: "Check the config, device, state directory and database without starting anything; one line each, exit 0 if all are ok, else 1.")
    var check = false

    func validate() throws {
        if let b = baud, !(50...4_000_000).contains(b) { throw ValidationError("--baud must be between 50 and 4000000") }
        if let m = metricsListen {
            do {
                _ = try TCPAddress(parsing: m)
            } catch {
                throw ValidationError("--metrics-listen: \(error)")
            }
        }
    }

    func run() throws {
        var o = ApplianceRunner.Overrides()
        o.device = device
        o.dsn = db
        o.passwordFile = dbPasswordFile
        o.framing = framing
        o.baud = baud
        o.stateDirectory = global.stateDirectory
        o.insertMethod = insertMethod
        o.metricsListen = metricsListen.flatMap { try? TCPAddress(parsing: $0) }
        warnIfPasswordInArguments(db)
        if check {
            let results = ApplianceCheck.run(configFile: config, overrides: o)
            for r in results { print(r.line) }
            throw ExitCode(ApplianceCheck.exitCode(results))
        }
        Signals.blockTermination()
        let logger = global.makeLogger()
        do {
            let c = try ApplianceRunner.configuration(file: config, overrides: o)
            let code = try ApplianceRunner.run(config: c, logger: logger)
            if code != 0 { throw ExitCode(code) }
        } catch let e as ExitCode {
            throw e
        } catch {
            fail("\(error)", code: 2)
        }
    }
}

import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkStore

/// `parklink db up|down|status`: the private MariaDB in the state directory.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the private MariaDB server in the state directory (no systemd needed).",
        subcommands: [Up.self, Down.self, Status.self, Partition.self, YearScale.self]
    )

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (first time) and start the private server; print its DSN.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let state = global.state()
            do {
                try state.create()
                let dsn = try PrivateMariaDBServer(stateDirectory: state.path).start()
                print(dsn.description)
            } catch {
                fail("\(error)")
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the private server (its data stays).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            do {
                try PrivateMariaDBServer(stateDirectory: global.state().path).stop()
                print("stopped")
            } catch {
                fail("\(error)")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the private server runs; exit 1 if not. With --db: whether that database lets us in.",
            discussion: """
                With --db DSN (and --db-password-file PATH) it checks that database instead, with the \
                credentials `parklink run` would use: it prints `reachable:` and the server's version, or \
                exits 1 with the server's answer; a refused password file or a malformed DSN exits 2.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Check this database (a DSN) instead of the private server.")
        var db: String?
        @Option(name: .customLong("db-password-file"), help: passwordFileHelp)
        var dbPasswordFile: String?

        func validate() throws {
            if dbPasswordFile != nil && db == nil {
                throw ValidationError("--db-password-file goes with --db: the private server needs no password")
            }
        }

        func run() throws {
            if let db {
                try check(db)
                return
            }
            let s = PrivateMariaDBServer(stateDirectory: global.state().path).status()
            print(s.description)
            if !s.running { throw ExitCode(1) }
        }

        /// Connects as `run` would (the same password sources, in the same order).
        private func check(_ text: String) throws {
            warnIfPasswordInArguments(text)
            let dsn = resolveDSNOrExit(text, passwordFile: dbPasswordFile)
            MariaDB.initializeLibrary()
            do {
                let c = try Connections.open(dsn, profile: .tool)
                defer { c.close() }
                print("reachable: \(dsn) (\(c.serverVersion))")
            } catch {
                fail("cannot connect to \(dsn): \(error)")
            }
        }
    }
}

import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkStore

/// `parklink db up|down|status`: the private MariaDB in the state directory.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the private MariaDB server in the state directory (no systemd needed).",
        subcommands: [Up.self, Down.self, Status.self]
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
        static let configuration = CommandConfiguration(abstract: "Say whether the private server runs; exit 1 if not.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let s = PrivateMariaDBServer(stateDirectory: global.state().path).status()
            print(s.description)
            if !s.running { throw ExitCode(1) }
        }
    }
}

import ArgumentParser

/// `parklink`: the appliance and the technician's tools in one executable.
@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parklink",
        abstract: "Reads a car park's sensor gateway into MariaDB, and tells you how it is going.",
        discussion: """
            Quick start: `parklink demo` runs everything on this machine (a private MariaDB, a \
            simulated 500-sensor gateway, the pipeline). In the field: `parklink run --device \
            /dev/ttyACM0 --db mysql://parklink@dbhost/parklink` and `parklink status`.
            """,
        version: "0.1.0",
        subcommands: [
            RunCommand.self, StatusCommand.self, DatabaseCommand.self, SimulateCommand.self,
            DemoCommand.self, ForecastCommand.self, AlertsCommand.self,
            StressCommand.self, InstallCommand.self, UninstallCommand.self,
            OverrideCommand.self, WatchCommand.self,
            ReportCommand.self, ExportCommand.self, ConfigCommand.self,
        ]
    )

    /// Every error reads `parklink: …`, as those the commands print themselves.
    static var _errorPrefix: String { "parklink: " }
}

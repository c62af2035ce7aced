import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkSystem

/// Options `install` and `uninstall` share.
struct InstallOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Install the binary to PREFIX/bin (the unit runs it from there).", valueName: "dir"))
    var prefix = "/usr/local"
    @Option(name: .long, help: ArgumentHelp(
        "Install into DIR as if it were / (a package, an image, a test): no accounts are created, nothing is reloaded.",
        valueName: "dir"))
    var root: String?
    @Flag(name: .customLong("dry-run"), help: "Print what would be done, and do nothing.")
    var dryRun = false

    func validate() throws {
        guard prefix.hasPrefix("/") else { throw ValidationError("--prefix must be an absolute path (got '\(prefix)')") }
        if let root, root.isEmpty { throw ValidationError("--root must name a directory") }
    }

    /// Changing the machine itself needs root; a dry run or another root does not.
    func requireRootIfLive(_ command: String) {
        guard root == nil, !dryRun, Accounts.effectiveUserID != 0 else { return }
        fail("\(command) changes this machine (a system user, /etc, \(prefix)/bin, udev and systemd), so it needs root. "
            + "Fix: `sudo parklink \(command)`; or `parklink \(command) --dry-run` to see what it would do, "
            + "or --root DIR to install into a directory")
    }

    func layout(gatewaySerial: String? = nil) -> InstallLayout {
        InstallLayout(root: root ?? "/", prefix: prefix, gatewaySerial: gatewaySerial)
    }

    func run(_ steps: () throws -> [InstallStep]) {
        do {
            if dryRun { print("dry run: nothing is changed; these are the steps") }
            try Installer.execute(steps(), dryRun: dryRun) { print($0) }
        } catch {
            fail("stopped: \(error)")
        }
    }
}

/// `parklink install`: the user, the directories, the config, the udev rule and the unit.
struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install parklink as a system service: user, directories, sample config, udev rule, systemd unit.",
        discussion: """
            Creates the system user parklink (groups parklink and dialout), /etc/parklink (a sample \
            parklink.toml, never written over), /var/lib/parklink (0750), the udev rule that names the \
            gateway /dev/parklink-gateway and starts the service, the hardened unit parklink.service, \
            and copies this binary to PREFIX/bin; prints every step. Then: \
            `sudo systemctl enable --now parklink`.
            """
    )

    @OptionGroup var options: InstallOptions
    @Option(name: .customLong("gateway-serial"), help: ArgumentHelp(
        "Let the udev rule match only the board with this USB serial number (ID_SERIAL_SHORT).", valueName: "serial"))
    var gatewaySerial: String?

    func validate() throws {
        if let s = gatewaySerial, !ServiceFiles.isValidSerial(s) {
            throw ValidationError("--gateway-serial must be 1-64 letters, digits, '.', '_' or '-' (got '\(s)')")
        }
    }

    func run() throws {
        options.requireRootIfLive("install")
        guard let executable = FileSystem.resolvedPath("/proc/self/exe") else {
            fail("cannot tell where this parklink binary is (/proc/self/exe): is /proc mounted?")
        }
        options.run { try Installer.installPlan(options.layout(gatewaySerial: gatewaySerial), executable: executable) }
    }
}

/// `parklink uninstall`: undoes `install`, keeping the config and the data unless --purge.
struct UninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Stop and remove the service, the udev rule and the binary; keep config and data unless --purge.",
        discussion: """
            Without --purge, /etc/parklink, /var/lib/parklink (the spool and the private database) and the \
            user stay, so a reinstall carries on where it stopped. --purge removes them too.
            """
    )

    @OptionGroup var options: InstallOptions
    @Flag(name: .long, help: "Also remove /etc/parklink, /var/lib/parklink (every stored reading of the private database) and the user.")
    var purge = false

    func run() throws {
        options.requireRootIfLive("uninstall")
        options.run { try Installer.uninstallPlan(options.layout(), purge: purge) }
    }
}

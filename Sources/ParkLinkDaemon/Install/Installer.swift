import Foundation
import ParkLinkSystem

/// `parklink install` and `uninstall`, minus the argument parsing: the steps for this
/// machine as it is now (an existing user is not created again, an edited config is kept),
/// printed one line each and carried out unless it is a dry run.
public enum Installer {
    /// The steps that install `executable` as laid out by `layout`.
    public static func installPlan(_ layout: InstallLayout, executable: String) throws -> [InstallStep] {
        var steps: [InstallStep] = []
        let l = layout
        let service = l.manageAccounts ? InstallStep.Owner(user: l.user, group: l.group) : nil
        let rootGroup = l.manageAccounts ? InstallStep.Owner(user: "root", group: l.group) : nil

        if l.manageAccounts {
            if try Accounts.groupID(named: l.deviceGroup) == nil { steps.append(.createGroup(l.deviceGroup)) }
            if try Accounts.groupID(named: l.group) == nil { steps.append(.createGroup(l.group)) }
            if let user = try Accounts.user(named: l.user) {
                let member = try Accounts.groupID(named: l.deviceGroup).map { Accounts.groupIDs(ofUser: l.user, primary: user.gid).contains($0) } ?? false
                steps.append(member ? .note("user \(l.user) exists (uid \(user.uid)), in group \(l.deviceGroup): kept as it is")
                                    : .addToGroup(user: l.user, group: l.deviceGroup))
            } else {
                steps.append(.createUser(name: l.user, group: l.group, groups: [l.deviceGroup], home: l.stateDirectory))
            }
        } else {
            steps.append(.note("accounts: not touched under --root \(l.root); systemd-sysusers creates user \(l.user) "
                + "(groups \(l.group), \(l.deviceGroup)) from \(l.sysusersFile), and the files stay owned by whoever installed them"))
        }

        let bindir = l.prefix + "/bin"
        steps += parents(of: [bindir], layout: l)
        let target = l.onDisk(l.binary)
        if FileSystem.resolvedPath(target) == FileSystem.resolvedPath(executable) {
            steps.append(.note("\(target) is this parklink already: kept"))
        } else {
            steps.append(.copyExecutable(from: executable, to: target))
        }

        steps += parents(of: ["/etc", "/var/lib"], layout: l)
        steps.append(.makeDirectory(l.onDisk(l.configDirectory), mode: 0o750, owner: rootGroup))
        if FileManager.default.fileExists(atPath: l.onDisk(l.configFile)) {
            steps.append(.note("keep \(l.onDisk(l.configFile)) (it exists: a sample is never written over your settings)"))
        } else {
            steps.append(.writeFile(l.onDisk(l.configFile), contents: SampleConfig.text, mode: 0o640, owner: rootGroup))
        }
        steps.append(.makeDirectory(l.onDisk(l.stateDirectory), mode: StateDirectory.mode, owner: service))

        let files: [(String, String)] = [
            (l.unitFile, ServiceFiles.unit(bindir: bindir)),
            (l.udevRuleFile, ServiceFiles.udevRule(pinnedSerial: l.gatewaySerial)),
            (l.sysusersFile, ServiceFiles.sysusers),
            (l.modulesLoadFile, ServiceFiles.modulesLoad),
        ]
        steps += parents(of: files.map { FileSystem.directoryName($0.0) }, layout: l)
        for (path, text) in files {
            steps.append(.writeFile(l.onDisk(path), contents: text, mode: 0o644, owner: nil))
        }
        steps += reloads(l)
        steps.append(.note("next: set the database (or keep the private one) in \(l.onDisk(l.configFile)), check with "
            + "`sudo -u \(l.user) \(l.binary) run --check --config \(l.configFile)`, then start it: "
            + "`sudo systemctl enable --now parklink` (`parklink status` finds it)"))
        return steps
    }

    /// The steps that undo `installPlan`; the config, the data and the accounts stay
    /// unless `purge`.
    public static func uninstallPlan(_ layout: InstallLayout, purge: Bool) throws -> [InstallStep] {
        let l = layout
        var steps: [InstallStep] = []
        if l.isLiveSystem, systemdRuns, FileManager.default.fileExists(atPath: l.unitFile) {
            // Stopped first: SIGTERM, so it drains and commits (or spools) before it goes.
            steps.append(.run([tool("systemctl") ?? "systemctl", "disable", "--now", "parklink.service"]))
        }
        for path in [l.unitFile, l.udevRuleFile, l.sysusersFile, l.modulesLoadFile, l.binary].map(l.onDisk) {
            steps.append(FileManager.default.fileExists(atPath: path) ? .remove(path) : .note("\(path) is not there"))
        }
        steps += reloads(l)
        let kept = [l.configDirectory, l.stateDirectory].map(l.onDisk)
        if purge {
            for path in kept where FileManager.default.fileExists(atPath: path) { steps.append(.removeTree(path)) }
            if l.manageAccounts {
                if try Accounts.user(named: l.user) != nil { steps.append(.deleteUser(l.user)) }
                if try Accounts.groupID(named: l.group) != nil { steps.append(.deleteGroup(l.group)) }
            }
        } else {
            steps.append(.note("keep \(kept.joined(separator: " and ")) (the settings, the spool and the private database)"
                + (l.manageAccounts ? " and user \(l.user)" : "") + ": `parklink uninstall --purge` removes them"))
        }
        return steps
    }

    /// Prints each step (`print`) and, unless `dryRun`, carries it out; stops at the first
    /// that fails, which is thrown.
    public static func execute(_ steps: [InstallStep], dryRun: Bool, print: (String) -> Void) throws {
        for step in steps {
            if case .note = step {
                print("  " + step.description)
                continue
            }
            print((dryRun ? "would " : "") + step.description)
            if !dryRun { try step.apply() }
        }
    }

    // MARK: Helpers

    /// Directories that must exist for the files to land (a fresh root has none), each
    /// created 0755 as a package manager would; existing ones are not touched.
    private static func parents(of directories: [String], layout: InstallLayout) -> [InstallStep] {
        var seen: Set<String> = []
        var steps: [InstallStep] = []
        for directory in directories where seen.insert(directory).inserted {
            let path = layout.onDisk(directory)
            if !FileManager.default.fileExists(atPath: path) {
                steps.append(.makeDirectory(path, mode: 0o755, owner: nil))
            }
        }
        return steps
    }

    /// On the live system, udev and systemd are told their files changed.
    private static func reloads(_ l: InstallLayout) -> [InstallStep] {
        guard l.isLiveSystem else { return [] }
        var steps: [InstallStep] = []
        if let udevadm = tool("udevadm") {
            steps.append(.run([udevadm, "control", "--reload"]))
            steps.append(.run([udevadm, "trigger", "--subsystem-match=tty", "--action=add"]))
        } else {
            steps.append(.note("udevadm is not installed: the rule applies once udev runs"))
        }
        if systemdRuns, let systemctl = tool("systemctl") {
            steps.append(.run([systemctl, "daemon-reload"]))
        } else {
            steps.append(.note("systemd is not running here (no /run/systemd/system): `systemctl daemon-reload` once it is"))
        }
        return steps
    }

    /// Whether systemd is this machine's service manager (what sd_booted checks).
    static var systemdRuns: Bool { FileManager.default.fileExists(atPath: "/run/systemd/system") }

    private static func tool(_ name: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

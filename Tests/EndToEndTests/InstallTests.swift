import Foundation
import ParkLinkDaemon
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// `parklink install` and `uninstall`, run as the real executable into a temporary root
/// (the host's /etc is not touched), and through the library for a throwaway account.
@Suite("parklink install and uninstall", .serialized, .timeLimit(.minutes(5)))
struct InstallTests {
    /// Every file install writes, as the installed system names it, with its mode.
    static let files: [(path: String, mode: mode_t)] = [
        ("/usr/local/bin/parklink", 0o755),
        ("/etc/parklink/parklink.toml", 0o640),
        ("/etc/systemd/system/parklink.service", 0o644),
        ("/etc/udev/rules.d/99-parklink-gateway.rules", 0o644),
        ("/etc/sysusers.d/parklink.conf", 0o644),
        ("/etc/modules-load.d/parklink.conf", 0o644),
    ]

    @Test("install --root: the binary, config, rule, unit and their modes, each step printed; unit and rule are udev/'s files")
    func installIntoRoot() throws {
        let root = Repository.temporaryDirectory("plinst")
        let run = try Self.parklink(["install", "--root", root])
        #expect(run.status == 0, "\(run.output)")
        for (path, mode) in Self.files {
            let status = try FileSystem.status(root + path)
            #expect(status.kind == .regular && status.permissions == mode, "\(path): \(status.octalPermissions)")
            let verb = path.hasSuffix("/bin/parklink") ? "copy " : "write "
            #expect(run.output.contains(verb) && run.output.contains(root + path), "\(path) printed")
        }
        for path in ["/etc/parklink", "/var/lib/parklink"] {
            let status = try FileSystem.status(root + path)
            #expect(status.kind == .directory && status.permissions == 0o750, "\(path): \(status.octalPermissions)")
            #expect(run.output.contains("create directory \(root + path) (0750)"))
        }
        #expect(run.output.contains("accounts: not touched under --root"), "no host account for an image")
        #expect(run.output.contains("systemctl enable --now parklink"), "says how to start it")

        // The copy is this parklink, and runs.
        let version = try ChildProcess(root + "/usr/local/bin/parklink", ["--version"])
        #expect(version.wait(timeoutSeconds: 30) == 0)
        #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        // The repository's udev/ copies are exactly what install writes for /usr/local.
        #expect(try Self.text(root + "/etc/systemd/system/parklink.service") == Self.text(Repository.root + "/udev/parklink.service"))
        #expect(try Self.text(root + "/etc/udev/rules.d/99-parklink-gateway.rules")
            == Self.text(Repository.root + "/udev/99-parklink-gateway.rules"))
        #expect(try Self.text(root + "/etc/systemd/system/parklink.service").contains("ExecStart=/usr/local/bin/parklink run --config /etc/parklink/parklink.toml"))
        // The sample config loads with the daemon's loader, pointing at the rule's device.
        let config = try ApplianceConfig.load(path: root + "/etc/parklink/parklink.toml")
        #expect(config.device == "/dev/parklink-gateway")
        #expect(config.stateDirectory == "/var/lib/parklink")
    }

    @Test("install again: an edited config is kept, and it says so; --prefix moves the binary and the unit's ExecStart")
    func reinstallKeepsConfig() throws {
        let root = Repository.temporaryDirectory("plreinst")
        #expect(try Self.parklink(["install", "--root", root]).status == 0)
        let config = root + "/etc/parklink/parklink.toml"
        let edited = try Self.text(config) + "# edited by the technician\n"
        try Data(edited.utf8).write(to: URL(fileURLWithPath: config))
        let again = try Self.parklink(["install", "--root", root, "--prefix", "/opt/parklink"])
        #expect(again.status == 0, "\(again.output)")
        #expect(try Self.text(config) == edited)
        #expect(again.output.contains("keep \(config) (it exists"))
        #expect(FileManager.default.isExecutableFile(atPath: root + "/opt/parklink/bin/parklink"))
        #expect(try Self.text(root + "/etc/systemd/system/parklink.service").contains("ExecStart=/opt/parklink/bin/parklink run"))
    }

    @Test("--dry-run prints the steps a real run takes, and changes nothing")
    func dryRunChangesNothing() throws {
        let dry = Repository.temporaryDirectory("pldry")
        let printed = try Self.parklink(["install", "--root", dry, "--dry-run"])
        #expect(printed.status == 0, "\(printed.output)")
        #expect(try FileSystem.list(dry).isEmpty, "nothing written")
        #expect(printed.output.hasPrefix("dry run: nothing is changed"))
        // The same steps, root for root, as a real install into another empty directory.
        let real = Repository.temporaryDirectory("plreal")
        let done = try Self.parklink(["install", "--root", real])
        #expect(done.status == 0)
        let wouldDo = printed.output.split(separator: "\n").dropFirst().map {
            $0.replacingOccurrences(of: "would ", with: "").replacingOccurrences(of: dry, with: "ROOT")
        }
        let did = done.output.split(separator: "\n").map { $0.replacingOccurrences(of: real, with: "ROOT") }
        #expect(wouldDo == did)
        #expect(did.contains("write ROOT/etc/systemd/system/parklink.service (0644)"))

        let dryUninstall = try Self.parklink(["uninstall", "--root", real, "--purge", "--dry-run"])
        #expect(dryUninstall.status == 0)
        #expect(dryUninstall.output.contains("would remove \(real)/var/lib/parklink and everything in it"))
        #expect(FileManager.default.fileExists(atPath: real + "/usr/local/bin/parklink"), "a dry uninstall removes nothing")
    }

    @Test("uninstall keeps the config and the data; --purge removes them too")
    func uninstallKeepsDataUnlessPurged() throws {
        let root = Repository.temporaryDirectory("pluninst")
        #expect(try Self.parklink(["install", "--root", root]).status == 0)
        let spooled = root + "/var/lib/parklink/spool/0000000001.spool"
        try FileSystem.makeDirectory(root + "/var/lib/parklink/spool")
        try Data("a reading".utf8).write(to: URL(fileURLWithPath: spooled))

        let uninstall = try Self.parklink(["uninstall", "--root", root])
        #expect(uninstall.status == 0, "\(uninstall.output)")
        for (path, _) in Self.files where path != "/etc/parklink/parklink.toml" {
            #expect(!FileManager.default.fileExists(atPath: root + path), "\(path) removed")
            #expect(uninstall.output.contains("remove \(root + path)"))
        }
        #expect(FileManager.default.fileExists(atPath: spooled), "the data stays")
        #expect(FileManager.default.fileExists(atPath: root + "/etc/parklink/parklink.toml"), "the settings stay")
        #expect(uninstall.output.contains("`parklink uninstall --purge` removes them"))

        let purge = try Self.parklink(["uninstall", "--root", root, "--purge"])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(!FileManager.default.fileExists(atPath: root + "/var/lib/parklink"))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/parklink"))
        #expect(purge.output.contains("remove \(root)/var/lib/parklink and everything in it"))
    }

    @Test("--gateway-serial pins the rule to one board; a serial that could break the rule is refused with usage")
    func gatewaySerial() throws {
        let root = Repository.temporaryDirectory("plserial")
        #expect(try Self.parklink(["install", "--root", root, "--gateway-serial", "85736323838351F0E1A1"]).status == 0)
        let rule = try Self.text(root + "/etc/udev/rules.d/99-parklink-gateway.rules")
        #expect(rule.contains("\nENV{ID_SERIAL_SHORT}!=\"85736323838351F0E1A1\", GOTO=\"parklink_end\"\n"))
        let bad = try Self.parklink(["install", "--root", root, "--gateway-serial", "x\", RUN+=\"/bin/sh"])
        #expect(bad.status != 0 && bad.output.contains("--gateway-serial must be"))
        #expect(bad.output.contains("Usage"))
    }

    @Test("without root, install and uninstall on this machine are refused with the fix; --dry-run is allowed",
          .enabled(if: ThrowawayAccounts.available, "needs root and useradd"))
    func nonRootRefused() throws {
        let accounts = ThrowawayAccounts()
        defer { accounts.remove() }
        let user = try accounts.user("i")
        let exe = Repository.parklinkExecutable
        let install = try accounts.run(as: user, exe, ["install"])
        #expect(install.status == 1)
        #expect(install.output.contains("install changes this machine"), "\(install.output)")
        #expect(install.output.contains("so it needs root. Fix: `sudo parklink install`"))
        let uninstall = try accounts.run(as: user, exe, ["uninstall", "--purge"])
        #expect(uninstall.status == 1)
        #expect(uninstall.output.contains("Fix: `sudo parklink uninstall`"))
        let dry = try accounts.run(as: user, exe, ["install", "--dry-run"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("would write /etc/systemd/system/parklink.service (0644)"))
    }

    @Test("on the live system the accounts are made: the user in its group and dialout, and it owns the state directory",
          .enabled(if: ThrowawayAccounts.available, "needs root and useradd"))
    func accountsAndOwnership() throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var layout = InstallLayout(root: Repository.temporaryDirectory("placct"))
        layout.manageAccounts = true
        layout.user = "plt\(tag)svc"
        layout.group = "plt\(tag)svc"
        defer {
            for (tool, name) in [("/usr/sbin/userdel", layout.user), ("/usr/sbin/groupdel", layout.group)] {
                _ = try? ChildProcess(tool, [name]).wait(timeoutSeconds: 30)
            }
        }
        var lines: [String] = []
        try Installer.execute(Installer.installPlan(layout, executable: Repository.parklinkExecutable), dryRun: false) { lines.append($0) }
        #expect(lines.contains { $0.hasPrefix("create group \(layout.group)") })
        #expect(lines.contains { $0.hasPrefix("create user \(layout.user) in group \(layout.group) and dialout") })

        let account = try #require(try Accounts.user(named: layout.user))
        let group = try #require(try Accounts.groupID(named: layout.group))
        let dialout = try #require(try Accounts.groupID(named: "dialout"))
        #expect(account.gid == group)
        #expect(Accounts.groupIDs(ofUser: layout.user, primary: account.gid).contains(dialout))
        let state = try FileSystem.status(layout.onDisk("/var/lib/parklink"))
        #expect(state.owner == account.uid && state.group == group && state.permissions == 0o750)
        let config = try FileSystem.status(layout.onDisk("/etc/parklink/parklink.toml"))
        #expect(config.owner == 0 && config.group == group && config.permissions == 0o640, "root writes it, the service reads it")

        // A second install finds the account as it is and leaves it.
        let again = try Installer.installPlan(layout, executable: Repository.parklinkExecutable)
        #expect(!again.contains { if case .createUser = $0 { true } else { false } })
        #expect(again.contains(.note("user \(layout.user) exists (uid \(account.uid)), in group dialout: kept as it is")))

        // Uninstall keeps the user (its files stay); --purge removes it and its group.
        let keep = try Installer.uninstallPlan(layout, purge: false)
        #expect(!keep.contains(.deleteUser(layout.user)))
        try Installer.execute(Installer.uninstallPlan(layout, purge: true), dryRun: false) { _ in }
        #expect(try Accounts.user(named: layout.user) == nil)
        #expect(try Accounts.groupID(named: layout.group) == nil)
    }

    // MARK: Helpers

    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// `parklink arguments…`, stdout and stderr together.
    static func parklink(_ arguments: [String]) throws -> (status: Int32?, output: String) {
        let p = try ChildProcess(Repository.parklinkExecutable, arguments, standardError: .merge)
        let status = p.wait(timeoutSeconds: 120)
        return (status, p.output)
    }
}

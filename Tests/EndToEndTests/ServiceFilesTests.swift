import Foundation
import ParkLinkDaemon
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// The unit and the rule as systemd and udev would take them.
@Suite("The systemd unit and the udev rule", .serialized, .timeLimit(.minutes(5)))
struct ServiceFilesTests {
    /// systemd-analyze, or why the tests that need it are skipped.
    static let analyze: String? = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static var analyzeAvailable: Bool {
        if analyze == nil { print("skipping: systemd-analyze is not installed (Debian: apt-get install systemd)") }
        return analyze != nil
    }
    /// The host's unit directory: `verify --root` needs the targets the unit depends on.
    static let systemUnits = ["/usr/lib/systemd/system", "/lib/systemd/system"].first {
        FileManager.default.fileExists(atPath: $0 + "/sysinit.target")
    }

    @Test("systemd-analyze verify passes on the unit install wrote into a temporary root, and fails on a broken one",
          .enabled(if: analyzeAvailable, "systemd-analyze is not installed"))
    func verify() throws {
        let root = try Self.installedRoot()
        let unit = root + "/etc/systemd/system/parklink.service"
        let good = try Self.analyze(["verify", "--root=\(root)", unit])
        #expect(good.status == 0, "\(good.output)")
        #expect(!good.output.contains("parklink.service"), "no warning about the unit: \(good.output)")

        // The same check fails when the unit is wrong: the binary it names is not there.
        let broken = root + "/etc/systemd/system/parklink-broken.service"
        let text = try String(contentsOfFile: unit, encoding: .utf8)
            .replacingOccurrences(of: "ExecStart=/usr/local/bin/parklink", with: "ExecStart=/usr/local/bin/parklink-missing")
        try Data(text.utf8).write(to: URL(fileURLWithPath: broken))
        let bad = try Self.analyze(["verify", "--root=\(root)", broken])
        #expect(bad.status != 0, "\(bad.output)")
        #expect(bad.output.contains("parklink-missing"))
    }

    @Test("systemd-analyze security: the unit's exposure is at most 2.0 (README figure)",
          .enabled(if: analyzeAvailable, "systemd-analyze is not installed"))
    func security() throws {
        let root = try Self.installedRoot()
        let r = try Self.analyze(["security", "--offline=true", "--root=\(root)", root + "/etc/systemd/system/parklink.service"])
        #expect(r.status == 0, "\(r.output)")
        let line = try #require(r.output.split(separator: "\n").first { $0.contains("Overall exposure level for parklink.service:") })
        let figure = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        let score = try #require(figure, "\(line)")
        print("systemd-analyze security: parklink.service exposure \(score)")
        #expect(score <= 2.0, "\(r.output)")
        // What the service may never do, whatever the score's weights.
        for setting in ["NoNewPrivileges=", "ProtectSystem=", "ProtectHome=", "PrivateTmp=", "PrivateMounts=",
                        "ProtectKernelModules=", "MemoryDenyWriteExecute=", "RestrictAddressFamilies=~AF_PACKET",
                        "CapabilityBoundingSet=~CAP_SYS_ADMIN", "CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)"] {
            let row = r.output.split(separator: "\n").first { $0.dropFirst(2).hasPrefix(setting) }
            #expect(row?.hasPrefix("✓") == true, "\(setting): \(row ?? "missing")")
        }
    }

    @Test("systemd-sysusers makes the service's user from the installed file: groups parklink and dialout",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-sysusers"), "systemd-sysusers is not installed"))
    func sysusers() throws {
        let root = try Self.installedRoot(withHostUnits: false)
        let p = try ChildProcess("/usr/bin/systemd-sysusers", ["--root=\(root)"], standardError: .merge)
        #expect(p.wait(timeoutSeconds: 60) == 0, "\(p.output)")
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8).split(separator: "\n")
        let user = try #require(passwd.first { $0.hasPrefix("parklink:") }).split(separator: ":", omittingEmptySubsequences: false)
        #expect(user[5] == "/var/lib/parklink" && user[6] == "/usr/sbin/nologin")
        let groups = try String(contentsOfFile: root + "/etc/group", encoding: .utf8).split(separator: "\n")
        let dialout = try #require(groups.first { $0.hasPrefix("dialout:") })
        #expect(dialout.hasSuffix(":parklink"), "\(dialout)")
        let own = try #require(groups.first { $0.hasPrefix("parklink:") }).split(separator: ":")
        #expect(own[2] == user[3], "the user's primary group is parklink")
    }

    @Test("the stop timeout exceeds what a SIGTERM may take: the shutdown grace plus stopping the private MariaDB")
    func stopTimeout() throws {
        let unit = ServiceFiles.unit(bindir: "/usr/local/bin")
        let timeout = try #require(Self.setting("TimeoutStopSec", in: unit).flatMap { Int($0) })
        let grace = ApplianceConfig().shutdownGraceSeconds
        let serverStop = Int(PrivateMariaDBServer.Options().stopTimeout.components.seconds)
        #expect(timeout > grace + serverStop, "TimeoutStopSec=\(timeout), grace \(grace) s + server stop \(serverStop) s")
        // SIGTERM to the daemon alone: the private server it started must outlive the drain.
        #expect(Self.setting("KillMode", in: unit) == "mixed")
        #expect(Self.setting("KillSignal", in: unit) == "SIGTERM")
        // The reader's priority: the capability, the limit it is allowed to use, and nothing
        // that would forbid real-time scheduling.
        #expect(Self.setting("AmbientCapabilities", in: unit) == "CAP_SYS_NICE")
        #expect(Self.setting("CapabilityBoundingSet", in: unit) == "CAP_SYS_NICE")
        #expect(Self.setting("LimitRTPRIO", in: unit).flatMap { Int($0) }.map { $0 >= 10 } == true, "SCHED_FIFO 10")
        #expect(Self.setting("RestrictRealtime", in: unit) == nil)
        #expect(Self.setting("UMask", in: unit) == "0027" && Self.setting("StateDirectoryMode", in: unit) == "0750")
    }

    @Test("the rule names every gateway chip, gives it a stable name and starts the service; the pin is one line")
    func udevRule() throws {
        let rule = ServiceFiles.udevRule()
        let chips = [("2341", nil), ("2a03", nil), ("1a86", "7523"), ("0403", "6001"), ("0403", "6015"), ("10c4", "ea60")]
        let lines = rule.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        for (vendor, product) in chips {
            let match = "ATTRS{idVendor}==\"\(vendor)\"" + (product.map { ", ATTRS{idProduct}==\"\($0)\"" } ?? "")
            #expect(lines.contains(match + ", GOTO=\"parklink_gateway\""), "\(vendor):\(product ?? "*")")
        }
        #expect(lines.filter { $0.contains("GOTO=\"parklink_gateway\"") }.count == chips.count, "no other device")
        let applied = lines.drop { $0 != "LABEL=\"parklink_gateway\"" }.joined(separator: ", ")
        for action in ["SYMLINK+=\"parklink-gateway\"", "GROUP=\"dialout\"", "MODE=\"0660\"", "ENV{ID_MM_DEVICE_IGNORE}=\"1\"",
                       "TAG+=\"systemd\"", "ENV{SYSTEMD_WANTS}+=\"parklink.service\""] {
            #expect(applied.contains(action), "\(action)")
        }
        // Every rule line is `KEY OP "VALUE"` pairs, as udev reads them.
        let pair = #/^[A-Z_]+(\{[A-Za-z_]+\})?(==|!=|\+=|:=|=)"[^"]*"$/#
        for line in lines {
            for part in line.split(separator: ", ") {
                #expect(String(part).wholeMatch(of: pair) != nil, "\(line)")
            }
        }
        // Unpinned by default; pinned, the line is live and carries the serial.
        #expect(!lines.contains { $0.contains("ID_SERIAL_SHORT") })
        let pinned = ServiceFiles.udevRule(pinnedSerial: "A1B2.C3_D4-E5").split(separator: "\n")
        #expect(pinned.contains("ENV{ID_SERIAL_SHORT}!=\"A1B2.C3_D4-E5\", GOTO=\"parklink_end\""))
        #expect(!ServiceFiles.isValidSerial("A1\", RUN+=\"/bin/sh") && !ServiceFiles.isValidSerial(""))
    }

    // MARK: Helpers

    /// `parklink install` into a new temporary root, with the host's systemd units beside it
    /// (verify --root resolves the unit's dependencies, sysinit.target and the rest, there).
    static func installedRoot(withHostUnits: Bool = true) throws -> String {
        let root = Repository.temporaryDirectory("plunit")
        let install = try InstallTests.parklink(["install", "--root", root])
        try #require(install.status == 0, "\(install.output)")
        if withHostUnits, let units = systemUnits {
            try FileSystem.makeDirectory(root + "/usr/lib/systemd", mode: 0o755)
            let copy = try ChildProcess("/bin/cp", ["-a", units, root + "/usr/lib/systemd/system"], standardError: .merge)
            try #require(copy.wait(timeoutSeconds: 60) == 0, "\(copy.output)")
        }
        return root
    }

    static func analyze(_ arguments: [String]) throws -> (status: Int32?, output: String) {
        let p = try ChildProcess(analyze!, arguments, standardError: .merge)
        let status = p.wait(timeoutSeconds: 120)
        return (status, p.output)
    }

    /// The value of `key` in a unit (the last assignment wins, as in systemd).
    static func setting(_ key: String, in unit: String) -> String? {
        unit.split(separator: "\n").last { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }
}

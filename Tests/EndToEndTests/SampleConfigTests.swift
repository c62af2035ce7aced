import Foundation
import ParkLinkDaemon
import ParkLinkTestSupport
import Testing

/// The sample `/etc/parklink/parklink.toml` against the loader it is written for.
@Suite("The sample config install writes")
struct SampleConfigTests {
    @Test("as shipped it loads: the udev rule's device, the unit's state directory, every other setting its default")
    func loadsAsShipped() throws {
        let c = try ApplianceConfig.parse(text: SampleConfig.text, path: "/etc/parklink/parklink.toml")
        #expect(c.device == "/dev/parklink-gateway")
        #expect(c.stateDirectory == "/var/lib/parklink")
        #expect(c.dsn == nil && c.passwordFile == nil, "the private database until one is set")
        #expect(c.zones.zones.isEmpty)
        #expect(Self.settings(c) == Self.settings(ApplianceConfig()))
    }

    @Test("every `#key = value` line, uncommented, loads, and shows the loader's default")
    func commentedValuesAreTheDefaults() throws {
        let passwordFile = Repository.temporaryDirectory("plsample") + "/db-password"
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: passwordFile))
        #expect(chmod(passwordFile, 0o600) == 0)
        let text = Self.uncommented(SampleConfig.text)
            .replacingOccurrences(of: "\"/etc/parklink/db-password\"", with: "\"\(passwordFile)\"")
        let c = try ApplianceConfig.parse(text: text, path: "parklink.toml")
        #expect(Self.settings(c) == Self.settings(ApplianceConfig()))
        #expect(c.dsn == "mysql://parklink@db.example/parklink" && c.passwordFile == passwordFile)
        #expect(c.zones.zones.map(\.id) == ["A"])
    }

    @Test("every key the loader knows is in the sample, section by section, and no other")
    func everyKnownKey() throws {
        let sample = Self.keysBySection(Self.uncommented(SampleConfig.text))
        // The loader names its sections and, for an unknown key, every key of the section.
        let sectionError = try #require(Self.parseError("[zzz]\n"))
        let sections = Self.list(after: "the sections are ", in: sectionError.fix, separator: ", ")
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
        #expect(Set(sections) == Set(sample.keys), "\(sectionError.fix)")
        for section in sections {
            let probe = switch section {
            case "zone": "[[zone]]\nid = \"A\"\nzz_unknown = 1\n"
            case "bay": "[[bay]]\nsensor = 1\nname = \"B\"\nzz_unknown = 1\n"
            case "target": "[[target]]\nzone = \"A\"\ndate = \"2025-12-24\"\ndaily_target = 1\nzz_unknown = 1\n"
            default: "[\(section)]\nzz_unknown = 1\n"
            }
            let error = try #require(Self.parseError(probe), "\(section)")
            let known = Self.list(after: "Known keys in [\(section)]: ", in: error.fix, separator: ", ")
            #expect(Set(known) == Set(sample[section] ?? []), "[\(section)]: the loader knows \(known.sorted())")
        }
    }

    // MARK: Helpers

    /// `#key = value` and `#[section]` lines made live; `# text` stays a comment.
    static func uncommented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard line.hasPrefix("#"), let next = line.dropFirst().first, next.isLetter || next == "[" else { return String(line) }
            return String(line.dropFirst())
        }.joined(separator: "\n")
    }

    /// The keys under each table header.
    static func keysBySection(_ text: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        var current = ""
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if line.hasPrefix("[") {
                current = line.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                out[current, default: []] += []
            } else if let eq = line.firstIndex(of: "=") {
                out[current, default: []].append(line[..<eq].trimmingCharacters(in: .whitespaces))
            }
        }
        return out
    }

    static func parseError(_ text: String) -> ConfigError? {
        do {
            _ = try ApplianceConfig.parse(text: text, path: "probe.toml")
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            return nil
        }
    }

    /// The items after `marker` up to the end of its sentence (`;` or the end).
    static func list(after marker: String, in text: String, separator: String) -> [String] {
        guard let start = text.range(of: marker)?.upperBound else { return [] }
        let rest = text[start...].split(separator: ";").first ?? ""
        return rest.components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Every scalar setting, as text, for comparing two configurations.
    static func settings(_ c: ApplianceConfig) -> [String] {
        [
            "\(c.baud)", "\(c.framing)", "\(c.helloTimeoutMs)", c.fallbackGatewayId, "\(c.readerRealtime)", "\(c.maxSessions)",
            "\(c.ringCapacity)", "\(c.batchMaxRows)", "\(c.batchLingerMs)", "\(c.insertMethod)", "\(c.shutdownGraceSeconds)",
            "\(c.spoolEnabled)", "\(c.spoolMaxMegabytes)", "\(c.spoolSyncIntervalMs)", "\(c.spoolHighWaterPercent)",
            "\(c.samplerIntervalSeconds)", "\(c.healthHistoryIntervalSeconds)", "\(c.hourlyRateCents)", c.timeZone,
            "\(c.alertRules.offlineAfterSeconds)", "\(c.healthRules.freshSeconds)", "\(c.alertRules.highPowerWatts)",
            "\(c.alertRules.lowHealthBelow)", "\(c.alertRules.ringHighFraction)", "\(c.alertRules.zoneFillingMinutes)",
            "\(c.storage.partitions.retentionDays)", "\(c.storage.partitions.daysAhead)", "\(c.storage.rollupRetentionDays)",
            "\(c.storage.intervalMs)",
        ]
    }
}

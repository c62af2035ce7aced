import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// One event, one line: text for a terminal, JSON for a log shipper, the syslog priority
/// in front when stderr is the journal.
@Suite("Log lines", .serialized, .timeLimit(.minutes(5)))
struct LogFormatTests {
    /// 2025-01-02T03:04:05.678Z (and a little: a binary fraction just under .678 would print .677).
    static let date = Date(timeIntervalSince1970: 1_735_787_045.6785)
    static let metadata: Logger.Metadata = [
        "status.command": "ack all", "link.device": "/dev/ttyACM0", "empty": "", "quote": "say \"hi\"",
    ]

    @Test("text: time, level, label, message, then key=value sorted; values with spaces or quotes quoted; newlines escaped")
    func text() {
        let f = LogLineFormat(encoding: .text, journal: false)
        let line = f.line(level: .warning, label: "parklink", message: "two\nlines", metadata: Self.metadata, source: "Test", date: Self.date)
        #expect(line == #"2025-01-02T03:04:05.678Z warning parklink: two\nlines empty="" link.device=/dev/ttyACM0 quote="say \"hi\"" status.command="ack all""#)
        // The journal records the time itself and takes the priority from <N>.
        let journal = LogLineFormat(encoding: .text, journal: true)
        #expect(journal.line(level: .error, label: "parklink", message: "x", metadata: [:], source: "T", date: Self.date) == "<3>error parklink: x")
    }

    @Test("json: one object per line with ts, level, label, message, source and every metadata field")
    func json() throws {
        let f = LogLineFormat(encoding: .json, journal: false)
        var metadata = Self.metadata
        metadata["message"] = "a field called message"
        metadata["batch"] = ["rows": "5000", "ids": ["1", "2"]]
        let line = f.line(level: .notice, label: "parklink", message: "first\nsecond", metadata: metadata, source: "ParkLinkIngest", date: Self.date)
        #expect(!line.contains("\n"), "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2025-01-02T03:04:05.678Z")
        #expect(object["level"] as? String == "notice")
        #expect(object["label"] as? String == "parklink")
        #expect(object["message"] as? String == "first\nsecond")
        #expect(object["source"] as? String == "ParkLinkIngest")
        #expect(object["status.command"] as? String == "ack all")
        #expect(object["link.device"] as? String == "/dev/ttyACM0")
        #expect(object["empty"] as? String == "")
        #expect(object["metadata.message"] as? String == "a field called message", "a field never replaces the message")
        let batch = try #require(object["batch"] as? [String: Any])
        #expect(batch["rows"] as? String == "5000" && batch["ids"] as? [String] == ["1", "2"])
        #expect(object.count == 5 + metadata.count)
        let journal = LogLineFormat(encoding: .json, journal: true)
        #expect(journal.line(level: .info, label: "l", message: "m", metadata: [:], source: "s", date: Self.date).hasPrefix("<6>{"))
    }

    @Test("syslog priorities: critical 2 … debug 7")
    func priorities() {
        let levels: [Logger.Level] = [.critical, .error, .warning, .notice, .info, .debug, .trace]
        #expect(levels.map(LogLineFormat.syslogPriority) == [2, 3, 4, 5, 6, 7, 7])
    }

    @Test("the handler: the logger's metadata and the event's merged, the event's winning; one call, one line")
    func handler() {
        let lines = Locked<[String]>([])
        var logger = Logger(label: "parklink") { label in
            LogLineHandler(label: label, format: LogLineFormat(encoding: .text, journal: true)) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "link.device"] = "/dev/a"
        logger[metadataKey: "run"] = "1"
        logger.notice("link up", metadata: ["link.device": "/dev/b"])
        logger.debug("not at info")
        #expect(lines.withLock { $0 } == ["<5>notice parklink: link up link.device=/dev/b run=1"])
    }

    @Test("stderr is the journal only when JOURNAL_STREAM names stderr's own device and inode")
    func journalDetection() throws {
        let own = try FileSystem.status("/proc/self/fd/2")
        #expect(LogLineHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(own.device):\(own.inode)"]))
        #expect(!LogLineHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(own.device):\(own.inode + 1)"]), "inherited, redirected")
        #expect(!LogLineHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "junk"]))
        #expect(!LogLineHandler.stderrIsJournal(environment: [:]))
    }

    @Test("parklink run --log-format json under the journal: every stderr line is <N> and a JSON object with the fields")
    func daemonWritesJSONLines() throws {
        let dsn = try TestDatabase.newDatabase("e2e_logjson")
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "2000", "--count", "1000", "--sensors", "20", "--seed", "7",
        ])
        let state = Repository.temporaryDirectory("pllog")
        // stderr to a file the test can stat, named in JOURNAL_STREAM as journald would.
        let logFile = state + "/stderr.log"
        try Data().write(to: URL(fileURLWithPath: logFile))
        let file = try FileSystem.status(logFile)
        var environment = ProcessInfo.processInfo.environment
        environment["JOURNAL_STREAM"] = "\(file.device):\(file.inode)"
        environment["PL_STDERR"] = logFile
        let run = try ChildProcess("/bin/sh", [
            "-c", "exec \"$0\" \"$@\" 2>>\"$PL_STDERR\"", Repository.parklinkExecutable,
            "run", "--device", gateway.devicePath, "--framing", "binary", "--db", dsn.description,
            "--state-dir", state, "--log-format", "json", "--log-level", "info",
        ], environment: environment.map { "\($0.key)=\($0.value)" })
        let manifest = try gateway.finish()
        #expect(eventually(timeoutSeconds: 30) {
            (try? StatusClient.status(socket: StateDirectory(path: state).statusSocket))?.store.rows_committed == manifest.readings.count
        })
        run.signal(SIGTERM)
        #expect(run.wait(timeoutSeconds: 60) == 0)

        let lines = try String(contentsOfFile: logFile, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3, "\(lines)")
        var messages: [String: [String: Any]] = [:]
        for line in lines {
            let match = try #require(line.wholeMatch(of: #/<([0-7])>(\{.*\})/#), "\(line)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(match.2.utf8)) as? [String: Any], "\(line)")
            for key in ["ts", "level", "label", "message", "source"] { #expect(object[key] is String, "\(key) in \(line)") }
            let level = try #require((object["level"] as? String).flatMap(Logger.Level.init(rawValue:)))
            #expect(Int(match.1) == LogLineFormat.syslogPriority(level), "\(line)")
            #expect((object["ts"] as? String).map { $0.wholeMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/#) != nil } == true)
            messages[object["message"] as? String ?? ""] = object
        }
        #expect(messages["link up"]?["link.device"] as? String == gateway.devicePath, "\(messages.keys.sorted())")
        #expect(messages["pipeline stopped"] != nil)
    }
}

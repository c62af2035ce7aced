import Foundation
@testable import ParkLinkDaemon
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// The live requests of the status protocol (`override`, `watch`) and the pieces behind
/// them that need no daemon: time arguments, webhook URLs, the LED bookkeeping, and the
/// watch feed's treatment of a slow reader (over a real socket).
@Suite("Live protocol: override and watch requests, LED bookkeeping, slow watchers")
struct LiveProtocolTests {
    func answer(_ line: String) -> StatusReply? {
        try? JSONDecoder().decode(StatusReply.self, from: Data(StatusServer.answer(line) { _ in StatusReply(.ok) }.utf8))
    }

    @Test("override and watch requests round-trip, and reach the handler as sent")
    func roundTrip() throws {
        let commands: [StatusRequest.Command] = [
            .override(OverrideRequest(sensor: 12, state: .occupied)),
            .override(OverrideRequest(gateway: "GW-01", sensor: 65_535, state: .free, reason: "coned off \"A\" ✓", seconds: 3_600)),
            .override(OverrideRequest(sensor: 0, state: .auto, reason: "done")),
            .watch(zone: nil, sinceMs: nil), .watch(zone: "A", sinceMs: 1_700_000_000_000), .watch(zone: nil, sinceMs: 0),
        ]
        for command in commands {
            let request = StatusRequest(command)
            let line = try StatusProtocol.json(request)
            #expect(try JSONDecoder().decode(StatusRequest.self, from: Data(line.utf8)) == request)
            let seen = Locked<StatusRequest?>(nil)
            _ = StatusServer.answer(line) { r in
                seen.withLock { $0 = r }
                return StatusReply(.ok)
            }
            #expect(seen.withLock { $0 } == request)
        }
    }

    @Test("a malformed override or watch is refused with bad_arguments naming what is needed")
    func badArguments() throws {
        let bad = [
            #"{"version":1,"request":"override","sensor":12}"#,
            #"{"version":1,"request":"override","sensor":12,"state":"maybe"}"#,
            #"{"version":1,"request":"override","sensor":70000,"state":"free"}"#,
            #"{"version":1,"request":"override","sensor":12,"state":"free","for_seconds":0}"#,
            #"{"version":1,"request":"override","sensor":12,"state":"auto","for_seconds":60}"#,
            #"{"version":1,"request":"override","sensor":12,"state":"free","gateway_id":"GW 1"}"#,
            #"{"version":1,"request":"override","sensor":12,"state":"free","reason":7}"#,
            #"{"version":1,"request":"override","sensor":12,"state":"free","reason":"\#(String(repeating: "x", count: 256))"}"#,
            #"{"version":1,"request":"watch","since":-5}"#,
            #"{"version":1,"request":"watch","zone":12}"#,
        ]
        for line in bad {
            guard case .error(let p)? = answer(line)?.body else {
                Issue.record("accepted: \(line)")
                continue
            }
            #expect(p.code == .badArguments, "\(line)")
        }
        // Optional arguments may be null as well as absent.
        guard case .ok? = answer(#"{"version":1,"request":"override","sensor":12,"state":"free","reason":null,"for_seconds":null}"#)?.body else {
            Issue.record("null optional arguments refused")
            return
        }
    }

    @Test("override changes the daemon, so it needs the operator's rights; watch only reads")
    func access() {
        #expect(StatusAccess.level(of: .override(OverrideRequest(sensor: 1, state: .free))) == .command)
        #expect(StatusAccess.level(of: .watch(zone: nil, sinceMs: nil)) == .read)
    }

    @Test("replies round-trip; every key of a watch event is on the wire, null when it does not apply")
    func replies() throws {
        let event = WatchEvent(kind: "bay", event: "arrival", atMs: 1_700_000_000_123, key: "bay/GW/1/2", sensor: "GW/2", zone: "A",
                               bay: "A-2", state: "occupied")
        let o = BayOverride(id: 5, bay: SensorKey(gatewayId: "GW", sensor: 2), zone: nil, occupied: true, reason: nil, setByUid: 1000,
                            setByUser: "alice", setByPid: 42, setAtMs: 1_700_000_000_000, expiresAtMs: nil)
        let bodies: [StatusReply.Body] = [
            .event(event), .watching(WatchStart(zone: nil, since: nil)), .watching(WatchStart(zone: "A", since: "2023-11-14T22:13:20.000Z")),
            .overridden(OverrideReply(sensor: "GW/2", state: "occupied", override: OverrideRow(o), ended: nil)),
            .overridden(OverrideReply(sensor: "GW/2", state: "auto", override: nil, ended: nil, note: "the bay had no override")),
            .error(StatusProblem(code: .tooSlow, message: "too slow")),
        ]
        for body in bodies {
            let line = try StatusProtocol.json(StatusReply(body))
            #expect(try JSONDecoder().decode(StatusReply.self, from: Data(line.utf8)) == StatusReply(body))
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(StatusProtocol.json(event).utf8)) as? [String: Any])
        #expect(Set(json.keys) == ["kind", "event", "at", "sensor", "zone", "bay", "state", "alert_id", "alert_type", "severity", "subject",
                                   "message", "override_id", "by", "reason", "expires_at", "replayed"])
        #expect(json["alert_id"] is NSNull && json["by"] is NSNull)
        #expect(json["at"] as? String == "2023-11-14T22:13:20.123Z")
        let row = try #require(try JSONSerialization.jsonObject(with: Data(StatusProtocol.json(OverrideRow(o)).utf8)) as? [String: Any])
        #expect(Set(row.keys) == ["id", "sensor", "zone", "state", "reason", "set_by", "set_at", "expires_at"])
        #expect(row["set_by"] as? String == "alice (uid 1000)" && row["zone"] is NSNull)
    }

    @Test("bays are named as alerts name them: 12 or GW-01/12")
    func bayNames() {
        #expect(OverrideRequest.bay("12")! == (nil, 12))
        #expect(OverrideRequest.bay("GW-01/12")! == ("GW-01", 12))
        for bad in ["", "x", "70000", "GW 1/2", "a/b/3", "/3", "GW/"] { #expect(OverrideRequest.bay(bad) == nil, "\(bad)") }
    }

    @Test("durations and times as a technician types them")
    func timeText() throws {
        #expect(try TimeText.seconds("90") == 90)
        #expect(try TimeText.seconds("90s") == 90)
        #expect(try TimeText.seconds("15m") == 900)
        #expect(try TimeText.seconds("1h30m") == 5_400)
        #expect(try TimeText.seconds("2D") == 172_800)
        for bad in ["", "0", "-5", "5x", "m", "1h30", "1.5h"] {
            #expect(throws: TimeText.Invalid.self, "\(bad)") { try TimeText.seconds(bad) }
        }
        let now: Int64 = 1_700_000_000_000
        #expect(try TimeText.instant("15m", nowMs: now) == now - 900_000)
        #expect(try TimeText.instant("2023-11-14T22:13:20Z", nowMs: now) == 1_700_000_000_000)
        #expect(try TimeText.instant("2023-11-14T22:13:20.5+01:00", nowMs: now) == 1_699_996_400_500)
        let london = try #require(TimeZone(identifier: "Europe/London"))
        #expect(try TimeText.instant("2023-07-01 08:00", nowMs: now, timeZone: london) == 1_688_194_800_000, "local summer time")
        #expect(try TimeText.instant("2023-07-01", nowMs: now, timeZone: london) == 1_688_166_000_000)
        #expect(throws: TimeText.Invalid.self) { try TimeText.instant("yesterday", nowMs: now) }
        #expect(throws: TimeText.Invalid.self) { try TimeText.instant("2023-02-30", nowMs: now) }
    }

    @Test("webhook URLs: http only, with the host, port and path the request uses")
    func webhookURLs() throws {
        let u = try WebhookURL("http://alerts.example:8080/hooks/parklink?x=1")
        #expect(u.host == "alerts.example" && u.port == 8080 && u.target == "/hooks/parklink?x=1")
        #expect(try WebhookURL("http://10.0.0.5").target == "/")
        #expect(try WebhookURL("http://10.0.0.5").port == 80)
        #expect(try WebhookURL("http://[::1]:9000/x").host == "::1")
        #expect(WebhookURL.problem("https://alerts.example/")?.contains("https is not supported") == true)
        for bad in ["ftp://x/", "http://", "http://user@host/", "http://host:0/", "http://host:99999/"] {
            #expect(WebhookURL.problem(bad) != nil, "\(bad)")
        }
    }

    @Test("[notify] and flapping_changes_per_minute in the config file; mistakes name the line and the fix")
    func notifyConfig() throws {
        let c = try ApplianceConfig.parse(text: """
            [sampler]
            flapping_changes_per_minute = 4

            [notify]
            webhook = "http://alerts.example:8080/parklink"
            command = "/usr/local/bin/page-oncall"
            min_severity = "critical"
            escalate_after_minutes = 15
            escalation_webhook = "http://oncall.example/escalate"
            timeout_seconds = 5
            retries = 2
            retry_backoff_seconds = 1.5
            queue = 64
            """)
        #expect(c.alertRules.flappingChangesPerMinute == 4)
        let n = c.notify
        #expect(n.webhook == (try WebhookURL("http://alerts.example:8080/parklink")) && n.command == "/usr/local/bin/page-oncall")
        #expect(n.minSeverity == .critical && n.escalateAfterSeconds == 900 && n.escalationCommand == nil)
        #expect(n.escalationWebhook?.host == "oncall.example" && n.timeoutSeconds == 5 && n.retries == 2)
        #expect(n.retryBackoffSeconds == 1.5 && n.queueCapacity == 64)
        #expect(!ApplianceConfig().notify.isEnabled, "nothing configured: no notifier")
        let mistakes: [(String, Int, String)] = [
            ("[notify]\nwebhook = \"https://x.example/\"\n", 2, "https is not supported"),
            ("[notify]\nwebhook = \"http://x/\"\nmin_severity = \"loud\"\n", 3, "min_severity `loud` is not a severity"),
            ("[notify]\ncommand = \"x\"\nretrys = 3\n", 3, "did you mean `retries`?"),
            ("[notify]\nretries = 3\n", 1, "[notify] names no action"),
        ]
        for (text, line, message) in mistakes {
            do {
                _ = try ApplianceConfig.parse(text: text, path: "/etc/parklink/parklink.toml")
                Issue.record("accepted: \(text)")
            } catch let e as ConfigError {
                #expect(e.file == "/etc/parklink/parklink.toml" && e.line == line, "\(e)")
                #expect(e.description.contains(message) && e.description.contains("Fix: "), "\(e)")
            }
        }
    }

    // MARK: LEDs

    func bay(_ n: UInt16) -> SensorKey { SensorKey(gatewayId: "GW", sensor: n) }
    let up = BayLights.Epoch(connected: true, opens: 1, session: "GW/1", commandsDropped: 0)

    @Test("an LED command goes out only when the wanted colour differs from the last one sent")
    func deduplicated() {
        var lights = BayLights()
        var sent: [LEDCommand] = []
        let send: (LEDCommand) -> Bool = { sent.append($0); return true }
        lights.bayChanged(bay(1), occupied: true, atMs: 1_000)
        _ = lights.reconcile(overridden: [], epoch: up, space: 100, send: send)
        lights.bayChanged(bay(1), occupied: true, atMs: 2_000)  // a replayed change: same colour
        _ = lights.reconcile(overridden: [], epoch: up, space: 100, send: send)
        lights.sampled([bay(1): BayCondition(occupied: true)], atMs: 3_000)
        _ = lights.reconcile(overridden: [], epoch: up, space: 100, send: send)
        #expect(sent == [LEDCommand(sensor: 1, color: .red)])
        #expect(lights.deduplicated == 1)
        lights.bayChanged(bay(1), occupied: false, atMs: 4_000)
        _ = lights.reconcile(overridden: [], epoch: up, space: 100, send: send)
        _ = lights.reconcile(overridden: [bay(1)], epoch: up, space: 100, send: send)  // nothing dirty: the override's change marks it
        lights.overrideChanged(bay(1))
        _ = lights.reconcile(overridden: [bay(1)], epoch: up, space: 100, send: send)
        #expect(sent.map(\.color) == [.red, .green, .blue])
    }

    @Test("a new link epoch sends every bay again; a down link or a full queue holds commands back, losing none")
    func epochsAndRoom() {
        var lights = BayLights()
        var sent: [LEDCommand] = []
        for n in 1...5 { lights.bayChanged(bay(UInt16(n)), occupied: n % 2 == 0, atMs: 1_000) }
        var down = up
        down.connected = false
        #expect(lights.reconcile(overridden: [], epoch: down, space: 100) { sent.append($0); return true } == 0)
        #expect(lights.reconcile(overridden: [], epoch: up, space: 2) { sent.append($0); return true } == 2, "no more than the queue has room for")
        #expect(lights.pending == 3)
        #expect(lights.reconcile(overridden: [], epoch: up, space: 100) { _ in false } == 0, "refused: still pending")
        _ = lights.reconcile(overridden: [], epoch: up, space: 100) { sent.append($0); return true }
        #expect(Set(sent.map(\.sensor)) == [1, 2, 3, 4, 5] && sent.count == 5)
        var reopened = up
        reopened.opens = 2
        _ = lights.reconcile(overridden: [], epoch: reopened, space: 100) { sent.append($0); return true }
        #expect(sent.count == 10, "the gateway may show anything after a reopen: all five again")
        var dropped = reopened
        dropped.commandsDropped = 1
        _ = lights.reconcile(overridden: [], epoch: dropped, space: 100) { sent.append($0); return true }
        #expect(sent.count == 15, "a command the port did not take: all again")
    }

    @Test("an override of a bay that never reported ends with its LED off")
    func silentBay() {
        var lights = BayLights()
        var sent: [LEDCommand] = []
        lights.overrideChanged(bay(9))
        _ = lights.reconcile(overridden: [bay(9)], epoch: up, space: 10) { sent.append($0); return true }
        lights.overrideChanged(bay(9))
        _ = lights.reconcile(overridden: [], epoch: up, space: 10) { sent.append($0); return true }
        #expect(sent == [LEDCommand(sensor: 9, color: .blue), LEDCommand(sensor: 9, color: .off)])
    }

    @Test("a sampler snapshot does not undo a newer bay change, but mends a bay whose events stopped a minute ago")
    func snapshotVersusEvents() {
        var lights = BayLights()
        var sent: [LEDCommand] = []
        lights.bayChanged(bay(1), occupied: true, atMs: 100_000)
        lights.sampled([bay(1): BayCondition(occupied: false)], atMs: 100_500)
        _ = lights.reconcile(overridden: [], epoch: up, space: 10) { sent.append($0); return true }
        #expect(sent.last?.color == .red)
        lights.sampled([bay(1): BayCondition(occupied: false)], atMs: 161_000)
        _ = lights.reconcile(overridden: [], epoch: up, space: 10) { sent.append($0); return true }
        #expect(sent.last?.color == .green)
        lights.sampled([bay(1): BayCondition(occupied: false, offline: true)], atMs: 200_000)
        _ = lights.reconcile(overridden: [], epoch: up, space: 10) { sent.append($0); return true }
        #expect(sent.last?.color == .amber)
    }

    // MARK: Slow watchers

    // A publish that waited for the reader would hang here: the time limit fails it.
    @Test("a watcher that does not read is dropped with a too_slow line, its stream whole lines to the end", .timeLimit(.minutes(1)))
    func slowWatcherDropped() throws {
        let path = Repository.temporaryDirectory("plfeed") + "/s.sock"
        let listener = try UnixSocket.listen(path: path)
        let client = try UnixSocket.connect(path: path)
        let server = try UnixSocket.accept(listener)
        var small: Int32 = 4_096
        setsockopt(server.raw, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let feed = WatchFeed(maxBacklogBytes: 16_384, maxHeldEvents: 10)
        _ = feed.add(fd: server, zone: nil, replaying: false)
        var published = 0
        while feed.droppedSlow == 0 && published < 100_000 {
            feed.publish(WatchEvent(kind: "bay", event: "arrival", atMs: 1_700_000_000_000 + Int64(published), key: "k\(published)",
                                    sensor: "GW/1", state: "occupied"))
            published += 1
            feed.service([], of: [], nowMs: 0)
        }
        #expect(feed.droppedSlow == 1)
        #expect(published < 1_000, "dropped once its backlog passed 16 KiB, not after the socket's own buffers grew")
        // The client reads now: whole JSON lines, the last one the error; then the end.
        var reader = LineReader(fd: client)
        var lines: [String] = []
        for _ in 0..<200 where feed.subscribers.count > 0 {
            feed.service([], of: [], nowMs: Clock.wallMilliseconds())
            UnixSocket.setTimeouts(client, milliseconds: 50)
            while let line = try? reader.next() { lines.append(line) }
        }
        UnixSocket.setTimeouts(client, milliseconds: 2_000)
        while let line = try reader.next() { lines.append(line) }
        #expect(feed.subscribers.isEmpty, "closed after the last line went out")
        let replies = lines.compactMap { try? JSONDecoder().decode(StatusReply.self, from: Data($0.utf8)) }
        #expect(replies.count == lines.count && lines.count > 1, "every line whole")
        guard case .error(let p)? = replies.last?.body else {
            Issue.record("no error line at the end")
            return
        }
        #expect(p.code == .tooSlow)
        #expect(replies.dropLast().allSatisfy { if case .event = $0.body { true } else { false } })
        client.close()
        listener.close()
    }
}

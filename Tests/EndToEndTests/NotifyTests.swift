import Foundation
import ParkLinkDaemon
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// Alert actions (`[notify]`) of a real `parklink run` process, against an HTTP server
/// this test runs on a local port and a command that writes a file.
@Suite("Notifications: a webhook and a command on raise, escalation, retries", .serialized, .timeLimit(.minutes(5)))
struct NotifyTests {
    /// A tiny HTTP/1.1 server: records each request's body, answers each in turn with the
    /// next status of `statuses` (then 200).
    final class HookServer: @unchecked Sendable {
        let port: UInt16
        private let listener: FileDescriptor
        private let service: ServiceThread
        private let received = Locked<[(path: String, body: String, atMs: Int64)]>([])
        private let statuses: Locked<[Int]>

        init(statuses: [Int] = []) throws {
            (listener, port) = try TCPSocket.listen()
            self.statuses = Locked(statuses)
            service = try ServiceThread(name: "test-hook")
            service.start { [self] in
                while !service.isStopping {
                    guard let ready = try? service.wait(for: [PollRequest(fd: listener.raw, events: Int16(POLLIN))], timeoutMs: 200),
                          ready[0] != 0, let client = try? UnixSocket.accept(listener) else { continue }
                    serve(client)
                    client.close()
                }
            }
        }

        var requests: [(path: String, body: String, atMs: Int64)] { received.withLock { $0 } }

        private func serve(_ client: FileDescriptor) {
            UnixSocket.setTimeouts(client, milliseconds: 2_000)
            var data: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4_096)
            var bodyStart: Int?
            var length = 0
            while true {
                if let start = bodyStart, data.count - start >= length { break }
                guard let n = try? chunk.withUnsafeMutableBytes({ try client.read(into: $0) }), n > 0 else { return }
                data += chunk[0..<n]
                if bodyStart == nil, let end = data.firstRange(of: Array("\r\n\r\n".utf8)) {
                    bodyStart = end.upperBound
                    let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
                    for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                        length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
            let head = String(decoding: data[..<(bodyStart ?? 0)], as: UTF8.self)
            let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            let body = String(decoding: data[(bodyStart ?? 0)...], as: UTF8.self)
            received.withLock { $0.append((path, body, Clock.wallMilliseconds())) }
            let status = statuses.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            try? UnixSocket.sendAll(client, Array("HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        }

        func stop() {
            service.stop()
            listener.close()
        }
    }

    /// `parklink run` on a device that does not exist: LINK_DOWN (critical) is raised at
    /// the sampler's first cycle, and stays open.
    func daemon(_ label: String, notify: String) throws -> (run: ChildProcess, state: String) {
        let dsn = try TestDatabase.newDatabase(label)
        let state = Repository.temporaryDirectory("plnotify")
        let config = state + "/parklink.toml"
        try """
            [sampler]
            interval_seconds = 0.5

            [notify]
            \(notify)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", state + "/no-such-tty", "--db", dsn.description, "--state-dir", state, "--config", config,
            "--log-level", "warning",
        ])
        return (run, state)
    }

    func json(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    @Test("raise: POSTed (retried after a 500) and the command run; unacknowledged: escalated to the webhook")
    func escalationReachesTheWebhook() throws {
        let server = try HookServer(statuses: [500])
        defer { server.stop() }
        let state0 = Repository.temporaryDirectory("plnotifyout")
        let out = state0 + "/command.out"
        let (run, state) = try daemon("notify_esc", notify: """
            webhook = "http://127.0.0.1:\(server.port)/hooks/parklink"
            command = "printf '%s %s %s\\\\n' \\"$PARKLINK_EVENT\\" \\"$PARKLINK_ALERT_TYPE\\" \\"$PARKLINK_ALERT_SEVERITY\\" >> \(out)"
            min_severity = "critical"
            escalate_after_minutes = 0.05
            retries = 3
            retry_backoff_seconds = 0.2
            timeout_seconds = 2
            """)
        defer {
            run.signal(SIGTERM)
            _ = run.wait(timeoutSeconds: 30)
        }
        let started = Clock.wallMilliseconds()
        #expect(eventually(timeoutSeconds: 30) { server.requests.contains { json($0.body)["event"] as? String == "escalated" } },
                "requests: \(server.requests.map(\.body)), daemon: \(run.output)")
        let requests = server.requests
        #expect(requests.allSatisfy { $0.path == "/hooks/parklink" })
        let bodies = requests.map { json($0.body) }
        // First attempt answered 500, the retry delivered the same raise.
        #expect(bodies.count >= 3)
        #expect(bodies.prefix(2).allSatisfy { $0["event"] as? String == "raised" })
        let alert = try #require(bodies[1]["alert"] as? [String: Any])
        #expect(alert["type"] as? String == "LINK_DOWN" && alert["severity"] as? String == "critical")
        #expect(alert["acknowledged"] as? Bool == false && alert["acknowledged_at"] is NSNull)
        #expect(bodies[1]["unacknowledged_minutes"] is NSNull)
        #expect((bodies[1]["appliance"] as? String)?.hasSuffix(":" + state) == true)
        let escalation = try #require(bodies.first { $0["event"] as? String == "escalated" })
        #expect((escalation["alert"] as? [String: Any])?["id"] as? Int == alert["id"] as? Int)
        #expect(((escalation["unacknowledged_minutes"] as? Double) ?? 0) >= 0.05)
        let escalatedAt = try #require(requests.first { json($0.body)["event"] as? String == "escalated" }?.atMs)
        #expect(escalatedAt - started >= 3_000, "not before the alert was 3 s old")
        #expect(bodies.filter { $0["event"] as? String == "escalated" }.count == 1, "escalated once")
        // The command ran for both.
        #expect(eventually(timeoutSeconds: 10) {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            return text.contains("raised LINK_DOWN critical\n") && text.contains("escalated LINK_DOWN critical\n")
        })
        let status = try #require(try? StatusClient.status(socket: StateDirectory(path: state).statusSocket))
        let notify = try #require(status.live?.notify)
        #expect(notify.sent == 4 && notify.retries == 1 && notify.failed == 0 && notify.escalations == 1 && notify.dropped == 0, "\(notify)")
    }

    @Test("an alert acknowledged in time is not escalated; a failing command is retried, then given up on and counted")
    func acknowledgedInTimeIsNotEscalated() throws {
        let server = try HookServer(statuses: [])
        defer { server.stop() }
        let (run, state) = try daemon("notify_ack", notify: """
            webhook = "http://127.0.0.1:\(server.port)/h"
            command = "exit 3"
            min_severity = "critical"
            escalate_after_minutes = 0.1
            retries = 1
            retry_backoff_seconds = 0.1
            timeout_seconds = 1
            """)
        defer {
            run.signal(SIGTERM)
            _ = run.wait(timeoutSeconds: 30)
        }
        #expect(eventually(timeoutSeconds: 20) { !server.requests.isEmpty })
        let id = try #require((json(server.requests[0].body)["alert"] as? [String: Any])?["id"] as? Int)
        let ack = try ChildProcess(Repository.parklinkExecutable, ["alerts", "ack", String(id), "--state-dir", state])
        #expect(ack.wait(timeoutSeconds: 30) == 0)
        Thread.sleep(forTimeInterval: 8)
        #expect(server.requests.count == 1, "raised once, never escalated: \(server.requests.map(\.body))")
        let notify = try #require(try StatusClient.status(socket: StateDirectory(path: state).statusSocket).live?.notify)
        #expect(notify.escalations == 0 && notify.sent == 1)
        #expect(notify.failed == 1 && notify.retries == 1, "the command: two attempts, then given up")
        #expect(notify.last_error == "the command exited with 3")
    }
}

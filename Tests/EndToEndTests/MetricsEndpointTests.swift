import Foundation
import ParkLinkDaemon
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// `parklink run --metrics-listen`: Prometheus text on GET /metrics, scraped from the real
/// daemon process while readings flow; and what the endpoint answers to anything else.
@Suite("Metrics: the Prometheus endpoint", .serialized, .timeLimit(.minutes(5)))
struct MetricsEndpointTests {
    /// A port the kernel just gave out and took back (the daemon binds it again at once).
    static func freePort() throws -> UInt16 {
        let fd = try TCPSocket.listen(try TCPAddress(parsing: "127.0.0.1:0"))
        defer { fd.close() }
        return try TCPSocket.localPort(fd)
    }

    /// One raw request; the raw response (status line, headers, body).
    static func exchange(_ request: [UInt8], port: UInt16) throws -> String {
        let fd = try TCPSocket.connect(try TCPAddress(parsing: "127.0.0.1:\(port)"))
        defer { fd.close() }
        UnixSocket.setTimeouts(fd, milliseconds: 5_000)
        try fd.writeAll(request)
        return String(decoding: try UnixSocket.readAll(fd), as: UTF8.self)
    }

    static func get(_ path: String, port: UInt16) throws -> String {
        try exchange(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n".utf8), port: port)
    }

    /// The samples of a Prometheus text body: `name{labels}` → value.
    static func samples(_ response: String) -> [String: Double] {
        let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        var out: [String: Double] = [:]
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }

    @Test("a scrape while readings flow: the counters status shows, moving, under Prometheus names")
    func scrapeWhileDataFlows() throws {
        let dsn = try TestDatabase.newDatabase("e2e_metrics")
        let gateway = try IndependentGateway(arguments: [
            "--framing", "text", "--rate", "2000", "--count", "16000", "--sensors", "100", "--seed", "11",
            "--corrupt", "0.01",
        ])
        let state = Repository.temporaryDirectory("plmet")
        let port = try Self.freePort()
        let daemon = try ChildProcess(Repository.parklinkExecutable, [
            "run", "--device", gateway.devicePath, "--framing", "text", "--db", dsn.description,
            "--state-dir", state, "--log-level", "warning", "--metrics-listen", "127.0.0.1:\(port)",
        ], standardError: .merge)
        defer { daemon.signal(SIGKILL) }
        let socket = StateDirectory(path: state).statusSocket

        // Mid-stream: some readings committed, more to come.
        #expect(eventually(timeoutSeconds: 30) { ((try? StatusClient.status(socket: socket))?.store.rows_committed ?? 0) > 1_000 })
        let first = try Self.get("/metrics", port: port)
        #expect(first.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(first.prefix(200))")
        #expect(first.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(first.contains("# TYPE parklink_readings_committed_total counter"))
        #expect(first.contains("# TYPE parklink_commit_latency_seconds histogram"))
        #expect(first.contains("# TYPE parklink_ring_fill_ratio gauge"))
        let a = Self.samples(first)
        let committedA = try #require(a["parklink_readings_committed_total"])
        #expect(committedA > 0)

        let manifest = try gateway.finish()
        let settled = eventually(timeoutSeconds: 60) {
            (try? StatusClient.status(socket: socket))?.store.rows_committed == manifest.readings.count
        }
        #expect(settled)
        // At rest, a second scrape: the counters moved, and say what status says.
        let status = try StatusClient.status(socket: socket)
        let b = Self.samples(try Self.get("/metrics", port: port))
        #expect(try #require(b["parklink_readings_committed_total"]) > committedA, "the counter moved between scrapes")
        #expect(b["parklink_readings_committed_total"] == Double(status.store.rows_committed))
        #expect(b["parklink_readings_received_total"] == Double(status.link.readings))
        #expect(b["parklink_frames_total"] == Double(status.link.frames))
        #expect(b["parklink_link_bytes_total"] == Double(status.link.bytes))
        let badCRC = try #require(b["parklink_frames_rejected_total{reason=\"bad_crc\"}"])
        #expect(badCRC > 0 && badCRC == Double(status.link.rejects["bad_crc"] ?? -1), "1% of the frames had a bad CRC")
        #expect(b["parklink_frames_rejected_total{reason=\"too_long\"}"] == 0, "every reason is there, 0 when nothing was")
        // Every committed reading's latency is in the histogram, once.
        #expect(b["parklink_commit_latency_seconds_count"] == Double(status.store.latency_ms.samples))
        #expect(b["parklink_commit_latency_seconds_bucket{le=\"+Inf\"}"] == Double(status.store.latency_ms.samples))
        #expect((b["parklink_commit_latency_seconds_sum"] ?? -1) >= 0)
        #expect(b["parklink_ring_fill_ratio"] == 0, "the ring is empty at rest")
        #expect(b["parklink_ring_capacity"] == Double(status.ring.capacity))
        #expect(b["parklink_spool_bytes"] != nil)
        #expect(a["parklink_link_connected"] == 1, "mid-stream, the link is up")
        #expect(b["parklink_link_connected"] == (status.link.connected ? 1 : 0))
        #expect(b["parklink_store_connected"] == 1)
        #expect(b["parklink_readings_dropped_total{reason=\"session_limit\"}"] == 0)
        // The sampler's alerts, by severity, once it has run.
        let alerts = eventually(timeoutSeconds: 20) {
            let s = (try? Self.get("/metrics", port: port)).map(Self.samples) ?? [:]
            return ["critical", "warning", "info"].allSatisfy { s["parklink_alerts_open{severity=\"\($0)\"}"] != nil }
        }
        #expect(alerts, "parklink_alerts_open by severity")

        // Anything but GET/HEAD /metrics gets a plain refusal, and the endpoint goes on serving.
        #expect(try Self.get("/", port: port).hasPrefix("HTTP/1.1 404 "))
        #expect(try Self.exchange(Array("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8), port: port).hasPrefix("HTTP/1.1 405 "))
        #expect(try Self.exchange(Array("hello\r\n\r\n".utf8), port: port).hasPrefix("HTTP/1.1 400 "))
        let huge = Array("GET /metrics HTTP/1.1\r\nX-Pad: \(String(repeating: "a", count: 20_000))\r\n\r\n".utf8)
        #expect(((try? Self.exchange(huge, port: port)) ?? "").hasPrefix("HTTP/1.1 431 "), "a head over 8 KiB is refused")
        let head = try Self.exchange(Array("HEAD /metrics HTTP/1.1\r\n\r\n".utf8), port: port)
        #expect(head.hasPrefix("HTTP/1.1 200 ") && head.hasSuffix("\r\n\r\n"), "HEAD: headers only")
        #expect(try Self.get("/metrics", port: port).hasPrefix("HTTP/1.1 200 "))

        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeoutSeconds: 60) == 0)
    }

    @Test("a bad --metrics-listen is a usage error that shows the form it takes")
    func badAddress() throws {
        let p = try ChildProcess(Repository.parklinkExecutable, ["run", "--device", "/dev/null", "--metrics-listen", "9464"],
                                 standardError: .merge)
        #expect(p.wait(timeoutSeconds: 30) != 0)
        #expect(p.output.contains("--metrics-listen") && p.output.contains("HOST:PORT"), "\(p.output)")
        let q = try ChildProcess(Repository.parklinkExecutable, ["run", "--metrics-listen", "example.com:9464"], standardError: .merge)
        #expect(q.wait(timeoutSeconds: 30) != 0)
        #expect(q.output.contains("not an IPv4 or IPv6 address"), "\(q.output)")
    }

    @Test("HTTPExchange: the answer to each kind of request head")
    func exchangeAnswers() {
        let body: () -> [UInt8] = { Array("m 1\n".utf8) }
        func answer(_ s: String) -> HTTPExchange.Response { HTTPExchange.respond(toHead: Array(s.utf8), metrics: body) }
        #expect(answer("GET /metrics HTTP/1.1\r\n\r\n").status == 200)
        #expect(answer("GET /metrics?x=1 HTTP/1.0\n\n").status == 200, "a query string and bare newlines are fine")
        #expect(answer("GET /metrics HTTP/1.1\r\n\r\n").body == Array("m 1\n".utf8))
        #expect(answer("HEAD /metrics HTTP/1.1\r\n\r\n").bytes.count < answer("GET /metrics HTTP/1.1\r\n\r\n").bytes.count)
        #expect(answer("GET /metricsx HTTP/1.1\r\n\r\n").status == 404)
        #expect(answer("DELETE /metrics HTTP/1.1\r\n\r\n").status == 405)
        #expect(String(decoding: answer("PUT /metrics HTTP/1.1\r\n\r\n").bytes, as: UTF8.self).contains("Allow: GET, HEAD"))
        #expect(answer("GET /metrics HTTP/2.0\r\n\r\n").status == 505)
        #expect(answer("GET  /metrics HTTP/1.1\r\n\r\n").status == 400, "two spaces: an empty field")
        #expect(answer("GET /met\u{01}rics HTTP/1.1\r\n\r\n").status == 400, "control characters")
        #expect(answer("").status == 400)
        #expect(HTTPExchange.headEnd(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8)) == nil, "incomplete until the blank line")
        #expect(HTTPExchange.headEnd(Array("GET / HTTP/1.1\r\n\r\nbody".utf8)) == 18)
    }

    @Test("TCPAddress: what --metrics-listen and [metrics] listen accept")
    func addresses() throws {
        #expect(try TCPAddress(parsing: "127.0.0.1:9464").description == "127.0.0.1:9464")
        #expect(try TCPAddress(parsing: "[::1]:9464").description == "[::1]:9464")
        #expect(try TCPAddress(parsing: "localhost:9464").isLoopback)
        #expect(try !TCPAddress(parsing: "0.0.0.0:9464").isLoopback)
        for bad in ["9464", "127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000", "::1:9464", "[::1]", "host:9464"] {
            #expect(throws: TCPAddress.Invalid.self, "\(bad)") { try TCPAddress(parsing: bad) }
        }
    }
}

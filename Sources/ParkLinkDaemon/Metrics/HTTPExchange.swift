/// The little HTTP/1.1 the metrics endpoint speaks: one request head in (bounded), one
/// response out, then the connection closes. Pure, so every answer is testable without a
/// socket; `MetricsServer` does the I/O.
public enum HTTPExchange {
    /// The most a request head may take; a scraper sends about 200 bytes.
    public static let maxHeadBytes = 8_192

    public struct Response: Equatable, Sendable {
        public var status: Int
        public var reason: String
        public var contentType: String
        public var body: [UInt8]
        /// HEAD: the headers of the GET, no body.
        public var omitBody = false

        /// The bytes on the wire.
        public var bytes: [UInt8] {
            var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\n"
            head += "Content-Length: \(body.count)\r\nConnection: close\r\n"
            if status == 405 { head += "Allow: GET, HEAD\r\n" }
            head += "\r\n"
            return Array(head.utf8) + (omitBody ? [] : body)
        }

        static func text(_ status: Int, _ reason: String, _ message: String) -> Response {
            Response(status: status, reason: reason, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
        }
    }

    /// The end of the head (the index after `\r\n\r\n`, or `\n\n`), nil while incomplete.
    public static func headEnd(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A { return i + 2 }
                if i + 2 < bytes.count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// The answer to a complete request head (`head` without the body), given the body of
    /// `/metrics` when asked for it.
    public static func respond(toHead head: [UInt8], metrics: () -> [UInt8]) -> Response {
        guard let lineEnd = head.firstIndex(of: 0x0A) else { return badRequest("no request line") }
        var line = head[..<lineEnd]
        if line.last == 0x0D { line = line.dropLast() }
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            return badRequest("the request line must be METHOD TARGET HTTP/1.1")
        }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .text(505, "HTTP Version Not Supported", "only HTTP/1.1 and HTTP/1.0")
        }
        guard parts.allSatisfy({ $0.allSatisfy { $0 > 0x20 && $0 < 0x7F } }) else {
            return badRequest("the request line holds bytes HTTP does not allow")
        }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        guard path == "/metrics" else {
            return .text(404, "Not Found", "no such page: the Prometheus metrics are at /metrics")
        }
        guard method == "GET" || method == "HEAD" else {
            return .text(405, "Method Not Allowed", "/metrics takes GET or HEAD")
        }
        var r = Response(status: 200, reason: "OK", contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics())
        r.omitBody = method == "HEAD"
        return r
    }

    public static func badRequest(_ why: String) -> Response { .text(400, "Bad Request", why) }

    public static let headTooLarge = Response.text(
        431, "Request Header Fields Too Large", "the request head is over \(maxHeadBytes) bytes")
}

import Foundation
import ParkLinkSystem

/// Where the notifier POSTs: an `http://` URL (plain HTTP/1.1: no TLS here; to reach an
/// `https://` service, point this at a local relay such as stunnel or a reverse proxy).
public struct WebhookURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    /// Path and query, as sent on the request line (`/` when the URL has none).
    public var target: String

    /// Why `text` is not a webhook URL this client can use (nil: it is one).
    public static func problem(_ text: String) -> String? {
        do {
            _ = try WebhookURL(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws {
        guard text.hasPrefix("http://") else {
            if text.hasPrefix("https://") {
                throw Invalid(description: "`\(text)`: https is not supported (the notifier speaks plain HTTP/1.1); "
                                  + "use an http:// URL, e.g. a local TLS relay (stunnel) in front of the service")
            }
            throw Invalid(description: "`\(text)` is not an http:// URL")
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count)
        target = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
        guard !authority.isEmpty, !authority.contains("@") else {
            throw Invalid(description: "`\(text)` names no host (or carries a user name, which is not supported)")
        }
        var hostPart = Substring(authority), portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Invalid(description: "`\(text)`: unclosed [ in the host") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty {
                throw Invalid(description: "`\(text)`: unexpected text after the host")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        if let p = portPart {
            guard let n = UInt16(p), n > 0 else { throw Invalid(description: "`\(text)`: the port must be 1–65535") }
            port = n
        } else {
            port = 80
        }
        guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw Invalid(description: "`\(text)`: the host is empty or not plain ASCII")
        }
        host = String(hostPart)
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(h)\(port == 80 ? "" : ":\(port)")\(target)"
    }
}

/// A tiny HTTP/1.1 client: one POST of a JSON body per connection (`Connection: close`),
/// over `TCPSocket`, every step within a deadline. Success is a 2xx status; anything else
/// (another status, a refused connection, no answer in time) is a `Failure` the notifier
/// retries.
public enum WebhookClient {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// POSTs `body` to `url`; returns the status code (2xx), or throws.
    @discardableResult
    public static func post(_ body: [UInt8], to url: WebhookURL, timeoutMs: Int) throws -> Int {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutMs) * 1_000_000
        let fd: FileDescriptor
        do {
            fd = try TCPSocket.connect(host: url.host, port: url.port, timeoutMs: timeoutMs)
        } catch {
            throw Failure(description: "\(url): \(error)")
        }
        defer { fd.close() }
        let hostHeader = (url.host.contains(":") ? "[\(url.host)]" : url.host) + (url.port == 80 ? "" : ":\(url.port)")
        let head = "POST \(url.target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: parklink\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        do {
            try UnixSocket.sendAll(fd, Array(head.utf8) + body)
        } catch {
            throw Failure(description: "\(url): sending the request failed: \(error)")
        }
        // The status line is all that matters: read until it is complete.
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while !received.contains(UInt8(ascii: "\n")) && received.count < 8_192 {
            guard Clock.monotonicNanoseconds() < deadline else {
                throw Failure(description: "\(url): no answer within \(timeoutMs) ms")
            }
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { p in try fd.read(into: p) }
            } catch {
                throw Failure(description: "\(url): no answer (\(error))")
            }
            if n == 0 { break }
            received += chunk[0..<n]
        }
        let line = String(decoding: received.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure(description: "\(url): not an HTTP answer: \(line.prefix(80).debugDescription)")
        }
        guard (200..<300).contains(status) else {
            throw Failure(description: "\(url): answered \(line.prefix(80))")
        }
        return status
    }
}

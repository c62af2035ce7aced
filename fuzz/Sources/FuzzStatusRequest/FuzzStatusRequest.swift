import Foundation
import ParkLinkDaemon

/// `StatusServer.answer`, the status socket's parser, on any line whatever.
///
/// The input is the line's bytes (decoded as `UnixSocket.readLine` decodes them, invalid
/// UTF-8 replaced), newlines and all. The handler returns one fixed reply. Checked:
/// - the answer is exactly one line: it ends with `\n` and holds no other;
/// - that line is valid JSON (an object) and decodes as a `StatusReply`;
/// - the reply is the handler's when the handler was called, else an `error` reply;
/// - a request the handler received, encoded again (`StatusProtocol.json`) and answered,
///   reaches the handler as the same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStatusRequest(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let line = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let (reply, request) = answer(line)
    if let request {
        check(reply == fixedReply, "the handler was called with \(request) but the answer is \(reply)")
        guard let again = try? StatusProtocol.json(request) else {
            fail("the request \(request) handed to the handler cannot be encoded")
        }
        let (_, second) = answer(again)
        check(second == request, "\(request) encoded as \(again) reaches the handler as \(String(describing: second))")
    } else {
        guard case .error = reply.body else { fail("no handler call, yet the answer is \(reply)") }
    }
    return 0
}

let fixedReply = StatusReply(.acknowledged(.init(acknowledged: 2, note: "fixed reply")))

/// Records what the handler was given.
final class Received: @unchecked Sendable {
    var request: StatusRequest?
}

func answer(_ line: String) -> (StatusReply, StatusRequest?) {
    let received = Received()
    let out = StatusServer.answer(line) { request in
        check(received.request == nil, "the handler was called twice for one line")
        received.request = request
        return fixedReply
    }
    let bytes = Array(out.utf8)
    check(bytes.last == UInt8(ascii: "\n") && bytes.filter({ $0 == UInt8(ascii: "\n") }).count == 1,
          "the answer to \(line.debugDescription) is not exactly one line: \(out.debugDescription)")
    let json = Data(bytes.dropLast())
    guard (try? JSONSerialization.jsonObject(with: json)) is [String: Any] else {
        fail("the answer to \(line.debugDescription) is not a JSON object: \(out.debugDescription)")
    }
    let reply: StatusReply
    do {
        reply = try JSONDecoder().decode(StatusReply.self, from: json)
    } catch {
        fail("the answer to \(line.debugDescription) is not a StatusReply (\(error)): \(out.debugDescription)")
    }
    return (reply, received.request)
}

func fail(_ what: String) -> Never {
    fatalError("fuzz invariant violated: \(what)")
}

func check(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fail(what()) }
}

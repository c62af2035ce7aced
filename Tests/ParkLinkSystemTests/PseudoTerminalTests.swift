import ParkLinkSystem
import Testing

/// The simulator decides from `unreadByFollower` whether the host has read everything
/// before it pulls the cable: a hang-up throws away what the kernel still holds, so a
/// count that misses bytes books readings as delivered that never were.
@Suite("Pseudo-terminal")
struct PseudoTerminalTests {
    @Test("bytes just written to the controller are counted unread at once, before the kernel moves them to the line discipline")
    func unreadCountsTheFlipBuffer() throws {
        let pty = try PseudoTerminal()
        let frame = Array("$R,12,3,1,230.1,0.52,1*4F\n".utf8)
        var sink = [UInt8](repeating: 0, count: 4096)
        // FIONREAD alone read 0 after about 70% of such writes on this machine.
        for i in 0..<2_000 {
            try pty.controller.writeAll(frame)
            let unread = pty.unreadByFollower()
            #expect(unread == frame.count, "write \(i)")
            if unread != frame.count { break }
            let n = try sink.withUnsafeMutableBytes { try pty.followerKeeper.read(into: $0) }
            #expect(n == frame.count)
        }
        #expect(pty.unreadByFollower() == 0)
    }

    @Test("a closed pty has no count")
    func closedHasNoCount() throws {
        let pty = try PseudoTerminal()
        pty.close()
        #expect(pty.unreadByFollower() == nil)
    }
}

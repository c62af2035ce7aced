import ParkLinkSystem
import Synchronization

/// Lets another thread cut a connection that is blocked in the server: a statement waiting
/// on a stalled server (`FLUSH TABLES WITH READ LOCK`, a full disk) can otherwise hold its
/// thread for the whole read timeout.
///
/// The shutdown path needs this: it has a deadline, and each database attempt must end by
/// it so that the batch in hand can still go to the spool. The owner of the connection
/// attaches its socket after connecting and detaches it before closing; `interrupt()`
/// shuts the socket down under the same lock, so it never touches a descriptor that was
/// closed and perhaps reused for something else.
public final class ConnectionInterrupter: Sendable {
    private let socket = Mutex<Int32>(-1)

    public init() {}

    func attach(_ fd: Int32?) { socket.withLock { $0 = fd ?? -1 } }
    func detach() { socket.withLock { $0 = -1 } }

    /// Makes the statement or read in progress fail now, as a lost connection; true if there
    /// was a connection to cut. Safe from any thread, at any time.
    @discardableResult
    public func interrupt() -> Bool {
        socket.withLock { fd in
            guard fd >= 0 else { return false }
            return (try? SocketControl.shutdownBothWays(fd)) != nil
        }
    }
}

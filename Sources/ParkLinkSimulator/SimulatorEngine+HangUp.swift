// Pulling the cable: whether the host has read everything, and what is lost or
// uncertain when the pty goes away.

import ParkLinkSystem

extension SimulatorEngine {
    // MARK: - Hanging up

    /// Whether the host has read everything written: nothing queued here and nothing
    /// unread in the kernel, flip buffers included (see `PseudoTerminal.unreadByFollower`;
    /// a count that failed is nil, "not drained").
    func hostHasReadEverything() -> Bool {
        tx.isEmpty && link.pty.unreadByFollower() == 0
    }

    /// The pty goes away: what is queued is lost; what the kernel still holds is
    /// uncertain unless a look at this moment finds the host has read everything.
    mutating func hangUp() {
        guard linkOpen else { return }
        let unread = link.pty.unreadByFollower()
        let drained = tx.isEmpty && unread == 0
        delta.recordLost(tx.discardQueued(keepingPartialFrame: false))
        if !drained {
            delta.uncertain.append(contentsOf: tx.possiblyUnread(unreadInLineDiscipline: unread ?? 0))
        }
        tx.forgetWritten()
        link.hangUp()
        linkOpen = false
    }

    /// After the thread ended: hang up for good.
    mutating func close() {
        hangUp()
        publish()
        if case .finished = phase {} else { setPhase(.finished) }
    }
}

extension LedgerDelta {
    /// Readings thrown away after they had a seq: a corrupted one moves from `corrupted`
    /// to `lost`, since it will not arrive at all, not even as a reject.
    mutating func recordLost(_ discarded: [(seq: UInt32, corrupted: Bool)]) {
        for d in discarded {
            lost.append(d.seq)
            if d.corrupted { lostCorrupted.append(d.seq) }
        }
    }
}

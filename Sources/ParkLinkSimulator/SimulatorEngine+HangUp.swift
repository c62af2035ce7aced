// Pulling the cable: whether the host has read everything, and what is lost or
// uncertain when the pty goes away.

import ParkLinkSystem

extension SimulatorEngine {
    // MARK: - Hanging up

    /// Whether the host has read everything written: nothing queued here and nothing
    /// in the follower's input queue for three ticks running (the kernel moves bytes
    /// from its flip buffers into that queue asynchronously, so one look is not enough).
    mutating func hostHasReadEverything() -> Bool {
        if tx.isEmpty && link.unreadBytes() == 0 {
            quietTicks += 1
        } else {
            quietTicks = 0
        }
        return quietTicks >= 3
    }

    /// The pty goes away: what is queued is lost; what the kernel may still hold is
    /// uncertain unless the host was seen to read everything.
    mutating func hangUp() {
        guard linkOpen else { return }
        let drained = quietTicks >= 3
        delta.recordLost(tx.discardQueued(keepingPartialFrame: false))
        if !drained {
            delta.uncertain.append(contentsOf: tx.possiblyUnread(unreadInLineDiscipline: link.unreadBytes()))
        }
        tx.forgetWritten()
        link.hangUp()
        linkOpen = false
        quietTicks = 0
    }

    /// After the thread ended: hang up for good.
    mutating func close() {
        if linkOpen {
            // Three looks 1 ms apart, as `hostHasReadEverything` does over three ticks.
            quietTicks = 0
            while !hostHasReadEverything() && quietTicks > 0 { Clock.sleep(milliseconds: 1) }
            hangUp()
        }
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

import ParkLinkProtocol
import ParkLinkSystem

extension ReadingWriter {
    /// Gap events trimmed to the seqs not already stored: what a previous run stored is
    /// not missing, whatever the reader (started without resume points) concluded. The
    /// retracted count is handed to `onGapRetracted` so the link's figures stay true.
    ///
    /// After an unclean stop, the rest of such a gap (the seqs after the stored ones) is
    /// an appliance-restart gap, not a link gap: the reader did not know the session, so it
    /// counted from seq 0, but the stored readings show the session is one the dead run
    /// was receiving, and what it received after them died with it.
    func withoutStoredSeqs(_ events: [LinkEvent]) -> [LinkEvent] {
        guard let stored = storedResume, !stored.isEmpty else { return events }
        return events.compactMap { e in
            guard case .gap(let key, let first, let count, let at, let reason) = e, let next = stored[key],
                  UInt64(first) < next else {
                return e
            }
            let covered = UInt32(min(UInt64(count), next - UInt64(first)))
            onGapRetracted?(Int(covered), reason)
            logger.info("gap already stored by an earlier run: not a gap", metadata: [
                "link.session": "\(key)", "gap.first_seq": "\(first)", "gap.retracted": "\(covered)",
            ])
            if covered == count { return nil }
            var rest = reason
            if !config.lastRunStoppedCleanly && reason == .link {
                rest = .applianceRestart
                onRestartGap?(key, first + covered, Int(count - covered), true)
            }
            return .gap(key, firstMissing: first + covered, count: count - covered, atMs: at, reason: rest)
        }
    }

    /// After an unclean stop: per session whose spooled readings start above the stored
    /// ones, the readings in between, as appliance-restart gaps. While the spool is in use
    /// the ring holds the older readings (the writer writes it first), so a run killed then
    /// loses a stretch in front of its spool that neither the reader (it resumes after the
    /// spool) nor anything else would report.
    func spoolHoles(stored: [SessionKey: UInt64]) -> [LinkEvent] {
        guard !config.lastRunStoppedCleanly else { return [] }
        let now = Clock.wallMilliseconds()
        return config.spooledFrom.sorted { $0.key.description < $1.key.description }.compactMap { key, first in
            guard let next = stored[key], first > next else { return nil }
            let count = Int(first - next)
            onRestartGap?(key, UInt32(truncatingIfNeeded: next), count, false)
            return .gap(key, firstMissing: UInt32(truncatingIfNeeded: next), count: UInt32(clamping: count), atMs: now,
                        reason: .applianceRestart)
        }
    }
}

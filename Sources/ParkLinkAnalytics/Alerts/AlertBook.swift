/// One alert as the appliance records it.
public struct Alert: Codable, Sendable, Equatable, Identifiable {
    public var id: UInt64
    public var subject: AlertSubject
    public var type: AlertType
    public var severity: AlertSeverity
    public var message: String
    public var openedAtMs: Int64
    public var acknowledgedAtMs: Int64?
    public var resolvedAtMs: Int64?

    public init(id: UInt64, subject: AlertSubject, type: AlertType, severity: AlertSeverity,
                message: String, openedAtMs: Int64, acknowledgedAtMs: Int64? = nil, resolvedAtMs: Int64? = nil) {
        self.id = id
        self.subject = subject
        self.type = type
        self.severity = severity
        self.message = message
        self.openedAtMs = openedAtMs
        self.acknowledgedAtMs = acknowledgedAtMs
        self.resolvedAtMs = resolvedAtMs
    }

    public var key: AlertKey { AlertKey(subject: subject, type: type) }
}

/// A change the caller writes to the database.
public enum AlertTransition: Sendable, Equatable {
    case opened(Alert)
    case resolved(Alert)
    case acknowledged(Alert)
}

/// Which alerts an `update` speaks for: those not in scope are left alone, so sensors and
/// the pipeline may be evaluated at different moments.
public enum AlertScope: Sendable, Equatable {
    case all
    case subjects(Set<AlertSubject>)
    case sensors
    case components

    func contains(_ s: AlertSubject) -> Bool {
        switch (self, s) {
        case (.all, _): true
        case let (.subjects(set), _): set.contains(s)
        case (.sensors, .sensor), (.components, .component): true
        case (.sensors, _), (.components, _): false
        }
    }
}

/// The alert state machine: at most one active (unresolved) alert per (subject, type),
/// hence at most one open unacknowledged one.
///
/// - A condition with no active alert opens one.
/// - A condition that stays active keeps its alert, acknowledged or not: acknowledging
///   silences it, it does not invite a duplicate on the next evaluation.
/// - An active alert whose condition is absent from an update (within its scope) is
///   resolved at that update's time and leaves the book; if the condition returns, a new
///   alert opens.
///
/// Codable, so the appliance can persist it; or rebuild it from the database's unresolved
/// alerts with `init(nextId:active:)`.
public struct AlertBook: Codable, Sendable, Equatable {
    private var active: [AlertKey: Alert] = [:]
    public private(set) var nextId: UInt64

    /// `nextId` lets ids continue from what the database already holds.
    public init(nextId: UInt64 = 1, active: [Alert] = []) {
        var next = nextId
        for alert in active where alert.resolvedAtMs == nil {
            self.active[alert.key] = alert
            next = max(next, alert.id + 1)
        }
        self.nextId = next
    }

    /// Active alerts, oldest first.
    public var activeAlerts: [Alert] { active.values.sorted { $0.id < $1.id } }

    /// Unresolved, unacknowledged alerts about `subject`: the health score's input.
    public func openUnacknowledgedCount(for subject: AlertSubject) -> Int {
        active.values.reduce(0) { $0 + ($1.subject == subject && $1.acknowledgedAtMs == nil ? 1 : 0) }
    }

    /// Applies one evaluation: `conditions` are all conditions active at `nowMs` within
    /// `scope`. Returns resolutions (oldest alert first), then openings (in condition
    /// order). A condition repeated within one call counts once.
    public mutating func update(
        conditions: [AlertCondition], nowMs: Int64, scope: AlertScope = .all
    ) -> [AlertTransition] {
        let present = Set(conditions.filter { scope.contains($0.subject) }.map(\.key))
        var transitions: [AlertTransition] = []
        for alert in activeAlerts where scope.contains(alert.subject) && !present.contains(alert.key) {
            var resolved = alert
            resolved.resolvedAtMs = nowMs
            active[alert.key] = nil
            transitions.append(.resolved(resolved))
        }
        for c in conditions where scope.contains(c.subject) && active[c.key] == nil {
            let alert = Alert(id: nextId, subject: c.subject, type: c.type, severity: c.severity,
                              message: c.message, openedAtMs: nowMs)
            nextId += 1
            active[c.key] = alert
            transitions.append(.opened(alert))
        }
        return transitions
    }

    public enum AcknowledgeResult: Sendable, Equatable {
        case acknowledged(AlertTransition)
        /// Already acknowledged: nothing changes, the first time stands.
        case alreadyAcknowledged(Alert)
        /// No active alert has this id (unknown, or already resolved: the database may
        /// still mark a resolved alert as seen, but the book no longer tracks it).
        case notActive
    }

    public mutating func acknowledge(id: UInt64, atMs: Int64) -> AcknowledgeResult {
        guard let key = active.first(where: { $0.value.id == id })?.key, var alert = active[key] else {
            return .notActive
        }
        if alert.acknowledgedAtMs != nil { return .alreadyAcknowledged(alert) }
        alert.acknowledgedAtMs = atMs
        active[key] = alert
        return .acknowledged(.acknowledged(alert))
    }
}

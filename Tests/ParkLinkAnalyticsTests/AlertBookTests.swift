import Testing
@testable import ParkLinkAnalytics

@Suite("Alert book")
struct AlertBookTests {
    let s1 = AlertSubject.sensor(gateway: "gw", sensor: 1)
    let s2 = AlertSubject.sensor(gateway: "gw", sensor: 2)

    private func offline(_ s: AlertSubject) -> AlertCondition {
        AlertCondition(subject: s, type: .deviceOffline, message: "silent")
    }

    private func opened(_ t: [AlertTransition]) -> [Alert] {
        t.compactMap { if case .opened(let a) = $0 { a } else { nil } }
    }

    private func resolved(_ t: [AlertTransition]) -> [Alert] {
        t.compactMap { if case .resolved(let a) = $0 { a } else { nil } }
    }

    @Test("a new condition opens one alert with a fresh id")
    func opens() {
        var book = AlertBook()
        let t = book.update(conditions: [offline(s1)], nowMs: 1_000)
        #expect(opened(t).map(\.id) == [1])
        #expect(opened(t).first?.severity == .critical)
        #expect(opened(t).first?.openedAtMs == 1_000)
        #expect(book.openUnacknowledgedCount(for: s1) == 1)
        #expect(book.openUnacknowledgedCount(for: s2) == 0)
    }

    @Test("a condition that stays active does not open a duplicate")
    func dedupes() {
        var book = AlertBook()
        _ = book.update(conditions: [offline(s1)], nowMs: 1_000)
        let again = book.update(conditions: [offline(s1), offline(s1)], nowMs: 2_000)
        #expect(again.isEmpty)
        #expect(book.activeAlerts.count == 1)
    }

    @Test("the same type on another subject is another alert")
    func perSubject() {
        var book = AlertBook()
        let t = book.update(conditions: [offline(s1), offline(s2)], nowMs: 1_000)
        #expect(opened(t).map(\.id) == [1, 2])
    }

    @Test("a condition that clears resolves its alert at that time")
    func resolves() {
        var book = AlertBook()
        _ = book.update(conditions: [offline(s1), offline(s2)], nowMs: 1_000)
        let t = book.update(conditions: [offline(s2)], nowMs: 5_000)
        #expect(opened(t).isEmpty)
        #expect(resolved(t).map(\.id) == [1])
        #expect(resolved(t).first?.resolvedAtMs == 5_000)
        #expect(book.activeAlerts.map(\.id) == [2])
    }

    @Test("a condition that returns after resolving opens a new alert")
    func reopens() {
        var book = AlertBook()
        _ = book.update(conditions: [offline(s1)], nowMs: 1_000)
        _ = book.update(conditions: [], nowMs: 2_000)
        let t = book.update(conditions: [offline(s1)], nowMs: 3_000)
        #expect(opened(t).map(\.id) == [2])
    }

    @Test("acknowledging keeps the alert active without a duplicate, and it still resolves")
    func acknowledge() {
        var book = AlertBook()
        _ = book.update(conditions: [offline(s1)], nowMs: 1_000)
        guard case .acknowledged(.acknowledged(let a)) = book.acknowledge(id: 1, atMs: 1_500) else {
            Issue.record("expected an acknowledgement")
            return
        }
        #expect(a.acknowledgedAtMs == 1_500)
        #expect(book.openUnacknowledgedCount(for: s1) == 0)
        let stillActive = book.update(conditions: [offline(s1)], nowMs: 2_000)
        #expect(stillActive.isEmpty)
        if case .alreadyAcknowledged(let again) = book.acknowledge(id: 1, atMs: 9_999) {
            #expect(again.acknowledgedAtMs == 1_500)
        } else {
            Issue.record("expected alreadyAcknowledged")
        }
        let t = book.update(conditions: [], nowMs: 3_000)
        #expect(resolved(t).first?.acknowledgedAtMs == 1_500)
        #expect(resolved(t).first?.resolvedAtMs == 3_000)
        let afterResolve = book.acknowledge(id: 1, atMs: 4_000)
        let unknown = book.acknowledge(id: 42, atMs: 4_000)
        #expect(afterResolve == .notActive)
        #expect(unknown == .notActive)
    }

    @Test("an update scoped to sensors leaves component alerts alone")
    func scoped() {
        var book = AlertBook()
        let db = AlertCondition(subject: .store, type: .databaseDown, message: "down")
        _ = book.update(conditions: [offline(s1), db], nowMs: 1_000)
        let t = book.update(conditions: [], nowMs: 2_000, scope: .sensors)
        #expect(resolved(t).map(\.type) == [.deviceOffline])
        #expect(book.activeAlerts.map(\.type) == [.databaseDown])
        let u = book.update(conditions: [], nowMs: 3_000, scope: .subjects([.link]))
        #expect(u.isEmpty)
    }

    @Test("rebuilt from stored alerts, ids continue and open alerts are not duplicated")
    func restore() {
        let stored = Alert(id: 41, subject: s1, type: .deviceOffline, severity: .critical,
                           message: "silent", openedAtMs: 10)
        var book = AlertBook(nextId: 7, active: [stored])
        let restored = book.update(conditions: [offline(s1)], nowMs: 20)
        #expect(restored.isEmpty)
        let next = book.update(conditions: [offline(s1), offline(s2)], nowMs: 30)
        #expect(opened(next).map(\.id) == [42])
    }
}

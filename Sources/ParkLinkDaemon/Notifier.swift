import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkSystem

/// `[notify]` in the configuration: what to do when an alert is raised, and when a
/// critical one stays unacknowledged.
public struct NotifyConfig: Sendable, Equatable {
    /// Run with `/bin/sh -c` (the alert in `PARKLINK_*` variables and as JSON in
    /// `PARKLINK_ALERT_JSON`); success is exit code 0.
    public var command: String?
    /// POSTed the alert as JSON (`http://` only); success is a 2xx answer.
    public var webhook: WebhookURL?
    /// Alerts below this severity are not sent on raise.
    public var minSeverity: AlertSeverity = .warning
    /// A critical alert still open and unacknowledged this long is escalated (0: never).
    public var escalateAfterSeconds = 900.0
    /// Where escalations go; nil: `command` and `webhook` (with `"event": "escalated"`).
    public var escalationCommand: String?
    public var escalationWebhook: WebhookURL?
    /// Each attempt (a command's run, a POST) is given at most this long.
    public var timeoutSeconds = 10.0
    /// Attempts after the first, each after a wait that doubles from `retryBackoffSeconds`.
    public var retries = 3
    public var retryBackoffSeconds = 2.0
    /// Notifications waiting to be sent; past it new ones are dropped and counted.
    public var queueCapacity = 256

    public init() {}

    public var isEnabled: Bool { command != nil || webhook != nil || escalationCommand != nil || escalationWebhook != nil }
}

/// Sends alert notifications on a thread of its own (`pl-notify`), so that a slow webhook
/// or a hung command never holds up the sampler: the sampler only appends to a bounded
/// inbox (`alerts`), which drops (and counts) what does not fit.
///
/// On raise: every alert of at least `minSeverity`, once per opening (an alert the book
/// reopens under the database's numbering after a start without the database is not sent
/// twice). Escalation: a critical alert open and unacknowledged for `escalateAfterSeconds`
/// (counted from when it was raised, so after a restart an old one escalates at once),
/// once per alert and run. Each delivery (a command, a webhook) is retried on its own.
public final class Notifier: @unchecked Sendable {
    // @unchecked: `jobs`, `notified` and `escalated` belong to the notifier thread; the
    // inbox and the counters are `Locked`.
    private struct Job {
        enum Target { case command(String), webhook(WebhookURL) }
        var event: String
        var alert: Alert
        var target: Target
        var attempt = 0
        var dueMs: Int64
    }

    public let config: NotifyConfig
    private let appliance: String
    private let commandLog: String?
    private let openAlerts: @Sendable () -> [Alert]
    private let logger: Logger
    private let service: ServiceThread
    private let inbox = Locked<[AlertTransition]>([])
    private let counters = Locked(StatusSnapshot.Notify())
    private var jobs: [Job] = []
    private var notified: Set<AlertKey> = []
    private var escalated: Set<UInt64> = []

    /// - Parameters:
    ///   - openAlerts: the alerts open now (the sampler's book): escalation reads them.
    ///   - commandLog: where a command's output goes (appended).
    public init(config: NotifyConfig, appliance: String, commandLog: String?, logger: Logger,
                openAlerts: @escaping @Sendable () -> [Alert]) throws {
        self.config = config
        self.appliance = appliance
        self.commandLog = commandLog
        self.logger = logger
        self.openAlerts = openAlerts
        self.service = try ServiceThread(name: "pl-notify")
    }

    public func start() { service.start { [self] in run() } }

    /// Stops after the attempt in progress; what is still queued is logged as not sent.
    public func stop() { service.stop() }

    /// Alerts opened and resolved, from the sampler thread: never waits.
    public func alerts(_ transitions: [AlertTransition]) {
        let opened = transitions.filter { if case .opened(let a) = $0 { return a.severity >= config.minSeverity } else { return false } }
        guard !opened.isEmpty else { return }
        let dropped = inbox.withLock { q -> Int in
            let room = max(0, config.queueCapacity - q.count)
            q += opened.prefix(room)
            return opened.count - min(room, opened.count)
        }
        if dropped > 0 { counters.withLock { $0.dropped += dropped } }
        service.wake()
    }

    public func section() -> StatusSnapshot.Notify { counters.withLock { $0 } }

    // MARK: - The thread

    private func run() {
        while !service.isStopping {
            let now = Clock.wallMilliseconds()
            for case .opened(let a) in inbox.withLock({ q -> [AlertTransition] in defer { q.removeAll() }; return q }) {
                // The same condition reopened under the database's numbering is not news.
                guard notified.insert(a.key).inserted else { continue }
                enqueue("raised", a, command: config.command, webhook: config.webhook, nowMs: now)
            }
            let open = openAlerts()
            notified.formIntersection(open.map(\.key))
            escalated.formIntersection(open.map(\.id))
            if config.escalateAfterSeconds > 0 {
                for a in open where a.severity == .critical && a.acknowledgedAtMs == nil && !escalated.contains(a.id)
                    && Double(now - a.openedAtMs) >= config.escalateAfterSeconds * 1000 {
                    escalated.insert(a.id)
                    counters.withLock { $0.escalations += 1 }
                    logger.warning("alert unacknowledged too long: escalating", metadata: [
                        "alert.id": "\(a.id)", "alert.type": "\(a.type.rawValue)", "alert.subject": "\(a.subject)",
                    ])
                    enqueue("escalated", a, command: config.escalationCommand ?? config.command,
                            webhook: config.escalationWebhook ?? config.webhook, nowMs: now)
                }
            }
            if let i = jobs.indices.min(by: { jobs[$0].dueMs < jobs[$1].dueMs }), jobs[i].dueMs <= now {
                attempt(jobs.remove(at: i))
            }
            counters.withLock { $0.pending = jobs.count }
            let next = jobs.map(\.dueMs).min().map { max(0, $0 - Clock.wallMilliseconds()) } ?? 1_000
            _ = try? service.wait(timeoutMs: Int32(min(next, 1_000)))
        }
        if !jobs.isEmpty {
            logger.warning("stopping with notifications not sent", metadata: ["notify.pending": "\(jobs.count)"])
        }
    }

    private func enqueue(_ event: String, _ a: Alert, command: String?, webhook: WebhookURL?, nowMs: Int64) {
        let targets = [command.map(Job.Target.command), webhook.map(Job.Target.webhook)].compactMap { $0 }
        for t in targets {
            guard jobs.count < config.queueCapacity else {
                counters.withLock { $0.dropped += 1 }
                continue
            }
            jobs.append(Job(event: event, alert: a, target: t, dueMs: nowMs))
        }
    }

    private func attempt(_ job: Job) {
        var job = job
        job.attempt += 1
        let body = payload(job)
        do {
            switch job.target {
            case .command(let command):
                var env = ["PARKLINK_EVENT": job.event, "PARKLINK_ALERT_ID": String(job.alert.id),
                           "PARKLINK_ALERT_TYPE": job.alert.type.rawValue, "PARKLINK_ALERT_SEVERITY": job.alert.severity.rawValue,
                           "PARKLINK_ALERT_SUBJECT": job.alert.subject.description, "PARKLINK_ALERT_MESSAGE": job.alert.message]
                env["PARKLINK_ALERT_JSON"] = String(decoding: body, as: UTF8.self)
                switch try ShellCommand.run(command, environment: env, log: commandLog, timeoutSeconds: config.timeoutSeconds) {
                case .exited(0): break
                case .exited(let code): throw WebhookClient.Failure(description: "the command exited with \(code)")
                case .timedOut: throw WebhookClient.Failure(description: "the command ran longer than \(config.timeoutSeconds) s and was killed")
                }
            case .webhook(let url):
                try WebhookClient.post(body, to: url, timeoutMs: Int(config.timeoutSeconds * 1000))
            }
            counters.withLock {
                $0.sent += 1
                $0.last_sent_at = Timestamps.iso(ms: Clock.wallMilliseconds())
            }
            logger.info("alert notification sent", metadata: meta(job))
        } catch {
            counters.withLock { $0.last_error = "\(error)" }
            if job.attempt <= config.retries {
                counters.withLock { $0.retries += 1 }
                job.dueMs = Clock.wallMilliseconds() + Int64(config.retryBackoffSeconds * 1000 * pow(2, Double(job.attempt - 1)))
                jobs.append(job)
                logger.notice("alert notification failed, will retry", metadata: meta(job).merging(["notify.error": "\(error)"]) { $1 })
            } else {
                counters.withLock { $0.failed += 1 }
                logger.error("alert notification failed, giving up", metadata: meta(job).merging(["notify.error": "\(error)"]) { $1 })
            }
        }
    }

    private func meta(_ job: Job) -> Logger.Metadata {
        let target: String
        switch job.target {
        case .command: target = "command"
        case .webhook(let url): target = url.description
        }
        return ["notify.event": "\(job.event)", "notify.target": "\(target)", "notify.attempt": "\(job.attempt)",
                "alert.id": "\(job.alert.id)", "alert.type": "\(job.alert.type.rawValue)"]
    }

    /// The JSON every target gets (see README, "Notifications").
    private func payload(_ job: Job) -> [UInt8] {
        let now = Clock.wallMilliseconds()
        let message = NotificationMessage(
            event: job.event, appliance: appliance, sent_at: Timestamps.iso(ms: now) ?? "", alert: AlertDesk.row(job.alert),
            unacknowledged_minutes: job.event == "escalated" ? (Double(now - job.alert.openedAtMs) / 60_000 * 10).rounded() / 10 : nil)
        return Array(((try? StatusProtocol.json(message)) ?? "{}").utf8)
    }
}

/// The body of a notification: `alert` has the keys of `parklink alerts --json`.
public struct NotificationMessage: Codable, Sendable, Equatable {
    /// `raised` or `escalated`.
    public var event: String
    public var appliance: String
    public var sent_at: String
    public var alert: AlertDesk.Row
    /// How long it has been open and unacknowledged (escalations; null on raise).
    @ExplicitNull public var unacknowledged_minutes: Double?
}

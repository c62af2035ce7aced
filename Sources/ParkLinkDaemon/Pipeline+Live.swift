#if canImport(Glibc)
import Glibc
#endif
import Logging
import ParkLinkAnalytics
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkSystem

/// The pipeline's live requests: `override` and `watch`, and the live status section.
extension Pipeline {
    static func makeLiveDesk(reader: SerialReader, zones: ZoneMap, logger: Logger) throws -> LiveDesk {
        let counters = reader.counters
        return try LiveDesk(
            zones: zones, logger: logger, send: { [reader] in reader.send($0) }, downlinkSpace: { [reader] in reader.downlink.space },
            epoch: {
                BayLights.Epoch(connected: counters.connected.load(ordering: .relaxed), opens: counters.opens.value,
                                session: counters.session, commandsDropped: counters.commandsDropped.value)
            })
    }

    /// Sets or clears an override for the peer who asked (nil: the daemon itself, for an
    /// in-process caller).
    func override(_ o: OverrideRequest, peer: StatusAccess.Peer?) -> StatusReply.Body {
        guard let desk = overrideDesk else {
            return .error(StatusProblem(code: .unavailable, message: "this daemon runs no sampler, so it keeps no overrides", request: "override"))
        }
        let gateway: String
        switch gatewayOf(o) {
        case .success(let g): gateway = g
        case .failure(let problem): return .error(problem)
        }
        let bay = SensorKey(gatewayId: gateway, sensor: o.sensor)
        let actor = peer.map { OverrideDesk.Actor(uid: $0.credentials.uid, user: $0.user?.name, pid: $0.credentials.pid) }
            ?? OverrideDesk.Actor(uid: getuid(), user: nil, pid: getpid())
        let outcome: OverrideDesk.Outcome
        do {
            outcome = try desk.apply(bay: bay, occupied: o.state == .auto ? nil : o.state == .occupied, reason: o.reason,
                                     seconds: o.seconds, by: actor, nowMs: Clock.wallMilliseconds())
        } catch {
            return .error(StatusProblem(code: .failed, message: "cannot record the override in the database, so nothing changed: \(error)",
                                        request: "override"))
        }
        switch outcome {
        case .set(let now, let replaced):
            return .overridden(OverrideReply(sensor: bay.description, state: o.state.rawValue, override: OverrideRow(now),
                                             ended: replaced.map(OverrideRow.init)))
        case .cleared(let ended):
            return .overridden(OverrideReply(sensor: bay.description, state: "auto", override: nil, ended: ended.map(OverrideRow.init),
                                             note: ended == nil ? "the bay had no override: it follows its sensor" : nil))
        }
    }

    /// The gateway a bare sensor number means: the one gateway that reported it, else the
    /// one gateway heard at all (a silent sensor is a reason to override it).
    private func gatewayOf(_ o: OverrideRequest) -> Result<String, StatusProblem> {
        if let g = o.gateway { return .success(g) }
        let blocks = sensorStates.snapshot()
        let reporting = blocks.filter { $0.value.slot(of: o.sensor) != nil }.keys.sorted()
        if reporting.count == 1 { return .success(reporting[0]) }
        if reporting.isEmpty, blocks.count == 1, let only = blocks.keys.first { return .success(only) }
        if reporting.isEmpty, blocks.isEmpty, let current = linkCounters.session?.split(separator: "/").first {
            return .success(String(current))
        }
        let known = (reporting.isEmpty ? blocks.keys.sorted() : reporting)
        let message = known.isEmpty
            ? "no gateway has been heard yet, so sensor \(o.sensor) names no bay; name it as GATEWAY/\(o.sensor)"
            : "sensor \(o.sensor) is ambiguous: gateways \(known.joined(separator: ", ")) \(reporting.isEmpty ? "are known" : "report it"); "
                + "name one, e.g. \(known[0])/\(o.sensor)"
        return .failure(StatusProblem(code: .badArguments, message: message, request: "override"))
    }

    /// Agrees to a `watch` (the stream itself starts in `adopt`), or says why not.
    func watch(_ request: StatusRequest) -> StatusReply.Body {
        guard case .watch(let zone, let since) = request.command else { return .error(StatusProblem(code: .badArguments, message: "not a watch")) }
        if let refusal = live.refusal() { return .error(refusal) }
        let zones = options.config.zones.zones.map(\.id)
        if let zone, !zones.isEmpty, !zones.contains(zone) {
            return .error(StatusProblem(code: .notFound, message: "no zone \(StatusProblem.quoted(zone)) is configured (zones: \(zones.joined(separator: ", ")))",
                                        request: "watch"))
        }
        if since != nil && overrideDesk == nil {
            return .error(StatusProblem(code: .unavailable, message: "this daemon runs no sampler, so it cannot replay from the database; watch without --since",
                                        request: "watch"))
        }
        return .watching(WatchStart(zone: zone, since: since.flatMap(Timestamps.iso)))
    }

    func adopt(_ request: StatusRequest, _ client: FileDescriptor) {
        guard case .watch(let zone, let since) = request.command else {
            client.close()
            return
        }
        live.subscribe(client, zone: zone, sinceMs: since)
    }

    func liveSection() -> StatusSnapshot.Live {
        var l = live.section()
        l.downlink_queue_dropped = reader.downlink.dropped
        l.downlink_queue_capacity = reader.downlink.capacity
        l.overrides_active = overrideDesk?.book.count ?? 0
        l.notify = notifier?.section()
        return l
    }
}

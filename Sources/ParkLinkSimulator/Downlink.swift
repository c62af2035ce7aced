import ParkLinkProtocol

/// What the host sent the gateway (`PING`, `LED`), for tests and the demo's display.
public struct DownlinkStats: Sendable, Equatable {
    /// Whether a host has sent anything valid since the current pty was made.
    public internal(set) var hostSeen = false
    public internal(set) var pings = 0
    /// `LED` commands received, per colour.
    public internal(set) var ledCommands: [LEDColor: Int] = [:]
    /// The last colour each sensor was told to show.
    public internal(set) var ledBySensor: [UInt16: LEDColor] = [:]
    /// `LED` commands that repeated the colour the sensor already showed (a host that
    /// deduplicates sends none, barring a resend after the link was reopened).
    public internal(set) var repeatedLEDCommands = 0
    /// Downlink frames that failed to decode, and frames of a gateway → host type.
    public internal(set) var rejected = 0
    public internal(set) var unexpected = 0

    public init() {}

    public var totalLEDCommands: Int { ledCommands.values.reduce(0, +) }
}

/// Collects one tick's downlink frames for the simulator thread.
struct DownlinkSink: DecodeSink {
    var pings = 0
    /// PINGs not answered with a HELLO yet; only the engine clears it.
    var unansweredPings = 0
    var leds: [LEDCommand] = []
    var rejected = 0
    var unexpected = 0

    mutating func accept(_ message: Message) {
        switch message {
        case .ping:
            pings += 1
            unansweredPings += 1
        case .led(let led): leds.append(led)
        case .hello, .reading, .heartbeat: unexpected += 1
        }
    }

    mutating func reject(_ reason: RejectReason) {
        rejected += 1
    }

    var sawHost: Bool { pings > 0 || !leds.isEmpty }

    mutating func merge(into stats: inout DownlinkStats) {
        if sawHost { stats.hostSeen = true }
        stats.pings += pings
        for led in leds {
            stats.ledCommands[led.color, default: 0] += 1
            if stats.ledBySensor[led.sensor] == led.color { stats.repeatedLEDCommands += 1 }
            stats.ledBySensor[led.sensor] = led.color
        }
        stats.rejected += rejected
        stats.unexpected += unexpected
        pings = 0
        leds.removeAll(keepingCapacity: true)
        rejected = 0
        unexpected = 0
    }
}

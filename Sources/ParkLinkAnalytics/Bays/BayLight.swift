import ParkLinkProtocol

/// The colour a bay's LED should show, from what the appliance knows about the bay.
///
/// One rule, in order: a technician's override shows BLUE whatever the sensor says (the
/// bay's state is set by hand, and the light says so); a sensor that is offline or
/// unhealthy shows AMBER (its RED or GREEN could be wrong); otherwise RED for occupied
/// and GREEN for free. A bay never heard from and not overridden gets no command.
public enum BayLight {
    public static func color(occupied: Bool?, overridden: Bool, offline: Bool, unhealthy: Bool) -> LEDColor? {
        if overridden { return .blue }
        if offline || unhealthy { return .amber }
        guard let occupied else { return nil }
        return occupied ? .red : .green
    }
}

/// What the appliance knows about one bay, as the LED rule and the watch stream read it.
public struct BayCondition: Sendable, Equatable {
    public var occupied: Bool?
    /// No reading for longer than the offline threshold (DEVICE_OFFLINE's rule).
    public var offline: Bool
    /// Health score below the LOW_HEALTH threshold.
    public var unhealthy: Bool

    public init(occupied: Bool?, offline: Bool = false, unhealthy: Bool = false) {
        self.occupied = occupied
        self.offline = offline
        self.unhealthy = unhealthy
    }
}

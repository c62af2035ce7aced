/// The human form of an `override` answer, as `parklink override` prints it.
public enum OverrideReport {
    public static func render(_ r: OverrideReply) -> String {
        func until(_ row: OverrideRow) -> String {
            row.expires_at.flatMap(TimeText.milliseconds(iso:)).map { "until \(TimeText.local($0))" } ?? "until set back with --state auto"
        }
        guard let now = r.override else {
            if let ended = r.ended {
                return "\(r.sensor) follows its sensor again (override #\(ended.id), \(ended.state), set by \(ended.set_by), ended)"
            }
            return "\(r.sensor): \(r.note ?? "no override")"
        }
        var out = "\(r.sensor) is now \(now.state) by hand (override #\(now.id), set by \(now.set_by), \(until(now)))"
        if let why = now.reason { out += ": \(why)" }
        if let old = r.ended { out += "\nit replaced override #\(old.id) (\(old.state), set by \(old.set_by))" }
        return out
    }
}

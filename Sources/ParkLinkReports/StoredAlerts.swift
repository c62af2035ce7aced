import Foundation
import ParkLinkDaemon
import ParkLinkSampler
import ParkLinkStore

/// `parklink alerts` and `alerts ack` when the daemon does not answer: the same rows and
/// replies, straight from the `alerts` table. An acknowledgement written here is read back
/// by the daemon when it starts (it resumes its alert book from the table).
public enum StoredAlerts {
    /// The name this state directory's daemon gives its alerts (host:state-dir, as in
    /// `SamplerConfig(appliance:state:)`): appliances may share a database.
    public static func appliance(state: StateDirectory) -> String {
        String((ProcessInfo.processInfo.hostName + ":" + state.path).prefix(191))
    }

    /// Open alerts (acknowledged ones too, until resolved), or with `all` the last 500.
    public static func list(_ c: MariaDBConnection, appliance: String, all: Bool) throws -> [AlertDesk.Row] {
        let repo = AlertRepository(connection: c, appliance: appliance)
        return try (all ? repo.recent(limit: 500) : repo.open()).map(AlertDesk.row)
    }

    /// Acknowledges as the daemon would, with the same reply; an id that is not open is a
    /// `not_found` problem, as from the daemon.
    public static func acknowledge(_ c: MariaDBConnection, appliance: String, target: StatusRequest.AlertTarget,
                                   nowMs: Int64) throws -> StatusReply.Acknowledged {
        let repo = AlertRepository(connection: c, appliance: appliance)
        switch target {
        case .all:
            return .init(acknowledged: try repo.acknowledgeAll(atMs: nowMs))
        case .id(let id):
            switch try repo.acknowledge(id: id, atMs: nowMs) {
            case .acknowledged: return .init(acknowledged: 1)
            case .alreadyAcknowledged: return .init(acknowledged: 0, note: "already acknowledged")
            case .notOpen: throw StatusProblem(code: .notFound, message: "no open alert has id \(id) (it may be resolved already)")
            }
        }
    }
}

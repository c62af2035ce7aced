import ParkLinkSystem

/// Where `parklink install` puts things, and whom they belong to.
///
/// Paths are named as the running system sees them (`/etc/parklink`); `onDisk` puts them
/// under `root`, so a package or an image (and a test) can install into a directory of its
/// own while the unit still says `/usr/local/bin/parklink`.
public struct InstallLayout: Sendable {
    /// `/` for this machine, else the directory that stands for it.
    public var root: String
    /// The binary goes to `PREFIX/bin`.
    public var prefix: String
    /// The account the service runs as, and its own group.
    public var user = "parklink"
    public var group = "parklink"
    /// The group that may open serial ports (the udev rule gives the gateway to it).
    public var deviceGroup = "dialout"
    /// Create the accounts and give files to them. On by default for `/`, off for another
    /// root: the host's accounts are not the image's (there systemd-sysusers creates them
    /// from `sysusersFile`). A test turns it on to install for a throwaway user.
    public var manageAccounts: Bool
    /// Restrict the udev rule to the board with this USB serial number.
    public var gatewaySerial: String?

    public init(root: String = "/", prefix: String = "/usr/local", gatewaySerial: String? = nil) {
        let root = FileSystem.absolutePath(root)
        self.root = root
        self.prefix = prefix
        self.manageAccounts = root == "/"
        self.gatewaySerial = gatewaySerial
    }

    /// The machine itself, not a directory standing for it: services and udev can be
    /// reloaded.
    public var isLiveSystem: Bool { root == "/" }

    public var binary: String { prefix + "/bin/parklink" }
    public var configDirectory: String { "/etc/parklink" }
    public var configFile: String { DaemonSearch.systemConfigFile }
    public var stateDirectory: String { DaemonSearch.systemStateDirectory }
    public var unitFile: String { "/etc/systemd/system/parklink.service" }
    public var udevRuleFile: String { "/etc/udev/rules.d/99-parklink-gateway.rules" }
    public var sysusersFile: String { "/etc/sysusers.d/parklink.conf" }
    public var modulesLoadFile: String { "/etc/modules-load.d/parklink.conf" }

    /// `path` (as the installed system names it) where it is on this machine's disk.
    public func onDisk(_ path: String) -> String {
        isLiveSystem ? path : root + path
    }
}

import Foundation

/// The files `parklink install` puts in place besides the binary and the config. They
/// live here, in the binary, because an installed `parklink` has no source tree to copy
/// them from; `udev/` in the repository holds the same text for `prefix = /usr/local`
/// (a test keeps the two equal).
public enum ServiceFiles {
    /// The systemd unit; `bindir` is where the binary goes (`PREFIX/bin`).
    public static func unit(bindir: String) -> String {
        """
        # ParkLink: `parklink run` as a hardened system service. Installed by `parklink install`
        # (which also creates the user, the directories, the udev rule and the config); see
        # udev/README.md. Started at boot, and by udev when the gateway appears
        # (99-parklink-gateway.rules asks for parklink.service).
        [Unit]
        Description=ParkLink sensor gateway appliance
        # Ordering only: a MariaDB on this machine is up before parklink starts and still up
        # while parklink drains at shutdown. With a remote database, or the private server
        # parklink starts itself (no `dsn`), these lines cost nothing.
        After=network-online.target mariadb.service
        Wants=network-online.target

        [Service]
        Type=simple
        User=parklink
        Group=parklink
        # The gateway's tty belongs to group dialout (the udev rule).
        SupplementaryGroups=dialout
        ExecStart=\(bindir)/parklink run --config /etc/parklink/parklink.toml
        # PARKLINK_DB_PASSWORD=... here (mode 0600), or better password_file in the config.
        EnvironmentFile=-/etc/parklink/env
        Restart=on-failure
        RestartSec=2
        # SIGTERM: parklink stops reading, drains the ring and commits; with the database away
        # it retries for shutdown_grace_seconds (30 s by default), spools the rest, then stops
        # the private MariaDB if it started one (up to 60 s). Raise this with the grace.
        TimeoutStopSec=120
        KillSignal=SIGTERM
        # SIGTERM to parklink alone: the private MariaDB, a child in this unit's cgroup, keeps
        # serving the drain, and parklink shuts it down itself before exiting. What is left
        # when parklink exits (or at TimeoutStopSec) is SIGKILLed.
        KillMode=mixed

        # /var/lib/parklink: the status socket, the spool, the private database. systemd creates
        # it for User/Group with this mode at every start.
        StateDirectory=parklink
        StateDirectoryMode=0750
        RuntimeDirectory=parklink
        RuntimeDirectoryMode=0750
        UMask=0027

        # The reader thread asks for SCHED_FIFO priority 10 (else nice -10): allowed by the
        # capability, and by the limit without it. RestrictRealtime= stays off for the same reason.
        AmbientCapabilities=CAP_SYS_NICE
        CapabilityBoundingSet=CAP_SYS_NICE
        LimitRTPRIO=10

        NoNewPrivileges=yes
        ProtectSystem=strict
        # The UUCP lock files serial programs agree on (/run/lock/LCK..ttyACM0).
        ReadWritePaths=-/run/lock
        ProtectHome=yes
        PrivateTmp=yes
        PrivateMounts=yes
        # Only the gateway's kind of tty (USB CDC ACM and USB serial adapters) besides
        # /dev/null and friends; /etc/modules-load.d/parklink.conf loads their drivers at boot
        # so these groups exist before the gateway is plugged in.
        DevicePolicy=closed
        DeviceAllow=char-ttyACM rw
        DeviceAllow=char-ttyUSB rw
        ProtectKernelTunables=yes
        ProtectKernelModules=yes
        ProtectKernelLogs=yes
        ProtectControlGroups=yes
        ProtectClock=yes
        ProtectHostname=yes
        ProtectProc=invisible
        RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
        RestrictNamespaces=yes
        RestrictSUIDSGID=yes
        LockPersonality=yes
        MemoryDenyWriteExecute=yes
        RemoveIPC=yes
        PrivateIPC=yes
        SystemCallArchitectures=native
        SystemCallFilter=@system-service
        SystemCallErrorNumber=EPERM

        [Install]
        WantedBy=multi-user.target

        """
    }

    /// The udev rule; with `pinnedSerial`, only the board with that USB serial number.
    public static func udevRule(pinnedSerial: String? = nil) -> String {
        let pin = pinnedSerial.map { "ENV{ID_SERIAL_SHORT}!=\"\($0)\", GOTO=\"parklink_end\"" }
            ?? "#PIN ENV{ID_SERIAL_SHORT}!=\"THE-SERIAL-NUMBER\", GOTO=\"parklink_end\""
        return """
            # ParkLink: a stable /dev/parklink-gateway for the sensor gateway, group dialout (the
            # service's user is in it), ModemManager kept off it (it probes new serial ports and
            # would eat the first frames), and parklink.service started when it appears.
            # Installed by `sudo parklink install` to /etc/udev/rules.d/ (see udev/README.md).
            #
            # The USB serial chips such gateways use:
            #   2341:*  Arduino (Uno, Mega, Leonardo)     2a03:*  Arduino.org boards
            #   1a86:7523  CH340/CH341 clones             10c4:ea60  Silicon Labs CP210x
            #   0403:6001  FTDI FT232R                    0403:6015  FTDI FT231X/FT230X
            #
            # Several such boards on one machine? Pin the gateway by its USB serial number:
            # `sudo parklink install --gateway-serial SERIAL` writes the line below with it; by
            # hand, remove `#PIN ` and put the number between the quotes. Find the number with
            #   udevadm info --query=property --name=/dev/ttyACM0 | grep ID_SERIAL_SHORT
            # (CH340 clones have none: match the USB port with ENV{ID_PATH} instead), then
            #   sudo udevadm control --reload && sudo udevadm trigger --subsystem-match=tty

            ACTION=="remove", GOTO="parklink_end"
            SUBSYSTEM!="tty", GOTO="parklink_end"
            \(pin)

            ATTRS{idVendor}=="2341", GOTO="parklink_gateway"
            ATTRS{idVendor}=="2a03", GOTO="parklink_gateway"
            ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", GOTO="parklink_gateway"
            ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", GOTO="parklink_gateway"
            ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6015", GOTO="parklink_gateway"
            ATTRS{idVendor}=="10c4", ATTRS{idProduct}=="ea60", GOTO="parklink_gateway"
            GOTO="parklink_end"

            LABEL="parklink_gateway"
            SYMLINK+="parklink-gateway", GROUP="dialout", MODE="0660", ENV{ID_MM_DEVICE_IGNORE}="1"
            TAG+="systemd", ENV{SYSTEMD_WANTS}+="parklink.service"

            LABEL="parklink_end"

            """
    }

    /// A USB serial number as udev keeps it (`ID_SERIAL_SHORT`: letters, digits, `.`, `_`,
    /// `-`), so it cannot break out of the rule's quotes.
    public static func isValidSerial(_ s: String) -> Bool {
        (1...64).contains(s.count) && s.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
        }
    }

    /// systemd-sysusers' description of the user, for images and packages built with
    /// `--root` (where `parklink install` does not touch the host's accounts).
    public static let sysusers = """
        # ParkLink: the user the service runs as, its own group, and dialout for the gateway's
        # tty. `parklink install` creates them directly; systemd-sysusers does from this file
        # on an image or package installed with `parklink install --root`.
        u parklink - "ParkLink appliance" /var/lib/parklink /usr/sbin/nologin
        m parklink dialout

        """

    /// The USB serial drivers loaded at boot, so the unit's `DeviceAllow=char-ttyACM` and
    /// `char-ttyUSB` find their device groups (systemd resolves them in /proc/devices when
    /// the service starts, which may be before the gateway is plugged in).
    public static let modulesLoad = """
        # ParkLink: the USB serial drivers, loaded at boot so that parklink.service's
        # DeviceAllow=char-ttyACM and char-ttyUSB find their device groups at start, even when
        # the gateway is plugged in later.
        cdc_acm
        usbserial

        """
}

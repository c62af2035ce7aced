#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// The terminal a descriptor is, if it is one.
public enum Terminal {
    /// Whether `fd` is a terminal (not a pipe or a file). The corresponding C function is `isatty`.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Rows and columns of the terminal at `fd`; nil when it is not one or does not say
    /// (0 × 0, as some serial consoles report). The corresponding C call is
    /// `ioctl(TIOCGWINSZ)`.
    public static func size(_ fd: Int32) -> (rows: Int, columns: Int)? {
        var rows: UInt16 = 0, columns: UInt16 = 0
        guard parklink_terminal_size(fd, &rows, &columns) == 0, rows > 0, columns > 0 else { return nil }
        return (Int(rows), Int(columns))
    }
}

// The Connector/C boundary of ParkLinkStore. Only these files call MariaDB Connector/C
// (`import CMariaDB`): MariaDB.swift (library and thread set-up), MariaDBError.swift
// (reading a handle's error), MariaDBValue.swift (values as C DATETIMEs),
// MariaDBConnection.swift, MariaDBStream.swift (results row by row), PreparedStatement.swift
// and ParameterArrays.swift (array binding). No other file of the module may import CMariaDB.
//
// Everything else in the module talks to the database through the types these files
// define, so the C API's rules (who frees what, when a bound buffer must stay valid, which
// calls need the library initialised) are kept in one place. `internal import` keeps the C
// types out of the module's public interface.

internal import CMariaDB

/// Process-wide set-up of MariaDB Connector/C.
public enum MariaDB {
    /// `mysql_server_init(0, NULL, NULL)`, run exactly once (a `static let` initialiser is
    /// thread-safe and lazy).
    private static let libraryInitResult: Int32 = parklink_mysql_library_init()

    /// Initialises Connector/C once per process; later calls do nothing. Call it before
    /// starting threads (opening a connection calls it too). Returns false if the library
    /// could not initialise (then every connect fails with the library's own error).
    ///
    /// The corresponding C function is `mysql_library_init` (a macro for `mysql_server_init`).
    @discardableResult
    public static func initializeLibrary() -> Bool {
        libraryInitResult == 0
    }

    /// Per-thread set-up for a thread that will use the library (the writer, the sampler).
    ///
    /// The corresponding C function is `mysql_thread_init`.
    public static func threadInit() {
        initializeLibrary()
        _ = mysql_thread_init()
    }

    /// Per-thread clean-up; call before a thread that called `threadInit()` exits.
    ///
    /// The corresponding C function is `mysql_thread_end`.
    public static func threadEnd() {
        mysql_thread_end()
    }

    /// The Connector/C version, e.g. "3.3.14".
    public static var clientVersion: String {
        String(cString: mysql_get_client_info())
    }
}

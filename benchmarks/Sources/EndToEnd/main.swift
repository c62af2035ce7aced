// End to end: simulated gateway → pty → SerialReader → ring → ReadingWriter → MariaDB.
//
// A plain executable rather than a `Benchmark`: each measurement is a gateway sending at a
// fixed rate for seconds, then a drain and a reconciliation against the database, which
// the harness's "repeat a closure until the time is up" model does not express.
//
//     swift run -c release EndToEnd                 # the full ladder, both framings (~3 min)
//     swift run -c release EndToEnd --quick         # a smoke run (two short steps)
//     swift run -c release EndToEnd --help
//
// The orchestrator starts its own MariaDB (`PrivateMariaDBServer.temporary()`), then for each
// step: a fresh database, a `GatewaySimulator` in one child process (`EndToEnd simulate …`)
// and the pipeline in another (`EndToEnd pipeline …`: `Pipeline.overMariaDB` with the
// default configuration and no sampler, exactly the daemon's data path). Both children
// are this same release binary. A fresh pipeline process per step makes its peak RSS
// and CPU its own: glibc keeps freed memory in its arenas, so steps run one after another
// in one process would inherit each other's high-water marks. When the simulator has sent
// for `--seconds` and the host has read everything, the pipeline drains and the step is
// reconciled: the simulator's ledger, the pipeline's counters and
// `SELECT COUNT(*) FROM readings` must all agree for "zero loss".

import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
LoggingSystem.bootstrap { label in
    var h = StreamLogHandler.standardError(label: label)
    h.logLevel = .warning
    return h
}
if arguments.first == "simulate" {
    SimulatorChild.run(Array(arguments.dropFirst()))
}
if arguments.first == "pipeline" {
    PipelineChild.run(Array(arguments.dropFirst()))
}
if arguments.first == "ceilings" {
    // `EndToEnd ceilings [ROWS] [ROUNDS]`: array binding through 1, 2 and 3 connections at
    // once, and the key shape's cost (see `KeyShapeCeiling`), on a private server, ROUNDS times.
    let rows = arguments.count > 1 ? Int(arguments[1]) ?? 400_000 : 400_000
    let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
    do {
        MariaDB.initializeLibrary()
        MariaDB.threadInit()
        let db = try PrivateMariaDBServer.temporary()
        let serverDSN = try db.start()
        defer { try? db.destroy() }
        let admin = try MariaDBConnection(dsn: serverDSN.withDatabase(nil))
        defer { admin.close() }
        print(MachineInfo.line)
        for round in 1...rounds {
            for n in [1, 2, 3] {
                let r = try StoreCeiling.parallelArrayBinding(serverDSN: serverDSN, admin: admin, rows: rows, connections: n)
                print("round \(round): \(n) connection(s): \(r) rows/s")
            }
            for shape in try KeyShapeCeiling.measure(admin: admin, rows: rows) {
                print("round \(round): key shape \(shape.shape): \(shape.rowsPerSecond) rows/s (server-side INSERT … SELECT)")
            }
        }
    } catch {
        FileHandle.standardError.write(Data("EndToEnd ceilings: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
do {
    let options = try EndToEndOptions(arguments)
    try Orchestrator(options: options).run()
} catch {
    FileHandle.standardError.write(Data("EndToEnd: \(error)\n".utf8))
    exit(1)
}

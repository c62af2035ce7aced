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
do {
    let options = try EndToEndOptions(arguments)
    try Orchestrator(options: options).run()
} catch {
    FileHandle.standardError.write(Data("EndToEnd: \(error)\n".utf8))
    exit(1)
}

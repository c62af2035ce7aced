// The run's report: a progress line per step, then markdown tables.

import Foundation

enum Report {
    static func progressLine(_ r: StepResult) -> String {
        let p99 = r.latencyP99Ms.map { "\($0)" } ?? "-"
        var line = "[\(r.kind.rawValue)] \(r.framing) \(r.sensors) sensors @ \(r.targetRate)/s"
            + (r.settings.isEmpty ? "" : " (\(r.settings.joined(separator: ", ")))")
            + ": emitted \(r.emittedPerSecond)/s, stored \(r.storedPerSecond)/s (end to end \(r.endToEndPerSecond)/s), "
            + "loss \(r.loss) (tx_dropped \(r.gatewayTxDropped), lost \(r.lostAtStop), missing \(r.linkMissing)), "
            + "\(r.zeroLoss ? "ZERO LOSS" : "LOSS"), p99 \(p99) ms, RSS \(f1(r.peakRSSMiB)) MiB, "
            + "events \(r.occupancyEvents)\(r.occupancyEventsSuppressed.map { " (suppressed \($0))" } ?? ""), "
            + "CPU reader \(f0(r.cpuReader))% writer \(f0(r.cpuWriter))% process \(f0(r.cpuPipelineProcess))% "
            + "mariadbd \(f0(r.cpuMariaDB))% sim \(f0(r.cpuSimulator))% others \(f0(r.cpuOthers))% (load \(f1(r.loadAverage))); "
            + "CPU s/min pipeline \(f2(r.pipelineCPUSecondsPerMinute)) mariadbd \(f2(r.mariadbCPUSecondsPerMinute)) "
            + "(threads: \(r.threadCPUSecondsPerMinute.sorted { $0.key < $1.key }.map { "\($0.key) \(f2($0.value))" }.joined(separator: ", "))); "
            + "run-queue wait ms: reader \(f0(r.runQueueWaitReaderMs)) writer \(f0(r.runQueueWaitWriterMs)) "
            + "simulator \(f0(r.runQueueWaitSimulatorMs)); ring high-water \(r.ringHighWater), spooled \(r.spoolAppended)"
        if let c = r.ceiling {
            line += "; ceilings: array binding \(c.arrayBindingRowsPerSecond)/s, LOAD DATA \(c.loadDataRowsPerSecond)/s"
        }
        return line
    }

    static func markdown(_ results: [StepResult], options: EndToEndOptions) -> String {
        var out = "### Every step beside the store's ceilings\n\n"
        out += "Ceilings: rows/s the store alone took on the same server just before the step (array binding, the writer's "
            + "method; LOAD DATA LOCAL INFILE), \(options.ceilingRows) rows each in transactions of \(StoreCeiling.batch). "
            + "End to end = readings stored ÷ (pipeline start → last commit): below the offered rate when the database "
            + "fell behind and the spool held readings after the gateway stopped. Ratio = end to end ÷ ceiling.\n\n"
        out += "| step | framing | sensors | offered/s | settings | end to end/s | zero loss | spooled | p99 ms | peak RSS MiB | array binding/s | LOAD DATA/s | ÷ array binding | ÷ LOAD DATA |\n"
        out += "| --- | --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for r in results {
            let ab = r.ceiling?.arrayBindingRowsPerSecond, ld = r.ceiling?.loadDataRowsPerSecond
            out += "| \(r.kind.rawValue) | \(r.framing) | \(r.sensors) | \(r.targetRate) | \(r.settings.joined(separator: " ")) | "
                + "\(r.endToEndPerSecond) | \(r.zeroLoss ? "yes" : "NO (\(r.loss))") | \(r.spoolAppended) | \(opt(r.latencyP99Ms)) | "
                + "\(f1(r.peakRSSMiB)) | \(ab.map(String.init) ?? "-") | \(ld.map(String.init) ?? "-") | "
                + "\(ratio(r.endToEndPerSecond, ab)) | \(ratio(r.endToEndPerSecond, ld)) |\n"
        }

        let ladder = results.filter { $0.kind == .ladder }
        if !ladder.isEmpty {
            out += "\n### Rate ladder (\(options.sensors) sensors, \(f0(options.seconds)) s per step)\n\n"
            out += "CPU in % of one core over the step (2 cores = 200%); \"others\": every other process on the machine meanwhile.\n\n"
            out += "| framing | target/s | emitted/s | end to end/s | loss | tx_dropped | zero loss | reader waits | spooled | p50 ms | p99 ms | max ms | peak RSS MiB | CPU reader | CPU writer | CPU mariadbd | CPU simulator | CPU others | run-queue wait reader / sim ms |\n"
            out += "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for r in ladder { out += row(r) }
            out += "\n"
            for framing in Set(ladder.map(\.framing)).sorted() {
                let best = ladder.filter { $0.framing == framing && keptUp($0) }.map(\.targetRate).max()
                out += "Highest rate kept up with, \(framing): \(best.map { "\($0) readings/s" } ?? "none of the steps") "
                    + "(zero loss, nothing spooled, end to end ≥ 95% of the offered rate)\n"
            }
        }

        let storms = results.filter { $0.kind == .storm }
        if !storms.isEmpty {
            out += "\n### Flapping storm (every reading flips its bay; \(options.sensors) sensors)\n\n"
            out += "| framing | offered/s | settings | end to end/s | zero loss | events written | events/s | suppressed | p99 ms | CPU writer | CPU mariadbd | writer µs/reading | mariadbd µs/reading | CPU others |\n"
            out += "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for r in storms {
                out += "| \(r.framing) | \(r.targetRate) | \(r.settings.joined(separator: " ")) | \(r.endToEndPerSecond) | "
                    + "\(r.zeroLoss ? "yes" : "NO (\(r.loss))") | \(r.occupancyEvents) | \(Int(Double(r.occupancyEvents) / r.seconds)) | "
                    + "\(r.occupancyEventsSuppressed.map(String.init) ?? "-") | \(opt(r.latencyP99Ms)) | \(f0(r.cpuWriter))% | "
                    + "\(f0(r.cpuMariaDB))% | \(f2(r.usPerReadingWriter)) | \(f2(r.usPerReadingMariaDB)) | \(f0(r.cpuOthers))% |\n"
            }
        }

        let comparison = results.filter { $0.kind == .compare }
        if !comparison.isEmpty {
            out += "\n### Sensor count at \(options.compareRate) readings/s\n\n"
            out += "| framing | sensors | stored/s | zero loss | p50 ms | p99 ms | peak RSS MiB | reader µs/reading | writer µs/reading | mariadbd µs/reading | CPU others |\n"
            out += "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for r in comparison {
                out += "| \(r.framing) | \(r.sensors) | \(r.storedPerSecond) | \(r.zeroLoss ? "yes" : "NO (\(r.loss))") | "
                    + "\(opt(r.latencyP50Ms)) | \(opt(r.latencyP99Ms)) | \(f1(r.peakRSSMiB)) | \(f2(r.usPerReadingReader)) | "
                    + "\(f2(r.usPerReadingWriter)) | \(f2(r.usPerReadingMariaDB)) | \(f0(r.cpuOthers))% |\n"
            }
        }

        let idle = results.filter { $0.kind == .idle }
        if !idle.isEmpty {
            out += "\n### Idle efficiency (\(options.idleRate) readings/s, each frame written on its own, sampler attached, \(f0(options.idleSeconds)) s)\n\n"
            out += "CPU seconds per minute of sending, from /proc: the whole pipeline process (reader, writer, sampler, status) and the MariaDB server.\n\n"
            out += "| framing | stored/s | zero loss | daemon CPU s/min | % of a core | reader / writer / sampler / other threads s/min | mariadbd CPU s/min | p50 ms | p99 ms | batches | peak RSS MiB |\n"
            out += "| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n"
            for r in idle {
                let t = r.threadCPUSecondsPerMinute
                let rest = t.filter { !["pl-reader", "pl-writer", "pl-sampler"].contains($0.key) }.values.reduce(0, +)
                out += "| \(r.framing) | \(r.storedPerSecond) | \(r.zeroLoss ? "yes" : "NO (\(r.loss))") | "
                    + "\(f2(r.pipelineCPUSecondsPerMinute)) | \(f2(r.pipelineCPUSecondsPerMinute / 60 * 100))% | "
                    + "\(f2(t["pl-reader"] ?? 0)) / \(f2(t["pl-writer"] ?? 0)) / \(f2(t["pl-sampler"] ?? 0)) / \(f2(rest)) | "
                    + "\(f2(r.mariadbCPUSecondsPerMinute)) | \(opt(r.latencyP50Ms)) | \(opt(r.latencyP99Ms)) | \(r.batches) | \(f1(r.peakRSSMiB)) |\n"
            }
        }
        return out
    }

    private static func row(_ r: StepResult) -> String {
        "| \(r.framing) | \(r.targetRate) | \(r.emittedPerSecond) | \(r.endToEndPerSecond) | \(r.loss) | \(r.gatewayTxDropped) | "
            + "\(r.zeroLoss ? "yes" : "NO") | \(r.readerWaits) | \(r.spoolAppended) | \(opt(r.latencyP50Ms)) | \(opt(r.latencyP99Ms)) | "
            + "\(opt(r.latencyMaxMs)) | \(f1(r.peakRSSMiB)) | \(f0(r.cpuReader))% | \(f0(r.cpuWriter))% | "
            + "\(f0(r.cpuMariaDB))% | \(f0(r.cpuSimulator))% | \(f0(r.cpuOthers))% | \(f0(r.runQueueWaitReaderMs)) / \(f0(r.runQueueWaitSimulatorMs)) |\n"
    }

    /// Zero loss, and the database kept pace: nothing spooled, end to end within 5% of the
    /// offered rate (the rest is the first PING and the last batch's linger and commit).
    static func keptUp(_ r: StepResult) -> Bool {
        r.zeroLoss && r.spoolAppended == 0 && Double(r.endToEndPerSecond) >= 0.95 * Double(r.targetRate)
    }

    static func ratio(_ a: Int, _ b: Int?) -> String {
        guard let b, b > 0 else { return "-" }
        return String(format: "%.2f", Double(a) / Double(b))
    }

    static func f0(_ v: Double) -> String { String(format: "%.0f", v) }
    static func f1(_ v: Double) -> String { String(format: "%.1f", v) }
    static func f2(_ v: Double) -> String { String(format: "%.2f", v) }
    static func opt(_ v: Int64?) -> String { v.map { "\($0)" } ?? "-" }
}

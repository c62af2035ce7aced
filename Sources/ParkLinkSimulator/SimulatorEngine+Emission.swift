// What the firmware sends: the readings due, with their faults, HELLO and HB frames, and
// writing the transmit buffer to the pty.

import ParkLinkProtocol

extension SimulatorEngine {
    // MARK: - Emission

    /// Emits every reading due by `now`: `totalRate × (now − boot)` round-robin slots,
    /// minus those already done. With the link down or the buffer full, a due reading is
    /// counted as `tx_dropped` without a seq, as the firmware does.
    mutating func emitDue(now: UInt64, linkUp: Bool) {
        guard booted, now > bootStartNs else { return }
        let due = UInt64(Double(now - bootStartNs) / nanosPerSlot)
        guard due > slotsDone else { return }
        let wallSeconds = Double(now - firstBootNs) / 1e9
        let bayNow = wallSeconds * config.timeScale
        let encoding = config.encoding
        var full = false
        while slotsDone < due {
            let slot = slotsDone
            slotsDone += 1
            let index = Int(slot % sensorCount)
            if bays.isSilent(index, wallSeconds: wallSeconds) { continue }
            if !linkUp || full {
                dropReading()
                continue
            }
            if !tx.hasRoomForReading {
                flush()
                if !tx.hasRoomForReading {
                    full = true
                    dropReading()
                    continue
                }
            }
            let sensor = config.firstSensor &+ UInt16(truncatingIfNeeded: index)
            var reading = bays.sample(index, sensor: sensor, bayNow: bayNow, random: &random)
            if pendingGap > 0 {
                for k in 0..<pendingGap { delta.skipped.append(nextSeq &+ UInt32(truncatingIfNeeded: k)) }
                nextSeq &+= UInt32(truncatingIfNeeded: pendingGap)
                pendingGap = 0
            }
            reading.seq = nextSeq
            nextSeq &+= 1
            // millis() when this slot was due: readings of one tick get distinct times.
            reading.gatewayMs = UInt32(truncatingIfNeeded: UInt64(Double(slot) * nanosPerSlot / 1e6))
            if random.chance(config.garbageFraction) {
                let start = tx.bytes.count
                delta.garbageBytes += NoiseBurst.append(to: &tx.bytes, encoding: encoding, random: &random)
                delta.garbageBursts += 1
                tx.noteSegment(from: start, seq: nil, corrupted: false)
            }
            let start = tx.bytes.count
            MessageEncoder.append(.reading(reading), as: encoding, to: &tx.bytes)
            let corrupt = random.chance(config.corruptFraction)
            if corrupt {
                switch encoding {
                case .text: FrameCorruption.corruptText(&tx.bytes, from: start, random: &random)
                case .binary: FrameCorruption.corruptBinary(&tx.bytes, from: start, random: &random)
                }
                delta.corrupted.append(reading.seq)
            } else if config.recordReadings {
                delta.readings.append(reading)
            }
            tx.noteSegment(from: start, seq: reading.seq, corrupted: corrupt)
        }
    }

    @inline(__always)
    private mutating func dropReading() {
        delta.txDropped += 1
        bootTxDropped += 1
    }

    mutating func appendHello() {
        guard tx.hasRoomForControl else {
            delta.controlFramesDropped += 1
            return
        }
        let hello = Hello(gatewayId: config.gatewayId, bootId: bootId, firmware: config.firmware, sensorCount: UInt16(config.sensors))
        let start = tx.bytes.count
        MessageEncoder.append(.hello(hello), as: config.encoding, to: &tx.bytes)
        tx.noteSegment(from: start, seq: nil, corrupted: false)
        delta.hellosSent += 1
    }

    mutating func appendHeartbeat(now: UInt64) {
        guard booted, linkOpen else { return }
        guard tx.hasRoomForControl else {
            delta.controlFramesDropped += 1
            return
        }
        let hb = Heartbeat(
            nextSeq: nextSeq,
            uptimeMs: UInt32(truncatingIfNeeded: (now - bootStartNs) / 1_000_000),
            txDropped: UInt32(truncatingIfNeeded: bootTxDropped))
        lastHeartbeatSeq = nextSeq
        let start = tx.bytes.count
        MessageEncoder.append(.heartbeat(hb), as: config.encoding, to: &tx.bytes)
        tx.noteSegment(from: start, seq: nil, corrupted: false)
        delta.heartbeatsSent += 1
    }

    mutating func flush() {
        guard linkOpen, !tx.isEmpty else { return }
        do {
            _ = try tx.flush(to: link.controller)
        } catch {
            // EIO: nobody holds the follower (cannot happen while the keeper is open).
            // The bytes stay queued; a full buffer turns new readings into tx_dropped.
        }
    }
}

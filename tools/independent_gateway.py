#!/usr/bin/env python3
"""An independent gateway for ParkLink, written from shared/protocol/PROTOCOL.md alone.

It shares no code with the Swift appliance or its simulator (its CRC, COBS, encoders
and decoders are its own, checked against vectors.json by --self-test), so a bug that
both sides of the Swift code share cannot hide from it. It opens a pseudo-terminal,
prints the follower's path on the first line of stdout, waits for the host's first
PING, then sends readings at a wall-clock pace with the faults asked for, answers
PING with HELLO, sends HB every second, waits until the host has read everything,
and writes a JSON manifest of exactly what it sent (see tools/README.md).

Only the Python standard library is used.
"""

import argparse
import array
import fcntl
import json
import os
import pty
import random
import select
import struct
import sys
import termios
import time
import tty

# --------------------------------------------------------------------------------------
# CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor.


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
        table.append(crc)
    return table


CRC_TABLE = _crc_table()


def crc16(data, crc=0xFFFF):
    table = CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ b) & 0xFF]
    return crc


def crc16_bitwise(data):
    """The definition, bit by bit: the table above is checked against it."""
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


# --------------------------------------------------------------------------------------
# COBS (Cheshire and Baker). The delimiter is not part of the encoding.


def cobs_encode(data):
    out = bytearray()
    block = bytearray()
    ended_full = False
    for b in data:
        ended_full = False
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(0xFF)
                out += block
                block.clear()
                ended_full = True
    # Data that ends with a full block of 254 non-zero bytes needs no final empty group
    # (the shortest form, as in the paper's examples).
    if not ended_full:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(data):
    """Returns the decoded bytes, or None if `data` is not a COBS encoding."""
    if len(data) == 0:
        return None
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            return None
        i += 1
        end = i + code - 1
        if end > n:
            return None
        chunk = data[i:end]
        if 0 in chunk:
            return None
        out += chunk
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


# --------------------------------------------------------------------------------------
# Messages: plain dicts shaped like vectors.json's "decoded" objects.

COLORS = ["OFF", "GREEN", "RED", "BLUE", "AMBER"]
TYPE_CODES = {"hello": 0x01, "reading": 0x02, "heartbeat": 0x03, "led": 0x10, "ping": 0x11}
READING_FIELDS = ("seq", "sensor", "t_ms", "occupied", "distance_cm", "voltage_dv", "current_ma", "power_factor_pct")
OPTIONAL_FIELDS = ("distance_cm", "voltage_dv", "current_ma", "power_factor_pct")
MAX_LINE = 128


def _opt(v):
    return "" if v is None else str(v)


def encode_text(m):
    t = m["type"]
    if t == "reading":
        body = "R,%d,%d,%d,%d,%s,%s,%s,%s" % (
            m["seq"], m["sensor"], m["t_ms"], 1 if m["occupied"] else 0,
            _opt(m["distance_cm"]), _opt(m["voltage_dv"]), _opt(m["current_ma"]), _opt(m["power_factor_pct"]))
    elif t == "heartbeat":
        body = "HB,%d,%d,%d" % (m["next_seq"], m["uptime_ms"], m["tx_dropped"])
    elif t == "hello":
        body = "HELLO,%s,%08X,%s,%d" % (m["gateway_id"], m["boot_id"], m["firmware"], m["sensor_count"])
    elif t == "led":
        body = "LED,%d,%s" % (m["sensor"], m["color"])
    elif t == "ping":
        body = "PING"
    else:
        raise ValueError("unknown message type %r" % t)
    b = body.encode("ascii")
    return b"$" + b + b"*%04X\r\n" % crc16(b)


def encode_binary_unstuffed(m):
    """type | payload | crc16 little-endian, before COBS."""
    t = m["type"]
    if t == "reading":
        flags = (1 if m["occupied"] else 0)
        for bit, name in ((1, "distance_cm"), (2, "voltage_dv"), (3, "current_ma"), (4, "power_factor_pct")):
            if m[name] is not None:
                flags |= 1 << bit
        payload = struct.pack("<IHIBHHHB", m["seq"], m["sensor"], m["t_ms"], flags,
                              m["distance_cm"] or 0, m["voltage_dv"] or 0, m["current_ma"] or 0,
                              m["power_factor_pct"] or 0)
    elif t == "heartbeat":
        payload = struct.pack("<III", m["next_seq"], m["uptime_ms"], m["tx_dropped"])
    elif t == "hello":
        gid = m["gateway_id"].encode("ascii")
        major, minor, patch = (int(x) for x in m["firmware"].split("."))
        payload = bytes([len(gid)]) + gid + struct.pack("<IBBBH", m["boot_id"], major, minor, patch, m["sensor_count"])
    elif t == "led":
        payload = struct.pack("<HB", m["sensor"], COLORS.index(m["color"]))
    elif t == "ping":
        payload = b""
    else:
        raise ValueError("unknown message type %r" % t)
    frame = bytes([TYPE_CODES[t]]) + payload
    return frame + struct.pack("<H", crc16(frame))


def encode_binary(m):
    return cobs_encode(encode_binary_unstuffed(m)) + b"\x00"


def encode(m, framing):
    return encode_text(m) if framing == "text" else encode_binary(m)


class Reject(Exception):
    """A frame that must be rejected; the reason is a short name."""


def _num(s, maximum):
    if s == "" or not s.isdigit() or not s.isascii():
        raise Reject("malformed")
    v = int(s)
    if v > maximum:
        raise Reject("malformed")
    return v


def _opt_num(s, maximum):
    return None if s == "" else _num(s, maximum)


def _valid_gateway_id(g):
    return 1 <= len(g) <= 32 and all(c.isascii() and (c.isalnum() or c in "_-") for c in g)


def decode_text_line(line):
    """`line` from `$` to `\\n` inclusive. Returns a message dict or raises Reject."""
    if len(line) > MAX_LINE:
        raise Reject("too_long")
    if not line.startswith(b"$") or not line.endswith(b"\n"):
        raise Reject("malformed")
    inner = line[1:-1]
    if inner.endswith(b"\r"):
        inner = inner[:-1]
    star = inner.rfind(b"*")
    if star < 0:
        raise Reject("no_checksum")
    body, crc_text = inner[:star], inner[star + 1:]
    if len(crc_text) != 4 or any(c not in b"0123456789ABCDEF" for c in crc_text):
        raise Reject("malformed")
    if int(crc_text, 16) != crc16(body):
        raise Reject("bad_crc")
    try:
        fields = body.decode("ascii").split(",")
    except UnicodeDecodeError:
        raise Reject("malformed")
    t, args = fields[0], fields[1:]
    if t == "R":
        if len(args) != 8:
            raise Reject("malformed")
        occ = _num(args[3], 1)
        return {"type": "reading", "seq": _num(args[0], 0xFFFFFFFF), "sensor": _num(args[1], 0xFFFF),
                "t_ms": _num(args[2], 0xFFFFFFFF), "occupied": occ == 1,
                "distance_cm": _opt_num(args[4], 0xFFFF), "voltage_dv": _opt_num(args[5], 0xFFFF),
                "current_ma": _opt_num(args[6], 0xFFFF), "power_factor_pct": _opt_num(args[7], 100)}
    if t == "HB":
        if len(args) != 3:
            raise Reject("malformed")
        return {"type": "heartbeat", "next_seq": _num(args[0], 0xFFFFFFFF),
                "uptime_ms": _num(args[1], 0xFFFFFFFF), "tx_dropped": _num(args[2], 0xFFFFFFFF)}
    if t == "HELLO":
        if len(args) != 4 or not _valid_gateway_id(args[0]):
            raise Reject("malformed")
        if len(args[1]) != 8 or any(c not in "0123456789ABCDEFabcdef" for c in args[1]):
            raise Reject("malformed")
        fw = args[2].split(".")
        if len(fw) != 3:
            raise Reject("malformed")
        for part in fw:
            _num(part, 255)
        return {"type": "hello", "gateway_id": args[0], "boot_id": int(args[1], 16),
                "firmware": ".".join(str(int(p)) for p in fw), "sensor_count": _num(args[3], 0xFFFF)}
    if t == "LED":
        if len(args) != 2 or args[1] not in COLORS:
            raise Reject("malformed")
        return {"type": "led", "sensor": _num(args[0], 0xFFFF), "color": args[1]}
    if t == "PING":
        if args:
            raise Reject("malformed")
        return {"type": "ping"}
    raise Reject("unknown_type")


def decode_binary_frame(encoded):
    """One COBS frame without its delimiter. Returns a message dict or raises Reject."""
    frame = cobs_decode(encoded)
    if frame is None or len(frame) < 3:
        raise Reject("bad_framing")
    body, crc = frame[:-2], struct.unpack("<H", frame[-2:])[0]
    if crc16(body) != crc:
        raise Reject("bad_crc")
    t, p = body[0], body[1:]
    if t == 0x02:
        if len(p) != 18:
            raise Reject("malformed")
        seq, sensor, t_ms, flags, dist, volt, cur, pf = struct.unpack("<IHIBHHHB", p)
        if flags & 0xE0 or pf > 100:
            raise Reject("malformed")
        return {"type": "reading", "seq": seq, "sensor": sensor, "t_ms": t_ms, "occupied": bool(flags & 1),
                "distance_cm": dist if flags & 2 else None, "voltage_dv": volt if flags & 4 else None,
                "current_ma": cur if flags & 8 else None, "power_factor_pct": pf if flags & 16 else None}
    if t == 0x03:
        if len(p) != 12:
            raise Reject("malformed")
        n, u, d = struct.unpack("<III", p)
        return {"type": "heartbeat", "next_seq": n, "uptime_ms": u, "tx_dropped": d}
    if t == 0x01:
        if len(p) < 1 or len(p) != 1 + p[0] + 9:
            raise Reject("malformed")
        gid = p[1:1 + p[0]].decode("ascii", "replace")
        if not _valid_gateway_id(gid):
            raise Reject("malformed")
        boot, ma, mi, pa, count = struct.unpack("<IBBBH", p[1 + p[0]:])
        return {"type": "hello", "gateway_id": gid, "boot_id": boot, "firmware": "%d.%d.%d" % (ma, mi, pa),
                "sensor_count": count}
    if t == 0x10:
        if len(p) != 3 or p[2] >= len(COLORS):
            raise Reject("malformed")
        return {"type": "led", "sensor": struct.unpack("<H", p[:2])[0], "color": COLORS[p[2]]}
    if t == 0x11:
        if p:
            raise Reject("malformed")
        return {"type": "ping"}
    raise Reject("unknown_type")


class StreamDecoder:
    """Splits a byte stream into frames: text lines from `$` to `\\n`, or binary frames
    ending in 0x00. Calls on_message(dict) or on_reject(reason) per frame."""

    def __init__(self, framing, on_message, on_reject):
        self.framing = framing
        self.on_message = on_message
        self.on_reject = on_reject
        self.carry = bytearray()
        self.noise = 0

    def feed(self, data):
        self.carry += data
        if self.framing == "text":
            self._feed_text()
        else:
            self._feed_binary()

    def _deliver(self, fn, arg):
        try:
            self.on_message(fn(arg))
        except Reject as r:
            self.on_reject(str(r))

    def _feed_text(self):
        buf = self.carry
        while True:
            start = buf.find(b"$")
            if start < 0:
                self.noise += len(buf)
                buf.clear()
                return
            self.noise += start
            del buf[:start]
            nl = buf.find(b"\n")
            nxt = buf.find(b"$", 1)
            if nxt >= 0 and (nl < 0 or nxt < nl):
                self.on_reject("malformed")  # a line cut off by the next `$`
                del buf[:nxt]
                continue
            if nl < 0:
                if len(buf) > MAX_LINE:
                    self.on_reject("too_long")
                    del buf[:1]
                return
            line = bytes(buf[:nl + 1])
            del buf[:nl + 1]
            self._deliver(decode_text_line, line)

    def _feed_binary(self):
        buf = self.carry
        while True:
            z = buf.find(b"\x00")
            if z < 0:
                return
            frame = bytes(buf[:z])
            del buf[:z + 1]
            if not frame:
                self.noise += 1
                continue
            self._deliver(decode_binary_frame, frame)


# --------------------------------------------------------------------------------------
# --self-test: everything above against vectors.json.


def find_vectors(explicit):
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    for candidate in (os.path.join(repo, "..", "shared", "protocol", "vectors.json"),
                      os.path.join(repo, "Tests", "ParkLinkProtocolTests", "Fixtures", "vectors.json")):
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    return None


def self_test(vectors_path):
    failures = []
    checks = 0

    def check(ok, what):
        nonlocal checks
        checks += 1
        if not ok:
            failures.append(what)

    check(crc16(b"123456789") == 0x29B1, "CRC check value of 123456789 is 0x29B1")
    check(all(crc16(bytes([b])) == crc16_bitwise(bytes([b])) for b in range(256)), "CRC table matches the bitwise definition")
    rng = random.Random(7)
    for n in (0, 1, 2, 253, 254, 255, 256, 508, 600):
        for zeros in (0.0, 0.1, 0.5):
            data = bytes(0 if rng.random() < zeros else rng.randrange(1, 256) for _ in range(n))
            enc = cobs_encode(data)
            check(0 not in enc, "COBS output of %d bytes has no zero" % n)
            check(cobs_decode(enc) == data, "COBS round trip of %d bytes (zeros %.1f)" % (n, zeros))
            check(crc16(data) == crc16_bitwise(data), "CRC table vs bitwise on %d bytes" % n)
    # The classic COBS examples (Cheshire and Baker; the Wikipedia table).
    known = [
        (b"\x00", b"\x01\x01"), (b"\x00\x00", b"\x01\x01\x01"), (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"), (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
        (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
        (bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255))),
        (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
        (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
        (bytes(range(3, 256)) + b"\x00\x01", b"\xfe" + bytes(range(3, 256)) + b"\x02\x01"),
    ]
    for raw, enc in known:
        check(cobs_encode(raw) == enc, "COBS encode of %s..." % raw[:4].hex())
        check(cobs_decode(enc) == raw, "COBS decode of %s..." % enc[:4].hex())

    if vectors_path is None:
        failures.append("vectors.json not found (give --vectors PATH)")
    else:
        with open(vectors_path) as f:
            vectors = json.load(f)
        for v in vectors["text"]:
            line = v["line"].encode("ascii")
            check(encode_text(v["decoded"]) == line, "text encode: %r" % v["line"])
            try:
                check(decode_text_line(line) == v["decoded"], "text decode: %r" % v["line"])
            except Reject as r:
                failures.append("text decode rejected %r: %s" % (v["line"], r))
        for v in vectors["invalid_text"]:
            line = v["line"].encode("ascii")
            got = []
            d = StreamDecoder("text", lambda m: got.append(("message", m)), lambda r: got.append(("reject", r)))
            d.feed(line)
            check(len(got) >= 1 and all(k == "reject" for k, _ in got),
                  "invalid text must be rejected (%s): %r -> %r" % (v["why"], v["line"], got))
        for v in vectors["binary"]:
            unstuffed = bytes.fromhex(v["unencoded_hex"])
            wire = bytes.fromhex(v["wire_hex"])
            check(encode_binary_unstuffed(v["decoded"]) == unstuffed, "binary frame: %s" % v["unencoded_hex"])
            check(encode_binary(v["decoded"]) == wire, "binary wire: %s" % v["wire_hex"])
            check(cobs_encode(unstuffed) + b"\x00" == wire, "COBS encode: %s" % v["unencoded_hex"])
            check(cobs_decode(wire[:-1]) == unstuffed, "COBS decode: %s" % v["wire_hex"])
            try:
                check(decode_binary_frame(wire[:-1]) == v["decoded"], "binary decode: %s" % v["wire_hex"])
            except Reject as r:
                failures.append("binary decode rejected %s: %s" % (v["wire_hex"], r))
        # Binary frames that must be rejected (vectors.json has text ones only): each is
        # a valid reading frame with one thing wrong, re-checksummed so only that is wrong.
        good = bytes.fromhex(vectors["binary"][1]["unencoded_hex"])[:-2]
        bad = {
            "power factor above 100": good[:-1] + bytes([101]),
            "reserved flag bit": good[:11] + bytes([good[11] | 0x20]) + good[12:],
            "payload too short": good[:-1],
            "unknown type": bytes([0x7E]) + good[1:],
        }
        for why, frame in bad.items():
            wire = cobs_encode(frame + struct.pack("<H", crc16(frame)))
            try:
                decode_binary_frame(wire)
                failures.append("invalid binary frame accepted: " + why)
            except Reject:
                checks += 1
        # This tool's own faults must be what it claims: a bad CRC, and noise that is
        # never a frame (text) or exactly one bad_framing reject (binary).
        for framing in ("text", "binary"):
            rng = random.Random(11)
            for _ in range(200):
                m = {"type": "reading", "seq": rng.randrange(2**32), "sensor": rng.randrange(2**16),
                     "t_ms": rng.randrange(2**32), "occupied": rng.random() < 0.5,
                     "distance_cm": rng.choice([None, rng.randrange(2**16)]),
                     "voltage_dv": rng.choice([None, rng.randrange(2**16)]),
                     "current_ma": rng.choice([None, rng.randrange(2**16)]),
                     "power_factor_pct": rng.choice([None, rng.randrange(101)])}
                got = []
                d = StreamDecoder(framing, lambda x: got.append(("message", x)), lambda r: got.append(("reject", r)))
                d.feed(noise_burst(framing, rng) + corrupt_frame(encode(m, framing), framing, rng) + encode(m, framing))
                check(got == [("reject", "bad_framing")] * (framing == "binary") + [("reject", "bad_crc"), ("message", m)],
                      "%s fault injection decodes as intended: %r" % (framing, got))

    for f in failures:
        print("FAIL:", f)
    print("self-test: %d checks, %d failed (vectors: %s)" % (checks, len(failures), vectors_path))
    return 0 if not failures else 1


# --------------------------------------------------------------------------------------
# Faults.


def corrupt_frame(frame, framing, rng):
    """Changes the frame's checksum, nothing else, so every receiver rejects it as a bad
    CRC (a changed field could be `malformed`; a changed byte could split the frame)."""
    if framing == "text":
        b = bytearray(frame)
        i = len(b) - 6 + rng.randrange(4)  # one of the 4 hex digits before \r\n
        hexdigits = b"0123456789ABCDEF"
        b[i] = hexdigits[(hexdigits.index(b[i]) + rng.randrange(1, 16)) % 16]
        return bytes(b)
    raw = bytearray(cobs_decode(frame[:-1]))
    raw[-1 - rng.randrange(2)] ^= 1 << rng.randrange(8)
    return cobs_encode(bytes(raw)) + b"\x00"


def noise_burst(framing, rng):
    """Text: 4–24 bytes without `$`, skipped by a receiver as noise. Binary: a burst
    ending in 0x00 so it does not glue to the next frame, starting with 0xFF (a COBS
    code claiming 254 bytes) so it can never decode to a frame: one bad_framing reject."""
    n = rng.randrange(4, 25)
    if framing == "text":
        return bytes(b if b != 0x24 else 0x23 for b in (rng.randrange(256) for _ in range(n)))
    return b"\xff" + bytes(rng.randrange(1, 256) for _ in range(n - 2)) + b"\x00"


# --------------------------------------------------------------------------------------
# The gateway.


def ioctl_int(fd, request):
    buf = array.array("i", [0])
    fcntl.ioctl(fd, request, buf, True)
    return buf[0]


class Gateway:
    def __init__(self, args):
        self.args = args
        self.framing = args.framing
        self.rng = random.Random(args.seed)
        self.fault_rng = random.Random(args.seed + 1)
        self.controller, self.follower = pty.openpty()
        # Raw at once: a new pty is canonical with echo. The follower stays open here
        # (never read) so the line keeps its settings and the controller never sees EIO
        # while no host has it open; it also lets us ask how much the host has not read.
        tty.setraw(self.follower)
        os.set_blocking(self.controller, False)
        self.path = os.ttyname(self.follower)
        self.out = bytearray()
        self.decoder = StreamDecoder(self.framing, self.on_downlink, self.on_downlink_reject)
        self.pings_pending = 0
        self.pings = 0
        self.leds = {}
        self.downlink_rejects = 0
        self.host_seen = False
        self.sessions = []
        self.readings = []
        self.corrupted = []
        self.skipped = []
        self.noise_bursts = 0
        self.noise_bytes = 0
        self.max_backlog = 0
        self.sensors = [self._sensor(i) for i in range(args.sensors)]
        self.gaps = {args.gap_at: args.gap_len} if args.gap_at is not None else {}
        self.reboots = sorted([(s, True) for s in args.reboot_at] + [(s, False) for s in args.unannounced_reboot_at])
        self.session = None

    def _sensor(self, i):
        # Some sensors have no ranger, some no metering, as on a real car park.
        return {"id": args_first_sensor(self.args) + i, "ranger": i % 7 != 3, "meter": i % 5 != 2,
                "occupied": self.rng.random() < 0.6}

    # Downlink.

    def on_downlink(self, m):
        self.host_seen = True
        if m["type"] == "ping":
            self.pings += 1
            self.pings_pending += 1
        elif m["type"] == "led":
            self.leds[m["color"]] = self.leds.get(m["color"], 0) + 1

    def on_downlink_reject(self, reason):
        self.downlink_rejects += 1

    def poll(self, timeout):
        r, _, _ = select.select([self.controller], [], [], timeout)
        if r:
            try:
                data = os.read(self.controller, 4096)
            except (BlockingIOError, OSError):
                data = b""
            if data:
                self.decoder.feed(data)

    def flush(self):
        if self.out:
            try:
                n = os.write(self.controller, self.out)
                del self.out[:n]
            except BlockingIOError:
                pass

    # Boots.

    def boot(self, announced, now):
        previous = self.session["boot_id"] if self.session else None
        boot_id = self.args.boot_id if (self.session is None and self.args.boot_id is not None) else None
        while boot_id is None or boot_id == previous:
            boot_id = random.SystemRandom().randrange(1, 2**32)
        self.session = {"gateway_id": self.args.gateway_id, "boot_id": boot_id, "boot_id_hex": "%08X" % boot_id,
                        "announced": announced, "next_seq": 0, "intact": 0, "corrupted_seqs": [],
                        "skipped_seqs": [], "t0": now, "emitted_slots": 0}
        self.sessions.append(self.session)
        if announced:
            self.send_hello()

    def send_hello(self):
        self.out += encode({"type": "hello", "gateway_id": self.args.gateway_id, "boot_id": self.session["boot_id"],
                            "firmware": self.args.firmware, "sensor_count": len(self.sensors)}, self.framing)

    def millis(self, now):
        return (self.args.millis_offset + int((now - self.session["t0"]) * 1000)) & 0xFFFFFFFF

    def send_heartbeat(self, now):
        self.out += encode({"type": "heartbeat", "next_seq": self.session["next_seq"], "uptime_ms": self.millis(now),
                            "tx_dropped": 0}, self.framing)

    # Readings.

    def sample(self, sensor, seq, now):
        rng = self.rng
        if rng.random() < 0.002:
            sensor["occupied"] = not sensor["occupied"]
        occ = sensor["occupied"]
        m = {"type": "reading", "seq": seq, "sensor": sensor["id"], "t_ms": self.millis(now), "occupied": occ,
             "distance_cm": None, "voltage_dv": None, "current_ma": None, "power_factor_pct": None}
        if sensor["ranger"]:
            m["distance_cm"] = rng.randrange(30, 81) if occ else rng.randrange(180, 251)
        if sensor["meter"]:
            m["voltage_dv"] = rng.randrange(2250, 2351)
            m["current_ma"] = rng.randrange(3000, 6001) if occ else rng.randrange(50, 301)
            m["power_factor_pct"] = rng.randrange(85, 100)
        return m

    def emit_one(self, now):
        s = self.session
        while s["next_seq"] in self.gaps:
            n = self.gaps.pop(s["next_seq"])
            s["skipped_seqs"].extend(range(s["next_seq"], s["next_seq"] + n))
            self.skipped.extend({"gateway_id": s["gateway_id"], "boot_id": s["boot_id"], "seq": q}
                                for q in range(s["next_seq"], s["next_seq"] + n))
            s["next_seq"] += n
        if self.reboots and self.reboots[0][0] == s["next_seq"]:
            _, announced = self.reboots.pop(0)
            # A last HB of the old boot: without it a corrupted last reading of a boot
            # could not be seen by the host at all (no later seq, no later HB), and
            # a test could not demand that gaps account for every corrupted seq.
            self.send_heartbeat(now)
            self.boot(announced, now)
            s = self.session
        seq = s["next_seq"]
        s["next_seq"] += 1
        sensor = self.sensors[self.total_emitted % len(self.sensors)]
        self.total_emitted += 1
        m = self.sample(sensor, seq, now)
        frame = encode(m, self.framing)
        if self.args.garbage > 0 and self.fault_rng.random() < self.args.garbage:
            burst = noise_burst(self.framing, self.fault_rng)
            self.out += burst
            self.noise_bursts += 1
            self.noise_bytes += len(burst)
        if self.args.corrupt > 0 and self.fault_rng.random() < self.args.corrupt:
            self.out += corrupt_frame(frame, self.framing, self.fault_rng)
            s["corrupted_seqs"].append(seq)
            self.corrupted.append({"gateway_id": s["gateway_id"], "boot_id": s["boot_id"], "seq": seq})
        else:
            self.out += frame
            s["intact"] += 1
            r = dict(m)
            del r["type"]
            r["gateway_id"] = s["gateway_id"]
            r["boot_id"] = s["boot_id"]
            self.readings.append(r)

    # The run.

    def wait_for_host(self):
        deadline = time.monotonic() + self.args.wait_timeout
        while not self.host_seen:
            if time.monotonic() >= deadline:
                return False
            self.poll(0.05)
        return True

    def run(self):
        args = self.args
        if not self.wait_for_host():
            print("independent_gateway: no PING from a host within %.0f s" % args.wait_timeout, file=sys.stderr)
            return 3
        start = time.monotonic()
        self.total_emitted = 0
        self.boot(True, start)
        self.pings_pending = 0  # the boot's HELLO answers them
        next_hb = start + 1.0
        limit = args.count if args.count is not None else None
        end = start + args.duration if args.duration is not None else None
        while True:
            now = time.monotonic()
            for _ in range(self.pings_pending):
                self.send_hello()
            self.pings_pending = 0
            due = int(((min(now, end) if end else now) - start) * args.rate)
            if limit is not None:
                due = min(due, limit)
            while self.total_emitted < due:
                self.emit_one(now)
            if now >= next_hb:
                self.send_heartbeat(now)
                next_hb += 1.0
            self.max_backlog = max(self.max_backlog, len(self.out))
            self.flush()
            if (limit is not None and self.total_emitted >= limit) or (end is not None and now >= end):
                break
            self.poll(0.002)
        self.send_heartbeat(time.monotonic())
        drained = self.drain()
        return 0 if drained else 4

    def drain(self):
        """Writes what is left and waits until the host has read it all: closing the
        controller right after the last write loses the tail (PLATFORM-NOTES). TIOCOUTQ
        on a pty controller reads 0 on current kernels whatever is pending, so the test
        is the follower's input queue (FIONREAD), empty on three looks in a row; then a
        short grace. The kernel moves written bytes into that queue asynchronously: a
        poll of the follower that finds it empty first waits for that move, so each look
        polls before it counts."""
        deadline = time.monotonic() + self.args.drain_timeout
        follower_poll = select.poll()
        follower_poll.register(self.follower, select.POLLIN)
        quiet = 0
        while time.monotonic() < deadline:
            self.flush()
            for _ in range(self.pings_pending):
                self.send_hello()
            self.pings_pending = 0
            follower_poll.poll(0)
            pending = len(self.out) + ioctl_int(self.follower, termios.FIONREAD) + ioctl_int(self.controller, termios.TIOCOUTQ)
            quiet = quiet + 1 if pending == 0 else 0
            if quiet >= 3:
                time.sleep(self.args.linger)
                return True
            self.poll(0.01)
        print("independent_gateway: the host did not read everything within %.0f s" % self.args.drain_timeout,
              file=sys.stderr)
        return False

    def manifest(self, drained):
        sessions = []
        for s in self.sessions:
            sessions.append({k: s[k] for k in ("gateway_id", "boot_id", "boot_id_hex", "announced", "next_seq",
                                               "intact", "corrupted_seqs", "skipped_seqs")})
        return {
            "protocol_version": 1,
            "framing": self.framing,
            "gateway_id": self.args.gateway_id,
            "device": self.path,
            "sensor_count": len(self.sensors),
            "drained": drained,
            "sessions": sessions,
            "readings": self.readings,
            "corrupted": self.corrupted,
            "skipped": self.skipped,
            "totals": {"intact": len(self.readings), "corrupted": len(self.corrupted), "skipped": len(self.skipped),
                       "noise_bursts": self.noise_bursts, "noise_bytes": self.noise_bytes,
                       "pings_received": self.pings, "led_commands": self.leds,
                       "downlink_rejects": self.downlink_rejects, "max_backlog_bytes": self.max_backlog},
        }

    def close(self):
        os.close(self.controller)
        os.close(self.follower)


def args_first_sensor(args):
    return args.first_sensor


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--self-test", action="store_true", help="check CRC, COBS and codecs against vectors.json and exit")
    p.add_argument("--vectors", help="vectors.json (default: ../shared/protocol or the test fixtures)")
    p.add_argument("--framing", choices=("text", "binary"), default="text")
    p.add_argument("--rate", type=float, default=1000.0, help="readings per second, all sensors together")
    p.add_argument("--sensors", type=int, default=48)
    p.add_argument("--first-sensor", type=int, default=1)
    p.add_argument("--gateway-id", default="PYGW-01")
    p.add_argument("--boot-id", type=lambda s: int(s, 16), help="first boot id, 8 hex digits (default random)")
    p.add_argument("--firmware", default="1.0.0")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, help="seconds of readings")
    p.add_argument("--count", type=int, help="number of readings (seqs given out, corrupted included)")
    p.add_argument("--corrupt", type=float, default=0.0, help="fraction of readings sent with a bad CRC")
    p.add_argument("--garbage", type=float, nargs="?", const=0.01, default=0.0,
                   help="fraction of readings preceded by noise bytes (default when given: 0.01)")
    p.add_argument("--gap-at", type=int, help="skip seqs from this one on (frames lost on the wire)")
    p.add_argument("--gap-len", type=int, default=10)
    p.add_argument("--reboot-at", type=int, action="append", default=[],
                   help="reboot with HELLO when the next seq would be this (repeatable)")
    p.add_argument("--unannounced-reboot-at", type=int, action="append", default=[],
                   help="reboot without HELLO when the next seq would be this (repeatable)")
    p.add_argument("--millis-offset", type=int, default=0, help="add to t_ms (e.g. 4294960000 to test the wrap)")
    p.add_argument("--wait-timeout", type=float, default=120.0, help="seconds to wait for the host's PING")
    p.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to wait for the host to read the tail")
    p.add_argument("--linger", type=float, default=0.5, help="grace after the host has read everything")
    p.add_argument("--manifest", help="write the JSON manifest here")
    args = p.parse_args(argv)

    if args.self_test:
        return self_test(find_vectors(args.vectors))
    if args.duration is None and args.count is None:
        p.error("give --duration or --count")
    if args.rate <= 0 or args.sensors < 1 or not (0 <= args.corrupt < 1) or not (0 <= args.garbage < 1):
        p.error("rate and sensors must be positive, --corrupt and --garbage in [0, 1)")
    if not _valid_gateway_id(args.gateway_id):
        p.error("--gateway-id must be 1-32 characters of [A-Za-z0-9_-]")

    gw = Gateway(args)
    print(gw.path, flush=True)
    rc = gw.run()
    if args.manifest:
        tmp = args.manifest + ".tmp"
        with open(tmp, "w") as f:
            json.dump(gw.manifest(rc == 0), f)
        os.replace(tmp, args.manifest)
    t = gw.manifest(rc == 0)["totals"]
    print("intact=%d corrupted=%d skipped=%d noise_bursts=%d sessions=%d" % (
        t["intact"], t["corrupted"], t["skipped"], t["noise_bursts"], len(gw.sessions)), flush=True)
    gw.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())

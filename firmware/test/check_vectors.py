#!/usr/bin/env python3
"""Checks the firmware's encoders and command decoder (src/protocol.c, built for the host)
against ../shared/protocol/vectors.json: every message the gateway sends must come out
byte for byte as the vector's line (text) or wire frame (binary), every command it takes
(LED, PING) must decode, and every invalid line must be rejected.

usage: check_vectors.py VECTORS.json TEXT_DRIVER BINARY_DRIVER   (make -C firmware test)"""
import json
import subprocess
import sys


def run(driver, requests):
    out = subprocess.run([driver], input="".join(r + "\n" for r in requests), capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(out) == len(requests), f"{driver}: {len(requests)} requests, {len(out)} answers"
    return out


def request(d):
    f = lambda k: "-" if d.get(k) is None else str(d[k])
    if d["type"] == "hello":
        assert d["firmware"] == "1.0.0", "the vectors' HELLO names firmware 1.0.0, this firmware's version"
        return f"hello {d['gateway_id']} {d['boot_id']} {d['sensor_count']}"
    if d["type"] == "reading":
        return " ".join(["reading"] + [f(k) for k in ("seq", "sensor", "t_ms")] + [str(int(d["occupied"]))]
                        + [f(k) for k in ("distance_cm", "voltage_dv", "current_ma", "power_factor_pct")])
    if d["type"] == "heartbeat":
        return f"heartbeat {d['next_seq']} {d['uptime_ms']} {d['tx_dropped']}"
    return None


def command_answer(d):
    return "ping" if d["type"] == "ping" else f"led {d['sensor']} {d['color']}"


def check(driver, cases, name):
    failures = 0
    sent = [(c, request(c["decoded"])) for c in cases if request(c["decoded"])]
    taken = [c for c in cases if c["decoded"]["type"] in ("led", "ping")]
    for (case, _), got in zip(sent, run(driver, [r for _, r in sent])):
        want = case["wire"]
        if got != want:
            failures += 1
            print(f"FAIL {name} encode {case['decoded']}: got {got}, want {want}")
    answers = run(driver, ["command " + c["wire"] for c in taken])
    for case, got in zip(taken, answers):
        if got != command_answer(case["decoded"]):
            failures += 1
            print(f"FAIL {name} command {case['wire']}: got {got!r}")
    print(f"{name}: {len(sent)} frames encoded, {len(taken)} commands decoded, {failures} failures")
    return failures, len(sent) + len(taken)


def main():
    vectors = json.load(open(sys.argv[1]))
    text_driver, binary_driver = sys.argv[2], sys.argv[3]
    text = [{"wire": c["line"].encode().hex(), "decoded": c["decoded"]} for c in vectors["text"]]
    binary = [{"wire": c["wire_hex"], "decoded": c["decoded"]} for c in vectors["binary"]]
    f1, n1 = check(text_driver, text, "text")
    f2, n2 = check(binary_driver, binary, "binary")
    # Invalid lines: none may pass as a command, and a garbled command is rejected too.
    bad = [c["line"].encode().hex() for c in vectors["invalid_text"]]
    bad += [c["line"].replace("RED", "RDE").encode().hex() for c in vectors["text"] if c["decoded"]["type"] == "led"]
    bad += ["$PING*6428\r\n".encode().hex(), "$LED,65536,RED*0000\r\n".encode().hex()]
    f3 = sum(1 for got in run(text_driver, ["command " + h for h in bad]) if got != "rejected")
    print(f"text: {len(bad)} invalid lines, {len(bad) - f3} rejected")
    broken = [c["wire_hex"][:-4] + ("00" if c["wire_hex"][-4:-2] != "00" else "01") + "00"
              for c in vectors["binary"] if c["decoded"]["type"] in ("led", "ping")]
    f4 = sum(1 for got in run(binary_driver, ["command " + h for h in broken]) if got != "rejected")
    print(f"binary: {len(broken)} corrupted commands, {len(broken) - f4} rejected")
    total = f1 + f2 + f3 + f4
    print(f"vector checks: {n1 + n2 + len(bad) + len(broken)}, failures: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())

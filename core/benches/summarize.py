#!/usr/bin/env python3
"""Prints the README's benchmark table from criterion's medians.

Run after `cargo bench -p chorus-core --bench musig`. Every figure is criterion's median
of one run; ratios compare rows measured side by side in that run.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def median_ns(*parts):
    path = ROOT.joinpath(*parts, "new", "estimates.json")
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def fmt(ns):
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def ratio(ns, base):
    return "–" if ns is None or not base else f"{ns / base:.2f}×"


def row(label, base, bip, lotus):
    print(f"| {label} | {fmt(base)} | {fmt(bip)} ({ratio(bip, base)}) | {fmt(lotus)} ({ratio(lotus, base)}) |")


print("| benchmark | baseline (secp256k1 musig) | Bip340 (ratio) | Lotus (ratio) |")
print("|---|---|---|---|")
for step in ["nonce_generation", "nonce_aggregation", "session_context", "partial_sign",
             "partial_verify", "signature_aggregation"]:
    row(f"{step} (3 signers)", median_ns("steps", step, "baseline"),
        median_ns("steps", step, "bip340"), median_ns("steps", step, "lotus"))
# Full sessions are compared by the interleaved `side_by_side` bench instead: criterion runs
# its benchmarks one after another, so load bursts on a shared machine skew their ratios.
for group in ["key_aggregation"]:
    for n in ["2", "10", "100", "1000"]:
        row(f"{group} n={n}", median_ns(group, "baseline", n),
            median_ns(group, "bip340", n), median_ns(group, "lotus", n))

"""The peer harness's bookkeeping (benches/peers/run.sh calls it; standard library only).

`record`: one measured process → one JSON line: the side, customers (λ × duration), CPU seconds
(user + sys), wall seconds and peak RSS from GNU time's `-v` report, and the mean wait the
process printed (scalesim: from its results.json).

`table`: the lines of every repetition → a Markdown table of medians (rates) and means (waits),
and every ratio.
"""

import argparse
import json
import statistics
import sys

from erlang import erlang_c_wait

SIDES = ["scalesim", "hand", "simpy", "ciw"]
NAMES = {
    "scalesim": "scalesim (release binary, whole `scalesim run`)",
    "hand": "hand-written Rust loop (examples/mmc_hand.rs)",
    "simpy": "SimPy (mmc_simpy.py)",
    "ciw": "Ciw (mmc_ciw.py)",
}


def gnu_time(path):
    """User + sys CPU seconds, wall seconds and peak RSS (KiB) from `/usr/bin/time -v`."""
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            fields[key] = value
    wall = 0.0
    for part in fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
    return cpu, wall, int(fields["Maximum resident set size (kbytes)"])


def record(a):
    cpu, wall, rss = gnu_time(a.time)
    if a.results:
        with open(a.results) as f:
            q = json.load(f)["queue"]
        served, wait = q["completed"], q["mean_wait_s"]
    else:
        with open(a.stdout) as f:
            out = json.loads(f.read().strip().splitlines()[-1])
        served, wait = out["served_after_warmup"], out["mean_wait_s"]
    print(json.dumps({
        "side": a.side, "customers": a.customers, "served_after_warmup": served,
        "mean_wait_s": wait, "cpu_s": cpu, "wall_s": wall, "peak_rss_kib": rss,
    }))


def table(a):
    with open(a.runs) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    wq = erlang_c_wait(4, 360.0, 100.0)
    by = {s: [r for r in runs if r["side"] == s] for s in SIDES}
    med = {}
    print("M/M/4, λ = 360/s, E[S] = 10 ms (ρ = 0.9), 60 s warm-up; one whole process per run; "
          "rates are customers (λ × duration) per second; median of each side's runs, mean wait "
          f"averaged over the runs' seeds. Erlang C: W_q = {wq * 1e3:.3f} ms.\n")
    print("| side | runs | customers | CPU s | customers/s (CPU) | customers/s (wall) "
          "| peak RSS | mean wait | vs Erlang C |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in SIDES:
        rs = by[s]
        if not rs:
            continue
        cpu_rate = statistics.median(r["customers"] / r["cpu_s"] for r in rs)
        wall_rate = statistics.median(r["customers"] / r["wall_s"] for r in rs)
        rss = statistics.median(r["peak_rss_kib"] for r in rs) / 1024
        wait = statistics.fmean(r["mean_wait_s"] for r in rs)
        med[s] = (cpu_rate, wall_rate, rss)
        print(f"| {NAMES[s]} | {len(rs)} | {rs[0]['customers']:,} "
              f"| {statistics.median(r['cpu_s'] for r in rs):.2f} "
              f"| {cpu_rate / 1e6:.3f} M | {wall_rate / 1e6:.3f} M | {rss:.1f} MiB "
              f"| {wait * 1e3:.3f} ms | {(wait / wq - 1) * 100:+.2f} % |")
    if "scalesim" not in med:
        return
    sc = med["scalesim"]
    print("\n| scalesim against | CPU-time speed | wall-time speed | the other's peak RSS ÷ scalesim's |")
    print("|---|---:|---:|---:|")
    for s in ["hand", "simpy", "ciw"]:
        if s in med:
            o = med[s]
            print(f"| {NAMES[s]} | {sc[0] / o[0]:.2f}× | {sc[1] / o[1]:.2f}× | {o[2] / sc[2]:.2f}× |")
    print("\n(speed = scalesim's customers/s ÷ the other's: above 1 scalesim is faster; "
          "for the hand loop, its inverse is how many times slower scalesim is.)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--side", choices=SIDES, required=True)
    r.add_argument("--customers", type=int, required=True)
    r.add_argument("--time", required=True)
    r.add_argument("--stdout", required=True)
    r.add_argument("--results", default="")
    t = sub.add_parser("table")
    t.add_argument("--runs", required=True)
    a = p.parse_args()
    (record if a.cmd == "record" else table)(a)


if __name__ == "__main__":
    sys.exit(main())

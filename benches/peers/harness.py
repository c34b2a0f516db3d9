"""The peer harness's measuring and bookkeeping (benches/peers/run.sh calls it; standard library
only, Linux).

`measure`: runs one command under GNU time (`/usr/bin/time -f %M`) and waits for it with
`os.wait4`. CPU seconds (user + sys) come from wait4's resource usage, which covers GNU time and
the command it waited for, with microsecond resolution (GNU time itself prints only hundredths of
a second, too coarse for a 0.1 s run; its own share is about a millisecond). Peak RSS comes from
GNU time's `%M`: the kernel's `ru_maxrss` of a process started by a small C program. (Started
from Python directly, `ru_maxrss` would be at least this Python's own ~12 MiB: Linux carries the
parent's high-water mark across the child's fork and exec.) Wall seconds are taken around it.
Appends one JSON line: the side, customers (λ × duration), those figures and the mean wait the
process printed (scalesim: read from its results.json).

`table`: the lines of every repetition → a Markdown table of medians (rates) and means (waits),
and every ratio.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from erlang import erlang_c_wait

SIDES = ["scalesim", "hand", "simpy", "ciw"]
NAMES = {
    "scalesim": "scalesim (release binary, whole `scalesim run`)",
    "hand": "hand-written Rust loop (examples/mmc_hand.rs)",
    "simpy": "SimPy (mmc_simpy.py)",
    "ciw": "Ciw (mmc_ciw.py)",
}


def measure(a):
    with open(a.stdout, "wb") as out, open(a.stderr, "wb") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", a.rss, "--", *a.command],
                                 stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        with open(a.stderr) as f:
            sys.stderr.write(f.read())
        sys.exit(f"error: {a.side} exited with status {child.returncode}: {' '.join(a.command)}")
    if a.results:
        with open(a.results) as f:
            q = json.load(f)["queue"]
        served, wait = q["completed"], q["mean_wait_s"]
    else:
        with open(a.stdout) as f:
            printed = json.loads(f.read().strip().splitlines()[-1])
        served, wait = printed["served_after_warmup"], printed["mean_wait_s"]
    line = json.dumps({
        "side": a.side, "customers": a.customers, "served_after_warmup": served,
        "mean_wait_s": wait, "cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall,
        "peak_rss_kib": int(open(a.rss).read().split()[-1]),
    })
    with open(a.runs, "a") as f:
        f.write(line + "\n")


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
    r = sub.add_parser("measure")
    r.add_argument("--side", choices=SIDES, required=True)
    r.add_argument("--customers", type=int, required=True)
    r.add_argument("--runs", required=True, help="the JSON-lines file to append to")
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr", required=True)
    r.add_argument("--rss", required=True, help="a scratch file for GNU time's report")
    r.add_argument("--results", default="", help="scalesim's results.json")
    r.add_argument("command", nargs=argparse.REMAINDER)
    t = sub.add_parser("table")
    t.add_argument("--runs", required=True)
    a = p.parse_args()
    if a.cmd == "measure":
        if a.command[:1] == ["--"]:
            a.command = a.command[1:]
        measure(a)
    else:
        table(a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Wall time of one sweep (8 points × 4 replications of the M/M/c validation scenario, 2 h
# simulated each) with --jobs 1 and --jobs 2, and the speed-up; the two reports must be equal.
# Run on an otherwise idle machine: the figure measures cores, not the code, when others compete.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
B=target/release/scalesim
A=(sweep scenarios/validation/mmc.toml --param 'workload.arrival_rate=200/s..340/s:lin8'
  --replications 4 --set scenario.duration=2h --quiet)
out=$(mktemp -d)
t() { local s e; s=$(date +%s.%N); "$B" "${A[@]}" --jobs "$1" --out "$out/j$1"; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }'; }
t1=$(t 1)
t2=$(t 2)
diff -r "$out/j1" "$out/j2" >/dev/null && same=identical || same=DIFFERENT
echo "jobs 1: ${t1} s   jobs 2: ${t2} s   speed-up $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", a / b }')×   reports ${same}"
rm -rf "$out"

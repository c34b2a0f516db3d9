#!/usr/bin/env bash
# The peer harness: the same M/M/c (c = 4, λ = 360/s, E[S] = 10 ms, ρ = 0.9, ~1M customers,
# 60 s warm-up) simulated by scalesim (the release binary on benches/peers/mmc.toml), the
# hand-written Rust loop (examples/mmc_hand.rs), SimPy (mmc_simpy.py) and Ciw (mmc_ciw.py),
# interleaved, several repetitions. Each run is one whole process; harness.py measures its CPU
# time (user + sys, from the kernel's rusage via os.wait4), its peak RSS (GNU time's %M) and its
# wall time. Prints customers/s, peak memory, the mean wait beside Erlang C and every ratio.
# See benches/peers/README.md.
#
# Usage:  benches/peers/run.sh
# Settings (environment):
#   REPS=5                 repetitions (the median of each side is reported)
#   CUSTOMERS=1000000      customers per run (λ × duration) for scalesim, the hand loop and SimPy
#   CIW_CUSTOMERS=...      customers per Ciw run (default: CUSTOMERS); rates are per customer
#   VENV=target/peers-venv the Python virtual environment (made on first use)
#   PYTHON=/usr/bin/python3  the interpreter the venv is made from (default: Debian's, else python3)
#   OUT=target/peers       where the raw measurements (runs.jsonl) and the table (table.md) go
# Needs: Linux, cargo, GNU time (/usr/bin/time), Python ≥ 3.9 with venv
# (Debian: time python3 python3-venv), network to PyPI the first time (simpy, ciw: pinned in
# requirements.txt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

REPS="${REPS:-5}"
CUSTOMERS="${CUSTOMERS:-1000000}"
CIW_CUSTOMERS="${CIW_CUSTOMERS:-$CUSTOMERS}"
VENV="${VENV:-target/peers-venv}"
OUT="${OUT:-target/peers}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON="$(command -v python3 || true)"; fi
fi
LAMBDA=360
WARMUP=60
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ beside the scripts

missing=()
command -v cargo >/dev/null || missing+=("cargo (https://rustup.rs)")
if [[ ! -x /usr/bin/time ]] || ! /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
  missing+=("GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install time)")
fi
if [[ -z "$PYTHON" ]] || ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  missing+=("Python 3.9 or newer (Debian/Ubuntu: apt-get install python3)")
elif [[ ! -x "$VENV/bin/python" ]] && ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  missing+=("Python's venv module with ensurepip (Debian/Ubuntu: apt-get install python3-venv)")
fi
if (( ${#missing[@]} )); then
  echo "benches/peers/run.sh needs:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi
for v in REPS CUSTOMERS CIW_CUSTOMERS; do
  if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: $v=${!v}: expected a whole number ≥ 1" >&2
    exit 2
  fi
done

# Simulated seconds for n customers at λ = 360/s (rounded up), never shorter than twice the warm-up.
secs_for() { local s=$(( ($1 + LAMBDA - 1) / LAMBDA )); (( s < 2 * WARMUP )) && s=$(( 2 * WARMUP )); echo "$s"; }
SECS="$(secs_for "$CUSTOMERS")"
CIW_SECS="$(secs_for "$CIW_CUSTOMERS")"

# 1. The Python side: a venv of its own with the pinned packages.
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$here/requirements.txt" "$VENV/.requirements.txt"; then
  echo "== making the Python venv $VENV from $PYTHON ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$VENV/.requirements.txt"
fi
PY="$VENV/bin/python"

# 2. The Rust side: the release binary and the hand-written loop.
echo "== building scalesim and the hand-written loop (release)"
cargo build --release --quiet --bin scalesim --example mmc_hand
target_dir="$(cargo metadata --format-version 1 --no-deps | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
SCALESIM="$target_dir/release/scalesim"
HAND="$target_dir/release/examples/mmc_hand"

mkdir -p "$OUT"
runs="$OUT/runs.jsonl"
: > "$runs"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# One measured process: $1 = side, $2 = customers, then the command. Appends a JSON line to runs.jsonl.
measure() {
  local side="$1" customers="$2"; shift 2
  local report=""
  if [[ "$side" == scalesim ]]; then report="$tmp/scalesim-report/results.json"; fi
  "$PY" "$here/harness.py" measure --side "$side" --customers "$customers" --runs "$runs" \
    --stdout "$tmp/stdout" --stderr "$tmp/stderr" --rss "$tmp/rss" --results "$report" -- "$@"
}

echo "== $REPS interleaved repetitions: scalesim, hand loop, SimPy ($CUSTOMERS customers each), Ciw ($CIW_CUSTOMERS)"
for ((r = 1; r <= REPS; r++)); do
  echo "   repetition $r/$REPS"
  rm -rf "$tmp/scalesim-report"
  measure scalesim "$CUSTOMERS" "$SCALESIM" run "$here/mmc.toml" --quiet --seed "$r" \
    --set "scenario.duration=${SECS}s" --out "$tmp/scalesim-report"
  measure hand "$CUSTOMERS" "$HAND" --duration "$SECS" --warmup "$WARMUP" --seed "$r"
  measure simpy "$CUSTOMERS" "$PY" "$here/mmc_simpy.py" --duration "$SECS" --warmup "$WARMUP" --seed "$r"
  measure ciw "$CIW_CUSTOMERS" "$PY" "$here/mmc_ciw.py" --duration "$CIW_SECS" --warmup "$WARMUP" --seed "$r"
done

"$PY" "$here/harness.py" table --runs "$runs" | tee "$OUT/table.md"
echo "(raw measurements: $runs; table: $OUT/table.md)"

#!/usr/bin/env bash
# The oracle without the test harness: run every scenario at seeds 1, 7 and 42 with the release
# binary, exactly as tests/it/oracle.rs does, and compare results.json and timeseries.csv with
# tests/oracle/SHA256SUMS using sha256sum. Exit 0 if all match, 1 if not.
#   tests/oracle/check.sh                     # builds target/release/scalesim first
#   SCALESIM=path/to/scalesim tests/oracle/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."            # the package root: scenario paths are relative to it
sums="$PWD/tests/oracle/SHA256SUMS"
if [[ -z "${SCALESIM:-}" ]]; then
  cargo build --release --locked --quiet
  SCALESIM="$PWD/target/release/scalesim"
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/scalesim-oracle.XXXXXX")
status=0
for f in scenarios/*.toml scenarios/validation/*.toml; do
  name=$(basename "$f" .toml)
  for seed in 1 7 42; do
    "$SCALESIM" run "$f" --seed "$seed" --quiet --out "$out/$name-$seed" ||
      { echo "run failed: scalesim run $f --seed $seed" >&2; status=1; }
  done
done
cd "$out"
# Every file written must be listed, and every listed file must match.
listed=$(awk '{print $2}' "$sums" | sort)
written=$(ls -d */results.json */timeseries.csv | sort)
if [[ "$listed" != "$written" ]]; then
  echo "files written and files listed in SHA256SUMS differ (< listed, > written):" >&2
  diff <(echo "$listed") <(echo "$written") | grep '^[<>]' >&2 || true
  status=1
fi
sha256sum --check --quiet "$sums" || status=1
if [[ $status -eq 0 ]]; then
  echo "oracle: all $(wc -l <"$sums") files match"
  rm -rf "$out"
else
  echo "oracle: MISMATCH (outputs kept in $out; see tests/oracle/README.md)" >&2
fi
exit $status

#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ with the shipped scenarios (chapters and validation scenarios), so
# libFuzzer starts from valid files and mutates into the checks rather than the TOML parser.
# Run from anywhere; the corpus folders are git-ignored.
set -euo pipefail
cd "$(dirname "$0")"
for target in parse_validate run_short; do
  mkdir -p "corpus/$target"
  for f in ../scenarios/*.toml ../scenarios/validation/*.toml ../tests/fixtures/edges/*.toml; do
    name="$(basename "$(dirname "$f")")-$(basename "$f")"
    cp "$f" "corpus/$target/$name"
  done
done
echo "seeded: $(ls corpus/parse_validate | wc -l) files in each of corpus/parse_validate, corpus/run_short"

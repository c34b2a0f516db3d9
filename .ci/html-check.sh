#!/usr/bin/env bash
# The index.html pages in a real browser: Debian's chromium, headless, opens the journey's page
# (`journey --quick`) and a chapter run's page (`run chapter:5`, shortened) from disk, and the
# check fails if any image is missing or broken, or anything reached the console (a script
# error, a resource that failed to load). It also takes a screenshot of each page.
#
# How: a copy of each page, beside it (so its relative images resolve the same), gets a small
# script first in <head> that records every error event (a script's, or an <img> that failed),
# and one at the end of <body> that, on load, checks every image (complete, naturalWidth > 0)
# and writes a marker line into the DOM; `chromium --dump-dom` prints the DOM, and this script
# reads the marker. Chromium's own console log (stderr) is read too.
#
# Installs chromium with apt-get when it is missing (CI runs as root on a fresh Debian machine).
# Uses target/release/scalesim (built if absent; SCALESIM_BIN overrides). Keeps the pages and
# screenshots in target/html-check/ (HTML_CHECK_OUT overrides). About half a minute after the
# build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

find_chromium() {
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}
if ! CHROME=$(find_chromium); then
  if [ "$(id -u)" != 0 ]; then
    echo "html-check: chromium is missing and installing it needs root (apt-get install chromium)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  CHROME=$(find_chromium)
fi
echo "html-check: $("$CHROME" --version 2>/dev/null | head -1)"

BIN=${SCALESIM_BIN:-$ROOT/target/release/scalesim}
[ -x "$BIN" ] || cargo build --release --locked
BIN=$(readlink -f "$BIN")

OUT=${HTML_CHECK_OUT:-$ROOT/target/html-check}
rm -rf "$OUT"
mkdir -p "$OUT"
PROFILE=$(mktemp -d /tmp/scalesim-html-check.XXXXXX)
trap 'rm -rf "$PROFILE"' EXIT

"$BIN" journey --quick --quiet --out "$OUT/journey"
"$BIN" run chapter:5 --set scenario.duration=45m --quiet --out "$OUT/run"

# chromium's flags: headless, no GPU, no sandbox (root in CI), a throwaway profile, nothing
# fetched in the background, its console on stderr.
FLAGS=(--headless=new --disable-gpu --no-sandbox --no-first-run --no-default-browser-check
  --disable-extensions --disable-background-networking --disable-sync --disable-component-update
  --user-data-dir="$PROFILE" --enable-logging=stderr --v=0 --allow-file-access-from-files)

HEAD_JS='<script>window.__htmlCheckErrors=[];window.addEventListener("error",function(e){var t=e.target;window.__htmlCheckErrors.push(t&&t!==window&&(t.src||t.href)?"failed to load "+(t.src||t.href):String(e.message||"error"));},true);window.addEventListener("unhandledrejection",function(e){window.__htmlCheckErrors.push("unhandled rejection: "+e.reason);});</script>'
TAIL_JS='<script>window.addEventListener("load",function(){var bad=[],imgs=document.images;for(var i=0;i<imgs.length;i++){var m=imgs[i];if(!(m.complete&&m.naturalWidth>0))bad.push(m.getAttribute("src"));}var p=document.createElement("pre");p.id="html-check";p.textContent="HTML-"+"CHECK images="+imgs.length+" broken="+bad.length+" ["+bad.join(" ")+"] errors="+window.__htmlCheckErrors.length+" ["+window.__htmlCheckErrors.join(" | ")+"] svgs="+document.querySelectorAll("svg").length+" END";document.body.appendChild(p);});</script>'

check() {
  local page=$1 shot=$2 min_images=$3 min_svgs=$4 bad=0
  local dir probe
  dir=$(dirname "$page")
  probe="$dir/.html-check.html"
  [ -s "$page" ] || { echo "html-check: FAIL — $page is missing" >&2; return 1; }
  # The same page with the two probes added (and no other change).
  HEAD_JS=$HEAD_JS TAIL_JS=$TAIL_JS awk '
    !h && /<head>/ { print; print ENVIRON["HEAD_JS"]; h = 1; next }
    /<\/body>/ { b++; if (b == 1) { print ENVIRON["TAIL_JS"] } }
    { print }
    END { if (!h || b != 1) exit 3 }
  ' "$page" >"$probe" || { echo "html-check: FAIL — $page lacks one <head> and one </body>" >&2; return 1; }
  local dom="$OUT/$(basename "$dir").dom.html" log="$OUT/$(basename "$dir").console.log"
  timeout 120 "$CHROME" "${FLAGS[@]}" --virtual-time-budget=10000 --dump-dom "file://$probe" >"$dom" 2>"$log" || true
  rm -f "$probe"
  local marker
  marker=$(grep -oE "HTML-CHECK images=[0-9]+ [^<]*END" "$dom" | head -1 || true)
  local console
  console=$(grep -E ':CONSOLE|Uncaught' "$log" || true)
  if [ -z "$marker" ]; then
    echo "html-check: FAIL — $page: the check's marker is not in the DOM (the page did not load?)" >&2
    tail -20 "$log" >&2 || true
    return 1
  fi
  echo "html-check: $page: $marker"
  local images broken errors svgs
  images=$(sed -n 's/.*images=\([0-9]*\).*/\1/p' <<<"$marker")
  broken=$(sed -n 's/.*broken=\([0-9]*\).*/\1/p' <<<"$marker")
  errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$marker")
  svgs=$(sed -n 's/.*svgs=\([0-9]*\).*/\1/p' <<<"$marker")
  if [ "$broken" != 0 ] || [ "$errors" != 0 ]; then
    echo "html-check: FAIL — $page: $broken broken image(s), $errors error(s)" >&2
    bad=1
  fi
  if [ "$images" -lt "$min_images" ] || [ "$svgs" -lt "$min_svgs" ]; then
    echo "html-check: FAIL — $page: $images image(s) and $svgs inline chart(s); expected at least $min_images and $min_svgs" >&2
    bad=1
  fi
  if [ -n "$console" ]; then
    echo "html-check: FAIL — $page: the console has messages:" >&2
    echo "$console" >&2
    bad=1
  fi
  timeout 120 "$CHROME" "${FLAGS[@]}" --hide-scrollbars --window-size=1400,2400 \
    --screenshot="$shot" "file://$page" >/dev/null 2>&1 || true
  if [ -s "$shot" ]; then
    echo "html-check: screenshot $shot"
  else
    echo "html-check: FAIL — no screenshot of $page" >&2
    bad=1
  fi
  return "$bad"
}

# First, that the check can fail: a page with a missing image and a script that logs an error
# and throws must be caught.
mkdir -p "$OUT/canary"
printf '%s\n' '<!DOCTYPE html>' '<html lang="en">' '<head>' '<meta charset="utf-8"><title>canary</title>' '</head>' '<body>' \
  '<img src="missing.png" alt="a chart that is not there">' '<script>console.error("canary"); undefinedFunction();</script>' \
  '</body>' '</html>' >"$OUT/canary/index.html"
if check "$OUT/canary/index.html" "$OUT/canary.png" 1 0 2>"$OUT/canary.stderr"; then
  echo "html-check: FAIL — a page with a missing image and a console error passed the check" >&2
  exit 1
fi
grep -q 'broken image' "$OUT/canary.stderr" && grep -q 'the console has messages' "$OUT/canary.stderr" || {
  echo "html-check: FAIL — the canary page failed, but not for its missing image and console error:" >&2
  cat "$OUT/canary.stderr" >&2
  exit 1
}
echo "html-check: the canary page (a missing image, a console error) fails the check, as it must"

fail=0
# The journey: its four charts as images, two inline charts per chapter (14 chapters).
check "$OUT/journey/index.html" "$OUT/journey-index.png" 4 28 || fail=1
# The run: every PNG chart of the run as an image.
check "$OUT/run/index.html" "$OUT/run-index.png" "$(ls "$OUT"/run/*.png | wc -l)" 0 || fail=1

if [ "$fail" = 0 ]; then
  echo "html-check: PASS — both pages load in headless chromium with every image and no console message"
else
  echo "html-check: FAIL (pages, DOM dumps and console logs kept in $OUT)" >&2
  exit 1
fi

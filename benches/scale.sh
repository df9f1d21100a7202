#!/usr/bin/env bash
# The scale harness: generates a package of SCALE (demo|s|m|l|xl), then measures generation,
# ingest against a bare polars read of the same files (CSV and Parquet), and a full scan, each in
# its own process with /usr/bin/time for peak memory. Appends a record (command, versions,
# figures) to benches/runs/<date>-<scale>.md. Packages go to $WORK (default /tmp), never the repo.
#
#   benches/scale.sh l            # ≈1M persons, ≈30M attendance rows
#   SKIP_PARQUET=1 benches/scale.sh m
set -euo pipefail
SCALE=${1:-s}
SEED=${SEED:-20250401}
WORK=${WORK:-/tmp}
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p subsidy-cli
BIN=target/release/subsidy-audit
PKG="$WORK/subsidy-$SCALE-csv"; PQ="$WORK/subsidy-$SCALE-parquet"; OUT="$WORK/subsidy-$SCALE-out"
REC="benches/runs/$(date +%F)-$SCALE.md"
measure() { # label, command...: one table row with wall time, peak RSS and the command's output
  local label=$1; shift
  local tf of; tf=$(mktemp); of=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$tf" "$@" > "$of"
  local wall kb; read -r wall kb < "$tf"
  local line; line=$(head -n 2 "$of" | tr '\n|' '  ')
  printf '| %s | %s s | %.0f MiB | %s |\n' "$label" "$wall" "$(echo "$kb/1024" | bc -l)" "$line" | tee -a "$REC"
  rm -f "$tf" "$of"
}
{
  echo "## $(date -Iseconds) scale $SCALE (seed $SEED)"
  echo
  echo "- command: \`benches/scale.sh $SCALE\`"
  echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(rustc --version); polars $(grep -A1 'name = "polars"' Cargo.lock | grep version | head -1 | cut -d'"' -f2); engine $($BIN --version)"
  echo
  echo "| step | wall | peak RSS | output |"
  echo "| --- | --- | --- | --- |"
} >> "$REC"
rm -rf "$PKG" "$PQ" "$OUT"
measure "generate csv" $BIN generate --scale "$SCALE" --seed "$SEED" --out "$PKG" --quiet
du -sh "$PKG" | awk '{print "- csv package: " $1}' >> "$REC.tmp"
measure "bare polars read (csv)" $BIN bench-ingest "$PKG" --mode bare
measure "ingest (csv)" $BIN bench-ingest "$PKG" --mode ingest
if [ -z "${SKIP_PARQUET:-}" ]; then
  measure "generate parquet" $BIN generate --scale "$SCALE" --seed "$SEED" --out "$PQ" --format parquet --quiet
  measure "bare polars read (parquet)" $BIN bench-ingest "$PQ" --mode bare
  measure "ingest (parquet)" $BIN bench-ingest "$PQ" --mode ingest
  rm -rf "$PQ"
fi
measure "scan (csv, all rules)" $BIN scan "$PKG" --out "$OUT" --quiet
measure "evaluate" $BIN evaluate --labels "$PKG" --findings "$OUT"
{ echo; cat "$REC.tmp" 2>/dev/null; rm -f "$REC.tmp"; echo "- timings_ms in the manifest: $(grep -A6 timings_ms "$OUT/manifest.json" | tr -d '\n ' | sed 's/"timings_ms"://')"; echo; } >> "$REC"
echo "recorded in $REC"

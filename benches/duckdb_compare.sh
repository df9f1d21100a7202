#!/usr/bin/env bash
# Side-by-side benchmark with DuckDB (issue 15).
#
# What it measures, on one package, in one run:
#   1. a typed load of every table (every *.csv of the package but labels.csv) into DuckDB, with
#      the column types of DATA_CONTRACT.md (DATE, TIMESTAMP, DECIMAL(14,2) money, INTEGER,
#      DOUBLE, BOOLEAN, VARCHAR), against our `ingest` stage (read, validate, hash, canonicalise);
#   2. six checks, DC-01, DC-02, TP-06, DC-06, TP-01, CL-02, written in DuckDB SQL after the rule
#      files and the views they name (benches/duckdb_checks.py; every simplification is marked
#      SIMPLIFIED there), against our six rules plus the views they read (signin, per-day
#      sign-ins with the enrolment totals, person+institution, claim, presence);
#   3. each check alone, and both whole processes (wall time and max RSS from /usr/bin/time -v).
# Both sides use 2 threads (DuckDB `SET threads=2`; the engine runs on the machine's 2 cores).
# The CSV files are read once beforehand so that both sides start from the page cache. The engine
# runs first (DuckDB's untimed extra step reads its identities.csv), then DuckDB; meanwhile the
# 1-minute load and any other busy process are sampled every 15 s into the record.
#
# How to run:
#   benches/duckdb_compare.sh PKG            e.g. fixtures/demo, or /tmp/fl_l (scale l)
# Environment:
#   WORK    scratch folder (default: mktemp -d); reuse one to keep its venv ($WORK/venv)
#   BIN     our release binary (default /work/targets/release/release/subsidy-audit)
#   RECORD  markdown file the record is appended to (default benches/runs/2026-12-02-duckdb.md)
#
# What the numbers mean: seconds of wall time; "ours / DuckDB" below 1 means the engine is faster.
# Our per-view and per-rule times come from `scan --profile` (manifest.json `profile`) when the
# binary has it, else from SUBSIDY_TRACE=1 lines, whose view and rule times are cumulative and are
# differenced (the record says which). Counts: flagged rows of the view per check, and entities
# (ours: findings, one per claim, or per device/person and responsible institution).
set -euo pipefail

PKG=${1:?usage: benches/duckdb_compare.sh PKG}
PKG=$(cd "$PKG" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$(mktemp -d)}
BIN=${BIN:-/work/targets/release/release/subsidy-audit}
RECORD=${RECORD:-$HERE/runs/2026-12-02-duckdb.md}
THREADS=2
mkdir -p "$WORK"
echo "work folder: $WORK" >&2

# --- a throw-away venv with DuckDB from PyPI
if [ ! -x "$WORK/venv/bin/python" ] || ! "$WORK/venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet duckdb
fi
PY="$WORK/venv/bin/python"
echo "DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)')" >&2

# --- what else runs: every 15 s the 1-minute load and the processes using 30 % CPU or more
# (top, current CPU), so the record can say what each side shared the 2 cores with
sample() {
    while :; do
        { printf '%s load %s | ' "$(date -u +%T)" "$(cut -d' ' -f1 /proc/loadavg)"
          top -b -n 1 -c -w 400 | awk 'NR > 7 && $9 + 0 >= 30 {
              c = ""; for (i = 12; i <= NF && i < 16; i++) c = c " " $i
              printf "%s%% %s;", $9, substr(c, 2, 90) }'
          echo; } >> "$1"
        sleep 15
    done
}

UPTIME_BEFORE=$(uptime)
# --- warm the page cache for both sides
cat "$PKG"/*.csv > /dev/null

# --- our engine; --profile where the binary has it, else SUBSIDY_TRACE=1 lines
PROFILE=()
TRACE=0
if "$BIN" scan --help 2>/dev/null | grep -q -- '--profile'; then
    PROFILE=(--profile)
else
    TRACE=1
    echo "note: $BIN has no scan --profile; timing from SUBSIDY_TRACE=1 lines" >&2
fi
rm -rf "$WORK/out"
echo "running: $BIN scan $PKG --out $WORK/out --quiet ${PROFILE[*]}" >&2
rc=0
: > "$WORK/scan.load"
sample "$WORK/scan.load" &
SAMPLER=$!
if [ "$TRACE" = 1 ]; then
    SUBSIDY_TRACE=1 /usr/bin/time -v -o "$WORK/scan.time" \
        "$BIN" scan "$PKG" --out "$WORK/out" --quiet 2> "$WORK/scan.err" || rc=$?
else
    /usr/bin/time -v -o "$WORK/scan.time" \
        "$BIN" scan "$PKG" --out "$WORK/out" --quiet "${PROFILE[@]}" 2> "$WORK/scan.err" || rc=$?
fi
kill "$SAMPLER"
if [ "$rc" != 0 ] || [ ! -f "$WORK/out/manifest.json" ]; then
    echo "scan failed (exit $rc); see $WORK/scan.err" >&2
    tail -20 "$WORK/scan.err" >&2
    exit 1
fi
grep -v '^trace:' "$WORK/scan.err" >&2 || true

# --- DuckDB: load + six checks (then, untimed, DC-01/DC-02 on our identities.csv)
mkdir -p "$WORK/duck_tmp"
: > "$WORK/duck.load"
sample "$WORK/duck.load" &
SAMPLER=$!
/usr/bin/time -v -o "$WORK/duck.time" \
    "$PY" "$HERE/duckdb_checks.py" run "$PKG" --json "$WORK/duck.json" --threads "$THREADS" \
    --temp "$WORK/duck_tmp" --identities "$WORK/out/identities.csv"
kill "$SAMPLER"
UPTIME_AFTER=$(uptime)

# --- the record
if [ ! -f "$RECORD" ]; then
    mkdir -p "$(dirname "$RECORD")"
    {
        echo "# DuckDB side by side (issue 15)"
        echo
        echo "Written by \`benches/duckdb_compare.sh\`; the SQL is \`benches/duckdb_checks.py\`."
    } > "$RECORD"
fi
"$PY" "$HERE/duckdb_checks.py" record --duck "$WORK/duck.json" --manifest "$WORK/out/manifest.json" \
    --stderr "$WORK/scan.err" --time "$WORK/scan.time" --duck-time "$WORK/duck.time" \
    --scan-load "$WORK/scan.load" --duck-load "$WORK/duck.load" \
    --date "$(date -u '+%Y-%m-%d %H:%M UTC')" --pkg "$PKG" \
    --command "WORK=$WORK BIN=$BIN benches/duckdb_compare.sh $PKG" \
    --machine "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, shared with other builds" \
    --uptime-before "$UPTIME_BEFORE" --uptime-after "$UPTIME_AFTER" \
    --engine-version "$("$BIN" --version)" --bin "$BIN" | tee -a "$RECORD"
echo "record appended to $RECORD" >&2

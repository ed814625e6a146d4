#!/usr/bin/env bash
# README command 1: set up, then run the nightly scan on the bundled sample orders.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
rc=0
.venv/bin/wocheck scan fixtures/sample/orders.jsonl --photos fixtures/sample/photos --out out/sample \
  --db out/sample/history.sqlite || rc=$?
# 0 nothing found, 1 findings (the sample has them on purpose), 2 bad input or usage
[ "$rc" -le 1 ] || { echo "demo: scan failed (exit $rc)" >&2; exit "$rc"; }
echo "demo: see out/sample/violations.jsonl, out/sample/summary.csv, out/sample/report/index.html" >&2

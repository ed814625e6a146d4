#!/usr/bin/env bash
# README command 2: set up, then run the whole test suite (slow real-engine tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python -m pytest -q "$@"

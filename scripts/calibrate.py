#!/usr/bin/env python3
"""Calibrate the inspectors' thresholds from a labelled fixture set and write them, with provenance, to models/.

Each inspector's calibration lives in ``scripts/calibration/<name>.py`` with ``main(argv) -> int``:

    .venv/bin/python scripts/calibrate.py                 # list what can be calibrated
    .venv/bin/python scripts/calibrate.py form -- --help  # one calibration, its own options after --
    .venv/bin/python scripts/calibrate.py all -- FIXTURE_DIR
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem for p in (HERE / "calibration").glob("*.py") if not p.stem.startswith("_"))


def main(argv: list[str]) -> int:
    names = available()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("available:", ", ".join(names) or "(none)")
        return 0
    which, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    targets = names if which == "all" else [which]
    unknown = [t for t in targets if t not in names]
    if unknown:
        print(f"calibrate: unknown {unknown}; available: {names}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE))
    rc = 0
    for name in targets:
        print(f"== calibrating {name}", file=sys.stderr)
        rc = max(rc, int(importlib.import_module(f"calibration.{name}").main(rest) or 0))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Score the authenticity checks alone on a generated fixture set (all nights, one fresh history).

Runs `wocheck scan` night after night over one new history database with only the authenticity inspector
and combiner registered (the other inspectors are switched off: they cost minutes and are scored by
scripts/evaluate.py), then compares the findings with the truth per defect: reuse within a night and
across nights (clause 50), EXIF capture before dispatch (50), editor software (50 review), GPS far (44) and
near (44 review). Any other finding of these checks is a false alarm; the hard cases (first use of a reused
photo, capture 30 min before dispatch, phone firmware in Software, no EXIF, WGS-84 customer, …) must stay
clean.

    .venv/bin/python scripts/evaluate_authenticity.py fixtures/sample [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from wocheck.config import load_config  # noqa: E402
from wocheck.pipeline import registry  # noqa: E402
from wocheck.pipeline.scan import ScanSettings, run_scan  # noqa: E402

# truth defect -> the check that must report it
EXPECTED = {"reuse.same_night": "reuse.photo", "reuse.cross_night": "reuse.photo",
            "exif.before_dispatch": "exif.captured_before_dispatch", "exif.editor_software": "exif.editor_software",
            "exif.gps_far": "exif.gps_far", "exif.gps_near": "exif.gps_near"}
MINE = {"reuse.photo", "exif.captured_before_dispatch", "exif.editor_software", "exif.gps_far", "exif.gps_near",
        "device.other_engineer"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fixture_dir", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    manifest = json.loads((args.fixture_dir / "manifest.json").read_text(encoding="utf-8"))
    registry._PHOTO = {slot: [] for slot in registry._PHOTO}
    registry._ORDER = [r for r in registry._ORDER if r[0].startswith("authenticity")]
    cfg = load_config()
    tmp = tempfile.TemporaryDirectory()
    out = args.out or Path(tmp.name)
    db = out / "history.sqlite"
    tp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    hard: Counter[str] = Counter()
    hard_flagged: Counter[str] = Counter()
    misses: list[str] = []
    alarms: list[str] = []
    for night in manifest["nights"]:
        res = out / f"night{night['night']}"
        run_scan(ScanSettings(orders_path=args.fixture_dir / night["orders"], photo_root=args.fixture_dir /
                              night["photos"], out_dir=res, workers=1, db_path=db), cfg)
        got: dict[str, Counter[str]] = {}
        for line in (res / "violations.jsonl").read_text(encoding="utf-8").splitlines():
            v = json.loads(line)
            if v["check"] in MINE:
                got.setdefault(v["order_id"], Counter())[v["check"]] += 1
        truth = [json.loads(x) for x in (args.fixture_dir / night["truth"]).read_text(encoding="utf-8").splitlines()]
        for t in truth:
            oid = t["order_id"]
            want = Counter(EXPECTED[d_["defect"]] for d_ in t["defects"] if d_["defect"] in EXPECTED)
            have = got.get(oid, Counter())
            for check in set(want) | set(have):
                k = min(want[check], have[check])
                tp[check] += k
                if want[check] > k:
                    fn[check] += want[check] - k
                    misses.append(f"night {night['night']} {oid}: missed {check}")
                if have[check] > k:
                    fp[check] += have[check] - k
                    alarms.append(f"night {night['night']} {oid}: false {check} (hard cases {t['hard_cases']})")
            for h in t["hard_cases"]:
                hard[h] += 1
                hard_flagged[h] += bool(have and not want)
    print(f"{'check':32s} {'found':>5s} {'missed':>6s} {'false':>5s}")
    for check in sorted(MINE):
        print(f"{check:32s} {tp[check]:5d} {fn[check]:6d} {fp[check]:5d}")
    print("hard cases (orders flagged by these checks / orders):")
    for h, n in sorted(hard.items()):
        print(f"  {h:34s} {hard_flagged[h]}/{n}")
    for line in misses + alarms:
        print("  " + line)
    tmp.cleanup()
    return 1 if (sum(fn.values()) or sum(fp.values())) else 0


if __name__ == "__main__":
    sys.exit(main())

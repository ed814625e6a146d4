#!/usr/bin/env python3
"""Calibrate the nameplate code reader on a labelled fixture set; write models/thresholds/codes.toml.

    .venv/bin/python scripts/calibration/codes.py FIXTURE_DIR [--out models/thresholds] [--quick]
    .venv/bin/python scripts/calibration/codes.py --evaluate HELDOUT_DIR   # figures with the current file

FIXTURE_DIR is a fixture factory set (``manifest.json`` or ``orders.jsonl`` + ``truth.jsonl`` + ``photos/``).
Its code-label photos are labelled from the truth: *unreadable* when the truth names a label defect for the
photo (``label.blur``, ``label.motion_blur``, ``label.glare``, ``label.codes_cut_off``), *readable* with the
printed SN (``truth.photos[file].sn``) otherwise; the blurred one of ``two_labels_one_blurred`` is left out
(the truth does not say whether a person could read it).

The code reader's thresholds are reading effort, not verdict cut-offs: a handful of candidate settings
(the current file and variations of the rungs that matter: upscale factor, deskew threshold, region
energy, OCR on/off) are each run over the set, and the one with the highest SN recall on readable labels
is kept, subject to flagging at least ``--min-flagged`` of the unreadable ones and never reading a wrong SN;
ties keep the current settings. The figures of every candidate go into the provenance.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from wocheck.config import load_config  # noqa: E402
from wocheck.inspectors.codes import CodeThresholds, read_label  # noqa: E402
from wocheck.io.images import PhotoError, load_photo  # noqa: E402

LABEL_DEFECTS = ("label.blur", "label.motion_blur", "label.glare", "label.codes_cut_off")
CANDIDATES: dict[str, dict[str, Any]] = {
    "current": {},
    "upscale_x3": {"upscale_factor": 3.0},
    "deskew_from_1deg": {"deskew_min_deg": 1.0},
    "region_energy_0.01": {"region_min_energy": 0.01},
    "no_ocr": {"ocr": False},
    # speed: large crops tried first at half resolution, capped at reduced_side px (0: full resolution only)
    "no_reduced": {"reduced_side": 0},
    "reduced_1000": {"reduced_side": 1000},
    "reduced_1600": {"reduced_side": 1600},
    # speed: zbar scans every n-th row and column
    "zbar_every_line": {"zbar_density": 1},
    "zbar_density_2": {"zbar_density": 2},
    "zbar_density_4": {"zbar_density": 4},
}
# A faster candidate replaces an equally accurate current one only when its median CPU time per 12 MP label
# photo is below this share of the current one's (smaller differences are within the machine's noise).
SPEED_MARGIN = 0.8
BIG_PIXELS = 12_000_000  # px: the "12 MP" photos whose time is compared
QUICK = ("current", "no_ocr")


@dataclass
class Sample:
    path: Path
    model: str
    sn: str | None  # printed SN when readable; None when the truth says unreadable
    defect: str | None


def load_set(root: Path) -> list[Sample]:
    nights: list[dict[str, Any]]
    man = root / "manifest.json"
    if man.exists():
        nights = list(json.loads(man.read_text(encoding="utf-8"))["nights"])
    else:
        nights = [{"dir": ".", "photos": "photos", "truth": "truth.jsonl", "orders": "orders.jsonl"}]
    out: list[Sample] = []
    for n in nights:
        base = root / n["dir"]
        truth_path = root / n["truth"] if (root / n["truth"]).exists() else base / "truth.jsonl"
        photos_root = root / n["photos"] if (root / n["photos"]).exists() else base / "photos"
        for line in truth_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            t = json.loads(line)
            bad = {d.get("photo"): d["defect"] for d in t.get("defects", []) if d["defect"] in LABEL_DEFECTS}
            two = "two_labels_one_blurred" in (t.get("hard_cases") or [])
            for file, facts in (t.get("photos") or {}).items():
                if "/code_label_" not in file:
                    continue
                if two and file.endswith("_1.jpg"):
                    continue
                out.append(Sample(photos_root / file, str(facts.get("model", "")),
                                  None if file in bad else facts.get("sn"), bad.get(file)))
    return out


def evaluate(samples: list[Sample], th: CodeThresholds) -> dict[str, Any]:
    cfg = load_config()
    readable = read_ok = unreadable = flagged = wrong = false_flags = 0
    times: list[float] = []
    cpu: list[float] = []
    cpu_big: list[float] = []
    for s in samples:
        try:
            photo = load_photo(s.path)
        except PhotoError:
            continue
        spec = cfg.models.get(s.model)
        t0, c0 = time.perf_counter(), time.process_time()
        r = read_label(photo, cfg, th, order_spec=spec)
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
        if photo.width * photo.height >= BIG_PIXELS:
            cpu_big.append(cpu[-1])
        sns = {v.value for c in r.codes for v in c.values if v.kind == "sn"}
        # the photo's clause-49 signal as the order check gives it: no SN, a kind the model carries
        # unread, or (review) the SN only in the QR
        signal = not sns or bool(r.missing()) or (th.sn_barcode_wanted and not r.sn_outside_qr())
        if s.sn is None:
            unreadable += 1
            flagged += signal
        else:
            readable += 1
            read_ok += s.sn in sns
            wrong += bool(sns - {s.sn})
            false_flags += signal
    return {"readable": readable, "sn_recall": round(read_ok / readable, 4) if readable else None,
            "unreadable": unreadable, "flagged": round(flagged / unreadable, 4) if unreadable else None,
            "wrong_sn_reads": wrong, "readable_flagged": false_flags,
            "median_ms": round(statistics.median(times), 1) if times else None,
            "p90_ms": round(sorted(times)[int(0.9 * (len(times) - 1))], 1) if times else None,
            "cpu_ms_median": round(statistics.median(cpu), 1) if cpu else None,
            "cpu_ms_mean": round(statistics.mean(cpu), 1) if cpu else None,
            "photos_12mp": len(cpu_big),
            "cpu_ms_median_12mp": round(statistics.median(cpu_big), 1) if cpu_big else None}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def write_toml(path: Path, th: CodeThresholds, provenance: dict[str, Any]) -> None:
    lines = ["# Nameplate code reading (src/wocheck/inspectors/codes.py, CodeThresholds: units and bounds there).",
             "# Reading effort, not verdict cut-offs: written by scripts/calibration/codes.py (provenance below).",
             ""]
    for k, v in th.model_dump(mode="json").items():
        lines.append(f"{k} = {_toml_value(v)}")
    lines += ["", "[provenance]"]
    for k, v in provenance.items():
        lines.append(f"{k} = {_toml_value(v)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fixtures", type=Path, nargs="*", help="one or more fixture sets, pooled")
    ap.add_argument("--out", type=Path, default=REPO / "models" / "thresholds")
    ap.add_argument("--evaluate", type=Path, help="only print the figures of the current file on this set")
    ap.add_argument("--min-flagged", type=float, default=0.95)
    ap.add_argument("--quick", action="store_true", help=f"only the candidates {QUICK}")
    args = ap.parse_args(argv)
    current_path = args.out / "codes.toml"
    raw = tomllib.loads(current_path.read_text(encoding="utf-8"))
    raw.pop("provenance", None)
    current = CodeThresholds.model_validate(raw)
    if args.evaluate:
        samples = load_set(args.evaluate)
        print(json.dumps({"set": str(args.evaluate), "photos": len(samples), **evaluate(samples, current)}))
        return 0
    if not args.fixtures:
        ap.error("FIXTURE_DIR or --evaluate is required")
    samples = [s for root in args.fixtures for s in load_set(root)]
    figures: dict[str, dict[str, Any]] = {}
    for name, upd in CANDIDATES.items():
        if args.quick and name not in QUICK:
            continue
        figures[name] = evaluate(samples, current.model_copy(update=upd))
        print(name, json.dumps(figures[name]), file=sys.stderr)

    def accuracy(name: str) -> tuple[float, int, float]:
        # better recall, then fewer readable labels flagged, then more unreadable labels flagged
        f = figures[name]
        return (-(f["sn_recall"] or 0.0), f["readable_flagged"], -(f["flagged"] or 0.0))

    ok = [n for n, f in figures.items() if f["wrong_sn_reads"] == 0
          and (f["flagged"] is None or f["flagged"] >= args.min_flagged)]
    pool = ok or list(figures)
    top = min(accuracy(n) for n in pool)
    tied = [n for n in pool if accuracy(n) == top]
    best = "current" if "current" in tied else tied[0]
    # among equally accurate settings, a clearly faster one (12 MP CPU median) wins
    timed = [n for n in tied if figures[n]["cpu_ms_median_12mp"] is not None]
    if timed:
        fastest = min(timed, key=lambda n: figures[n]["cpu_ms_median_12mp"])
        ref = figures[best]["cpu_ms_median_12mp"]
        if ref is None or figures[fastest]["cpu_ms_median_12mp"] < SPEED_MARGIN * ref:
            best = fastest
    chosen = current.model_copy(update=CANDIDATES[best])
    prov = {"script": "scripts/calibration/codes.py", "data": " + ".join(map(str, args.fixtures)),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"), "photos": len(samples), "chosen": best,
            "figures": json.dumps(figures, sort_keys=True),
            "rule": f"max SN recall on readable labels, then fewest readable flagged, most unreadable flagged; "
                    f"flagged >= {args.min_flagged}, no wrong SN; ties keep current unless another is faster than "
                    f"{SPEED_MARGIN} x its 12 MP median CPU time"}
    old_prov = tomllib.loads(current_path.read_text(encoding="utf-8")).get("provenance", {})
    prov.update({k: v for k, v in old_prov.items() if k in ("heldout", "bench")})  # checks run by hand
    write_toml(current_path, chosen, prov)
    print(f"chose {best}: {json.dumps(figures[best])}; wrote {current_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

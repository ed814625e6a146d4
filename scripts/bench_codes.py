#!/usr/bin/env python3
"""Nameplate code reading: what each engine decodes, what the combination decodes, and how fast.

    scripts/bench_codes.py [--realdata ../shared/realdata/barcodes] [--fixtures DIR ...]
                           [--speed N] [--json OUT.json]

1. **Engines on real photos** (``--realdata``: a folder with ``manifest.csv`` = file, format,
   expected_text): per symbology, how many photos each engine alone reads the expected text from (whole
   image, as it is), both engines on the image as it is, and the full ladder (`read_label`: preview,
   regions, crops, contrast, upscale, binarisation, deskew; OCR off: these codes have no SN line).
2. **Engines on fixtures** (``--fixtures``: generated sets with orders.jsonl, photos/, truth.jsonl): on
   every code-label photo, the codes each method reads, per symbology; the SN read rate on labels a person
   can read (no label defect in the truth), the share of unreadable labels flagged, and per order the
   cross-check findings against the truth (false 49/42/44/50 on clean orders).
3. **Speed** (``--speed N``: N synthetic 4000×3000 label photos from the fixture renderer, or the 4000×3000
   fixture photos when given): median ms per photo of `load_photo` + the preview decode (the floor every
   photo pays), and of `load_photo` + `inspect_code_label`, with their ratio, on one core.

Prints tables (stdout); ``--json`` also writes the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from wocheck.config import Config, load_config  # noqa: E402
from wocheck.engines.base import Symbology, run_engine  # noqa: E402
from wocheck.engines.zbar import ZbarEngine  # noqa: E402
from wocheck.engines.zxing import ZxingEngine  # noqa: E402
from wocheck.inspectors.base import PhotoContext  # noqa: E402
from wocheck.inspectors.codes import CodeThresholds, check_codes, inspect_code_label, read_label  # noqa: E402
from wocheck.io.images import load_photo  # noqa: E402
from wocheck.records import Order, Slot  # noqa: E402

ALL = [Symbology.qr, Symbology.code128, Symbology.code39, Symbology.ean13, Symbology.datamatrix]
_FORMAT = {"QR_CODE": "qr", "CODE_128": "code128", "CODE_39": "code39", "EAN_13": "ean13",
           "DATA_MATRIX": "datamatrix"}
METHODS = ("zxing", "zbar", "zxing+zbar", "ladder")
LABEL_DEFECTS = ("label.blur", "label.motion_blur", "label.glare", "label.codes_cut_off")


def _single(gray: Any, engines: list[Any], th: CodeThresholds) -> set[tuple[str, str]]:
    out = set()
    for e in engines:
        r = run_engine(e, gray, th.symbologies, max_pixels=th.engine_max_pixels, timeout_s=th.engine_timeout_s)
        out |= {(c.symbology.value, c.text) for c in r.codes}
    return out


def _methods(path: Path, cfg: Config, th: CodeThresholds) -> dict[str, set[tuple[str, str]]]:
    """Codes (symbology, text) each method reads from one photo: engines on the preview vs the ladder."""
    photo = load_photo(path)
    gray = photo.preview_gray(th.preview_side)
    zx, zb = ZxingEngine(), ZbarEngine()
    got = {"zxing": _single(gray, [zx], th), "zbar": _single(gray, [zb], th)}
    got["zxing+zbar"] = got["zxing"] | got["zbar"]
    reading = read_label(photo, cfg, th.model_copy(update={"ocr": False}), stop_early=False)
    got["ladder"] = {(c.code.symbology.value, c.code.text) for c in reading.codes if c.source == "barcode"}
    return got


def realdata_table(folder: Path, cfg: Config) -> dict[str, Any]:
    # the configured reading (models/thresholds/codes.toml), over every symbology, the photo whole as the
    # preview (these are small photos), no OCR
    th = cfg.thresholds("codes", CodeThresholds).model_copy(
        update={"symbologies": ALL, "ocr": False, "preview_side": 4000})
    rows = list(csv.DictReader((folder / "manifest.csv").open(newline="", encoding="utf-8")))
    n: Counter[str] = Counter()
    hit: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        sym = _FORMAT.get(r["format"], r["format"])
        n[sym] += 1
        got = _methods(folder / "images" / r["file"], cfg, th)
        for m in METHODS:
            hit[sym][m] += any(t == r["expected_text"] for _, t in got[m])
    return {"photos": dict(n), "read": {s: dict(c) for s, c in hit.items()}}


def _print_table(title: str, n: dict[str, int], read: dict[str, dict[str, int]]) -> None:
    print(f"\n{title}")
    print(f"| symbology | n | {' | '.join(METHODS)} |")
    print("|---|---|" + "---|" * len(METHODS))
    tot: Counter[str] = Counter()
    for s in sorted(n):
        cells = []
        for m in METHODS:
            k = read.get(s, {}).get(m, 0)
            tot[m] += k
            cells.append(f"{k} ({k / n[s]:.0%})" if n[s] else "0")
        print(f"| {s} | {n[s]} | {' | '.join(cells)} |")
    total = sum(n.values())
    print(f"| all | {total} | " + " | ".join(f"{tot[m]} ({tot[m] / max(1, total):.0%})" for m in METHODS) + " |")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _nights(folder: Path) -> list[dict[str, Any]]:
    man = folder / "manifest.json"
    if man.exists():
        return list(json.loads(man.read_text(encoding="utf-8"))["nights"])
    return [{"night": 1, "dir": ".", "orders": "orders.jsonl", "photos": "photos", "truth": "truth.jsonl"}]


def fixtures_eval(folder: Path, cfg: Config) -> dict[str, Any]:
    """Per-method code counts on every code-label photo, SN read rates and order-level cross-checks."""
    from wocheck.pipeline.work import process_photo

    th = cfg.thresholds("codes", CodeThresholds)
    n_codes: Counter[str] = Counter()
    read: dict[str, Counter[str]] = defaultdict(Counter)
    readable = readable_sn = unreadable = unreadable_flagged = 0
    clean_orders = clean_false = 0
    false_by_check: Counter[str] = Counter()
    expected_hits: Counter[str] = Counter()
    expected_n: Counter[str] = Counter()
    times: list[float] = []
    missed: list[str] = []
    for night in _nights(folder):
        # manifest paths are relative to the set's folder (older manifests: to the night's folder)
        def at(key: str, night: dict[str, Any] = night) -> Path:
            p = folder / night[key]
            return p if p.exists() else folder / night["dir"] / night[key]

        photos_root = at("photos")
        truth = {t["order_id"]: t for t in _read_jsonl(at("truth"))}
        for line in _read_jsonl(at("orders")):
            order = Order.model_validate(line)
            t = truth.get(order.order_id, {})
            defects = t.get("defects", [])
            names = {d["defect"] for d in defects}
            label_bad = {d.get("photo") for d in defects if d["defect"] in LABEL_DEFECTS}
            results = []
            for ref in order.photos_in(Slot.code_label):
                t0 = time.perf_counter()
                pr = process_photo(ref, order, cfg, photos_root)
                times.append((time.perf_counter() - t0) * 1e3)
                results.append(pr)
                if not pr.usable:
                    continue
                got = _methods(photos_root / ref.file, cfg, th)
                facts = (t.get("photos") or {}).get(ref.file, {})
                # the codes printed on this label (truth), each counted once per method that reads it exactly;
                # labels with a label defect (or the blurred one of two) are left out of this table
                expected = [("code128", facts.get("sn")), ("code128", facts.get("imei")),
                            ("qr", facts.get("qr_payload"))]
                two = "two_labels_one_blurred" in (t.get("hard_cases") or [])
                for sym, text in expected:
                    if not text or ref.file in label_bad or (two and ref.file.endswith("_1.jpg")):
                        continue
                    n_codes[sym] += 1
                    for m in METHODS:
                        read[sym][m] += (sym, text) in got[m]
                printed = facts.get("sn")
                sns = {c["text"] for c in pr.data.get("codes", []) if c["kind"] == "sn"}
                has_sn = printed in sns if printed else bool(sns)
                # the planner draws the blurred one of two label photos first (code_label_1)
                bad = ref.file in label_bad or (
                    "two_labels_one_blurred" in (t.get("hard_cases") or []) and ref.file.endswith("_1.jpg"))
                if ref.file in label_bad:
                    unreadable += 1
                    unreadable_flagged += not sns
                elif not bad:
                    readable += 1
                    readable_sn += has_sn
                    if not has_sn:
                        missed.append(ref.file)
            findings = check_codes(order, cfg, tuple(results))
            checks = {f.check for f in findings}
            # any clause-49 code finding flags an unreadable label (the SN's, the IMEI's or the MAC's)
            if checks & {"codes.unreadable", "codes.imei_unreadable", "codes.mac_unreadable",
                         "codes.sn_barcode_unreadable"}:
                checks.add("clause49")
            code_defects = {d for d in names if d.startswith(("label.", "record.sn_"))
                            or d in ("record.imei_mismatch", "record.mac_mismatch")}
            if not code_defects:  # clean as far as codes go (record-only defects must not echo here)
                clean_orders += 1
                clean_false += bool(findings)
                for f in findings:
                    false_by_check[f.check] += 1
            for d, check in (("record.sn_typo", "codes.sn_typo"), ("record.sn_mismatch", "codes.sn_mismatch"),
                             ("record.imei_mismatch", "codes.imei_mismatch"),
                             ("record.mac_mismatch", "codes.mac_mismatch"), ("label.blur", "clause49"),
                             ("label.motion_blur", "clause49"), ("label.glare", "clause49"),
                             ("label.codes_cut_off", "clause49")):
                if d in names:
                    expected_n[d] += 1
                    expected_hits[d] += check in checks
    return {"photos_ms_median": statistics.median(times) if times else None,
            "codes": dict(n_codes), "read": {s: dict(c) for s, c in read.items()},
            "readable_labels": readable, "readable_sn_read": readable_sn,
            "unreadable_labels": unreadable, "unreadable_flagged": unreadable_flagged,
            "clean_orders": clean_orders, "clean_orders_with_code_finding": clean_false,
            "false_by_check": dict(false_by_check),
            "defect_recall": {d: f"{expected_hits[d]}/{expected_n[d]}" for d in expected_n},
            "missed_readable": missed[:20]}


def _synthetic_photos(n: int, out: Path) -> list[Path]:
    """N label photos at 4000×3000 from the fixture renderer (clean shots, mixed models, some small codes)."""
    import numpy as np

    from fixturegen.camera import Shot, photograph, write_jpeg
    from fixturegen.nameplate import render_nameplate
    from fixturegen.orders import make_imei, make_mac, make_sn

    rng = np.random.default_rng(11)
    models = [("NVK-RO400", False, False), ("NVK-RO600", False, True), ("NVK-RO800", True, True),
              ("NVK-UF200", False, False), ("NVK-C1000", True, True)]
    paths = []
    for i in range(n):
        model, imei, mac = models[i % len(models)]
        m = make_mac(rng) if mac else None
        label = {"model": model, "sn": make_sn(rng, model), "imei": make_imei(rng) if imei else None,
                 "mac": m, "mac_printed": m}
        small = i % 3 == 0
        obj = render_nameplate(rng, label, frozenset({"small_codes"} if small else set()))
        shot = Shot(size=(4000, 3000), fill=float(rng.uniform(0.45, 0.55) if small else rng.uniform(0.7, 0.9)),
                    rotation_deg=float(rng.uniform(-8, 8)), background="machine")
        img, _ = photograph(rng, obj, shot)
        p = out / f"label_{i:03d}.jpg"
        write_jpeg(p, img, {"orientation": 6} if i % 4 == 0 else None, quality=90)
        paths.append(p)
    return paths


def speed(paths: list[Path], cfg: Config, repeat: int) -> dict[str, Any]:
    decode, inspect = [], []
    decode_cpu, inspect_cpu = [], []
    ctx = PhotoContext(order=None, cfg=cfg, slot=Slot.code_label, file="bench.jpg")
    th = cfg.thresholds("codes", CodeThresholds)
    for _ in range(repeat):
        for p in paths:
            t0, c0 = time.perf_counter(), time.process_time()
            ph = load_photo(p, verify=False)
            ph.preview_gray(th.preview_side)
            decode.append((time.perf_counter() - t0) * 1e3)
            decode_cpu.append((time.process_time() - c0) * 1e3)
            t0, c0 = time.perf_counter(), time.process_time()
            ph = load_photo(p, verify=False)
            inspect_code_label(ph, ctx)
            inspect.append((time.perf_counter() - t0) * 1e3)
            inspect_cpu.append((time.process_time() - c0) * 1e3)
    md, mi = statistics.median(decode), statistics.median(inspect)
    return {"photos": len(paths), "repeat": repeat, "decode_ms_median": round(md, 1),
            "inspect_ms_median": round(mi, 1), "ratio": round(mi / md, 2),
            "inspect_ms_p90": round(sorted(inspect)[int(0.9 * (len(inspect) - 1))], 1),
            # CPU time of this process (steadier than wall time on a shared machine)
            "decode_cpu_ms_median": round(statistics.median(decode_cpu), 1),
            "inspect_cpu_ms_median": round(statistics.median(inspect_cpu), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata" / "barcodes")
    ap.add_argument("--fixtures", type=Path, nargs="*", default=[])
    ap.add_argument("--speed", type=int, default=12, help="synthetic 4000×3000 label photos to time (0: none)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    cfg = load_config()
    out: dict[str, Any] = {}
    if args.realdata and (args.realdata / "manifest.csv").exists():
        rd = realdata_table(args.realdata, cfg)
        out["realdata"] = rd
        _print_table(f"Real photos ({args.realdata}): photos whose expected text each method reads",
                     rd["photos"], rd["read"])
    for fx in args.fixtures:
        ev = fixtures_eval(fx, cfg)
        out[f"fixtures:{fx}"] = ev
        _print_table(f"Fixtures ({fx}): printed codes (truth) read on readable code-label photos",
                     ev["codes"], ev["read"])
        print(json.dumps({k: v for k, v in ev.items() if k not in ("codes", "read")}, indent=1))
    if args.speed:
        with tempfile.TemporaryDirectory() as tmp:
            paths = _synthetic_photos(args.speed, Path(tmp))
            sp = speed(paths, cfg, args.repeat)
        out["speed"] = sp
        print(f"\nSpeed on {sp['photos']} synthetic 4000×3000 label photos ×{sp['repeat']}: decode (load + "
              f"{cfg.thresholds('codes', CodeThresholds).preview_side}-px preview) {sp['decode_ms_median']} ms, "
              f"load + inspect_code_label {sp['inspect_ms_median']} ms (p90 {sp['inspect_ms_p90']} ms), "
              f"ratio {sp['ratio']}; CPU: decode {sp['decode_cpu_ms_median']} ms, load + inspect "
              f"{sp['inspect_cpu_ms_median']} ms")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

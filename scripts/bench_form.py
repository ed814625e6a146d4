#!/usr/bin/env python3
"""Benchmark the service-form inspector on 4000×3000 JPEGs, on one core, against decoding the same photos.

Prints, per photo set, the median milliseconds of:

- ``decode_full``: `load_photo` + the full-resolution grey decode (what any pixel-level look costs);
- ``decode_preview``: `load_photo` + the 1000 px grey preview (the cheapest look);
- ``inspect``: `load_photo` + `inspect_form` from a fresh photo (its own preview decodes included);
- ``inspect_compute``: `inspect_form` with the previews it needs already decoded (the inspector's own work);

and the ratios of ``inspect`` to both decodes. Photos: ``--photos DIR`` (JPEGs whose long side is ≥ 3000 px,
e.g. the full-resolution share of a fixture set), else ``--synth N`` synthetic form photos at 4000×3000.

    .venv/bin/python scripts/bench_form.py --synth 12
    .venv/bin/python scripts/bench_form.py --photos fixtures/generated/cal/photos --glob 'service_form*.jpg'
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from wocheck.config import load_config  # noqa: E402
from wocheck.inspectors.base import PhotoContext  # noqa: E402
from wocheck.inspectors.form import FormThresholds, form_images, inspect_form  # noqa: E402
from wocheck.io.images import load_photo  # noqa: E402
from wocheck.records import Slot  # noqa: E402


def _synth(n: int, out: Path) -> list[Path]:
    from _form_synth import Spec, write

    paths = []
    for i in range(n):
        spec = Spec(size=(4000, 3000), seed=100 + i, rotation=float(i * 7 % 360), fill=0.6 + 0.02 * (i % 10),
                    blank={"phone"} if i % 3 == 0 else set(), blur=2.0 if i % 4 == 1 else 0.0)
        paths.append(write(spec, out / f"form_{i:03d}.jpg", quality=90))
    return paths


def _find(d: Path, limit: int, pattern: str) -> list[Path]:
    from PIL import Image

    out = []
    for p in sorted(d.rglob(pattern)):
        with Image.open(p) as im:
            if max(im.size) >= 3000:
                out.append(p)
        if len(out) >= limit:
            break
    return out


_CLOCK = time.perf_counter


def _median_ms(fn, paths: list[Path], repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        for p in paths:
            t0 = _CLOCK()
            fn(p)
            times.append((_CLOCK() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, help="folder of JPEGs (≥ 3000 px long side are used)")
    ap.add_argument("--synth", type=int, default=10, help="synthetic 4000×3000 photos when --photos is not given")
    ap.add_argument("--glob", default="*.jpg", help="file pattern under --photos (e.g. 'service_form*.jpg')")
    ap.add_argument("--limit", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--cpu", action="store_true",
                    help="CPU seconds of this process (time.process_time) instead of wall time: steadier on a "
                         "shared machine (the work is single-threaded)")
    a = ap.parse_args(argv)
    global _CLOCK
    if a.cpu:
        _CLOCK = time.process_time
    cv2.setNumThreads(1)
    cfg = load_config()
    th = cfg.thresholds("form", FormThresholds)
    tmp = None
    if a.photos:
        paths = _find(a.photos, a.limit, a.glob)
    else:
        tmp = tempfile.TemporaryDirectory()
        paths = _synth(a.synth, Path(tmp.name))
    if not paths:
        print("no photos of ≥ 3000 px found", file=sys.stderr)
        return 2
    ctx = PhotoContext(order=None, cfg=cfg, slot=Slot.service_form, file="bench")

    def decode_full(p: Path) -> None:
        load_photo(p, verify=False).full_gray()

    def decode_preview(p: Path) -> None:
        load_photo(p, verify=False).preview_gray(1000)

    def inspect(p: Path) -> None:
        inspect_form(load_photo(p, verify=False), ctx)

    loaded = {}
    for p in paths:
        ph = load_photo(p, verify=False)
        form_images(ph, th)  # the previews the inspector decodes, cached in the photo
        loaded[p] = ph

    def compute(p: Path) -> None:
        inspect_form(loaded[p], ctx)

    inspect(paths[0])  # warm the caches (layout, master, detector)
    res = {
        "photos": len(paths), "source": str(a.photos) if a.photos else f"synthetic 4000x3000 q90 x{len(paths)}",
        "clock": "cpu" if a.cpu else "wall",
        "decode_full_ms": round(_median_ms(decode_full, paths, a.repeat), 1),
        "decode_preview_ms": round(_median_ms(decode_preview, paths, a.repeat), 1),
        "inspect_ms": round(_median_ms(inspect, paths, a.repeat), 1),
        "inspect_compute_ms": round(_median_ms(compute, paths, a.repeat), 1),
    }
    res["ratio_to_full_decode"] = round(res["inspect_ms"] / res["decode_full_ms"], 2)
    res["ratio_to_preview_decode"] = round(res["inspect_ms"] / res["decode_preview_ms"], 2)
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:26s} {v}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

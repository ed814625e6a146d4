#!/usr/bin/env python3
"""Benchmark the scene and pipe inspectors on 4000×3000 JPEGs, on one core, against decoding the same photos.

Prints the median milliseconds per photo of:

- ``decode_full``: `load_photo` + the full-resolution grey decode;
- ``decode_preview``: `load_photo` + the 1000 px grey and colour previews the inspectors ask for;
- ``inspect``: `load_photo` + every inspector of the slot (scenes; scenes + pipes for pipeline_45) from a
  fresh photo (its own preview decodes included);
- ``inspect_compute``: the inspectors with their previews already decoded (their own work);

and the ratios of ``inspect`` to both decodes. Photos: ``--photos DIR`` (JPEGs with long side ≥ 3000 px,
e.g. the full-resolution share of a fixture set's scene photos), else ``--synth N`` synthetic scenes at
4000×3000 (half of them pipeline photos).

    .venv/bin/python scripts/bench_scenes.py --synth 10
    .venv/bin/python scripts/bench_scenes.py --photos fixtures/generated/cal/photos
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

import cv2  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from wocheck.config import load_config  # noqa: E402
from wocheck.inspectors.base import PhotoContext  # noqa: E402
from wocheck.inspectors.pipes import PipesThresholds, inspect_pipes  # noqa: E402
from wocheck.inspectors.scenes import ScenesThresholds, inspect_scene  # noqa: E402
from wocheck.io.images import load_photo  # noqa: E402
from wocheck.records import Slot  # noqa: E402

SCENE_NAMES = ("pipeline_45", "install_env", "machine_running", "machine_overall", "fault_part")


def _synth(n: int, out: Path) -> list[tuple[Path, Slot]]:
    from _scene_synth import scene, write_jpeg

    paths = []
    for i in range(n):
        slot = Slot.pipeline_45 if i % 2 == 0 else Slot.install_env
        img = scene(200 + i, (4000, 3000), pipes="messy" if i % 4 == 0 else "neat")
        paths.append((write_jpeg(out / f"scene_{i:03d}.jpg", img, quality=90), slot))
    return paths


def _find(d: Path, limit: int) -> list[tuple[Path, Slot]]:
    """Scene photos of a fixture set (slot from the file name, else install_env) with long side ≥ 3000 px."""
    from PIL import Image

    out = []
    for p in sorted(d.rglob("*.jpg")):
        slot = next((Slot(s) for s in SCENE_NAMES if s in p.name), None)
        if slot is None:
            continue
        with Image.open(p) as im:
            if max(im.size) >= 3000:
                out.append((p, slot))
        if len(out) >= limit:
            break
    return out


def _median_ms(fn, items: list[tuple[Path, Slot]], repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        for p, slot in items:
            t0 = time.perf_counter()
            fn(p, slot)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, help="folder of scene JPEGs (≥ 3000 px long side are used)")
    ap.add_argument("--synth", type=int, default=10, help="synthetic 4000×3000 scenes when --photos is not given")
    ap.add_argument("--limit", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args(argv)
    cv2.setNumThreads(1)
    cfg = load_config()
    sth = cfg.thresholds("scenes", ScenesThresholds)
    pth = cfg.thresholds("pipes", PipesThresholds)
    tmp = None
    if a.photos:
        items = _find(a.photos, a.limit)
    else:
        tmp = tempfile.TemporaryDirectory()
        items = _synth(a.synth, Path(tmp.name))
    if not items:
        print("no scene photos of ≥ 3000 px found", file=sys.stderr)
        return 2

    def run_inspectors(photo, slot: Slot) -> None:  # type: ignore[no-untyped-def]
        ctx = PhotoContext(order=None, cfg=cfg, slot=slot, file="bench")
        inspect_scene(photo, ctx)
        if slot == Slot.pipeline_45:
            inspect_pipes(photo, ctx)

    def decode_full(p: Path, slot: Slot) -> None:
        load_photo(p, verify=False).full_gray()

    def decode_preview(p: Path, slot: Slot) -> None:
        ph = load_photo(p, verify=False)
        ph.preview_gray(sth.preview_side)
        if slot == Slot.pipeline_45:
            ph.preview_bgr(pth.preview_side)

    def inspect(p: Path, slot: Slot) -> None:
        run_inspectors(load_photo(p, verify=False), slot)

    loaded = {}
    for p, _ in items:
        ph = load_photo(p, verify=False)
        ph.preview_gray(sth.preview_side)
        ph.preview_bgr(pth.preview_side)
        loaded[p] = ph

    def compute(p: Path, slot: Slot) -> None:
        run_inspectors(loaded[p], slot)

    inspect(*items[0])  # warm up (imports, thresholds)
    res = {
        "photos": len(items), "pipeline_share": round(sum(s == Slot.pipeline_45 for _, s in items) / len(items), 2),
        "decode_full_ms": round(_median_ms(decode_full, items, a.repeat), 1),
        "decode_preview_ms": round(_median_ms(decode_preview, items, a.repeat), 1),
        "inspect_ms": round(_median_ms(inspect, items, a.repeat), 1),
        "inspect_compute_ms": round(_median_ms(compute, items, a.repeat), 1),
    }
    res["ratio_to_full_decode"] = round(res["inspect_ms"] / res["decode_full_ms"], 2)
    res["ratio_to_preview_decode"] = round(res["inspect_ms"] / res["decode_preview_ms"], 2)
    if tmp is not None:
        tmp.cleanup()
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:24s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

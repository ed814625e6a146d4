#!/usr/bin/env python3
"""Generate a labelled fixture set: orders (JSON Lines), phone-like photos and the ground truth.

    scripts/make_fixtures.py --orders 40 --nights 2 --seed 7 --out fixtures/sample
    scripts/make_fixtures.py --orders 500 --out fixtures/generated/eval500 --workers 2

Layout of OUT: ``manifest.json``; night 1 in OUT (``orders.jsonl``, ``photos/``, ``truth.jsonl``), each later
night in ``OUT/nightN/`` with the same three. Photo paths in the orders are relative to that night's
``photos/``. The same seed and options give the same bytes. See fixtures/README.md for the truth format.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixturegen import scenes  # noqa: E402
from fixturegen.camera import Shot, encode_jpeg, expose, photograph, reframe  # noqa: E402
from fixturegen.form import render_form  # noqa: E402
from fixturegen.nameplate import render_nameplate  # noqa: E402
from fixturegen.orders import OrderPlan, PhotoPlan, Sizes, plan_nights  # noqa: E402

log = logging.getLogger("make_fixtures")
GENERATOR_VERSION = 1
MIRRORABLE = {"pipeline_45", "install_env", "fault_part"}  # scenes without lettering
FORM_MASTER_WIDTH_PX = 2480  # the print master's width at 300 dpi (models/forms/nvk-service-form-v1.png)


def night_dir(out: Path, night: int) -> Path:
    return out if night == 1 else out / f"night{night}"


def _fit(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale and centre-crop an image to exactly ``size`` (w, h)."""
    W, H = size
    h, w = img.shape[:2]
    s = max(W / w, H / h)
    r = cv2.resize(img, (max(W, round(w * s)), max(H, round(h * s))), interpolation=cv2.INTER_AREA)
    y0, x0 = (r.shape[0] - H) // 2, (r.shape[1] - W) // 2
    return r[y0:y0 + H, x0:x0 + W]


def _region_center(regions: dict[str, Any], name: str) -> tuple[float, float] | None:
    box = regions.get(name) or regions.get(name.split("_")[0])  # the stand-in nameplate says "sn"
    if box is None:
        keys = [k for k in regions if name in k.lower()]
        box = regions[keys[0]] if keys else None
    if box is None:
        return None
    x, y, w, h = box
    return (x + w / 2, y + h / 2)


# Recorded in the manifest: which object renderers drew the forms and nameplates.
RENDERERS = "form.py, nameplate.py"


def render_photo(order: OrderPlan, photo: PhotoPlan, index: int, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The pixels of one planned photo (not for reuse copies) and facts for the truth."""
    rng = np.random.default_rng([seed, order.night, order.index, index, 99])
    shot: Shot = photo.shot
    if photo.content in ("form", "nameplate"):
        if photo.content == "form":
            # render the page at about the resolution it will have in the photo (the camera averages down)
            scale = min(1.0, max(0.4, 1.3 * shot.fill * max(shot.size) / FORM_MASTER_WIDTH_PX))
            obj = render_form(rng, order.form_fields, photo.obj_defects, scale=scale)
        else:
            obj = render_nameplate(rng, order.label, photo.obj_defects)
        shot.glare = []
        for name in photo.glare_on:
            c = _region_center(obj.regions, name)
            if c is not None:
                shot.glare.append((c, float(rng.uniform(0.07, 0.1)), float(rng.uniform(0.95, 1.1))))
        img, info = photograph(rng, obj, shot)
        info = {"fraction_in_frame": info["fraction_in_frame"], **{k: v for k, v in obj.info.items()
                                                                   if isinstance(v, str | int | float | bool)}}
        return img, info
    if photo.content == "non_form":
        try:
            from fixturegen.form import render_non_form

            base = render_non_form(rng).astype(np.float32)
        except ImportError:
            base, _ = scenes.draw_install_env(rng, shot.size)
        return expose(rng, _fit(base, shot.size), shot), {"content": "non_form"}
    if photo.content == "blank_wall":
        base, info = scenes.draw_blank_wall(rng, shot.size)
    elif photo.content == "covered_lens":
        base, info = scenes.draw_covered_lens(rng, shot.size)
        shot.noise = 4.0
    elif photo.content == "extreme_closeup":
        full, _ = scenes.DRAW[photo.scene_kw["of"]](rng, shot.size)
        base, info = scenes.draw_extreme_closeup(rng, full)
    else:
        base, info = scenes.DRAW[photo.content](rng, shot.size, **photo.scene_kw)
        base = reframe(rng, base, mirror=photo.content in MIRRORABLE)
    return expose(rng, base, shot), info


def reuse_copy(src_path: Path, rng: np.random.Generator) -> tuple[bytes, dict[str, Any]]:
    """Re-encode an earlier photo the way a re-upload does: resized, slightly cropped, new JPEG, no EXIF."""
    img = cv2.imread(str(src_path), cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError(f"reuse source not readable: {src_path}")
    h, w = img.shape[:2]
    c = [float(rng.uniform(0.01, 0.05)) for _ in range(4)]
    img = img[int(h * c[0]):h - int(h * c[1]), int(w * c[2]):w - int(w * c[3])]
    k = float(rng.uniform(0.75, 0.95))
    img = cv2.resize(img, (int(img.shape[1] * k), int(img.shape[0] * k)), interpolation=cv2.INTER_AREA)
    q = int(rng.integers(70, 82))
    return encode_jpeg(img, None, q), {"crop": [round(v, 3) for v in c], "scale": round(k, 3), "quality": q}


def _make_one(args: tuple[Path, OrderPlan, int, int, int]) -> tuple[str, int, dict[str, Any]]:
    root, order, k, seed, quality = args
    photo = order.photos[k]
    img, info = render_photo(order, photo, k, seed)
    data = encode_jpeg(img, photo.exif, quality)
    path = root / photo.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return photo.file, len(data), info


def generate(out: Path, *, orders: int, nights: int, seed: int, sizes: Sizes, later_orders: int | None = None,
             workers: int = 1) -> dict[str, Any]:
    """Plan and write every night under ``out``; returns the manifest (also written to out/manifest.json)."""
    t0 = time.monotonic()
    plans = plan_nights(seed, orders, nights, sizes, later_orders)
    jobs = [(night_dir(out, order.night) / "photos", order, k, seed, sizes.quality)
            for night in plans for order in night for k, p in enumerate(order.photos) if p.content != "reuse"]
    infos: dict[tuple[int, str], dict[str, Any]] = {}
    total_bytes = 0
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            results = list(ex.map(_make_one, jobs, chunksize=4))
    else:
        results = [_make_one(j) for j in jobs]
    for (_root, order, *_), (file, n, info) in zip(jobs, results, strict=True):
        infos[(order.night, file)] = info
        total_bytes += n
    for night in plans:  # reuse copies read the photos written above
        for order in night:
            for k, p in enumerate(order.photos):
                if p.content != "reuse" or p.reuse_of is None:
                    continue
                src_night, src_file = p.reuse_of
                rng = np.random.default_rng([seed, order.night, order.index, k, 98])
                data, info = reuse_copy(night_dir(out, src_night) / "photos" / src_file, rng)
                dest = night_dir(out, order.night) / "photos" / p.file
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                total_bytes += len(data)
                for d in order.defects:
                    if d.photo == p.file and d.defect.startswith("reuse."):
                        d.detail.update(info)
    manifest: dict[str, Any] = {
        "generator": "scripts/make_fixtures.py", "generator_version": GENERATOR_VERSION, "seed": seed,
        "renderers": RENDERERS, "sizes": {"base_long_side": sizes.base, "full_res_share": sizes.full_res_share,
                                                "max_side": sizes.max_side, "jpeg_quality": sizes.quality},
        "nights": [],
    }
    for night in plans:
        n = night[0].night
        d = night_dir(out, n)
        d.mkdir(parents=True, exist_ok=True)
        with (d / "orders.jsonl").open("w", encoding="utf-8") as fh:
            for o in night:
                fh.write(json.dumps(o.record, ensure_ascii=False) + "\n")
        with (d / "truth.jsonl").open("w", encoding="utf-8") as fh:
            for o in night:
                t = o.truth()
                t["photos"] = {p.file: infos.get((o.night, p.file), {"content": p.content}) for p in o.photos}
                fh.write(json.dumps(t, ensure_ascii=False, sort_keys=True) + "\n")
        rel = d.relative_to(out).as_posix()
        manifest["nights"].append({
            "night": n, "dir": rel, "orders": f"{rel}/orders.jsonl".removeprefix("./"),
            "photos": f"{rel}/photos".removeprefix("./"), "truth": f"{rel}/truth.jsonl".removeprefix("./"),
            "n_orders": len(night), "n_clean": sum(not o.defects for o in night),
            "n_photos": sum(len(o.photos) for o in night)})
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %d nights, %d photos, %.1f MB in %.1f s", len(plans),
             sum(x["n_photos"] for x in manifest["nights"]), total_bytes / 2**20, time.monotonic() - t0)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=40, help="orders in night 1 (default 40)")
    ap.add_argument("--later-orders", type=int, default=None, help="orders in each later night (default orders/4)")
    ap.add_argument("--nights", type=int, default=2, help="nights to generate (reuse across nights needs 2)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--base-side", type=int, default=1600, help="long side of most photos (px)")
    ap.add_argument("--max-side", type=int, default=4000, help="cap on every photo's long side (px)")
    ap.add_argument("--full-res-share", type=float, default=0.02, help="share of photos at 4000x3000")
    ap.add_argument("--quality", type=int, default=85, help="JPEG quality of the phone photos")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--bad-input", action="store_true",
                    help="write the bad-input scenario set to OUT instead (orders.jsonl, photos/, expected.json)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING, format="%(message)s")
    if a.bad_input:
        from fixturegen.bad_input import write_bad_input

        exp = write_bad_input(a.out, a.seed)
        print(f"bad input: {exp['lines']} lines, {len(exp['input_errors'])} input errors expected -> {a.out}",
              file=sys.stderr)
        return 0
    if a.out.exists() and any(a.out.iterdir()) and not (a.out / "manifest.json").exists():
        print(f"make_fixtures: {a.out} exists and is not a fixture set; refusing to write into it", file=sys.stderr)
        return 2
    sizes = Sizes(base=min(a.base_side, a.max_side), full_res_share=a.full_res_share, max_side=a.max_side,
                  quality=a.quality)
    m = generate(a.out, orders=a.orders, nights=a.nights, seed=a.seed, sizes=sizes, later_orders=a.later_orders,
                 workers=a.workers)
    for n in m["nights"]:
        print(f"night {n['night']}: {n['n_orders']} orders ({n['n_clean']} clean), {n['n_photos']} photos "
              f"-> {a.out / n['dir']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

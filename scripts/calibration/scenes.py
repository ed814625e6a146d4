#!/usr/bin/env python3
"""Calibrate the scene and pipe inspectors from a labelled fixture set; write their thresholds with provenance.

    .venv/bin/python scripts/calibration/scenes.py FIXTURE_DIR [--out models/thresholds]
    .venv/bin/python scripts/calibration/scenes.py --evaluate HELDOUT_DIR   # figures with the current files

FIXTURE_DIR is a fixture factory set (``manifest.json`` or ``orders.jsonl`` + ``truth.jsonl`` + ``photos/``).
Every scene photo (slots pipeline_45, install_env, machine_running, machine_overall, fault_part) is measured
with the inspectors' own measure functions; its label is the set of scene defects the truth names for it
(``<slot>.blur`` -> blur, ``.dark``, ``.overexposed``, ``.covered_lens`` / ``.blank_wall`` /
``.extreme_closeup`` -> unrecognisable, ``pipeline_45.messy`` -> messy); a photo without one is clean.

Each calibrated threshold is a band (review, violation) between the clean photos' values and the defect
photos' values for that measure (`band`): where the two are apart, review sits a third and violation two
thirds of the way across the gap from the clean side; where they overlap, review is at the defect side's
tail (recall) and violation past the clean side's tail (precision), so the overlap goes to a reviewer.
Defects the fixture set has no scene examples of (motion blur, glare) are calibrated on augmented copies of
its clean photos (a linear motion kernel; a saturating highlight), and said so in the provenance.
Measure parameters (analysis scale, windows, bins) are choices, kept from the current files.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from wocheck.inspectors.bands import Band  # noqa: E402
from wocheck.inspectors.pipes import PipesThresholds, analyse_tubing  # noqa: E402
from wocheck.inspectors.scenes import SceneMeasures, ScenesThresholds, measure_scene  # noqa: E402
from wocheck.io.images import PhotoError, load_photo  # noqa: E402
from wocheck.metrics.exposure import glare_blobs  # noqa: E402
from wocheck.metrics.sharpness import motion_blurred, to_analysis_scale  # noqa: E402

SCENE_SLOTS = ("pipeline_45", "install_env", "machine_running", "machine_overall", "fault_part")
KIND_OF = {"blur": "blur", "motion_blur": "motion_blur", "dark": "dark", "overexposed": "overexposed",
           "covered_lens": "unrecognisable", "blank_wall": "unrecognisable", "extreme_closeup": "unrecognisable",
           "messy": "messy"}
# The tails of each side left out when placing a band (robust to a single odd photo).
CLEAN_TAIL = 0.01
DEFECT_TAIL = 0.02
# The fixed fraction of the way across the clean-defect gap where review and violation sit.
REVIEW_AT, VIOLATION_AT = 1 / 3, 2 / 3
# Augmentation for the defects the set lacks: motion length as a fraction of the long side, glare spot
# radius as a fraction of the long side (phone photos of glossy machines: a few % of the frame).
AUG_MOTION = (0.018, 0.03)
AUG_DEFOCUS = (0.003, 0.008)  # Gaussian σ as a fraction of the long side (for motion vs defocus)
AUG_GLARE_RADIUS = (0.05, 0.1)
AUG_PHOTOS = 80  # clean photos augmented
MIN_SLOT_CLEAN = 20  # clean photos a slot needs for its own bands


@dataclass
class Sample:
    path: Path
    slot: str
    kinds: set[str]
    hard: list[str] = field(default_factory=list)


def load_set(root: Path) -> list[Sample]:
    """The scene photos of a fixture set with their labels (every night listed in its manifest)."""
    nights: list[Path] = []
    manifest = root / "manifest.json"
    if manifest.exists():
        for n in json.loads(manifest.read_text(encoding="utf-8"))["nights"]:
            nights.append(root / n["dir"])
    else:
        nights.append(root)
    out: list[Sample] = []
    for d in nights:
        truth = {}
        for line in (d / "truth.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                t = json.loads(line)
                truth[t["order_id"]] = t
        for line in (d / "orders.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            o = json.loads(line)
            t = truth.get(o["order_id"], {})
            by_photo: dict[str, set[str]] = defaultdict(set)
            for df in t.get("defects", []):
                name = str(df.get("defect", ""))
                slot, _, kind = name.partition(".")
                if slot in SCENE_SLOTS and kind in KIND_OF and df.get("photo"):
                    by_photo[df["photo"]].add(KIND_OF[kind])
            for p in o.get("photos", []):
                if p.get("slot") in SCENE_SLOTS:
                    out.append(Sample(d / "photos" / p["file"], p["slot"], by_photo.get(p["file"], set()),
                                      list(t.get("hard_cases", []))))
    return out


def band(clean: list[float], defect: list[float], direction: str, *,
         precision_first: bool = False) -> tuple[Band, dict[str, Any]]:
    """A review/violation band between clean and defect values of one measure (see the module doc).

    ``precision_first`` (defects known only from augmentation): where the sides overlap, review starts at the
    clean side's tail and violation past every clean value, so clean photos are not sent to review.
    """
    c = np.asarray(clean, float)
    d = np.asarray(defect, float)
    if direction == "below":  # mirror: work as "above" on negated values
        b, facts = band([-x for x in clean], [-x for x in defect], "above", precision_first=precision_first)
        facts |= {"clean_tail": -facts["clean_tail"], "defect_tail": -facts["defect_tail"]}
        return Band(review=-b.review, violation=-b.violation, direction="below"), facts
    c_hi = float(np.quantile(c, 1 - CLEAN_TAIL))
    d_lo = float(np.quantile(d, DEFECT_TAIL))
    if c_hi < d_lo:
        gap = d_lo - c_hi
        review, violation = c_hi + REVIEW_AT * gap, c_hi + VIOLATION_AT * gap
    elif precision_first:
        review, violation = c_hi, max(float(c.max()), c_hi)
    else:
        review, violation = d_lo, c_hi
    facts = {"clean_n": int(c.size), "defect_n": int(d.size), "clean_tail": round(c_hi, 5),
             "defect_tail": round(d_lo, 5), "separable": bool(c_hi < d_lo)}
    return Band(review=round(review, 5), violation=round(violation, 5), direction="above"), facts


def _sig(x: float) -> float:
    return float(f"{x:.4g}")


def blob_stats(gray: np.ndarray, sth: ScenesThresholds) -> list[tuple[float, float]]:
    """(area fraction, halo) of the largest saturated blobs, measured as `measure_scene` does."""
    e = to_analysis_scale(to_analysis_scale(gray, sth.analysis_side), sth.exposure_side)
    blobs = glare_blobs(e, saturated_at=sth.glare_saturated_at, halo_px=sth.glare_halo_px,
                        halo_blobs=sth.glare_blobs)[: sth.glare_blobs]
    return [(b.area_fraction, b.halo) for b in blobs]


def glare_area_of(stats: list[tuple[float, float]], halo_min: float) -> float:
    return next((a for a, h in stats if h >= halo_min), 0.0)


def measure_all(samples: list[Sample], sth: ScenesThresholds, pth: PipesThresholds, keep_gray: int = 0,
                seed: int = 0) -> list[tuple[Sample, SceneMeasures, Any, np.ndarray | None, list[Any]]]:
    """Measures of every sample; the grey preview is kept for ``keep_gray`` random clean ones (augmentation),
    the saturated blobs' (area, halo) for every clean one (glare)."""
    rng = np.random.default_rng(seed)
    clean_idx = [i for i, s in enumerate(samples) if not s.kinds]
    keep = set(rng.permutation(clean_idx)[:keep_gray].tolist()) if clean_idx else set()
    rows = []
    for i, s in enumerate(samples):
        try:
            photo = load_photo(s.path)
        except PhotoError as e:
            print(f"skip {s.path}: {e.reason_en}", file=sys.stderr)
            continue
        g = photo.preview_gray(sth.preview_side)
        m = measure_scene(g, photo.width, photo.height, sth)
        t = None
        if s.slot == "pipeline_45":
            t = analyse_tubing(photo.preview_bgr(pth.preview_side), max(photo.width, photo.height), pth)
        rows.append((s, m, t, g if i in keep else None, blob_stats(g, sth) if not s.kinds else []))
    return rows


def augment(gray: np.ndarray, rng: np.random.Generator, kind: str) -> np.ndarray:
    """A motion-blurred or glare-spotted copy of a clean grey preview (uint8)."""
    h, w = gray.shape
    if kind == "motion_blur":
        length = int(round(rng.uniform(*AUG_MOTION) * max(h, w)))
        return np.round(motion_blurred(gray, length, float(rng.uniform(0, 180))) * 255).astype(np.uint8)
    if kind == "defocus":
        sigma = rng.uniform(*AUG_DEFOCUS) * max(h, w)
        return cv2.GaussianBlur(gray, (0, 0), sigma)
    # glare: a saturating elliptic highlight with a soft halo
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    r = rng.uniform(*AUG_GLARE_RADIUS) * max(h, w)
    d2 = ((xx - cx) / r) ** 2 + ((yy - cy) / (0.7 * r)) ** 2
    spot = 420.0 * (np.exp(-d2 * 1.2) + 0.35 * np.exp(-d2 * 0.25))
    return np.clip(gray.astype(np.float32) + spot, 0, 255).astype(np.uint8)


def _toml_band(b: Band) -> str:
    return f'{{ review = {_sig(b.review)}, violation = {_sig(b.violation)}, direction = "{b.direction}" }}'


def _toml_value(v: Any) -> str:
    if isinstance(v, Band):
        return _toml_band(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, float):
        return repr(_sig(v))
    return str(v)


def write_toml(path: Path, header: str, values: dict[str, Any], comments: dict[str, str],
               provenance: dict[str, Any]) -> None:
    lines = [f"# {x}" if x else "#" for x in header.splitlines()]
    lines.append("")
    tables = {k: v for k, v in values.items() if isinstance(v, dict) and all(isinstance(x, dict) for x in v.values())}
    for k, v in values.items():
        if k in tables:
            continue
        c = comments.get(k)
        lines.append(f"{k} = {_toml_value(v)}" + (f"  # {c}" if c else ""))
    for k, v in tables.items():
        if comments.get(k):
            lines += ["", f"# {comments[k]}"]
        for sub, entries in v.items():
            lines += ["", f"[{k}.{sub}]"]
            lines += [f"{name} = {_toml_value(x)}" for name, x in entries.items()]
    lines += ["", "[provenance]"]
    for k, v in provenance.items():
        lines.append(f"{k} = {_toml_value(v)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))  # what we wrote must read back


def _load(path: Path) -> dict[str, Any]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw.pop("provenance", None)
    return raw


def calibrate(root: Path, out_dir: Path, seed: int) -> int:
    s_raw, p_raw = _load(out_dir / "scenes.toml"), _load(out_dir / "pipes.toml")
    sth = ScenesThresholds.model_validate(s_raw)
    pth = PipesThresholds.model_validate(p_raw)
    samples = load_set(root)
    rows = measure_all(samples, sth, pth, keep_gray=AUG_PHOTOS, seed=seed)
    clean = [m for s, m, _, _, _ in rows if not s.kinds and m]
    of = {k: [m for s, m, _, _, _ in rows if k in s.kinds and m] for k in set(KIND_OF.values())}
    counts = {k: len(of[k]) for k in sorted(of)} | {"clean": len(clean)}
    print("photos:", counts, file=sys.stderr)
    if len(clean) < 20 or any(len(of[k]) < 5 for k in ("blur", "dark", "overexposed", "unrecognisable")):
        print("calibrate: too few labelled scene photos (need ≥ 20 clean and ≥ 5 of each defect)", file=sys.stderr)
        return 2
    facts: dict[str, Any] = {}
    rng = np.random.default_rng(seed)
    # blur: clean vs defocused photos (and augmented motion-blurred copies: the blur band must catch them too)
    pick = [(s, g) for s, m, _, g, _ in rows if g is not None]
    motion = [measure_scene(augment(g, rng, "motion_blur"), g.shape[1], g.shape[0], sth) for _, g in pick]
    defocus_aug = [measure_scene(augment(g, rng, "defocus"), g.shape[1], g.shape[0], sth) for _, g in pick]
    glare_aug = [blob_stats(augment(g, rng, "glare"), sth) for _, g in pick]
    blur_defects = [m.blur_width_px for m in of["blur"]] + [m.blur_width_px for m in motion]
    b_blur, facts["blur_width_px"] = band([m.blur_width_px for m in clean], blur_defects, "above")
    # motion vs defocus: between the defocused photos' (real and augmented) and the motion copies' anisotropy
    defocus_aniso = [m.motion_anisotropy for m in of["blur"] + defocus_aug]
    motion_aniso = [m.motion_anisotropy for m in motion]
    hi_def = float(np.quantile(defocus_aniso, 1 - CLEAN_TAIL))
    lo_mot = float(np.quantile(motion_aniso, DEFECT_TAIL))
    motion_t = max(1.0, (hi_def + lo_mot) / 2)
    facts["motion_anisotropy"] = {"defocus_tail": round(hi_def, 4), "motion_tail": round(lo_mot, 4),
                                  "motion_n": len(motion_aniso), "defocus_n": len(defocus_aniso)}
    b_dark, facts["dark_p95"] = band([m.luminance_p95 for m in clean], [m.luminance_p95 for m in of["dark"]], "below")
    b_over, facts["overexposed_clip"] = band([m.clip_bright for m in clean],
                                             [m.clip_bright for m in of["overexposed"]], "above")
    # glare: a saturated blob fading out through a bright halo. The halo level first (between the clean
    # photos' saturated blobs, mostly white objects, and the highlights), then the area band on the blobs
    # that pass it.
    all_clean_blobs = [bs for s, _, _, _, bs in rows if not s.kinds]
    c_halo = [st[0][1] for st in all_clean_blobs if st]
    g_halo = [st[0][1] for st in glare_aug if st]
    h_lo = float(np.quantile(g_halo, DEFECT_TAIL)) if g_halo else 1.0
    h_hi = float(np.quantile(c_halo, 1 - 10 * CLEAN_TAIL)) if c_halo else 0.0
    halo_min = (h_lo + h_hi) / 2 if h_hi < h_lo else h_lo
    facts["glare_halo_min"] = {"glare_halo_tail": round(h_lo, 4), "clean_blob_halo_tail": round(h_hi, 4),
                               "clean_with_blobs": len(c_halo), "glare_n": len(g_halo)}
    b_glare, facts["glare_area"] = band([glare_area_of(st, halo_min) for st in all_clean_blobs],
                                        [glare_area_of(st, halo_min) for st in glare_aug], "above",
                                        precision_first=True)
    b_struct, facts["structure_tiles"] = band([m.structure_tiles for m in clean],
                                              [m.structure_tiles for m in of["unrecognisable"]], "below")
    # Per slot: where a slot's own clean photos reach further than the pooled band allows (a fault-part
    # close-up has less structure and darker parts than a room; a running machine's white body clips), the
    # slot gets its own band between its clean photos and the pooled defect photos. Only looser bands are
    # kept: the pooled one stays the floor for recall.
    per_slot: dict[str, dict[str, Band]] = {}
    measures = {
        "dark_p95": (lambda m: m.luminance_p95, [m.luminance_p95 for m in of["dark"]], "below", False, b_dark),
        "structure_tiles": (lambda m: m.structure_tiles, [m.structure_tiles for m in of["unrecognisable"]],
                            "below", False, b_struct),
        "overexposed_clip": (lambda m: m.clip_bright, [m.clip_bright for m in of["overexposed"]], "above", False,
                             b_over),
        "blur_width_px": (lambda m: m.blur_width_px, blur_defects, "above", False, b_blur),
    }
    for slot in SCENE_SLOTS:
        rows_slot = [(s, m, bs) for s, m, _, _, bs in rows if not s.kinds and s.slot == slot]
        if len(rows_slot) < MIN_SLOT_CLEAN:
            continue
        for name, (fn, dvals, direction, pf, pooled) in measures.items():
            b_s, f_s = band([fn(m) for _, m, _ in rows_slot], dvals, direction, precision_first=pf)
            looser = b_s.review > pooled.review if direction == "above" else b_s.review < pooled.review
            if looser:
                per_slot.setdefault(slot, {})[name] = b_s
                facts[f"{slot}__{name}"] = f_s
        b_s, f_s = band([glare_area_of(bs, halo_min) for _, _, bs in rows_slot],
                        [glare_area_of(st, halo_min) for st in glare_aug], "above", precision_first=True)
        if b_s.review > b_glare.review:
            per_slot.setdefault(slot, {})["glare_area"] = b_s
            facts[f"{slot}__glare_area"] = f_s
    s_raw["slots"] = per_slot
    s_raw.update(glare_halo_min=round(halo_min, 4), blur_width_px=b_blur, motion_anisotropy=round(motion_t, 4),
                 dark_p95=b_dark,
                 overexposed_clip=b_over, glare_area=b_glare, structure_tiles=b_struct)
    ScenesThresholds.model_validate(json.loads(json.dumps(s_raw, default=lambda b: b.model_dump())))
    # pipes: neat (clean pipeline photos, judged) vs messy
    neat = [t for s, m, t, _, _ in rows if t is not None and not s.kinds]
    messy = [t for s, m, t, _, _ in rows if t is not None and s.kinds == {"messy"}]
    if len(neat) < 5 or len(messy) < 5:
        print("calibrate: too few neat/messy pipeline photos (need ≥ 5 each)", file=sys.stderr)
        return 2
    b_neat, facts["neatness"] = band([t.neatness for t in neat], [t.neatness for t in messy], "below")
    tube_len = float(np.quantile([t.tube_length for t in neat + messy], CLEAN_TAIL))
    p_raw.update(neatness=b_neat, min_luminance_p95=b_dark.review, min_tube_length=round(tube_len / 2, 4))
    facts["pipes_judgeable"] = {"tube_length_tail": round(tube_len, 4), "neat_n": len(neat), "messy_n": len(messy)}
    PipesThresholds.model_validate({k: (v.model_dump() if isinstance(v, Band) else v) for k, v in p_raw.items()})
    today = datetime.now(UTC).date().isoformat()
    data = str(root.relative_to(REPO) if root.is_relative_to(REPO) else root)
    manifest = root / "manifest.json"
    if manifest.exists():
        mf = json.loads(manifest.read_text(encoding="utf-8"))
        n_orders = sum(int(n.get("n_orders", 0)) for n in mf.get("nights", []))
        data += (f" ({mf.get('generator')} v{mf.get('generator_version')}, seed {mf.get('seed')}, {n_orders} orders "
                 f"over {len(mf.get('nights', []))} nights)")
    prov = {"script": "scripts/calibration/scenes.py", "data": data,
            "date": today, "method": "band(): review/violation between the clean and the defect side's tails "
            f"(clean tail {CLEAN_TAIL}, defect tail {DEFECT_TAIL})", "photos": counts,
            "augmented": f"motion blur {AUG_MOTION} of the long side and glare spots {AUG_GLARE_RADIUS} on "
            f"{len(pick)} clean photos (no scene examples of either in the set)", "seed": seed}
    for k, v in facts.items():
        prov[f"fig_{k}"] = {kk: (vv if not isinstance(vv, float) else _sig(vv)) for kk, vv in v.items()}
    write_toml(out_dir / "scenes.toml", SCENES_HEADER, s_raw, SCENES_COMMENTS, prov)
    prov_p = {k: v for k, v in prov.items() if k in ("script", "data", "date", "method", "seed")}
    prov_p |= {"fig_neatness": prov["fig_neatness"], "fig_pipes_judgeable": prov["fig_pipes_judgeable"],
               "min_luminance_p95": "= scenes.toml dark_p95.review (a photo too dark is not judged for tubing)"}
    write_toml(out_dir / "pipes.toml", PIPES_HEADER, p_raw, PIPES_COMMENTS, prov_p)
    print(json.dumps(facts, indent=1), file=sys.stderr)
    return 0


def evaluate(root: Path, out_dir: Path, record: bool = False) -> int:
    """Figures of the current thresholds on a (held-out) set, per defect kind, judged as the inspectors do.

    With ``record`` the figures are also written into both files' ``[provenance]`` as ``heldout_<set>``.
    """
    from wocheck.config import load_config
    from wocheck.inspectors.base import PhotoContext
    from wocheck.inspectors.pipes import judge_tubing
    from wocheck.inspectors.scenes import judge_scene
    from wocheck.policy import verdict_of
    from wocheck.records import Slot

    cfg = load_config()
    sth = ScenesThresholds.model_validate(_load(out_dir / "scenes.toml"))
    pth = PipesThresholds.model_validate(_load(out_dir / "pipes.toml"))
    rows = measure_all(load_set(root), sth, pth)
    flagged: dict[str, list[bool]] = defaultdict(list)
    auto_tp = auto_fp = 0
    neat_review = neat_n = messy_flag = messy_n = 0
    checks_on_clean: dict[str, int] = defaultdict(int)
    for s, m, t, _, _ in rows:
        ctx = PhotoContext(order=None, cfg=cfg, slot=Slot(s.slot), file=str(s.path))
        fs = judge_scene(m, sth, ctx) + (judge_tubing(t, pth, ctx) if t is not None else [])
        verdicts = [verdict_of(f, cfg) for f in fs]
        key = ",".join(sorted(s.kinds)) or "clean"
        flagged[key].append(bool(fs))
        if not s.kinds:
            for f in fs:
                checks_on_clean[f.check] += 1
        for v in verdicts:
            if v == "violation":
                if s.kinds:
                    auto_tp += 1
                else:
                    auto_fp += 1
        if t is not None and not s.kinds:
            neat_n += 1
            neat_review += any(f.check == "pipes.messy" for f in fs)
        if "messy" in s.kinds:
            messy_n += 1
            messy_flag += any(f.check == "pipes.messy" for f in fs)
    print(f"evaluation on {root} ({len(rows)} scene photos)")
    for k in sorted(flagged):
        v = flagged[k]
        label = "flagged (clean: false flags)" if k == "clean" else "flagged recall"
        print(f"  {k:16s} n={len(v):4d}  {label}: {sum(v) / len(v):.3f}")
    if auto_tp + auto_fp:
        print(f"  automatic precision (violations on defect photos): {auto_tp / (auto_tp + auto_fp):.3f} "
              f"({auto_tp} / {auto_tp + auto_fp})")
    if messy_n:
        print(f"  messy pipes flagged (violation or review): {messy_flag / messy_n:.3f} ({messy_flag}/{messy_n})")
    if neat_n:
        print(f"  neat pipes sent to review/flagged as messy: {neat_review / neat_n:.3f} ({neat_review}/{neat_n})")
    if checks_on_clean:
        print(f"  checks on clean photos: {dict(checks_on_clean)}")
    if record:
        figs: dict[str, Any] = {"photos": len(rows)}
        figs |= {f"flagged_{k}": round(sum(v) / len(v), 3) for k, v in sorted(flagged.items())}
        if auto_tp + auto_fp:
            figs["auto_precision"] = round(auto_tp / (auto_tp + auto_fp), 3)
        if messy_n:
            figs["messy_flagged"] = f"{messy_flag}/{messy_n}"
        if neat_n:
            figs["neat_flagged"] = f"{neat_review}/{neat_n}"
        key = "heldout_" + "".join(ch if ch.isalnum() else "_" for ch in root.name)
        for name in ("scenes.toml", "pipes.toml"):
            path = out_dir / name
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith(key + " =")]
            lines.append(f"{key} = {_toml_value(figs)}")
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            tomllib.loads(path.read_text(encoding="utf-8"))
    return 0


SCENES_HEADER = """Scene photo thresholds (src/wocheck/inspectors/scenes.py, model ScenesThresholds).
Written by scripts/calibration/scenes.py from a labelled fixture set: the bands (review, violation) are
calibrated, the measure parameters above them are choices kept from the previous file. px values are at
the analysis scale (long side analysis_side). Edit by rerunning the calibration, not by hand."""
SCENES_COMMENTS = {
    "analysis_side": "px: long side at which every px measure is taken",
    "blur_width_px": "worst direction's sharp-edge width, px at analysis scale; bad above",
    "motion_anisotropy": "widest/narrowest direction width ratio; blur is motion blur at or above",
    "dark_p95": "95th percentile luminance [0, 1]; bad below",
    "overexposed_clip": "fraction of the frame clipped white; bad above",
    "glare_area": "largest saturated blob with a bright halo (glare), fraction of the frame; bad above",
    "glare_halo_min": "mean grey of the ring around a saturated blob that makes it glare",
    "structure_tiles": "fraction of tiles with edges (anything in the frame); bad below",
    "min_short_side_px": "policy, not calibrated: camera originals are ≥ 1080 px on the short side",
    "slots": "per-slot bands where a slot's clean photos reach further than the pooled band (looser only)",
}
PIPES_HEADER = """Pipe-neatness thresholds (src/wocheck/inspectors/pipes.py, model PipesThresholds).
Written by scripts/calibration/scenes.py from a labelled fixture set: neatness, min_tube_length and
min_luminance_p95 are calibrated; the measure parameters are choices kept from the previous file."""
PIPES_COMMENTS = {
    "neatness": "share of tube length along the dominant directions [0, 1]; bad below",
    "min_tube_length": "tube outline length / long side below which the tubing is not judged",
    "min_luminance_p95": "photos darker than this are not judged for tubing (scenes flags them dark)",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fixtures", type=Path, nargs="?", help="labelled fixture set to calibrate on")
    ap.add_argument("--out", type=Path, default=REPO / "models" / "thresholds",
                    help="folder of scenes.toml and pipes.toml (read for the parameters, then rewritten)")
    ap.add_argument("--evaluate", type=Path, help="print figures of the current thresholds on this set instead")
    ap.add_argument("--seed", type=int, default=7, help="seed of the augmentation")
    ap.add_argument("--record", action="store_true", help="with --evaluate: write the figures into the provenance")
    a = ap.parse_args(argv)
    if a.evaluate:
        return evaluate(a.evaluate.resolve(), a.out, a.record)
    if a.fixtures is None:
        ap.error("give a fixture set to calibrate on (or --evaluate SET)")
    return calibrate(a.fixtures.resolve(), a.out, a.seed)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Calibrate the service-form inspector's thresholds (models/thresholds/form.toml) from labelled photos.

Two sources of labelled photos:

- ``--render N --seed S --out DIR``: render N form photos with the fixture factory's form renderer and
  phone camera (scripts/fixturegen: the same defect presets as the committed fixtures), one defect or
  one hard-clean case per photo, with ``labels.jsonl`` beside them. Fast to regenerate at any size.
- ``--labels DIR/labels.jsonl``: a set rendered before (``{"file", "order_type", "label"}`` a line);
- ``--fixtures DIR``: a fixture set made by scripts/make_fixtures.py (orders.jsonl, truth.jsonl, photos/):
  its service-form photos, labelled from the truth (defects ``form.*``, hard cases ``form_*``).

Then every photo is measured once (the inspector's measurements, whatever the thresholds), and each
threshold is set between the defect photos and the clean ones: the value that keeps recall ≥ the target
on the defect kind it decides while flagging the fewest clean photos. ``--write`` writes the TOML with
a ``[provenance]`` table (script, data, date, per-kind figures); ``--evaluate`` only prints recall and
false-flag rates of the current thresholds on the set (use a different seed: held out).

    .venv/bin/python scripts/calibrate.py form -- --render 300 --seed 7 --out /tmp/formcal --write
    .venv/bin/python scripts/calibrate.py form -- --render 200 --seed 11 --out /tmp/formeval --evaluate
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "src"))

from wocheck.config import load_config  # noqa: E402
from wocheck.inspectors.base import PhotoContext  # noqa: E402
from wocheck.inspectors.form import FormThresholds, inspect_form  # noqa: E402
from wocheck.io.images import load_photo  # noqa: E402
from wocheck.records import Order, Slot  # noqa: E402

THRESHOLDS = REPO / "models" / "thresholds" / "form.toml"

DEFECTS = ["out_of_frame", "blur", "motion_blur", "dark", "overexposed", "glare", "field_blank", "no_tick",
           "no_signature", "stain", "torn_corner", "crumpled", "not_a_form"]
CLEAN = ["clean", "upside_down", "mild_fold", "borderline_blur", "low_light", "hand_shadow"]
# which inspector check each defect should raise (the fixture kind -> the check code prefix)
EXPECT = {"out_of_frame": "form.out_of_frame", "blur": "form.illegible", "motion_blur": "form.illegible",
          "dark": "form.illegible", "overexposed": "form.illegible", "glare": "form.illegible",
          "field_blank": "form.field_blank|form.no_signature|form.no_tick", "no_tick": "form.no_tick",
          "no_signature": "form.no_signature", "stain": "form.damaged", "torn_corner": "form.damaged",
          "crumpled": "form.damaged", "not_a_form": "form.not_a_form"}
ORDER_TYPES = ["install", "repair", "maintenance", "filter_change", "relocate"]
ALWAYS = ["order_no", "customer_name", "phone", "model", "address", "machine_code", "engineer", "visit_time",
          "finish_time", "customer_signature"]
BY_TYPE = {"install": ["water_tds"], "relocate": ["water_tds"], "repair": ["fault_symptom", "action_taken"],
           "maintenance": ["action_taken"], "filter_change": ["parts_replaced"]}


# ------------------------------------------------------------------------------------------ rendering


def _fields(rng: np.random.Generator, otype: str) -> dict[str, str]:
    return {
        "order_no": f"WO2026120{int(rng.integers(1000000, 9999999))}", "service_type": otype,
        "customer_name": str(rng.choice(["王女士", "李先生", "张伟", "陈静"])),
        "phone": f"13{int(rng.integers(100000000, 999999999))}", "model": "NVK-RO600",
        "address": "上海市浦东新区张杨路1200弄5号602", "machine_code": "NVK6A2412000731",
        "water_tds": f"{int(rng.integers(40, 420))}" if otype in ("install", "relocate") else "",
        "fault_symptom": "F01 不出水" if otype == "repair" else "",
        "action_taken": "更换进水阀，试机正常" if otype in ("repair", "maintenance") else "",
        "parts_replaced": "PP棉、活性炭" if otype == "filter_change" else "",
        "charge": "" if rng.random() < 0.4 else "120元", "engineer": "张伟", "visit_time": "12-02 10:30",
        "finish_time": "12-02 11:40",
        "satisfaction": str(rng.choice(["very_satisfied", "satisfied", "neutral"])),
    }


def render(n: int, seed: int, out: Path, *, long_side: int = 1600, full_share: float = 0.1,
           kinds: list[str] | None = None) -> Path:
    """Render ``n`` labelled form photos into ``out``; returns the labels file.

    ``kinds``: the labels to cycle through (default: every defect, and every hard-clean case twice).
    """
    from fixturegen import camera
    from fixturegen import form as fform
    from fixturegen.orders import _apply_photo_defect, _clean_shot

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = out / "labels.jsonl"
    kinds = kinds or DEFECTS + CLEAN * 2  # about as many clean photos as defect ones
    regions_mm = {f["key"]: f["box"] for f in fform.load_layout()["fields"]}
    with labels.open("w", encoding="utf-8") as fh:
        for i in range(n):
            label = kinds[i % len(kinds)]
            otype = ORDER_TYPES[int(rng.integers(len(ORDER_TYPES)))]
            ls = 4000 if rng.random() < full_share else long_side
            shot = _clean_shot(rng, (ls, ls * 3 // 4), "desk")
            obj_def: set[str] = set()
            detail: dict[str, Any] = {}
            if label == "not_a_form":
                img = fform.render_non_form(rng)
                from fixturegen.types import FlatObject

                photo, _ = camera.photograph(rng, FlatObject("non_form", img), shot)
            else:
                if label == "out_of_frame":
                    edge = str(rng.choice(["left", "right", "top", "bottom"]))
                    shot.out_of_frame = (edge, float(rng.uniform(0.14, 0.3)))
                elif label in ("blur", "motion_blur", "dark", "overexposed"):
                    detail = _apply_photo_defect(rng, label, shot)
                elif label == "field_blank":
                    need = ALWAYS + BY_TYPE[otype]
                    keys = [str(x) for x in rng.choice(need, int(rng.integers(1, 3)), replace=False)]
                    obj_def |= {f"field_blank:{x}" for x in keys}
                    detail = {"fields": keys}
                elif label in ("no_tick", "no_signature", "stain", "torn_corner", "crumpled"):
                    obj_def.add(label)
                elif label == "upside_down":
                    shot.rotation_deg = 180 + float(rng.normal(0, 4))
                elif label == "mild_fold":
                    obj_def.add("mild_fold")
                elif label == "borderline_blur":  # as the fixture factory's form_borderline_blur: soft but
                    # legible, defocus or a slight shake (scripts/fixturegen/orders.py)
                    if rng.random() < 0.6:
                        shot.defocus = float(rng.uniform(1.6, 2.6))
                        detail = {"defocus_sigma_px_at_1600": round(shot.defocus, 2)}
                    else:
                        shot.motion = (float(rng.uniform(6, 11)), float(rng.uniform(0, 180)))
                        detail = {"motion_px_at_1600": round(shot.motion[0], 1)}
                elif label == "low_light":
                    shot.exposure = float(rng.uniform(0.38, 0.48))
                elif label == "hand_shadow":
                    shot.shadow = float(rng.uniform(0.35, 0.5))
                obj = fform.render_form(rng, _fields(rng, otype), frozenset(obj_def), scale=0.6)
                if label == "glare":
                    k = obj.image.shape[1] / 210.0
                    keys = [str(x) for x in rng.choice(["machine_code", "customer_signature", "order_no",
                                                        "address", "customer_name"], 2, replace=False)]
                    for key in keys:
                        x, y, w, h = regions_mm[key]
                        shot.glare.append((((x + w / 2) * k, (y + h / 2) * k), float(rng.uniform(0.035, 0.06)),
                                           float(rng.uniform(0.8, 1.0))))
                    detail = {"fields": keys}
                photo, _ = camera.photograph(rng, obj, shot)
            name = f"{i:04d}_{label}.jpg"
            camera.write_jpeg(out / name, photo, None, quality=88)
            fh.write(json.dumps({"file": name, "order_type": otype, "label": label, "detail": detail},
                                ensure_ascii=False) + "\n")
    return labels


HARD = {"form_upside_down": "upside_down", "form_mild_fold": "mild_fold", "form_borderline_blur": "borderline_blur",
        "form_low_light_legible": "low_light", "form_hand_shadow": "hand_shadow"}


def from_fixtures(root: Path, out: Path) -> Path:
    """labels.jsonl for the service-form photos of a fixture set (orders.jsonl + truth.jsonl + photos/)."""
    out.mkdir(parents=True, exist_ok=True)
    labels = out / "labels.jsonl"
    truth = {t["order_id"]: t for t in map(json.loads, (root / "truth.jsonl").read_text(encoding="utf-8").splitlines())}
    n = 0
    with labels.open("w", encoding="utf-8") as fh:
        for line in (root / "orders.jsonl").read_text(encoding="utf-8").splitlines():
            try:
                order = json.loads(line)
            except json.JSONDecodeError:
                continue
            t = truth.get(order.get("order_id"), {"defects": [], "hard_cases": []})
            for ph in order.get("photos", []):
                if ph.get("slot") != "service_form":
                    continue
                label, detail = "clean", {}
                for d in t["defects"]:
                    name = d["defect"]
                    if name.startswith("form.") and name not in ("form.missing", "form.uploaded_late") and \
                            d.get("photo") in (None, ph["file"]):
                        label, detail = name.split(".", 1)[1], d.get("detail", {})
                if label == "clean":
                    hard = [HARD[h] for h in t.get("hard_cases", []) if h in HARD]
                    label = hard[0] if hard else "clean"
                path = (root / "photos" / ph["file"]).resolve()
                if not path.is_file():
                    continue
                fh.write(json.dumps({"file": str(path), "order_type": order["order_type"], "label": label,
                                     "detail": detail, "order_id": order["order_id"]}, ensure_ascii=False) + "\n")
                n += 1
    print(f"{n} service-form photos from {root}", file=sys.stderr)
    return labels


# ------------------------------------------------------------------------------------------ measuring


def _order(otype: str) -> Order:
    return Order.model_validate({
        "order_id": "WO1", "order_type": otype, "machine_class": "household", "model": "NVK-RO600",
        "customer": {}, "engineer": {"id": "E1"},
        "times": {"dispatched": "2026-12-02T09:10:00+08:00", "completed": "2026-12-02T15:20:00+08:00",
                  "closed": "2026-12-02T15:41:00+08:00"}})


def measure(labels: Path) -> list[dict[str, Any]]:
    cfg = load_config()
    rows = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        photo = load_photo(labels.parent / rec["file"])
        ctx = PhotoContext(order=_order(rec["order_type"]), cfg=cfg, slot=Slot.service_form, file=rec["file"])
        t0 = time.perf_counter()
        out = inspect_form(photo, ctx)
        rec["ms"] = (time.perf_counter() - t0) * 1000
        rec["m"] = out.measurements
        rec["checks"] = [f.check for f in out.findings]
        rec["certain"] = [f.certain for f in out.findings]
        rows.append(rec)
    return rows


def _hit(rec: dict[str, Any], kind: str) -> bool:
    return any(c.startswith(p) for c in rec["checks"] for p in EXPECT[kind].split("|"))


def report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall per defect kind, false flags on clean photos, automatic precision (certain findings)."""
    per: dict[str, Any] = {}
    for kind in DEFECTS:
        rs = [r for r in rows if r["label"] == kind]
        if rs:
            per[kind] = {"n": len(rs), "recall": round(sum(_hit(r, kind) for r in rs) / len(rs), 3)}
    clean = [r for r in rows if r["label"] in CLEAN]
    flagged = [r for r in clean if r["checks"]]
    by_clean = Counter(r["label"] for r in flagged)
    # automatic precision: certain findings on defect photos that match the defect / all certain findings
    auto_ok = auto_all = 0
    for r in rows:
        for c, cert in zip(r["checks"], r["certain"], strict=True):
            if not cert:
                continue
            auto_all += 1
            if r["label"] in DEFECTS and any(c.startswith(p) for p in EXPECT[r["label"]].split("|")):
                auto_ok += 1
    ms = sorted(r["ms"] for r in rows)
    return {"per_kind": per, "clean_n": len(clean),
            "clean_flagged": round(len(flagged) / max(1, len(clean)), 3), "clean_flagged_by_kind": dict(by_clean),
            "clean_flagged_checks": dict(Counter(c for r in flagged for c in r["checks"])),
            "automatic_precision": round(auto_ok / max(1, auto_all), 3), "automatic_n": auto_all,
            "median_ms": round(ms[len(ms) // 2], 1) if ms else None}


# -------------------------------------------------------------------------------------------- fitting


def _split(pos: list[float], neg: list[float], *, low_is_defect: bool, recall: float, at: float = 0.5,
           ratio_scale: bool = False) -> float | None:
    """A threshold between defect values ``pos`` and clean values ``neg``: at ``at`` of the margin from the
    defects' side (0.5 = the midpoint), or just past the defects when the two overlap. ``ratio_scale``: the
    margin measured on a log scale (for ratio measures such as sharpness: 0.5 = the geometric mean)."""
    if not pos or not neg:
        return None
    p = np.asarray(pos, float)
    n = np.asarray(neg, float)
    if low_is_defect:
        hi_pos = float(np.quantile(p, recall))  # recall of the defects lie at or below this
        lo_neg = float(np.quantile(n, 0.01))
        if lo_neg > hi_pos and ratio_scale and hi_pos > 0:
            return float(hi_pos * (lo_neg / hi_pos) ** at)
        return hi_pos + at * (lo_neg - hi_pos) if lo_neg > hi_pos else hi_pos * 1.0001
    lo_pos = float(np.quantile(p, 1 - recall))
    hi_neg = float(np.quantile(n, 0.99))
    return lo_pos - at * (lo_pos - hi_neg) if lo_pos > hi_neg else lo_pos * 0.9999


def fit(rows: list[dict[str, Any]], current: FormThresholds, recall: float) -> tuple[dict[str, float], dict[str, Any]]:
    """New threshold values from the measured rows (only those the data decides)."""
    located = [r for r in rows if r["m"].get("method") in ("markers", "outline")]
    clean = [r for r in located if r["label"] in CLEAN]
    new: dict[str, float] = {}
    notes: dict[str, Any] = {}

    def vals(kinds: list[str], key: str, src: list[dict[str, Any]] | None = None) -> list[float]:
        return [float(r["m"][key]) for r in (src or located) if r["label"] in kinds and r["m"].get(key) is not None]

    blur_pos = vals(["blur", "motion_blur"], "sharpness")
    t = _split(blur_pos, vals(CLEAN, "sharpness"), low_is_defect=True, recall=recall, ratio_scale=True)
    if t is not None:
        new["sharpness_min"] = round(t, 4)
        new["sharpness_certain"] = round(t * 0.6, 4)
    dark_pos = vals(["dark"], "paper_level")
    t = _split(dark_pos, vals(CLEAN, "paper_level"), low_is_defect=True, recall=recall)
    if t is not None:
        new["paper_level_min"] = round(t, 1)
        new["paper_level_certain"] = round(t * 0.75, 1)
    # contrast (overexposure) and stain areas are not fitted: overexposed forms are mostly not even located,
    # and a stain's area says little about whether it is one (the ring and tint tests decide)
    t = _split(vals(["crumpled"], "crease_fraction"), vals(CLEAN + ["stain", "torn_corner"], "crease_fraction"),
               low_is_defect=False, recall=recall)
    if t is not None:
        new["crease_fraction_max"] = round(t, 4)
    torn_pos = [max(r["m"].get("torn_fractions", {}).values() or [0]) for r in located if r["label"] == "torn_corner"]
    torn_neg = [max(r["m"].get("torn_fractions", {}).values() or [0]) for r in clean]
    t = _split(torn_pos, torn_neg, low_is_defect=False, recall=recall)
    if t is not None:
        new["torn_min_fraction"] = round(t, 4)
    # blank fields: the ink of blank required fields vs filled ones, per kind of field
    blank_ink: dict[str, list[float]] = defaultdict(list)
    filled_ink: dict[str, list[float]] = defaultdict(list)
    for r in located:
        if r["label"] not in CLEAN + ["field_blank", "no_signature", "no_tick"]:
            continue
        blank_keys = set(r.get("detail", {}).get("fields", []))
        if r["label"] == "no_signature":
            blank_keys.add("customer_signature")
        if r["label"] == "no_tick":
            blank_keys.add("service_type")
        for key, f in r["m"].get("fields", {}).items():
            if not f.get("in_frame", True) or f.get("hidden_by_glare"):
                continue
            kind = "signature" if key == "customer_signature" else (
                "choice" if key in ("service_type", "satisfaction") else "text")
            if key in blank_keys:
                blank_ink[kind].append(f["ink_ratio"])
            elif f["required"]:
                filled_ink[kind].append(f["ink_ratio"])
    for kind, name in (("text", "text_ink_min"), ("signature", "signature_ink_min"), ("choice", "tick_ink_min")):
        # a third of the way from blank to filled: a light hand or a faint pen must not read as blank
        t = _split(blank_ink[kind], filled_ink[kind], low_is_defect=True, recall=recall, at=1 / 3)
        if t is not None:
            new[name] = round(max(t, 1e-4), 5)
        notes[f"{kind}_ink"] = {"blank_max": round(max(blank_ink[kind], default=0), 5),
                                "filled_p01": round(float(np.quantile(filled_ink[kind], 0.01)), 5)
                                if filled_ink[kind] else None}
    return new, notes


def _toml(v: Any) -> str:
    """A TOML value (inline tables and arrays for nested data)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(str(v))


def write_toml(values: dict[str, Any], provenance: dict[str, Any]) -> None:
    lines = ["# Service-form inspector thresholds (src/wocheck/inspectors/form.py: FormThresholds has units and",
             "# bounds). Written by scripts/calibration/form.py; see [provenance].", ""]
    for k, v in values.items():
        lines.append(f"{k} = {_toml(v)}")
    lines += ["", "[provenance]"]
    for k, v in provenance.items():
        lines.append(f"{k} = {_toml(v)}")
    THRESHOLDS.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render", type=int, metavar="N", help="render N labelled photos first")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kinds", help="with --render: comma-separated labels to cycle through (e.g. stain,clean)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/wocheck-formcal"))
    ap.add_argument("--labels", type=Path, help="labels.jsonl of a set rendered before")
    ap.add_argument("--fixtures", type=Path, help="a fixture set (orders.jsonl, truth.jsonl, photos/)")
    ap.add_argument("--recall", type=float, default=0.97, help="recall to keep per defect kind")
    ap.add_argument("--write", action="store_true", help="write models/thresholds/form.toml")
    ap.add_argument("--evaluate", action="store_true", help="only report the current thresholds' figures")
    ap.add_argument("--dump", type=Path, help="write the measured rows (JSON Lines) here")
    ap.add_argument("--rows", type=Path, help="fit from rows dumped before (no measuring)")
    a = ap.parse_args(argv)
    if a.fixtures:
        labels = from_fixtures(a.fixtures, a.out)
    elif a.render:
        kinds = a.kinds.split(",") if a.kinds else None
        unknown = sorted(set(kinds or []) - set(DEFECTS + CLEAN))
        if unknown:
            ap.error(f"unknown kinds {unknown}; known: {DEFECTS + CLEAN}")
        labels = render(a.render, a.seed, a.out, kinds=kinds)
    else:
        labels = a.labels or a.out / "labels.jsonl"
    rows = [json.loads(x) for x in a.rows.read_text(encoding="utf-8").splitlines()] if a.rows else measure(labels)
    if a.dump:
        a.dump.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    before = report(rows)
    print(json.dumps({"current": before}, ensure_ascii=False, indent=1))
    if a.evaluate:
        return 0
    raw = tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))
    raw.pop("provenance", None)
    current = FormThresholds.model_validate(raw)
    new, notes = fit(rows, current, a.recall)
    print(json.dumps({"fitted": new, "notes": notes}, ensure_ascii=False, indent=1))
    if a.write:
        values = {**current.model_dump(), **new}
        FormThresholds.model_validate(values)
        write_toml(values, {"script": "scripts/calibration/form.py", "data": f"{labels} ({len(rows)} photos)",
                            "seed": a.seed, "recall_target": a.recall, "date": date.today().isoformat(),
                            "fitted": sorted(new), "before": before["per_kind"],
                            "clean_flagged_before": before["clean_flagged"]})
        print(f"wrote {THRESHOLDS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

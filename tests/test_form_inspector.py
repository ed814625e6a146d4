"""The service-form inspector on synthetic photos (the print master, filled in and photographed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from _form_synth import Spec, write
from conftest import order_dict
from wocheck.config import Config
from wocheck.errors import ConfigError
from wocheck.inspectors.base import InspectorOutput, PhotoContext
from wocheck.inspectors.form import FormThresholds, inspect_form
from wocheck.inspectors.formlayout import layout_for, load_layout
from wocheck.io.images import load_photo
from wocheck.records import Order, Slot

CASES: dict[str, Spec] = {
    "clean": Spec(seed=1),
    "upside_down": Spec(rotation=181, seed=2),
    "low_light": Spec(gain=0.45, seed=3),
    "shadow": Spec(shadow=0.45, seed=4),
    "blank": Spec(blank={"phone", "customer_signature", "fault_symptom"}, seed=5),
    "no_tick": Spec(blank={"service_type"}, seed=6),
    "blur": Spec(blur=6, seed=7),
    "dark": Spec(gain=0.08, seed=8),
    "out_of_frame": Spec(shift=(0.3, 0), seed=9),
    "glare": Spec(glare=(60, 57, 14), seed=10),
    "torn": Spec(torn="bottom_right", seed=11),
    "stain": Spec(stain=(30, 70, 9), seed=12),
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("forms")
    out = {name: write(spec, d / f"{name}.jpg") for name, spec in CASES.items()}
    rng = np.random.default_rng(0)
    scene = np.full((1200, 1600, 3), (120, 140, 150), np.uint8)  # a sharp photo of a machine, not a form
    for _ in range(60):
        x, y = int(rng.integers(0, 1500)), int(rng.integers(0, 1100))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(scene, (x, y), (x + int(rng.integers(20, 300)), y + int(rng.integers(20, 200))), color, -1)
    scene = np.clip(scene + rng.normal(0, 3, scene.shape), 0, 255).astype(np.uint8)
    cv2.imwrite(str(d / "not_a_form.jpg"), scene)
    out["not_a_form"] = d / "not_a_form.jpg"
    return out


_RUNS: dict[tuple[str, str | None], InspectorOutput] = {}


def run(photos: dict[str, Path], cfg: Config, name: str, order_type: str | None = None) -> InspectorOutput:
    key = (name, order_type)
    if key not in _RUNS:
        order = Order.model_validate(order_dict(order_type=order_type)) if order_type else None
        ctx = PhotoContext(order=order, cfg=cfg, slot=Slot.service_form, file=f"{name}.jpg")
        _RUNS[key] = inspect_form(load_photo(photos[name]), ctx)
    return _RUNS[key]


def checks(out: InspectorOutput) -> list[str]:
    return [f.check for f in out.findings]


@pytest.mark.parametrize("name", ["clean", "upside_down", "low_light", "shadow"])
def test_clean_forms_pass(photos: dict[str, Path], cfg: Config, name: str) -> None:
    out = run(photos, cfg, name)
    assert out.measurements["method"] == "markers"
    assert out.measurements["in_frame"] == pytest.approx(1.0)
    assert checks(out) == [], [(f.check, f.evidence) for f in out.findings]


def test_upside_down_rotation_from_marker_ids(photos: dict[str, Path], cfg: Config) -> None:
    up = run(photos, cfg, "clean").measurements["rotation_deg"]
    down = run(photos, cfg, "upside_down").measurements["rotation_deg"]
    assert abs(up) < 15
    assert abs(abs(down) - 180) < 15


def test_blank_fields_named(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "blank")
    blank = {f.evidence["field"]: f for f in out.findings if f.check in ("form.field_blank", "form.no_signature")}
    assert set(blank) == {"phone", "customer_signature"}  # fault_symptom is not required without an order
    assert blank["customer_signature"].check == "form.no_signature"
    for f in blank.values():
        assert f.evidence["ink_ratio"] < f.evidence["threshold"]
        x, y, w, h = f.evidence["box_px"]
        assert 0 <= x and 0 <= y and x + w <= 1600 and y + h <= 1200 and w > 50 and h > 20


def test_order_type_decides_required_fields(photos: dict[str, Path], cfg: Config) -> None:
    repair = run(photos, cfg, "blank", "repair")
    install = run(photos, cfg, "blank", "install")
    fields = lambda out: {f.evidence.get("field") for f in out.findings}  # noqa: E731
    assert "fault_symptom" in fields(repair)
    assert "fault_symptom" not in fields(install)


def test_no_tick(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "no_tick")
    assert checks(out) == ["form.no_tick"]
    assert out.findings[0].evidence["field"] == "service_type"
    assert out.measurements["fields"]["satisfaction"]["ticked"]


def test_blur_is_illegible(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "blur")
    f = next(f for f in out.findings if f.check == "form.illegible")
    assert f.evidence["cause"] == "blur"
    assert f.evidence["sharpness"] < f.evidence["threshold_sharpness"]
    assert "customer_signature" in f.evidence["fields_hidden"]
    assert out.measurements["sharpness"] < run(photos, cfg, "clean").measurements["sharpness"]
    assert "form.field_blank" not in checks(out)  # an unreadable form is not judged field by field


def test_dark_is_illegible(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "dark")
    f = next(f for f in out.findings if f.check == "form.illegible")
    assert f.evidence["cause"] == "dark"


def test_out_of_frame_names_the_cut_side(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "out_of_frame")
    f = next(f for f in out.findings if f.check == "form.out_of_frame")
    assert f.evidence["in_frame"] < 0.95
    assert set(f.evidence["corners_out"]) == {"top_right", "bottom_right"}
    assert "right" in f.evidence["edges_cut"]


def test_glare_hides_fields(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "glare")
    f = next(f for f in out.findings if f.check == "form.illegible")
    assert f.evidence["cause"] == "glare"
    assert "machine_code" in f.evidence["fields_hidden"]
    assert len(f.evidence["boxes_px"]) == len(f.evidence["fields_hidden"])


def test_torn_corner(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "torn")
    f = next(f for f in out.findings if f.check.startswith("form.damaged"))
    assert "bottom_right" in f.evidence["torn_corners"]


def test_stain(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "stain")
    f = next(f for f in out.findings if f.check.startswith("form.damaged"))
    assert "stain" in f.evidence["kinds"] and f.evidence["stain_boxes_px"]


def test_not_a_form_is_clause_50(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "not_a_form")
    assert checks(out) == ["form.not_a_form"]
    from wocheck.policy import clause_of

    assert clause_of(out.findings[0], cfg) == 50


def test_annotations_in_full_size_pixels(photos: dict[str, Path], cfg: Config) -> None:
    out = run(photos, cfg, "blank")
    kinds = {a.label for a in out.annotations}
    assert {"aruco 0", "aruco 3", "page", "customer_signature"} <= kinds
    for a in out.annotations:
        pts = np.array(a.points)
        assert pts.shape[1] == 2 and (pts >= -5).all() and (pts[:, 0] <= 1605).all() and (pts[:, 1] <= 1205).all()
    sig = next(a for a in out.annotations if a.label == "customer_signature")
    assert sig.ok is False
    fields_ok = [a for a in out.annotations if a.kind == "polygon" and a.ok and not a.label]
    assert len(fields_ok) >= 10  # the filled fields: green, unlabelled (the red ones carry their key)


def test_thresholds_file_valid(cfg: Config) -> None:
    th = cfg.thresholds("form", FormThresholds)
    assert th.sharpness_certain <= th.sharpness_min
    assert th.paper_level_certain <= th.paper_level_min


def test_layout_is_data(tmp_path: Path, cfg: Config) -> None:
    base = cfg.form_layout_path()
    raw = json.loads(base.read_text(encoding="utf-8"))
    raw["version"] = 2
    raw["fields"] = [f for f in raw["fields"] if f["key"] != "phone"]
    for f in raw["fields"]:
        if f["key"] == "charge":
            f["required"] = ["install"]
    p = tmp_path / "v2.json"
    p.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    lay = load_layout(p)
    assert lay.version == 2 and lay.master_path is None
    from wocheck.records import OrderType

    keys = {f.key for f in lay.required_fields(OrderType.install)}
    assert "charge" in keys and "phone" not in keys
    assert "charge" not in {f.key for f in lay.required_fields(None)}
    assert layout_for(cfg).master_path is not None
    raw["fields"].append(dict(raw["fields"][0]))
    p.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    load_layout.cache_clear()
    with pytest.raises(ConfigError):
        load_layout(p)


def test_inspect_command(photos: dict[str, Path]) -> None:
    from wocheck.cli import app

    res = CliRunner().invoke(app, ["inspect", str(photos["no_tick"]), "--slot", "service_form", "--format", "json"])
    doc: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[0])
    assert [f["check"] for f in doc["findings"]] == ["form.no_tick"]
    assert doc["findings"][0]["clause"] == 45
    assert doc["measurements"]["form"]["fields"]["service_type"]["ticked"] == []
    assert res.exit_code == 1


@pytest.mark.slow
def test_ocr_second_signal_reads_sharp_labels_only(photos: dict[str, Path], cfg: Config) -> None:
    from wocheck.engines.tesseract import available_languages
    from wocheck.inspectors.form import form_images, locate_form, ocr_labels, rectify

    th = cfg.thresholds("form", FormThresholds)
    if th.ocr_lang not in available_languages():
        pytest.skip(f"tesseract {th.ocr_lang} is not installed")
    lay = layout_for(cfg)
    got = {}
    for name in ("clean", "blur"):
        imgs = form_images(load_photo(photos[name]), th)
        loc = locate_form(imgs, lay, th)
        got[name] = ocr_labels(rectify(imgs, loc, lay, th), lay, th)
    assert got["clean"]["tried"] == len(th.ocr_label_keys)
    assert got["clean"]["read"] >= 2 > got["blur"]["read"]


def _stages(path: Path, cfg: Config) -> tuple[Any, ...]:
    from wocheck.inspectors import form as fm
    th = cfg.thresholds("form", FormThresholds)
    layout = layout_for(cfg)
    imgs = fm.form_images(load_photo(path), th)
    loc = fm.locate_form(imgs, layout, th)
    return th, layout, loc, fm.rectify(imgs, loc, layout, th)


def test_a_decoded_marker_vouches_for_its_corner(photos: dict[str, Path], cfg: Config) -> None:
    """A torn corner takes its marker with it: when that marker IS decoded, the corner is not torn."""
    import dataclasses

    from wocheck.inspectors.form import MarkerHit, damage
    th, layout, loc, rect = _stages(photos["torn"], cfg)
    torn_id = layout.markers.ids["bottom_right"]
    assert torn_id not in {h.marker_id for h in loc.markers}
    assert "bottom_right" in damage(rect, layout, loc, th).torn
    # the same page, with the corner's marker reported decoded (at any position: only its id counts)
    hit = MarkerHit(torn_id, np.zeros((4, 2)))
    vouched = dataclasses.replace(loc, markers=(*loc.markers, hit))
    assert "bottom_right" not in damage(rect, layout, vouched, th).torn


def test_light_pen_is_writing_and_a_blank_field_stays_certain(tmp_path: Path, cfg: Config) -> None:
    """Writing lighter than the ink darkness is not seen as ink, but the fainter second look (above the
    paper's noise) sees it: the field is filled. A truly blank field stays blank, its verdict certain."""
    from wocheck.inspectors import form as fm
    th = cfg.thresholds("form", FormThresholds)
    path = write(Spec(blank={"phone"}, seed=21), tmp_path / "f.jpg")
    layout = layout_for(cfg)
    imgs = fm.form_images(load_photo(path), th)
    loc = fm.locate_form(imgs, layout, th)
    rect = fm.rectify(imgs, loc, layout, th)
    spec = {f.key: f for f in layout.fields}
    # lighten the engineer's writing to between the ink darkness and the faint one
    x0, y0, x1, y1 = fm._mm_to_px(spec["engineer"].box, rect.px_per_mm, th.field_inset_mm)
    sub = rect.norm[y0:y1, x0:x1]
    pen = (sub < th.ink_darker_than) & ~rect.print_mask[y0:y1, x0:x1]
    assert pen.mean() > th.text_ink_min, "the synthetic form must have writing in the engineer box"
    faint = min(th.faint_ink_darker_than, 1.0 - th.stain_noise_sigmas * rect.paper_noise)
    assert faint > th.ink_darker_than, "the synthetic paper must be clean enough for a faint look"
    sub[pen] = (th.ink_darker_than + faint) / 2
    res = {r.key: r for r in fm.completeness(rect, layout, None, th)}
    assert res["engineer"].ink_ratio < th.text_ink_min <= res["engineer"].faint_ratio
    assert res["engineer"].filled
    assert not res["phone"].filled and res["phone"].ink_ratio == 0.0
    c = fm._Ctx(load_photo(path), PhotoContext(order=None, cfg=cfg, slot=Slot.service_form, file="f.jpg"), loc)
    assert fm._blank_finding(c, spec["phone"], res["phone"], th).certain
    # on a noisy page the faint look keeps above the noise: the same writing no longer counts
    rect.paper_noise = (1.0 - (th.ink_darker_than + faint) / 2) / th.stain_noise_sigmas * 1.5
    res = {r.key: r for r in fm.completeness(rect, layout, None, th)}
    assert not res["engineer"].filled


def test_damage_on_a_borderline_blurred_page_is_review(tmp_path: Path, cfg: Config) -> None:
    """Blur smears print past the master's outline, where it can pass for stains: on a page in the
    borderline-blur band (legible, but below ocr_band × sharpness_min, or its print smeared by more than
    damage_certain_max_blur_mm) damage is reviewed, never fined."""
    th = cfg.thresholds("form", FormThresholds)
    path = write(Spec(stain=(30, 70, 9), blur=2.5, seed=12), tmp_path / "blurred_stain.jpg")
    ctx = PhotoContext(order=None, cfg=cfg, slot=Slot.service_form, file="blurred_stain.jpg")
    out = inspect_form(load_photo(path), ctx)
    sharp = out.measurements["sharpness"]
    smear_mm = out.measurements["blur_px"] / out.measurements["px_per_mm"]
    assert th.sharpness_min <= sharp, "the page must be legible"
    assert sharp < th.ocr_band * th.sharpness_min or smear_mm > th.damage_certain_max_blur_mm, \
        "the page must be in the borderline band"
    dmg = [f for f in out.findings if f.check.startswith("form.damaged")]
    assert dmg and not any(f.certain for f in dmg)
    assert "form.illegible" not in checks(out)

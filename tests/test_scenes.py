"""The scene inspector (clauses 46-48): clarity and recognisability findings on synthetic photos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from _scene_synth import degrade, scene, write_jpeg
from wocheck.cli import app
from wocheck.config import Config
from wocheck.inspectors.bands import Band
from wocheck.inspectors.base import PhotoContext
from wocheck.inspectors.scenes import ScenesThresholds, inspect_scene, measure_scene
from wocheck.io.images import load_photo
from wocheck.pipeline.registry import photo_inspectors
from wocheck.policy import clause_of, verdict_of
from wocheck.records import Slot

SCENE_SLOTS = [Slot.pipeline_45, Slot.install_env, Slot.machine_running, Slot.machine_overall, Slot.fault_part]


@pytest.fixture(scope="module")
def base() -> np.ndarray:
    return scene(3)


def run(tmp_path: Path, img: np.ndarray, cfg: Config, slot: Slot = Slot.install_env, name: str = "p.jpg"):
    path = write_jpeg(tmp_path / name, img)
    photo = load_photo(path)
    return inspect_scene(photo, PhotoContext(order=None, cfg=cfg, slot=slot, file=name))


def checks(out) -> set[str]:  # noqa: ANN001
    return {f.check for f in out.findings}


def test_clean_scene_has_no_findings(tmp_path: Path, base: np.ndarray, cfg: Config) -> None:
    out = run(tmp_path, base, cfg)
    assert out.findings == ()
    assert out.measurements["blur_width_px"] < 3.0


@pytest.mark.parametrize(("kind", "expected"), [
    ("blur", {"scene.blur"}), ("motion", {"scene.motion_blur"}), ("dark", {"scene.dark"}),
    ("overexposed", {"scene.overexposed"}), ("blank", {"scene.unrecognisable"}),
    ("covered", {"scene.unrecognisable", "scene.dark"}),
])
def test_each_defect_is_found_with_its_measure(tmp_path: Path, base: np.ndarray, cfg: Config, kind: str,
                                               expected: set[str]) -> None:
    out = run(tmp_path, degrade(base, kind), cfg)
    assert expected <= checks(out), out.measurements
    for f in out.findings:
        ev = f.evidence
        assert {"value", "threshold", "measure", "bad_when"} <= set(ev)
        worse = ev["value"] > ev["threshold"] if ev["bad_when"] == "above" else ev["value"] < ev["threshold"]
        assert worse
        assert f.message_zh and f.message_en and f.hint_zh and f.hint_en
    if kind == "motion":
        f = next(f for f in out.findings if f.check == "scene.motion_blur")
        assert f.evidence["motion_direction_deg"] is not None


def test_blur_is_graded_review_then_violation(tmp_path: Path, base: np.ndarray, cfg: Config) -> None:
    th = cfg.thresholds("scenes", ScenesThresholds)
    widths = []
    for amount in (0.0, 0.3, 0.6, 1.0, 1.4):
        img = degrade(base, "blur", amount=amount) if amount else base
        g = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (1000, 750), interpolation=cv2.INTER_AREA)
        widths.append(measure_scene(g, 1600, 1200, th).blur_width_px)
    assert widths == sorted(widths)
    heavy = run(tmp_path, degrade(base, "blur", amount=1.4), cfg)
    f = next(f for f in heavy.findings if f.check == "scene.blur")
    assert f.certain and verdict_of(f, cfg) == "violation" and f.confidence >= 0.9


def test_sharp_subject_on_soft_background_is_not_blurred(tmp_path: Path, base: np.ndarray, cfg: Config) -> None:
    img = degrade(base, "blur", amount=1.0)
    h, w = img.shape[:2]
    img[h // 3: 2 * h // 3, w // 3: 2 * w // 3] = base[h // 3: 2 * h // 3, w // 3: 2 * w // 3]
    assert not checks(run(tmp_path, img, cfg)) & {"scene.blur", "scene.motion_blur"}


def test_measures_do_not_depend_on_resolution(tmp_path: Path, cfg: Config) -> None:
    th = cfg.thresholds("scenes", ScenesThresholds)
    big, small = scene(5, (3200, 2400)), scene(5, (1600, 1200))
    mb = measure_scene(cv2.cvtColor(big, cv2.COLOR_BGR2GRAY), 3200, 2400, th)
    ms = measure_scene(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), 1600, 1200, th)
    assert mb.blur_width_px == pytest.approx(ms.blur_width_px, rel=0.2)
    assert mb.luminance_p95 == pytest.approx(ms.luminance_p95, abs=0.02)
    assert mb.structure_tiles == pytest.approx(ms.structure_tiles, abs=0.15)


def test_low_resolution(tmp_path: Path, base: np.ndarray, cfg: Config) -> None:
    tiny = cv2.resize(base, (400, 300), interpolation=cv2.INTER_AREA)
    out = run(tmp_path, tiny, cfg)
    f = next(f for f in out.findings if f.check == "scene.low_resolution")
    assert f.evidence["value"] == 300 and f.certain


def test_glare_is_reported_with_its_box(tmp_path: Path, base: np.ndarray, cfg: Config) -> None:
    th = cfg.thresholds("scenes", ScenesThresholds)
    areas = []
    for amount in (1.0, 1.5, 2.0):  # a highlight growing over the frame
        g = cv2.resize(cv2.cvtColor(degrade(base, "glare", amount=amount), cv2.COLOR_BGR2GRAY), (1000, 750),
                       interpolation=cv2.INTER_AREA)
        areas.append(measure_scene(g, 1600, 1200, th).glare_area)
    assert areas == sorted(areas) and areas[0] > 0
    out = run(tmp_path, degrade(base, "glare", amount=2.0), cfg)
    f = next(f for f in out.findings if f.check == "scene.glare")
    x, y, w, h = f.evidence["box_px"]
    assert x < 0.6 * 1600 < x + w and y < 0.4 * 1200 < y + h  # around the highlight's centre
    assert verdict_of(f, cfg) == "review"


@pytest.mark.parametrize("slot", SCENE_SLOTS)
def test_clause_follows_the_slot(tmp_path: Path, base: np.ndarray, cfg: Config, slot: Slot) -> None:
    out = run(tmp_path, degrade(base, "dark"), cfg, slot=slot)
    f = next(f for f in out.findings if f.check == "scene.dark")
    assert f.slot == slot and clause_of(f, cfg) == cfg.slots[slot].clause
    assert clause_of(f, cfg) == {Slot.pipeline_45: 46, Slot.install_env: 47, Slot.machine_running: 47,
                                 Slot.machine_overall: 48, Slot.fault_part: 48}[slot]


def test_band_levels_and_confidence() -> None:
    b = Band(review=3.0, violation=4.0, direction="above")
    assert [b.level(v) for v in (2.0, 3.5, 5.0)] == [None, "review", "violation"]
    assert b.confidence(3.0) == pytest.approx(0.5) and b.confidence(4.0) == pytest.approx(0.9)
    assert b.confidence(3.5) < b.confidence(4.5) <= 0.99
    lo = Band(review=0.3, violation=0.2, direction="below")
    assert [lo.level(v) for v in (0.5, 0.25, 0.1)] == [None, "review", "violation"]
    with pytest.raises(ValueError):
        Band(review=4.0, violation=3.0, direction="above")


def test_thresholds_file_has_provenance_and_validates(cfg: Config) -> None:
    import tomllib

    raw = tomllib.loads((cfg.models_root / "thresholds" / "scenes.toml").read_text(encoding="utf-8"))
    assert "script" in raw["provenance"]
    th = cfg.thresholds("scenes", ScenesThresholds)
    assert th.blur_width_px.direction == "above" and th.dark_p95.direction == "below"


def test_registered_for_every_scene_slot() -> None:
    for slot in SCENE_SLOTS:
        assert "scenes" in [name for name, _ in photo_inspectors(slot)]
    assert "pipes" in [name for name, _ in photo_inspectors(Slot.pipeline_45)]


def test_cli_inspect_reports_findings_and_measurements(tmp_path: Path, base: np.ndarray) -> None:
    path = write_jpeg(tmp_path / "dark.jpg", degrade(base, "dark"))
    res = CliRunner().invoke(app, ["inspect", str(path), "--slot", "machine_running", "--format", "json"])
    assert res.exit_code == 1, res.output
    d = json.loads(res.stdout)
    dark = next(f for f in d["findings"] if f["check"] == "scene.dark")
    assert dark["clause"] == 47 and dark["verdict"] == "violation"
    assert "luminance_p95" in d["measurements"]["scenes"]
    ok = write_jpeg(tmp_path / "ok.jpg", base)
    res = CliRunner().invoke(app, ["inspect", str(ok), "--slot", "fault_part", "--format", "json"])
    assert res.exit_code == 0, res.output


def test_extra_photo_the_order_does_not_require_goes_to_review(tmp_path: Path, base: np.ndarray,
                                                               cfg: Config) -> None:
    from conftest import order_dict
    from wocheck.records import Order

    path = write_jpeg(tmp_path / "env.jpg", degrade(base, "dark"))
    photo = load_photo(path)
    repair = Order.model_validate(order_dict(order_type="repair", fault_symptom="F01"))
    install = Order.model_validate(order_dict(order_type="install"))
    extra = inspect_scene(photo, PhotoContext(order=repair, cfg=cfg, slot=Slot.install_env, file="env.jpg"))
    needed = inspect_scene(photo, PhotoContext(order=install, cfg=cfg, slot=Slot.install_env, file="env.jpg"))
    f_extra = next(f for f in extra.findings if f.check == "scene.dark")
    f_needed = next(f for f in needed.findings if f.check == "scene.dark")
    assert verdict_of(f_extra, cfg) == "review" and f_extra.evidence["slot_required"] is False
    assert verdict_of(f_needed, cfg) == "violation"

"""The pipe-neatness inspector (clause 46, 横平竖直) on synthetic 45° pipeline photos."""

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
from wocheck.inspectors.base import PhotoContext
from wocheck.inspectors.pipes import PipesThresholds, analyse_tubing, inspect_pipes, neatness_of
from wocheck.io.images import load_photo
from wocheck.policy import clause_of, verdict_of
from wocheck.records import Slot


@pytest.fixture(scope="module")
def th(cfg: Config) -> PipesThresholds:
    return cfg.thresholds("pipes", PipesThresholds)


def run(tmp_path: Path, img: np.ndarray, cfg: Config, name: str = "pipes.jpg"):
    photo = load_photo(write_jpeg(tmp_path / name, img))
    return inspect_pipes(photo, PhotoContext(order=None, cfg=cfg, slot=Slot.pipeline_45, file=name))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_straight_grid_is_neater_than_the_same_tubes_in_loops(seed: int, th: PipesThresholds) -> None:
    neat = neatness_of(scene(seed, pipes="neat"), th)
    messy = neatness_of(scene(seed, pipes="messy"), th)
    assert neat > messy
    assert neat >= th.neatness.review  # square runs pass
    assert messy < th.neatness.review  # loops do not


def test_neatness_is_resolution_independent(th: PipesThresholds) -> None:
    a = neatness_of(scene(4, (1600, 1200), pipes="neat"), th)
    b = neatness_of(scene(4, (3200, 2400), pipes="neat"), th)
    c = neatness_of(scene(4, (3200, 2400), pipes="messy"), th)
    assert a == pytest.approx(b, abs=0.05)
    assert c < th.neatness.review


def test_messy_tubing_is_flagged_with_evidence_and_red_runs(tmp_path: Path, cfg: Config) -> None:
    out = run(tmp_path, scene(5, pipes="messy"), cfg)
    f = next(f for f in out.findings if f.check == "pipes.messy")
    assert clause_of(f, cfg) == 46
    assert verdict_of(f, cfg) in ("violation", "review")
    assert f.evidence["value"] < f.evidence["review_threshold"]
    assert f.evidence["directions_deg"] and f.hint_zh and f.message_en
    red = [a for a in out.annotations if a.kind == "polyline" and not a.ok]
    assert red
    for a in out.annotations:  # full-size px inside the photo
        assert all(-1 <= x <= 1601 and -1 <= y <= 1201 for x, y in a.points)


def test_neat_tubing_passes_with_green_runs(tmp_path: Path, cfg: Config) -> None:
    out = run(tmp_path, scene(6, pipes="neat"), cfg)
    assert out.findings == ()
    assert out.measurements["judged"] is True
    green = [a for a in out.annotations if a.ok]
    assert len(green) >= len(out.annotations) // 2


def test_uncertain_messiness_goes_to_review(cfg: Config, th: PipesThresholds) -> None:
    from wocheck.inspectors.pipes import TubeAnalysis, judge_tubing

    mid = (th.neatness.review + th.neatness.violation) / 2
    t = TubeAnalysis(judged=True, reason="", neatness=mid, tube_length=3.0, segments=40, directions_deg=[90.0],
                     direction_shares=[0.6], holes=0, luminance_p95=0.8, scale_to_full=1.0)
    ctx = PhotoContext(order=None, cfg=cfg, slot=Slot.pipeline_45, file="x.jpg")
    (f,) = judge_tubing(t, th, ctx)
    assert not f.certain and verdict_of(f, cfg) == "review"
    low = TubeAnalysis(**{**t.__dict__, "neatness": th.neatness.violation / 2})
    (g,) = judge_tubing(low, th, ctx)
    assert g.certain and verdict_of(g, cfg) == "violation"


@pytest.mark.parametrize("kind", ["dark", "blank"])
def test_no_judgement_without_visible_tubing(tmp_path: Path, cfg: Config, kind: str) -> None:
    out = run(tmp_path, degrade(scene(7, pipes="messy"), kind), cfg)
    assert out.findings == ()
    assert out.measurements["judged"] is False and out.measurements["reason"]


def test_degenerate_images(th: PipesThresholds) -> None:
    for img in (np.zeros((0, 0, 3), np.uint8), np.zeros((5, 5, 3), np.uint8), np.full((300, 400), 128, np.uint8)):
        t = analyse_tubing(img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), 400, th)
        assert not t.judged and 0.0 <= t.neatness <= 1.0


def test_cli_inspect_pipeline(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "messy.jpg", scene(8, pipes="messy"))
    res = CliRunner().invoke(app, ["inspect", str(path), "--slot", "pipeline_45", "--format", "json"])
    assert res.exit_code == 1, res.output
    d = json.loads(res.stdout)
    assert any(f["check"] == "pipes.messy" and f["clause"] == 46 for f in d["findings"])
    assert {"scenes", "pipes"} <= set(d["measurements"])

"""The form inspector's measures by their properties: sharpness independent of the page's size in the frame,
the print's blur estimated in pixels, no stains on clean blurred print, a pale ring across rows found, and the
cheap reductions (histogram percentiles, any-in-cell pooling) equal to their slow definitions."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _form_synth import Spec, filled_master, write
from wocheck.config import Config
from wocheck.inspectors import form as fm
from wocheck.inspectors.base import PhotoContext
from wocheck.inspectors.form import FormThresholds, inspect_form
from wocheck.inspectors.formlayout import layout_for
from wocheck.io.images import load_photo
from wocheck.metrics.ink import percentile_u8
from wocheck.records import Slot


def _measure(path: Path, cfg: Config) -> tuple[fm.Rectified, fm.Legibility]:
    th = cfg.thresholds("form", FormThresholds)
    layout = layout_for(cfg)
    imgs = fm.form_images(load_photo(path), th)
    loc = fm.locate_form(imgs, layout, th)
    rect = fm.rectify(imgs, loc, layout, th)
    return rect, fm.legibility(rect, layout, th)


def test_sharpness_does_not_depend_on_the_page_size_in_the_frame(tmp_path: Path, cfg: Config) -> None:
    """The same sharp form, filling 85 % or 50 % of the frame: the smaller page is sampled more coarsely
    (its print softer on the grid) but no less in focus, and measures nearly as sharp."""
    big, leg_big = _measure(write(Spec(fill=0.85, seed=31), tmp_path / "big.jpg"), cfg)
    small, leg_small = _measure(write(Spec(fill=0.5, seed=31), tmp_path / "small.jpg"), cfg)
    assert small.source_px_per_mm < 0.7 * big.source_px_per_mm < big.px_per_mm
    assert leg_small.sharpness > 0.75 * leg_big.sharpness
    # a blurred page stays apart from both
    _, leg_blur = _measure(write(Spec(fill=0.85, blur=5, seed=31), tmp_path / "blur.jpg"), cfg)
    assert leg_blur.sharpness < 0.3 * min(leg_small.sharpness, leg_big.sharpness)


def test_blur_estimate_grows_with_the_blur(tmp_path: Path, cfg: Config) -> None:
    """The print's blur σ (grid px) rises with the photo's blur and is small on a sharp photo."""
    sig = []
    for b in (0.0, 2.0, 4.0):
        _, leg = _measure(write(Spec(blur=b, seed=32), tmp_path / f"b{b}.jpg"), cfg)
        sig.append(leg.blur_px)
    assert sig[0] < sig[1] < sig[2]
    assert sig[0] < 2.0


def _inspect(path: Path, cfg: Config) -> list[str]:
    ctx = PhotoContext(order=None, cfg=cfg, slot=Slot.service_form, file=path.name)
    return [f.check for f in inspect_form(load_photo(path), ctx).findings]


def test_clean_blurred_print_is_no_stain(tmp_path: Path, cfg: Config) -> None:
    """A clean form, softly blurred (legible): its print spreads past the master's outline, which the blur
    estimate accounts for: no stain, not even for review."""
    for seed in (33, 34):
        path = write(Spec(blur=2.5, seed=seed), tmp_path / f"soft{seed}.jpg")
        found = _inspect(path, cfg)
        assert not [c for c in found if c.startswith("form.damaged")], found


def _with_ring(spec: Spec, path: Path, centre_mm: tuple[float, float], r_mm: float, shade: float) -> Path:
    """The synthetic photo with a thin grey ring drawn on the page (before photographing), ``shade`` of the
    paper's brightness taken away."""
    import _form_synth as synth

    master = filled_master(spec)
    dpi = synth.layout().print_dpi
    ring = np.zeros(master.shape[:2], np.uint8)
    c = (round(centre_mm[0] * dpi / 25.4), round(centre_mm[1] * dpi / 25.4))
    cv2.circle(ring, c, round(r_mm * dpi / 25.4), 255, round(1.2 * dpi / 25.4), cv2.LINE_AA)
    shaded = master.astype(np.float32) * (1 - (ring.astype(np.float32) / 255.0 * shade)[..., None])
    orig = synth.filled_master
    synth.filled_master = lambda s: np.clip(shaded, 0, 255).astype(np.uint8)  # type: ignore[assignment]
    try:
        return write(spec, path)
    finally:
        synth.filled_master = orig


def test_a_pale_ring_across_rows_of_boxes_is_a_stain(tmp_path: Path, cfg: Config) -> None:
    """A pale grey ring over two rows of value boxes (where writing is allowed, and too faint for the
    foreign-mark darkness) is a stain: no line of writing spans rows."""
    layout = layout_for(cfg)
    box = {f.key: f.box for f in layout.fields}
    x, y, w, h = box["fault_symptom"]
    spec = Spec(blank={"fault_symptom", "action_taken"}, seed=35, noise=1.0)
    clean = _inspect(write(spec, tmp_path / "clean.jpg"), cfg)
    assert not [c for c in clean if c.startswith("form.damaged")]
    ringed = _inspect(_with_ring(spec, tmp_path / "ring.jpg", (x + 40, y + h), 18, 0.15), cfg)
    assert "form.damaged.stain" in ringed


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.floats(0, 100), st.floats(0.05, 1.0))
def test_percentile_u8_is_numpy_lower_percentile(seed: int, q: float, keep: float) -> None:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (37, 53)).astype(np.uint8)
    mask = rng.random(img.shape) < keep
    if not mask.any():
        assert np.isnan(percentile_u8(img, q, mask))
        return
    assert percentile_u8(img, q, mask) == float(np.percentile(img[mask], q, method="inverted_cdf"))


@pytest.mark.parametrize(("shape", "size"), [((1782, 1260), (420, 594)), ((891, 630), (420, 594)),
                                             ((90, 60), (30, 30)), ((64, 64), (64, 64))])
def test_any_in_cell_is_area_pooling(shape: tuple[int, int], size: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0])
    m = rng.random(shape) > 0.997
    fast = fm._any_in_cell(m, size)
    slow = cv2.resize(m.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0
    assert fast.shape == slow.shape == (size[1], size[0])
    assert np.array_equal(fast, slow)

"""Property tests of the exposure measures (wocheck.metrics.exposure) on synthetic gradients."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wocheck.metrics.exposure import (
    bright_fraction,
    clipped_fractions,
    dark_fraction,
    entropy_bits,
    exposure_value_shift,
    glare_blobs,
    local_contrast,
    luminance_percentile,
    mean_luminance,
    rms_contrast,
    tile_contrast_fraction,
)


def ramp(lo: float, hi: float, shape: tuple[int, int] = (100, 256)) -> np.ndarray:
    """A horizontal linear gradient from ``lo`` to ``hi`` (levels in [0, 1]) as float32."""
    return np.tile(np.linspace(lo, hi, shape[1], dtype=np.float32), (shape[0], 1))


@settings(max_examples=30, deadline=None)
@given(lo=st.floats(0.0, 0.5), span=st.floats(0.0, 0.5))
def test_gradient_fractions_are_exact(lo: float, span: float) -> None:
    img = ramp(lo, lo + span, (10, 10_001))
    assert mean_luminance(img) == pytest.approx(lo + span / 2, abs=1e-4)
    assert luminance_percentile(img, 50) == pytest.approx(lo + span / 2, abs=1e-4)
    level = 0.3
    expected = 0.0 if level <= lo else 1.0 if level >= lo + span else (level - lo) / span
    assert dark_fraction(img, below=level) == pytest.approx(expected, abs=1e-3)
    assert bright_fraction(img, above=level) == pytest.approx(1 - expected, abs=1e-3)


@settings(max_examples=20, deadline=None)
@given(gain=st.floats(0.1, 1.0), shift=st.floats(0.0, 0.6))
def test_darkening_is_monotone(gain: float, shift: float) -> None:
    img = ramp(0.0, 1.0)
    darker = np.clip(img * gain - shift, 0, 1)
    assert mean_luminance(darker) <= mean_luminance(img) + 1e-6
    assert dark_fraction(darker, below=0.15) >= dark_fraction(img, below=0.15)
    assert bright_fraction(darker, above=0.9) <= bright_fraction(img, above=0.9)
    assert exposure_value_shift(darker) <= exposure_value_shift(img) + 1e-9
    for q in (5, 50, 95):
        assert luminance_percentile(darker, q) <= luminance_percentile(img, q) + 1e-6


def test_clipping_on_a_saturated_gradient() -> None:
    # A ramp from -0.5 to 1.5 clipped to [0, 1]: a quarter crushed black, a quarter blown white.
    img = np.clip(ramp(-0.5, 1.5, (4, 40_000)), 0, 1)
    low, high = clipped_fractions(img)
    assert low == pytest.approx(0.25, abs=0.01) and high == pytest.approx(0.25, abs=0.01)
    assert clipped_fractions(ramp(0.2, 0.8)) == (0.0, 0.0)


def test_uint8_and_colour_read_like_float_grey() -> None:
    g = ramp(0.1, 0.9)
    u8 = (g * 255).round().astype(np.uint8)
    bgr = cv2.cvtColor(u8, cv2.COLOR_GRAY2BGR)
    assert mean_luminance(u8) == pytest.approx(mean_luminance(g), abs=2e-3)
    assert mean_luminance(bgr) == pytest.approx(mean_luminance(g), abs=2e-3)
    assert dark_fraction(bgr, below=0.5) == pytest.approx(dark_fraction(g, below=0.5), abs=0.01)


def test_resolution_independence() -> None:
    g = ramp(0.0, 1.0, (100, 200))
    big = cv2.resize(g, (800, 400), interpolation=cv2.INTER_LINEAR)
    assert mean_luminance(big) == pytest.approx(mean_luminance(g), abs=0.01)
    assert dark_fraction(big, below=0.2) == pytest.approx(dark_fraction(g, below=0.2), abs=0.02)
    assert entropy_bits(big) == pytest.approx(entropy_bits(g), abs=0.05)


def test_contrast_global_vs_local() -> None:
    smooth = ramp(0.0, 1.0, (200, 200))
    checker = (np.indices((200, 200)).sum(axis=0) // 4 % 2).astype(np.float32) * 0.5 + 0.25
    assert rms_contrast(smooth) > rms_contrast(checker) * 0.9  # both spread widely
    assert local_contrast(checker) > 5 * local_contrast(smooth)  # only the checker has detail
    assert 0.0 <= rms_contrast(checker) <= 0.5 and 0.0 <= local_contrast(checker) <= 0.5


def test_entropy_range() -> None:
    assert entropy_bits(np.full((30, 30), 77, np.uint8)) == 0.0
    assert entropy_bits(ramp(0.0, 1.0, (2, 6400))) == pytest.approx(math.log2(64), abs=0.01)
    assert entropy_bits(ramp(0.0, 1.0), bins=16) <= 4.0 + 1e-9


def test_glare_blobs_boxes_and_areas() -> None:
    img = np.full((200, 300), 120, np.uint8)
    cv2.circle(img, (80, 60), 20, 255, -1)
    cv2.rectangle(img, (200, 120), (259, 159), 255, -1)
    img[5, 5] = 255  # a single hot pixel
    blobs = glare_blobs(img, min_area_fraction=0.001)
    assert len(blobs) == 2
    assert blobs[0].area_fraction == pytest.approx(60 * 40 / 60_000, rel=0.01)
    assert (blobs[0].x, blobs[0].y, blobs[0].w, blobs[0].h) == (200, 120, 60, 40)
    assert blobs[1].area_fraction == pytest.approx(math.pi * 20**2 / 60_000, rel=0.1)
    assert blobs[0].box(2.0) == [400.0, 240.0, 120.0, 80.0]
    assert glare_blobs(np.full((10, 10), 200, np.uint8)) == []


def test_tile_contrast_fraction_blank_vs_scene() -> None:
    blank = np.full((300, 400), 200, np.uint8)
    half = blank.copy()
    half[:, :200] = np.random.default_rng(0).integers(0, 256, (300, 200), dtype=np.uint8)
    assert tile_contrast_fraction(blank, (3, 4), min_std=0.02) == 0.0
    assert tile_contrast_fraction(half, (3, 4), min_std=0.02) == pytest.approx(0.5)


@pytest.mark.parametrize("img", [np.zeros((0, 0)), np.zeros((1, 1), np.uint8), np.zeros((3, 3, 3), np.uint8),
                                 np.full((7, 5), np.nan, np.float32)])
def test_defined_on_degenerate_input(img: np.ndarray) -> None:
    for v in (mean_luminance(img), luminance_percentile(img, 50), dark_fraction(img, below=0.1),
              bright_fraction(img, above=0.9), rms_contrast(img), local_contrast(img), entropy_bits(img),
              tile_contrast_fraction(img, (2, 2), min_std=0.01), exposure_value_shift(img)):
        assert math.isfinite(v)
    assert all(0.0 <= f <= 1.0 for f in clipped_fractions(img))
    assert isinstance(glare_blobs(img), list)


def test_glare_halo_tells_a_highlight_from_a_white_object() -> None:
    h, w = 200, 300
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.full((h, w), 0.35, np.float32)
    d2 = ((xx - 80) / 25) ** 2 + ((yy - 100) / 25) ** 2
    highlight = np.clip(base + 1.6 * np.exp(-d2 * 0.5), 0, 1)  # saturated core fading through a halo
    box = base.copy()
    box[80:120, 60:100] = 1.0  # a white object with a crisp outline
    (hl,) = glare_blobs(highlight, halo_px=4)
    (bx,) = glare_blobs(box, halo_px=4)
    assert hl.halo > 0.8 and bx.halo == pytest.approx(0.35, abs=0.05)
    assert glare_blobs(highlight)[0].halo == 0.0  # not measured unless asked

"""Property tests of the sharpness measures (wocheck.metrics.sharpness)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wocheck.metrics.sharpness import (
    blur_effect,
    edge_field,
    edge_width,
    gaussian_blurred,
    laplacian_variance,
    motion_anisotropy,
    motion_blurred,
    percentile_or,
    tile_grid,
    to_analysis_scale,
)


def scene(seed: int, shape: tuple[int, int] = (300, 400), shapes: int = 25) -> np.ndarray:
    """Random rectangles and discs on a mid-grey ground: edges in every direction."""
    rng = np.random.default_rng(seed)
    h, w = shape
    img = np.full(shape, 110, np.uint8)
    for _ in range(shapes):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(8, w // 3)), y + int(rng.integers(8, h // 3))),
                      int(rng.integers(0, 256)), -1)
        cv2.circle(img, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(4, h // 6)),
                   int(rng.integers(0, 256)), -1)
    return img


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_sharpness_decreases_with_blur(seed: int) -> None:
    img = scene(seed)
    widths = [edge_width(gaussian_blurred(img, s)) for s in (0, 1, 2, 3)]
    effects = [blur_effect(gaussian_blurred(img, s)) for s in (0, 1, 2, 3)]
    lapvars = [laplacian_variance(gaussian_blurred(img, s)) for s in (0, 1, 2, 3)]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    assert effects == sorted(effects) and effects[0] < effects[-1]
    assert lapvars == sorted(lapvars, reverse=True) and lapvars[0] > lapvars[-1]


def test_edge_width_tracks_gaussian_sigma() -> None:
    """A blurred step is about σ·√(2π) px wide (plus the derivative filter's own spread)."""
    img = scene(3, (400, 500))
    for sigma in (2.0, 3.0, 4.0):
        w = edge_width(gaussian_blurred(img, sigma))
        assert 0.7 * sigma * math.sqrt(2 * math.pi) < w < 1.4 * sigma * math.sqrt(2 * math.pi) + 1


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), contrast=st.floats(0.3, 1.0))
def test_edge_width_independent_of_contrast(seed: int, contrast: float) -> None:
    img = gaussian_blurred(scene(seed), 2.0)
    low = 0.5 + (img - 0.5) * contrast
    assert edge_width(low) == pytest.approx(edge_width(img), rel=0.15)


def test_edge_width_independent_of_amount_of_content() -> None:
    """Measured at one scale, few edges and many edges of the same blur read alike."""
    few = gaussian_blurred(scene(1, shapes=4), 2.0)
    many = gaussian_blurred(scene(1, shapes=60), 2.0)
    assert edge_width(few) == pytest.approx(edge_width(many), rel=0.2)
    # Laplacian variance, by contrast, follows the amount of content.
    assert laplacian_variance(many) > 1.5 * laplacian_variance(few)


def test_invariant_to_colour_vs_grey_and_dtype() -> None:
    grey = gaussian_blurred(scene(5), 1.5)
    bgr = cv2.cvtColor((grey * 255).round().astype(np.uint8), cv2.COLOR_GRAY2BGR)
    u16 = (grey * 65535).round().astype(np.uint16)
    assert edge_width(bgr) == pytest.approx(edge_width(grey), rel=0.05)
    assert edge_width(u16) == pytest.approx(edge_width(grey), rel=0.02)
    assert blur_effect(bgr) == pytest.approx(blur_effect(grey), abs=0.02)


def test_resize_to_one_analysis_scale_makes_resolutions_compare() -> None:
    """The same scene photographed at 2× resolution reads alike once brought to one analysis scale."""
    small = gaussian_blurred(scene(9, (300, 400)), 1.5)
    big = cv2.resize(small, (800, 600), interpolation=cv2.INTER_CUBIC)
    a, b = to_analysis_scale(small, 400), to_analysis_scale(big, 400)
    assert a.shape == b.shape
    assert edge_width(a) == pytest.approx(edge_width(b), rel=0.15)
    assert blur_effect(a) == pytest.approx(blur_effect(b), abs=0.05)
    assert to_analysis_scale(small, 4000).shape == small.shape  # never upsampled


def test_tiles_find_a_sharp_subject_in_front_of_a_soft_background() -> None:
    img = gaussian_blurred(scene(11, (400, 600)), 4.0)
    sharp = scene(12, (400, 600))
    img[100:300, 200:400] = sharp[100:300, 200:400] / 255.0  # a sharp subject in the middle
    f = edge_field(img)
    grid = tile_grid(f.shape, 100)
    tiles = f.tile_widths(grid, min_edges=20)
    best = percentile_or(tiles, 10, f.max_width)
    assert best < 3.0  # the subject's tiles are sharp
    assert f.median_width() > best  # the frame as a whole is softer
    blurred_all = edge_field(gaussian_blurred(scene(11, (400, 600)), 4.0))
    assert percentile_or(blurred_all.tile_widths(grid, min_edges=20), 10, 15.0) > 2 * best


@pytest.mark.parametrize("angle", [0.0, 90.0])
def test_motion_blur_is_directional_defocus_is_not(angle: float) -> None:
    img = scene(21, (400, 500), shapes=40)
    motion_ratio, direction = motion_anisotropy(motion_blurred(img, 11, angle))
    defocus_ratio, _ = motion_anisotropy(gaussian_blurred(img, 2.5))
    assert motion_ratio > 2.0 * defocus_ratio
    # the widest gradient direction is the motion's (angles mod 180, within one bin)
    assert min(abs(direction - angle), 180 - abs(direction - angle)) <= 23.0


@pytest.mark.parametrize("img", [np.zeros((0, 0)), np.zeros((1, 1), np.uint8), np.full((50, 60), 128, np.uint8),
                                 np.ones((2, 500), np.float32), np.zeros((40, 40, 3), np.uint8)])
def test_defined_on_degenerate_input(img: np.ndarray) -> None:
    assert edge_width(img) == edge_field(img).max_width  # nothing sharp
    assert blur_effect(img) == 1.0
    assert laplacian_variance(img) == 0.0
    assert motion_anisotropy(img) == (1.0, 0.0)
    assert edge_field(img).density() == 0.0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), sigma=st.floats(0.0, 6.0))
def test_ranges(seed: int, sigma: float) -> None:
    img = gaussian_blurred(scene(seed, (120, 160), shapes=8), sigma)
    f = edge_field(img)
    assert 0.0 <= blur_effect(img) <= 1.0
    assert 1.0 <= f.median_width() <= f.max_width
    assert 0.0 <= f.density() <= 1.0
    assert laplacian_variance(img) >= 0.0
    ratio, direction = motion_anisotropy(img)
    assert ratio >= 1.0 and 0.0 <= direction < 180.0


def test_tile_directional_blur_reads_the_sharpest_region_and_catches_motion() -> None:
    from wocheck.metrics.sharpness import directional_blur_width, tile_directional_blur

    sharp = scene(31, (400, 600), shapes=60)
    soft = gaussian_blurred(sharp, 4.0)
    mixed = soft.copy()
    mixed[100:300, 200:400] = sharp[100:300, 200:400] / 255.0
    shaken = motion_blurred(sharp, 13, 0.0)

    def photo_blur(img: np.ndarray) -> float:
        f = edge_field(img).stronger_than(0.1)
        tiles = tile_directional_blur(f, (4, 6), bins=4, min_edges=10, q=10)
        frame = directional_blur_width(f, bins=4, min_edges=20, q=10, min_share=0.05)
        return min(percentile_or(tiles, 10, frame), frame)

    b_sharp, b_mixed, b_soft, b_shaken = (photo_blur(x) for x in (sharp, mixed, soft, shaken))
    assert b_sharp < 3.0 and b_mixed < 3.5  # a sharp subject is enough
    assert b_soft > 2 * b_sharp and b_shaken > 2 * b_sharp
    assert np.isnan(tile_directional_blur(edge_field(np.zeros((50, 50))), (2, 2), bins=4, min_edges=1, q=10)).all()

"""Property tests for the form metrics: ink on paper (metrics/ink.py) and page geometry (metrics/geometry.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wocheck.metrics import geometry as geo
from wocheck.metrics import ink


def _page(seed: int = 0, size: tuple[int, int] = (240, 360)) -> np.ndarray:
    """Grey paper (230) with dark 'print': a grid of lines and some text-like strokes."""
    rng = np.random.default_rng(seed)
    h, w = size
    img = np.full((h, w), 230, np.uint8)
    for y in range(20, h, 40):
        cv2.line(img, (10, y), (w - 10, y), 20, 2)
    for _ in range(40):
        x, y = int(rng.integers(15, w - 25)), int(rng.integers(25, h - 25))
        cv2.line(img, (x, y), (x + int(rng.integers(4, 14)), y + int(rng.integers(-8, 9))), 30, 2)
    return img


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0 else img


# ---------------------------------------------------------------------------------------------- ink


def test_ink_ratio_and_strokes_on_degenerate_input() -> None:
    assert ink.ink_ratio(np.zeros((0, 0), bool)) == 0.0
    assert ink.ink_ratio(np.zeros((5, 5), bool)) == 0.0
    assert ink.ink_ratio(np.ones((5, 5), bool)) == 1.0
    assert ink.stroke_count(np.zeros((0, 3), bool), min_area_px=1) == 0
    assert ink.stroke_count(np.zeros((9, 9), bool), min_area_px=1) == 0


@given(st.integers(1, 8), st.integers(2, 6))
@settings(max_examples=25, deadline=None)
def test_stroke_count_counts_blobs_and_drops_specks(n: int, side: int) -> None:
    m = np.zeros((40, 200), bool)
    for i in range(n):
        m[10:10 + side, 5 + 24 * i:5 + 24 * i + side] = True
    m[35, 3] = True  # a one-pixel speck
    assert ink.stroke_count(m, min_area_px=side * side) == n
    assert ink.stroke_count(m, min_area_px=1) == n + 1
    assert 0.0 < ink.ink_ratio(m) < 1.0


def test_normalise_paper_cancels_lighting() -> None:
    page = _page()
    h, w = page.shape
    ramp = np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :]
    shaded = (page.astype(np.float32) * ramp).astype(np.uint8)
    a = ink.normalise_paper(page, stroke_px=6)
    b = ink.normalise_paper(shaded, stroke_px=6)
    paper = page == 230
    # paper reads ~1 under any lighting; print stays far below
    assert abs(float(np.median(a[paper])) - 1.0) < 0.03
    assert abs(float(np.median(b[paper])) - 1.0) < 0.05
    assert float(np.median(b[page < 100])) < 0.4
    # global gain does not matter at all
    half = (page // 2).astype(np.uint8)
    assert np.allclose(ink.normalise_paper(half, stroke_px=6)[paper], a[paper], atol=0.03)


def test_normalise_paper_defined_on_degenerate_input() -> None:
    assert ink.normalise_paper(np.zeros((0, 0), np.uint8), stroke_px=3).shape == (0, 0)
    u = ink.normalise_paper(np.full((7, 5), 200, np.uint8), stroke_px=3)
    assert u.shape == (7, 5) and np.allclose(u, 1.0)
    z = ink.normalise_paper(np.zeros((4, 4), np.uint8), stroke_px=3)
    assert np.isfinite(z).all()


def test_print_mask_grows_with_dilation() -> None:
    page = _page()
    m0 = ink.print_mask(page, dilate_px=0)
    m2 = ink.print_mask(page, dilate_px=2)
    assert m0.sum() > 0 and m2.sum() > m0.sum() and (m2 | m0).sum() == m2.sum()


def test_relative_sharpness_falls_with_blur_and_is_one_for_itself() -> None:
    page = _page().astype(np.float32) / 230.0
    assert ink.relative_sharpness(page, page) == pytest.approx(1.0)
    s = [ink.relative_sharpness(_blur(page, sg), page) for sg in (0.0, 1.0, 2.0, 4.0)]
    assert s[0] > s[1] > s[2] > s[3] > 0
    assert s[3] < 0.2


def test_relative_sharpness_catches_motion_blur_in_one_direction() -> None:
    page = _page(3).astype(np.float32) / 230.0
    k = np.zeros((15, 15), np.float32)
    k[7, :] = 1 / 15
    moved = cv2.filter2D(page, -1, k)
    iso = ink.edge_energy(moved) / ink.edge_energy(page)
    assert ink.relative_sharpness(moved, page) < iso  # the worst direction is below the average


def test_relative_sharpness_degenerate() -> None:
    flat = np.ones((10, 10), np.float32)
    assert ink.relative_sharpness(flat, flat) == 0.0
    assert ink.relative_sharpness(flat, _page().astype(np.float32)[:10, :10], contrast=0.0) == 0.0
    assert ink.edge_energy(np.zeros((0, 0), np.float32)) == 0.0
    assert ink.edge_energy(np.zeros((2, 2), np.float32)) == 0.0
    assert ink.directional_edge_energy(flat, np.zeros((10, 10), bool)) == (0.0, 0.0, 0.0, 0.0)


def test_relative_sharpness_invariant_to_contrast_when_told() -> None:
    page = _page().astype(np.float32) / 230.0
    faint = 1.0 - 0.5 * (1.0 - page)  # the same print at half the depth
    assert ink.relative_sharpness(faint, page, contrast=0.5) == pytest.approx(1.0, rel=0.02)


@given(st.integers(200, 255))
@settings(max_examples=20, deadline=None)
def test_saturated_fraction_range(at: int) -> None:
    g = np.arange(256, dtype=np.uint8).reshape(16, 16)
    f = ink.saturated_fraction(g, saturated_at=at)
    assert f == pytest.approx((256 - at) / 256)
    assert ink.saturated_fraction(np.zeros((0,), np.uint8), saturated_at=at) == 0.0


def test_blotch_mask_finds_a_blot_not_strokes() -> None:
    page = _page().astype(np.float32) / 230.0
    blot = page.copy()
    cv2.circle(blot, (180, 120), 30, 0.3, -1)
    m = ink.blotch_mask(blot, stroke_px=4, darker_than=0.6)
    assert m[120, 180] and m.sum() > 1500
    assert ink.blotch_mask(page, stroke_px=4, darker_than=0.6).sum() < 0.02 * page.size


def test_crease_fraction_flat_vs_crumpled() -> None:
    page = _page()
    rng = np.random.default_rng(1)
    f = cv2.resize(rng.normal(0, 1, (12, 18)).astype(np.float32), page.shape[::-1], interpolation=cv2.INTER_CUBIC)
    crumpled = np.clip(page.astype(np.float32) * (1 + 0.15 * cv2.Sobel(f, cv2.CV_32F, 1, 0)), 0, 255).astype(np.uint8)
    flat = ink.crease_fraction(page, stroke_px=3, scale_px=15, deviation=0.05)
    crum = ink.crease_fraction(crumpled, stroke_px=3, scale_px=15, deviation=0.05)
    assert 0.0 <= flat < crum <= 1.0
    assert ink.crease_fraction(np.zeros((0, 0), np.uint8), stroke_px=3, scale_px=5, deviation=0.1) == 0.0


# ----------------------------------------------------------------------------------------- geometry

coords = st.floats(-500, 500, allow_nan=False)


@given(st.floats(0.5, 4), st.floats(-0.6, 0.6), st.floats(-100, 100), st.floats(-100, 100))
@settings(max_examples=40, deadline=None)
def test_homography_round_trip(scale: float, angle: float, tx: float, ty: float) -> None:
    src = np.array([[0, 0], [210, 0], [210, 148], [0, 148], [30, 40], [100, 90]], float)
    c, s = np.cos(angle), np.sin(angle)
    dst = src @ (scale * np.array([[c, -s], [s, c]])).T + [tx, ty]
    H = geo.fit_homography(src, dst)
    assert H is not None
    assert np.allclose(geo.project(H, src), dst, atol=1e-3)


def test_homography_degenerate() -> None:
    assert geo.fit_homography(np.zeros((3, 2)), np.zeros((3, 2))) is None
    line = np.array([[0, 0], [1, 1], [2, 2], [3, 3]], float)
    assert geo.fit_homography(line, line) is None


@given(st.floats(0.1, 10), st.floats(-50, 50), st.floats(-50, 50))
@settings(max_examples=40, deadline=None)
def test_in_frame_fraction_range_and_scale_invariance(k: float, dx: float, dy: float) -> None:
    quad = geo.box_to_quad((20 + dx, 10 + dy, 100, 60))
    f = geo.in_frame_fraction(quad, 120, 90)
    assert 0.0 <= f <= 1.0
    assert geo.in_frame_fraction(quad * k, 120 * k, 90 * k) == pytest.approx(f, abs=1e-9)


def test_in_frame_fraction_cases() -> None:
    assert geo.in_frame_fraction(geo.box_to_quad((10, 10, 50, 50)), 100, 100) == 1.0
    assert geo.in_frame_fraction(geo.box_to_quad((200, 10, 50, 50)), 100, 100) == 0.0
    assert geo.in_frame_fraction(geo.box_to_quad((75, 10, 50, 50)), 100, 100) == pytest.approx(0.5)
    assert geo.in_frame_fraction(np.zeros((4, 2)), 100, 100) == 0.0
    assert geo.in_frame_fraction(geo.box_to_quad((10, 10, 50, 50)), 0, 100) == 0.0


def test_corners_and_edges_cut() -> None:
    quad = geo.box_to_quad((60, 10, 50, 50))  # sticks out on the right
    assert geo.corners_outside(quad, 100, 100) == [1, 2]
    assert geo.edges_cut(quad, 100, 100) == [0, 1, 2]
    assert geo.corners_outside(quad, 100, 100, tolerance=20) == []
    assert geo.edges_cut(geo.box_to_quad((10, 10, 50, 50)), 100, 100) == []


def test_quad_from_mask_finds_a_rotated_page() -> None:
    m = np.zeros((300, 400), np.uint8)
    rect = ((200, 150), (220, 150), 17.0)
    pts = cv2.boxPoints(rect)
    cv2.fillConvexPoly(m, pts.astype(np.int32), 255)
    q = geo.quad_from_mask(m)
    assert q is not None and geo.is_convex_quad(q)
    assert geo.polygon_area(q) == pytest.approx(220 * 150, rel=0.05)
    assert geo.quad_from_mask(np.zeros((10, 10), np.uint8)) is None
    assert geo.quad_from_mask(np.zeros((0, 0), np.uint8)) is None


@given(st.lists(st.tuples(coords, coords), min_size=4, max_size=4, unique=True))
@settings(max_examples=40, deadline=None)
def test_order_clockwise_is_a_permutation(pts: list[tuple[float, float]]) -> None:
    q = geo.order_clockwise(np.array(pts))
    assert sorted(map(tuple, q.tolist())) == sorted(pts)


def test_bounding_box_skips_infinite_points() -> None:
    assert geo.bounding_box([[0, 0], [np.inf, 3], [4, 5]]) == (0.0, 0.0, 4.0, 5.0)
    assert geo.bounding_box(np.zeros((0, 2))) == (0.0, 0.0, 0.0, 0.0)


def test_open_mask_drops_specks_keeps_blobs() -> None:
    m = np.zeros((60, 60), bool)
    m[10:30, 10:30] = True
    m[50, 50] = True
    out = ink.open_mask(m, radius_px=2)
    assert out[20, 20] and not out[50, 50]
    assert out.sum() <= m.sum()
    assert ink.open_mask(np.zeros((0, 0), bool), radius_px=2).shape == (0, 0)

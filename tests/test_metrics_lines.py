"""Property tests of the line and thin-body measures (wocheck.metrics.lines)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wocheck.metrics.lines import (
    aligned_share,
    angular_distance,
    chain_segments,
    count_crossings,
    detect_segments,
    dominant_directions,
    enclosed_holes,
    segment_angles,
    segment_lengths,
    straightness,
    thin_body_response,
)


def test_thin_bodies_respond_steps_and_wide_bodies_do_not() -> None:
    img = np.full((200, 300), 120, np.uint8)
    cv2.line(img, (20, 50), (280, 50), 230, 5)  # a thin bright tube
    cv2.line(img, (20, 100), (280, 100), 20, 5)  # a thin dark one
    img[150:, 150:] = 200  # a step edge (a cabinet side)
    cv2.rectangle(img, (20, 130), (100, 190), 250, -1)  # a wide body
    r = thin_body_response(img, max_width_px=15)
    assert r[50, 150] > 80 and r[100, 150] > 80
    assert r[170, 200] < 10 and r[150, 230] < 30  # inside and on the step
    assert r[160, 60] < 10  # inside the wide body
    colour = np.full((60, 60, 3), 128, np.uint8)
    cv2.line(colour, (5, 30), (55, 30), (200, 60, 60), 4)  # a blue tube of about the wall's grey level
    assert thin_body_response(colour, max_width_px=15)[30, 30] > thin_body_response(
        cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), max_width_px=15)[30, 30]
    assert thin_body_response(np.zeros((0, 0)), max_width_px=9).shape == (0, 0)


@settings(max_examples=20, deadline=None)
@given(angle=st.floats(0, 179.9), length=st.floats(60, 180))
def test_detected_segment_has_the_drawn_direction(angle: float, length: float) -> None:
    img = np.zeros((240, 240), np.uint8)
    c = np.array([120.0, 120.0])
    d = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))]) * length / 2
    cv2.line(img, tuple(np.round(c - d).astype(int)), tuple(np.round(c + d).astype(int)), 255, 3, cv2.LINE_AA)
    segs = detect_segments(img, min_length_px=length / 3)
    assert len(segs) >= 1
    lengths = segment_lengths(segs)
    main = segment_angles(segs)[int(np.argmax(lengths))]
    assert float(angular_distance(main, angle)) < 4.0
    assert lengths.max() > 0.6 * length


def test_segments_on_degenerate_input() -> None:
    for img in (np.zeros((0, 0)), np.zeros((4, 4), np.uint8), np.full((100, 100), 77, np.uint8)):
        assert detect_segments(img).shape == (0, 4)
    assert dominant_directions(np.array([]), np.array([]), k=3, tol_deg=5, separation_deg=20) == []
    assert aligned_share(np.array([]), np.array([]), [0.0], tol_deg=5) == 0.0
    assert count_crossings(np.zeros((0, 4)), min_angle_deg=20, end_margin_px=2) == 0
    assert chain_segments(np.zeros((0, 4)), max_gap_px=3) == []
    assert straightness(np.zeros((1, 2))) == 1.0
    assert enclosed_holes(np.zeros((0, 0)), min_area_px=1) == 0


def test_angles_are_undirected_and_distance_wraps() -> None:
    segs = np.array([[0, 0, 10, 0], [10, 0, 0, 0], [0, 0, 0, 10], [0, 0, 10, 10]], np.float32)
    assert segment_angles(segs).tolist() == pytest.approx([0.0, 0.0, 90.0, 45.0])
    assert float(angular_distance(179.0, 1.0)) == pytest.approx(2.0)
    assert float(angular_distance(0.0, 90.0)) == 90.0


@settings(max_examples=25, deadline=None)
@given(dirs=st.lists(st.floats(0, 179), min_size=1, max_size=3, unique=True), seed=st.integers(0, 1000))
def test_dominant_directions_find_the_drawn_ones(dirs: list[float], seed: int) -> None:
    if any(float(angular_distance(a, b)) < 25 for i, a in enumerate(dirs) for b in dirs[i + 1:]):
        return
    rng = np.random.default_rng(seed)
    angles = np.concatenate([rng.normal(d, 1.0, 50) % 180 for d in dirs])
    weights = rng.uniform(5, 50, angles.size)
    found = dominant_directions(angles, weights, k=3, tol_deg=5, separation_deg=20, min_share=0.05)
    assert len(found) == len(dirs)
    for d in dirs:
        assert min(float(angular_distance(d, f)) for f, _ in found) < 2.0
    assert sum(s for _, s in found) == pytest.approx(1.0, abs=0.02)


@settings(max_examples=25, deadline=None)
@given(extra=st.integers(0, 200), seed=st.integers(0, 1000))
def test_aligned_share_falls_as_off_direction_length_is_added(extra: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    square = np.concatenate([np.zeros(50), np.full(50, 90.0)])
    noise = rng.uniform(10, 80, extra)
    a0 = aligned_share(square, np.ones(100), [0.0, 90.0], tol_deg=5)
    a1 = aligned_share(np.concatenate([square, noise]), np.ones(100 + extra), [0.0, 90.0], tol_deg=5)
    assert a0 == 1.0
    assert a1 == pytest.approx(100 / (100 + extra))
    assert 0.0 <= a1 <= a0


def test_crossings() -> None:
    x = np.array([[0, 0, 100, 100], [0, 100, 100, 0]], np.float32)
    corner = np.array([[0, 0, 100, 0], [100, 0, 100, 100]], np.float32)
    parallel = np.array([[0, 0, 100, 0], [0, 10, 100, 10]], np.float32)
    shallow = np.array([[0, 0, 100, 0], [0, -5, 100, 5]], np.float32)
    assert count_crossings(x, min_angle_deg=20, end_margin_px=3) == 1
    assert count_crossings(corner, min_angle_deg=20, end_margin_px=3) == 0
    assert count_crossings(parallel, min_angle_deg=20, end_margin_px=3) == 0
    assert count_crossings(shallow, min_angle_deg=20, end_margin_px=3) == 0


def test_chains_and_straightness() -> None:
    t = np.linspace(0, 2 * math.pi, 41)
    circle = np.stack([100 + 50 * np.cos(t), 100 + 50 * np.sin(t)], axis=1)
    segs = np.concatenate([circle[:-1], circle[1:]], axis=1).astype(np.float32)
    chains = chain_segments(segs[np.random.default_rng(0).permutation(len(segs))], max_gap_px=1.0)
    assert len(chains) == 1
    assert straightness(chains[0]) < 0.05  # a closed loop
    line = np.array([[0, 0, 50, 0], [50.5, 0, 100, 0], [300, 300, 310, 300]], np.float32)
    chains = chain_segments(line, max_gap_px=2.0)
    assert len(chains) == 2 and straightness(chains[0]) == pytest.approx(1.0)
    zigzag = np.array([(0, 0), (10, 10), (20, 0), (30, 10), (40, 0)], float)
    assert 0.5 < straightness(zigzag) < 0.8


def test_enclosed_holes_count_loops() -> None:
    loop = np.zeros((200, 200), np.uint8)
    cv2.circle(loop, (100, 100), 50, 255, 6)
    line = np.zeros((200, 200), np.uint8)
    cv2.polylines(line, [np.array([(10, 10), (190, 10), (190, 190)], np.int32)], False, 255, 6)
    assert enclosed_holes(loop, min_area_px=100) == 1
    assert enclosed_holes(line, min_area_px=100) == 0
    assert enclosed_holes(loop, min_area_px=50_000) == 0

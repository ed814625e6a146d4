"""Line segments, thin bodies and their geometry: pure functions for judging runs of tubing (横平竖直).

An image (any dtype, grey or BGR; see `as_gray_float`) or a segment array in, numbers or small arrays out.
Segments are ``(N, 4)`` float arrays ``x1, y1, x2, y2`` in px of the image they were found in; angles are
degrees in [0, 180) with 0 = horizontal and 90 = vertical (image y points down, so 45 runs down-right).

- `thin_body_response`: how strongly each pixel belongs to a long thin body narrower than ``max_width_px``
  (morphological top-hats of luminance, both polarities, and of colour saturation): tubes, cables; the
  step edges of cabinets, walls and machine bodies give nothing.
- `detect_segments`: straight segments (OpenCV's LSD), `segment_lengths`, `segment_angles`;
- `dominant_directions`: the few directions most of the length follows, `aligned_share`: how much of the
  length follows them (a neat, square run of pipes: nearly all; loops, sags and curves: far less);
- `count_crossings`: proper crossings between segments of different directions; `chain_segments`: joins
  touching segments into polylines (runs); `straightness`: chord / path length of a polyline;
- `enclosed_holes`: regions a mask closes around (a loop of tubing encloses one).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from wocheck.metrics._image import as_gray_float

Segments = NDArray[np.float32]

__all__ = [
    "aligned_share", "angular_distance", "chain_segments", "count_crossings", "detect_segments",
    "dominant_directions", "enclosed_holes", "segment_angles", "segment_lengths", "straightness",
    "thin_body_response",
]


def _u8(img: NDArray[Any] | Any) -> NDArray[np.uint8]:
    return np.round(as_gray_float(img) * 255.0).astype(np.uint8)


def thin_body_response(img: NDArray[Any] | Any, *, max_width_px: int) -> NDArray[np.uint8]:
    """Per-pixel strength (0-255) of thin bodies narrower than ``max_width_px``, bright or dark or coloured.

    The maximum of the white and black top-hats of the luminance and the white top-hat of the colour
    saturation (for a BGR image), with a square structuring element of ``max_width_px`` + 1: a tube, cable
    or line narrower than that stands out by its contrast against its surroundings; a flat area or a step
    edge (a cabinet wall, a machine's side) reads ~0. Depends on the analysis scale only through
    ``max_width_px``: give it in px of this image. Empty in, empty out.
    """
    a = np.asarray(img)
    if a.size == 0:
        return np.zeros((0, 0), np.uint8)
    k = max(3, int(max_width_px) + 1) | 1
    se = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    g = _u8(a)
    out = np.maximum(cv2.morphologyEx(g, cv2.MORPH_TOPHAT, se), cv2.morphologyEx(g, cv2.MORPH_BLACKHAT, se))
    if a.ndim == 3 and a.shape[2] >= 3:
        bgr = a[:, :, :3]
        if bgr.dtype != np.uint8:
            bgr = np.round(np.clip(np.nan_to_num(bgr.astype(np.float32)), 0, 1) * 255).astype(np.uint8)
        sat = cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2HSV)[:, :, 1]
        out = np.maximum(out, cv2.morphologyEx(sat, cv2.MORPH_TOPHAT, se))
    return out


def detect_segments(img: NDArray[Any] | Any, *, min_length_px: float = 0.0) -> Segments:
    """Straight line segments (OpenCV LSD, standard refinement) at least ``min_length_px`` long.

    ``(N, 4)`` float32 ``x1, y1, x2, y2`` in px of the given image; ``(0, 4)`` for an empty, tiny or
    uniform image. Sub-pixel accurate; a curve comes out as a chain of short segments.
    """
    g = _u8(img)
    if g.shape[0] < 8 or g.shape[1] < 8:
        return np.zeros((0, 4), np.float32)
    lsd = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD)
    found = lsd.detect(g)[0]
    if found is None:
        return np.zeros((0, 4), np.float32)
    segs = found.reshape(-1, 4).astype(np.float32)
    if min_length_px > 0:
        segs = segs[segment_lengths(segs) >= min_length_px]
    return segs


def segment_lengths(segs: Segments) -> NDArray[np.float64]:
    """Length in px of each segment (≥ 0)."""
    s = np.asarray(segs, dtype=np.float64).reshape(-1, 4)
    return np.hypot(s[:, 2] - s[:, 0], s[:, 3] - s[:, 1])


def segment_angles(segs: Segments) -> NDArray[np.float64]:
    """Direction of each segment in degrees [0, 180): 0 horizontal, 90 vertical (y down)."""
    s = np.asarray(segs, dtype=np.float64).reshape(-1, 4)
    return np.degrees(np.arctan2(s[:, 3] - s[:, 1], s[:, 2] - s[:, 0])) % 180.0


def angular_distance(a: NDArray[Any] | float, b: NDArray[Any] | float) -> NDArray[np.float64]:
    """Distance between undirected directions in degrees, in [0, 90]."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) % 180.0
    return np.minimum(d, 180.0 - d)


def dominant_directions(angles: NDArray[Any], weights: NDArray[Any], *, k: int, tol_deg: float,
                        separation_deg: float, min_share: float = 0.0) -> list[tuple[float, float]]:
    """Up to ``k`` directions that most of the weight (length) follows, strongest first.

    Returns ``[(angle_deg, share)]``: each peak of the weighted direction histogram (1° bins, circular,
    smoothed over ``tol_deg``), at least ``separation_deg`` from the ones before it; ``share`` is the
    fraction of the total weight within ``tol_deg`` of it and not already claimed by a stronger direction,
    in [0, 1]. Peaks whose share is below ``min_share`` are dropped. Empty for no weight.
    """
    a = np.asarray(angles, dtype=np.float64).ravel() % 180.0
    w = np.asarray(weights, dtype=np.float64).ravel()
    total = float(w.sum()) if w.size else 0.0
    if total <= 0.0:
        return []
    hist = np.bincount(np.minimum(a.astype(np.int64), 179), weights=w, minlength=180)
    sigma = max(tol_deg / 2.0, 0.5)
    offs = np.arange(-math.ceil(3 * sigma), math.ceil(3 * sigma) + 1)
    kern = np.exp(-0.5 * (offs / sigma) ** 2)
    smooth = np.zeros(180)
    for o, kv in zip(offs, kern, strict=True):
        smooth += kv * np.roll(hist, int(o))
    centres = np.arange(180) + 0.5
    claimed = np.zeros(a.size, bool)
    out: list[tuple[float, float]] = []
    for _ in range(k):
        if not np.any(smooth > 0):
            break
        peak = float(centres[int(np.argmax(smooth))])
        near = (angular_distance(a, peak) <= tol_deg) & ~claimed
        if near.any():  # refine to the weighted circular mean of the near angles
            rad = np.radians(a[near] * 2.0)
            peak = float(np.degrees(np.arctan2((w[near] * np.sin(rad)).sum(), (w[near] * np.cos(rad)).sum()))
                         / 2.0 % 180.0)
            near = (angular_distance(a, peak) <= tol_deg) & ~claimed
        share = float(w[near].sum()) / total
        claimed |= near
        smooth[angular_distance(centres, peak) < separation_deg] = 0.0
        if share >= min_share and share > 0:
            out.append((peak, share))
    return out


def aligned_share(angles: NDArray[Any], weights: NDArray[Any], directions: list[float], *,
                  tol_deg: float) -> float:
    """Fraction of the weight (length) within ``tol_deg`` of any of ``directions``, in [0, 1].

    0.0 when there is no weight or no direction.
    """
    a = np.asarray(angles, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    total = float(w.sum()) if w.size else 0.0
    if total <= 0.0 or not directions:
        return 0.0
    dist = np.min(np.stack([angular_distance(a, d) for d in directions]), axis=0)
    return float(w[dist <= tol_deg].sum()) / total


def count_crossings(segs: Segments, *, min_angle_deg: float, end_margin_px: float) -> int:
    """Pairs of segments that properly cross: the crossing point lies inside both, at least
    ``end_margin_px`` from every end (a corner where two runs meet is no crossing), at an angle of at least
    ``min_angle_deg``. ≥ 0; 0 for fewer than two segments.
    """
    s = np.asarray(segs, dtype=np.float64).reshape(-1, 4)
    n = len(s)
    if n < 2:
        return 0
    p = s[:, :2]
    r = s[:, 2:] - s[:, :2]
    length = np.hypot(r[:, 0], r[:, 1])
    i, j = np.triu_indices(n, 1)
    rxs = r[i, 0] * r[j, 1] - r[i, 1] * r[j, 0]
    qp = p[j] - p[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[:, 0] * r[j, 1] - qp[:, 1] * r[j, 0]) / rxs
        u = (qp[:, 0] * r[i, 1] - qp[:, 1] * r[i, 0]) / rxs
        mt = end_margin_px / np.maximum(length[i], 1e-9)
        mu = end_margin_px / np.maximum(length[j], 1e-9)
        inside = (t > mt) & (t < 1 - mt) & (u > mu) & (u < 1 - mu)
    sin_angle = np.abs(rxs) / np.maximum(length[i] * length[j], 1e-12)
    steep = sin_angle >= math.sin(math.radians(min_angle_deg))
    return int(np.count_nonzero(inside & steep & np.isfinite(t) & np.isfinite(u)))


def chain_segments(segs: Segments, *, max_gap_px: float) -> list[NDArray[np.float64]]:
    """Join segments whose ends lie within ``max_gap_px`` into polylines, each an ``(M, 2)`` point array.

    Greedy: each chain grows from its ends by the nearest free segment end within the gap; every segment
    belongs to exactly one chain. A curved tube found as many short segments becomes one polyline.
    """
    s = np.asarray(segs, dtype=np.float64).reshape(-1, 4)
    n = len(s)
    if n == 0:
        return []
    ends = np.concatenate([s[:, :2], s[:, 2:]])  # end e of segment e % n (first ends, then second ends)
    free = np.ones(n, bool)
    chains: list[NDArray[np.float64]] = []
    for start in np.argsort(-segment_lengths(s)):
        if not free[start]:
            continue
        free[start] = False
        pts = [s[start, :2].copy(), s[start, 2:].copy()]
        for front in (False, True):
            while True:
                tip = pts[0] if front else pts[-1]
                d = np.hypot(ends[:, 0] - tip[0], ends[:, 1] - tip[1])
                d[np.concatenate([~free, ~free])] = np.inf
                e = int(np.argmin(d))
                if not np.isfinite(d[e]) or d[e] > max_gap_px:
                    break
                seg = e % n
                free[seg] = False
                near, far = (s[seg, :2], s[seg, 2:]) if e < n else (s[seg, 2:], s[seg, :2])
                if front:
                    pts[:0] = [far.copy(), near.copy()]
                else:
                    pts += [near.copy(), far.copy()]
        chains.append(np.array(pts))
    return chains


def straightness(points: NDArray[Any]) -> float:
    """Chord length over path length of a polyline ``(M, 2)``, in [0, 1]: 1 straight, → 0 coiled.

    1.0 for fewer than two distinct points (nothing bends).
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(p) < 2:
        return 1.0
    path = float(np.hypot(*np.diff(p, axis=0).T).sum())
    if path <= 1e-9:
        return 1.0
    chord = float(np.hypot(*(p[-1] - p[0])))
    return min(1.0, chord / path)


def enclosed_holes(mask: NDArray[Any], *, min_area_px: float) -> int:
    """Regions of background that a binary mask closes around (holes of its components), ≥ ``min_area_px``.

    A loop of tubing drawn in a mask encloses one; straight runs and right-angle bends enclose none.
    """
    m = (np.asarray(mask) > 0).astype(np.uint8)
    if m.size == 0 or not m.any():
        return 0
    contours, hierarchy = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    holes = 0
    for c, h in zip(contours, hierarchy[0], strict=True):
        if h[3] >= 0 and cv2.contourArea(c) >= min_area_px:  # has a parent: a hole
            holes += 1
    return holes

"""Plane geometry for documents in photos: homographies, quads, how much of a page lies in the frame.

Pure functions: arrays in, numbers or arrays out, no I/O. Points are ``(x, y)`` float pairs; a quad is a
4×2 array ordered top-left, top-right, bottom-right, bottom-left *of the page* (whatever its rotation in
the photo). Edge ``i`` of a quad joins corner ``i`` and corner ``i + 1`` (top, right, bottom, left).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

EDGE_NAMES = ("top", "right", "bottom", "left")
CORNER_NAMES = ("top_left", "top_right", "bottom_right", "bottom_left")


def fit_homography(src: ArrayLike, dst: ArrayLike) -> FloatArray | None:
    """The 3×3 homography taking ``src`` points to ``dst`` (least squares over ≥ 4 pairs), or ``None``.

    ``None`` when fewer than 4 pairs are given or the points are degenerate (collinear, coincident).
    """
    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(s) < 4 or len(s) != len(d) or not (np.isfinite(s).all() and np.isfinite(d).all()):
        return None
    H, _ = cv2.findHomography(s, d, 0)
    if H is None or not np.isfinite(H).all() or abs(np.linalg.det(H)) < 1e-12:
        return None
    return np.asarray(H, dtype=np.float64)


def project(H: ArrayLike, pts: ArrayLike) -> FloatArray:
    """``pts`` (N×2) mapped through homography ``H``; points at infinity come back as ``inf``."""
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    h = np.asarray(H, dtype=np.float64)
    q = np.c_[p, np.ones(len(p))] @ h.T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = q[:, :2] / q[:, 2:3]
    out[~np.isfinite(out)] = np.inf
    return out


def polygon_area(quad: ArrayLike) -> float:
    """Area of a simple polygon (shoelace formula), ≥ 0, in squared input units."""
    p = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    if len(p) < 3 or not np.isfinite(p).all():
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def is_convex_quad(quad: ArrayLike) -> bool:
    """Whether 4 points form a convex, non-degenerate quadrilateral in the given order."""
    p = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    if len(p) != 4 or not np.isfinite(p).all():
        return False
    cross = []
    for i in range(4):
        a, b, c = p[i], p[(i + 1) % 4], p[(i + 2) % 4]
        cross.append((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    cr = np.array(cross)
    return bool((cr > 0).all() or (cr < 0).all())


def in_frame_fraction(quad: ArrayLike, width: float, height: float) -> float:
    """Fraction of the quad's area that lies inside the frame ``[0, width] × [0, height]``: 0 … 1.

    1 when the page is wholly in the frame, 0 when it is wholly outside or degenerate. Invariant to
    scaling quad and frame together.
    """
    p = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    area = polygon_area(p)
    if area <= 0 or width <= 0 or height <= 0 or not is_convex_quad(p):
        return 0.0
    # Clip the convex polygon against the four half-planes of the frame (Sutherland-Hodgman).
    poly = [tuple(v) for v in p]
    for axis, bound, keep_less in ((0, 0.0, False), (0, float(width), True), (1, 0.0, False),
                                   (1, float(height), True)):
        out: list[tuple[float, float]] = []
        n = len(poly)
        for i in range(n):
            a, b = poly[i], poly[(i + 1) % n]
            ina = a[axis] <= bound if keep_less else a[axis] >= bound
            inb = b[axis] <= bound if keep_less else b[axis] >= bound
            if ina:
                out.append(a)
            if ina != inb:
                t = (bound - a[axis]) / (b[axis] - a[axis])
                out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
        poly = out
        if not poly:
            return 0.0
    return float(min(1.0, polygon_area(np.array(poly)) / area))


def corners_outside(quad: ArrayLike, width: float, height: float, *, tolerance: float = 0.0) -> list[int]:
    """Indices of the quad's corners lying more than ``tolerance`` outside the frame."""
    p = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    t = tolerance
    bad = ~np.isfinite(p).all(axis=1) | (p[:, 0] < -t) | (p[:, 1] < -t) | (p[:, 0] > width + t) | \
        (p[:, 1] > height + t)
    return [int(i) for i in np.flatnonzero(bad)]


def edges_cut(quad: ArrayLike, width: float, height: float, *, tolerance: float = 0.0) -> list[int]:
    """Indices of the quad's edges (0 top, 1 right, 2 bottom, 3 left) not wholly inside the frame.

    The frame is convex, so an edge is inside exactly when both its end corners are.
    """
    out = set(corners_outside(quad, width, height, tolerance=tolerance))
    return [i for i in range(4) if i in out or (i + 1) % 4 in out]


def quad_from_mask(mask: NDArray[np.uint8], *, min_area_fraction: float = 0.05) -> FloatArray | None:
    """The largest convex quadrilateral outline among the mask's blobs (image px), or ``None``.

    The blob's convex hull is reduced to 4 corners (polygon approximation, else its minimum-area
    rectangle); ``None`` when no blob covers ``min_area_fraction`` of the image. Corners come clockwise
    from the one nearest the image's top-left; the page's own orientation is left to the caller.
    """
    if mask.size == 0:
        return None
    m = (np.asarray(mask) > 0).astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    if cv2.contourArea(c) < min_area_fraction * m.size:
        return None
    hull = cv2.convexHull(c)
    peri = cv2.arcLength(hull, True)
    quad = None
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            quad = approx.reshape(4, 2).astype(np.float64)
            break
    if quad is None:
        quad = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float64)
    return order_clockwise(quad)


def order_clockwise(quad: ArrayLike) -> FloatArray:
    """4 points sorted clockwise (in image coordinates, y down), starting nearest the top-left."""
    p = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    c = p.mean(axis=0)
    ang = np.arctan2(p[:, 1] - c[1], p[:, 0] - c[0])
    p = p[np.argsort(ang)]
    start = int(np.argmin(p[:, 0] + p[:, 1]))
    return np.roll(p, -start, axis=0)


def box_to_quad(box: tuple[float, float, float, float]) -> FloatArray:
    """An axis-aligned box ``(x, y, w, h)`` as its 4 corners TL, TR, BR, BL."""
    x, y, w, h = box
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)


def bounding_box(pts: ArrayLike) -> tuple[float, float, float, float]:
    """The axis-aligned ``(x, y, w, h)`` around finite points (zeros when there are none)."""
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    x0, y0 = p.min(axis=0)
    x1, y1 = p.max(axis=0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))

"""Pure image functions for reading codes: where barcodes are, and the preprocessing ladder's steps.

No I/O, no logging. Every function takes an 8-bit grey image (any other dtype is normalised on entry:
float images are taken as 0..255 and clipped) and returns a new array or plain numbers.

`code_regions` finds code-like areas on a reduced image from the structure tensor: bars and modules give
strong gradients (``energy``) whose direction is coherent for 1D codes (``coherence`` near 1: all edges
parallel) and mixed for QR/Data Matrix (coherence near 0); text lines fall between. The ladder's steps
(`normalize_contrast`, `upscale`, `sharpen`, `binarize`, `rotate`, `deskew_angle`) are what the decoder
tries on a crop when the engines read nothing in it as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Gray = NDArray[np.uint8]


def as_gray(img: NDArray[np.generic]) -> Gray:
    """2-D uint8 view of ``img``: BGR is converted, floats are clipped to 0..255 and rounded."""
    a = np.asarray(img)
    if a.ndim == 3:
        a = a[:, :, :3].mean(axis=2) if a.shape[2] >= 3 else a[:, :, 0]
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float64)), 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(a)


@dataclass(frozen=True)
class CodeRegion:
    """A code-like area: its axis-aligned box (x, y, w, h) and rotated rectangle in the input's pixels.

    ``angle_deg`` is the direction of the gradients (across the bars) in 0..180, ``coherence`` 0..1 the mean
    gradient coherence inside (1: parallel edges, a 1D code), ``energy`` the mean gradient energy
    (0..1, relative to the strongest possible edge), ``fill`` 0..1 how much of the rotated rectangle is
    code-like.
    """

    box: tuple[int, int, int, int]
    rect: tuple[tuple[float, float], tuple[float, float], float]  # cv2.minAreaRect
    angle_deg: float
    coherence: float
    energy: float
    fill: float

    @property
    def linear(self) -> bool:
        """Looks like a 1D code (parallel bars); the caller chooses the coherence cut."""
        return self.coherence >= 0.5

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def structure_tensor(gray: Gray, window: int) -> tuple[NDArray[np.float32], NDArray[np.float32],
                                                         NDArray[np.float32]]:
    """Per-pixel (energy 0..1, coherence 0..1, gradient angle 0..180°) over a ``window``-px box.

    Energy is the windowed mean squared gradient relative to a full-contrast step edge (so comparable
    between images of one size); coherence ``sqrt((Jxx-Jyy)^2 + 4Jxy^2) / (Jxx+Jyy)``.
    """
    g = as_gray(gray).astype(np.float32) / 255.0
    if g.size == 0:
        z = np.zeros(g.shape, np.float32)
        return z, z, z
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 4.0
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 4.0
    k = (max(1, window), max(1, window))
    jxx = cv2.blur(gx * gx, k)
    jyy = cv2.blur(gy * gy, k)
    jxy = cv2.blur(gx * gy, k)
    energy = jxx + jyy
    dxx = jxx - jyy
    jxy2 = 2 * jxy
    diff = cv2.magnitude(dxx, jxy2)
    coherence = diff / np.maximum(energy, np.float32(1e-6))
    coherence[energy <= 1e-6] = 0
    angle = cv2.phase(dxx, jxy2, angleInDegrees=True) * np.float32(0.5)  # 0..180
    angle[angle >= 180] -= 180
    return np.clip(energy, 0, 1), np.clip(coherence, 0, 1), angle


def code_regions(gray: Gray, *, window_frac: float = 0.012, min_energy: float = 0.02,
                 relative_energy: float = 0.3, energy_floor: float = 0.004,
                 min_side_frac: float = 0.02, max_regions: int = 12) -> list[CodeRegion]:
    """Code-like areas of ``gray`` (typically a ~1000-px preview), largest code-like area first.

    ``window_frac``: the structure-tensor window as a fraction of the long side (a code's bars must be
    finer than this). An area must exceed a mean squared gradient (0..1) of ``min_energy``, or, in a
    soft image whose strongest edges are weak, ``relative_energy`` times its 99.5th percentile energy
    (never below ``energy_floor``), so that a blurred code is still found. ``min_side_frac``:
    the shorter side a region must have, as a fraction of the long side. Defined for any input: an empty
    or uniform image has no regions.
    """
    g = as_gray(gray)
    if g.size == 0 or min(g.shape) < 8:
        return []
    long_side = max(g.shape)
    win = max(3, int(round(window_frac * long_side)))
    energy, coherence, angle = structure_tensor(g, win)
    thr = max(energy_floor, min(min_energy, relative_energy * float(np.percentile(energy, 99.5))))
    mask = (energy > thr).astype(np.uint8)
    close = max(3, win)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (close, close)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (win, win)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_side = min_side_frac * long_side
    out: list[CodeRegion] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if min(w, h) < min_side:
            continue
        sel = labels[y:y + h, x:x + w] == i
        pts = np.column_stack(np.nonzero(sel))[:, ::-1].astype(np.float32) + np.float32([x, y])
        rect = cv2.minAreaRect(pts)
        (rw, rh) = rect[1]
        if min(rw, rh) < min_side:
            continue
        fill = float(area / max(1.0, rw * rh))
        e = energy[y:y + h, x:x + w][sel]
        c = coherence[y:y + h, x:x + w][sel]
        # Mean direction of doubled angles (orientations are modulo 180°), weighted by energy.
        a = np.radians(angle[y:y + h, x:x + w][sel].astype(np.float64) * 2)
        wts = e.astype(np.float64)
        mean_angle = (math.degrees(math.atan2(float((np.sin(a) * wts).sum()), float((np.cos(a) * wts).sum())))
                      / 2) % 180
        out.append(CodeRegion(box=(x, y, w, h), rect=(rect[0], rect[1], float(rect[2])), angle_deg=mean_angle,
                              coherence=float(c.mean()), energy=float(e.mean()), fill=fill))
    out.sort(key=lambda r: -r.area)
    return out[:max_regions]


def dominant_orientation(gray: Gray, *, window: int = 7, max_side: int = 800,
                         min_local_coherence: float = 0.8) -> tuple[float, float]:
    """(gradient direction 0..180°, share 0..1) of the image's straight, parallel edges.

    Pixels whose local structure (a ``window``-px structure tensor) is strongly one-directional
    (coherence ≥ ``min_local_coherence``: bars, label borders, not text strokes or QR modules) vote for
    their gradient direction, weighted by energy; the result is their mean direction and the share of the
    image's gradient energy that such pixels carry. For a crop around a 1D code the direction is across the
    bars (0: bars vertical). A uniform or empty image gives (0, 0). Computed on a copy shrunk to
    ``max_side`` (orientation does not depend on size while the bars stay resolved).
    """
    g, _ = downscale_to(as_gray(gray), max_side)
    if g.size == 0 or min(g.shape) < 3:
        return 0.0, 0.0
    energy, coherence, angle = structure_tensor(g, window)
    total = float(energy.sum())
    if total <= 1e-9:
        return 0.0, 0.0
    sel = coherence >= min_local_coherence
    w = energy[sel].astype(np.float64)
    if w.sum() <= 1e-12:
        return 0.0, 0.0
    a = np.radians(angle[sel].astype(np.float64) * 2)
    direction = (math.degrees(math.atan2(float((np.sin(a) * w).sum()), float((np.cos(a) * w).sum()))) / 2) % 180
    return direction, min(1.0, float(w.sum()) / total)


def skew_angle(gray: Gray, *, window: int = 7, max_side: int = 800,
               min_local_coherence: float = 0.8) -> tuple[float, float]:
    """(rotation in degrees within ±45, share 0..1) that turns the image's straight edges onto the axes.

    Like `dominant_orientation`, but edges at right angles vote together (directions modulo 90°, by
    quadrupled angles): bars and a label's four borders all say how far the label is turned. Rotating the
    image by the returned angle with `rotate` makes them horizontal/vertical. A uniform or empty image
    gives (0, 0).
    """
    g, _ = downscale_to(as_gray(gray), max_side)
    if g.size == 0 or min(g.shape) < 3:
        return 0.0, 0.0
    energy, coherence, angle = structure_tensor(g, window)
    total = float(energy.sum())
    sel = coherence >= min_local_coherence
    w = energy[sel].astype(np.float64)
    if total <= 1e-9 or w.sum() <= 1e-12:
        return 0.0, 0.0
    a = np.radians(angle[sel].astype(np.float64) * 4)
    skew = math.degrees(math.atan2(float((np.sin(a) * w).sum()), float((np.cos(a) * w).sum()))) / 4
    return skew, min(1.0, float(w.sum()) / total)


def normalize_contrast(gray: Gray, *, clip_limit: float = 2.0, tiles: int = 4) -> Gray:
    """CLAHE: local contrast stretched, limited to ``clip_limit`` (OpenCV's units) on a ``tiles``² grid."""
    g = as_gray(gray)
    if g.size == 0:
        return g.copy()
    return cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles)).apply(g)  # type: ignore[no-any-return]


def upscale(gray: Gray, factor: float) -> Gray:
    """Bicubic enlargement by ``factor`` (≥ 1; 1 returns a copy)."""
    g = as_gray(gray)
    if factor <= 1 or g.size == 0:
        return g.copy()
    return cv2.resize(g, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)  # type: ignore[no-any-return]


def downscale_to(gray: Gray, max_side: int) -> tuple[Gray, float]:
    """Shrink so the long side is at most ``max_side``; returns the image and its factor (≤ 1)."""
    g = as_gray(gray)
    k = max_side / max(1, max(g.shape))
    if k >= 1 or g.size == 0:
        return g, 1.0
    return cv2.resize(g, None, fx=k, fy=k, interpolation=cv2.INTER_AREA), k


def sharpen(gray: Gray, *, sigma: float = 1.0, amount: float = 1.0) -> Gray:
    """Unsharp mask: ``g + amount * (g - blur_sigma(g))``, clipped to 0..255."""
    g = as_gray(gray)
    if g.size == 0:
        return g.copy()
    f = g.astype(np.float32)
    b = cv2.GaussianBlur(f, (0, 0), sigma)
    return np.clip(f + amount * (f - b), 0, 255).round().astype(np.uint8)


def binarize(gray: Gray, *, block_frac: float = 0.08, offset: float = 5.0) -> Gray:
    """Adaptive (local mean) threshold: black where darker than the neighbourhood mean minus ``offset``.

    The block is ``block_frac`` of the shorter side (odd, at least 3 px).
    """
    g = as_gray(gray)
    if g.size == 0 or min(g.shape) < 3:
        return g.copy()
    block = max(3, int(min(g.shape) * block_frac) | 1)
    return cv2.adaptiveThreshold(g, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY,  # type: ignore[no-any-return]
                                 block, offset)


def rotate(gray: Gray, angle_deg: float, *, border: int = 255) -> Gray:
    """Rotate counter-clockwise by ``angle_deg`` about the centre, canvas enlarged to keep every pixel."""
    g = as_gray(gray)
    if g.size == 0 or angle_deg % 360 == 0:
        return g.copy()
    h, w = g.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c + 0.5), int(h * c + w * s + 0.5)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(g, m, (nw, nh), flags=cv2.INTER_LINEAR,  # type: ignore[no-any-return]
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def deskew_angle(region_angle_deg: float) -> float:
    """The rotation (degrees, counter-clockwise, within ±90) that makes a 1D code's bars vertical.

    ``region_angle_deg`` is the gradient direction across the bars (0 = bars already vertical).
    """
    a = region_angle_deg % 180
    return a if a <= 90 else a - 180

"""Ink on paper: illumination-normalised paper, pen strokes beside a print master, stains and creases.

Pure functions over 8-bit grey images of a *rectified* document (the page on a regular grid, so that a
print master resampled to the same grid lies on it): arrays in, numbers or masks out, no I/O, no logging.
Sizes in pixels are the caller's (it knows its px/mm); every ratio is 0 … 1.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

Gray = NDArray[np.uint8]
Float = NDArray[np.float32]
Mask = NDArray[np.bool_]


def _gray(img: NDArray[np.generic]) -> Gray:
    a = np.asarray(img)
    if a.ndim == 3:
        a = cv2.cvtColor(a.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return a


def _background_u8(g: Gray, stroke_px: int) -> Gray:
    k = max(1, int(stroke_px))
    f = max(1, k // 3)  # reduce so that the closing kernel is ~3 px
    h, w = g.shape
    small = cv2.resize(g, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA) if f > 1 else g
    kern = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * max(1, k // f) + 1,) * 2)
    closed = cv2.dilate(small, kern)
    closed = cv2.blur(closed, (2 * max(1, k // f) + 1,) * 2)
    bg = cv2.resize(closed, (w, h), interpolation=cv2.INTER_LINEAR) if f > 1 else closed
    return cv2.max(bg, 1)


def paper_background(gray: NDArray[np.generic], *, stroke_px: int) -> Float:
    """The paper's brightness without the ink: a smooth estimate, same shape, float32 in 1 … 255.

    Dark strokes thinner than ``stroke_px`` are removed by a grey-level closing (a local maximum), then
    the result is smoothed; computed at a reduced scale, so its cost hardly depends on ``stroke_px``.
    Shadows and light falloff (broader than ``stroke_px``) stay in the background and so cancel in
    `normalise_paper`.
    """
    g = _gray(gray)
    if g.size == 0:
        return np.zeros(g.shape, np.float32)
    return _background_u8(g, stroke_px).astype(np.float32)


def normalise_paper(gray: NDArray[np.generic], *, stroke_px: int) -> Float:
    """``gray / paper_background``: paper ≈ 1, ink < 1 whatever the lighting; float32 in 0 … 1.5."""
    g = _gray(gray)
    if g.size == 0:
        return np.zeros(g.shape, np.float32)
    out = cv2.divide(g, _background_u8(g, stroke_px), dtype=cv2.CV_32F)
    return np.minimum(out, np.float32(1.5), out=out)


def ink_mask(norm: Float, *, darker_than: float, exclude: Mask | None = None) -> Mask:
    """Pixels at least ``1 - darker_than`` darker than their paper (``norm < darker_than``), minus ``exclude``."""
    m = np.asarray(norm) < darker_than
    if exclude is not None:
        m &= ~exclude
    return m


def print_mask(master: NDArray[np.generic], *, dilate_px: int, darker_than: int = 128) -> Mask:
    """The print master's ink grown by ``dilate_px`` (to absorb misregistration): where pen is not looked for."""
    g = _gray(master)
    m = (g < darker_than).astype(np.uint8)
    if dilate_px > 0 and m.size:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1,) * 2))
    return m.astype(bool)


def ink_ratio(mask: NDArray[np.generic]) -> float:
    """Fraction of ink pixels in a mask: 0 (blank or empty mask) … 1."""
    m = np.asarray(mask)
    return float(np.count_nonzero(m) / m.size) if m.size else 0.0


def stroke_count(mask: NDArray[np.generic], *, min_area_px: int) -> int:
    """Connected blobs (8-connected) of at least ``min_area_px`` pixels: pen strokes, not specks of noise."""
    m = (np.asarray(mask) > 0).astype(np.uint8)
    if m.size == 0 or not m.any():
        return 0
    n, _, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    return int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= max(1, min_area_px)))


def edge_energy(norm: Float, mask: Mask | None = None, *, presmooth_px: float = 0.7) -> float:
    """Mean squared gradient of a normalised image (optionally inside ``mask``): ≥ 0, falls with blur.

    For a step of height h blurred by a Gaussian of σ px, the summed squared gradient is ∝ h²/σ, so the
    ratio of two images' energies over the same content estimates their relative sharpness. A light
    pre-smoothing (``presmooth_px``) keeps pixel noise from counting as edges.
    """
    a = np.asarray(norm, dtype=np.float32)
    if a.size == 0 or min(a.shape) < 3:
        return 0.0
    if presmooth_px > 0:
        a = cv2.GaussianBlur(a, (0, 0), presmooth_px)
    gx = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3)
    e = gx * gx + gy * gy
    if mask is not None:
        sel = np.asarray(mask, dtype=bool)
        return float(e[sel].mean()) if sel.any() else 0.0
    return float(e.mean())


def directional_edge_energy(norm: Float, mask: Mask | None = None, *, presmooth_px: float = 0.7
                            ) -> tuple[float, float, float, float]:
    """Mean squared directional derivative along 0°, 45°, 90°, 135° (each ≥ 0; see `edge_energy`).

    Motion blur lowers the energy across its direction only: the smallest of the four ratios to a
    reference catches it where the isotropic `edge_energy` would average it away.
    """
    a = np.asarray(norm, dtype=np.float32)
    if a.size == 0 or min(a.shape) < 3:
        return (0.0, 0.0, 0.0, 0.0)
    if presmooth_px > 0:
        a = cv2.GaussianBlur(a, (0, 0), presmooth_px)
    gx = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3)
    sel = None if mask is None else np.asarray(mask, dtype=bool)
    if sel is not None and not sel.any():
        return (0.0, 0.0, 0.0, 0.0)
    out = []
    for d in (gx, (gx + gy) * np.float32(0.7071), gy, (gx - gy) * np.float32(0.7071)):
        e = d * d
        out.append(float(e[sel].mean()) if sel is not None else float(e.mean()))
    return (out[0], out[1], out[2], out[3])


def relative_sharpness(photo: Float, reference: Float, mask: Mask | None = None, *, contrast: float = 1.0
                       ) -> float:
    """Sharpness of ``photo`` next to ``reference`` (same content, same grid): ~1 as sharp, → 0 blurred.

    The smallest, over four directions, of the ratio of `directional_edge_energy`, the photo's divided by
    its squared ``contrast`` (its print's depth relative to the reference's, 0 … 1) so that faint but
    sharp print is not called blurred. 0 when the reference has no edges there or contrast is 0.
    """
    if contrast <= 0:
        return 0.0
    ep = directional_edge_energy(photo, mask)
    er = directional_edge_energy(reference, mask)
    ratios = [p / (contrast * contrast) / r for p, r in zip(ep, er, strict=True) if r > 0]
    return float(min(ratios)) if ratios else 0.0


def saturated_fraction(gray: NDArray[np.generic], *, saturated_at: int) -> float:
    """Fraction of pixels at or above ``saturated_at`` (burnt-out highlights, glare): 0 … 1."""
    g = _gray(gray)
    return float(np.count_nonzero(g >= saturated_at) / g.size) if g.size else 0.0


def blotch_mask(norm: Float, *, stroke_px: int, darker_than: float, exclude: Mask | None = None) -> Mask:
    """Broad dark patches on paper (stains, blots): darker than ``darker_than`` after thin strokes are closed.

    A grey-level closing of ``stroke_px`` erases pen strokes and print thinner than that; what stays dark
    is a blot or a stain. ``exclude`` (e.g. the master's solid print, the markers) is left out.
    """
    a = np.asarray(norm, dtype=np.float32)
    if a.size == 0:
        return np.zeros(a.shape, bool)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * max(1, stroke_px) + 1,) * 2)
    closed = cv2.dilate(a, k)
    m = closed < darker_than
    if exclude is not None:
        m &= ~exclude
    return m


def crease_fraction(gray: NDArray[np.generic], *, stroke_px: int, scale_px: float, deviation: float,
                    exclude: Mask | None = None) -> float:
    """Fraction of paper showing creases: mid-scale shading ripples, 0 (flat) … 1 (crumpled all over).

    The paper (strokes closed away) is compared with itself smoothed at ``scale_px``; pixels deviating by
    more than ``deviation`` (relative brightness) count. A flat page under a smooth shadow scores ~0; a
    single mild fold scores a thin line; crumpled paper a large share.
    """
    g = _gray(gray)
    if g.size == 0:
        return 0.0
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * max(1, stroke_px) + 1,) * 2)
    paper = cv2.dilate(g, k).astype(np.float32)
    paper = cv2.GaussianBlur(paper, (0, 0), max(0.5, stroke_px / 2))
    smooth = np.maximum(cv2.GaussianBlur(paper, (0, 0), max(1.0, scale_px)), 1.0)
    dev = np.abs(paper / smooth - 1.0) > deviation
    if exclude is not None:
        keep = ~np.asarray(exclude, bool)
        return float(np.count_nonzero(dev & keep) / max(1, np.count_nonzero(keep)))
    return float(np.count_nonzero(dev) / dev.size)



def open_mask(mask: NDArray[np.generic], *, radius_px: int) -> Mask:
    """Morphological opening of a mask: parts narrower than ~2 × ``radius_px`` are dropped (specks, noise)."""
    m = (np.asarray(mask) > 0).astype(np.uint8)
    if m.size == 0 or radius_px <= 0:
        return m.astype(bool)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius_px + 1,) * 2)
    return cv2.morphologyEx(m, cv2.MORPH_OPEN, k) > 0


def percentile_u8(gray: NDArray[np.generic], q: float, mask: NDArray[np.generic] | None = None) -> float:
    """The ``q``-th percentile (0 … 100) of an 8-bit image's values, inside ``mask`` if given: 0 … 255.

    From the 256-bin histogram (``cv2.calcHist``, no sorting), so an integer grey level: the smallest
    value with at least ``q`` % of the pixels at or below it. NaN when no pixel counts.
    """
    g = _gray(gray)
    m = None if mask is None else (np.asarray(mask) > 0).astype(np.uint8)
    if g.size == 0:
        return float("nan")
    hist = cv2.calcHist([np.ascontiguousarray(g)], [0], m, [256], [0, 256]).ravel()
    total = float(hist.sum())
    if total <= 0:
        return float("nan")
    cum = np.cumsum(hist)
    target = max(min(max(q, 0.0), 100.0) / 100.0 * total, 0.5)  # at least one pixel: q = 0 is the minimum
    return float(np.searchsorted(cum, target))

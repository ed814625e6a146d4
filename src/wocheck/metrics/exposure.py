"""Exposure, contrast, glare and tonal-structure measures: pure functions, an image in, a number out.

Any image is accepted (8/16-bit, float in [0, 1], grey or BGR/BGRA: see `as_gray_float`); every level
parameter and every result level is in [0, 1] luminance units (255 for 8-bit white = 1.0). Fractions are
of the image's pixels, so they do not depend on its resolution; measures with a window (`local_contrast`)
or a minimum blob size in px depend on the analysis scale and compare at one scale only.

- brightness: `mean_luminance`, `luminance_percentile`;
- too dark / overexposed: `dark_fraction`, `bright_fraction`, `clipped_fractions` (pixels at the ends of
  the range, where detail is lost for good);
- contrast: `rms_contrast` (global), `local_contrast` (mean local standard deviation: texture and detail);
- glare: `glare_blobs`, saturated connected regions with their boxes;
- structure for "is there anything in the frame": `entropy_bits` (histogram entropy), `tile_contrast_fraction`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from wocheck.metrics._image import as_gray_float

__all__ = [
    "Blob", "bright_fraction", "clipped_fractions", "dark_fraction", "entropy_bits", "glare_blobs",
    "local_contrast", "luminance_percentile", "mean_luminance", "rms_contrast", "tile_contrast_fraction",
    "tile_std",
]


def mean_luminance(img: NDArray[Any] | Any) -> float:
    """Mean grey level in [0, 1]; 0.0 for an empty image. Resolution-independent."""
    g = as_gray_float(img)
    return float(g.mean(dtype=np.float64)) if g.size else 0.0


def luminance_percentile(img: NDArray[Any] | Any, q: float) -> float:
    """The ``q``-th percentile (0-100) of the grey levels, in [0, 1]; 0.0 for an empty image.

    Monotone in exposure: brightening every pixel never lowers it. Resolution-independent.
    """
    g = as_gray_float(img)
    return float(np.percentile(g, q)) if g.size else 0.0


def dark_fraction(img: NDArray[Any] | Any, *, below: float) -> float:
    """Fraction of pixels darker than ``below`` (a level in [0, 1]), in [0, 1]; 0.0 for an empty image."""
    g = as_gray_float(img)
    return float(np.count_nonzero(g < below)) / g.size if g.size else 0.0


def bright_fraction(img: NDArray[Any] | Any, *, above: float) -> float:
    """Fraction of pixels brighter than ``above`` (a level in [0, 1]), in [0, 1]; 0.0 for an empty image."""
    g = as_gray_float(img)
    return float(np.count_nonzero(g > above)) / g.size if g.size else 0.0


def clipped_fractions(img: NDArray[Any] | Any, *, low: float = 2 / 255,
                      high: float = 253 / 255) -> tuple[float, float]:
    """(fraction at or below ``low``, fraction at or above ``high``): crushed blacks and blown highlights.

    Both in [0, 1]; (0.0, 0.0) for an empty image. With 8-bit input the defaults are levels ≤ 2 and ≥ 253.
    """
    g = as_gray_float(img)
    if not g.size:
        return 0.0, 0.0
    n = g.size
    return float(np.count_nonzero(g <= low)) / n, float(np.count_nonzero(g >= high)) / n


def rms_contrast(img: NDArray[Any] | Any) -> float:
    """Standard deviation of the grey levels, in [0, 0.5]; 0 for a uniform or empty image."""
    g = as_gray_float(img)
    return float(g.std(dtype=np.float64)) if g.size else 0.0


def local_contrast(img: NDArray[Any] | Any, *, window: int = 15) -> float:
    """Mean of the local standard deviation over ``window``×``window`` px neighbourhoods, in [0, 0.5].

    Measures detail (texture, edges) rather than overall spread: a smooth left-to-right gradient has a
    large `rms_contrast` but a small local contrast. 0 for a uniform or empty image. The window is in px
    of the given image: compare at one analysis scale.
    """
    g = as_gray_float(img)
    if not g.size:
        return 0.0
    k = (window, window)
    m = cv2.blur(g, k, borderType=cv2.BORDER_REFLECT)
    m2 = cv2.blur(g * g, k, borderType=cv2.BORDER_REFLECT)
    var = np.maximum(m2 - m * m, 0.0)
    return float(np.sqrt(var).mean(dtype=np.float64))


def entropy_bits(img: NDArray[Any] | Any, *, bins: int = 64) -> float:
    """Shannon entropy of the grey-level histogram (``bins`` equal bins over [0, 1]), in bits.

    Range [0, log2(bins)]: 0 for a uniform (or empty) image, log2(bins) when every bin is equally used.
    Resolution-independent; says how many tones are used, not where (a noise image scores high).
    """
    g = as_gray_float(img)
    if not g.size:
        return 0.0
    hist = np.bincount(np.minimum((g * bins).astype(np.int64), bins - 1).ravel(), minlength=bins)
    p = hist[hist > 0].astype(np.float64) / g.size
    return float(max(0.0, -(p * np.log2(p)).sum()))


def tile_std(img: NDArray[Any] | Any, grid: tuple[int, int]) -> NDArray[np.float64]:
    """Standard deviation of the grey levels in each tile of a ``rows × cols`` grid, each in [0, 0.5].

    Tiles are as equal as integer division allows; a grid larger than the image gives zero-size tiles,
    which read 0.
    """
    g = as_gray_float(img)
    rows, cols = grid
    out = np.zeros((rows, cols))
    if not g.size:
        return out
    ys = np.linspace(0, g.shape[0], rows + 1).astype(int)
    xs = np.linspace(0, g.shape[1], cols + 1).astype(int)
    for i in range(rows):
        for j in range(cols):
            t = g[ys[i]:ys[i + 1], xs[j]:xs[j + 1]]
            out[i, j] = float(t.std(dtype=np.float64)) if t.size else 0.0
    return out


def tile_contrast_fraction(img: NDArray[Any] | Any, grid: tuple[int, int], *, min_std: float) -> float:
    """Fraction of tiles (of a ``rows × cols`` grid) whose grey-level std reaches ``min_std``, in [0, 1].

    A blank wall, a covered lens or a uniform frame has none; a scene with things in it has many.
    """
    s = tile_std(img, grid)
    return float(np.count_nonzero(s >= min_std)) / s.size if s.size else 0.0


@dataclass(frozen=True)
class Blob:
    """A connected region: box (x, y, w, h) in px of the analysed image, area as a fraction of the image."""

    x: int
    y: int
    w: int
    h: int
    area_fraction: float
    halo: float = 0.0  # mean grey level [0, 1] of a ring just outside the blob (0 when not measured)

    def box(self, scale: float = 1.0) -> list[float]:
        """The box scaled by ``scale`` (e.g. preview -> full-size px), as [x, y, w, h]."""
        return [round(self.x * scale, 1), round(self.y * scale, 1), round(self.w * scale, 1),
                round(self.h * scale, 1)]


def glare_blobs(img: NDArray[Any] | Any, *, saturated_at: float = 0.98, min_area_fraction: float = 0.0,
                halo_px: int = 0, halo_blobs: int = 3) -> list[Blob]:
    """Saturated connected regions (8-connected pixels ≥ ``saturated_at``), largest first.

    Regions smaller than ``min_area_fraction`` of the image are left out. Areas are fractions of the
    image, so they do not depend on the resolution; boxes are in px of the given image. Empty list for
    an empty image or one without saturated pixels. Whether a blob is glare (a specular reflection, a
    flash on a glossy surface) or a legitimately white object is for the caller to judge from its size,
    its place and the rest of the exposure; with ``halo_px`` > 0 the ``halo_blobs`` largest blobs also get
    ``halo``, the mean grey level of the ring ``halo_px`` px wide around them: a highlight fades out
    through a bright halo (high), a white object ends at its outline against whatever is behind it
    (the background's level).
    """
    g = as_gray_float(img)
    if not g.size:
        return []
    mask = (g >= saturated_at).astype(np.uint8)
    if not mask.any():
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    total = float(g.size)
    order = sorted(range(1, n), key=lambda i: -int(stats[i, 4]))
    blobs = []
    for rank, i in enumerate(order):
        area = float(stats[i, 4]) / total
        if area < min_area_fraction:
            break
        halo = 0.0
        if halo_px > 0 and rank < halo_blobs:
            x, y, w, h = (int(v) for v in stats[i, :4])
            x0, y0 = max(0, x - halo_px), max(0, y - halo_px)
            x1, y1 = min(g.shape[1], x + w + halo_px), min(g.shape[0], y + h + halo_px)
            blob = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * halo_px + 1, 2 * halo_px + 1))
            ring = (cv2.dilate(blob, k) > 0) & (blob == 0)
            if ring.any():
                halo = float(g[y0:y1, x0:x1][ring].mean())
        blobs.append(Blob(int(stats[i, 0]), int(stats[i, 1]), int(stats[i, 2]), int(stats[i, 3]), area, halo))
    return blobs


def exposure_value_shift(img: NDArray[Any] | Any, *, target: float = 0.45) -> float:
    """How many stops (EV) the median grey level is from ``target``: negative too dark, positive too bright.

    log2(median / target) with the median floored at 1/255; range about [-6.8, +1.2]. Compares between
    any two images (resolution-independent).
    """
    g = as_gray_float(img)
    med = float(np.median(g)) if g.size else 0.0
    return math.log2(max(med, 1 / 255) / target)

"""Sharpness and blur measures: pure functions, an image in, a number (or a small array) out.

Any image is accepted (8/16-bit, float in [0, 1], grey or BGR/BGRA: see `as_gray_float`). Measures in
pixels depend on the scale the image is analysed at: bring images to one analysis scale first
(`to_analysis_scale`, e.g. a long side of 1000 px) and compare only numbers taken at the same scale.

The measures, from most to least content-independent:

- `edge_field` / `edge_width`: the width (px) of the image's edges, measured at gradient maxima as the local
  contrast (max - min in a window) divided by the peak gradient. A sharp step is about 2 px wide; a Gaussian
  blur of σ px widens it to about σ·√(2π). It does not depend on how bright or contrasted the edges are, nor
  on how many there are. `EdgeField.tile_widths` gives it per tile (a sharp subject in front of a soft
  background has sharp tiles), `EdgeField.directional_widths` per gradient direction: motion blur widens
  only the edges whose gradient runs along the motion, defocus widens all (`motion_anisotropy`).
- `blur_effect`: the no-reference perceptual blur of Crete-Roffet et al. (2007), as in scikit-image:
  0 sharp … 1 fully blurred, normalised by the image's own edge strength.
- `laplacian_variance`: the classic focus measure; grows with sharpness *and* with the amount and contrast of
  texture, so it compares only photos of the same content at the same scale.
- `edge_density`: the fraction of pixels on a contrasted edge (a structure measure, for "nothing in frame").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from wocheck.metrics._image import FloatImage, as_gray_float, to_analysis_scale

__all__ = [
    "EdgeField", "anisotropy_of", "as_gray_float", "blur_effect", "directional_blur_width", "edge_density",
    "edge_field", "edge_width", "laplacian_variance", "motion_anisotropy", "tile_directional_blur", "tile_grid",
    "to_analysis_scale",
]

# Fraction of the strongest gradient in the window that an edge pixel must reach: keeps the main edge of a
# neighbourhood and drops the weak gradient ripples beside it, whose contrast/gradient ratio is meaningless.
_DOMINANT_FRACTION = 0.5


def laplacian_variance(img: NDArray[Any] | Any) -> float:
    """Variance of the 4-neighbour Laplacian of the grey image in [0, 1] units (intensity²/px⁴).

    Range [0, 16); 0 for a uniform or empty image. Higher is sharper *for the same content at the same
    analysis scale only*: it also grows with texture and contrast, and with noise.
    """
    g = as_gray_float(img)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 0.0
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
    return float(lap[1:-1, 1:-1].var())


def blur_effect(img: NDArray[Any] | Any, *, h_size: int = 11) -> float:
    """Perceptual blur (Crete-Roffet 2007): 0 sharp … 1 fully blurred, dimensionless.

    Re-blurs the image with an ``h_size`` box filter along each axis and measures how much of the
    neighbour-difference energy survives; the larger loss of the two axes is returned, so blur along
    either axis counts. Normalised by the image's own differences: fairly independent of contrast and of
    how much texture there is; still depends on the analysis scale (compare at one scale). A uniform,
    empty or tiny image returns 1.0 (nothing sharp in it).
    """
    g = as_gray_float(img)
    if g.shape[0] < 2 or g.shape[1] < 2:
        return 1.0
    results = []
    for axis in (0, 1):
        ksize = (1, h_size) if axis == 1 else (h_size, 1)
        b = cv2.blur(g, ksize, borderType=cv2.BORDER_REFLECT)
        d_img = np.abs(np.diff(g, axis=axis))
        d_blur = np.abs(np.diff(b, axis=axis))
        total = float(d_img.sum(dtype=np.float64))
        if total <= 1e-9:
            results.append(1.0)
            continue
        lost = float(np.maximum(d_img - d_blur, 0.0).sum(dtype=np.float64))
        results.append((total - lost) / total)
    return float(np.clip(max(results), 0.0, 1.0))


@dataclass(frozen=True)
class EdgeField:
    """Edge pixels of one grey image with their width and direction (built by `edge_field`).

    ``ys, xs``: edge pixel coordinates; ``width``: px (≥ ~2, ≤ ``max_width``); ``angle``: gradient
    direction in degrees [0, 180) (0 = gradient along x, i.e. a vertical edge); ``contrast``: local
    max - min in [0, 1]. ``shape`` is the analysed image's shape.
    """

    shape: tuple[int, int]
    ys: NDArray[np.int32]
    xs: NDArray[np.int32]
    width: NDArray[np.float32]
    angle: NDArray[np.float32]
    contrast: NDArray[np.float32]
    max_width: float

    @property
    def count(self) -> int:
        return int(self.width.size)

    def median_width(self) -> float:
        """Median edge width in px; ``max_width`` when there is no edge (nothing sharp: fully blurred)."""
        return float(np.median(self.width)) if self.count else self.max_width

    def density(self) -> float:
        """Edge pixels per image pixel, in [0, 1]; 0 for a blank image."""
        n = self.shape[0] * self.shape[1]
        return self.count / n if n else 0.0

    def tile_widths(self, grid: tuple[int, int], *, min_edges: int) -> NDArray[np.float64]:
        """Median edge width (px) per tile of a ``rows × cols`` grid; NaN where a tile has < ``min_edges``."""
        rows, cols = grid
        out = np.full((rows, cols), np.nan)
        if not self.count:
            return out
        h, w = self.shape
        ti = np.minimum(self.ys * rows // max(h, 1), rows - 1)
        tj = np.minimum(self.xs * cols // max(w, 1), cols - 1)
        tile = ti * cols + tj
        order = np.argsort(tile, kind="stable")
        tile_sorted, width_sorted = tile[order], self.width[order]
        starts = np.searchsorted(tile_sorted, np.arange(rows * cols))
        ends = np.searchsorted(tile_sorted, np.arange(rows * cols), side="right")
        for k in range(rows * cols):
            if ends[k] - starts[k] >= min_edges:
                out[k // cols, k % cols] = float(np.median(width_sorted[starts[k]:ends[k]]))
        return out

    def tile_counts(self, grid: tuple[int, int]) -> NDArray[np.int64]:
        """Number of edge pixels per tile of a ``rows × cols`` grid."""
        rows, cols = grid
        h, w = self.shape
        if not self.count:
            return np.zeros((rows, cols), np.int64)
        ti = np.minimum(self.ys * rows // max(h, 1), rows - 1)
        tj = np.minimum(self.xs * cols // max(w, 1), cols - 1)
        return np.bincount((ti * cols + tj).ravel(), minlength=rows * cols).reshape(rows, cols)

    def directional_widths(self, bins: int, *, min_edges: int, q: float = 50.0,
                           min_share: float = 0.0) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """The ``q``-th percentile edge width (px) per gradient-direction bin of 180/``bins`` degrees, and counts.

        Bin k covers gradient directions [k·180/bins, (k+1)·180/bins); NaN where the bin has fewer than
        ``min_edges`` edges or less than ``min_share`` of all edges. A low ``q`` reads the sharpest edges of
        each direction: the subject's, when the background is soft.
        """
        widths = np.full(bins, np.nan)
        idx = np.minimum((self.angle * bins / 180.0).astype(np.int64), bins - 1)
        counts = np.bincount(idx, minlength=bins).astype(np.int64)
        need = max(min_edges, min_share * self.count)
        for k in range(bins):
            if counts[k] >= need and counts[k] > 0:
                widths[k] = float(np.percentile(self.width[idx == k], q))
        return widths, counts

    def stronger_than(self, min_contrast: float) -> EdgeField:
        """The edges whose local contrast is at least ``min_contrast``."""
        keep = self.contrast >= min_contrast
        return EdgeField(self.shape, self.ys[keep], self.xs[keep], self.width[keep], self.angle[keep],
                         self.contrast[keep], self.max_width)


def edge_field(img: NDArray[Any] | Any, *, radius: int = 7, min_contrast: float = 0.06) -> EdgeField:
    """Find the edges of an image and measure each one's width and direction.

    An edge pixel is a gradient maximum (3×3) whose gradient reaches half the strongest one within
    ``radius`` px and whose local contrast (max - min over a (2·radius+1)² window) is at least
    ``min_contrast`` (in [0, 1] intensity units; below it noise dominates). Its width is contrast /
    gradient (px), capped at the window size 2·radius+1 (= ``max_width``): edges wider than the window
    read as ``max_width``. Gradients are 3×3 Sobel derivatives per px.
    """
    g = as_gray_float(img)
    win = 2 * radius + 1
    empty_i = np.zeros(0, np.int32)
    empty_f = np.zeros(0, np.float32)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return EdgeField((int(g.shape[0]), int(g.shape[1])), empty_i, empty_i, empty_f, empty_f, empty_f,
                         float(win))
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, scale=0.125, borderType=cv2.BORDER_REFLECT)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, scale=0.125, borderType=cv2.BORDER_REFLECT)
    mag = cv2.magnitude(gx, gy)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (win, win))
    # Morphology on 16-bit integers (vectorised in OpenCV, much faster than float): range at 1/65535,
    # gradient at 1/2^15 of its maximum (√2), both far below any threshold used.
    g16 = (g * 65535.0 + 0.5).astype(np.uint16)
    local_range = (cv2.dilate(g16, kernel).astype(np.float32) - cv2.erode(g16, kernel)) / 65535.0
    mag16 = (mag * (32767.0 / math.sqrt(2.0)) + 0.5).astype(np.uint16)
    mag = mag16.astype(np.float32)
    mag_max3 = cv2.dilate(mag16, np.ones((3, 3), np.uint8)).astype(np.float32)
    mag_max_win = cv2.dilate(mag16, kernel).astype(np.float32)
    mask = ((local_range >= min_contrast) & (mag >= mag_max3) & (mag > 0)
            & (mag >= _DOMINANT_FRACTION * mag_max_win))
    # The border rows/columns see reflected pixels: leave them out.
    mask[:1, :] = mask[-1:, :] = False
    mask[:, :1] = mask[:, -1:] = False
    ys, xs = np.nonzero(mask)
    m = mag[ys, xs] * (math.sqrt(2.0) / 32767.0)
    c = local_range[ys, xs]
    width = np.minimum(c / m, float(win)).astype(np.float32)
    angle = (np.degrees(np.arctan2(gy[ys, xs], gx[ys, xs])) % 180.0).astype(np.float32)
    return EdgeField((int(g.shape[0]), int(g.shape[1])), ys.astype(np.int32), xs.astype(np.int32), width,
                     angle, c.astype(np.float32), float(win))


def edge_width(img: NDArray[Any] | Any, *, radius: int = 7, min_contrast: float = 0.06) -> float:
    """Median edge width in px at the image's scale: ~2 sharp, ~σ·√(2π) after a Gaussian blur of σ px.

    Range [~1, 2·radius+1]; the maximum also for an image without any contrasted edge (uniform, empty).
    Lower is sharper; two values compare when taken at the same analysis scale with the same parameters.
    """
    return edge_field(img, radius=radius, min_contrast=min_contrast).median_width()


def tile_grid(shape: tuple[int, int], tile_px: int) -> tuple[int, int]:
    """Rows and columns of a grid of roughly square tiles of ``tile_px`` px over an image of ``shape``."""
    h, w = shape
    return max(1, round(h / tile_px)), max(1, round(w / tile_px))


def motion_anisotropy(img: NDArray[Any] | Any, *, bins: int = 8, min_edges: int = 30, radius: int = 7,
                      min_contrast: float = 0.06) -> tuple[float, float]:
    """How much wider edges are in one direction than across it: (ratio ≥ 1, blur direction in degrees).

    Motion blur along a direction widens the edges whose gradient runs along it and leaves the others
    sharp; defocus widens all alike. The ratio is the widest direction bin's median width over the
    narrowest (bins with at least ``min_edges`` edges); ~1 for defocus or a sharp image, large for motion
    blur; 1.0 when fewer than two bins have enough edges (nothing to compare). The direction is the
    widest bin's centre, [0, 180) degrees, 0 = horizontal motion.
    """
    f = edge_field(img, radius=radius, min_contrast=min_contrast)
    return anisotropy_of(f, bins=bins, min_edges=min_edges)


def anisotropy_of(field: EdgeField, *, bins: int, min_edges: int, q: float = 50.0,
                  min_share: float = 0.0) -> tuple[float, float]:
    """`motion_anisotropy` of an already computed `EdgeField` (``q``: percentile of width per bin)."""
    widths, _ = field.directional_widths(bins, min_edges=min_edges, q=q, min_share=min_share)
    ok = np.isfinite(widths)
    if ok.sum() < 2:
        return 1.0, 0.0
    k_max = int(np.nanargmax(widths))
    ratio = float(np.nanmax(widths) / max(np.nanmin(widths), 1e-6))
    return max(ratio, 1.0), (k_max + 0.5) * 180.0 / bins


def directional_blur_width(field: EdgeField, *, bins: int, min_edges: int, q: float,
                           min_share: float) -> float:
    """The blur of the worst direction: max over direction bins of the ``q``-th percentile edge width (px).

    Each bin's low percentile is the width of its sharpest edges, so a photo with a sharp subject reads
    sharp however much of the frame is soft; motion blur widens every edge whose gradient runs along the
    motion and so raises one direction's value, defocus raises all. Range [~1, ``max_width``]; the maximum
    when no bin has enough edges (nothing sharp to measure). Compare at one analysis scale.
    """
    widths, _ = field.directional_widths(bins, min_edges=min_edges, q=q, min_share=min_share)
    return float(np.nanmax(widths)) if np.isfinite(widths).any() else field.max_width


def tile_directional_blur(field: EdgeField, grid: tuple[int, int], *, bins: int, min_edges: int,
                          q: float) -> NDArray[np.float64]:
    """Per tile of a ``rows × cols`` grid: the blur of the tile's worst direction (px), NaN where unmeasurable.

    In each tile, the edges are binned by gradient direction (``bins`` bins over 180°); each bin with at
    least ``min_edges`` edges gives the ``q``-th percentile of its widths (its sharpest edges), and the tile
    reads the largest of them. A tile needs two perpendicular measured directions (bins k and k + bins/2;
    ``bins`` even), else NaN: edges of one direction say nothing about motion along them, and motion in
    any direction widens at least one of two perpendicular directions by cos 45° of its length. A low
    percentile over the tiles then reads the sharpest region's blur: a sharp subject in front of a soft
    background is sharp, a shaken photo is not (its motion direction is wide in every tile), a defocused
    one is not (every direction is wide).
    """
    rows, cols = grid
    out = np.full((rows, cols), np.nan)
    if not field.count:
        return out
    h, w = field.shape
    ti = np.minimum(field.ys.astype(np.int64) * rows // max(h, 1), rows - 1)
    tj = np.minimum(field.xs.astype(np.int64) * cols // max(w, 1), cols - 1)
    b = np.minimum((field.angle * bins / 180.0).astype(np.int64), bins - 1)
    key = (ti * cols + tj) * bins + b
    order = np.argsort(key, kind="stable")
    key_sorted, width_sorted = key[order], field.width[order]
    n_keys = rows * cols * bins
    starts = np.searchsorted(key_sorted, np.arange(n_keys))
    ends = np.searchsorted(key_sorted, np.arange(n_keys), side="right")
    for t in range(rows * cols):
        ok = [ends[t * bins + k] - starts[t * bins + k] >= min_edges for k in range(bins)]
        if not any(ok[k] and ok[(k + bins // 2) % bins] for k in range(bins // 2)):
            continue
        out[t // cols, t % cols] = max(float(np.percentile(width_sorted[starts[t * bins + k]:ends[t * bins + k]], q))
                                       for k in range(bins) if ok[k])
    return out


def edge_density(img: NDArray[Any] | Any, *, radius: int = 7, min_contrast: float = 0.06) -> float:
    """Fraction of pixels that are contrasted edge maxima, in [0, 1]; 0 for a blank image.

    Depends on the analysis scale (more pixels, thinner edges): compare at one scale.
    """
    return edge_field(img, radius=radius, min_contrast=min_contrast).density()


def percentile_or(values: NDArray[Any], q: float, default: float) -> float:
    """The ``q``-th percentile of the finite values, or ``default`` when there are none."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    return float(np.percentile(v, q)) if v.size else default


def gaussian_blurred(img: NDArray[Any] | Any, sigma: float) -> FloatImage:
    """A Gaussian-blurred grey float copy (σ in px; σ ≤ 0 returns the image): for tests and calibration."""
    g = as_gray_float(img)
    if sigma <= 0 or g.size == 0:
        return g
    k = 2 * math.ceil(3 * sigma) + 1
    return cv2.GaussianBlur(g, (k, k), sigma, borderType=cv2.BORDER_REFLECT)


def motion_blurred(img: NDArray[Any] | Any, length: int, angle_deg: float) -> FloatImage:
    """A linear-motion-blurred grey float copy (``length`` px along ``angle_deg``, 0 = horizontal)."""
    g = as_gray_float(img)
    if length <= 1 or g.size == 0:
        return g
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle_deg, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    k /= max(float(k.sum()), 1e-6)
    return cv2.filter2D(g, -1, k, borderType=cv2.BORDER_REFLECT)

"""Input normalisation shared by the pure metric functions (no I/O, no logging).

Every metric takes "an image" in whatever form a caller has it — 8- or 16-bit, float, bool, grey or
3/4-channel (taken as OpenCV's BGR/BGRA order) — and works on one grey ``float32`` array in [0, 1].
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

FloatImage = NDArray[np.float32]


def as_gray_float(img: NDArray[Any] | Any) -> FloatImage:
    """``img`` as a 2-D ``float32`` grey image in [0, 1].

    - dtype: unsigned/signed integers are divided by their type's maximum (uint8 by 255, uint16 by 65535),
      bool maps to {0, 1}, floats are taken as already in [0, 1] and clipped (NaN becomes 0);
    - channels: 3 or 4 channels are BGR(A) (OpenCV's order; alpha is ignored) converted with the Rec. 601
      luma weights; a trailing single channel is squeezed.
    An empty array gives an empty ``(0, 0)`` result.
    """
    a = np.asarray(img)
    if a.size == 0:
        return np.zeros((0, 0), np.float32)
    if a.dtype == np.float32 and a.ndim == 2:  # fast path: already grey float in range (no copy)
        lo, hi = float(a.min()), float(a.max())
        if 0.0 <= lo and hi <= 1.0:  # NaN fails both comparisons
            return a
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.dtype == np.bool_:
        f = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.integer):
        f = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
    else:
        f = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    f = np.clip(f, 0.0, 1.0)
    if f.ndim == 3:
        if f.shape[2] not in (3, 4):
            raise ValueError(f"an image has 1, 3 or 4 channels, not {f.shape[2]}")
        f = cv2.cvtColor(np.ascontiguousarray(f[:, :, :3]), cv2.COLOR_BGR2GRAY)
    elif f.ndim != 2:
        raise ValueError(f"an image is a 2-D or 3-D array, not {f.ndim}-D")
    return np.ascontiguousarray(f, dtype=np.float32)


def to_analysis_scale(img: NDArray[Any] | Any, long_side: int) -> FloatImage:
    """Grey float image resampled so that its long side is ``long_side`` px (area averaging); never upsampled.

    Scale-dependent measures (edge width in px, Laplacian energy) compare only between images brought to
    the same analysis scale; an image already smaller than ``long_side`` is returned at its own size, and
    the caller rescales px measures by ``long_side / max(shape)``.
    """
    g = as_gray_float(img)
    if g.size == 0:
        return g
    h, w = g.shape
    k = long_side / max(h, w)
    if k >= 1.0:
        return g
    size = (max(1, round(w * k)), max(1, round(h * k)))
    return cv2.resize(g, size, interpolation=cv2.INTER_AREA)

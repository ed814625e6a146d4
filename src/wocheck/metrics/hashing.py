"""Perceptual hashes of photos: a 256-bit DCT hash with a quality score (PDQ-style), a 64-bit pHash.

Pure functions: a grey image in (any size, uint8 or float, already in display orientation — the caller
applies EXIF orientation, so that a rotated copy of a photo hashes like the original), bits out.

`dct256` follows the design of Meta's PDQ (which is not installable as a wheel here): the luminance is
reduced to 64×64 by area averaging, a 2-D DCT is taken, the 16×16 lowest frequencies *excluding* the DC
row and column are kept, and each bit says whether its coefficient is above the median of the 256.
Re-encoding, resizing, brightness/contrast changes and small crops move few bits; unrelated photos differ
in about half of them (~128). `quality_score` is PDQ's image-domain quality metric (0 flat … 100 busy):
flat images (a blank wall, a covered lens) give unstable, mutually similar hashes and must not be used
for matching.

Hashes travel as lower-case hex strings (64 hex digits for 256 bits, 16 for 64 bits) and as ``bytes``.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

HASH256_BITS = 256
HASH64_BITS = 64

# PDQ's working size and its quality normalisation (gradientSum / 90, capped at 100).
_WORK_SIDE = 64
_QUALITY_DIVISOR = 90.0
_QUALITY_MAX = 100


def _luma64(gray: NDArray[np.generic]) -> NDArray[np.float32]:
    img = np.asarray(gray)
    if img.ndim == 3:  # BGR: OpenCV's luma weights
        img = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    if img.ndim != 2 or img.size == 0:
        return np.zeros((_WORK_SIDE, _WORK_SIDE), np.float32)
    img = img.astype(np.float32)
    return cv2.resize(img, (_WORK_SIDE, _WORK_SIDE), interpolation=cv2.INTER_AREA)


def luma64(gray: NDArray[np.generic]) -> NDArray[np.float32]:
    """The 64×64 area-reduced luminance (float32, 0…255) that `dct256` and `quality_score` work on.

    Both give the same result on it as on ``gray`` itself (a 64×64 input is not resized again): reduce once
    and pass it to both to save the second reduction of a large preview.
    """
    return _luma64(gray)


def _bits_to_bytes(bits: NDArray[np.bool_]) -> bytes:
    return np.packbits(bits.astype(np.uint8).ravel()).tobytes()


def quality_score(gray: NDArray[np.generic]) -> int:
    """PDQ's quality metric of an image: 0 (uniform) … 100 (strong structure); compare at any size.

    The sum of absolute neighbour differences on the 64×64 area-reduced luminance (0…255), each scaled to
    percent of full range and truncated, divided by 90 and capped at 100. Empty input gives 0.
    """
    y = _luma64(gray)
    dv = np.trunc((y[:-1, :] - y[1:, :]) * 100.0 / 255.0)
    dh = np.trunc((y[:, :-1] - y[:, 1:]) * 100.0 / 255.0)
    total = float(np.abs(dv).sum() + np.abs(dh).sum())
    return int(min(_QUALITY_MAX, total // _QUALITY_DIVISOR))


def dct256(gray: NDArray[np.generic]) -> bytes:
    """256-bit PDQ-style DCT hash (32 bytes, row-major over the 16×16 coefficients 1…16 × 1…16).

    Invariant to uniform brightness/contrast changes (median threshold, DC excluded) and to resizing
    (area reduction to 64×64). A uniform image gives all-zero bits (its quality is 0: don't match it).
    """
    y = _luma64(gray)
    coef = cv2.dct(y)[1:17, 1:17]
    return _bits_to_bytes(coef > np.median(coef))


def phash64(gray: NDArray[np.generic]) -> bytes:
    """The classic 64-bit pHash (8 bytes): 32×32 area reduction, DCT, the 8×8 lowest frequencies, each bit
    set when its coefficient is above the median of the 63 AC ones. Recorded for reviewers and tools that
    speak pHash; matching uses `dct256`.
    """
    img = np.asarray(gray)
    if img.ndim == 3:
        img = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    if img.ndim != 2 or img.size == 0:
        return bytes(8)
    y = cv2.resize(img.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    coef = cv2.dct(y)[:8, :8].ravel()
    return _bits_to_bytes(coef > np.median(coef[1:]))


def hamming(a: bytes | str, b: bytes | str) -> int:
    """Number of differing bits between two hashes of equal length (bytes or hex)."""
    ab = bytes.fromhex(a) if isinstance(a, str) else a
    bb = bytes.fromhex(b) if isinstance(b, str) else b
    if len(ab) != len(bb):
        raise ValueError(f"hashes differ in length: {len(ab)} vs {len(bb)} bytes")
    return int.from_bytes(ab, "big").__xor__(int.from_bytes(bb, "big")).bit_count()


# --- crop-tolerant window hashes ------------------------------------------------------------------------
# A crop of a few percent a side shifts and rescales the whole frame, which scrambles the finer DCT bits of
# `dct256` (and, on symmetric or noise-like graphics — a centred box, a QR code — even pHash's). So each
# stored photo also gets the hash of its *centre window* (``CROP_INSET`` of each side left out), and a query
# is hashed over a few windows whose insets, per side, tile 0…``CROP_INSET``: for a copy cropped by at most
# ``CROP_INSET`` a side, one of them lies within ``CROP_INSET / (2 × CROP_QUERY_STEPS)`` of the original's
# centre window on every side, and its hash within the ordinary match radius of the stored one.
CROP_INSET = 0.02  # fraction of each side outside the stored centre window (the crop tolerated a side)
CROP_QUERY_STEPS = 2  # query insets per side (CROP_QUERY_STEPS ** 4 query windows)
# Windows are cut on the image resampled to this side, i.e. to 1/512 of a side (sub-pixel on small images).
_WINDOW_WORK_SIDE = 512


def _window_work(gray: NDArray[np.generic]) -> NDArray[np.float32]:
    img = np.asarray(gray)
    if img.ndim == 3:
        img = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    if img.ndim != 2 or img.size == 0:
        return np.zeros((_WINDOW_WORK_SIDE, _WINDOW_WORK_SIDE), np.float32)
    s = _WINDOW_WORK_SIDE
    interp = cv2.INTER_AREA if min(img.shape) >= s else cv2.INTER_LINEAR
    return cv2.resize(img.astype(np.float32), (s, s), interpolation=interp)


def _window(work: NDArray[np.float32], insets: tuple[float, float, float, float]) -> bytes:
    s = work.shape[0]
    t, b, left, r = (int(round(s * f)) for f in insets)
    return dct256(work[t:s - b, left:s - r])


def window256(gray: NDArray[np.generic], insets: tuple[float, float, float, float]) -> bytes:
    """`dct256` of a sub-window: ``insets`` = (top, bottom, left, right), each the fraction (0 ≤ f < 0.5)
    of the height or width left out on that side, placed to 1/512 of the side."""
    if not all(0 <= f < 0.5 for f in insets):
        raise ValueError(f"insets must lie in [0, 0.5): {insets}")
    return _window(_window_work(gray), insets)


def centre256(gray: NDArray[np.generic]) -> bytes:
    """The stored crop-tolerant hash: `window256` of the centre window (``CROP_INSET`` off every side)."""
    return window256(gray, (CROP_INSET,) * 4)


def crop_probes256(gray: NDArray[np.generic]) -> list[bytes]:
    """The query side of `centre256`: ``CROP_QUERY_STEPS ** 4`` window hashes, the insets per side at the
    centres of ``CROP_QUERY_STEPS`` equal parts of 0…``CROP_INSET``. A copy cropped by ≤ ``CROP_INSET`` a
    side (then resized, re-encoded…) has one probe near the original's `centre256`."""
    work = _window_work(gray)
    steps = [CROP_INSET * (2 * k + 1) / (2 * CROP_QUERY_STEPS) for k in range(CROP_QUERY_STEPS)]
    return [_window(work, (t, b, left, r)) for t in steps for b in steps for left in steps for r in steps]

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

`photo_hashes` computes everything a scan needs of one photo (the above plus the crop-tolerant window
hashes below) from one shared 256×256 reduction: ~3.5 ms of CPU on a 1000-pixel preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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
# `dct256`. So each stored photo also gets the hash of its *centre window* (``CROP_INSET`` of each side left
# out), and a query is hashed over ``CROP_QUERY_STEPS ** 4`` windows whose insets, per side, tile
# 0…``CROP_INSET / (1 - CROP_INSET)`` (the centre window's inset as seen in a copy cropped by up to
# ``CROP_INSET`` on that side and nothing on the opposite one): for a copy cropped by at most ``CROP_INSET`` a
# side, one of the windows lies within half a step of the original's centre window on every side, and its
# hash near the stored one.
#
# The window hash (format 2, history migration 0003) is `dct256`'s 16×16 coefficients of the window, each
# bit above their median, but laid out *block-major*: 16 blocks of 4×4 coefficients, lowest frequencies
# first (`WINDOW_BLOCK_ORDER`), each block one 16-bit substring. The low blocks hardly move when a window
# is off by a fraction of a percent, so the index looks candidates up by an exact match of one of the
# first few blocks (`wocheck.history.index.MultiIndexHash` with ``tables``) and then checks all 256 bits.
#
# Cost: every hash of a photo comes from one 256×256 area reduction of the preview. A window's
# coefficients are linear in it: ``(D · Ry) · W · (D · Rx)ᵀ`` with ``Ry``/``Rx`` the area-averaging
# matrices of the window's rows/columns down to 64 and ``D`` the 16 DCT rows kept, so all windows are two
# matrix products (``CROP_QUERY_STEPS ** 2`` row ranges × the same column ranges).
CROP_INSET = 0.06  # fraction of each side outside the stored centre window (crops up to this a side match)
CROP_QUERY_STEPS = 4  # query insets per side (CROP_QUERY_STEPS ** 4 = 256 query windows)
_WORK = 256  # side of the shared area reduction (4 × the DCT's 64: luma64 is its 4×4 block mean)
_KEPT = 16  # DCT rows/columns 1…16 kept (as in dct256)
# The 4×4 coefficient blocks (block row, block column) from the lowest frequencies up: substring k of a
# window hash is block WINDOW_BLOCK_ORDER[k].
WINDOW_BLOCK_ORDER: tuple[tuple[int, int], ...] = tuple(sorted(
    ((i, j) for i in range(4) for j in range(4)), key=lambda b: (b[0] + b[1], max(b), b)))


def _work256(gray: NDArray[np.generic]) -> NDArray[np.float32]:
    img = np.asarray(gray)
    if img.ndim == 3:
        img = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    if img.ndim != 2 or img.size == 0:
        return np.zeros((_WORK, _WORK), np.float32)
    return cv2.resize(img.astype(np.float32), (_WORK, _WORK), interpolation=cv2.INTER_AREA)


@lru_cache(maxsize=1)
def _dct_rows() -> NDArray[np.float64]:
    """Rows 1…16 of the orthonormal 64-point DCT-II matrix (what `cv2.dct` applies)."""
    k = np.arange(1, _KEPT + 1)[:, None]
    i = np.arange(_WORK_SIDE)[None, :]
    return np.cos(np.pi * (2 * i + 1) * k / (2 * _WORK_SIDE)) * np.sqrt(2.0 / _WORK_SIDE)


def _area_rows(lo: float, hi: float) -> NDArray[np.float64]:
    """64 × _WORK matrix averaging [lo, hi) (in work pixels) into 64 equal cells by area."""
    w = (hi - lo) / _WORK_SIDE
    a = lo + np.arange(_WORK_SIDE)[:, None] * w
    i = np.arange(_WORK)[None, :]
    return np.clip(np.minimum(i + 1, a + w) - np.maximum(i, a), 0.0, None) / w


@lru_cache(maxsize=16)
def _projections(insets: tuple[tuple[float, float], ...]) -> NDArray[np.float32]:
    """(len(insets)·16) × _WORK: for each (near, far) inset pair the 16 DCT rows of that range's reduction."""
    d = _dct_rows()
    return np.concatenate([d @ _area_rows(_WORK * a, _WORK * (1.0 - b)) for a, b in insets]).astype(np.float32)


_BLOCK_PERM = np.array([(4 * bi + r) * _KEPT + 4 * bj + c for bi, bj in WINDOW_BLOCK_ORDER
                        for r in range(4) for c in range(4)])


def _window_codes(work: NDArray[np.float32], rows: tuple[tuple[float, float], ...],
                  cols: tuple[tuple[float, float], ...]) -> NDArray[np.uint8]:
    """Window hashes (len(rows)·len(cols), 32) uint8 for every (row range, column range), row-range major."""
    py, px = _projections(rows), _projections(cols)
    # OpenCV's gemm, not numpy's: a multi-threaded BLAS spins its threads on products this small (10× the
    # CPU time of the single-threaded product on a busy machine).
    t = cv2.gemm(py, work, 1.0, None, 0.0)  # (R·16, W)
    coef = cv2.gemm(t, px, 1.0, None, 0.0, flags=cv2.GEMM_2_T)  # (R·16, C·16)
    coef = coef.reshape(len(rows), _KEPT, len(cols), _KEPT).transpose(0, 2, 1, 3)
    coef = coef.reshape(-1, _KEPT * _KEPT)[:, _BLOCK_PERM]
    return np.packbits(coef > np.median(coef, axis=1, keepdims=True), axis=1)


def _check_insets(insets: tuple[float, float, float, float]) -> None:
    if not all(0 <= f < 0.5 for f in insets):
        raise ValueError(f"insets must lie in [0, 0.5): {insets}")


def window256(gray: NDArray[np.generic], insets: tuple[float, float, float, float]) -> bytes:
    """The window hash (block-major, see above) of a sub-window: ``insets`` = (top, bottom, left, right),
    each the fraction (0 ≤ f < 0.5) of the height or width left out on that side."""
    _check_insets(insets)
    t, b, left, r = (float(f) for f in insets)
    return _window_codes(_work256(gray), ((t, b),), ((left, r),))[0].tobytes()


def centre256(gray: NDArray[np.generic]) -> bytes:
    """The stored crop-tolerant hash: `window256` of the centre window (``CROP_INSET`` off every side)."""
    return window256(gray, (CROP_INSET,) * 4)


def _probe_pairs() -> tuple[tuple[float, float], ...]:
    top = CROP_INSET / (1.0 - CROP_INSET)
    steps = [top * (2 * k + 1) / (2 * CROP_QUERY_STEPS) for k in range(CROP_QUERY_STEPS)]
    return tuple((a, b) for a in steps for b in steps)


def crop_probes256(gray: NDArray[np.generic]) -> list[bytes]:
    """The query side of `centre256`: ``CROP_QUERY_STEPS ** 4`` window hashes, the insets per side at the
    centres of ``CROP_QUERY_STEPS`` equal parts of 0…``CROP_INSET / (1 - CROP_INSET)``. A copy cropped by
    ≤ ``CROP_INSET`` a side (then resized, re-encoded…) has one probe near the original's `centre256`."""
    codes = _window_codes(_work256(gray), _probe_pairs(), _probe_pairs())
    return [row.tobytes() for row in codes]


@dataclass(frozen=True)
class PhotoHashes:
    """Everything the history needs of one photo, from one shared reduction (`photo_hashes`)."""

    hash256: bytes  # `dct256`
    quality: int  # `quality_score`
    phash64: bytes  # `phash64`
    centre: bytes  # `centre256` (stored)
    probes: bytes  # `crop_probes256`, concatenated (32 bytes each; looked up, not stored)
    centre_quality: int  # `quality_score` of the centre window (to the nearest work pixel)


def photo_hashes(gray: NDArray[np.generic]) -> PhotoHashes:
    """`dct256`, `quality_score`, `phash64`, `centre256` and `crop_probes256` of one picture at once.

    One 256×256 area reduction serves all: the 64×64 luminance is its 4×4 block mean and pHash's 32×32
    the 2×2 mean of that (area reduction composes; same values up to float rounding), and the windows are
    matrix products on it. About 3 ms on a 1000-pixel preview instead of ~20 ms for the five separately.
    """
    work = _work256(gray)
    img = np.asarray(gray)
    if img.ndim >= 2 and min(img.shape[:2]) >= _WORK:
        y64 = work.reshape(_WORK_SIDE, 4, _WORK_SIDE, 4).mean(axis=(1, 3), dtype=np.float32)
    else:  # a small picture: the 256 reduction upsamples (bilinear): reduce to 64 directly
        y64 = _luma64(img)
    y32 = y64.reshape(32, 2, 32, 2).mean(axis=(1, 3), dtype=np.float32)
    coef32 = cv2.dct(y32)[:8, :8].ravel()
    centre = _window_codes(work, ((CROP_INSET, CROP_INSET),), ((CROP_INSET, CROP_INSET),))[0].tobytes()
    probes = _window_codes(work, _probe_pairs(), _probe_pairs()).tobytes()
    a = int(round(_WORK * CROP_INSET))
    return PhotoHashes(hash256=dct256(y64), quality=quality_score(y64),
                       phash64=_bits_to_bytes(coef32 > np.median(coef32[1:])), centre=centre, probes=probes,
                       centre_quality=quality_score(work[a:_WORK - a, a:_WORK - a]))

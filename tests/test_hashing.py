"""Perceptual hashes: properties (ranges, invariances, separation) on synthetic pictures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from _authenticity_synth import scene, wall
from wocheck.config import load_config
from wocheck.inspectors.authenticity import thresholds
from wocheck.metrics import hashing
from wocheck.metrics.hashing import (
    CROP_INSET,
    WINDOW_BLOCK_ORDER,
    PhotoHashes,
    centre256,
    crop_probes256,
    dct256,
    hamming,
    phash64,
    photo_hashes,
    quality_score,
    window256,
)

TH = thresholds(load_config())  # the crop tier's radius and key blocks, from the data file


def _window_match(centre: bytes, probes: list[bytes]) -> int:
    """The crop tier's rule: the nearest probe sharing one of the key blocks with the centre (else 256)."""
    k = TH.crop_window_key_blocks
    keyed = [p for p in probes if any(p[2 * b:2 * b + 2] == centre[2 * b:2 * b + 2] for b in range(k))]
    return min((hamming(centre, p) for p in keyed), default=256)


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _jpeg(g: np.ndarray, q: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", g, [cv2.IMWRITE_JPEG_QUALITY, q])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="module")
def pictures() -> list[np.ndarray]:
    return [_gray(scene(s)) for s in range(12)]


def test_lengths_and_hamming_range(pictures: list[np.ndarray]) -> None:
    a, b = dct256(pictures[0]), dct256(pictures[1])
    assert len(a) == 32 and len(phash64(pictures[0])) == 8
    assert hamming(a, a) == 0
    assert 0 <= hamming(a, b) <= 256
    assert hamming(a, b) == hamming(b.hex(), a.hex())
    with pytest.raises(ValueError):
        hamming(a, phash64(pictures[0]))


def test_median_threshold_sets_half_the_bits(pictures: list[np.ndarray]) -> None:
    for g in pictures:
        ones = sum(bin(x).count("1") for x in dct256(g))
        assert 120 <= ones <= 128  # strictly above the median: at most half


def test_unrelated_pictures_are_far_apart(pictures: list[np.ndarray]) -> None:
    hs = [dct256(g) for g in pictures]
    d = [hamming(hs[i], hs[j]) for i in range(len(hs)) for j in range(i + 1, len(hs))]
    assert min(d) > 60
    assert 100 < float(np.median(d)) < 156


@pytest.mark.parametrize("edit", ["jpeg", "resize", "brighter", "darker", "contrast", "colour_vs_grey"])
def test_edits_of_one_picture_stay_close(pictures: list[np.ndarray], edit: str) -> None:
    for seed, g in enumerate(pictures[:6]):
        if edit == "jpeg":
            e = _jpeg(g, 50)
        elif edit == "resize":
            e = cv2.resize(g, (g.shape[1] * 2 // 5, g.shape[0] * 2 // 5), interpolation=cv2.INTER_AREA)
        elif edit == "brighter":
            e = np.clip(g.astype(np.float32) * 1.2, 0, 255).astype(np.uint8)
        elif edit == "darker":
            e = (g.astype(np.float32) * 0.75).astype(np.uint8)
        elif edit == "contrast":
            e = np.clip((g.astype(np.float32) - 128) * 0.85 + 128, 0, 255).astype(np.uint8)
        else:
            e = scene(seed)  # BGR in: converted to luma inside
        assert hamming(dct256(g), dct256(e)) <= 24, edit
        assert hamming(phash64(g), phash64(e)) <= 8, edit


def test_small_crop_keeps_the_coarse_hash_close(pictures: list[np.ndarray]) -> None:
    for g in pictures[:6]:
        h, w = g.shape
        c = g[h * 2 // 100: h - h * 2 // 100, w * 2 // 100: w - w // 100]
        assert hamming(phash64(g), phash64(c)) <= 16  # unrelated pictures: ~32 of 64


def test_quality_separates_busy_from_flat(pictures: list[np.ndarray]) -> None:
    busy = [quality_score(g) for g in pictures]
    flat = [quality_score(_gray(wall(s))) for s in range(6)]
    assert min(busy) >= 50
    assert max(flat) < 50
    for q in busy + flat:
        assert 0 <= q <= 100


def test_quality_falls_with_blur(pictures: list[np.ndarray]) -> None:
    g = pictures[0]
    q = [quality_score(cv2.GaussianBlur(g, (0, 0), s)) if s else quality_score(g) for s in (0, 4, 16)]
    assert q[0] >= q[1] >= q[2]


@pytest.mark.parametrize("img", [np.zeros((0, 0), np.uint8), np.full((1, 1), 7, np.uint8),
                                 np.full((50, 80), 128, np.uint8), np.zeros((3, 1000), np.uint8)])
def test_degenerate_input_is_defined(img: np.ndarray) -> None:
    assert quality_score(img) == 0
    assert len(dct256(img)) == 32
    assert len(phash64(img)) == 8


def test_resize_invariance_of_quality(pictures: list[np.ndarray]) -> None:
    g = pictures[3]
    small = cv2.resize(g, (g.shape[1] // 2, g.shape[0] // 2), interpolation=cv2.INTER_AREA)
    assert abs(quality_score(g) - quality_score(small)) <= 10


def _crops(g: np.ndarray, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    h, w = g.shape
    out = []
    for _ in range(n):
        c = rng.uniform(0, 0.05, 4)  # the fixture generator's re-upload crops: 1-5 % a side
        out.append(g[int(h * c[0]):h - int(h * c[1]), int(w * c[2]):w - int(w * c[3])])
    return out


def _box() -> np.ndarray:  # a centred dark box on white: its odd DCT coefficients are ~0, unstable bits
    g = np.full((216, 360), 235, np.uint8)
    g[50:160, 80:285] = 30
    return g


def _modules(seed: int) -> np.ndarray:  # a QR-like random module pattern filling the frame
    m = np.random.default_rng(seed).integers(0, 2, (70, 70)).astype(np.uint8) * 255
    return cv2.resize(m, (177, 177), interpolation=cv2.INTER_NEAREST)


def test_crop_probes_find_the_centre_window_of_hard_graphics(pictures: list[np.ndarray]) -> None:
    rng = np.random.default_rng(5)
    for g in [_box(), _modules(1), _modules(2), *pictures[:4]]:
        c = centre256(g)
        for e in _crops(g, rng, 12):
            e = _jpeg(cv2.resize(e, (int(e.shape[1] * 0.7), int(e.shape[0] * 0.7)), interpolation=cv2.INTER_AREA), 60)
            probes = crop_probes256(e)
            assert len(probes) == hashing.CROP_QUERY_STEPS ** 4
            assert _window_match(c, probes) <= TH.crop_window_radius


def test_crop_probes_of_unrelated_pictures_stay_far(pictures: list[np.ndarray]) -> None:
    others = [*pictures, _modules(1), _modules(2), _box()]
    centres = [centre256(b) for b in others]
    for i, a in enumerate(others):
        probes = crop_probes256(a)
        for j, c in enumerate(centres):
            if i != j:
                assert min(hamming(c, p) for p in probes) > TH.crop_window_radius + 8


def test_window_is_the_centre_and_insets_are_checked(pictures: list[np.ndarray]) -> None:
    g = pictures[0]
    assert window256(g, (CROP_INSET,) * 4) == centre256(g)
    with pytest.raises(ValueError):
        window256(g, (0.5, 0, 0, 0))
    with pytest.raises(ValueError):
        window256(g, (-0.1, 0, 0, 0))


def test_photo_hashes_equal_the_separate_functions(pictures: list[np.ndarray]) -> None:
    small = cv2.resize(pictures[1], (200, 150), interpolation=cv2.INTER_AREA)  # below the shared 256 reduction
    for g in [*pictures[:3], small, _box()]:
        h = photo_hashes(g)
        assert isinstance(h, PhotoHashes)
        assert h.hash256 == dct256(g) and h.quality == quality_score(g) and h.centre == centre256(g)
        assert hamming(h.phash64, phash64(g)) <= 1  # 2×2 mean of the 64×64 reduction: float rounding at most
        assert h.probes == b"".join(crop_probes256(g))


def test_window_hash_is_block_major_lowest_frequencies_first(pictures: list[np.ndarray]) -> None:
    assert sorted(WINDOW_BLOCK_ORDER) == [(i, j) for i in range(4) for j in range(4)]
    assert WINDOW_BLOCK_ORDER[0] == (0, 0) and WINDOW_BLOCK_ORDER[-1] == (3, 3)
    g = pictures[2]
    # the whole frame as a window: the same bits as dct256, permuted into 4×4 blocks
    w = np.unpackbits(np.frombuffer(window256(g, (0, 0, 0, 0)), np.uint8)).reshape(16, 4, 4)
    d = np.unpackbits(np.frombuffer(dct256(g), np.uint8)).reshape(16, 16)
    for k, (bi, bj) in enumerate(WINDOW_BLOCK_ORDER):
        assert (w[k] == d[4 * bi:4 * bi + 4, 4 * bj:4 * bj + 4]).all()


def test_low_blocks_survive_a_small_misalignment_better_than_high_ones(pictures: list[np.ndarray]) -> None:
    low = high = 0
    for g in pictures:
        a = np.frombuffer(window256(g, (0.05, 0.05, 0.05, 0.05)), np.uint8)
        b = np.frombuffer(window256(g, (0.056, 0.045, 0.053, 0.047)), np.uint8)
        diff = np.unpackbits(a ^ b).reshape(16, 16).sum(axis=1)
        low += int(diff[:TH.crop_window_key_blocks].sum())
        high += int(diff[-TH.crop_window_key_blocks:].sum())
    assert low < high

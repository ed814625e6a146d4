"""Synthetic scene photos for the scene and pipe inspectors' tests and benchmark (no fixture set needed).

`scene(seed, size)` draws a cabinet-and-machine scene in BGR uint8: walls and floor in perspective, a machine
box, a tank, a few tubes that are either square (straight runs with right-angle bends: `pipes="neat"`) or
bent into loops and sags (`pipes="messy"`). `degrade` applies one photographic defect.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

AA = cv2.LINE_AA
TUBE_COLOURS = [(210, 120, 40), (235, 235, 235), (40, 40, 200), (60, 160, 60)]


def _tube(img: np.ndarray, pts: np.ndarray, colour: tuple[int, int, int], width: int) -> None:
    p = np.round(np.asarray(pts, np.float32) * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(img, [p], False, tuple(int(c * 0.55) for c in colour), width + 2, AA, 4)
    cv2.polylines(img, [p], False, colour, width, AA, 4)


def neat_paths(w: int, h: int, n: int) -> list[np.ndarray]:
    """``n`` square runs: out of the machine's side, across, then up (right-angle bends)."""
    u = max(w, h) / 1000
    paths = []
    for i in range(n):
        x0, y0 = 0.45 * w, 0.45 * h + i * 40 * u
        x1 = 0.55 * w + i * 35 * u
        y_top = 0.05 * h
        paths.append(np.array([(x0, y0), (x1, y0), (x1, y_top)], np.float32))
    return paths


def messy_paths(w: int, h: int, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The same runs' ends joined by loose curves with a coil each: loops, sags and crossings."""
    u = max(w, h) / 1000
    paths = []
    for i in range(n):
        start = np.array([0.45 * w, 0.45 * h + i * 40 * u])
        end = np.array([0.55 * w + i * 35 * u, 0.05 * h])
        t = np.linspace(0, 1, 200)[:, None]
        base = start * (1 - t) + end * t
        sag = np.stack([120 * u * np.sin(t[:, 0] * math.pi * (2 + i) + rng.uniform(0, 3)),
                        90 * u * np.sin(t[:, 0] * math.pi)], axis=1)
        path = base + sag
        c = path[100]
        r = 45 * u
        loop = np.array([(c[0] + r * math.cos(a), c[1] + r * math.sin(a) + r)
                         for a in np.linspace(-math.pi / 2, 1.5 * math.pi, 40)])
        paths.append(np.vstack([path[:100], loop, path[100:]]).astype(np.float32))
    return paths


def scene(seed: int = 0, size: tuple[int, int] = (1600, 1200), *, pipes: str = "neat", tubes: int = 4) -> np.ndarray:
    """A BGR uint8 scene of ``size`` = (width, height)."""
    rng = np.random.default_rng(seed)
    w, h = size
    u = max(w, h) / 1000
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wall = np.array([200, 210, 218], np.float32) * (0.9 + 0.15 * xx[..., None] / w)
    img = wall.copy()
    cv2.fillPoly(img, [np.array([(0, 0), (int(0.14 * w), int(0.08 * h)), (int(0.14 * w), int(0.86 * h)), (0, h)],
                                np.int32)], (170, 185, 200), AA)
    cv2.fillPoly(img, [np.array([(0, h), (int(0.14 * w), int(0.86 * h)), (w, int(0.86 * h)), (w, h)], np.int32)],
                 (120, 140, 160), AA)
    bx, by, bw, bh = int(0.2 * w), int(0.45 * h), int(0.25 * w), int(0.35 * h)
    cv2.rectangle(img, (bx, by), (bx + bw, by + bh), (228, 228, 226), -1, AA)
    cv2.rectangle(img, (bx + bw // 10, by + bh // 8), (bx + bw * 9 // 10, by + bh // 8 + int(6 * u)), (150, 110, 40),
                  -1, AA)
    cv2.rectangle(img, (int(0.75 * w), int(0.45 * h)), (int(0.85 * w), int(0.84 * h)), (60, 60, 62), -1, AA)
    for _ in range(int(rng.integers(3, 6))):  # things on the floor and wall
        x, y = int(rng.uniform(0.2, 0.9) * w), int(rng.uniform(0.1, 0.8) * h)
        cv2.circle(img, (x, y), int(rng.uniform(8, 25) * u), tuple(float(c) for c in rng.uniform(40, 220, 3)), -1, AA)
    paths = neat_paths(w, h, tubes) if pipes == "neat" else messy_paths(w, h, tubes, rng) if pipes == "messy" else []
    for i, p in enumerate(paths):
        _tube(img, p, TUBE_COLOURS[i % len(TUBE_COLOURS)], max(3, int(11 * u)))
    img += rng.normal(0, 2.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def degrade(img: np.ndarray, kind: str, *, amount: float = 1.0) -> np.ndarray:
    """One photographic defect on a BGR uint8 image: blur (σ px at 1000 px long side × amount), motion,
    dark, overexposed, glare; "blank" and "covered" replace the content."""
    h, w = img.shape[:2]
    u = max(w, h) / 1000
    f = img.astype(np.float32)
    if kind == "blur":
        f = cv2.GaussianBlur(f, (0, 0), 5.0 * u * amount)
    elif kind == "motion":
        n = int(25 * u * amount) | 1
        k = np.zeros((n, n), np.float32)
        k[n // 2, :] = 1 / n
        f = cv2.filter2D(f, -1, k)
    elif kind == "dark":
        f = f * 0.09 / amount
    elif kind == "overexposed":
        f = f * 2.1 * amount + 120
    elif kind == "glare":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = 0.08 * max(w, h) * amount
        d2 = ((xx - 0.6 * w) / r) ** 2 + ((yy - 0.4 * h) / (0.7 * r)) ** 2
        f = f + (420 * (np.exp(-d2 * 1.2) + 0.35 * np.exp(-d2 * 0.25)))[..., None]
    elif kind == "blank":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        f = np.broadcast_to((200 + 20 * xx / w)[..., None], (h, w, 3)).copy()
        f += np.random.default_rng(1).normal(0, 1.5, f.shape)
    elif kind == "covered":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        f = np.exp(-xx / w * 4)[..., None] * np.array([40, 60, 150], np.float32) + 8
    else:
        raise ValueError(kind)
    return np.clip(f, 0, 255).astype(np.uint8)


def write_jpeg(path: Path, img: np.ndarray, quality: int = 90) -> Path:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    path.write_bytes(buf.tobytes())
    return path

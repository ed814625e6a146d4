"""Synthetic service-form photos for the form inspector's tests and benchmark (no fixture set needed).

The print master gets pen strokes in chosen fields, then is warped into a larger frame over a textured
desk with cv2.warpPerspective; lighting, blur, glare, stains and damage are applied on request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from wocheck.inspectors.formlayout import FormLayout, load_layout
from wocheck.paths import models_dir

LAYOUT_PATH = models_dir() / "forms" / "nvk-service-form-v1.json"


def layout() -> FormLayout:
    return load_layout(LAYOUT_PATH)


@dataclass
class Spec:
    size: tuple[int, int] = (1600, 1200)
    fill: float = 0.75
    rotation: float = 3.0  # degrees
    blank: set[str] = field(default_factory=set)  # field keys left blank
    blur: float = 0.0  # Gaussian sigma, px of the output
    motion: int = 0  # motion blur length, px of the output
    gain: float = 1.0  # exposure gain
    glare: tuple[float, float, float] | None = None  # (x_mm, y_mm, radius_mm) on the page
    shift: tuple[float, float] = (0.0, 0.0)  # page centre offset, fraction of the frame
    stain: tuple[float, float, float] | None = None  # (x_mm, y_mm, radius_mm)
    torn: str | None = None  # a corner name
    crumple: float = 0.0  # strength
    shadow: float = 0.0
    noise: float = 2.0
    seed: int = 0


def _px(mm: float, dpi: float) -> int:
    return round(mm * dpi / 25.4)


def filled_master(spec: Spec) -> np.ndarray:
    """The print master (BGR, 300 dpi) with pen strokes in every field not in ``spec.blank``."""
    lay = layout()
    assert lay.master_path is not None
    img = cv2.cvtColor(cv2.imread(str(lay.master_path), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
    rng = np.random.default_rng(spec.seed)
    dpi = lay.print_dpi
    pen = (140, 40, 20)  # blue ballpoint (BGR)
    for f in lay.fields:
        if f.key in spec.blank:
            continue
        if f.kind == "choice":
            o = f.options[int(rng.integers(len(f.options)))]
            x, y, w, h = o.box
            pts = np.array([[x + 0.5, y + 2.2], [x + 1.8, y + 3.6], [x + 4.5, y - 0.5]]) * dpi / 25.4
            cv2.polylines(img, [pts.astype(np.int32)], False, pen, _px(0.5, dpi), cv2.LINE_AA)
            continue
        x, y, w, h = f.box
        n = int(rng.integers(4, 9)) if f.kind == "text" else 1
        cx = x + 3
        for _ in range(n):
            cw = min(6.0, (w - 6) / n) if f.kind == "text" else w * 0.6
            if cx + cw > x + w - 2:
                break
            k = 6 if f.kind == "text" else 14
            xs = np.linspace(cx, cx + cw, k)
            ys = y + h / 2 + rng.uniform(-h * 0.25, h * 0.25, k)
            pts = (np.c_[xs, ys] * dpi / 25.4).astype(np.int32)
            cv2.polylines(img, [pts], False, pen, _px(0.45, dpi), cv2.LINE_AA)
            cx += cw + 1.5
    if spec.stain:
        sx, sy, r = spec.stain
        over = img.copy()
        cv2.ellipse(over, (_px(sx, dpi), _px(sy, dpi)), (_px(r, dpi), _px(r * 0.7, dpi)), 20, 0, 360,
                    (60, 110, 160), -1, cv2.LINE_AA)
        img = cv2.addWeighted(img, 0.45, over, 0.55, 0)
    return img


def photograph(spec: Spec) -> np.ndarray:
    """A BGR photo of the filled form per ``spec``."""
    lay = layout()
    rng = np.random.default_rng(spec.seed + 1000)
    page = filled_master(spec).astype(np.float32)
    ph, pw = page.shape[:2]
    alpha = np.ones((ph, pw), np.float32)
    if spec.torn:
        c = _px(22, lay.print_dpi)
        xs = 0 if "left" in spec.torn else pw
        ys = 0 if "top" in spec.torn else ph
        tri = np.array([[xs, ys], [abs(xs - c), ys], [xs, abs(ys - c)]], np.int32)
        cv2.fillPoly(alpha, [tri], 0.0)
    if spec.crumple > 0:
        f = rng.normal(0, 1, (ph // 60, pw // 60)).astype(np.float32)
        f = cv2.resize(f, (pw, ph), interpolation=cv2.INTER_CUBIC)
        gx = cv2.Sobel(f, cv2.CV_32F, 1, 0)
        page *= (1 + spec.crumple * np.clip(gx, -3, 3))[..., None]
    W, H = spec.size
    s = spec.fill * min(W / pw, H / ph)
    a = np.deg2rad(spec.rotation)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    centred = (src - [pw / 2, ph / 2]) * s
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = centred @ rot.T + [W / 2 + spec.shift[0] * W, H / 2 + spec.shift[1] * H]
    dst += rng.uniform(-1, 1, (4, 2)) * 0.02 * W
    M = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    # reduce first (area) so fine print does not alias
    warped = cv2.warpPerspective(page, M, (W, H), flags=cv2.INTER_AREA)
    am = cv2.warpPerspective(alpha, M, (W, H), flags=cv2.INTER_LINEAR)
    desk = np.full((H, W, 3), (70, 95, 120), np.float32)
    desk += cv2.resize(rng.normal(0, 12, (H // 16, W // 16, 1)).astype(np.float32), (W, H))[..., None]
    img = warped * am[..., None] + desk * (1 - am[..., None])
    if spec.shadow:
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        img *= (1 - spec.shadow * np.clip((xx / W), 0, 1))[..., None]
    if spec.glare:
        gx, gy, r = spec.glare
        p = M @ np.array([gx * lay.print_dpi / 25.4, gy * lay.print_dpi / 25.4, 1.0])
        px, py = p[0] / p[2], p[1] / p[2]
        rad = r * lay.print_dpi / 25.4 * s
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        d2 = ((xx - px) ** 2 + (yy - py) ** 2) / rad**2
        img += (np.exp(-d2 * 1.2) * 400)[..., None]
    if spec.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), spec.blur)
    if spec.motion > 1:
        k = np.zeros((spec.motion, spec.motion), np.float32)
        k[spec.motion // 2, :] = 1.0 / spec.motion
        img = cv2.filter2D(img, -1, k)
    img = img * spec.gain + rng.normal(0, spec.noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def write(spec: Spec, path: Path, quality: int = 90) -> Path:
    cv2.imwrite(str(path), photograph(spec), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return path

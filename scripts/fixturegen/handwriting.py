"""A seeded "pen": hand-like writing, ticks and signature scribbles on an ink-coverage layer.

Everything here draws into a float32 *coverage* layer (0 = no ink, 1 = full ink) of the page's size; the
caller composites it with an ink colour over the paper (see :func:`apply_ink`). Keeping coverage separate
from colour lets a renderer tell exactly where ink went (the tests measure ink per field box with it).

Writing uses a brush/kai CJK font (Debian ``fonts-arphic-ukai``; fallback ``fonts-wqy-microhei``) with
per-character jitter of size, rotation, slant, baseline, spacing and stroke weight, plus pen-pressure
variation. Ticks and signatures are polylines through random control points drawn as chains of discs of
varying radius (a pen's width follows its pressure and speed), anti-aliased.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

KAI_FONTS = (
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
# Latin letters and digits of ukai are a printed Ming style; a plain sans, jittered, reads more like a
# hand's block capitals and digits.
LATIN_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
LATIN_SIZE = 0.88  # Latin glyph size relative to the CJK size of the same hand

# Sub-pixel precision for cv2 drawing calls (coordinates are multiplied by 2**SHIFT).
_SHIFT = 4
_ONE = 1 << _SHIFT


@functools.lru_cache(maxsize=128)
def _font_file(size: int, latin: bool) -> ImageFont.FreeTypeFont:
    for path in LATIN_FONTS if latin else KAI_FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    raise FileNotFoundError(
        "no CJK handwriting font found; install fonts-arphic-ukai (or fonts-wqy-microhei): "
        + ", ".join(str(p) for p in KAI_FONTS)
    )


def _is_latin(ch: str) -> bool:
    return ord(ch) < 0x250 or ch in "×–"


def _font_for(ch: str, size: int) -> ImageFont.FreeTypeFont:
    if _is_latin(ch):
        return _font_file(max(4, int(round(size * LATIN_SIZE))), True)
    return _font_file(size, False)


@functools.lru_cache(maxsize=4096)
def _glyph(ch: str, size: int, weight: int) -> np.ndarray:
    """The coverage mask (float32 0..1) of one character, tightly padded, baseline at row ``1.1*size``."""
    font = _font_for(ch, size)
    pad = max(4, size // 3) + weight
    w = int(font.getlength(ch)) + 2 * pad
    h = int(size * 1.5) + 2 * pad
    img = Image.new("L", (max(w, 1), h), 0)
    ImageDraw.Draw(img).text((pad, pad + size * 1.1), ch, font=font, fill=255, anchor="ls",
                             stroke_width=weight, stroke_fill=255)
    return np.asarray(img, dtype=np.float32) / 255.0


def glyph_advance(ch: str, size: int) -> float:
    """Horizontal advance of ``ch`` at font ``size`` in px."""
    adv = float(_font_for(ch, size).getlength(ch))
    return adv * 0.97 if _is_latin(ch) else adv


@dataclass
class PenStyle:
    """One writer's hand: sizes are in px at the page's resolution."""

    size: float  # nominal character height (font size) in px
    slant: float  # shear (tan of slant angle), + leans right
    weight: int  # extra stroke width in px (0 = font's own strokes)
    spacing: float  # extra advance per character as a fraction of size
    jitter: float  # 0..1, how untidy the hand is

    @staticmethod
    def random(rng: np.random.Generator, px_per_mm: float) -> PenStyle:
        return PenStyle(
            size=float(rng.uniform(4.6, 5.8) * px_per_mm),
            slant=float(rng.uniform(-0.05, 0.22)),
            weight=int(rng.integers(0, 2) if px_per_mm > 8 else 0),
            spacing=float(rng.uniform(-0.09, 0.02)),
            jitter=float(rng.uniform(0.4, 1.0)),
        )


def _paste_max(cov: np.ndarray, patch: np.ndarray, x: int, y: int) -> tuple[int, int, int, int] | None:
    """Max-composite ``patch`` into ``cov`` with its top-left at (x, y); returns the clipped box or None."""
    h, w = patch.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, cov.shape[1]), min(y + h, cov.shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    sub = cov[y0:y1, x0:x1]
    np.maximum(sub, patch[y0 - y:y1 - y, x0 - x:x1 - x], out=sub)
    return x0, y0, x1 - x0, y1 - y0


def text_width(text: str, style: PenStyle, size: float | None = None) -> float:
    s = int(round(size or style.size))
    return sum(glyph_advance(c, s) + _spacing(c, style) * s for c in text)


def _spacing(ch: str, style: PenStyle) -> float:
    """Extra advance (fraction of size): Latin letters and digits are narrower, so they get less of it."""
    return style.spacing * (0.35 if _is_latin(ch) else 1.0)


def write_text(
    cov: np.ndarray,
    rng: np.random.Generator,
    text: str,
    x: float,
    baseline: float,
    style: PenStyle,
    *,
    size: float | None = None,
    slope: float = 0.0,
) -> tuple[float, float, float, float]:
    """Write ``text`` starting at (x, baseline); returns the inked bounding box (x, y, w, h) in px.

    Each character gets its own size (±8 %), rotation (±4° scaled by the hand's jitter), baseline offset,
    spacing and a pressure factor (0.7-1.0) that scales its coverage; the line as a whole drifts by
    ``slope`` (px per px) plus a small random walk.
    """
    base_size = size or style.size
    j = style.jitter
    drift = 0.0
    bx0, by0, bx1, by1 = np.inf, np.inf, -np.inf, -np.inf
    cx = x
    for ch in text:
        if ch == " ":
            cx += base_size * rng.uniform(0.25, 0.45)
            continue
        s = int(round(base_size * (1 + rng.normal(0, 0.045 * j))))
        weight = style.weight
        g = _glyph(ch, s, weight)
        adv = glyph_advance(ch, s)
        angle = rng.normal(0, 2.2 * j)
        shear = style.slant + rng.normal(0, 0.04 * j)
        gh, gw = g.shape
        # rotation + shear about the glyph's baseline origin (pad, 1.1*s + pad)
        ox, oy = gw / 2, gh / 2
        a = np.deg2rad(angle)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        sh = np.array([[1, -shear], [0, 1]])
        m2 = rot @ sh
        out_w, out_h = int(gw * 1.25) + 4, int(gh * 1.15) + 4
        t = np.array([out_w / 2, out_h / 2]) - m2 @ np.array([ox, oy])
        mat = np.hstack([m2, t[:, None]]).astype(np.float32)
        gw2 = cv2.warpAffine(g, mat, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=0)
        # a small smooth elastic wobble so that no two copies of a character are the same shape
        amp = 0.025 * s * j
        dx = cv2.resize(rng.normal(0, amp, (3, 3)).astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_CUBIC)
        dy = cv2.resize(rng.normal(0, amp, (3, 3)).astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_CUBIC)
        gy_, gx_ = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        gw2 = cv2.remap(gw2, gx_ + dx, gy_ + dy, cv2.INTER_LINEAR, borderValue=0)
        pressure = float(np.clip(rng.normal(0.95, 0.04), 0.82, 1.0))
        gw2 **= rng.uniform(0.8, 1.2)  # thin or fat edges: stroke weight variation
        gw2 *= pressure
        drift += rng.normal(0, 0.012 * base_size * j)
        drift *= 0.85
        dy = drift + rng.normal(0, 0.035 * base_size * j) + slope * (cx - x)
        # where the glyph's baseline origin lands after the transform
        pad = max(4, s // 3) + weight
        org = m2 @ np.array([pad, pad + s * 1.1]) + t
        px = int(round(cx - org[0]))
        py = int(round(baseline + dy - org[1]))
        box = _paste_max(cov, gw2, px, py)
        if box is not None:
            ys, xs = np.nonzero(gw2 > 0.3)
            if len(xs):
                bx0 = min(bx0, px + xs.min())
                bx1 = max(bx1, px + xs.max())
                by0 = min(by0, py + ys.min())
                by1 = max(by1, py + ys.max())
        cx += adv * (1 + rng.normal(0, 0.05 * j)) + _spacing(ch, style) * s
    if not np.isfinite(bx0):
        return (x, baseline, 0.0, 0.0)
    return (float(bx0), float(by0), float(bx1 - bx0 + 1), float(by1 - by0 + 1))


def _catmull_rom(points: np.ndarray, samples_per_seg: int) -> np.ndarray:
    """A smooth curve through ``points`` (N×2), Catmull-Rom, ``samples_per_seg`` points per segment."""
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, samples_per_seg, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(points[-1:])
    return np.vstack(out)


def draw_stroke(cov: np.ndarray, pts: np.ndarray, widths: np.ndarray, pressure: np.ndarray | None = None) -> None:
    """Draw a pen stroke along ``pts`` (N×2 px) with per-point ``widths`` (px) into ``cov`` (max-composite).

    The stroke is drawn as anti-aliased line segments between consecutive points with the local width, on a
    local uint8 patch, then merged. ``pressure`` (0..1 per point) scales the ink coverage.
    """
    if len(pts) < 2:
        return
    wmax = float(widths.max())
    x0 = int(np.floor(pts[:, 0].min() - wmax - 3))
    y0 = int(np.floor(pts[:, 1].min() - wmax - 3))
    x1 = int(np.ceil(pts[:, 0].max() + wmax + 3))
    y1 = int(np.ceil(pts[:, 1].max() + wmax + 3))
    patch = np.zeros((y1 - y0, x1 - x0), np.uint8)
    if pressure is None:
        pressure = np.ones(len(pts))
    q = np.round((pts - [x0, y0]) * _ONE).astype(np.int32)
    for i in range(len(pts) - 1):
        w = max(1, int(round((widths[i] + widths[i + 1]) / 2)))
        v = int(round(255 * (pressure[i] + pressure[i + 1]) / 2))
        cv2.line(patch, tuple(int(c) for c in q[i]), tuple(int(c) for c in q[i + 1]), v, w, cv2.LINE_AA, _SHIFT)
    _paste_max(cov, patch.astype(np.float32) / 255.0, x0, y0)


def draw_tick(cov: np.ndarray, rng: np.random.Generator, box: tuple[float, float, float, float],
              px_per_mm: float, kind: str = "check") -> tuple[float, float, float, float]:
    """A hand-drawn ✓ (``kind="check"``) or ✗ (``"cross"``) over ``box`` (x, y, w, h in px).

    The mark is 1.1-1.7× the box, often overshooting it up and right like a real tick; returns its bounds.
    """
    x, y, w, h = box
    s = max(w, h) * rng.uniform(1.1, 1.7)
    cx, cy = x + w / 2 + rng.normal(0, 0.08 * w), y + h / 2 + rng.normal(0, 0.08 * h)
    width = max(1.5, rng.uniform(0.35, 0.55) * px_per_mm)
    strokes: list[np.ndarray] = []
    if kind == "check":
        a = np.array([cx - 0.45 * s, cy - 0.05 * s]) + rng.normal(0, 0.05 * s, 2)
        b = np.array([cx - 0.1 * s, cy + 0.4 * s]) + rng.normal(0, 0.04 * s, 2)
        c = np.array([cx + 0.55 * s, cy - 0.65 * s]) + rng.normal(0, 0.08 * s, 2)
        mid1 = (a + b) / 2 + rng.normal(0, 0.03 * s, 2)
        mid2 = (b + c) / 2 + np.array([rng.normal(0.03, 0.04), rng.normal(0.05, 0.04)]) * s
        strokes.append(_catmull_rom(np.array([a, mid1, b, mid2, c]), 12))
    else:
        for sign in (1, -1):
            p = np.array([cx - 0.45 * s, cy - sign * 0.45 * s]) + rng.normal(0, 0.05 * s, 2)
            q = np.array([cx + 0.45 * s, cy + sign * 0.45 * s]) + rng.normal(0, 0.05 * s, 2)
            m = (p + q) / 2 + rng.normal(0, 0.04 * s, 2)
            strokes.append(_catmull_rom(np.array([p, m, q]), 16))
    allp = []
    for pts in strokes:
        n = len(pts)
        t = np.linspace(0, 1, n)
        # heavier at the start (pen lands), thinning towards the flick at the end
        widths = width * (1.15 - 0.55 * t ** 1.5) * rng.uniform(0.9, 1.1)
        pressure = np.clip(0.95 - 0.3 * t ** 2 + rng.normal(0, 0.02, n), 0.5, 1)
        draw_stroke(cov, pts, widths, pressure)
        allp.append(pts)
    p = np.vstack(allp)
    return (float(p[:, 0].min()), float(p[:, 1].min()), float(np.ptp(p[:, 0])), float(np.ptp(p[:, 1])))


def draw_signature(cov: np.ndarray, rng: np.random.Generator, box: tuple[float, float, float, float],
                   px_per_mm: float) -> tuple[float, float, float, float]:
    """A scribbled signature: 1-3 cursive-like strokes with loops, a varying width and sometimes a flourish.

    Each stroke is a trochoid-like path (steady advance plus a rotating offset, which makes loops when the
    rotation is fast enough), wobbled by smoothed noise; width follows pen speed (slow = wide). Returns
    the inked bounds (x, y, w, h).
    """
    x, y, w, h = box
    total_w = w * rng.uniform(0.5, 0.85)
    x_start = x + rng.uniform(0.05, 0.95) * (w - total_w)
    mid_y = y + h * rng.uniform(0.42, 0.6)
    amp = h * rng.uniform(0.18, 0.3)
    base_w = max(1.5, rng.uniform(0.3, 0.5) * px_per_mm)
    n_strokes = int(rng.integers(1, 4))
    cuts = np.sort(rng.uniform(0.15, 0.85, n_strokes - 1))
    edges = np.concatenate([[0.0], cuts, [1.0]])
    allp = []
    for k in range(n_strokes):
        seg_w = (edges[k + 1] - edges[k]) * total_w * 0.92
        sx = x_start + edges[k] * total_w
        # control points: zig-zag between the line's top and bottom with random heights, mostly moving
        # right but sometimes back (which makes loops once smoothed), now and then a tall ascender
        n_ctrl = int(max(6, rng.uniform(1.6, 2.6) * seg_w / amp))
        steps = rng.uniform(-0.5, 1.0, n_ctrl)
        steps[steps < 0] *= rng.uniform(0.5, 1.5)
        xs = np.cumsum(steps)
        xs = sx + (xs - xs.min()) / max(np.ptp(xs), 1e-6) * seg_w
        side = np.where(np.arange(n_ctrl) % 2 == 0, -1.0, 1.0) * rng.choice([-1, 1])
        ys = mid_y + side * amp * rng.uniform(0.2, 1.0, n_ctrl)
        tall = rng.random(n_ctrl) < 0.15
        ys[tall] = mid_y - amp * rng.uniform(1.3, 2.0, int(tall.sum()))
        ys += (xs - sx) * rng.normal(-0.04, 0.06)  # a rising or falling hand
        ctrl = np.stack([xs, ys], 1) + rng.normal(0, amp * 0.08, (n_ctrl, 2))
        pts = _catmull_rom(ctrl, 14)
        n = len(pts)
        t = np.linspace(0, 1, n)
        d = np.linalg.norm(np.diff(pts, axis=0, prepend=pts[:1]), axis=1)
        d = np.convolve(d, np.ones(5) / 5, mode="same")
        speed = d / (d.mean() + 1e-6)
        widths = base_w * np.clip(1.35 - 0.45 * speed, 0.45, 1.4)
        widths *= np.interp(t, [0, 0.04, 0.9, 1], [0.5, 1, 1, 0.35])
        pressure = np.clip(0.95 - 0.15 * (speed - 1) + rng.normal(0, 0.02, n), 0.6, 1.0)
        draw_stroke(cov, pts, widths, pressure)
        allp.append(pts)
    if rng.random() < 0.5:  # an underline / flourish
        fx0 = x_start + rng.uniform(0, 0.3) * total_w
        fx1 = x_start + total_w * rng.uniform(0.8, 1.1)
        fy = mid_y + amp * rng.uniform(1.0, 1.6)
        ctrl = np.array([[fx0, fy + rng.normal(0, amp * 0.2)], [(fx0 + fx1) / 2, fy + rng.normal(0, amp * 0.3)],
                         [fx1, fy - rng.uniform(0.2, 0.8) * amp]])
        pts = _catmull_rom(ctrl, 40)
        t = np.linspace(0, 1, len(pts))
        draw_stroke(cov, pts, base_w * (1.1 - 0.7 * t), np.clip(0.95 - 0.3 * t, 0.5, 1))
        allp.append(pts)
    p = np.vstack(allp)
    return (float(p[:, 0].min()), float(p[:, 1].min()), float(np.ptp(p[:, 0])), float(np.ptp(p[:, 1])))


# Ink colours (BGR) of common pens: ballpoint blue, gel black, a blue-black; and a pale carbon-copy blue.
INKS: dict[str, tuple[int, int, int]] = {
    "blue": (150, 62, 28),
    "black": (38, 34, 32),
    "blue_black": (95, 50, 35),
}


def apply_ink(img: np.ndarray, cov: np.ndarray, ink_bgr: tuple[int, int, int], rng: np.random.Generator,
              *, strength: float = 1.0) -> None:
    """Composite ink ``cov`` (float32 0..1) onto ``img`` (uint8 BGR, in place) by multiplying.

    A multiplicative blend (ink is a transparent dye) keeps printed lines dark under ink. A low-frequency
    pressure field (0.8-1.0) and a fine granular term (a ballpoint's uneven laydown) modulate coverage.
    """
    ys, xs = np.nonzero(cov > 0.004)
    if len(ys) == 0:
        return
    y0, x0 = int(ys.min()), int(xs.min())
    h, w = int(ys.max()) - y0 + 1, int(xs.max()) - x0 + 1
    lh, lw = max(2, h // 48), max(2, w // 48)
    low = cv2.resize(rng.uniform(0.8, 1.0, (lh, lw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fine = 1 - 0.12 * rng.random(len(ys), dtype=np.float32)
    a = np.clip(cov[ys, xs] * low[ys - y0, xs - x0] * fine * strength, 0, 1)[:, None]
    ink = np.asarray(ink_bgr, np.float32) / 255.0
    px = img[ys, xs].astype(np.float32)
    px *= 1 - a * (1 - ink)
    img[ys, xs] = np.clip(px, 0, 255).astype(np.uint8)

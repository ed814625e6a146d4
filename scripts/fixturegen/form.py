"""The service-form renderer: the print master filled in by hand, with object-level defects.

``render_form`` starts from the form's print master (``models/forms/nvk-service-form-v1.png``, 300 dpi,
2480×1748 px), prints it on slightly off-white paper with fibre noise (sometimes the yellow or pink copy of
the three-part set), writes the fields with a seeded hand (see ``handwriting.py``), ticks the chosen options
(a hand-drawn ✓ or ✗), scribbles the customer's signature, and then applies the object-level defects:

- ``field_blank:<key>``: that field left blank (a choice: nothing ticked; the signature: unsigned);
- ``no_tick`` / ``no_tick:service_type`` / ``no_tick:satisfaction``: no option ticked in that group;
- ``no_signature``: the signature box left empty;
- ``stain``: a coffee ring, an ink blot or a dirty smudge over part of the content (region ``stain``);
- ``torn_corner``: a corner torn off along a ragged line, alpha 0 there (region ``torn_corner``);
- ``crumpled``: many crease lines with shading and a geometric warp of the page (edges become wavy);
- ``mild_fold``: one soft, straight fold line across the page (CLEAN: a normal folded form).

Scale: the default renders at the master's 300 dpi (11.81 px/mm), enough for a 4000×3000 photo where the
page fills ~70 % of the frame (about 2800 px across the 210 mm page = 13.3 px/mm; the camera upsamples by
≈1.1×). ``scale`` < 1 renders a reduced page for fast tests; all boxes in ``regions`` follow the scale.

``render_non_form`` draws something that is *not* the service form (clause 50's wrong-document case).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .handwriting import INKS, PenStyle, apply_ink, draw_signature, draw_tick, text_width, write_text
from .types import FlatObject

REPO = Path(__file__).resolve().parents[2]
FORM_JSON = REPO / "models" / "forms" / "nvk-service-form-v1.json"
MASTER_DPI = 300
MM_PER_INCH = 25.4

# Paper tints (BGR) of the three-part carbonless set and their odds: the white copy is the usual one.
PAPER_TINTS: dict[str, tuple[tuple[int, int, int], float]] = {
    "white": ((236, 242, 245), 0.7),
    "yellow": ((212, 240, 247), 0.18),
    "pink": ((236, 233, 248), 0.12),
}
# Printed ink of the form itself (BGR): near-black, slightly varying between print runs.
PRINT_INK = (40, 38, 38)
TEXT_FIELDS_MULTILINE_MIN_MM = 13.0  # a value box at least this tall may take two lines of writing
OVERRUN_MAX_MM = 1.5  # how far a big hand may run past the box's right line
SMALLEST_HAND_MM = 2.6  # people squeeze a long value into a short box down to about this size


@functools.lru_cache(maxsize=1)
def load_layout() -> dict[str, Any]:
    """The form layout JSON (fields in mm)."""
    return json.loads(FORM_JSON.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def load_master(scale: float = 1.0) -> np.ndarray:
    """The print master as greyscale uint8 at ``scale`` × 300 dpi (read-only)."""
    layout = load_layout()
    path = FORM_JSON.with_suffix(".png")
    m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if m is None:
        raise FileNotFoundError(f"form print master not found or unreadable: {path}")
    if scale != 1.0:
        w = int(round(layout["page_mm"][0] * MASTER_DPI / MM_PER_INCH * scale))
        h = int(round(layout["page_mm"][1] * MASTER_DPI / MM_PER_INCH * scale))
        m = cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA)
    m.setflags(write=False)
    return m


def px_per_mm(scale: float = 1.0) -> float:
    return MASTER_DPI / MM_PER_INCH * scale


def _box_px(box_mm: list[float], k: float) -> tuple[int, int, int, int]:
    x, y, w, h = box_mm
    return (int(round(x * k)), int(round(y * k)), int(round(w * k)), int(round(h * k)))


def field_regions(scale: float = 1.0) -> dict[str, tuple[int, int, int, int]]:
    """Every field box and option box of the layout in object px at ``scale``; keys as in ``regions``."""
    k = px_per_mm(scale)
    out: dict[str, tuple[int, int, int, int]] = {}
    for f in load_layout()["fields"]:
        out[f["key"]] = _box_px(f["box"], k)
        for opt in f.get("options", []):
            out[f"{f['key']}:{opt['value']}"] = _box_px(opt["box"], k)
    size = load_layout()["markers"]["size_mm"]
    for name, (mx, my) in load_layout()["markers"]["origin_mm"].items():  # each marker's top-left corner
        out[f"marker:{name}"] = _box_px([mx, my, size, size], k)
    return out


# ----------------------------------------------------------------------------------------------- paper


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Zero-mean, unit-ish low-frequency noise of shape (h, w) from a ``cells``-wide random grid."""
    gh = max(2, int(round(cells * h / max(w, 1))))
    g = rng.standard_normal((gh, cells), dtype=np.float32)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)


def paper_luminance(rng: np.random.Generator, h: int, w: int, k: float) -> np.ndarray:
    """Paper's relative luminance (float32 ≈1): low-frequency cloudiness, fine grain and a few fibres."""
    lum = _smooth_noise(rng, h, w, 24)
    lum *= 0.005
    lum += 1.0
    lum += 0.003 * _smooth_noise(rng, h, w, 90)
    grain = rng.random((h, w), dtype=np.float32)
    grain -= 0.5
    lum += 0.04 * grain  # uniform, std ≈ 0.012
    n_fib = int(h * w / (k * k) / 60)  # about one fibre per 60 mm²
    pts = rng.uniform(0, 1, (n_fib, 2)) * [w, h]
    ang = rng.uniform(0, np.pi, n_fib)
    ln = rng.uniform(0.4, 1.6, n_fib) * k
    shade = rng.uniform(0.02, 0.06, n_fib)
    d = np.stack([np.cos(ang), np.sin(ang)], 1) * ln[:, None]
    p0 = (pts - d / 2).astype(np.int32)
    p1 = (pts + d / 2).astype(np.int32)
    for i in range(n_fib):  # fibres darken the paper a little (drawn as negative light)
        cv2.line(lum, (int(p0[i, 0]), int(p0[i, 1])), (int(p1[i, 0]), int(p1[i, 1])), 1.0 - float(shade[i]), 1)
    return lum


def print_on_paper(lum: np.ndarray, tint: tuple[float, float, float], master: np.ndarray,
                   ink: tuple[int, int, int]) -> np.ndarray:
    """Print the master (grey, 255 = no ink) with ``ink`` on paper of ``tint`` × ``lum``; uint8 BGR.

    Per channel: paper·(1 − a·(1 − ink)), a = 1 − master/255 (a dye multiplies what lies under it).
    """
    a = (255 - master).astype(np.float32)
    a *= np.float32(1 / 255.0)
    la = cv2.multiply(lum, a)
    chans = []
    for c in range(3):
        base = float(tint[c])
        chans.append(cv2.addWeighted(lum, base, la, -base * (1 - ink[c] / 255.0), 0.0, dtype=cv2.CV_8U))
    return cv2.merge(chans)


# ----------------------------------------------------------------------------------------------- writing


def _write_field(cov: np.ndarray, rng: np.random.Generator, text: str, box: tuple[int, int, int, int],
                 style: PenStyle, k: float) -> dict[str, Any]:
    """Write ``text`` into the value box (px); shrink or wrap to fit, sometimes overrun slightly."""
    x, y, w, h = box
    margin = rng.uniform(1.2, 3.5) * k
    avail = w - margin - 1.0 * k
    size = style.size * rng.uniform(0.92, 1.06)
    multiline = h / k >= TEXT_FIELDS_MULTILINE_MIN_MM
    lines = [text]
    min_size = 3.4 * k
    while text_width(text, style, size) > avail and size > min_size:
        size *= 0.94
    if text_width(text, style, size) > avail and not multiline:
        # a long value in a short box: start nearer the left line and write smaller still
        margin = min(margin, 1.0 * k)
        avail = w - margin - 0.6 * k
        while text_width(text, style, size) > avail and size > SMALLEST_HAND_MM * k:
            size *= 0.95
    if text_width(text, style, size) > avail and multiline:
        # wrap into two lines at the character nearest the middle, each line fitted to the width
        size = min(style.size * 0.9, h * 0.36)
        cut = len(text) // 2
        lines = [text[:cut], text[cut:]]
        while max(text_width(ln, style, size) for ln in lines) > avail and size > min_size * 0.8:
            size *= 0.95
    # a big hand that crosses the box's lines a little (single lines only: two lines would collide)
    grow = rng.uniform(1.12, 1.25)
    overrun = len(lines) == 1 and bool(rng.random() < 0.12)
    overrun = overrun and text_width(text, style, size * grow) <= avail + OVERRUN_MAX_MM * k
    if overrun:
        size *= grow
    slope = rng.normal(0, 0.012)
    line_h = size * 1.15
    top = y + (h - line_h * len(lines)) / 2
    boxes = []
    for i, line in enumerate(lines):
        baseline = top + line_h * (i + 0.5) + 0.36 * size + rng.normal(0, 0.05 * size)
        if overrun:
            baseline += rng.choice([-1, 1]) * rng.uniform(0.1, 0.25) * size
        bx = x + margin + (rng.uniform(0, 0.3) * size if i else 0)
        boxes.append(write_text(cov, rng, line, bx, baseline, style, size=size, slope=slope))
    return {"text": text, "lines": lines, "size_mm": round(size / k, 2), "overrun": overrun,
            "ink_box": [int(round(v)) for v in _union(boxes)]}


def _union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    bs = [b for b in boxes if b[2] > 0]
    if not bs:
        return (0.0, 0.0, 0.0, 0.0)
    x0 = min(b[0] for b in bs)
    y0 = min(b[1] for b in bs)
    x1 = max(b[0] + b[2] for b in bs)
    y1 = max(b[1] + b[3] for b in bs)
    return (x0, y0, x1 - x0, y1 - y0)


# ----------------------------------------------------------------------------------------------- defects


def _blend_multiply(img: np.ndarray, a: np.ndarray, color: tuple[int, int, int]) -> None:
    """``img`` (uint8 BGR) *= 1 - a·(1 - color); a float32 0..1, same HxW; in place."""
    ys = np.nonzero(a.max(axis=1) > 0.003)[0]
    xs = np.nonzero(a.max(axis=0) > 0.003)[0]
    if len(ys) == 0:
        return
    y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
    sub = img[y0:y1, x0:x1].astype(np.float32)
    c = np.asarray(color, np.float32) / 255.0
    sub *= 1 - a[y0:y1, x0:x1, None] * (1 - c)
    img[y0:y1, x0:x1] = np.clip(sub, 0, 255).astype(np.uint8)


def _radial_blob(rng: np.random.Generator, h: int, w: int, cx: float, cy: float, r: float,
                 roughness: float, harmonics: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Polar coordinates about (cx, cy): the normalised radius ρ = dist / r(θ) with a wobbly r(θ)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - cx, yy - cy
    th = np.arctan2(dy, dx)
    rr = np.ones_like(th)
    for n in range(2, 2 + harmonics):
        rr += roughness / n * rng.normal() * np.cos(n * th + rng.uniform(0, 2 * np.pi))
    rho = np.sqrt(dx * dx + dy * dy) / (r * np.maximum(rr, 0.3))
    return rho, th


def add_stain(img: np.ndarray, rng: np.random.Generator, k: float, kind: str | None = None) -> dict[str, Any]:
    """A sizeable stain over the content; returns its kind and bounding box (x, y, w, h) in px."""
    h, w = img.shape[:2]
    kind = kind or str(rng.choice(["coffee_ring", "ink_blot", "smudge"], p=[0.45, 0.25, 0.3]))
    # centre over the filled-in grid (20-190 × 22-128 mm)
    cx = rng.uniform(45, 170) * k
    cy = rng.uniform(35, 115) * k
    if kind == "coffee_ring":
        r = rng.uniform(20, 34) * k
        pad = int(r * 1.5)
        x0, y0 = int(max(cx - pad, 0)), int(max(cy - pad, 0))
        x1, y1 = int(min(cx + pad, w)), int(min(cy + pad, h))
        rho, th = _radial_blob(rng, y1 - y0, x1 - x0, cx - x0, cy - y0, r, 0.08, 5)
        ring_w = rng.uniform(0.025, 0.05)
        ring = np.exp(-(((rho - 1) / ring_w) ** 2))
        # the outer edge is sharp and dark, the inside fades from the edge inwards
        inside = np.where(rho < 1, 0.25 + 0.25 * rho ** 3, 0)
        arc = 0.55 + 0.45 * np.cos(th - rng.uniform(0, 2 * np.pi)) * rng.uniform(0.3, 1)
        a_local = np.clip((0.75 * ring + 0.35 * inside) * arc * rng.uniform(0.7, 1.0), 0, 0.95)
        if rng.random() < 0.5:  # a second, offset ring from setting the cup down twice
            rho2, _ = _radial_blob(rng, y1 - y0, x1 - x0, cx - x0 + rng.normal(0, 0.15 * r),
                                   cy - y0 + rng.normal(0, 0.15 * r), r * rng.uniform(0.9, 1.05), 0.06, 4)
            a_local = np.maximum(a_local, 0.5 * np.exp(-(((rho2 - 1) / ring_w) ** 2)) * arc)
        color = (int(rng.uniform(40, 70)), int(rng.uniform(95, 125)), int(rng.uniform(150, 180)))
    elif kind == "ink_blot":
        r = rng.uniform(9, 18) * k
        pad = int(r * 2.6)
        x0, y0 = int(max(cx - pad, 0)), int(max(cy - pad, 0))
        x1, y1 = int(min(cx + pad, w)), int(min(cy + pad, h))
        rho, th = _radial_blob(rng, y1 - y0, x1 - x0, cx - x0, cy - y0, r, 0.4, 12)
        a_local = np.clip((1.15 - rho) * 6, 0, 1) * 0.93
        yy, xx = np.mgrid[0:y1 - y0, 0:x1 - x0].astype(np.float32)
        for _ in range(int(rng.integers(6, 18))):  # splatter droplets
            ang = rng.uniform(0, 2 * np.pi)
            dist = r * rng.uniform(1.1, 2.3)
            dr = r * rng.uniform(0.04, 0.16)
            px, py = cx - x0 + dist * np.cos(ang), cy - y0 + dist * np.sin(ang)
            d = np.sqrt((xx - px) ** 2 + (yy - py) ** 2) / dr
            a_local = np.maximum(a_local, np.clip((1.1 - d) * 5, 0, 1) * 0.9)
        color = (int(rng.uniform(60, 120)), int(rng.uniform(20, 45)), int(rng.uniform(10, 30)))
    else:  # a dirty, greasy smudge (hand or tool)
        r = rng.uniform(22, 40) * k
        pad = int(r * 1.6)
        x0, y0 = int(max(cx - pad, 0)), int(max(cy - pad, 0))
        x1, y1 = int(min(cx + pad, w)), int(min(cy + pad, h))
        rho, _ = _radial_blob(rng, y1 - y0, x1 - x0, cx - x0, cy - y0, r, 0.6, 6)
        tex = _smooth_noise(rng, y1 - y0, x1 - x0, 14) * 0.5 + _smooth_noise(rng, y1 - y0, x1 - x0, 50) * 0.25
        a_local = np.clip((1 - rho) * 1.8 + tex * 0.4, 0, 1) * rng.uniform(0.45, 0.65)
        a_local = cv2.GaussianBlur(a_local.astype(np.float32), (0, 0), 1.5 * k)
        color = (int(rng.uniform(60, 90)), int(rng.uniform(70, 95)), int(rng.uniform(80, 105)))
    a = np.zeros((h, w), np.float32)
    a[y0:y1, x0:x1] = a_local
    _blend_multiply(img, a, color)
    ys, xs = np.nonzero(a > 0.02)
    box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    return {"kind": kind, "box": box, "center_px": [int(cx), int(cy)]}


def _ragged_line(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, rough: float, depth: int = 7) -> np.ndarray:
    """Midpoint-displacement polyline from a to b (a torn edge): each level halves the displacement."""
    pts = [a, b]
    amp = rough
    for _ in range(depth):
        new = [pts[0]]
        for p, q in zip(pts[:-1], pts[1:], strict=True):
            d = q - p
            n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
            new.extend([(p + q) / 2 + n * rng.normal(0, amp), q])
        pts = new
        amp *= 0.55
    return np.array(pts)


def add_torn_corner(img: np.ndarray, alpha: np.ndarray, rng: np.random.Generator, k: float) -> dict[str, Any]:
    """Tear off a corner along a ragged line: alpha 0 beyond it, a pale fibrous band along the tear."""
    h, w = img.shape[:2]
    corner = str(rng.choice(["top_left", "top_right", "bottom_right", "bottom_left"]))
    ex = rng.uniform(18, 38) * k  # along the horizontal edge
    ey = rng.uniform(16, 32) * k  # along the vertical edge
    cx = 0.0 if corner.endswith("left") else float(w)
    cy = 0.0 if corner.startswith("top") else float(h)
    sx = 1 if corner.endswith("left") else -1
    sy = 1 if corner.startswith("top") else -1
    a = np.array([cx + sx * ex, cy - sy * 2.0])  # start just outside the edge
    b = np.array([cx - sx * 2.0, cy + sy * ey])
    line = _ragged_line(rng, a, b, rough=0.06 * (ex + ey) / 2)
    # the torn-off piece: the corner point, plus the ragged line
    poly = np.vstack([[cx - sx * 4, cy - sy * 4], line]).astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    # a torn edge shows the paper's whiter inner fibres in a thin irregular band
    band = np.zeros((h, w), np.uint8)
    bw = max(2, int(round(rng.uniform(0.5, 1.1) * k)))
    cv2.polylines(band, [np.round(line * 16).astype(np.int32)], False, 255, bw * 2, cv2.LINE_AA, 4)
    band_f = band.astype(np.float32) / 255.0 * (1 - mask.astype(np.float32) / 255.0)
    fibre = np.clip(0.6 + 0.5 * rng.standard_normal((h, w), dtype=np.float32), 0, 1)
    lift = band_f * fibre * 0.7
    ys, xs = np.nonzero(lift > 0.01)
    if len(ys):
        sub = img[ys, xs].astype(np.float32)
        img[ys, xs] = np.clip(sub + (250 - sub) * lift[ys, xs, None], 0, 255).astype(np.uint8)
    # ragged fibres also make the alpha edge soft and uneven
    soft = cv2.GaussianBlur(mask, (0, 0), 0.6)
    np.minimum(alpha, 255 - soft, out=alpha)
    ys, xs = np.nonzero(mask > 127)
    box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    return {"corner": corner, "box": box, "edge_mm": [round(ex / k, 1), round(ey / k, 1)]}


def _crease_fields(rng: np.random.Generator, h: int, w: int, creases: list[dict[str, float]]) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel crease sums on an (h, w) grid: slope x/y (height-field gradient), line darkness, pull x/y.

    Each crease is a line through (px, py) with unit normal (nx, ny), strength ``a`` (+ ridge / - valley),
    half-width ``L`` of its influence across and length ``len`` along (Gaussian falloff at the ends),
    ``pull`` px of paper drawn into the fold.
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx = np.zeros((h, w), np.float32)
    gy = np.zeros((h, w), np.float32)
    line = np.zeros((h, w), np.float32)
    px_ = np.zeros((h, w), np.float32)
    py_ = np.zeros((h, w), np.float32)
    for c in creases:
        s = (xx - c["px"]) * c["nx"] + (yy - c["py"]) * c["ny"]
        t = -(xx - c["px"]) * c["ny"] + (yy - c["py"]) * c["nx"]
        along = np.exp(-((t / c["len"]) ** 2))
        across = np.clip(1 - np.abs(s) / c["L"], 0, 1) ** 1.5
        sg = np.tanh(s / c["sharp"])
        f = c["a"] * sg * across * along
        gx += f * c["nx"]
        gy += f * c["ny"]
        line += c["dark"] * np.exp(-((s / c["width"]) ** 2)) * along
        pull = c["pull"] * sg * across * along
        px_ += pull * c["nx"]
        py_ += pull * c["ny"]
    return gx, gy, line, px_, py_


def add_creases(img: np.ndarray, alpha: np.ndarray, rng: np.random.Generator, k: float,
                mode: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """``mode="crumpled"``: 8-16 creases, shading and a warp; ``"mild_fold"``: one soft straight fold.

    Computed on a quarter-resolution grid and upsampled (the fields are smooth except at the crease
    lines, whose width is a few px at full resolution anyway). Returns the new image, alpha and info.
    """
    h, w = img.shape[:2]
    q = 4
    hq, wq = (h + q - 1) // q, (w + q - 1) // q
    kq = k / q
    creases: list[dict[str, float]] = []
    light = rng.uniform(0, 2 * np.pi)
    if mode == "crumpled":
        n = int(rng.integers(8, 17))
        for _ in range(n):
            ang = rng.uniform(0, np.pi)
            creases.append({
                "px": rng.uniform(0.05, 0.95) * wq, "py": rng.uniform(0.05, 0.95) * hq,
                "nx": float(np.cos(ang)), "ny": float(np.sin(ang)),
                "a": float(rng.choice([-1, 1]) * rng.uniform(0.08, 0.2)),
                "L": rng.uniform(8, 30) * kq, "len": rng.uniform(30, 110) * kq,
                "sharp": 0.5, "dark": rng.uniform(0.05, 0.14), "width": max(0.35, 0.15 * kq),
                "pull": rng.uniform(0.25, 0.7) * kq,
            })
    else:
        horizontal = bool(rng.random() < 0.5)
        if horizontal:
            pos, nx, ny = hq * rng.uniform(0.42, 0.58), 0.0, 1.0
            p = (wq / 2, pos)
        else:
            pos, nx, ny = wq * rng.uniform(0.42, 0.58), 1.0, 0.0
            p = (pos, hq / 2)
        tilt = rng.normal(0, 0.01)
        creases.append({
            "px": p[0], "py": p[1], "nx": nx - tilt * ny, "ny": ny + tilt * nx,
            "a": float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.08)), "L": rng.uniform(15, 30) * kq,
            "len": 1e6, "sharp": 1.5, "dark": rng.uniform(0.05, 0.08), "width": max(0.35, 0.12 * kq),
            "pull": 0.0,
        })
    gx, gy, line, pxf, pyf = _crease_fields(rng, hq, wq, creases)
    shade = 1 + (gx * np.cos(light) + gy * np.sin(light)) - line
    if mode == "crumpled":
        # small wrinkles everywhere and a smooth global warp; the page shrinks a little (edges come in)
        wr = _smooth_noise(rng, hq, wq, 40)
        wgx, wgy = np.gradient(wr)
        shade += 0.04 * (wgx * np.cos(light) + wgy * np.sin(light)) * 8
        amp = rng.uniform(1, 2.5) * kq
        pxf += amp * _smooth_noise(rng, hq, wq, 4)
        pyf += amp * _smooth_noise(rng, hq, wq, 4)
        shrink = rng.uniform(0.01, 0.025)
        yy, xx = np.mgrid[0:hq, 0:wq].astype(np.float32)
        pxf += (xx - wq / 2) * shrink
        pyf += (yy - hq / 2) * shrink
    shade_full = cv2.resize(shade.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.clip(img.astype(np.float32) * shade_full[..., None], 0, 255).astype(np.uint8)
    if mode == "crumpled":
        mx = cv2.resize(pxf * q, (w, h), interpolation=cv2.INTER_LINEAR)
        my = cv2.resize(pyf * q, (w, h), interpolation=cv2.INTER_LINEAR)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        mapx, mapy = xx + mx, yy + my
        out = cv2.remap(out, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(alpha, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    lines_px = [[round(c["px"] * q), round(c["py"] * q), round(float(np.degrees(np.arctan2(c["ny"], c["nx"]))), 1)]
                for c in creases]
    return out, alpha, {"creases": len(creases), "lines": lines_px}


# ----------------------------------------------------------------------------------------------- the form


def render_form(rng: np.random.Generator, fields: dict[str, str], defects: frozenset[str], *,
                scale: float = 1.0) -> FlatObject:
    """The filled-in service form as a flat object (kind ``"form"``); see the module docstring.

    ``fields``: values by layout key (``service_type`` = order type, ``satisfaction`` = option value);
    an empty or missing value is left blank. ``scale``: 1.0 = 300 dpi (2480×1748 px).
    """
    layout = load_layout()
    k = px_per_mm(scale)
    master = load_master(scale)
    h, w = master.shape
    tints = list(PAPER_TINTS)
    paper_name = str(rng.choice(tints, p=[PAPER_TINTS[t][1] for t in tints]))
    tint = tuple(float(c) for c in np.asarray(PAPER_TINTS[paper_name][0]) + rng.normal(0, 2.5, 3))
    lum = paper_luminance(rng, h, w, k)
    print_ink = tuple(int(c + rng.integers(-8, 9)) for c in PRINT_INK)
    img = print_on_paper(lum, tint, master, print_ink)  # type: ignore[arg-type]
    regions = field_regions(scale)

    blank = {d.split(":", 1)[1] for d in defects if d.startswith("field_blank:")}
    no_tick = set()
    for d in defects:
        if d == "no_tick":
            no_tick.add("service_type")
        elif d.startswith("no_tick:"):
            no_tick.add(d.split(":", 1)[1])
    ink_name = str(rng.choice(["blue", "black", "blue_black"], p=[0.55, 0.3, 0.15]))
    style = PenStyle.random(rng, k)
    cov = np.zeros((h, w), np.float32)
    written: dict[str, Any] = {}
    ticks: dict[str, str | None] = {}
    signature: dict[str, Any] | None = None
    for f in layout["fields"]:
        key = f["key"]
        box = regions[key]
        value = (fields.get(key) or "").strip()
        if key in blank:
            value = ""
        if f["kind"] == "text":
            if value:
                written[key] = _write_field(cov, rng, value, box, style, k)
        elif f["kind"] == "choice":
            opts = {o["value"]: o for o in f["options"]}
            if value in opts and key not in no_tick:
                kind = "check" if rng.random() < 0.8 else "cross"
                b = regions[f"{key}:{value}"]
                draw_tick(cov, rng, b, k, kind)
                ticks[key] = value
                written[key] = {"option": value, "mark": kind}
            else:
                ticks[key] = None
        elif f["kind"] == "signature":
            if "no_signature" not in defects and key not in blank:
                sb = draw_signature(cov, rng, box, k)
                signature = {"ink_box": [int(round(v)) for v in sb]}
    apply_ink(img, cov, INKS[ink_name], rng)

    alpha = np.full((h, w), 255, np.uint8)
    info: dict[str, Any] = {
        "form_id": layout["form_id"], "version": layout["version"], "scale": scale,
        "px_per_mm": round(k, 4), "paper": paper_name, "ink": ink_name, "written": written,
        "ticks": ticks, "signature": signature is not None, "defects": {},
    }
    if signature:
        info["signature_box"] = signature["ink_box"]
    markers = {n[len("marker:"):]: b for n, b in regions.items() if n.startswith("marker:")}
    if "stain" in defects:
        before = {n: img[y:y + bh, x:x + bw].astype(np.int16) for n, (x, y, bw, bh) in markers.items()}
        st = add_stain(img, rng, k)
        regions["stain"] = st["box"]
        # which ArUco markers the stain darkened noticeably (they may then be unreadable)
        st["markers_hit"] = [n for n, (x, y, bw, bh) in markers.items()
                             if np.abs(img[y:y + bh, x:x + bw].astype(np.int16) - before[n]).mean() > 4]
        info["defects"]["stain"] = st
    if "mild_fold" in defects:
        img, alpha, fi = add_creases(img, alpha, rng, k, "mild_fold")
        info["defects"]["mild_fold"] = fi
    if "crumpled" in defects:
        img, alpha, ci = add_creases(img, alpha, rng, k, "crumpled")
        ci["regions_shift_mm"] = "up to ~3 (boxes in regions are the unwarped layout)"
        info["defects"]["crumpled"] = ci
    if "torn_corner" in defects:
        tc = add_torn_corner(img, alpha, rng, k)
        regions["torn_corner"] = tc["box"]
        tc["markers_hit"] = [n for n, (x, y, bw, bh) in markers.items() if (alpha[y:y + bh, x:x + bw] < 128).any()]
        info["defects"]["torn_corner"] = tc
    opaque = bool(alpha.min() == 255)
    return FlatObject(kind="form", image=img, alpha=None if opaque else alpha, regions=regions, info=info)


# ----------------------------------------------------------------------------------------------- not a form

_SANS = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
_MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


@functools.lru_cache(maxsize=32)
def _pfont(size: int, mono: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_MONO if mono and _MONO.exists() else _SANS), size)


def _table_bg(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A desk / counter surface (float32 BGR): wood, grey laminate or a dark mat, with soft texture."""
    kind = rng.integers(0, 3)
    if kind == 0:  # wood grain
        base = np.array([60, 105, 150], np.float32) * rng.uniform(0.8, 1.1)
        yy = np.arange(h, dtype=np.float32)[:, None]
        grain = np.sin(yy / rng.uniform(5, 9) + 1.2 * _smooth_noise(rng, h, w, 5)) * 0.04
        lum = 1 + grain + 0.05 * _smooth_noise(rng, h, w, 30)
    elif kind == 1:
        base = np.array([185, 188, 190], np.float32) * rng.uniform(0.7, 1.0)
        lum = 1 + 0.03 * _smooth_noise(rng, h, w, 40) + 0.02 * rng.standard_normal((h, w), dtype=np.float32)
    else:
        base = np.array([50, 55, 45], np.float32) * rng.uniform(0.8, 1.3)
        lum = 1 + 0.06 * _smooth_noise(rng, h, w, 60) + 0.03 * rng.standard_normal((h, w), dtype=np.float32)
    return base[None, None, :] * lum[..., None]


def _draw_lines(draw: ImageDraw.ImageDraw, x: int, y: int, lines: list[str], size: int, gap: float,
                fill: tuple[int, int, int], mono: bool = False) -> int:
    for ln in lines:
        draw.text((x, y), ln, font=_pfont(size, mono), fill=fill)
        y += int(size * gap)
    return y


def _receipt(rng: np.random.Generator) -> Image.Image:
    w, h = 900, int(rng.integers(1900, 2600))
    img = Image.new("RGB", (w, h), (248, 248, 244))
    d = ImageDraw.Draw(img)
    shop = str(rng.choice(["好邻居便利店", "华联超市", "五金建材商行", "快客便利"]))
    y = _draw_lines(d, 190, 60, [shop], 64, 1.5, (20, 20, 20))
    lines = [f"单号: {rng.integers(10**9, 10**10)}", f"日期: 2026-12-0{rng.integers(1, 4)} 1{rng.integers(0, 9)}:"
             f"{rng.integers(10, 59)}", "收银员: 03", "-" * 30]
    items = ["矿泉水550ml", "生料带", "PE管 3/8", "快接弯头", "电池AA", "毛巾", "纸巾", "扎带100根"]
    total = 0.0
    for it in rng.choice(items, int(rng.integers(4, 8)), replace=False):
        p = float(rng.integers(2, 60)) + 0.5 * rng.integers(0, 2)
        total += p
        lines.append(f"{it:<12}{p:>8.2f}")
    lines += ["-" * 30, f"合计{total:>22.2f}", f"现金{total + 10:>22.2f}", f"找零{10:>22.2f}", "",
              "谢谢惠顾 欢迎再来", "服务热线 400-800-1234"]
    y = _draw_lines(d, 50, y + 20, lines, 36, 1.6, (40, 40, 40), mono=False)
    for i in range(60):  # a 1-D barcode-ish band at the bottom
        bw = int(rng.integers(2, 8))
        d.rectangle([120 + i * 11, y + 40, 120 + i * 11 + bw, y + 160], fill=(30, 30, 30))
    return img.crop((0, 0, w, min(h, y + 260)))


def _other_sheet(rng: np.random.Generator) -> Image.Image:
    w, h = 2100, 2970
    img = Image.new("RGB", (w, h), (246, 246, 242))
    d = ImageDraw.Draw(img)
    title = str(rng.choice(["送货单", "设备验收报告", "物业装修申请表", "产品保修卡", "入库单"]))
    d.text((w // 2, 180), title, font=_pfont(110), fill=(20, 20, 20), anchor="mm")
    d.text((160, 330), f"编号: No.{rng.integers(100000, 999999)}", font=_pfont(44), fill=(40, 40, 40))
    cols = int(rng.integers(3, 6))
    rows = int(rng.integers(10, 18))
    x0, y0, x1 = 160, 430, w - 160
    rh = int(rng.integers(90, 130))
    for r in range(rows + 1):
        d.line([(x0, y0 + r * rh), (x1, y0 + r * rh)], fill=(30, 30, 30), width=3)
    cw = (x1 - x0) / cols
    for c in range(cols + 1):
        d.line([(int(x0 + c * cw), y0), (int(x0 + c * cw), y0 + rows * rh)], fill=(30, 30, 30), width=3)
    heads = ["序号", "名称", "规格", "数量", "备注", "单价"]
    for c in range(cols):
        d.text((int(x0 + c * cw + 20), y0 + rh // 2), heads[c], font=_pfont(44), fill=(20, 20, 20), anchor="lm")
    for r in range(1, rows):
        if rng.random() < 0.6:
            d.text((int(x0 + 20), y0 + r * rh + rh // 2), str(r), font=_pfont(40), fill=(40, 40, 40), anchor="lm")
    yb = y0 + rows * rh + 120
    _draw_lines(d, 160, yb, ["说明: 1. 本单一式两份。", "2. 请核对数量后签收。", "签收人: ________  日期: ________"],
                44, 1.9, (40, 40, 40))
    return img


def _box_label(rng: np.random.Generator) -> Image.Image:
    w, h = 2400, 1700
    base = np.array([95, 150, 190], np.float32) * rng.uniform(0.85, 1.1)  # corrugated cardboard (BGR)
    lum = 1 + 0.05 * _smooth_noise(rng, h, w, 30) + 0.03 * rng.standard_normal((h, w), dtype=np.float32)
    lum += 0.025 * np.sin(np.arange(w, dtype=np.float32) / 7.0)[None, :]  # flutes
    arr = np.clip(base[None, None, :] * lum[..., None], 0, 255).astype(np.uint8)
    img = Image.fromarray(cv2.cvtColor(arr, cv2.COLOR_BGR2RGB))
    d = ImageDraw.Draw(img)
    lx, ly, lw, lh = 500, 350, 1400, 900
    d.rectangle([lx, ly, lx + lw, ly + lh], fill=(250, 250, 250), outline=(30, 30, 30), width=4)
    lines = ["品名: 净水器滤芯组件", f"型号: PP-{rng.integers(10, 99)}B", f"数量: {rng.integers(1, 12)} 件",
             "毛重: 3.2kg   尺寸: 40×30×25cm", "生产批号: " + str(rng.integers(10**7, 10**8)), "小心轻放  防潮  向上"]
    _draw_lines(d, lx + 60, ly + 60, lines, 64, 1.55, (25, 25, 25))
    for i in range(70):
        bw = int(rng.integers(3, 10))
        d.rectangle([lx + 120 + i * 16, ly + lh - 170, lx + 120 + i * 16 + bw, ly + lh - 50], fill=(20, 20, 20))
    d.text((300, 1450), "THIS SIDE UP  ↑↑", font=_pfont(80), fill=(30, 40, 60))
    return img


def _screenshot(rng: np.random.Generator) -> Image.Image:
    w, h = 1080, 2340
    dark = bool(rng.random() < 0.3)
    bg = (25, 25, 28) if dark else (237, 237, 237)
    fg = (230, 230, 230) if dark else (20, 20, 20)
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    d.text((60, 40), f"{rng.integers(8, 23)}:{rng.integers(10, 59)}", font=_pfont(40), fill=fg)
    d.text((w - 220, 40), "5G  87%", font=_pfont(36), fill=fg)
    d.rectangle([0, 120, w, 260], fill=(245, 245, 245) if not dark else (40, 40, 44))
    d.text((w // 2, 190), str(rng.choice(["工程师群", "王女士", "派单通知", "净水售后服务"])), font=_pfont(48),
           fill=fg, anchor="mm")
    msgs = ["师傅您好，明天下午方便上门吗", "好的，两点左右到", "滤芯需要带吗", "已完成安装，请确认",
            "收到，谢谢", "[图片]", "地址发您了", "机器有点漏水", "麻烦看一下订单"]
    y = 320
    while y < h - 300:
        mine = bool(rng.random() < 0.5)
        t = str(rng.choice(msgs))
        tw = int(_pfont(44).getlength(t)) + 60
        x = w - 140 - tw if mine else 140
        col = (149, 236, 105) if mine else ((60, 60, 64) if dark else (255, 255, 255))
        d.rounded_rectangle([x, y, x + tw, y + 110], radius=20, fill=col)
        d.text((x + 30, y + 55), t, font=_pfont(44), fill=(20, 20, 20) if mine or not dark else fg, anchor="lm")
        d.ellipse([20 if not mine else w - 120, y, 120 if not mine else w - 20, y + 100], fill=(150, 170, 200))
        y += int(rng.integers(150, 230))
    d.rectangle([0, h - 170, w, h], fill=(246, 246, 246) if not dark else (40, 40, 44))
    return img


NON_FORM_KINDS = ("receipt", "sheet", "box_label", "screenshot")


def render_non_form(rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
    """A sharp BGR photo-like image of something that is NOT the service form (no markers, other layout).

    One of: a shop receipt or a different printed sheet lying on a desk, a packaging-box label, or a phone
    screenshot (returned as is, since screenshots are what engineers upload by mistake). About 2400×1800
    (screenshots 1080×2340). ``kind`` (one of ``NON_FORM_KINDS``) picks one; default: drawn from ``rng``.
    """
    if kind is None:
        kind = str(rng.choice(NON_FORM_KINDS))
    elif kind not in NON_FORM_KINDS:
        raise ValueError(f"unknown non-form kind {kind!r}; expected one of {NON_FORM_KINDS}")
    if kind == "screenshot":
        return cv2.cvtColor(np.asarray(_screenshot(rng)), cv2.COLOR_RGB2BGR)
    if kind == "box_label":
        return cv2.cvtColor(np.asarray(_box_label(rng)), cv2.COLOR_RGB2BGR)
    obj = _receipt(rng) if kind == "receipt" else _other_sheet(rng)
    H, W = 1800, 2400
    bg = _table_bg(rng, H, W)
    o = cv2.cvtColor(np.asarray(obj), cv2.COLOR_RGB2BGR)
    s = min(H * rng.uniform(0.75, 0.92) / o.shape[0], W * 0.8 / o.shape[1])
    o = cv2.resize(o, (int(o.shape[1] * s), int(o.shape[0] * s)), interpolation=cv2.INTER_AREA)
    oh, ow = o.shape[:2]
    ang = rng.normal(0, 6)
    cx, cy = W / 2 + rng.normal(0, W * 0.05), H / 2 + rng.normal(0, H * 0.03)
    m = cv2.getRotationMatrix2D((ow / 2, oh / 2), ang, 1.0)
    m[:, 2] += [cx - ow / 2, cy - oh / 2]
    warped = cv2.warpAffine(o, m, (W, H), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.full((oh, ow), 255, np.uint8), m, (W, H), flags=cv2.INTER_LINEAR)
    # a soft shadow under the paper, then the paper
    sh = cv2.GaussianBlur(mask, (0, 0), 12).astype(np.float32) / 255.0
    sh = np.roll(sh, (12, 10), axis=(0, 1))
    bg *= (1 - 0.35 * sh)[..., None]
    a = mask.astype(np.float32)[..., None] / 255.0
    out = bg * (1 - a) + warped.astype(np.float32) * a
    light = 1 + 0.08 * _smooth_noise(rng, H, W, 3)
    return np.clip(out * light[..., None], 0, 255).astype(np.uint8)

"""Stand-in renderers for the form and the nameplate, used only until form.py / nameplate.py exist.

Same signatures as the real ones (`render_form`, `render_nameplate`); simple on purpose: the print master
with kaiti-font "handwriting" in the field boxes, and a white sticker with Code 128 barcodes and a QR.
`renderers()` returns the real functions when their modules import, else these.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .types import FlatObject

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
FORM_JSON = REPO / "models" / "forms" / "nvk-service-form-v1.json"
FORM_PNG = REPO / "models" / "forms" / "nvk-service-form-v1.png"
HAND_FONT = "/usr/share/fonts/truetype/arphic/ukai.ttc"
PRINT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


@lru_cache(maxsize=1)
def form_layout() -> dict[str, Any]:
    return json.loads(FORM_JSON.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _master() -> np.ndarray:
    img = cv2.imread(str(FORM_PNG), cv2.IMREAD_GRAYSCALE)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


@lru_cache(maxsize=16)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _hand_text(draw: ImageDraw.ImageDraw, rng: np.random.Generator, xy: tuple[float, float], text: str,
               size: int, ink: tuple[int, int, int], max_w: float) -> None:
    x, y = xy
    for ch in text:
        s = int(size * rng.uniform(0.88, 1.1))
        f = _font(HAND_FONT, s)
        dy = rng.normal(0, size * 0.05)
        draw.text((x, y + dy), ch, font=f, fill=ink)
        x += f.getlength(ch) * rng.uniform(0.92, 1.05)
        if x > xy[0] + max_w:
            break


def render_form(rng: np.random.Generator, fields: dict[str, str], defects: frozenset[str]) -> FlatObject:
    layout = form_layout()
    mm = layout["print_dpi"] / 25.4
    img = Image.fromarray(cv2.cvtColor(_master(), cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(img)
    ink = [(30, 40, 150), (25, 25, 30), (20, 50, 120)][int(rng.integers(3))]
    regions: dict[str, tuple[int, int, int, int]] = {}
    blank = {d.split(":", 1)[1] for d in defects if d.startswith("field_blank:")}
    for fld in layout["fields"]:
        x, y, w, h = (v * mm for v in fld["box"])
        regions[fld["key"]] = (int(x), int(y), int(w), int(h))
        key = fld["key"]
        if key in blank:
            continue
        if fld["kind"] == "text":
            val = fields.get(key, "")
            if val:
                _hand_text(draw, rng, (x + 2 * mm, y + 1.2 * mm), val, int(6.5 * mm), ink, w - 4 * mm)
        elif fld["kind"] == "choice":
            if key == "service_type" and "no_tick" in defects:
                continue
            for opt in fld["options"]:
                if opt["value"] == fields.get(key):
                    bx, by, bw, bh = (v * mm for v in opt["box"])
                    pts = [(bx + 0.5 * mm, by + bh * 0.5), (bx + bw * 0.45, by + bh - 0.3 * mm),
                           (bx + bw + 1.5 * mm, by - 1.5 * mm)]
                    draw.line(pts, fill=ink, width=int(0.6 * mm), joint="curve")
        elif fld["kind"] == "signature" and "no_signature" not in defects:
            pts = []
            cx, cy = x + w * 0.15, y + h * 0.55
            for i in range(40):
                t = i / 39
                pts.append((cx + t * w * 0.6, cy + np.sin(t * 14 + rng.uniform(0, 0.5)) * h * 0.22
                            + rng.normal(0, 1.5)))
            draw.line(pts, fill=ink, width=int(0.5 * mm), joint="curve")
    arr = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR).copy()
    # paper tint
    arr = (arr.astype(np.float32) * np.array([0.93, 0.97, 0.98], np.float32)).astype(np.uint8)
    alpha = None
    if "stain" in defects:
        cx, cy = int(rng.uniform(0.3, 0.7) * arr.shape[1]), int(rng.uniform(0.3, 0.7) * arr.shape[0])
        mask = np.zeros(arr.shape[:2], np.float32)
        cv2.circle(mask, (cx, cy), int(18 * mm), 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 4 * mm)
        arr = (arr * (1 - 0.45 * mask[..., None] * np.array([0.6, 0.9, 1.0]))).astype(np.uint8)
    if "torn_corner" in defects:
        alpha = np.full(arr.shape[:2], 255, np.uint8)
        h, w = alpha.shape
        cv2.fillPoly(alpha, [np.array([[w - int(40 * mm), h], [w, h - int(30 * mm)], [w, h]], np.int32)], 0)
    return FlatObject("form", arr, alpha, regions, {"renderer": "placeholder"})


def _code128_modules(text: str) -> str:
    import barcode

    return str(barcode.get("code128", text).build()[0])


def _draw_barcode(img: np.ndarray, x: int, y: int, modules: str, module_px: int, height: int) -> int:
    for i, m in enumerate(modules):
        if m == "1":
            img[y:y + height, x + i * module_px:x + (i + 1) * module_px] = 20
    return len(modules) * module_px


def render_nameplate(rng: np.random.Generator, label: dict[str, Any], defects: frozenset[str]) -> FlatObject:
    import segno

    mod = 3 if "small_codes" in defects else 5
    W, H = 1400, 900
    img = np.full((H, W, 3), 245, np.uint8)
    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    f = _font(PRINT_FONT, 40)
    d.text((40, 30), f"尼维珂净水器  型号 {label['model']}", font=f, fill=(0, 0, 0))
    d.text((40, 85), "额定电压 220V~ 50Hz  额定功率 36W  进水压力 0.1-0.4MPa", font=_font(PRINT_FONT, 28),
           fill=(0, 0, 0))
    img = np.asarray(pil).copy()
    regions = {}
    y = 150
    for kind in ("sn", "imei"):
        val = label.get(kind)
        if not val:
            continue
        mods = _code128_modules(val)
        w = _draw_barcode(img, 40, y, mods, mod, 110)
        regions[kind] = (40, y, w, 150)
        pil = Image.fromarray(img)
        ImageDraw.Draw(pil).text((40, y + 115), f"{kind.upper()}: {val}", font=_font(PRINT_FONT, 30), fill=(0, 0, 0))
        img = np.asarray(pil).copy()
        y += 190
    if label.get("mac"):
        pil = Image.fromarray(img)
        ImageDraw.Draw(pil).text((40, y), f"MAC: {label.get('mac_printed') or label['mac']}",
                                 font=_font(PRINT_FONT, 30), fill=(0, 0, 0))
        img = np.asarray(pil).copy()
    if label.get("imei") or label.get("mac"):
        parts = [f"SN:{label['sn']}"]
        if label.get("mac"):
            parts.append(f"MAC:{label['mac']}")
        if label.get("imei"):
            parts.append(f"IMEI:{label['imei']}")
        qr = np.array(segno.make(";".join(parts), error="m").matrix, np.uint8)
        qr = np.pad(qr, 2)
        s = (mod + 1) * 2
        q = np.kron(1 - qr, np.ones((s, s), np.uint8)) * 225 + 20
        qh, qw = q.shape
        x0, y0 = W - qw - 40, 150
        img[y0:y0 + qh, x0:x0 + qw] = q[..., None]
        regions["qr"] = (x0, y0, qw, qh)
    if "codes_cut_off" in defects:
        img[:, int(W * 0.55):] = 245
        img[int(H * 0.35):, :] = (img[int(H * 0.35):, :] * 0 + 245)
    # sticker on a patch of machine body
    pad = 160
    body = np.full((H + 2 * pad, W + 2 * pad, 3), 215, np.uint8)
    body[pad:pad + H, pad:pad + W] = img
    regions = {k: (x + pad, yy + pad, w, h) for k, (x, yy, w, h) in regions.items()}
    return FlatObject("nameplate", body, None, regions, {"renderer": "placeholder"})


Renderer = Callable[[np.random.Generator, Any, frozenset[str]], FlatObject]


def renderers() -> tuple[Renderer, Renderer, str]:
    """(render_form, render_nameplate, source): the real renderers where they exist, else the stand-ins."""
    rf: Renderer = render_form
    rn: Renderer = render_nameplate
    src = []
    try:
        from .form import render_form as real_form

        rf = real_form
        src.append("form.py")
    except ImportError:
        src.append("placeholder form")
    try:
        from .nameplate import render_nameplate as real_plate

        rn = real_plate
        src.append("nameplate.py")
    except ImportError:
        src.append("placeholder nameplate")
    return rf, rn, ", ".join(src)

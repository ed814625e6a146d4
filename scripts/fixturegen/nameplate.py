"""The nameplate renderer: the product sticker with its codes, on a patch of machine body.

The sticker (silver or white, rounded corners, printed border) carries the brand 尼维珂 NVK, the product
name and model, the ratings (额定电压 220V~ 50Hz, 额定功率, 额定进水压力, 生产日期, 制造商 …), the SN as a
Code 128 barcode with its text under it, for models with IMEI a second Code 128 with its text, for models
with IMEI or MAC a QR code with ``SN:<sn>;MAC:<mac>;IMEI:<imei>`` (absent parts left out), and the MAC as
the text ``MAC: <mac_printed>``. Codes come from real encoders: python-barcode's Code 128 module pattern
(drawn here with exact, anti-aliased bar edges) and segno's QR matrix.

Size: the object is drawn at ``PX_PER_MM`` = 12 px/mm; the sticker is 100 mm wide (≈1200 px) and the
object (sticker plus ``BODY_MARGIN_MM`` of body each side) ≈1730 px wide. A Code 128 narrow bar is
0.4 mm = 4.8 px (``small_codes``: 0.27 mm = 3.2 px), the QR module 0.6 mm = 7.2 px. When camera.py scales
the object to fill 30 % of a 4000×3000 frame (or 60 % of 2000×1500) along its tighter axis, that is
s ≈ 0.66 and a narrow bar ≈ 3.2 px. ``info["module_px"]`` gives the figures so a caller can check.

Defects: ``codes_cut_off`` (a strip of tape over the codes, or the sticker torn through them, so that no
code can be read), ``small_codes`` (codes printed at 2/3 size, still decodable at full resolution; clean)
and ``scratched`` (light scratches over the sticker; clean).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import segno
from barcode.codex import Code128
from PIL import Image, ImageDraw, ImageFont

from .types import FlatObject

PX_PER_MM = 12.0
STICKER_W_MM = 100.0
BODY_MARGIN_MM = 22.0  # camera.py feathers the outer 12 % of the patch into the scene: keep the sticker clear
CODE128_MODULE_MM = 0.40
QR_MODULE_MM = 0.60
SMALL_CODES_FACTOR = 0.67
QUIET_MODULES = 10

_SANS = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

# model -> (product name, rated power W, rated flow text)
PRODUCTS: dict[str, tuple[str, str, str]] = {
    "NVK-RO400": ("家用反渗透净水机", "36W", "额定净水产水量: 1.05L/min"),
    "NVK-RO600": ("家用反渗透净水机", "48W", "额定净水产水量: 1.58L/min"),
    "NVK-RO800": ("家用智能反渗透净水机", "72W", "额定净水产水量: 2.1L/min"),
    "NVK-UF200": ("家用超滤净水器", "—", "额定净水产水量: 2.0L/min"),
    "NVK-C1000": ("商用反渗透纯水机", "180W", "额定净水产水量: 250L/h"),
    "NVK-C2000": ("商用反渗透纯水机", "370W", "额定净水产水量: 500L/h"),
}


@functools.lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = _BOLD if bold and _BOLD.exists() else _SANS
    return ImageFont.truetype(str(path), size)


def code128_modules(text: str) -> str:
    """The Code 128 module pattern ('1' = bar) of ``text`` from python-barcode (start…stop, no quiet zone)."""
    return str(Code128(text).build()[0])


def qr_payload(label: dict[str, Any]) -> str | None:
    """``SN:<sn>;MAC:<mac>;IMEI:<imei>`` with absent parts left out; None for models with neither."""
    if not (label.get("imei") or label.get("mac")):
        return None
    parts = [f"SN:{label['sn']}"]
    if label.get("mac"):
        parts.append(f"MAC:{label['mac']}")
    if label.get("imei"):
        parts.append(f"IMEI:{label['imei']}")
    return ";".join(parts)


def draw_code128(cov: np.ndarray, x: float, y: float, modules: str, module_px: float, height: float,
                 gain: float = 0.0) -> tuple[int, int, int, int]:
    """Draw bars into ``cov`` (float32 0..1, max-composite) with exact sub-pixel edges; returns the box.

    ``gain``: print gain in px added to every bar's width (thermal printers spread ink a little).
    """
    n = len(modules)
    width = n * module_px
    x0i, x1i = int(np.floor(x)), int(np.ceil(x + width)) + 1
    cols = np.zeros(x1i - x0i, np.float32)
    # run-length bars
    i = 0
    while i < n:
        if modules[i] == "1":
            j = i
            while j < n and modules[j] == "1":
                j += 1
            a = x + i * module_px - gain / 2 - x0i
            b = x + j * module_px + gain / 2 - x0i
            ia, ib = int(np.floor(a)), int(np.floor(b))
            if ia == ib:
                cols[ia] += b - a
            else:
                cols[ia] += ia + 1 - a
                cols[ia + 1:ib] = 1.0
                if ib < len(cols):
                    cols[ib] += b - ib
            i = j
        else:
            i += 1
    cols = np.clip(cols, 0, 1)
    y0, y1 = int(round(y)), int(round(y + height))
    sub = cov[y0:y1, x0i:x1i]
    np.maximum(sub, cols[None, : sub.shape[1]], out=sub)
    return (x0i, y0, x1i - x0i, y1 - y0)


def draw_qr(cov: np.ndarray, x: float, y: float, payload: str, module_px: float) -> tuple[int, int, int, int]:
    """Draw the QR code of ``payload`` (segno, ECC M) without its quiet zone; returns the box."""
    qr = segno.make(payload, error="m", micro=False)
    m = np.array(qr.matrix, np.float32)
    n = m.shape[0]
    size = n * module_px
    ss = 4  # supersample, then area-reduce: anti-aliased module edges at a fractional module size
    big = cv2.resize(m, (int(round(size * ss)), int(round(size * ss))), interpolation=cv2.INTER_NEAREST)
    off = (x - int(np.floor(x)), y - int(np.floor(y)))
    W, H = int(np.ceil(size + off[0])) + 1, int(np.ceil(size + off[1])) + 1
    canvas = np.zeros((H * ss, W * ss), np.float32)
    ox, oy = int(round(off[0] * ss)), int(round(off[1] * ss))
    canvas[oy:oy + big.shape[0], ox:ox + big.shape[1]] = big
    small = cv2.resize(canvas, (W, H), interpolation=cv2.INTER_AREA)
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    sub = cov[y0:y0 + H, x0:x0 + W]
    np.maximum(sub, small[: sub.shape[0], : sub.shape[1]], out=sub)
    return (x0, y0, W, H)


def _rounded_mask(h: int, w: int, x: float, y: float, ww: float, hh: float, r: float) -> np.ndarray:
    """Anti-aliased rounded-rectangle mask (float32 0..1) of the box (x, y, ww, hh) with radius r."""
    ss = 2
    m = np.zeros((h, w), np.uint8)
    big = Image.new("L", (int(ww * ss), int(hh * ss)), 0)
    ImageDraw.Draw(big).rounded_rectangle([0, 0, int(ww * ss) - 1, int(hh * ss) - 1], radius=int(r * ss), fill=255)
    small = np.asarray(big.resize((int(round(ww)), int(round(hh))), Image.Resampling.BOX))
    x0, y0 = int(round(x)), int(round(y))
    m[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return m.astype(np.float32) / 255.0


def _smooth(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    gh = max(2, int(round(cells * h / max(w, 1))))
    return cv2.resize(rng.standard_normal((gh, cells), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def _body(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, str]:
    """A patch of machine body (float32 BGR): painted/plastic panel or brushed stainless steel."""
    kind = str(rng.choice(["white_plastic", "grey_plastic", "black_plastic", "steel"], p=[0.35, 0.2, 0.2, 0.25]))
    base = {"white_plastic": (228, 230, 232), "grey_plastic": (168, 170, 172), "black_plastic": (48, 48, 52),
            "steel": (182, 186, 190)}[kind]
    b = np.asarray(base, np.float32) * rng.uniform(0.92, 1.05)
    if kind == "steel":
        streak = cv2.resize(rng.standard_normal((h, max(8, w // 60)), dtype=np.float32), (w, h),
                            interpolation=cv2.INTER_LINEAR)
        lum = 1 + 0.035 * streak + 0.06 * _smooth(rng, h, w, 3)
    else:  # fine moulded grain
        lum = 1 + 0.04 * (rng.random((h, w), dtype=np.float32) - 0.5) + 0.03 * _smooth(rng, h, w, 4)
    return b[None, None, :] * lum[..., None], kind


def _sticker_material(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, str]:
    kind = str(rng.choice(["silver", "white"], p=[0.5, 0.5]))
    if kind == "silver":
        b = np.asarray((205, 206, 208), np.float32) * rng.uniform(0.95, 1.04)
        streak = cv2.resize(rng.standard_normal((h, max(8, w // 80)), dtype=np.float32), (w, h),
                            interpolation=cv2.INTER_LINEAR)
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        sheen = 0.05 * np.cos(2.2 * yy + rng.uniform(0, 3)) * np.ones((1, w), np.float32)
        lum = 1 + 0.02 * streak + sheen + 0.02 * _smooth(rng, h, w, 3)
    else:
        b = np.asarray((242, 243, 243), np.float32) * rng.uniform(0.97, 1.01)
        lum = 1 + 0.02 * (rng.random((h, w), dtype=np.float32) - 0.5) + 0.01 * _smooth(rng, h, w, 3)
    return b[None, None, :] * lum[..., None], kind


def _ragged(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, rough: float, depth: int = 7) -> np.ndarray:
    pts = [a, b]
    amp = rough
    for _ in range(depth):
        new = [pts[0]]
        for p, q in zip(pts[:-1], pts[1:], strict=True):
            d = q - p
            nrm = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
            new.extend([(p + q) / 2 + nrm * rng.normal(0, amp), q])
        pts = new
        amp *= 0.55
    return np.array(pts)


def render_nameplate(rng: np.random.Generator, label: dict[str, Any], defects: frozenset[str]) -> FlatObject:
    """The nameplate sticker on its patch of machine body (kind ``"nameplate"``); see the module docstring.

    ``label``: ``{"model", "sn", "imei" or None, "mac" or None, "mac_printed"}``.
    """
    k = PX_PER_MM
    small = "small_codes" in defects
    cm = CODE128_MODULE_MM * (SMALL_CODES_FACTOR if small else 1.0) * k
    qm = QR_MODULE_MM * (SMALL_CODES_FACTOR if small else 1.0) * k
    model = str(label["model"])
    sn = str(label["sn"])
    imei = label.get("imei") or None
    mac = label.get("mac") or None
    mac_printed = label.get("mac_printed") or mac
    product, power, flow = PRODUCTS.get(model, ("净水机", "48W", "额定净水产水量: 1.5L/min"))
    payload = qr_payload(label)

    # ---- layout in sticker px (y cursor), drawn into a print-coverage layer
    sw = int(STICKER_W_MM * k)
    sh_max = int(120 * k)
    cov_img = Image.new("L", (sw, sh_max), 0)
    d = ImageDraw.Draw(cov_img)
    regions: dict[str, tuple[int, int, int, int]] = {}
    mx = 5.0 * k
    y = 4.0 * k
    header_inverted = bool(rng.random() < 0.5)
    header_h = 11.0 * k
    if header_inverted:
        d.rounded_rectangle([int(3 * k), int(3 * k), int(sw - 3 * k), int(3 * k + header_h)], radius=int(1.5 * k),
                            fill=255)
    brand_fill = 0 if header_inverted else 255

    def text(key: str, xy: tuple[float, float], s: str, size_mm: float, bold: bool = False, anchor: str = "la",
             fill: int = 255) -> tuple[int, int, int, int]:
        font = _font(int(round(size_mm * k)), bold)
        d.text(xy, s, font=font, fill=fill, anchor=anchor)
        b = d.textbbox(xy, s, font=font, anchor=anchor)
        box = (int(b[0]), int(b[1]), int(b[2] - b[0]), int(b[3] - b[1]))
        regions[f"text:{key}"] = box
        return box

    hy = 3 * k + header_h / 2
    text("brand", (mx + 1 * k, hy), "尼维珂", 6.2, anchor="lm", fill=brand_fill)
    bb = regions["text:brand"]
    text("brand_latin", (bb[0] + bb[2] + 2.5 * k, hy), "NVK", 6.0, bold=True, anchor="lm", fill=brand_fill)
    text("product", (sw - mx - 1 * k, hy), product, 3.6, anchor="rm", fill=brand_fill)
    y = 3 * k + header_h + 2.5 * k
    if not header_inverted:
        rule_y = int(y - 1.2 * k)
        d.line([(int(3 * k), rule_y), (int(sw - 3 * k), rule_y)], fill=255, width=max(1, int(0.3 * k)))
    yymm = sn[5:9] if len(sn) >= 9 and sn[5:9].isdigit() else "2412"
    ratings = [
        ("model", f"产品型号: {model}"),
        ("voltage", "额定电压: 220V~ 50Hz"),
        ("power", f"额定功率: {power}"),
        ("pressure", "额定进水压力: 0.1MPa~0.4MPa"),
        ("flow", flow),
        ("water_temp", "适用水温: 5°C~38°C"),
        ("date", f"生产日期: 20{yymm[:2]}年{yymm[2:]}月"),
    ]
    line_h = 4.1 * k
    size_mm = 2.9
    for key, s in ratings:
        text(key, (mx, y), s, size_mm)
        y += line_h
    # QR on the right of the ratings
    if payload:
        qn = segno.make(payload, error="m", micro=False).symbol_size(border=0)[0]
        qsize = qn * qm
        qx = sw - mx - qsize - 1 * k
        qy = 3 * k + header_h + 3 * k
        qr_xy = (qx, qy)
        text("qr_caption", (qx + qsize / 2, qy + qsize + 1.2 * k), "扫码激活 · 售后服务", 2.4, anchor="ma")
        y = max(y, qy + qsize + 5 * k)
    y += 1.5 * k
    # barcodes (with quiet zones) and their human-readable lines
    bars: list[tuple[str, float, float, str, float]] = []
    bar_h = (8.5 if not small else 6.5) * k
    for key, value, caption in (("sn_barcode", sn, f"SN: {sn}"), ("imei_barcode", imei, f"IMEI: {imei}")):
        if not value:
            continue
        bx = mx + QUIET_MODULES * cm * 0.5
        bars.append((key, bx, y, code128_modules(str(value)), bar_h))
        y += bar_h + 0.8 * k
        text(key.replace("_barcode", ""), (bx, y), caption, 3.0)
        y += 4.6 * k
    if mac:
        text("mac", (mx, y), f"MAC: {mac_printed}", 3.0)
        y += 4.6 * k
    y += 0.5 * k
    d.line([(int(3 * k), int(y)), (int(sw - 3 * k), int(y))], fill=255, width=max(1, int(0.25 * k)))
    y += 1.5 * k
    text("maker", (mx, y), "制造商: 尼维珂净水科技(苏州)有限公司", 2.5)
    y += 3.4 * k
    text("address", (mx, y), "地址: 江苏省苏州市工业园区星湖街 218 号    中国制造", 2.5)
    y += 3.4 * k
    text("standard", (mx, y), "执行标准: GB 34914-2021   卫水字(2024)第 3205-0087 号", 2.3)
    y += 4.0 * k
    sh = int(np.ceil(y + 2 * k))
    cov = np.asarray(cov_img, np.float32)[:sh].copy() / 255.0
    module_px: dict[str, float] = {}
    for key, bx, by, mods, bh in bars:
        regions[key] = draw_code128(cov, bx, by, mods, cm, bh, gain=float(rng.uniform(0, 0.12) * cm))
        module_px[key] = round(cm, 2)
    if payload:
        regions["qr"] = draw_qr(cov, qr_xy[0], qr_xy[1], payload, qm)
        module_px["qr"] = round(qm, 2)
    # printed border (a thin rounded frame inset from the die-cut edge)
    border = Image.new("L", (sw, sh), 0)
    ImageDraw.Draw(border).rounded_rectangle([int(1.6 * k), int(1.6 * k), sw - int(1.6 * k), sh - int(1.6 * k)],
                                             radius=int(2.2 * k), outline=255, width=max(1, int(0.35 * k)))
    cov = np.maximum(cov, np.asarray(border, np.float32) / 255.0)

    # ---- material, print, body
    mat, material = _sticker_material(rng, sh, sw)
    ink = np.asarray((30, 29, 28) if material == "white" else (28, 27, 30), np.float32) * rng.uniform(0.9, 1.2)
    cov *= rng.uniform(0.9, 0.98)
    sticker = mat * (1 - cov[..., None]) + ink[None, None, :] * cov[..., None]
    m = int(BODY_MARGIN_MM * k)
    H, W = sh + 2 * m, sw + 2 * m
    body, body_kind = _body(rng, H, W)
    bare_body = body.copy()
    smask = _rounded_mask(H, W, m, m, sw, sh, 3.0 * k)
    # a faint shadow/edge of the sticker's thickness on the body
    shadow = cv2.GaussianBlur(smask, (0, 0), 0.5 * k)
    shadow = np.roll(shadow, (int(0.25 * k), int(0.2 * k)), axis=(0, 1))
    body *= (1 - 0.18 * shadow)[..., None]
    full = np.zeros((H, W, 3), np.float32)
    full[m:m + sh, m:m + sw] = sticker
    img = body * (1 - smask[..., None]) + full * smask[..., None]
    regions = {key: (x + m, yy + m, w_, h_) for key, (x, yy, w_, h_) in regions.items()}
    regions["sticker"] = (m, m, sw, sh)

    info: dict[str, Any] = {
        "model": model, "sn": sn, "imei": imei, "mac": mac, "mac_printed": mac_printed, "qr_payload": payload,
        "material": material, "body": body_kind, "px_per_mm": PX_PER_MM, "module_px": module_px,
        "small_codes": small, "defects": {},
    }
    code_keys = [c for c in ("sn_barcode", "imei_barcode", "qr") if c in regions]
    if "scratched" in defects:
        info["defects"]["scratched"] = _scratch(img, rng, regions["sticker"], k)
    if "codes_cut_off" in defects:
        info["defects"]["codes_cut_off"] = _cut_codes(img, rng, regions, code_keys, k, bare_body)
    return FlatObject(kind="nameplate", image=np.clip(img, 0, 255).astype(np.uint8), alpha=None, regions=regions,
                      info=info)


def _scratch(img: np.ndarray, rng: np.random.Generator, sticker: tuple[int, int, int, int], k: float) -> dict[str, Any]:
    """Light scratches (thin, mostly lighter lines, some curved) over the sticker; codes stay readable."""
    x, y, w, h = sticker
    n = int(rng.integers(12, 30))
    layer = np.zeros(img.shape[:2], np.float32)
    for _ in range(n):
        p = np.array([rng.uniform(x, x + w), rng.uniform(y, y + h)])
        # never near-parallel to the bars (a near-vertical scratch splits a bar and breaks every scan line)
        ang = rng.uniform(-0.3, 0.3) * np.pi
        length = rng.uniform(5, 40) * k
        bend = rng.normal(0, 0.08)
        t = np.linspace(-0.5, 0.5, 24)[:, None]
        dirv = np.array([np.cos(ang), np.sin(ang)])
        nrm = np.array([-dirv[1], dirv[0]])
        pts = p + t * length * dirv + (t ** 2) * bend * length * nrm
        cv2.polylines(layer, [np.round(pts * 16).astype(np.int32)], False, float(rng.uniform(0.3, 0.65)),
                      int(rng.integers(1, 3)), cv2.LINE_AA, 4)
    # scratches catch the light: brighten towards white, with a faint dark groove beside each
    groove = np.roll(layer, 1, axis=0) * 0.25
    img *= (1 - groove)[..., None]
    img += (250 - img) * layer[..., None]
    return {"count": n}


def _cut_codes(img: np.ndarray, rng: np.random.Generator, regions: dict[str, tuple[int, int, int, int]],
               code_keys: list[str], k: float, body: np.ndarray) -> dict[str, Any]:
    """Make every code unreadable: tape over their middles, or the sticker torn through them."""
    how = str(rng.choice(["tape", "torn"]))
    H, W = img.shape[:2]
    sx, sy, sw, sh = regions["sticker"]
    if how == "tape":
        # one strip of opaque (paper-backed) tape across each code's middle third
        tape_col = np.asarray(rng.choice([(185, 215, 225), (235, 235, 232), (70, 70, 72)]), np.float32)
        covered = []
        for key in code_keys:
            x, y, w, h = regions[key]
            cx = x + w * rng.uniform(0.42, 0.58)
            tw = w * (rng.uniform(0.5, 0.65) if key == "qr" else rng.uniform(0.34, 0.45))
            pad = 3 * k
            jit = rng.normal(0, k, 4)
            poly = np.array([[cx - tw / 2 + jit[0], y - pad], [cx + tw / 2 + jit[1], y - pad],
                             [cx + tw / 2 + jit[2], y + h + pad], [cx - tw / 2 + jit[3], y + h + pad]])
            bx0, by0 = np.floor(poly.min(axis=0)).astype(int) - 2
            bx1, by1 = np.ceil(poly.max(axis=0)).astype(int) + 2
            bx0, by0 = max(bx0, 0), max(by0, 0)
            bh, bw = by1 - by0, bx1 - bx0
            mask = np.zeros((bh, bw), np.uint8)
            cv2.fillPoly(mask, [np.round((poly - [bx0, by0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
            a = mask.astype(np.float32)[..., None] / 255.0
            # tape: slightly uneven, with a soft sheen across it and a faint see-through at its edges
            tex = 1 + 0.02 * _smooth(rng, bh, bw, 12)[..., None] + 0.06 * _smooth(rng, bh, bw, 3)[..., None]
            edge = cv2.GaussianBlur(mask, (0, 0), 0.8 * k).astype(np.float32)[..., None] / 255.0
            a = a * (0.9 + 0.1 * edge)
            sub = img[by0:by1, bx0:bx1]
            sub[:] = sub * (1 - a) + (tape_col * tex) * a
            covered.append(key)
            regions[f"tape:{key}"] = (int(bx0), int(by0), int(bw), int(bh))
        return {"how": how, "covered": covered}
    # torn: everything right of a ragged, roughly vertical line through the codes is gone (body shows)
    xs_mid = [regions[c][0] + regions[c][2] * 0.5 for c in code_keys if c != "qr"]
    tx = float(np.clip(np.mean(xs_mid) if xs_mid else sx + sw * 0.5, sx + sw * 0.35, sx + sw * 0.6))
    top = np.array([tx + rng.normal(0, 4 * k), sy - 2.0])
    bot = np.array([tx + rng.normal(0, 4 * k), sy + sh + 2.0])
    line = _ragged(rng, top, bot, rough=3 * k)
    poly = np.vstack([line, [[sx + sw + 5, sy + sh + 5], [sx + sw + 5, sy - 5]]])
    # work in the window that the tear can touch: the sticker right of the line, plus its edge shadow
    e = int(1.5 * k)
    wx0 = max(int(np.floor(line[:, 0].min())) - 2, 0)
    wy0, wx1, wy1 = max(sy - e, 0), min(sx + sw + e, W), min(sy + sh + e, H)
    wh, ww = wy1 - wy0, wx1 - wx0
    mask = np.zeros((wh, ww), np.uint8)
    cv2.fillPoly(mask, [np.round((poly - [wx0, wy0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    # whatever lay under: the body, with faint whitish adhesive/paper residue, strongest near the tear
    dist = np.abs(np.arange(wx0, wx1, dtype=np.float32)[None, :] - tx) / (8 * k)
    near = np.clip(1.2 - dist, 0, 1)
    resid = np.clip(_smooth(rng, wh, ww, 40) * 0.5 + 0.1, 0, 1) * (0.5 * near)
    on_sticker = np.zeros((wh, ww), np.float32)
    on_sticker[sy - wy0:sy + sh - wy0, max(sx - wx0, 0):sx + sw - wx0] = 1
    resid = (resid * on_sticker)[..., None] * 0.6
    under = body[wy0:wy1, wx0:wx1] * (1 - resid) + np.float32(225) * resid
    a = (mask.astype(np.float32) / 255.0)[..., None]  # the sticker's edge shadow goes with it too
    sub = img[wy0:wy1, wx0:wx1]
    sub[:] = sub * (1 - a) + under * a
    # the QR sits on the right: if the tear left it whole, tear off its corner too
    if "qr" in regions:
        qx, qy, qw, qh = regions["qr"]
        if qx + qw * 0.5 < tx:
            a2 = np.zeros((H, W), np.uint8)
            c = np.array([[qx - 2 * k, qy + qh * 0.45], [qx + qw * 0.6, qy - 2 * k], [qx - 3 * k, qy - 3 * k]])
            cv2.fillPoly(a2, [np.round(c).astype(np.int32)], 255)
            img[a2 > 0] = body[a2 > 0]
    ys, xs = np.nonzero(mask > 127)
    regions["torn"] = (int(xs.min()) + wx0, int(ys.min()) + wy0, int(xs.max() - xs.min() + 1),
                       int(ys.max() - ys.min() + 1))
    return {"how": how, "tear_x": round(tx, 1)}

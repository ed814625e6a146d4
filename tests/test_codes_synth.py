"""Synthetic nameplate labels for the codes tests (python-barcode Code 128, segno QR), and their own tests.

`render_label` draws a nameplate as the contract describes it (SN Code 128 with its text under it, an
IMEI Code 128 for 4G models, a QR ``SN:..;MAC:..;IMEI:..`` for models with IMEI or MAC); `photograph`
puts it on a machine-body background with scale, rotation, perspective, blur and noise.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

barcode = pytest.importorskip("barcode")
segno = pytest.importorskip("segno")
from barcode.writer import ImageWriter  # noqa: E402

_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(_FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def code128(text: str, *, module_px: int = 3, height_px: int = 90, caption: bool = True) -> Image.Image:
    """A Code 128 with ``module_px`` px per narrow bar and (optionally) its text printed under it."""
    dpi = 254  # 0.1 mm per px, so module_width in mm = module_px / 10
    im = barcode.Code128(text, writer=ImageWriter()).render({
        "module_width": module_px / 10, "module_height": height_px / 10, "quiet_zone": 10 * module_px / 10,
        "write_text": False, "dpi": dpi})
    im = im.convert("L")
    if not caption:
        return im
    fs = max(12, int(module_px * 9))
    out = Image.new("L", (im.width, im.height + fs + 8), 255)
    out.paste(im, (0, 0))
    d = ImageDraw.Draw(out)
    f = _font(fs)
    tw = d.textlength(text, font=f)
    d.text(((im.width - tw) / 2, im.height + 2), text, fill=0, font=f)
    return out


def qr(payload: str, *, module_px: int = 5) -> Image.Image:
    buf = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buf, kind="png", scale=module_px, border=4)
    buf.seek(0)
    return Image.open(buf).convert("L")


def render_label(sn: str, *, imei: str | None = None, mac: str | None = None, module_px: int = 3,
                 qr_module_px: int = 5, sn_caption: str | None = None, sn_barcode: bool = True) -> NDArray[np.uint8]:
    """The nameplate sticker: title, SN barcode (+ text), IMEI barcode (+ text), QR when IMEI or MAC."""
    parts: list[Image.Image] = []
    if sn_barcode:
        img = code128(sn, module_px=module_px, caption=False)
        cap = sn_caption if sn_caption is not None else sn
        fs = max(12, int(module_px * 9))
        block = Image.new("L", (img.width, img.height + fs + 8), 255)
        block.paste(img, (0, 0))
        d = ImageDraw.Draw(block)
        f = _font(fs)
        d.text(((img.width - d.textlength(cap, font=f)) / 2, img.height + 2), cap, fill=0, font=f)
        parts.append(block)
    if imei:
        parts.append(code128(imei, module_px=module_px))
    right = None
    if imei or mac:
        payload = ";".join(p for p in (f"SN:{sn}", f"MAC:{mac}" if mac else "", f"IMEI:{imei}" if imei else "") if p)
        right = qr(payload, module_px=qr_module_px)
    left_w = max((p.width for p in parts), default=10)
    left_h = sum(p.height + 20 for p in parts) + 60
    w = left_w + (right.width + 40 if right else 0) + 60
    h = max(left_h, (right.height + 100) if right else 0)
    sheet = Image.new("L", (w, h), 250)
    d = ImageDraw.Draw(sheet)
    d.text((30, 10), "NVK WATER PURIFIER", fill=0, font=_font(24))
    y = 50
    for p in parts:
        sheet.paste(p, (30, y))
        y += p.height + 20
    if right:
        sheet.paste(right, (30 + left_w + 30, 50))
    return np.asarray(sheet, dtype=np.uint8).copy()


def photograph(label: NDArray[np.uint8], *, canvas: tuple[int, int] = (1600, 1200), scale: float = 1.0,
               angle: float = 0.0, perspective: float = 0.0, blur: float = 0.0, noise: float = 2.0,
               seed: int = 0, at: tuple[float, float] = (0.5, 0.5)) -> NDArray[np.uint8]:
    """The label on a grey machine body: scaled, rotated (degrees), perspective-skewed, blurred (σ px)."""
    rng = np.random.default_rng(seed)
    W, H = canvas
    bg = np.full((H, W), 120, np.float32) + rng.normal(0, 6, (H, W)).astype(np.float32)
    bg = cv2.GaussianBlur(bg, (0, 0), 3)
    h, w = label.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    cx, cy = W * at[0], H * at[1]
    hw, hh = w * scale / 2, h * scale / 2
    dst = np.float32([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
    dst[1, 1] += perspective * hh
    dst[2, 1] -= perspective * hh
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], np.float32)
    dst = dst @ rot.T + np.float32([cx, cy])
    M = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(label.astype(np.float32), M, (W, H), flags=cv2.INTER_AREA,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=-1)
    mask = cv2.warpPerspective(np.ones_like(label, np.float32), M, (W, H), flags=cv2.INTER_LINEAR)
    img = bg * (1 - mask) + np.where(warped < 0, 0, warped) * mask
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    if noise > 0:
        img = img + rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def save_jpeg(gray: NDArray[np.uint8], path: object, *, quality: int = 90, orientation: int | None = None) -> None:
    """Save as JPEG; with ``orientation`` the pixels are stored rotated so that EXIF orientation undoes it."""
    img = Image.fromarray(gray)
    exif = Image.Exif()
    if orientation == 6:  # display = stored rotated 90° clockwise: store it rotated counter-clockwise
        img = img.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6
    img.save(path, "JPEG", quality=quality, exif=exif.tobytes() if orientation else b"")


def test_label_renders_codes_engines_can_read() -> None:
    import zxingcpp

    lab = render_label("NVK8A2412000731", imei="356938035643809", mac="A4CF123B9E01")
    texts = {b.text for b in zxingcpp.read_barcodes(lab)}
    assert {"NVK8A2412000731", "356938035643809",
            "SN:NVK8A2412000731;MAC:A4CF123B9E01;IMEI:356938035643809"} <= texts


def test_photograph_keeps_size_and_type() -> None:
    lab = render_label("NVK4A2412000731")
    ph = photograph(lab, scale=0.5, angle=10, perspective=0.1, blur=1.0)
    assert ph.shape == (1200, 1600) and ph.dtype == np.uint8

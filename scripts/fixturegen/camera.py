"""The phone camera: photographs a flat object (form, nameplate) or a rendered scene, and writes the JPEG.

`photograph(rng, obj, shot)` places a `FlatObject` on a background (a desk, a machine body), with the
perspective, rotation and framing of a hand-held phone, then `expose(rng, img, shot)` applies the optics
and the sensor: uneven light and shadow, glare, defocus and motion blur, exposure, vignetting, noise and
the phone's own denoise. `write_jpeg(path, img, exif)` encodes with Pillow and writes the EXIF a phone
writes (capture time and offset, GPS IFD, make/model, software, orientation 6 with the pixels stored
sideways).

Everything is drawn from the `numpy.random.Generator` passed in, so a seed gives the same bytes.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import ExifTags, Image

from .types import FlatObject

# A shot's photographic parameters. Ranges are what phone photos in the field show; the defect presets
# in orders.py pick values well inside "unreadable" or "fine" with a band of borderline cases between.


@dataclass
class Shot:
    """How the phone takes one picture (all defaults: a decent hand-held photo)."""

    size: tuple[int, int] = (1600, 1200)  # output width, height (landscape or portrait)
    fill: float = 0.72  # object's long side as a fraction of the frame's matching side
    rotation_deg: float = 0.0  # in-plane rotation (180 = upside down)
    tilt: float = 0.06  # perspective: corner jitter as a fraction of the object's size
    center_jitter: float = 0.05  # object centre offset, fraction of the frame
    out_of_frame: tuple[str, float] | None = None  # (edge "left|right|top|bottom", fraction of object outside)
    defocus: float = 0.0  # Gaussian sigma in output pixels at 1600 px long side (scaled with size)
    motion: tuple[float, float] = (0.0, 0.0)  # (length px at 1600 px long side, angle deg)
    exposure: float = 1.0  # linear gain (0.25 dark ... 2.5 overexposed)
    flare: float = 0.0  # veiling light added before the gain (8-bit units): washes the ink out
    gamma: float = 1.0
    glare: list[tuple[tuple[float, float], float, float]] = field(default_factory=list)
    # each: ((x, y) in object px (or scene px for scenes), radius as fraction of frame long side, strength 0-1)
    light_gradient: float = 0.25  # strength of the uneven lighting (0 even)
    shadow: float = 0.0  # 0 none; 0.2-0.5 a soft shadow of the phone/hand across part of the frame
    noise: float = 1.5  # sensor noise sigma in 8-bit units before the phone's denoise
    vignette: float = 0.25
    background: str = "desk"  # desk | machine | wall
    warmth: float = 0.0  # white balance shift: >0 warm (indoor bulbs), <0 cool


def _scaled(v: float, size: tuple[int, int]) -> float:
    return v * max(size) / 1600.0


# --- backgrounds ---------------------------------------------------------------------------------------


def _smooth_field(rng: np.random.Generator, w: int, h: int, cells: int, amp: float) -> np.ndarray:
    """Low-frequency random field in [-amp, amp], float32 HxW (cheap: random cells, upscaled)."""
    gw, gh = max(2, cells), max(2, int(cells * h / w) + 1)
    small = rng.uniform(-amp, amp, size=(gh, gw)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def background(rng: np.random.Generator, kind: str, size: tuple[int, int]) -> np.ndarray:
    """A desk (wood or laminate), a machine body (painted metal / plastic) or a painted wall, BGR float32."""
    w, h = size
    if kind == "desk":
        palettes = [(60, 100, 150), (40, 70, 110), (170, 175, 180), (200, 205, 210), (90, 120, 150)]
        base = np.array(palettes[rng.integers(len(palettes))], np.float32)
        img = np.empty((h, w, 3), np.float32)
        img[:] = base
        if rng.random() < 0.6:  # wood grain: stretched noise along one axis
            # fine lines that wander: rows of noise stretched along x, warped by a slow sine
            grain = rng.normal(0, 1, size=(max(4, h // 3), 48)).astype(np.float32)
            grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_LINEAR)
            ys = (np.arange(h, dtype=np.float32)[:, None]
                  + 12 * np.sin(np.arange(w, dtype=np.float32)[None, :] / rng.uniform(150, 400)))
            grain = cv2.remap(grain, np.tile(np.arange(w, dtype=np.float32), (h, 1)), ys % h, cv2.INTER_LINEAR)
            img += grain[..., None] * rng.uniform(3, 6)
        img += _smooth_field(rng, w, h, 6, 12)[..., None]
        _desk_clutter(rng, img)
    elif kind == "machine":
        palettes = [(225, 225, 222), (200, 200, 198), (60, 60, 62), (185, 190, 195), (235, 232, 228)]
        base = np.array(palettes[rng.integers(len(palettes))], np.float32)
        img = np.empty((h, w, 3), np.float32)
        img[:] = base
        if rng.random() < 0.5:  # brushed metal
            streak = rng.normal(0, 1, size=(h, max(8, w // 40))).astype(np.float32)
            streak = cv2.resize(streak, (w, h), interpolation=cv2.INTER_LINEAR)
            img += streak[..., None] * 5
        img += _smooth_field(rng, w, h, 4, 10)[..., None]
        # a panel seam or two
        for _ in range(int(rng.integers(0, 3))):
            x = int(rng.integers(0, w))
            cv2.line(img, (x, 0), (x + int(rng.integers(-40, 40)), h), (base * 0.6).tolist(), max(2, w // 500))
    else:  # wall
        base = np.array([(215, 222, 228), (190, 205, 215), (200, 210, 200)][rng.integers(3)], np.float32)
        img = np.empty((h, w, 3), np.float32)
        img[:] = base
        img += _smooth_field(rng, w, h, 30, 3)[..., None]
        img += _smooth_field(rng, w, h, 3, 14)[..., None]
    return img


def _desk_clutter(rng: np.random.Generator, img: np.ndarray) -> None:
    """A few things lying about on the desk near the edges: a pen, a cup's rim, a phone, another sheet."""
    h, w = img.shape[:2]
    u = max(w, h) / 1000.0
    for _ in range(int(rng.integers(0, 4))):
        kind = int(rng.integers(4))
        edge = int(rng.integers(4))
        t = rng.uniform(0.1, 0.9)
        cx = [t * w, t * w, rng.uniform(0, 0.12) * w, rng.uniform(0.88, 1) * w][edge]
        cy = [rng.uniform(0, 0.12) * h, rng.uniform(0.88, 1) * h, t * h, t * h][edge]
        c = (int(cx), int(cy))
        if kind == 0:  # pen
            a = rng.uniform(0, math.pi)
            d = np.array([math.cos(a), math.sin(a)]) * 70 * u
            col = [(30, 30, 30), (160, 60, 20), (30, 30, 160)][int(rng.integers(3))]
            cv2.line(img, (int(cx - d[0]), int(cy - d[1])), (int(cx + d[0]), int(cy + d[1])), col, int(7 * u),
                     cv2.LINE_AA)
        elif kind == 1:  # cup seen from above
            cv2.circle(img, c, int(45 * u), (235, 235, 235), -1, cv2.LINE_AA)
            cv2.circle(img, c, int(38 * u), (40, 60, 90), -1, cv2.LINE_AA)
        elif kind == 2:  # a phone face down
            box = cv2.boxPoints((c, (80 * u, 160 * u), float(rng.uniform(0, 180))))
            cv2.fillPoly(img, [box.astype(np.int32)], (50, 45, 45), cv2.LINE_AA)
        else:  # another sheet of paper under everything
            box = cv2.boxPoints((c, (300 * u, 400 * u), float(rng.uniform(0, 180))))
            cv2.fillPoly(img, [box.astype(np.int32)], (225, 228, 230), cv2.LINE_AA)


# --- geometry ------------------------------------------------------------------------------------------


def _object_quad(rng: np.random.Generator, ow: int, oh: int, shot: Shot) -> np.ndarray:
    """Destination corners (TL, TR, BR, BL) of the object in the output frame, float32 4x2."""
    W, H = shot.size
    # scale so that the object's bounding box fills `fill` of the frame along its tighter axis
    a = math.radians(shot.rotation_deg)
    bw = abs(ow * math.cos(a)) + abs(oh * math.sin(a))
    bh = abs(ow * math.sin(a)) + abs(oh * math.cos(a))
    s = shot.fill * min(W / bw, H / bh)
    cx = W / 2 + rng.uniform(-1, 1) * shot.center_jitter * W
    cy = H / 2 + rng.uniform(-1, 1) * shot.center_jitter * H
    pts = np.array([[-ow / 2, -oh / 2], [ow / 2, -oh / 2], [ow / 2, oh / 2], [-ow / 2, oh / 2]], np.float64)
    # perspective: the far edge narrower (a phone held at an angle) plus random corner jitter
    t = shot.tilt
    side = int(rng.integers(4))
    shrink = rng.uniform(0.3, 1.0) * t
    if side == 0:  # top edge farther
        pts[0, 0] *= 1 - shrink
        pts[1, 0] *= 1 - shrink
    elif side == 1:
        pts[2, 0] *= 1 - shrink
        pts[3, 0] *= 1 - shrink
    elif side == 2:
        pts[0, 1] *= 1 - shrink
        pts[3, 1] *= 1 - shrink
    else:
        pts[1, 1] *= 1 - shrink
        pts[2, 1] *= 1 - shrink
    pts += rng.uniform(-1, 1, size=(4, 2)) * t * 0.5 * np.array([ow, oh])
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts = (pts * s) @ rot.T + np.array([cx, cy])
    if shot.out_of_frame:
        edge, frac = shot.out_of_frame
        xs, ys = pts[:, 0], pts[:, 1]
        if edge == "left":
            pts[:, 0] += -xs.min() - frac * (xs.max() - xs.min())
        elif edge == "right":
            pts[:, 0] += W - xs.max() + frac * (xs.max() - xs.min())
        elif edge == "top":
            pts[:, 1] += -ys.min() - frac * (ys.max() - ys.min())
        else:
            pts[:, 1] += H - ys.max() + frac * (ys.max() - ys.min())
    return pts.astype(np.float32)


def photograph(rng: np.random.Generator, obj: FlatObject, shot: Shot) -> tuple[np.ndarray, dict[str, Any]]:
    """Photograph a flat object: returns the BGR uint8 photo and facts for the truth (quad, regions).

    The object is first reduced with area averaging to about its size in the frame (so that fine print
    aliases the way a camera's optics would not let it), then warped with its alpha onto the background.
    """
    W, H = shot.size
    oh, ow = obj.image.shape[:2]
    quad = _object_quad(rng, ow, oh, shot)
    side_px = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[1]))
    k = min(1.0, 1.15 * side_px / max(ow, oh))
    src_img, src_alpha = obj.image, obj.alpha
    if k < 0.95:
        nw, nh = max(8, int(ow * k)), max(8, int(oh * k))
        src_img = cv2.resize(src_img, (nw, nh), interpolation=cv2.INTER_AREA)
        if src_alpha is not None:
            src_alpha = cv2.resize(src_alpha, (nw, nh), interpolation=cv2.INTER_AREA)
    sh, sw = src_img.shape[:2]
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    M = cv2.getPerspectiveTransform(src, quad)
    bg = background(rng, shot.background, (W, H))
    alpha_src = src_alpha if src_alpha is not None else np.full((sh, sw), 255, np.uint8)
    contact = 0.35
    if obj.kind == "nameplate":
        # the sticker's patch of machine body fades into the surrounding body: same colour, feathered edge
        border = np.concatenate([src_img[:4].reshape(-1, 3), src_img[-4:].reshape(-1, 3)]).astype(np.float32)
        bg += border.mean(axis=0) - bg.reshape(-1, 3).mean(axis=0)
        ramp = np.minimum(np.minimum(np.arange(sw)[None, :], np.arange(sw)[::-1][None, :]) / (0.12 * sw),
                          np.minimum(np.arange(sh)[:, None], np.arange(sh)[::-1][:, None]) / (0.12 * sh))
        alpha_src = (alpha_src.astype(np.float32) * np.clip(ramp, 0, 1)).astype(np.uint8)
        contact = 0.0
    warped = cv2.warpPerspective(src_img, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    alpha = cv2.warpPerspective(alpha_src, M, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
    a = (alpha.astype(np.float32) / 255.0)[..., None]
    # a soft contact shadow under the object (paper on a desk, sticker edge)
    shadow = cv2.GaussianBlur(alpha, (0, 0), _scaled(6, shot.size)).astype(np.float32) / 255.0
    shadow = np.roll(shadow, (int(_scaled(4, shot.size)), int(_scaled(3, shot.size))), axis=(0, 1))
    bg *= (1 - contact * shadow)[..., None]
    img = bg * (1 - a) + warped.astype(np.float32) * a
    # glare positions are given in object pixels: map them through the homography
    M_obj = cv2.getPerspectiveTransform(np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], np.float32), quad)
    glare_img = []
    for (gx, gy), r, s in shot.glare:
        p = cv2.perspectiveTransform(np.array([[[gx, gy]]], np.float32), M_obj)[0, 0]
        glare_img.append(((float(p[0]), float(p[1])), r, s))
    out = expose(rng, img, shot, glare_px=glare_img)
    regions_px = {}
    for name, (x, y, w, h) in obj.regions.items():
        c = np.array([[[x, y], [x + w, y], [x + w, y + h], [x, y + h]]], np.float32)
        regions_px[name] = cv2.perspectiveTransform(c, M_obj)[0].round(1).tolist()
    inside = _fraction_inside(quad, W, H)
    return out, {"quad": quad.round(1).tolist(), "fraction_in_frame": round(inside, 3), "regions_px": regions_px}


def _fraction_inside(quad: np.ndarray, W: int, H: int) -> float:
    """Share of the object's area (in the photo) that lies inside the frame."""
    xs, ys = quad[:, 0], quad[:, 1]
    x0, y0 = int(min(xs.min(), 0)) - 1, int(min(ys.min(), 0)) - 1
    x1, y1 = int(max(xs.max(), W)) + 1, int(max(ys.max(), H)) + 1
    scale = 400.0 / max(x1 - x0, y1 - y0)
    canvas = np.zeros((int((y1 - y0) * scale) + 2, int((x1 - x0) * scale) + 2), np.uint8)
    poly = ((quad - np.array([x0, y0])) * scale).astype(np.int32)
    cv2.fillPoly(canvas, [poly], 1)
    total = canvas.sum()
    fx0, fy0 = int(-x0 * scale), int(-y0 * scale)
    inner = canvas[fy0:fy0 + int(H * scale), fx0:fx0 + int(W * scale)].sum()
    return float(inner) / float(max(total, 1))


def reframe(rng: np.random.Generator, img: np.ndarray, zoom: tuple[float, float] = (1.0, 1.5),
            rotation_deg: float = 5.0, perspective: float = 0.05, mirror: bool = False) -> np.ndarray:
    """A hand-held viewpoint on a drawn scene: random zoom, off-centre framing, roll and keystone.

    Two photos of one scene drawn by two orders never frame it alike, as with real phones. ``mirror``: the
    scene may be seen from its other side (half the time), for scenes without lettering.
    """
    if mirror and rng.random() < 0.5:
        img = img[:, ::-1]
    H, W = img.shape[:2]
    z = rng.uniform(*zoom)
    a = math.radians(rng.normal(0, rotation_deg / 2))
    hw, hh = W / (2 * z), H / (2 * z)
    cx = W / 2 + rng.uniform(-1, 1) * (W / 2 - hw)
    cy = H / 2 + rng.uniform(-1, 1) * (H / 2 - hh)
    src = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]], np.float64)
    src += rng.uniform(-1, 1, size=(4, 2)) * perspective * np.array([W, H]) / z
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    src = src @ rot.T + np.array([cx, cy])
    dst = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32)
    M = cv2.getPerspectiveTransform(src.astype(np.float32), dst)
    return cv2.warpPerspective(img, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


# --- optics and sensor ---------------------------------------------------------------------------------


def _motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    n = max(3, int(round(length)) | 1)
    k = np.zeros((n, n), np.float32)
    c = n // 2
    dx, dy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    cv2.line(k, (int(round(c - dx * c)), int(round(c - dy * c))), (int(round(c + dx * c)), int(round(c + dy * c))),
             1.0, 1, cv2.LINE_AA)
    return k / k.sum()


def expose(rng: np.random.Generator, img: np.ndarray, shot: Shot,
           glare_px: list[tuple[tuple[float, float], float, float]] | None = None) -> np.ndarray:
    """Light, optics and sensor on a float or uint8 BGR image of the output size; returns uint8 BGR.

    ``glare_px``: glare spots in output pixels (default: ``shot.glare`` read as output pixels).
    """
    H, W = img.shape[:2]
    f = img.astype(np.float32)
    # white balance
    if shot.warmth:
        f *= np.array([1 - 0.08 * shot.warmth, 1.0, 1 + 0.08 * shot.warmth], np.float32)
    # light is smooth: compute the gain (ramp, shadow, vignette) and the glare at 1/8 size, then upscale
    k = 8
    w, h = max(4, W // k), max(4, H // k)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = (yy + 0.5) * H / h, (xx + 0.5) * W / w
    gain = np.ones((h, w), np.float32)
    if shot.light_gradient:  # uneven lighting: a linear ramp in a random direction plus a smooth field
        ang = rng.uniform(0, 2 * math.pi)
        ramp = (np.cos(ang) * (xx / W - 0.5) + np.sin(ang) * (yy / H - 0.5))
        gain *= 1 + shot.light_gradient * ramp + _smooth_field(rng, w, h, 3, shot.light_gradient * 0.3)
    if shot.shadow:  # the phone's or the hand's shadow across a corner
        mask = np.zeros((h, w), np.float32)
        corner = int(rng.integers(4))
        axes = (int(w * rng.uniform(0.35, 0.7)), int(h * rng.uniform(0.4, 0.8)))
        cv2.ellipse(mask, ([0, w, w, 0][corner], [0, 0, h, h][corner]), axes, float(rng.uniform(0, 90)), 0, 360,
                    1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(w, h) * 0.04)
        gain *= 1 - shot.shadow * mask
    if shot.vignette:
        r2 = ((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2
        gain *= 1 - shot.vignette * 0.5 * r2
    f *= cv2.resize(gain, (W, H), interpolation=cv2.INTER_LINEAR)[..., None]
    # glare: a bright, slightly warm specular highlight that saturates
    spots = glare_px if glare_px is not None else shot.glare
    if spots:
        glare = np.zeros((h, w), np.float32)
        for (gx, gy), r, s in spots:
            rad = r * max(W, H)
            sx, sy = rad * rng.uniform(0.8, 1.6), rad * rng.uniform(0.5, 1.0)
            th = rng.uniform(0, math.pi)
            dx, dy = xx - gx, yy - gy
            u = (dx * math.cos(th) + dy * math.sin(th)) / sx
            v = (-dx * math.sin(th) + dy * math.cos(th)) / sy
            d2 = u * u + v * v
            glare += (np.exp(-d2 * 1.2) + np.exp(-d2 * 0.25) * 0.35) * 420.0 * s
        f += cv2.resize(glare, (W, H), interpolation=cv2.INTER_LINEAR)[..., None] * np.array([0.97, 1.0, 1.0],
                                                                                               np.float32)
    # defocus and motion blur
    sigma = _scaled(shot.defocus, shot.size)
    if sigma > 0.05:
        f = cv2.GaussianBlur(f, (0, 0), sigma)
    length = _scaled(shot.motion[0], shot.size)
    if length >= 2:
        f = cv2.filter2D(f, -1, _motion_kernel(length, shot.motion[1]))
    # exposure and tone
    f = (f + shot.flare) * shot.exposure
    f = np.clip(f, 0, 255)
    if shot.gamma != 1.0:
        f = 255.0 * (f / 255.0) ** shot.gamma
    # sensor noise: stronger in the shadows (shot noise), chroma noise at low resolution; then the phone's
    # own denoise smooths it (phones never deliver raw noise)
    sig = shot.noise * (1.0 + 2.5 / max(shot.exposure, 0.2) ** 0.5 * (shot.exposure < 0.6))
    if sig > 0:
        lum = rng.standard_normal(size=(H, W), dtype=np.float32) * np.float32(sig)
        chroma = cv2.resize(rng.standard_normal(size=(H // 4, W // 4, 3), dtype=np.float32) * np.float32(sig * 0.8),
                            (W, H))
        f = f + lum[..., None] + chroma
        f = cv2.GaussianBlur(f, (0, 0), 0.6)
    # the phone's sharpening (unsharp mask)
    f = cv2.addWeighted(f, 1.25, cv2.GaussianBlur(f, (0, 0), 1.5), -0.25, 0)
    return np.clip(f, 0, 255).astype(np.uint8)


# --- JPEG + EXIF ---------------------------------------------------------------------------------------


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    d = int(value)
    m_full = (value - d) * 60
    m = int(m_full)
    s = round((m_full - m) * 60, 4)
    return (Fraction(d), Fraction(m), Fraction(s).limit_denominator(10000))


def exif_bytes(exif: dict[str, Any], size: tuple[int, int]) -> bytes:
    """EXIF block for Pillow from a plain dict (see `write_jpeg`)."""
    ex = Image.Exif()
    T = ExifTags.Base
    if exif.get("make"):
        ex[T.Make] = exif["make"]
    if exif.get("model"):
        ex[T.Model] = exif["model"]
    if exif.get("software"):  # as phone apps write it: UTF-8 bytes in the ASCII tag (Pillow would write "?")
        ex[T.Software] = exif["software"].encode("utf-8")
    ex[T.Orientation] = int(exif.get("orientation", 1))
    when: datetime | None = exif.get("captured_at")
    sub = ex.get_ifd(ExifTags.IFD.Exif)
    if when is not None:
        stamp = when.strftime("%Y:%m:%d %H:%M:%S")
        ex[T.DateTime] = stamp
        sub[T.DateTimeOriginal] = stamp
        sub[T.DateTimeDigitized] = stamp
        if exif.get("offset_time") and when.utcoffset() is not None:
            off = when.utcoffset()
            assert off is not None
            mins = int(off.total_seconds() // 60)
            sign = "+" if mins >= 0 else "-"
            sub[T.OffsetTimeOriginal] = f"{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"
    sub[T.ExifImageWidth] = size[0]
    sub[T.ExifImageHeight] = size[1]
    gps = exif.get("gps")
    if gps is not None:
        lat, lon = gps
        g = ex.get_ifd(ExifTags.IFD.GPSInfo)
        g[ExifTags.GPS.GPSVersionID] = b"\x02\x02\x00\x00"
        g[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        g[ExifTags.GPS.GPSLatitude] = _dms(lat)
        g[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        g[ExifTags.GPS.GPSLongitude] = _dms(lon)
        if when is not None and when.utcoffset() is not None:
            from datetime import UTC

            u = when.astimezone(UTC)
            g[ExifTags.GPS.GPSDateStamp] = u.strftime("%Y:%m:%d")
            g[ExifTags.GPS.GPSTimeStamp] = (Fraction(u.hour), Fraction(u.minute), Fraction(u.second))
    return ex.tobytes()


def encode_jpeg(img: np.ndarray, exif: dict[str, Any] | None, quality: int = 85) -> bytes:
    """JPEG bytes of a BGR image (display orientation) with the EXIF dict (None: no EXIF at all).

    ``exif["orientation"] == 6``: the pixels are stored rotated 90° counter-clockwise, so that a viewer
    that applies the tag (rotate 90° clockwise) shows ``img``; the way phones store portrait shots.
    """
    stored = img
    if exif is not None and int(exif.get("orientation", 1)) == 6:
        stored = cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    pil = Image.fromarray(cv2.cvtColor(stored, cv2.COLOR_BGR2RGB))
    buf = io.BytesIO()
    kw: dict[str, Any] = {"quality": quality, "optimize": True, "subsampling": 2}
    if exif is not None:
        kw["exif"] = exif_bytes(exif, pil.size)
    pil.save(buf, "JPEG", **kw)
    return buf.getvalue()


def write_jpeg(path: Path, img: np.ndarray, exif: dict[str, Any] | None, quality: int = 85) -> int:
    """Write ``img`` as a phone JPEG at ``path`` (folders created); returns the file size in bytes.

    ``exif`` keys: captured_at (aware datetime; written as local wall time), offset_time (bool: also
    write OffsetTimeOriginal), gps ((lat, lon) WGS-84 or None), make, model, software, orientation (1|6).
    """
    data = encode_jpeg(img, exif, quality)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)

"""Synthetic photos and orders for the authenticity and history tests (no fixture files needed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from conftest import BASE_ORDER


def scene(seed: int, w: int = 960, h: int = 720) -> NDArray[np.uint8]:
    """A busy BGR picture (coloured blobs and boxes), different for every seed."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h // 24, w // 24, 3), dtype=np.uint8)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(14):
        x, y = (int(v) for v in rng.integers(0, [w, h]))
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(30, 260)), y + int(rng.integers(30, 260))), c, -1)
    return img


def wall(seed: int, w: int = 960, h: int = 720) -> NDArray[np.uint8]:
    """A nearly blank wall: flat colour with faint noise and a slight shading (generic, low quality)."""
    rng = np.random.default_rng(seed)
    base = np.full((h, w, 3), int(rng.integers(180, 230)), np.float32)
    base += np.linspace(0, rng.uniform(-6, 6), w, dtype=np.float32)[None, :, None]
    base += rng.normal(0, 1.5, base.shape).astype(np.float32)
    return np.clip(base, 0, 255).astype(np.uint8)


def _dms(v: float) -> tuple[float, float, float]:
    v = abs(v)
    d = int(v)
    m = int((v - d) * 60)
    s = round(((v - d) * 60 - m) * 60, 4)
    return (float(d), float(m), float(s))


def save_jpeg(img: NDArray[np.uint8], path: Path, *, time: str | None = "2026:12:02 10:00:00",
              make: str | None = "HUAWEI", model: str | None = "ELS-AN00", software: str | None = None,
              serial: str | None = None, gps: tuple[float, float] | None = None, offset: str | None = None,
              orientation: int | None = None, exif: bool = True, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(np.ascontiguousarray(img[:, :, ::-1]))
    if not exif:
        im.save(path, quality=quality)
        return path
    e = Image.Exif()
    if make:
        e[0x010F] = make
    if model:
        e[0x0110] = model
    if software:
        e[0x0131] = software.encode("utf-8")  # UTF-8 in the ASCII tag, as phone apps write it
    if orientation:
        e[0x0112] = orientation
    sub = e.get_ifd(0x8769)
    if time:
        sub[0x9003] = time
    if offset:
        sub[0x9011] = offset
    if serial:
        sub[0xA431] = serial
    if gps:
        g = e.get_ifd(0x8825)
        g[1] = "N" if gps[0] >= 0 else "S"
        g[2] = _dms(gps[0])
        g[3] = "E" if gps[1] >= 0 else "W"
        g[4] = _dms(gps[1])
    im.save(path, quality=quality, exif=e)
    return path


def order(order_id: str, engineer: str, files: list[tuple[str, str]], *, day: str = "02",
          uploaded: str = "15:38", **extra: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE_ORDER)
    d.update(order_id=order_id, order_type="repair", fault_symptom="F01",
             engineer={"id": engineer, "name": engineer},
             times={"dispatched": f"2026-12-{day}T09:10:00+08:00", "completed": f"2026-12-{day}T15:20:00+08:00",
                    "closed": f"2026-12-{day}T15:41:00+08:00"},
             photos=[{"slot": s, "file": f, "uploaded_by": engineer,
                      "uploaded_at": f"2026-12-{day}T{uploaded}:00+08:00"} for s, f in files])
    d.update(extra)
    return d


def write_orders(path: Path, orders: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orders), encoding="utf-8")
    return path

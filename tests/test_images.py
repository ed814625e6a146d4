"""Photo loading: every failure is a typed error; every phone format and mode comes out oriented 8-bit."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wocheck.io.images import PhotoError, PhotoErrorKind, load_photo

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _jpeg(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def _gradient(w: int = 400, h: int = 300) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.float64)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float64)[:, None].repeat(w, 1)
    rgb = np.stack([x, y, 255 - x], axis=2).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(("data", "kind"), [
    (b"", PhotoErrorKind.empty),
    (b"this is a text file, not a photo\n", PhotoErrorKind.not_image),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 64, PhotoErrorKind.corrupt),
])
def test_bad_files_are_typed_errors(tmp_path: Path, data: bytes, kind: PhotoErrorKind) -> None:
    with pytest.raises(PhotoError) as ei:
        load_photo(_write(tmp_path, "x.jpg", data))
    assert ei.value.kind in (kind, PhotoErrorKind.not_image, PhotoErrorKind.truncated)
    assert ei.value.reason_zh and ei.value.reason_en


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = _jpeg(_gradient(800, 600))
    with pytest.raises(PhotoError) as ei:
        load_photo(_write(tmp_path, "t.jpg", data[: len(data) // 2]))
    assert ei.value.kind in (PhotoErrorKind.truncated, PhotoErrorKind.corrupt)


def test_pixel_bomb_refused_before_decoding(tmp_path: Path) -> None:
    big = Image.new("L", (5000, 5000), 128)
    buf = io.BytesIO()
    big.save(buf, "PNG")
    with pytest.raises(PhotoError) as ei:
        load_photo(_write(tmp_path, "b.png", buf.getvalue()), max_pixels=10_000_000)
    assert ei.value.kind == PhotoErrorKind.too_large


def test_byte_limit(tmp_path: Path) -> None:
    p = _write(tmp_path, "g.jpg", _jpeg(_gradient()))
    with pytest.raises(PhotoError) as ei:
        load_photo(p, max_bytes=100)
    assert ei.value.kind == PhotoErrorKind.too_large


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(PhotoError) as ei:
        load_photo(tmp_path / "nope.jpg")
    assert ei.value.kind == PhotoErrorKind.unreadable


@pytest.mark.parametrize("mode", ["CMYK", "P", "RGBA", "LA", "I;16", "L", "1"])
def test_modes_normalised(tmp_path: Path, mode: str) -> None:
    ramp = np.linspace(0, 255, 200)[None, :].repeat(100, 0)
    src = Image.fromarray(np.stack([ramp] * 3, axis=2).astype(np.uint8), "RGB")
    if mode == "I;16":
        img = Image.fromarray((ramp * 257).astype(np.uint16))
    else:
        img = src.convert(mode)
    buf = io.BytesIO()
    img.save(buf, "TIFF" if mode == "CMYK" else "PNG")
    photo = load_photo(_write(tmp_path, "m.img", buf.getvalue()))
    g = photo.full_gray()
    bgr = photo.full_bgr()
    assert g.dtype == np.uint8 and g.shape == (100, 200)
    assert bgr.shape == (100, 200, 3)
    if mode in ("I;16", "L"):  # 16-bit is scaled, not clipped: the gradient survives
        assert g[:, -1].mean() > 200 and g[:, 0].mean() < 60


def test_alpha_is_composited_over_white(tmp_path: Path) -> None:
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    g = load_photo(_write(tmp_path, "a.png", buf.getvalue())).full_gray()
    assert g.min() == 255


def test_exif_orientation_applied(tmp_path: Path) -> None:
    # Stored landscape 400x300 with orientation 6: displayed portrait 300x400, top row = stored left column.
    src = _gradient(400, 300)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = load_photo(_write(tmp_path, "o.jpg", _jpeg(src, exif=exif.tobytes())))
    assert (photo.width, photo.height) == (300, 400)
    assert photo.full_gray().shape == (400, 300)
    assert photo.preview_gray(200).shape == (200, 150)
    assert photo.exif.orientation == 6


def test_preview_is_reduced_and_scaled(tmp_path: Path) -> None:
    photo = load_photo(_write(tmp_path, "p.jpg", _jpeg(_gradient(4000, 3000))))
    prev = photo.preview_gray(1000)
    assert max(prev.shape) == 1000
    assert photo.scale_to_full(prev) == pytest.approx(4.0)
    crop = photo.crop_gray((3900, 2900, 500, 500))
    assert crop.shape == (100, 100)


def test_webp_and_sha256(tmp_path: Path) -> None:
    buf = io.BytesIO()
    _gradient().save(buf, "WEBP")
    p = _write(tmp_path, "w.webp", buf.getvalue())
    a, b = load_photo(p), load_photo(p)
    assert a.format == "WEBP" and a.sha256 == b.sha256 and len(a.sha256) == 64


def test_exif_fields_and_gps(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"
    exif[0x0110] = "ELS-AN00"
    exif[0x0131] = "ELS-AN00 4.0.0.120(C00E110R3P7)"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2026:12:02 14:05:09"
    ifd[0x9011] = "+08:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (31.0, 13.0, 44.76)
    gps[3], gps[4] = "E", (121.0, 31.0, 34.32)
    photo = load_photo(_write(tmp_path, "e.jpg", _jpeg(_gradient(), exif=exif.tobytes())))
    d = photo.exif.to_contract_dict()
    assert d["make"] == "HUAWEI" and d["model"] == "ELS-AN00"
    assert d["captured_at"] == "2026-12-02T14:05:09+08:00"
    assert d["gps"] == pytest.approx([31.2291, 121.5262], abs=1e-4)


REAL_EXIF = SHARED / "realdata" / "exif"


@pytest.mark.skipif(not REAL_EXIF.is_dir(), reason="../shared/realdata not present")
def test_real_camera_files_match_exiftool() -> None:
    """Capture time, GPS and orientation as exiftool reads them, on real camera and phone files."""
    checked = 0
    with (REAL_EXIF / "expected.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        path = REAL_EXIF / "images" / row["file"]
        try:
            photo = load_photo(path)
        except PhotoError as e:
            assert e.reason_en  # broken files fail as typed errors, never as crashes
            continue
        checked += 1
        e = photo.exif
        if row["gps_lat"] and e.gps:
            assert e.gps[0] == pytest.approx(float(row["gps_lat"]), abs=1e-4), row["file"]
            assert e.gps[1] == pytest.approx(float(row["gps_lon"]), abs=1e-4), row["file"]
        if row["datetime_original"] and e.captured_at_raw:
            assert e.captured_at_raw[:19] == row["datetime_original"][:19], row["file"]
        if row["orientation"] and photo.format not in ("HEIF", "HEIC"):
            assert e.orientation == int(row["orientation"]), row["file"]
            w, h = int(row["width"]), int(row["height"])
            assert (photo.width, photo.height) == ((h, w) if e.orientation >= 5 else (w, h)), row["file"]
    assert checked > 60

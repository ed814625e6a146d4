"""Loading photos as phones produce them: decode once, oriented, at the resolution each inspector needs.

`load_photo` reads the file's bytes once (content hash, size guard), opens them with Pillow (JPEG, PNG,
WebP, HEIC/HEIF through pillow-heif, ...), reads the EXIF summary and checks the pixel count before any
pixel is decoded (decompression bombs). Pixels are decoded lazily:

- `DecodedPhoto.preview_gray(max_side)` / `preview_bgr(max_side)`: a reduced image whose long side is at
  most ``max_side`` — for JPEG through libjpeg's DCT scaling (Pillow ``draft``), so a 12 MP photo costs a
  fraction of a full decode;
- `full_gray()` / `full_bgr()`: full resolution, decoded once and cached;
- `crop_gray(box)`: a full-resolution crop of a box given in full-size (oriented) pixels.

Every image is returned in display orientation (EXIF orientation applied), as 8-bit grey or BGR: CMYK,
16-bit, palette and alpha images are normalised (alpha composited over white). A file that can't be used
raises `PhotoError` with a kind and a reason in Chinese and English; nothing here returns ``None`` for a bad
file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, UnidentifiedImageError

log = logging.getLogger(__name__)

_heif_registered = False


def register_heif() -> None:
    """Let Pillow open HEIC/HEIF (iPhones, many Android phones) through pillow-heif; idempotent.

    Called for files that look like ISO base media (``ftyp`` box) only: importing pillow-heif costs
    start-up time that a JPEG-only run (the engineer's self-check) need not pay.
    """
    global _heif_registered
    if _heif_registered:
        return
    _heif_registered = True
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        log.warning("pillow-heif is not installed: HEIC photos can't be read")

# The pixel-count guard is ours (checked before decoding); Pillow's own bomb check would only warn.
Image.MAX_IMAGE_PIXELS = None

GrayImage = NDArray[np.uint8]
BgrImage = NDArray[np.uint8]

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class PhotoErrorKind(StrEnum):
    empty = "empty"
    too_large = "too_large"
    not_image = "not_image"
    truncated = "truncated"
    corrupt = "corrupt"
    unreadable = "unreadable"


class PhotoError(Exception):
    """A photo file that can't be used; ``kind`` says why, ``reason_zh``/``reason_en`` for people."""

    def __init__(self, kind: PhotoErrorKind, reason_zh: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.kind = kind
        self.reason_zh = reason_zh
        self.reason_en = reason_en


@dataclass(frozen=True)
class ExifInfo:
    """The EXIF facts wocheck uses. Absent tags are ``None``; a broken EXIF block gives what could be read.

    ``captured_at`` is naive unless the file gives an offset (``OffsetTimeOriginal``): phone EXIF times
    mostly carry none, and the caller decides which offset to assume (the order's). ``gps`` is WGS-84
    decimal degrees ``(lat, lon)``; a fix at exactly 0,0 is kept in ``gps`` with ``gps_zero`` set, since it
    is no evidence of a place.
    """

    present: bool = False
    captured_at: datetime | None = None
    captured_at_raw: str | None = None
    gps: tuple[float, float] | None = None
    gps_zero: bool = False
    make: str | None = None
    model: str | None = None
    software: str | None = None
    orientation: int | None = None
    body_serial: str | None = None
    errors: tuple[str, ...] = ()

    def to_contract_dict(self) -> dict[str, Any]:
        """The contract's ``exif`` object (section 6) plus the extra facts reviewers need."""
        return {
            "captured_at": self.captured_at.isoformat() if self.captured_at else None,
            "gps": [self.gps[0], self.gps[1]] if self.gps else None,
            "make": self.make, "model": self.model, "software": self.software,
            "orientation": self.orientation,
            "body_serial": self.body_serial, "present": self.present, "gps_zero": self.gps_zero,
        }


def _text(v: Any) -> str | None:
    """An EXIF text value. Its ASCII tags often hold UTF-8 (Chinese phone apps write their names so), which
    Pillow reads as Latin-1: such text is decoded again as UTF-8 (pure ASCII and real Latin-1 stay)."""
    if v is None:
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    elif isinstance(v, str) and not v.isascii():
        try:
            v = v.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
    s = str(v).replace("\x00", "").strip()
    return s or None


def _parse_exif_time(raw: str | None, offset: str | None) -> datetime | None:
    if not raw:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            t = datetime.strptime(raw[:19], fmt)
            break
        except ValueError:
            continue
    else:
        return None
    if offset:
        try:
            sign = -1 if offset.strip().startswith("-") else 1
            hh, mm = offset.strip().lstrip("+-").split(":")
            t = t.replace(tzinfo=timezone(sign * timedelta(hours=int(hh), minutes=int(mm))))
        except (ValueError, TypeError):
            pass
    return t


def _dms(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(np.isfinite([d, m, s])):
        return None
    deg = d + m / 60.0 + s / 3600.0
    if _text(ref) in ("S", "W"):
        deg = -deg
    return deg


def read_exif(img: Image.Image) -> ExifInfo:
    """The EXIF summary of an opened image; never raises (errors are listed in ``errors``)."""
    errors: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = img.getexif()
    except Exception as e:  # noqa: BLE001 - Pillow raises many kinds on broken EXIF blocks
        return ExifInfo(errors=(f"EXIF block unreadable: {type(e).__name__}: {e}",))
    if not exif:
        return ExifInfo()
    T = ExifTags.Base
    sub: dict[int, Any] = {}
    gps_ifd: dict[int, Any] = {}
    try:
        sub = dict(exif.get_ifd(ExifTags.IFD.Exif))
    except Exception as e:  # noqa: BLE001
        errors.append(f"Exif IFD unreadable: {e}")
    try:
        gps_ifd = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception as e:  # noqa: BLE001
        errors.append(f"GPS IFD unreadable: {e}")
    # Capture time only: IFD0 DateTime is when the file was last changed (an editor sets it), not taken.
    raw_time = _text(sub.get(T.DateTimeOriginal)) or _text(sub.get(T.DateTimeDigitized))
    offset = _text(sub.get(T.OffsetTimeOriginal)) or _text(sub.get(T.OffsetTime))
    gps = None
    gps_zero = False
    G = ExifTags.GPS
    if G.GPSLatitude in gps_ifd and G.GPSLongitude in gps_ifd:
        lat = _dms(gps_ifd.get(G.GPSLatitude), gps_ifd.get(G.GPSLatitudeRef))
        lon = _dms(gps_ifd.get(G.GPSLongitude), gps_ifd.get(G.GPSLongitudeRef))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            gps = (round(lat, 7), round(lon, 7))
            gps_zero = lat == 0.0 and lon == 0.0
        else:
            errors.append("GPS coordinates malformed")
    orientation = exif.get(T.Orientation)
    try:
        orientation = int(orientation) if orientation is not None else None
    except (TypeError, ValueError):
        orientation = None
    if orientation is not None and not 1 <= orientation <= 8:
        errors.append(f"orientation {orientation} out of range")
        orientation = None
    return ExifInfo(
        present=True, captured_at=_parse_exif_time(raw_time, offset), captured_at_raw=raw_time,
        gps=gps, gps_zero=gps_zero, make=_text(exif.get(T.Make)), model=_text(exif.get(T.Model)),
        software=_text(exif.get(T.Software)), orientation=orientation,
        body_serial=_text(sub.get(T.BodySerialNumber)), errors=tuple(errors))


def _to_mode(img: Image.Image, mode: str) -> Image.Image:
    """Normalise any Pillow mode to ``L`` or ``RGB`` (alpha over white, 16-bit scaled, CMYK converted)."""
    if img.mode == mode:
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr * (255.0 / peak), 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        bg = Image.new("RGB", img.size, (255, 255, 255))
        bg.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        img = bg
    return img.convert(mode)


@dataclass
class DecodedPhoto:
    """One photo, read once: bytes hashed, EXIF read, pixels decoded on demand and cached.

    ``width``/``height`` are the display size (EXIF orientation applied). Not shared between processes:
    the per-photo work in a worker opens it and returns plain results.
    """

    path: Path
    data: bytes = field(repr=False)
    sha256: str
    format: str
    width: int
    height: int
    exif: ExifInfo
    orientation: int = 1
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def file_size(self) -> int:
        return len(self.data)

    def _open(self) -> Image.Image:
        return Image.open(io.BytesIO(self.data))

    def _decode(self, mode: str, max_side: int | None, *, fast_resize: bool = False) -> NDArray[np.uint8]:
        key: tuple[Any, ...] = (mode, max_side, "fast") if fast_resize else (mode, max_side)
        if key in self._cache:
            return self._cache[key]  # type: ignore[no-any-return]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                img = self._open()
                if max_side is not None and img.format == "JPEG":
                    w, h = img.size
                    k = max(w, h) / max_side
                    if k > 1:  # libjpeg DCT scaling: 1/2, 1/4, 1/8 (never below the requested size)
                        img.draft("L" if mode == "L" else "RGB", (int(w / k), int(h / k)))
                elif mode == "L" and img.format == "JPEG":  # full-size grey: libjpeg's luma only (~3x faster
                    img.draft("L", img.size)  # than decoding colour and converting; same values to ±1)
                img.load()
        except (OSError, ValueError, SyntaxError) as e:
            raise _decode_error(e) from e
        if self.orientation in _TRANSPOSE:
            img = img.transpose(_TRANSPOSE[self.orientation])
        img = _to_mode(img, mode)
        resize_to = None
        if max_side is not None and max(img.size) > max_side:
            k = max_side / max(img.size)
            size = (max(1, round(img.width * k)), max(1, round(img.height * k)))
            if fast_resize:
                resize_to = size
            else:
                img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        if mode == "RGB":  # BGR, OpenCV's order, packed by Pillow (a numpy [:, :, ::-1] copy is ~10x slower)
            arr = np.frombuffer(img.tobytes("raw", "BGR"), np.uint8).reshape(img.height, img.width, 3)
        else:
            arr = np.asarray(img, dtype=np.uint8)
        if resize_to is not None:
            import cv2

            arr = cv2.resize(arr, resize_to, interpolation=cv2.INTER_AREA)
        arr.setflags(write=False)
        self._cache[key] = arr
        return arr

    def preview_gray(self, max_side: int = 1000) -> GrayImage:
        """Grey image, long side ≤ ``max_side`` (read-only, cached). Scale to full size: `scale_to_full`."""
        return self._decode("L", max_side)

    def preview_bgr(self, max_side: int = 1000) -> BgrImage:
        return self._decode("RGB", max_side)

    def thumbnail_bgr(self, max_side: int) -> BgrImage:
        """Colour image, long side ≤ ``max_side``, for people to look at (the report's thumbnails), never for
        measuring: the last reduction is OpenCV's area filter, several times faster than Pillow's but not
        pixel-identical to `preview_bgr`, which every measurement uses."""
        return self._decode("RGB", max_side, fast_resize=True)

    def full_gray(self) -> GrayImage:
        return self._decode("L", None)

    def full_bgr(self) -> BgrImage:
        return self._decode("RGB", None)

    def scale_to_full(self, img: NDArray[Any]) -> float:
        """Factor from ``img``'s pixel coordinates (a preview of this photo) to full-size coordinates."""
        return self.width / img.shape[1]

    def crop_gray(self, box: tuple[float, float, float, float]) -> GrayImage:
        """Full-resolution grey crop of ``box`` = (x, y, w, h) in full-size pixels, clipped to the image."""
        full = self.full_gray()
        x, y, w, h = box
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(full.shape[1], int(np.ceil(x + w))), min(full.shape[0], int(np.ceil(y + h)))
        return full[y0:max(y0, y1), x0:max(x0, x1)]

    def release_full(self) -> None:
        """Drop the cached full-resolution arrays (keep previews) to bound a worker's memory."""
        for key in [k for k in self._cache if k[1] is None]:
            del self._cache[key]


def _decode_error(e: BaseException) -> PhotoError:
    msg = str(e)
    if "truncated" in msg.lower() or isinstance(e, EOFError):
        return PhotoError(PhotoErrorKind.truncated, "照片文件不完整（上传中断）", f"photo file is truncated: {msg}")
    return PhotoError(PhotoErrorKind.corrupt, "照片文件已损坏，无法解码", f"photo file is corrupt: {msg}")


def open_photo_bytes(data: bytes, path: Path, *, max_pixels: int) -> DecodedPhoto:
    """Identify and check a photo held in memory (no pixel decoded yet except to verify it)."""
    if not data:
        raise PhotoError(PhotoErrorKind.empty, "照片文件为空（0 字节）", "photo file is empty (0 bytes)")
    if data[4:8] == b"ftyp":  # ISO base media: HEIC/HEIF/AVIF (pillow-heif's opener accepts nothing else)
        register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(data))
            fmt = img.format or "unknown"
            w, h = img.size
    except UnidentifiedImageError as e:
        raise PhotoError(PhotoErrorKind.not_image, "文件不是图片", "file is not an image") from e
    except (OSError, ValueError, SyntaxError) as e:
        raise _decode_error(e) from e
    if w <= 0 or h <= 0:
        raise PhotoError(PhotoErrorKind.corrupt, "照片尺寸无效", f"photo has an invalid size {w}×{h}")
    if w * h > max_pixels:
        raise PhotoError(PhotoErrorKind.too_large, f"照片像素过大（{w}×{h}），拒绝处理",
                         f"photo is {w}×{h} = {w * h / 1e6:.0f} MP, over the {max_pixels / 1e6:.0f} MP limit")
    exif = read_exif(img)
    # HEIC: pillow-heif rotates on read and reports orientation 1: don't rotate twice.
    orientation = 1 if fmt in ("HEIF", "HEIC", "AVIF") else (exif.orientation or 1)
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    photo = DecodedPhoto(path=path, data=data, sha256=hashlib.sha256(data).hexdigest(), format=fmt,
                         width=w, height=h, exif=exif, orientation=orientation)
    return photo


def load_photo(path: Path, *, max_pixels: int = 60_000_000, max_bytes: int = 80 * 2**20,
               verify: bool = True) -> DecodedPhoto:
    """Read and check one photo file; raises `PhotoError` for anything that can't be used.

    With ``verify`` (the default) a small preview is decoded at once, so that a truncated or corrupt
    file fails here, as a typed error, rather than inside an inspector.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise PhotoError(PhotoErrorKind.too_large, f"照片文件过大（{size / 2**20:.0f} MB），拒绝处理",
                             f"photo file is {size / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB limit")
        data = path.read_bytes()
    except OSError as e:
        raise PhotoError(PhotoErrorKind.unreadable, "照片文件无法读取",
                         f"photo file can't be read: {e.strerror or e}") from e
    photo = open_photo_bytes(data, path, max_pixels=max_pixels)
    if verify:
        photo.preview_gray()
    return photo

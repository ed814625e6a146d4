"""zbar adapter (pyzbar over Debian's ``libzbar0``): 1D codes and QR from a grey image.

Always passes an explicit symbol list: without one zbar also tries DataBar (printing assertion noise on
stderr) and runs ~30 % slower (TOOLCHAIN.md). zbar reads no Data Matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wocheck.engines.base import DecodedCode, Symbology, quad_from_rect

NAME = "zbar"

_SYMBOLS: dict[Symbology, tuple[str, ...]] = {
    Symbology.code128: ("CODE128",),
    Symbology.code39: ("CODE39",),
    Symbology.code93: ("CODE93",),
    Symbology.ean13: ("EAN13",),
    Symbology.ean8: ("EAN8",),
    Symbology.upca: ("UPCA",),
    Symbology.upce: ("UPCE",),
    Symbology.itf: ("I25",),
    Symbology.codabar: ("CODABAR",),
    Symbology.qr: ("QRCODE",),
    Symbology.pdf417: ("PDF417",),
}
_TYPES = {name: sym for sym, names in _SYMBOLS.items() for name in names}
# zbar reports UPC-A inside EAN-13 (a leading 0) when both are enabled; ISBN as EAN-13.
_TYPES.update({"ISBN13": Symbology.ean13, "ISBN10": Symbology.ean13})


@lru_cache(maxsize=1)
def _lib() -> Any:
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError):  # OSError: libzbar missing
        return None
    return pyzbar


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _scan(zb: Any, gray: NDArray[np.uint8], symbols: list[Any], density: int) -> list[Any]:
    """pyzbar's ``decode`` with zbar's scan density set: every ``density``-th row and column is scanned.

    pyzbar has no parameter for it; this repeats its ``decode`` (0.1.9) with two more scanner settings.
    """
    from ctypes import c_void_p, cast

    from pyzbar import wrapper as w

    h, wd = gray.shape
    pixels = gray.tobytes()
    out: list[Any] = []
    with zb._image_scanner() as scanner:
        for sym in set(zb.ZBarSymbol).difference(symbols):
            w.zbar_image_scanner_set_config(scanner, sym, w.ZBarConfig.CFG_ENABLE, 0)
        for sym in symbols:
            w.zbar_image_scanner_set_config(scanner, sym, w.ZBarConfig.CFG_ENABLE, 1)
        for cfg in (w.ZBarConfig.CFG_X_DENSITY, w.ZBarConfig.CFG_Y_DENSITY):
            w.zbar_image_scanner_set_config(scanner, 0, cfg, density)
        with zb._image() as img:
            w.zbar_image_set_format(img, zb._FOURCC["L800"])
            w.zbar_image_set_size(img, wd, h)
            w.zbar_image_set_data(img, cast(pixels, c_void_p), len(pixels), None)
            if w.zbar_scan_image(scanner, img) < 0:
                raise RuntimeError("zbar: unsupported image format")
            out.extend(zb._decode_symbols(zb._symbols_for_image(img)))
    return out


class ZbarEngine:
    """`wocheck.engines.base.BarcodeEngine` over pyzbar.

    ``density``: zbar scans every ``density``-th row and column (1: all, zbar's default); ``density_from_side``:
    views whose short side is at least this many px are scanned at ``density`` (smaller ones at 1).
    """

    name = NAME

    def __init__(self, *, density: int = 1, density_from_side: int = 0) -> None:
        self.density = max(1, int(density))
        self.density_from_side = density_from_side

    def available(self) -> bool:
        return _lib() is not None

    def decode(self, gray: NDArray[np.uint8], symbologies: Sequence[Symbology]) -> tuple[DecodedCode, ...]:
        zb = _lib()
        symbols = [getattr(zb.ZBarSymbol, n) for s in symbologies for n in _SYMBOLS.get(s, ())
                   if hasattr(zb.ZBarSymbol, n)]
        if not symbols:
            return ()
        h, w = gray.shape
        if self.density > 1 and min(h, w) >= self.density_from_side:
            res = _scan(zb, gray, symbols, self.density)
        else:
            res = zb.decode((gray.tobytes(), w, h), symbols=symbols)
        out = []
        for r in res:
            text = _text(r.data)
            if not text:
                continue
            sym = _TYPES.get(r.type, Symbology.other)
            poly = [(float(p.x), float(p.y)) for p in r.polygon]
            if sym in (Symbology.qr,) and len(poly) == 4:
                # zbar lists QR corners counter-clockwise from top-left: make them clockwise.
                quad = (poly[0], poly[3], poly[2], poly[1])
            else:
                rc = r.rect
                quad = quad_from_rect(float(rc.left), float(rc.top), float(rc.width), float(max(rc.height, 1)))
            out.append(DecodedCode(text=text, symbology=sym, quad=quad, engine=NAME))
        return tuple(out)

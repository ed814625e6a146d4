"""zxing-cpp adapter (PyPI ``zxing-cpp``): reads 1D codes, QR and Data Matrix from a grey image.

Reads more than zbar on real photos overall and is the only one of the two that reads Data Matrix
(TOOLCHAIN.md); zbar reads some Code 128 that it misses, so the codes inspector runs both.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wocheck.engines.base import DecodedCode, Symbology

NAME = "zxing"

# zxing-cpp format names (BarcodeFormat.<name>) for each symbology; names absent from an older wheel are skipped.
_FORMATS: dict[Symbology, tuple[str, ...]] = {
    Symbology.code128: ("Code128",),
    Symbology.code39: ("Code39", "Code39Std", "Code39Ext"),
    Symbology.code93: ("Code93",),
    Symbology.ean13: ("EAN13",),
    Symbology.ean8: ("EAN8",),
    Symbology.upca: ("UPCA",),
    Symbology.upce: ("UPCE",),
    Symbology.itf: ("ITF",),
    Symbology.codabar: ("Codabar",),
    Symbology.qr: ("QRCode", "MicroQRCode"),
    Symbology.datamatrix: ("DataMatrix",),
    Symbology.pdf417: ("PDF417",),
    Symbology.aztec: ("Aztec",),
}


@lru_cache(maxsize=1)
def _lib() -> Any:
    try:
        import zxingcpp
    except ImportError:
        return None
    return zxingcpp


def _symbology(fmt: Any) -> Symbology:
    name = getattr(fmt, "name", str(fmt))
    for sym, names in _FORMATS.items():
        if name in names:
            return sym
    low = name.lower()
    for sym in Symbology:
        if low.startswith(sym.value):
            return sym
    return Symbology.other


class ZxingEngine:
    """`wocheck.engines.base.BarcodeEngine` over zxing-cpp."""

    name = NAME

    def __init__(self, *, try_rotate: bool = True, try_downscale: bool = True, try_invert: bool = False) -> None:
        self.try_rotate = try_rotate
        self.try_downscale = try_downscale
        self.try_invert = try_invert

    def available(self) -> bool:
        return _lib() is not None

    def _formats(self, symbologies: Sequence[Symbology]) -> Any:
        zx = _lib()
        fmts = [f for sym in symbologies for n in _FORMATS.get(sym, ())
                if (f := getattr(zx.BarcodeFormat, n, None)) is not None]
        if not fmts:
            return None
        if hasattr(zx, "barcode_formats_list"):  # zxing-cpp 3: a list; 2.x: BarcodeFormats built with |
            return fmts
        out = fmts[0]
        for f in fmts[1:]:
            out = out | f
        return out

    def decode(self, gray: NDArray[np.uint8], symbologies: Sequence[Symbology]) -> tuple[DecodedCode, ...]:
        zx = _lib()
        formats = self._formats(symbologies)
        if formats is None:
            return ()
        res = zx.read_barcodes(gray, formats=formats, try_rotate=self.try_rotate,
                               try_downscale=self.try_downscale, try_invert=self.try_invert)
        out = []
        for b in res:
            if not b.valid or not b.text:
                continue
            p = b.position
            quad = tuple((float(pt.x), float(pt.y)) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
            out.append(DecodedCode(text=b.text, symbology=_symbology(b.format), quad=quad,  # type: ignore[arg-type]
                                   engine=NAME))
        return tuple(out)

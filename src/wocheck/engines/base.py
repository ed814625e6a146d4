"""The barcode-engine adapter interface: what every decoder returns, whatever library is behind it.

An engine adapter (`wocheck.engines.zxing`, `wocheck.engines.zbar`) takes an 8-bit grey image and the
symbologies to look for, and returns an `EngineResult`: the codes it read (`DecodedCode`: text,
symbology, corner quad in the input image's pixels, engine name) or the reason it read nothing
(``error``: an engine crash, a refused input, a time overrun). Adapters never raise for a bad image:
`run_engine` turns any exception into a typed result, so that one engine failing on one crop costs that
crop's result, never the photo.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


class Symbology(StrEnum):
    """Symbologies by one name across engines (each adapter maps its own names to these)."""

    code128 = "code128"
    code39 = "code39"
    code93 = "code93"
    ean13 = "ean13"
    ean8 = "ean8"
    upca = "upca"
    upce = "upce"
    itf = "itf"
    codabar = "codabar"
    qr = "qr"
    datamatrix = "datamatrix"
    pdf417 = "pdf417"
    aztec = "aztec"
    other = "other"


LINEAR = frozenset({Symbology.code128, Symbology.code39, Symbology.code93, Symbology.ean13, Symbology.ean8,
                    Symbology.upca, Symbology.upce, Symbology.itf, Symbology.codabar})


class EngineErrorKind(StrEnum):
    crash = "crash"  # the engine raised
    timeout = "timeout"  # the engine ran past its time budget (its result, if any, is still returned)
    refused = "refused"  # the input was not decoded: empty, not 8-bit grey, too large
    unavailable = "unavailable"  # the engine's library can't be loaded


@dataclass(frozen=True)
class DecodedCode:
    """One code read: its text, symbology, corners (clockwise from top-left as the engine saw them, in the
    input image's pixels) and the engine that read it."""

    text: str
    symbology: Symbology
    quad: Quad
    engine: str

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned (x, y, w, h) around the quad."""
        xs = [p[0] for p in self.quad]
        ys = [p[1] for p in self.quad]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    @property
    def center(self) -> Point:
        return (sum(p[0] for p in self.quad) / 4.0, sum(p[1] for p in self.quad) / 4.0)

    def mapped(self, *, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0) -> DecodedCode:
        """The same code with its quad mapped by ``p * scale + (dx, dy)`` (crop -> photo coordinates)."""
        q = tuple((x * scale + dx, y * scale + dy) for x, y in self.quad)
        return replace(self, quad=q)  # type: ignore[arg-type]


def quad_from_rect(x: float, y: float, w: float, h: float) -> Quad:
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


@dataclass(frozen=True)
class EngineError:
    kind: EngineErrorKind
    message: str


@dataclass(frozen=True)
class EngineResult:
    """What one engine gave on one image: codes read, time spent and the error, if any."""

    engine: str
    codes: tuple[DecodedCode, ...] = ()
    error: EngineError | None = None
    elapsed_ms: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None or self.error.kind == EngineErrorKind.timeout


class BarcodeEngine(Protocol):
    """An adapter over one barcode library."""

    name: str

    def available(self) -> bool:
        """True when the library loads on this machine."""
        ...

    def decode(self, gray: NDArray[np.uint8], symbologies: Sequence[Symbology]) -> tuple[DecodedCode, ...]:
        """The codes of ``symbologies`` in ``gray`` (2-D uint8, C-contiguous). May raise: `run_engine` wraps."""
        ...


def run_engine(engine: BarcodeEngine, gray: NDArray[np.uint8], symbologies: Iterable[Symbology], *,
               max_pixels: int, timeout_s: float) -> EngineResult:
    """Run ``engine`` on ``gray`` and always return a result: exceptions and refusals become typed errors.

    The libraries are in-process C code that can't be interrupted: an input over ``max_pixels`` is refused
    up front (the time an engine takes grows with the pixel count), and a run that overran ``timeout_s``
    keeps its codes but is marked ``timeout`` so that the overrun shows in the measurements.
    """
    syms = tuple(symbologies)
    if gray.ndim != 2 or gray.dtype != np.uint8 or gray.size == 0:
        return EngineResult(engine.name, error=EngineError(
            EngineErrorKind.refused, f"input must be a non-empty 2-D uint8 image, got {gray.dtype} {gray.shape}"))
    if gray.size > max_pixels:
        return EngineResult(engine.name, error=EngineError(
            EngineErrorKind.refused, f"input of {gray.size} px is over the {max_pixels} px limit"))
    if not engine.available():
        return EngineResult(engine.name, error=EngineError(EngineErrorKind.unavailable,
                                                           f"{engine.name} can't be loaded"))
    t0 = time.perf_counter()
    try:
        codes = engine.decode(np.ascontiguousarray(gray), syms)
    except Exception as e:  # noqa: BLE001 - any engine failure is a typed result, never a lost photo
        ms = (time.perf_counter() - t0) * 1e3
        log.warning("%s failed on a %s image: %s: %s", engine.name, gray.shape, type(e).__name__, e)
        return EngineResult(engine.name, error=EngineError(EngineErrorKind.crash, f"{type(e).__name__}: {e}"),
                            elapsed_ms=ms)
    ms = (time.perf_counter() - t0) * 1e3
    err = None
    if ms > timeout_s * 1e3:
        err = EngineError(EngineErrorKind.timeout, f"took {ms:.0f} ms, over the {timeout_s * 1e3:.0f} ms budget")
    return EngineResult(engine.name, codes=tuple(codes), error=err, elapsed_ms=ms)

"""Tesseract OCR adapter: one call, `ocr(gray, ...)`, over tesserocr (in-process) or pytesseract (CLI).

    >>> r = ocr(crop, lang="eng", psm=7, whitelist="0123456789ABCDEF")
    >>> r.text, r.confidence, r.error

- ``lang``: a tesseract language (``"eng"``, ``"chi_sim"``; ``"chi_sim"`` alone reads Chinese lines better
  than ``"chi_sim+eng"``, see TOOLCHAIN.md). ``psm``: tesseract page segmentation mode (7 = one text line,
  6 = a block, 8 = one word, 13 = raw line). ``whitelist``: the only characters tesseract may output.
- The result is always an `OcrResult`: a missing engine, a crash or a time overrun is its ``error``
  (`wocheck.engines.base.EngineError`), never an exception.
- ``confidence`` is tesseract's mean word confidence mapped to 0..1 (0 when nothing was read);
  ``words`` carries each word's text, confidence (0..1) and box (x, y, w, h) in the input's pixels.

Backends: tesserocr (a PyPI wheel bundling libtesseract that reads Debian's model files; the model stays
loaded between calls, one API per thread and language) is preferred; pytesseract (starts the tesseract
program per call, ~4-5x slower on a cropped line) is the fallback. ``OMP_THREAD_LIMIT=1`` is set for the
process unless already set: tesseract's OpenMP threads only slow a machine whose cores are all busy.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wocheck.engines.base import EngineError, EngineErrorKind

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

log = logging.getLogger(__name__)

# Where Debian, Ubuntu, Homebrew and source builds put the language models; TESSDATA_PREFIX wins.
_TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
# Tesseract needs a resolution for its size heuristics and warns without one; crops carry none.
_ASSUMED_DPI = 300
_CONF_SCALE = 100.0  # tesseract's confidences are 0..100


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float  # 0..1
    box: tuple[int, int, int, int]  # x, y, w, h in the input's pixels


@dataclass(frozen=True)
class OcrResult:
    text: str
    confidence: float  # 0..1, mean over words; 0 when nothing was read
    words: tuple[OcrWord, ...] = ()
    engine: str = ""
    error: EngineError | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def tessdata_dir() -> Path | None:
    """The folder holding ``*.traineddata`` (``TESSDATA_PREFIX`` first), or ``None`` when none is found."""
    env = os.environ.get("TESSDATA_PREFIX")
    for cand in ([env] if env else []) + list(_TESSDATA_CANDIDATES):
        p = Path(cand)
        if p.is_dir() and any(p.glob("*.traineddata")):
            return p
    return None


@lru_cache(maxsize=1)
def _tesserocr() -> Any:
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


@lru_cache(maxsize=1)
def _pytesseract() -> Any:
    try:
        import pytesseract
    except ImportError:
        return None
    try:
        pytesseract.get_tesseract_version()
    except Exception:  # noqa: BLE001 - tesseract program missing or broken
        return None
    return pytesseract


def available_backends() -> list[str]:
    """Backends usable here, preferred first: ``"tesserocr"``, ``"pytesseract"``."""
    out = []
    if _tesserocr() is not None and tessdata_dir() is not None:
        out.append("tesserocr")
    if _pytesseract() is not None:
        out.append("pytesseract")
    return out


def available_languages() -> list[str]:
    d = tessdata_dir()
    return sorted(p.stem for p in d.glob("*.traineddata")) if d else []


_local = threading.local()
# lang -> (thread, holder): a model being loaded in the background by `prewarm`, for the first thread that asks
_warming: dict[str, tuple[threading.Thread, list[Any]]] = {}
_warming_lock = threading.Lock()


def _new_api(lang: str) -> Any:
    return _tesserocr().PyTessBaseAPI(path=str(tessdata_dir()) + os.sep, lang=lang)


def prewarm(lang: str = "eng") -> bool:
    """Start loading ``lang``'s model on a background thread (tesserocr releases the GIL while it loads).

    The first `ocr` call in ``lang`` afterwards, on whatever thread, takes that API instead of loading its
    own: a one-shot process (the engineer's self-check) overlaps the model load (~0.3-0.9 s) with its photo
    decoding. Does nothing (``False``) when tesserocr or the language is missing, when this thread already
    has the model, or when a load is already under way. Results of `ocr` are unchanged.
    """
    if _tesserocr() is None or tessdata_dir() is None or lang not in available_languages():
        return False
    if lang in _local.__dict__.get("apis", {}):
        return False
    with _warming_lock:
        if lang in _warming:
            return False
        holder: list[Any] = []

        def load() -> None:
            try:
                holder.append(_new_api(lang))
            except Exception as e:  # noqa: BLE001 - the asking thread loads its own (and reports) instead
                log.warning("tesseract model %s not preloaded: %s: %s", lang, type(e).__name__, e)

        t = threading.Thread(target=load, name=f"tesseract-prewarm-{lang}", daemon=True)
        _warming[lang] = (t, holder)
    t.start()
    return True


def _api(lang: str) -> Any:
    """This thread's tesserocr API for ``lang`` (model loaded once, or taken from `prewarm`)."""
    apis: dict[str, Any] = _local.__dict__.setdefault("apis", {})
    api = apis.get(lang)
    if api is None:
        with _warming_lock:
            warm = _warming.pop(lang, None)
        if warm is not None:
            warm[0].join()
            api = warm[1][0] if warm[1] else None
        if api is None:
            api = _new_api(lang)
        apis[lang] = api
    return api


def _ocr_tesserocr(gray: NDArray[np.uint8], lang: str, psm: int, whitelist: str | None,
                   timeout_s: float) -> OcrResult:
    tr = _tesserocr()
    api = _api(lang)
    api.SetPageSegMode(psm)
    api.SetVariable("tessedit_char_whitelist", whitelist or "")
    h, w = gray.shape
    api.SetImageBytes(np.ascontiguousarray(gray).tobytes(), w, h, 1, w)
    api.SetSourceResolution(_ASSUMED_DPI)
    if not api.Recognize(timeout=int(timeout_s * 1e3)):
        return OcrResult("", 0.0, engine="tesserocr",
                         error=EngineError(EngineErrorKind.timeout, f"over the {timeout_s:g} s budget"))
    words: list[OcrWord] = []
    level = tr.RIL.WORD
    it = api.GetIterator()
    if it is not None:
        for r in tr.iterate_level(it, level):
            try:
                txt = r.GetUTF8Text(level)
            except RuntimeError:  # "No text returned"
                continue
            if not txt or not txt.strip():
                continue
            bb = r.BoundingBox(level)
            box = (0, 0, 0, 0) if bb is None else (bb[0], bb[1], bb[2] - bb[0], bb[3] - bb[1])
            words.append(OcrWord(txt.strip(), max(0.0, r.Confidence(level)) / _CONF_SCALE, box))
    try:
        text = (api.GetUTF8Text() or "").strip()
    except RuntimeError:  # tesserocr raises "No text returned" for an image without text
        text = ""
    conf = sum(x.confidence for x in words) / len(words) if words else 0.0
    return OcrResult(text, conf, tuple(words), engine="tesserocr")


def _ocr_pytesseract(gray: NDArray[np.uint8], lang: str, psm: int, whitelist: str | None,
                     timeout_s: float) -> OcrResult:
    pt = _pytesseract()
    config = f"--psm {psm} --dpi {_ASSUMED_DPI}"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    try:
        d = pt.image_to_data(gray, lang=lang, config=config, timeout=timeout_s, output_type=pt.Output.DICT)
    except RuntimeError as e:
        if "timeout" in str(e).lower():
            return OcrResult("", 0.0, engine="pytesseract",
                             error=EngineError(EngineErrorKind.timeout, f"over the {timeout_s:g} s budget"))
        raise
    words: list[OcrWord] = []
    lines: dict[tuple[int, int, int], list[str]] = {}
    for i, txt in enumerate(d["text"]):
        if not txt or not txt.strip():
            continue
        conf = float(d["conf"][i])
        words.append(OcrWord(txt.strip(), max(0.0, conf) / _CONF_SCALE,
                             (int(d["left"][i]), int(d["top"][i]), int(d["width"][i]), int(d["height"][i]))))
        lines.setdefault((d["block_num"][i], d["par_num"][i], d["line_num"][i]), []).append(txt.strip())
    sep = "" if lang.startswith("chi") else " "
    text = "\n".join(sep.join(v) for v in lines.values())
    conf_mean = sum(x.confidence for x in words) / len(words) if words else 0.0
    return OcrResult(text, conf_mean, tuple(words), engine="pytesseract")


def ocr(gray: NDArray[np.uint8], *, lang: str = "eng", psm: int = 7, whitelist: str | None = None,
        timeout_s: float = 2.0, backend: str | None = None) -> OcrResult:
    """Read the text in ``gray`` (2-D uint8; a BGR image is converted). Never raises for a bad image.

    ``backend``: ``"tesserocr"`` or ``"pytesseract"``; ``None`` takes the first available.
    """
    t0 = time.perf_counter()
    backends = available_backends()
    name = backend or (backends[0] if backends else "")
    if name not in backends:
        return OcrResult("", 0.0, engine=name or "tesseract", error=EngineError(
            EngineErrorKind.unavailable, f"OCR backend {name or 'tesseract'!r} is not available here"))
    img = np.asarray(gray)
    if img.ndim == 3 and img.shape[2] in (3, 4):
        img = np.ascontiguousarray(img[:, :, :3].mean(axis=2).round().astype(np.uint8))
    if img.ndim != 2 or img.dtype != np.uint8 or min(img.shape) == 0:
        return OcrResult("", 0.0, engine=name, error=EngineError(
            EngineErrorKind.refused, f"input must be a non-empty 8-bit image, got {img.dtype} {img.shape}"))
    if lang not in available_languages():
        return OcrResult("", 0.0, engine=name, error=EngineError(
            EngineErrorKind.unavailable, f"tesseract language {lang!r} is not installed"))
    try:
        fn = _ocr_tesserocr if name == "tesserocr" else _ocr_pytesseract
        res = fn(img, lang, psm, whitelist, timeout_s)
    except Exception as e:  # noqa: BLE001 - an OCR failure is a typed result
        log.warning("%s failed on a %s image: %s: %s", name, img.shape, type(e).__name__, e)
        res = OcrResult("", 0.0, engine=name, error=EngineError(EngineErrorKind.crash, f"{type(e).__name__}: {e}"))
    return OcrResult(res.text, res.confidence, res.words, res.engine, res.error,
                     (time.perf_counter() - t0) * 1e3)

"""Nameplate codes: read the SN, IMEI and MAC from code-label photos and check them against the order.

Per photo, `inspect_code_label` reads the codes (`read_label`) and puts them in ``data["codes"]``
(contract section 6: ``kind``, ``symbology``, ``text``, plus ``box``, ``engine``, ``source``), with the
kinds it could not read and why in ``data["codes_missing"]``. Per order, `check_codes` merges every
code-label photo of the order (a sharp second photo makes up for a blurred one) and runs the cross-checks
of contract section 4: unreadable (49), a typing slip of at most ``sn_typo_max_distance`` characters (42),
another model's code (44), a different code (50), IMEI/MAC unreadable (49) or different (50).

Reading (`read_label`) beats any one engine: zxing-cpp and zbar behind one adapter interface, over a
ladder of views that stops as soon as every kind the model carries is read:

1. the ~1000-px preview as it is (the preview other inspectors share);
2. code-like regions found on a small copy of the preview (`wocheck.metrics.codes.code_regions`), cut
   first from a reduced image (a JPEG decoded at libjpeg's 1/2 DCT scale, no full decode; as they are,
   then deskewed) when they are large enough to have pixels to spare, then from the full-resolution
   image: as they are, contrast-normalised, upscaled and sharpened (small codes), adaptively binarised,
   deskewed (1D codes at an angle);
3. OCR of the human-readable line (tesseract, SN/IMEI/MAC alphabet), accepted only when a token passes the
   format check (SN form with a catalog model code, IMEI Luhn, 12 hex digits for a MAC after its key).

An engine crash or overrun on one view is recorded in the measurements and the ladder goes on.
Without an order (`wocheck inspect`) the photo's own verdict (unreadable) is given per photo; within an
order only the combiner judges, so that one blurred photo among sharp ones is no finding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from wocheck.config import Config, ModelSpec
from wocheck.engines.base import BarcodeEngine, DecodedCode, Symbology, quad_from_rect, run_engine
from wocheck.identifiers import (
    CodeValue,
    classify_code,
    code_distance,
    is_valid_mac,
    normalize_code,
    normalize_mac,
    parse_sn,
    repair_ocr_imei,
    repair_ocr_sn,
)
from wocheck.inspectors.base import Annotation, InspectorOutput, PhotoContext
from wocheck.metrics.codes import (
    CodeRegion,
    binarize,
    code_regions,
    downscale_to,
    normalize_contrast,
    rotate,
    sharpen,
    skew_angle,
    upscale,
)
from wocheck.records import Finding, Order, Slot

if TYPE_CHECKING:
    from wocheck.io.images import DecodedPhoto
    from wocheck.pipeline.work import PhotoResult

log = logging.getLogger(__name__)

NAME = "codes"
LADDER_STEPS = ("crop", "deskew", "contrast", "upscale", "binarize")
# Before them, a large crop is tried shrunk to `CodeThresholds.reduced_side` (as it is, then deskewed): a code
# with pixels to spare reads there at a fraction of the engines' cost; full resolution only when it does not.
REDUCED_STEPS = ("reduced", "reduced_deskew")
_RETAIL = frozenset({Symbology.ean13, Symbology.ean8, Symbology.upca, Symbology.upce})


class CodeThresholds(BaseModel):
    """How hard to look for codes, and when an OCR reading counts. Data: models/thresholds/codes.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbologies: list[Symbology] = Field(default_factory=lambda: [Symbology.code128, Symbology.qr])
    # symbologies looked for; the nameplate carries Code 128 and QR (contract section 3)
    preview_side: int = Field(1000, ge=200, le=4000)  # px, long side of the first, whole-photo view
    region_side: int = Field(500, ge=100, le=2000)  # px, long side of the image code regions are found on
    region_window_frac: float = Field(0.012, gt=0, le=0.1)  # structure-tensor window, fraction of long side
    region_min_energy: float = Field(0.02, gt=0, le=1)  # mean squared gradient (0..1) of a code-like area
    region_relative_energy: float = Field(0.3, gt=0, le=1)  # ... or this times the 99.5th pct (soft images)
    region_energy_floor: float = Field(0.004, gt=0, le=1)  # ... never below this
    region_min_side_frac: float = Field(0.02, gt=0, le=0.5)  # shortest region side, fraction of long side
    max_regions: int = Field(6, ge=1, le=50)  # regions tried, largest first
    crop_margin_frac: float = Field(0.2, ge=0, le=1)  # margin added around a region, fraction of its size
    crop_max_side: int = Field(2400, ge=200, le=8000)  # px: larger crops are shrunk (their codes are big)
    reduced_side: int = Field(0, ge=0, le=8000)  # px: crops larger than this are first tried at
    reduced_scale: float = Field(0.5, gt=0, le=1)  # ... this fraction of full resolution, at most reduced_side
    # px long (the "reduced" rungs: as they are, then deskewed) before the full-resolution ladder; a JPEG's
    # reduced crops come from libjpeg's DCT scaling (1/2, 1/4, 1/8) with no full decode; 0 px: no reduced rungs
    upscale_below_side: int = Field(1200, ge=50, le=8000)  # px: crops whose long side is below this ...
    upscale_factor: float = Field(2.0, ge=1, le=4)  # ... are enlarged this much at the "upscale" step
    sharpen_sigma: float = Field(1.0, gt=0, le=5)  # px, unsharp-mask radius after upscaling
    sharpen_amount: float = Field(1.0, ge=0, le=5)  # unsharp-mask strength
    clahe_clip: float = Field(2.0, gt=0, le=40)  # CLAHE clip limit at the "contrast" step
    binarize_block_frac: float = Field(0.08, gt=0, le=1)  # adaptive-threshold block, fraction of short side
    deskew_min_deg: float = Field(2.0, ge=0, le=45)  # deskew a crop only when turned this far off-axis
    deskew_min_share: float = Field(0.2, ge=0, le=1)  # ... and straight edges carry this share of its energy
    zbar_density: int = Field(1, ge=1, le=8)  # zbar scans every n-th row and column of a view ...
    zbar_density_from_side: int = Field(0, ge=0, le=10000)  # px: ... whose short side is at least this
    engine_max_pixels: int = Field(12_000_000, ge=10_000)  # px: larger views are refused by the adapters
    engine_timeout_s: float = Field(2.0, gt=0, le=60)  # s: a view taking longer is recorded as an overrun
    budget_s: float = Field(4.0, gt=0, le=120)  # s: no new rung is started on a photo after this long ...
    ocr_budget_s: float = Field(3.0, ge=0, le=120)  # s: ... and no new OCR crop after budget_s + this
    sn_barcode_wanted: bool = True  # keep reading until the SN's own Code 128 (or line) is read, not only the QR
    ocr: bool = True  # read the human-readable line when no barcode gives a kind
    ocr_max_side: int = Field(1600, ge=100, le=6000)  # px: OCR crops are shrunk to this long side ...
    ocr_min_side: int = Field(1500, ge=100, le=6000)  # px: ... and smaller crops enlarged towards this
    ocr_max_upscale: float = Field(3.0, ge=1, le=6)  # ... by at most this factor
    ocr_timeout_s: float = Field(2.0, gt=0, le=60)
    ocr_min_confidence: float = Field(0.0, ge=0, le=1)  # word confidence (0..1) an OCR token needs
    # (0: tesseract's LSTM gives correct whitelisted words confidence 0 on these labels; the format check
    # -- catalog model code, month, Luhn, MAC key -- is the gate, and an OCR reading that disagrees with the
    # order goes to review)
    ocr_psms: list[int] = Field(default_factory=lambda: [6])  # tesseract page-segmentation modes tried
    ocr_max_crops: int = Field(2, ge=1, le=20)  # OCR'd crops per photo: the label (regions' union), regions
    barcode_confidence: float = Field(0.99, ge=0, le=1)  # finding confidence for a checksummed barcode read
    unreadable_confidence: float = Field(0.95, ge=0, le=1)  # finding confidence for "no code read"


# --- reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadCode:
    """A code read on a photo (quad in full-size px) and the identifiers its text carries."""

    code: DecodedCode
    values: tuple[CodeValue, ...]
    step: str
    source: str = "barcode"  # "barcode" | "ocr"
    confidence: float = 1.0

    def entries(self) -> list[dict[str, Any]]:
        """The contract's ``codes`` entries: one per identifier carried (a QR payload gives several)."""
        box = [round(v, 1) for v in self.code.box]
        quad = [[round(x, 1), round(y, 1)] for x, y in self.code.quad]
        out = []
        for v in self.values:
            e: dict[str, Any] = {"kind": v.kind, "symbology": self.code.symbology.value, "text": v.value,
                                 "box": box, "quad": quad, "engine": self.code.engine, "step": self.step,
                                 "source": self.source, "confidence": round(self.confidence, 3)}
            if v.key or len(self.values) > 1:
                e["payload"] = self.code.text
            out.append(e)
        return out


@dataclass
class LabelReading:
    """Everything `read_label` found on one photo."""

    codes: list[ReadCode] = field(default_factory=list)
    wanted: set[str] = field(default_factory=lambda: {"sn"})
    regions: list[tuple[int, int, int, int]] = field(default_factory=list)  # full-size px
    unread_regions: list[tuple[int, int, int, int]] = field(default_factory=list)
    views: int = 0
    last_step: str = ""
    engine_ms: dict[str, float] = field(default_factory=dict)
    engine_errors: list[dict[str, str]] = field(default_factory=list)
    ocr_tried: bool = False
    budget_exhausted: bool = False
    ocr_ms: float = 0.0
    ms: float = 0.0

    def kinds(self) -> set[str]:
        return {v.kind for c in self.codes for v in c.values}

    def missing(self) -> list[str]:
        return sorted(self.wanted - self.kinds())

    def sn_outside_qr(self) -> bool:
        """An SN read from its own barcode or printed line, not only from the QR payload."""
        return any(v.kind == "sn" and c.code.symbology != Symbology.qr for c in self.codes for v in c.values)


def default_engines(th: CodeThresholds | None = None) -> list[BarcodeEngine]:
    from wocheck.engines.zbar import ZbarEngine
    from wocheck.engines.zxing import ZxingEngine

    th = th or CodeThresholds()
    return [ZxingEngine(), ZbarEngine(density=th.zbar_density, density_from_side=th.zbar_density_from_side)]


def _affine_scale(k: float, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    return np.array([[k, 0.0, dx], [0.0, k, dy]])


def _map(code: DecodedCode, a: np.ndarray) -> DecodedCode:
    pts = np.array(code.quad, dtype=np.float64)
    full = pts @ a[:, :2].T + a[:, 2]
    q = tuple((float(x), float(y)) for x, y in full)
    return DecodedCode(code.text, code.symbology, q, code.engine)  # type: ignore[arg-type]


def _rotation_inverse(shape: tuple[int, int], angle_deg: float) -> np.ndarray:
    """Affine map from `rotate(img, angle)`'s pixels back to ``img``'s pixels (``shape`` = img's h, w)."""
    import cv2

    h, w = shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c + 0.5), int(h * c + w * s + 0.5)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    full = np.vstack([m, [0, 0, 1]])
    return np.linalg.inv(full)[:2]  # type: ignore[no-any-return]


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``outer ∘ inner`` for 2x3 affine maps."""
    o = np.vstack([outer, [0, 0, 1]])
    i = np.vstack([inner, [0, 0, 1]])
    return (o @ i)[:2]  # type: ignore[no-any-return]


class _Reader:
    def __init__(self, photo: DecodedPhoto, cfg: Config, th: CodeThresholds, order_spec: ModelSpec | None,
                 engines: Sequence[BarcodeEngine]) -> None:
        self.photo = photo
        self.cfg = cfg
        self.th = th
        self.order_spec = order_spec
        self.engines = engines
        self.out = LabelReading()
        self.t0 = time.perf_counter()
        self.stop_early = True
        self._seen: set[tuple[str, str]] = set()

    # which kinds the label must carry: the nameplate's own model once its SN is read, else the order's
    def wanted(self) -> set[str]:
        spec = self.order_spec
        for c in self.out.codes:
            for v in c.values:
                if v.kind == "sn":
                    parts = parse_sn(v.value, self.cfg.codes.sn_pattern)
                    name = self.cfg.model_for_sn_code(parts.model_code) if parts else None
                    if name:
                        spec = self.cfg.models[name]
                        break
        want = {"sn"}
        if spec is not None:
            if spec.imei:
                want.add("imei")
            if spec.mac:
                want.add("mac")
        return want

    def over_budget(self, extra_s: float = 0.0) -> bool:
        """True (and recorded) once the photo's reading time passed its budget (plus ``extra_s``)."""
        if time.perf_counter() - self.t0 > self.th.budget_s + extra_s:
            self.out.budget_exhausted = True
            return True
        return False

    def done(self) -> bool:
        self.out.wanted = self.wanted()
        if self.th.sn_barcode_wanted and "sn" in self.out.kinds() and not self.out.sn_outside_qr():
            return False
        return self.stop_early and self.out.wanted <= self.out.kinds()

    def add(self, code: DecodedCode, step: str, source: str = "barcode", confidence: float = 1.0) -> bool:
        key = (code.symbology.value, code.text)
        if key in self._seen:
            return False
        self._seen.add(key)
        values = classify_code(code.text, sn_pattern=self.cfg.codes.sn_pattern,
                               linear_retail=code.symbology in _RETAIL)
        self.out.codes.append(ReadCode(code, tuple(values), step, source, confidence))
        return True

    def decode(self, img: np.ndarray, a: np.ndarray, step: str) -> int:
        """Run the engines in turn on one view; stop between engines once done. Returns new codes."""
        new = 0
        self.out.views += 1
        self.out.last_step = step
        for eng in self.engines:
            res = run_engine(eng, img, self.th.symbologies, max_pixels=self.th.engine_max_pixels,
                             timeout_s=self.th.engine_timeout_s)
            self.out.engine_ms[eng.name] = round(self.out.engine_ms.get(eng.name, 0.0) + res.elapsed_ms, 2)
            if res.error is not None:
                self.out.engine_errors.append({"engine": eng.name, "step": step, "kind": res.error.kind.value,
                                               "message": res.error.message})
            for c in res.codes:
                new += self.add(_map(c, a), step)
            if new and self.done():
                break
        return new


def _expand(box: tuple[float, float, float, float], margin: float, w: int, h: int) -> tuple[int, int, int, int]:
    x, y, bw, bh = box
    mx, my = bw * margin, bh * margin
    x0, y0 = max(0, int(x - mx)), max(0, int(y - my))
    x1, y1 = min(w, int(np.ceil(x + bw + mx))), min(h, int(np.ceil(y + bh + my)))
    return (x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def _covered(box: tuple[int, int, int, int], codes: Sequence[ReadCode]) -> bool:
    """True when a code read so far covers at least half of ``box`` (nothing more to find there)."""
    x, y, w, h = box
    area = max(1, w * h)
    for c in codes:
        cx, cy, cw, ch = c.code.box
        ix = max(0.0, min(x + w, cx + cw) - max(x, cx))
        iy = max(0.0, min(y + h, cy + ch) - max(y, cy))
        if ix * iy >= 0.5 * area:
            return True
    return False


_OCR_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ:-"
_OCR_KEYS = ("SN:", "S/N:", "IMEI:", "MAC:")
OcrWordT = tuple[str, float, tuple[int, int, int, int]]


def _ocr_values(words: Sequence[OcrWordT], cfg: Config, min_conf: float,
                ) -> list[tuple[CodeValue, float, tuple[int, int, int, int]]]:
    """Identifiers among OCR words (text, confidence, box): an SN of the catalog's model codes (letter/digit
    confusions repaired), an IMEI passing Luhn, a MAC of 12 hex digits right after its ``MAC`` key."""
    codes = {s.sn_code for s in cfg.models.values()}
    out: list[tuple[CodeValue, float, tuple[int, int, int, int]]] = []
    prev = ""
    for raw, conf, box in words:
        tok = raw.upper()
        if conf < min_conf:
            prev = tok
            continue
        for key in _OCR_KEYS:
            if tok.startswith(key) and len(tok) > len(key):
                prev, tok = key[:-1], tok[len(key):]
        sn = repair_ocr_sn(tok, cfg.codes.sn_pattern, codes)
        if sn is not None:
            out.append((CodeValue("sn", sn), conf, box))
        elif (imei := repair_ocr_imei(tok)) is not None:
            out.append((CodeValue("imei", imei), conf, box))
        elif prev.rstrip(":") == "MAC" and is_valid_mac(tok):
            out.append((CodeValue("mac", normalize_mac(tok)), conf, box))
        prev = tok
    return out


def read_label(photo: DecodedPhoto, cfg: Config, th: CodeThresholds, *, order_spec: ModelSpec | None = None,
               engines: Sequence[BarcodeEngine] | None = None, stop_early: bool = True) -> LabelReading:
    """Read the codes of one code-label photo with the ladder of views (module docstring).

    ``order_spec``: the order's model (which kinds the label must carry until its SN says otherwise).
    ``stop_early=False`` climbs every rung whatever was read (to measure what the ladder can read).
    """
    t0 = time.perf_counter()
    r = _Reader(photo, cfg, th, order_spec, engines if engines is not None else default_engines(th))
    r.stop_early = stop_early
    try:
        _ladder(r)
    finally:
        r.out.wanted = r.wanted()
        r.out.ms = round((time.perf_counter() - t0) * 1e3, 1)
    return r.out


def _ladder(r: _Reader) -> None:
    th, photo = r.th, r.photo
    prev = photo.preview_gray(th.preview_side)
    k_prev = photo.scale_to_full(prev)
    r.decode(np.ascontiguousarray(prev), _affine_scale(k_prev), "preview")
    if r.done():
        return
    small, k_small = downscale_to(prev, th.region_side)
    regions = code_regions(small, window_frac=th.region_window_frac, min_energy=th.region_min_energy,
                           relative_energy=th.region_relative_energy, energy_floor=th.region_energy_floor,
                           min_side_frac=th.region_min_side_frac, max_regions=th.max_regions)
    to_full = k_prev / k_small
    W, H = photo.width, photo.height
    pending: list[tuple[CodeRegion, tuple[int, int, int, int]]] = []
    for reg in regions:
        fb = tuple(v * to_full for v in reg.box)
        box = _expand(fb, th.crop_margin_frac, W, H)  # type: ignore[arg-type]
        if box[2] < 2 or box[3] < 2:
            continue
        r.out.regions.append(box)
        if not _covered(box, r.out.codes):
            pending.append((reg, box))
    if (not pending or max(W, H) <= th.preview_side) and max(W, H) <= th.crop_max_side \
            and not any(b == (0, 0, W, H) for _, b in pending):
        # A small photo, or no code-like region: the whole frame is one more candidate, at full resolution.
        whole = CodeRegion(box=(0, 0, small.shape[1], small.shape[0]), rect=((0, 0), (0, 0), 0.0),
                           angle_deg=regions[0].angle_deg if regions else 0.0,
                           coherence=regions[0].coherence if regions else 0.0, energy=0.0, fill=1.0)
        pending.append((whole, (0, 0, W, H)))
    crops: dict[tuple[int, int, int, int], _Crop] = {}
    reduced: dict[tuple[int, int, int, int], _Crop | None] = {}

    def crop_of(box: tuple[int, int, int, int]) -> _Crop:
        if box not in crops:
            c, k = downscale_to(photo.crop_gray(box), th.crop_max_side)
            crops[box] = _Crop(np.ascontiguousarray(c), _affine_scale(1 / k, box[0], box[1]))
        return crops[box]

    def reduced_of(box: tuple[int, int, int, int]) -> _Crop | None:
        """The crop at ``reduced_scale``, at most ``reduced_side`` px (None when the full-resolution crop is
        no larger: the full rungs see it as it is)."""
        if box not in reduced:
            if th.reduced_side <= 0 or th.reduced_scale >= 1 or min(max(box[2:]), th.crop_max_side) <= th.reduced_side:
                reduced[box] = None
            else:
                img, a = _reduced_crop(photo, box, th.reduced_scale, crop_of)
                c, k = downscale_to(img, th.reduced_side)
                reduced[box] = _Crop(np.ascontiguousarray(c), _compose(a, _affine_scale(1 / k)))
        return reduced[box]

    yielded: set[tuple[int, int, int, int]] = set()
    for step in (*REDUCED_STEPS, *LADDER_STEPS):
        for _reg, box in pending:  # a region that gave a code may hold more: every rung until done
            if r.over_budget():
                break
            c = reduced_of(box) if step in REDUCED_STEPS else crop_of(box)
            view = _view(step, c, th) if c is not None else None
            if view is None:
                continue
            img, a = view
            if r.decode(img, a, step):
                yielded.add(box)
            if r.done():
                return
    # (the whole-frame candidate, energy 0, is no region a reviewer needs pointed out)
    r.out.unread_regions = [box for reg, box in pending if box not in yielded and reg.energy > 0]
    if th.ocr and regions and _ocr_wanted(r):
        # The printed lines sit beside the bars, in or next to the regions: their union (the label) first,
        # then the regions, largest first.
        cands = [(reg, box) for reg, box in zip(regions, r.out.regions, strict=False)]
        if len(cands) > 1:
            x0 = min(b[0] for _, b in cands)
            y0 = min(b[1] for _, b in cands)
            x1 = max(b[0] + b[2] for _, b in cands)
            y1 = max(b[1] + b[3] for _, b in cands)
            cands.insert(0, (regions[0], _expand((x0, y0, x1 - x0, y1 - y0), th.crop_margin_frac / 2, W, H)))
        _ocr_fallback(r, cands[:th.ocr_max_crops], crop_of)


def _reduced_crop(photo: DecodedPhoto, box: tuple[int, int, int, int], scale: float, crop_of: Any,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``box`` (full-size px) at ``scale`` of full resolution, and its map to full-size px. A JPEG is decoded
    at the nearest libjpeg DCT scale at or above ``scale`` (the decode is cached and shared by the regions);
    other formats shrink the full-resolution crop."""
    if photo.format == "JPEG":
        img = photo.preview_gray(int(np.ceil(max(photo.width, photo.height) * scale)))
        f = photo.scale_to_full(img)
        x0, y0 = int(box[0] / f), int(box[1] / f)
        x1 = min(img.shape[1], int(np.ceil((box[0] + box[2]) / f)))
        y1 = min(img.shape[0], int(np.ceil((box[1] + box[3]) / f)))
        crop = img[y0:max(y0, y1), x0:max(x0, x1)]
        c, k = downscale_to(crop, int(np.ceil(max(box[2:]) * scale)))
        return c, _compose(_affine_scale(f, x0 * f, y0 * f), _affine_scale(1 / k))
    full: _Crop = crop_of(box)
    c, k = downscale_to(full.img, int(np.ceil(max(full.img.shape) * scale)))
    return c, _compose(full.a, _affine_scale(1 / k))


_SKEW_SIDE = 500  # px: a crop's skew is measured on a copy this size (its borders and bars stay resolved)


class _Crop:
    """A crop, its map to full-size px, and its skew (measured once, when first asked)."""

    def __init__(self, img: np.ndarray, a: np.ndarray) -> None:
        self.img = img
        self.a = a
        self._skew: tuple[float, float] | None = None

    @property
    def skew(self) -> tuple[float, float]:
        if self._skew is None:
            self._skew = skew_angle(self.img, max_side=_SKEW_SIDE)
        return self._skew


def _view(step: str, c: _Crop, th: CodeThresholds) -> tuple[np.ndarray, np.ndarray] | None:
    """One rung of the ladder for one region's crop: the image to decode and its map to full-size px (or None)."""
    crop, a = c.img, c.a
    if crop.size == 0:
        return None
    if step in ("crop", "reduced"):
        return crop, a
    ang, share = c.skew
    skewed = share >= th.deskew_min_share and abs(ang) >= th.deskew_min_deg
    if step in ("deskew", "reduced_deskew"):
        if not skewed:
            return None
        return rotate(crop, ang), _compose(a, _rotation_inverse(crop.shape, ang))  # type: ignore[arg-type]
    if step == "contrast":
        return normalize_contrast(crop, clip_limit=th.clahe_clip), a
    if step == "upscale":  # small codes: enlarge, sharpen, and straighten when turned
        if max(crop.shape) >= th.upscale_below_side:
            return None
        up = sharpen(upscale(crop, th.upscale_factor), sigma=th.sharpen_sigma, amount=th.sharpen_amount)
        a_up = _compose(a, _affine_scale(1 / th.upscale_factor))
        if not skewed:
            return up, a_up
        return rotate(up, ang), _compose(a_up, _rotation_inverse(up.shape, ang))  # type: ignore[arg-type]
    if step == "binarize":
        return binarize(normalize_contrast(crop, clip_limit=th.clahe_clip), block_frac=th.binarize_block_frac), a
    raise ValueError(f"unknown ladder step {step!r}")


def _ocr_wanted(r: _Reader) -> bool:
    """Kinds still unread, or an SN known only from the QR while its own line is wanted."""
    if {"sn", "imei", "mac"} & set(r.out.missing()):
        return True
    return r.th.sn_barcode_wanted and "sn" in r.out.kinds() and not r.out.sn_outside_qr()


def _ocr_fallback(r: _Reader, regions: Sequence[tuple[CodeRegion, tuple[int, int, int, int]]], crop_of: Any) -> None:
    from wocheck.engines.tesseract import ocr

    th = r.th
    r.out.ocr_tried = True
    t0 = time.perf_counter()
    for _reg, box in regions:
        if r.over_budget(th.ocr_budget_s):
            break
        c = crop_of(box)
        crop, a = c.img, c.a
        if crop.size == 0:
            continue
        if max(crop.shape) < th.ocr_min_side:  # small print: tesseract wants ~30-px letters
            f = min(th.ocr_max_upscale, th.ocr_min_side / max(crop.shape))
            img, k = upscale(crop, f), f
        else:
            img, k = downscale_to(crop, th.ocr_max_side)
        inner = _affine_scale(1 / k)
        ang, share = c.skew
        ang = ang if share >= th.deskew_min_share else 0.0
        if abs(ang) >= th.deskew_min_deg:
            rimg = rotate(img, ang)
            inner = _compose(inner, _rotation_inverse(img.shape, ang))  # type: ignore[arg-type]
            img = rimg
        a_full = _compose(a, inner)
        for psm in th.ocr_psms:
            res = ocr(img, lang="eng", psm=psm, whitelist=_OCR_ALPHABET, timeout_s=th.ocr_timeout_s)
            if res.error is not None:
                r.out.engine_errors.append({"engine": res.engine or "tesseract", "step": "ocr",
                                            "kind": res.error.kind.value, "message": res.error.message})
                continue
            words = [(w.text, w.confidence, w.box) for w in res.words]
            for value, conf, bx in _ocr_values(words, r.cfg, th.ocr_min_confidence):
                key = ("ocr", value.kind + value.value)
                known = r.out.sn_outside_qr() if value.kind == "sn" else value.kind in r.out.kinds()
                if known or key in r._seen:
                    continue
                r._seen.add(key)
                code = _map(DecodedCode(value.value, Symbology.other, quad_from_rect(*bx), "tesseract"), a_full)
                r.out.codes.append(ReadCode(code, (value,), "ocr", "ocr", conf))
            if not _ocr_wanted(r):
                r.out.ocr_ms = round((time.perf_counter() - t0) * 1e3, 1)
                return
    r.out.ocr_ms = round((time.perf_counter() - t0) * 1e3, 1)


# --- per photo -----------------------------------------------------------------------------------------


def _thresholds(cfg: Config) -> CodeThresholds:
    return cfg.thresholds(NAME, CodeThresholds)


def warm_up(cfg: Config) -> None:
    """Before an order's photos are inspected: start loading the OCR model of the fallback in the background
    (the label's barcodes are tried first, so a one-shot self-check overlaps the load with them)."""
    if _thresholds(cfg).ocr:
        from wocheck.engines.tesseract import prewarm

        prewarm("eng")


def _missing_reason(reading: LabelReading, kind: str) -> tuple[str, str]:
    if not reading.regions and not reading.codes:
        return "no_code_found", "照片中未找到条码/二维码"
    if reading.codes:
        return "not_on_label", f"已读到其他码，但未读到{kind.upper()}"
    return "undecodable", "找到条码区域但无法识别（模糊、过小、反光或被遮挡）"


def inspect_code_label(photo: DecodedPhoto, ctx: PhotoContext) -> InspectorOutput:
    """Read one code-label photo: ``data["codes"]`` (contract section 6) and the kinds missing, with why."""
    cfg = ctx.cfg
    th = _thresholds(cfg)
    spec = cfg.models.get(ctx.order.model) if ctx.order is not None else None
    reading = read_label(photo, cfg, th, order_spec=spec)
    entries = [e for c in reading.codes for e in c.entries()]
    missing = [{"kind": k, "reason": _missing_reason(reading, k)[0], "reason_zh": _missing_reason(reading, k)[1]}
               for k in reading.missing()]
    ann = [Annotation("polygon", c.code.quad, ok=True,
                      label=f"{c.values[0].kind}: {c.values[0].value}" if len(c.values) == 1
                      else f"{c.code.symbology.value}: {'+'.join(v.kind for v in c.values)}")
           for c in reading.codes]
    ann += [Annotation("box", quad_from_rect(*b), label="unread code", ok=False) for b in reading.unread_regions]
    meas = {"ms": reading.ms, "views": reading.views, "last_step": reading.last_step, "regions": len(reading.regions),
            "engine_ms": reading.engine_ms, "engine_errors": reading.engine_errors, "ocr_tried": reading.ocr_tried,
            "ocr_ms": reading.ocr_ms, "budget_exhausted": reading.budget_exhausted,
            "wanted": sorted(reading.wanted), "read": sorted(reading.kinds() - {"other"})}
    findings: list[Finding] = []
    if ctx.order is None:  # `wocheck inspect`: the photo's own verdict (an order's is given by check_codes)
        findings = _unreadable_findings(reading.missing(), [(ctx.file, reading_to_data(reading))], th)
    return InspectorOutput(findings=tuple(findings), measurements=meas, annotations=tuple(ann),
                           data={"codes": entries, "codes_missing": missing,
                                 "codes_unread_regions": [list(b) for b in reading.unread_regions],
                                 "codes_sn_outside_qr": reading.sn_outside_qr()})


def reading_to_data(reading: LabelReading) -> dict[str, Any]:
    return {"codes": [e for c in reading.codes for e in c.entries()],
            "codes_missing": [{"kind": k, "reason": _missing_reason(reading, k)[0]} for k in reading.missing()],
            "codes_unread_regions": [list(b) for b in reading.unread_regions],
            "codes_sn_outside_qr": reading.sn_outside_qr()}


# --- per order -----------------------------------------------------------------------------------------

_KIND_ZH = {"sn": "机器编码SN", "imei": "IMEI", "mac": "MAC"}
_KIND_EN = {"sn": "SN", "imei": "IMEI", "mac": "MAC"}


def _unreadable_findings(missing: Sequence[str], photos: Sequence[tuple[str, dict[str, Any]]],
                         th: CodeThresholds) -> list[Finding]:
    out = []
    for kind in missing:
        if kind not in _KIND_ZH:
            continue
        check = "codes.unreadable" if kind == "sn" else f"codes.{kind}_unreadable"
        per_photo = [{"photo": f, "reason": next((m["reason"] for m in d.get("codes_missing", [])
                                                   if m["kind"] == kind), "not_read"),
                      "codes_read": [{"kind": e["kind"], "symbology": e["symbology"], "text": e["text"]}
                                     for e in d.get("codes", [])],
                      "unread_regions": d.get("codes_unread_regions", [])} for f, d in photos]
        first = photos[0][0] if photos else None
        box = next((d["codes_unread_regions"][0] for _, d in photos if d.get("codes_unread_regions")), None)
        ev: dict[str, Any] = {"kind": kind, "photos": per_photo}
        if box is not None:
            ev["box_px"] = box
        out.append(Finding(
            check=check, slot=Slot.code_label, photo=first if len(photos) == 1 else None,
            message_zh=f"铭牌照片无法识别{_KIND_ZH[kind]}（共 {len(photos)} 张）",
            message_en=f"The nameplate {_KIND_EN[kind]} can't be read from any code label photo ({len(photos)})",
            hint_zh=f"重拍铭牌：对准{_KIND_ZH[kind]}条码，保持清晰、无反光、码完整入镜",
            hint_en=f"Retake the nameplate photo: the {_KIND_EN[kind]} code sharp, without glare, wholly in frame",
            evidence=ev, confidence=th.unreadable_confidence))
    return out


@dataclass(frozen=True)
class _Seen:
    kind: str
    value: str
    photo: str
    entry: dict[str, Any]

    @property
    def from_ocr(self) -> bool:
        return self.entry.get("source") == "ocr"


def _code_evidence(s: _Seen) -> dict[str, Any]:
    e = s.entry
    return {"photo": s.photo, "symbology": e.get("symbology"), "text": e.get("text"), "box_px": e.get("box"),
            "engine": e.get("engine"), "source": e.get("source"), "payload": e.get("payload")}


def check_codes(order: Order, cfg: Config, photos: tuple[PhotoResult, ...]) -> list[Finding]:
    """The order's nameplate cross-checks over all its code-label photos (contract section 4)."""
    th = _thresholds(cfg)
    labels = [p for p in photos if p.slot == Slot.code_label and p.usable and "codes" in p.data]
    if not labels:
        return []  # no usable label photo: slot.missing (49) already says so
    seen = [_Seen(e["kind"], e["text"], p.file, e) for p in labels for e in p.data["codes"]]
    by_kind: dict[str, list[_Seen]] = {}
    for s in seen:
        by_kind.setdefault(s.kind, []).append(s)
    out: list[Finding] = []
    # Which kinds the label must carry: the nameplate's own model (read) or the order's.
    sns = by_kind.get("sn", [])
    spec = None
    for s in sns:
        parts = parse_sn(s.value, cfg.codes.sn_pattern)
        name = cfg.model_for_sn_code(parts.model_code) if parts else None
        if name is not None:
            spec = cfg.models[name]
            break
    spec = spec or cfg.models.get(order.model)
    wanted = ["sn"] + [k for k in ("imei", "mac") if spec is not None and getattr(spec, k)]
    missing = [k for k in wanted if not by_kind.get(k)]
    out += _unreadable_findings(missing, [(p.file, p.data) for p in labels], th)
    if sns:
        out += _check_sn(order, cfg, th, sns)
        if th.sn_barcode_wanted and all(s.entry.get("symbology") == Symbology.qr.value for s in sns):
            out.append(_sn_only_in_qr(labels, sns[0]))
    for kind in ("imei", "mac"):
        if by_kind.get(kind):
            out += _check_module(order, th, kind, by_kind[kind])
    return out


def _sn_only_in_qr(labels: Sequence[PhotoResult], seen: _Seen) -> Finding:
    """The SN was read from the QR payload only: its own barcode and printed line were not readable."""
    return Finding(
        check="codes.sn_barcode_unreadable", slot=Slot.code_label, photo=seen.photo,
        message_zh="铭牌SN条码及其下方文字无法识别（仅从二维码读到SN）",
        message_en="The nameplate SN barcode and its printed line can't be read (the SN was read from the QR only)",
        hint_zh="重拍铭牌：SN条码清晰、无反光、完整入镜", hint_en="Retake the nameplate: the SN barcode sharp, "
        "without glare, wholly in frame",
        evidence={**_code_evidence(seen), "photos": [{"photo": p.file, "unread_regions":
                                                     p.data.get("codes_unread_regions", [])} for p in labels]},
        confidence=0.8, certain=False)


def _order_model_code(order: Order, cfg: Config) -> str | None:
    spec = cfg.models.get(order.model)
    if spec is not None:
        return spec.sn_code
    parts = parse_sn(order.machine_code, cfg.codes.sn_pattern)
    return parts.model_code if parts else None


def _check_sn(order: Order, cfg: Config, th: CodeThresholds, sns: Sequence[_Seen]) -> list[Finding]:
    pattern = cfg.codes.sn_pattern
    record = normalize_code(order.machine_code)
    record_ok = parse_sn(record, pattern) is not None
    if record_ok and any(s.value == record for s in sns):
        return []
    out: list[Finding] = []
    # The nameplate SN to judge: a well-formed barcode read first, the one closest to the record.
    def rank(s: _Seen) -> tuple[int, int, int]:
        return (parse_sn(s.value, pattern) is None, s.from_ocr, code_distance(s.value, record) if record else 0)

    best = sorted(sns, key=rank)[0]
    plate_parts = parse_sn(best.value, pattern)
    expected_code = _order_model_code(order, cfg)
    certain = not best.from_ocr
    conf = th.barcode_confidence if certain else float(best.entry.get("confidence", 0.5))
    ev = {"nameplate_sn": best.value, "machine_code": order.machine_code, **_code_evidence(best),
          "all_sns_read": sorted({s.value for s in sns})}
    other_model = (plate_parts is not None and expected_code is not None and plate_parts.model_code != expected_code
                   and cfg.model_for_sn_code(expected_code) is not None)
    if other_model:
        assert plate_parts is not None
        other = cfg.model_for_sn_code(plate_parts.model_code)
        out.append(Finding(
            check="codes.sn_other_model", slot=Slot.code_label, photo=best.photo,
            message_zh=f"铭牌SN {best.value} 的型号码 {plate_parts.model_code}（{other or '未知型号'}）"
                       f"与工单型号 {order.model} 不符",
            message_en=f"Nameplate SN {best.value} has model code {plate_parts.model_code} "
                       f"({other or 'unknown model'}), not the order's model {order.model}",
            hint_zh="核实现场机器型号，更正工单型号与机器编码", hint_en="Verify the installed model; correct the order",
            evidence={**ev, "sn_model_code": plate_parts.model_code, "sn_model": other,
                      "order_model": order.model, "expected_model_code": expected_code},
            confidence=conf, certain=certain))
    if not record_ok:
        return out  # empty or malformed machine_code: the record rules (42) report it; no double report
    d = code_distance(best.value, record)
    limit = cfg.codes.sn_typo_max_distance
    if d <= limit and not other_model:
        out.append(Finding(
            check="codes.sn_typo", slot=Slot.code_label, photo=best.photo,
            message_zh=f"工单机器编码 {order.machine_code} 与铭牌SN {best.value} 相差 {d} 位（录入错误）",
            message_en=f"Machine code {order.machine_code} differs from the nameplate SN {best.value} "
                       f"by {d} character(s) (a typing slip)",
            hint_zh="按铭牌更正工单中的机器编码", hint_en="Correct the machine code from the nameplate",
            evidence={**ev, "distance": d, "threshold": limit}, confidence=conf, certain=certain))
    elif d > limit:
        out.append(Finding(
            check="codes.sn_mismatch", slot=Slot.code_label, photo=best.photo,
            message_zh=f"铭牌SN {best.value} 与工单机器编码 {order.machine_code} 不一致（相差 {d} 位）",
            message_en=f"Nameplate SN {best.value} is not the order's machine code {order.machine_code} "
                       f"({d} characters differ)",
            hint_zh="核实是否拍错机器或填错编码；须拍摄本机铭牌",
            hint_en="Check whether another machine's nameplate was photographed or the code is wrong",
            evidence={**ev, "distance": d, "threshold": limit}, confidence=conf, certain=certain))
    return out


def _check_module(order: Order, th: CodeThresholds, kind: str, seen: Sequence[_Seen]) -> list[Finding]:
    from wocheck.identifiers import is_valid_imei

    raw = order.imei if kind == "imei" else order.mac
    valid = is_valid_imei(raw) if kind == "imei" else is_valid_mac(raw)
    if not valid:
        return []  # empty or malformed in the record: record rules (42) report it
    record = normalize_code(raw) if kind == "imei" else normalize_mac(raw)
    if any(s.value == record for s in seen):
        return []
    best = sorted(seen, key=lambda s: (s.from_ocr, code_distance(s.value, record)))[0]
    certain = not best.from_ocr
    conf = th.barcode_confidence if certain else float(best.entry.get("confidence", 0.5))
    name = _KIND_EN[kind]
    return [Finding(
        check=f"codes.{kind}_mismatch", slot=Slot.code_label, photo=best.photo,
        message_zh=f"铭牌{name} {best.value} 与工单{name} {raw} 不一致",
        message_en=f"Nameplate {name} {best.value} is not the order's {name} {raw}",
        hint_zh=f"按铭牌更正工单{name}，或确认拍摄的是本机铭牌",
        hint_en=f"Correct the order's {name} from the nameplate, or photograph this machine's nameplate",
        evidence={f"nameplate_{kind}": best.value, f"order_{kind}": raw, **_code_evidence(best),
                  "distance": code_distance(best.value, record), f"all_{kind}s_read": sorted({s.value for s in seen})},
        confidence=conf, certain=certain)]

"""The service-form inspector (clause 45; clause 50 when the slot holds no form at all).

One decode feeds every stage (`form_images`): a ≤ 2000 px grey preview and, for larger photos, a ≤ 1000 px
colour one (colour costs twice grey to decode; small photos get both from one colour decode). Each stage
is a function of the previous one's result:

1. `locate_form`: the four ArUco markers (ids tell the page's rotation, upside down included) on a
   ~1000 px grey preview (the 2000 px one when fewer than two are found) give a homography from the
   layout's millimetres to the photo; with fewer than two markers, the page outline (the largest bright
   quadrilateral), its rotation chosen by matching the print master. How much of the page lies in the
   frame, and which corners and edges are cut off. No page at all: clause 50 ``form.not_a_form`` when
   the photo is sharp and lit (directional edge widths), else ``form.illegible``.
2. `rectify`: the form warped onto the layout's grid at ``px_per_mm`` (grey) and half that (warm tint:
   blue/red ratio), with the print master resampled to the same grid and aligned by a small shift search.
3. `legibility`: sharpness of the printed labels next to the master's as the photo would show it at its
   own sampling of the page (worst of four directions, so motion blur counts), and the print's blur σ;
   paper brightness, print contrast; burnt-out print marks glare over field boxes.
   Borderline blur is settled by reading three labels with tesseract chi_sim (`ocr_labels`).
4. `completeness`: pen ink per field after the master's print (and box lines) are masked and the
   lighting normalised, with a fainter second look (above the paper's noise) for light pen; ticks in
   choice groups; the customer's signature; the order type decides which fields are required (none:
   the fields required "always").
5. `damage`: stains (broad patches darker than all their surround, marks that are neither print nor
   writing nor the blurred print's halo, warm tints no pen makes, pale marks in the value boxes that span
   rows as no writing does), torn corners (a corner marker's print missing, the background showing),
   crumpling (crease shading over the paper).

Thresholds are `FormThresholds` (``models/thresholds/form.toml``, calibrated by
``scripts/calibration/form.py``); the layout is data (`wocheck.inspectors.formlayout`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from wocheck.inspectors.base import Annotation, InspectorOutput, PhotoContext
from wocheck.inspectors.formlayout import CORNERS, FieldSpec, FormLayout, layout_for, master_at
from wocheck.metrics import geometry as geo
from wocheck.metrics import ink
from wocheck.records import Finding, OrderType

if TYPE_CHECKING:
    from wocheck.io.images import DecodedPhoto

log = logging.getLogger(__name__)

Gray = NDArray[np.uint8]
Mask = NDArray[np.bool_]


class FormThresholds(BaseModel):
    """Every number the form inspector decides with; units in the names or comments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- locating ---
    detect_max_side: int = Field(1000, ge=400, le=4000)  # px, preview long side for the marker search
    detect_retry_max_side: int = Field(2000, ge=400, le=8000)  # px, second try when < 2 markers found
    work_max_side: int = Field(2000, ge=400, le=8000)  # px, preview long side the form is rectified from
    tint_max_side: int = Field(1000, ge=200, le=8000)  # px, colour preview long side (warm tint) for photos
    # larger than work_max_side (smaller ones: one colour decode at the work size serves both)
    px_per_mm: float = Field(6.0, ge=2, le=16)  # rectified grid resolution
    min_markers: int = Field(2, ge=1, le=4)  # markers needed to trust the marker homography
    outline_px_per_mm: float = Field(2.0, ge=0.5, le=8)  # grid for matching an outline against the master
    outline_match_min: float = Field(0.35, ge=-1, le=1)  # NCC with the master: below it, no form
    outline_min_area: float = Field(0.08, ge=0, le=1)  # fraction of the frame a page outline covers at least
    # --- in frame ---
    in_frame_min: float = Field(0.995, ge=0, le=1)  # fraction of the page area inside the frame
    corner_tolerance_mm: float = Field(1.5, ge=0, le=20)  # a corner this far out still counts as in
    # --- legibility ---
    sharpness_min: float = Field(0.30, ge=0, le=2)  # print edge energy vs the master's (1 = as sharp)
    sharpness_certain: float = Field(0.18, ge=0, le=2)  # below it, blur is certain
    paper_level_min: float = Field(55.0, ge=0, le=255)  # 8-bit grey of the paper: below it, too dark
    paper_level_certain: float = Field(35.0, ge=0, le=255)
    contrast_min: float = Field(0.30, ge=0, le=1)  # paper minus print, relative: below it, washed out
    overexposed_saturated_min: float = Field(0.35, ge=0, le=1)  # page fraction burnt out (≥ saturated_at)
    saturated_at: int = Field(250, ge=128, le=255)  # 8-bit grey counted as burnt out
    glare_field_fraction: float = Field(0.15, ge=0, le=1)  # share of a box under glare: hidden
    glare_judge_max: float = Field(0.03, ge=0, le=1)  # a box this much under glare is not judged blank
    glare_search_mm: float = Field(1.5, ge=0, le=10)  # print looked for this far (misregistration, warp)
    glare_reach_mm: float = Field(5.0, ge=0, le=30)  # burnt-out print hides the paper this far around it
    black_percentile: float = Field(0.3, ge=0, le=5)  # % of the page darkest: the print's black level
    ocr_band: float = Field(2.0, ge=1, le=10)  # OCR the labels when blurred but sharper than threshold ÷ this
    ocr_label_keys: list[str] = Field(default_factory=lambda: ["customer_name", "machine_code", "engineer"])
    ocr_lang: str = "chi_sim"
    ocr_px_per_mm: float = Field(9.0, ge=2, le=30)  # labels upsampled to this before OCR (~30 px text)
    ocr_inset_mm: float = Field(0.8, ge=0, le=5)  # the label box shrunk by this (its border lines)
    ocr_char_share: float = Field(0.5, ge=0, le=1)  # share of a label's characters read back: read
    ocr_read_min: float = Field(0.66, ge=0, le=1)  # share of the labels read: legible
    ocr_timeout_s: float = Field(2.0, gt=0, le=30)
    # --- completeness ---
    background_mm: float = Field(2.0, gt=0, le=20)  # strokes thinner than this are ink, not paper
    ink_darker_than: float = Field(0.8, gt=0, lt=1)  # relative to the local paper: darker is ink
    print_dilate_mm: float = Field(0.5, ge=0, le=3)  # the master's print grown by this (misregistration)
    align_search_mm: float = Field(1.5, ge=0, le=5)  # shift search of the master against the photo
    field_inset_mm: float = Field(0.6, ge=0, le=3)  # field box shrunk by this (its border line)
    stroke_min_area_mm2: float = Field(0.25, ge=0, le=10)  # an ink blob smaller than this is noise
    text_ink_min: float = Field(0.006, ge=0, le=1)  # ink fraction of a text field box: below, blank
    strokes_check_below: float = Field(0.05, ge=0, le=1)  # ink ratio above which strokes are not counted
    text_strokes_min: int = Field(2, ge=1, le=50)
    signature_ink_min: float = Field(0.006, ge=0, le=1)
    tick_margin_mm: float = Field(1.0, ge=0, le=5)  # the option box grown by this to catch a tick
    tick_ink_min: float = Field(0.05, ge=0, le=1)  # ink fraction of the (grown) option box: ticked
    blank_certain_factor: float = Field(0.35, ge=0, le=1)  # ink below factor × threshold: certain blank
    faint_ink_darker_than: float = Field(0.9, gt=0, lt=1)  # second look for light pen: a blank is certain
    # only when this looser darkness finds no more ink than the certain-blank level either
    # --- damage ---
    stain_scale_mm: float = Field(30.0, gt=0, le=200)  # paper brightness estimated over this scale
    stain_stroke_mm: float = Field(1.5, gt=0, le=10)  # strokes up to this width are closed away
    stain_darker_than: float = Field(0.7, gt=0, lt=1)  # relative to the paper: darker is stain
    stain_ring_mm: float = Field(6.0, gt=0, le=50)  # ring around a dark patch compared with it
    stain_ring_margin: float = Field(0.12, ge=0, le=1)  # the darkest tenth of the ring this much brighter
    stain_overrun_mm: float = Field(3.0, ge=0, le=10)  # writing may run this far out of its box
    stain_mark_darker_than: float = Field(0.75, gt=0, lt=1)  # a mark outside the boxes this dark: foreign
    stain_warm_drop: float = Field(0.15, gt=0, lt=1)  # blue/red ratio this far below the paper's: a warm stain
    stain_warm_smooth_mm: float = Field(0.7, ge=0, le=5)  # the tint averaged over this
    stain_warm_min_width_mm: float = Field(0.8, ge=0, le=10)  # tinted marks narrower than this are noise
    stain_ink_darker_than: float = Field(0.55, gt=0, lt=1)  # pen/print this dark has colour fringes …
    stain_ink_reach_mm: float = Field(1.0, ge=0, le=5)  # … this far around it
    stain_noise_sigmas: float = Field(6.0, ge=0, le=50)  # a foreign mark is darker than the paper by this many σ
    stain_join_mm: float = Field(2.0, ge=0, le=20)  # foreign marks this close join into one stain
    stain_span_mm: float = Field(25.0, gt=0, le=300)  # a mark in the value boxes this wide AND this tall
    # (joined across the box lines it crosses) is no writing: a ring or smear over several boxes
    stain_span_darker_than: float = Field(0.88, gt=0, lt=1)  # … looked for this faint (a pale coffee ring),
    stain_span_max_blur_mm: float = Field(0.4, ge=0, le=5)  # … on pages whose print blur σ is at most this
    # (blur smears faint writing across box lines); signature boxes left out (a signature may overflow);
    # stains found only so are never certain
    stain_min_area_mm2: float = Field(30.0, ge=0, le=10000)
    damage_px_per_mm: float = Field(2.0, ge=0.5, le=8)  # grid the damage measures run on
    damage_print_dilate_mm: float = Field(1.5, ge=0, le=5)  # print (and its blur halo) left out
    stain_edge_mm: float = Field(6.0, ge=0, le=30)  # band along the page edge
    stain_edge_contact_mm: float = Field(5.0, ge=0, le=1000)  # a dark patch along the edge this long: shadow
    torn_ink_above: float = Field(0.6, gt=0, le=1)  # print this bright (relative to paper) is missing
    torn_corner_mm: float = Field(18.0, gt=0, le=80)  # square at each page corner looked at
    torn_deviation: float = Field(0.4, gt=0, le=1)  # relative brightness off the paper: not paper
    torn_min_fraction: float = Field(0.12, ge=0, le=1)  # share of the corner square that is not paper
    crease_scale_mm: float = Field(6.0, gt=0, le=50)
    crease_deviation: float = Field(0.05, gt=0, le=1)
    crease_fraction_max: float = Field(0.10, ge=0, le=1)  # share of the paper creased: crumpled
    damage_certain_factor: float = Field(2.0, ge=1, le=10)  # measure ≥ factor × threshold: certain
    damage_certain_max_blur_mm: float = Field(0.4, ge=0, le=10)  # … on a page whose print blur σ is at most this
    # --- not a form ---
    not_form_blur_width_max: float = Field(4.3, gt=0, le=20)  # px at detect_max_side: sharper is a clear photo
    not_form_blur_width_certain: float = Field(3.9, gt=0, le=20)
    unlocated_blur_width_certain: float = Field(4.7, gt=0, le=30)  # px: an unlocated photo this blurred
    unlocated_overexposed_certain: float = Field(0.6, ge=0, le=1)  # saturated share: certainly burnt out
    not_form_direction_bins: int = Field(8, ge=2, le=36)
    not_form_min_edges: int = Field(30, ge=1)
    not_form_width_percentile: float = Field(5.0, gt=0, lt=100)
    not_form_certain_match: float = Field(0.2, ge=-1, le=1)  # outline NCC below it: certainly no form
    not_form_level_min: float = Field(50.0, ge=0, le=255)  # preview mean grey: a lit photo


@dataclass(frozen=True)
class MarkerHit:
    marker_id: int
    corners: NDArray[np.float64]  # 4×2 in detection-preview px (the marker's own TL, TR, BR, BL)


@dataclass(frozen=True)
class FormLocation:
    """Where the form is: a homography from layout mm to detection-preview px, and how it was found."""

    method: str  # "markers" | "outline" | "none"
    markers: tuple[MarkerHit, ...] = ()
    H: NDArray[np.float64] | None = None  # mm -> preview px
    preview_shape: tuple[int, int] = (0, 0)  # (h, w) of the detection preview
    outline_match: float | None = None
    page_quad: NDArray[np.float64] | None = None  # preview px, page TL, TR, BR, BL
    in_frame: float = 0.0
    corners_out: tuple[str, ...] = ()
    edges_cut: tuple[str, ...] = ()
    rotation_deg: float = 0.0

    @property
    def found(self) -> bool:
        return self.H is not None


@dataclass
class Rectified:
    gray: Gray  # the form on the layout grid (raw grey)
    valid: Mask  # pixels that came from inside the photo
    norm: NDArray[np.float32]  # gray / local paper
    master: Gray  # the print master on the same grid, shifted to the photo
    master_norm: NDArray[np.float32]
    print_mask: Mask  # master print, dilated
    px_per_mm: float
    shift_px: tuple[int, int] = (0, 0)
    warm: NDArray[np.float32] | None = None  # (B+1)/(R+1) relative to the paper's: < 1 where tinted warm,
    # on a grid of ``warm_px_per_mm``
    warm_px_per_mm: float = 0.0
    source_px_per_mm: float = 0.0  # how finely the photo (its work preview) samples the page; 0: unknown
    paper_noise: float = 0.0  # robust σ of ``norm`` over the master's blank paper (sensor noise, texture)


@dataclass
class FieldResult:
    key: str
    label: str
    kind: str
    required: bool
    in_frame: bool = True
    hidden_by_glare: bool = False
    ink_ratio: float = 0.0
    strokes: int = 0
    filled: bool = False
    ticked: list[str] = field(default_factory=list)
    glare_fraction: float = 0.0
    faint_ratio: float = 0.0  # ink ratio at the looser ``faint_ink_darker_than`` (light pen, washed-out paper)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"required": self.required, "in_frame": self.in_frame, "filled": self.filled,
                             "ink_ratio": round(self.ink_ratio, 5),
                             "strokes": self.strokes if self.strokes >= 0 else None,
                             "glare_fraction": round(self.glare_fraction, 4)}
        if self.kind != "choice":
            d["faint_ink_ratio"] = round(self.faint_ratio, 5)
        if self.kind == "choice":
            d["ticked"] = self.ticked
        if self.hidden_by_glare:
            d["hidden_by_glare"] = True
        return d


# --------------------------------------------------------------------------------------------- locating


def _aruco_detector(dictionary: str) -> Any:
    key = ("aruco", dictionary)
    if key not in _CACHE:
        d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        _CACHE[key] = cv2.aruco.ArucoDetector(d, params)
    return _CACHE[key]


_CACHE: dict[Any, Any] = {}


def detect_markers(gray: Gray, layout: FormLayout) -> list[MarkerHit]:
    """The layout's markers found in ``gray`` (one per id: the largest if an id repeats)."""
    corners, ids, _ = _aruco_detector(layout.markers.dictionary).detectMarkers(gray)
    best: dict[int, MarkerHit] = {}
    if ids is None:
        return []
    for c, i in zip(corners, ids.ravel(), strict=True):
        mid = int(i)
        if mid not in layout.marker_ids:
            continue
        pts = np.asarray(c, dtype=np.float64).reshape(4, 2)
        if mid not in best or geo.polygon_area(pts) > geo.polygon_area(best[mid].corners):
            best[mid] = MarkerHit(mid, pts)
    return [best[k] for k in sorted(best)]


def _homography_from_markers(hits: list[MarkerHit], layout: FormLayout) -> NDArray[np.float64] | None:
    src = np.concatenate([layout.markers.corners_mm(h.marker_id) for h in hits])
    dst = np.concatenate([h.corners for h in hits])
    return geo.fit_homography(src, dst)


def _ncc(a: NDArray[Any], b: NDArray[Any], mask: Mask | None = None) -> float:
    x = np.asarray(a, np.float32)
    y = np.asarray(b, np.float32)
    if mask is not None:
        x, y = x[mask], y[mask]
    x = x - x.mean()
    y = y - y.mean()
    d = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / d) if d > 0 else 0.0


def _locate_by_outline(gray: Gray, layout: FormLayout, th: FormThresholds
                       ) -> tuple[NDArray[np.float64] | None, float | None]:
    """Homography (mm -> px) from the page outline, its rotation chosen by matching the master; NCC."""
    blur = cv2.GaussianBlur(gray, (0, 0), 2)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    quad = geo.quad_from_mask(mask, min_area_fraction=th.outline_min_area)
    if quad is None or not geo.is_convex_quad(quad):
        return None, None
    p = th.outline_px_per_mm
    w, h = (round(layout.page_mm[0] * p), round(layout.page_mm[1] * p))
    assert layout.master_path is not None
    master = master_at(layout.master_path, p, layout.page_mm, layout.print_dpi)
    page = layout.page_corners_mm()
    best: tuple[float, NDArray[np.float64] | None] = (-2.0, None)
    for k in range(4):
        H = geo.fit_homography(page, np.roll(quad, -k, axis=0))
        if H is None:
            continue
        M = H @ np.diag([1 / p, 1 / p, 1.0])
        r = cv2.warpPerspective(gray, M, (w, h), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
        score = _ncc(cv2.GaussianBlur(r, (0, 0), 1.0), cv2.GaussianBlur(master, (0, 0), 1.0))
        if score > best[0]:
            best = (score, H)
    return best[1], best[0]


@dataclass(frozen=True)
class FormImages:
    """The photo at the sizes the inspector works on: grey and colour from one decode when the photo is no
    larger than the work size, else a grey decode at the work size and a colour one at the (smaller)
    tint size: colour costs ~2x grey to decode, and the tint needs no more than half the grid's detail."""

    bgr: NDArray[np.uint8]  # colour, long side ≤ tint_max_side (the work size for small photos)
    gray: Gray  # work preview, grey (long side ≤ work_max_side)
    det: Gray  # grey, long side ≤ detect_max_side (markers, outline, clarity)


def form_images(photo: DecodedPhoto, th: FormThresholds) -> FormImages:
    if max(photo.width, photo.height) <= th.work_max_side:
        bgr = photo.preview_bgr(th.work_max_side)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    else:
        gray = np.ascontiguousarray(photo.preview_gray(th.work_max_side))
        bgr = photo.preview_bgr(min(th.tint_max_side, th.work_max_side))
    h, w = gray.shape
    k = th.detect_max_side / max(h, w)
    det = cv2.resize(gray, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA) \
        if k < 1 else gray
    return FormImages(bgr=bgr, gray=gray, det=det)


def locate_form(imgs: FormImages, layout: FormLayout, th: FormThresholds) -> FormLocation:
    """Find the page in the photo: markers first (two sizes), then the outline."""
    gray = imgs.det
    hits = detect_markers(gray, layout)
    if len(hits) < th.min_markers and imgs.gray.shape != gray.shape:
        big = imgs.gray
        more = detect_markers(big, layout)
        if len(more) > len(hits):
            s = gray.shape[1] / big.shape[1]
            hits = [MarkerHit(m.marker_id, m.corners * s) for m in more]
    method, H, match = "none", None, None
    if len(hits) >= th.min_markers:
        H = _homography_from_markers(hits, layout)
        method = "markers" if H is not None else "none"
    if H is None:
        H, match = _locate_by_outline(gray, layout, th)
        if H is not None and match is not None and match >= th.outline_match_min:
            method = "outline"
        else:
            H = None
    if H is None:
        return FormLocation(method="none", markers=tuple(hits), preview_shape=gray.shape[:2],
                            outline_match=match)
    quad = geo.project(H, layout.page_corners_mm())
    hh, ww = gray.shape[:2]
    tol = th.corner_tolerance_mm * _px_per_mm_at(H, layout)
    frac = geo.in_frame_fraction(quad, ww, hh)
    out = geo.corners_outside(quad, ww, hh, tolerance=tol)
    cut = geo.edges_cut(quad, ww, hh, tolerance=tol)
    d = quad[1] - quad[0]
    rot = math.degrees(math.atan2(d[1], d[0])) if np.isfinite(d).all() else 0.0
    return FormLocation(method=method, markers=tuple(hits), H=H, preview_shape=gray.shape[:2],
                        outline_match=match, page_quad=quad, in_frame=frac,
                        corners_out=tuple(geo.CORNER_NAMES[i] for i in out),
                        edges_cut=tuple(geo.EDGE_NAMES[i] for i in cut), rotation_deg=rot)


def _px_per_mm_at(H: NDArray[np.float64], layout: FormLayout) -> float:
    """Mean scale of the homography over the page (preview px per mm)."""
    quad = geo.project(H, layout.page_corners_mm())
    area = geo.polygon_area(quad)
    return math.sqrt(area / (layout.page_mm[0] * layout.page_mm[1])) if area > 0 else 0.0


# ------------------------------------------------------------------------------------------ rectifying


def _mm_to_px(box: tuple[float, float, float, float], p: float, inset_mm: float = 0.0) -> tuple[int, int, int, int]:
    x, y, w, h = box
    x0, y0 = round((x + inset_mm) * p), round((y + inset_mm) * p)
    x1, y1 = round((x + w - inset_mm) * p), round((y + h - inset_mm) * p)
    return x0, y0, max(x0, x1), max(y0, y1)


def _grid_matrix(H: NDArray[np.float64], scale: float, p: float) -> NDArray[np.float64]:
    """Grid px (at ``p`` px/mm) -> image px, for an image ``scale`` times the detection preview."""
    return np.diag([scale, scale, 1.0]) @ H @ np.diag([1 / p, 1 / p, 1.0])


def _master_cached(layout: FormLayout, p: float, what: str, dilate_px: int = 0) -> NDArray[Any]:
    """Arrays derived from the print master on the grid alone (no photo), cached per form and grid:
    ``"print"``: `ink.print_mask` grown by ``dilate_px``; ``"ink_half"``: 1 - master, halved (`_align`)."""
    key = ("master", layout.form_id, p, what, dilate_px)
    if key not in _CACHE:
        assert layout.master_path is not None
        master = master_at(layout.master_path, p, layout.page_mm, layout.print_dpi)
        if what == "print":
            out: NDArray[Any] = ink.print_mask(master, dilate_px=dilate_px)
        else:
            out = cv2.resize(1.0 - master.astype(np.float32) / 255.0, None, fx=0.5, fy=0.5,
                             interpolation=cv2.INTER_AREA)
        out.setflags(write=False)
        _CACHE[key] = out
    return _CACHE[key]


def rectify(imgs: FormImages, loc: FormLocation, layout: FormLayout, th: FormThresholds) -> Rectified:
    """The form on the layout's grid, with the master shifted onto it (± ``align_search_mm``).

    Grey on the grid at ``px_per_mm``; the warm tint (colour) on a grid half as fine, which is all the
    tint needs (JPEG keeps colour at half resolution; the tint is smoothed over ``stain_warm_smooth_mm``).
    """
    assert loc.H is not None and layout.master_path is not None
    work = imgs.gray
    s = work.shape[1] / loc.preview_shape[1]
    p = th.px_per_mm
    M = _grid_matrix(loc.H, s, p)
    size = (round(layout.page_mm[0] * p), round(layout.page_mm[1] * p))
    gray = cv2.warpPerspective(work, M, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
    # the pixels that came from inside the photo: the photo's frame mapped onto the grid
    hh, ww = work.shape[:2]
    frame = geo.project(np.linalg.inv(M), [[0, 0], [ww - 1, 0], [ww - 1, hh - 1], [0, hh - 1]])
    valid_u8 = np.zeros((size[1], size[0]), np.uint8)
    if np.isfinite(frame).all() and np.abs(frame).max() < 1e6:
        cv2.fillConvexPoly(valid_u8, np.round(frame).astype(np.int32), 1)
        valid_u8 = cv2.erode(valid_u8, np.ones((3, 3), np.uint8))
    valid = valid_u8 > 0
    whole = bool(valid_u8.min() > 0)
    # fill outside-frame pixels with their nearest paper, so the lighting estimate is not dragged down
    if not whole:
        med = float(np.median(gray[valid][::7])) if valid.any() else 255.0
        gray[~valid] = np.uint8(med)
    stroke = max(1, round(th.background_mm * p))
    norm = ink.normalise_paper(gray, stroke_px=stroke)
    master = master_at(layout.master_path, p, layout.page_mm, layout.print_dpi)
    shift = _align(norm, layout, p, valid if not whole else None, round(th.align_search_mm * p))
    pmask = _master_cached(layout, p, "print", round(th.print_dilate_mm * p))
    if shift != (0, 0):
        master = np.roll(master, shift, axis=(0, 1))
        pmask = np.roll(pmask, shift, axis=(0, 1))
    master_norm = master.astype(np.float32) / 255.0
    warm = _warm_tint(imgs, loc, layout, th, master, valid, norm)
    sample = norm[::6, ::6][(master[::6, ::6] > 230) & valid[::6, ::6]]
    noise = 1.4826 * float(np.median(np.abs(sample - np.median(sample)))) if sample.size else 0.0
    return Rectified(gray=gray, valid=valid, norm=norm, master=master, master_norm=master_norm,
                     print_mask=pmask, px_per_mm=p, shift_px=shift, warm=warm, warm_px_per_mm=p / 2,
                     source_px_per_mm=_px_per_mm_at(loc.H, layout) * s, paper_noise=noise)


def _warm_tint(imgs: FormImages, loc: FormLocation, layout: FormLayout, th: FormThresholds, master: Gray,
               valid: Mask, norm: NDArray[np.float32]) -> NDArray[np.float32]:
    """(B+1)/(R+1) over the paper's own, on the half grid (``px_per_mm / 2``): < 1 where tinted warm; 1 where
    any channel is burnt out (a clipped channel fakes a tint, so clipped pixels are neither reference nor
    evidence)."""
    assert loc.H is not None
    q = th.px_per_mm / 2
    size = (round(layout.page_mm[0] * q), round(layout.page_mm[1] * q))
    M = _grid_matrix(loc.H, imgs.bgr.shape[1] / loc.preview_shape[1], q)
    bgr = cv2.warpPerspective(imgs.bgr, M, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
    b, _, r = cv2.split(bgr)
    warm = cv2.divide(b.astype(np.float32) + 1.0, r.astype(np.float32) + 1.0)
    # the brightest channel, as cv2.max over the planes: ndarray.max(axis=2) is ~20x slower on a colour image
    unclipped = cv2.max(cv2.max(b, bgr[:, :, 1]), r) < th.saturated_at
    half = (size[1], size[0])
    m2, v2, n2 = (_at(x, half) for x in (master, valid, norm))
    paper = (m2 > 230) & v2 & (n2 > th.ink_darker_than) & unclipped
    ref = float(np.median(warm[paper][::2])) if paper.any() else float(np.median(warm))
    warm *= np.float32(1.0 / max(ref, 1e-3))
    warm[~unclipped] = 1.0
    return warm


def _at(a: NDArray[Any], shape: tuple[int, int]) -> NDArray[Any]:
    """``a`` sampled (nearest) to ``shape`` (h, w): a cheap view for strided halves, else a resize."""
    if a.shape[:2] == shape:
        return a
    fy, fx = a.shape[0] / shape[0], a.shape[1] / shape[1]
    if fy == fx and fy.is_integer():
        v = a[::int(fy), ::int(fx)]
        if v.shape[:2] == shape:
            return v
    src = a.astype(np.uint8) if a.dtype == np.bool_ else a
    out = cv2.resize(src, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return out.astype(bool) if a.dtype == np.bool_ else out


def _align(norm: NDArray[np.float32], layout: FormLayout, p: float, valid: Mask | None, r: int) -> tuple[int, int]:
    """The (dy, dx) shift of the master, within ± r px, that best matches the photo's dark print."""
    if r <= 0:
        return (0, 0)
    step = 2
    b = _master_cached(layout, p, "ink_half")
    a = cv2.resize(norm, (b.shape[1], b.shape[0]), interpolation=cv2.INTER_AREA)  # reduced first: cheaper
    np.minimum(a, 1.0, out=a)
    np.subtract(1.0, a, out=a)
    if valid is not None:
        v = cv2.resize(valid.astype(np.uint8), (a.shape[1], a.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        a = np.where(v, a, 0).astype(np.float32)
    rr = max(1, r // step)
    pad = cv2.copyMakeBorder(a, rr, rr, rr, rr, cv2.BORDER_CONSTANT, value=0)
    res = cv2.matchTemplate(pad, b, cv2.TM_CCORR)
    dy, dx = np.unravel_index(int(np.argmax(res)), res.shape)
    return (int(dy - rr) * step, int(dx - rr) * step)


# ----------------------------------------------------------------------------------------- legibility


@dataclass
class Legibility:
    sharpness: float
    paper_level: float
    contrast: float
    saturated: float
    causes: list[str]
    certain: bool
    blur_px: float = 0.0  # Gaussian σ (grid px) the print is blurred by beyond the master (`_label_sharpness`)


def _label_mask(layout: FormLayout, rect: Rectified) -> Mask:
    m = np.zeros(rect.gray.shape, bool)
    for f in layout.fields:
        x0, y0, x1, y1 = _mm_to_px(f.label_box, rect.px_per_mm)
        m[y0:y1, x0:x1] = True
    return m & rect.valid


def _energies(img: NDArray[Any], boxes: list[tuple[int, int, int, int]]) -> NDArray[np.float64]:
    """Directional edge energies summed over the boxes' crops (pixel-weighted mean), shape (4,)."""
    tot = np.zeros(4)
    n = 0
    for x0, y0, x1, y1 in boxes:
        crop = img[y0:y1, x0:x1]
        if crop.size and min(crop.shape) >= 3:
            tot += np.asarray(ink.directional_edge_energy(crop)) * crop.size
            n += crop.size
    return tot / n if n else tot


def _sampled_like_photo(master: NDArray[np.float32], k: float) -> NDArray[np.float32]:
    """The master as a photo sampling the page ``k`` times as finely as the grid (k < 1) would show it:
    reduced by ``k`` and enlarged back (the rectifying warp's interpolation). k ≥ 1: unchanged."""
    if k >= 1 or min(master.shape) < 3:
        return master
    h, w = master.shape
    small = cv2.resize(master, (max(2, round(w * k)), max(2, round(h * k))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


_BLUR_LADDER_PX = (0.0, 0.75, 1.5, 2.25, 3.0, 4.5, 6.0, 9.0, 13.0, 18.0)  # Gaussian σ tried (grid px)


def _label_sharpness(rect: Rectified, layout: FormLayout, level: float, contrast: float) -> tuple[float, float]:
    """(sharpness, blur σ in grid px) of the printed labels (wholly in frame) against the master.

    Sharpness: `ink.relative_sharpness`, 0 … ~1. The master is first sampled as finely as the photo samples
    the page (`_sampled_like_photo`): a small page in a small photo has softer print on the grid without
    being any less in focus, and the measure is of focus and motion, not of the page's size in the frame.
    Blur σ: the Gaussian that, applied to that master, leaves as little edge energy as the photo has in its
    weakest direction (interpolated on `_BLUR_LADDER_PX`): how far blurred print spreads beyond the master's
    outline (`damage` expects print there, not stains).
    """
    h, w = rect.gray.shape
    boxes = []
    for f in layout.fields:
        x0, y0, x1, y1 = _mm_to_px(f.label_box, rect.px_per_mm)
        if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h and rect.valid[y0:y1, x0:x1].all():
            boxes.append((x0, y0, x1, y1))
    if not boxes or contrast <= 0:
        return 0.0, 0.0
    ep = _energies(rect.gray, boxes) / (max(level, 1.0) ** 2 * contrast * contrast)
    k = rect.source_px_per_mm / rect.px_per_mm if rect.source_px_per_mm > 0 else 1.0
    crops = [_sampled_like_photo(rect.master_norm[y0:y1, x0:x1], k) for x0, y0, x1, y1 in boxes]
    crops = [c for c in crops if c.size and min(c.shape) >= 3]
    if not crops:
        return 0.0, 0.0

    em = _energies_of(crops)
    ratios = [p / m for p, m in zip(ep, em, strict=True) if m > 0]
    if not ratios:
        return 0.0, 0.0
    sharp = float(min(ratios))
    # the weakest direction's energy ratio, found on the master blurred ever more (a table per form and
    # sampling, cached: it depends on neither the photo nor the page's small alignment shift)
    d = int(np.argmin([p / m if m > 0 else np.inf for p, m in zip(ep, em, strict=True)]))
    table = _blur_table(layout, rect.master_norm.shape, rect.px_per_mm, k, boxes)
    rel = table[:, d] / max(float(table[0, d]), 1e-12)
    if sharp >= 1.0:
        return sharp, 0.0
    i = int(np.argmax(rel <= sharp)) if (rel <= sharp).any() else len(rel) - 1
    if rel[i] > sharp:
        return sharp, _BLUR_LADDER_PX[-1]
    t = (rel[i - 1] - sharp) / max(float(rel[i - 1] - rel[i]), 1e-12)
    return sharp, _BLUR_LADDER_PX[i - 1] + t * (_BLUR_LADDER_PX[i] - _BLUR_LADDER_PX[i - 1])


def _energies_of(crops: list[NDArray[np.float32]], sigma: float = 0.0) -> NDArray[np.float64]:
    """Directional edge energies of the crops (pixel-weighted mean), each first blurred by ``sigma`` px."""
    tot = np.zeros(4)
    n = 0
    for c in crops:
        b = cv2.GaussianBlur(c, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE) if sigma > 0 else c
        tot += np.asarray(ink.directional_edge_energy(b)) * c.size
        n += c.size
    return tot / n if n else tot


def _blur_table(layout: FormLayout, shape: tuple[int, ...], p: float, k: float,
                boxes: list[tuple[int, int, int, int]]) -> NDArray[np.float64]:
    """Directional energies of the (unshifted) master's label crops, sampled as the photo samples the page
    (``k``, bucketed by 0.05) and blurred by each σ of `_BLUR_LADDER_PX`: shape (ladder, 4)."""
    kb = min(1.0, round(k / 0.05) * 0.05)
    key = ("blur_table", layout.form_id, shape, p, kb, tuple(boxes))
    if key not in _CACHE:
        assert layout.master_path is not None
        master = master_at(layout.master_path, p, layout.page_mm, layout.print_dpi).astype(np.float32) / 255.0
        crops = [_sampled_like_photo(master[y0:y1, x0:x1], kb) for x0, y0, x1, y1 in boxes]
        crops = [c for c in crops if c.size and min(c.shape) >= 3]
        _CACHE[key] = np.array([_energies_of(crops, sg) for sg in _BLUR_LADDER_PX])
    return _CACHE[key]  # type: ignore[no-any-return]


def legibility(rect: Rectified, layout: FormLayout, th: FormThresholds) -> Legibility:
    """Blur, darkness, washed-out print: measured on the rectified page against the master."""
    paper_px = (rect.master[::2, ::2] > 230) & rect.valid[::2, ::2]
    g2 = rect.gray[::2, ::2]
    level = ink.percentile_u8(g2, 50, paper_px) if paper_px.any() else 0.0
    black = ink.percentile_u8(g2, th.black_percentile, rect.valid[::2, ::2]) if rect.valid.any() else 0.0
    contrast = max(0.0, (level - black) / level) if level > 0 else 0.0
    sharp, blur_px = _label_sharpness(rect, layout, level, contrast)
    sat = ink.saturated_fraction(g2[rect.valid[::2, ::2]], saturated_at=th.saturated_at)
    causes: list[str] = []
    sure: list[bool] = []  # per cause: certain on its own
    if level < th.paper_level_min:
        causes.append("dark")
        sure.append(level < th.paper_level_certain)
    if sat >= th.overexposed_saturated_min and contrast < th.contrast_min:
        causes.append("overexposed")
        sure.append(True)
    elif contrast < th.contrast_min and "dark" not in causes:
        causes.append("low_contrast")
        sure.append(False)
    if sharp < th.sharpness_min:
        causes.append("blur")
        sure.append(sharp < th.sharpness_certain)
    # one certain reason makes the page certainly illegible (a burnt-out page also measures soft)
    return Legibility(sharpness=sharp, paper_level=level, contrast=contrast, saturated=sat, causes=causes,
                      certain=any(sure) if sure else True, blur_px=blur_px)


def ocr_labels(rect: Rectified, layout: FormLayout, th: FormThresholds) -> dict[str, Any]:
    """Read a few printed labels with tesseract (chi_sim): the second signal on borderline sharpness.

    Returns ``{"read": n, "tried": m, "confidence": mean 0…1, "engine": …}``; a label counts as read when
    at least ``ocr_char_share`` of its characters come back. Labels partly out of frame are skipped.
    """
    from wocheck.engines.tesseract import ocr

    p = rect.px_per_mm
    h, w = rect.gray.shape
    read = tried = 0
    confs: list[float] = []
    engine = ""
    errors: list[str] = []
    for f in layout.fields:
        if f.key not in th.ocr_label_keys:
            continue
        x0, y0, x1, y1 = _mm_to_px(f.label_box, p, th.ocr_inset_mm)
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h or not rect.valid[y0:y1, x0:x1].all():
            continue
        crop = rect.gray[y0:y1, x0:x1]
        k = th.ocr_px_per_mm / p
        if k > 1:
            crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        res = ocr(np.ascontiguousarray(crop), lang=th.ocr_lang, psm=7, timeout_s=th.ocr_timeout_s)
        engine = res.engine
        if not res.ok:
            errors.append(str(res.error))
            continue
        tried += 1
        got = set(res.text.replace(" ", ""))
        share = len(got & set(f.label)) / max(1, len(set(f.label)))
        confs.append(res.confidence)
        read += int(share >= th.ocr_char_share)
    out: dict[str, Any] = {"read": read, "tried": tried, "engine": engine,
                           "confidence": round(float(np.mean(confs)), 3) if confs else 0.0}
    if errors:
        out["errors"] = errors[:3]
    return out


# -------------------------------------------------------------------------------------- completeness


def _field_ink(rect: Rectified, box: tuple[float, float, float, float], inset_mm: float,
               th: FormThresholds, darker_than: float | None = None) -> tuple[float, int, float, bool]:
    """(ink ratio, strokes, glare fraction, wholly in frame) of one box on the grid; ink is darker than
    ``darker_than`` (default ``th.ink_darker_than``) relative to the local paper."""
    p = rect.px_per_mm
    x0, y0, x1, y1 = _mm_to_px(box, p, inset_mm)
    h, w = rect.gray.shape
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return 0.0, 0, 0.0, False
    valid = rect.valid[y0:y1, x0:x1]
    in_frame = bool(valid.all())
    region = valid & ~rect.print_mask[y0:y1, x0:x1]
    dk = th.ink_darker_than if darker_than is None else darker_than
    m = ink.ink_mask(rect.norm[y0:y1, x0:x1], darker_than=dk, exclude=~region)
    ratio = float(np.count_nonzero(m) / max(1, np.count_nonzero(region)))
    # counting strokes (connected blobs) only matters near the ink threshold
    strokes = ink.stroke_count(m, min_area_px=max(1, round(th.stroke_min_area_mm2 * p * p))) \
        if ratio < th.strokes_check_below else -1
    return ratio, strokes, 0.0, in_frame


def glare_region(rect: Rectified, th: FormThresholds) -> Mask:
    """Where glare hides the page: the master's print burnt out in the photo, grown by ``glare_reach_mm``.

    Bright but unsaturated paper is no glare: the print on it stays dark. Under a specular highlight the
    print itself saturates, so the burnt-out print marks the spot.
    """
    p = rect.px_per_mm
    if int(rect.gray.max()) < th.saturated_at:  # nothing burnt out at all (most photos): no glare
        return np.zeros(rect.gray.shape, bool)
    k = 2 * max(1, round(th.glare_search_mm * p)) + 1
    darkest = cv2.erode(rect.gray, np.ones((k, k), np.uint8))  # misregistration-tolerant
    washed = ((rect.master < 100) & rect.valid & (darkest >= th.saturated_at)).astype(np.uint8)
    if not washed.any():
        return np.zeros(rect.gray.shape, bool)
    r = max(1, round(th.glare_reach_mm * p))
    return cv2.dilate(washed, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)) > 0


def _covered(mask: Mask, box: tuple[float, float, float, float], p: float) -> float:
    x0, y0, x1, y1 = _mm_to_px(box, p)
    h, w = mask.shape
    sub = mask[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
    return float(sub.mean()) if sub.size else 0.0


def completeness(rect: Rectified, layout: FormLayout, order_type: OrderType | None,
                 th: FormThresholds, glare: Mask | None = None) -> list[FieldResult]:
    out: list[FieldResult] = []
    glare = glare_region(rect, th) if glare is None else glare  # (`glare_region`, computed once by the caller)
    for f in layout.fields:
        fr = FieldResult(key=f.key, label=f.label, kind=f.kind, required=f.required_for(order_type))
        ratio, strokes, _, inside = _field_ink(rect, f.box, th.field_inset_mm, th)
        fr.in_frame, fr.glare_fraction = inside, _covered(glare, f.box, rect.px_per_mm)
        fr.hidden_by_glare = fr.glare_fraction >= th.glare_field_fraction
        if f.kind == "choice":
            best = 0.0
            for o in f.options:
                r, _, _, _ = _field_ink(rect, o.box, -th.tick_margin_mm, th)
                best = max(best, r)
                if r >= th.tick_ink_min:
                    fr.ticked.append(o.value)
            fr.ink_ratio, fr.strokes = best, len(fr.ticked)
            fr.filled = bool(fr.ticked)
        else:
            fr.ink_ratio, fr.strokes = ratio, strokes
            need = th.signature_ink_min if f.kind == "signature" else th.text_ink_min
            least = 1 if f.kind == "signature" else th.text_strokes_min
            fr.filled = ratio >= need and (strokes < 0 or strokes >= least)  # -1: not counted (plenty of ink)
            fr.faint_ratio = ratio
            if not fr.filled:
                # light pen on washed-out paper falls short of the ink darkness: a second, fainter look, as
                # far above the paper's noise as a mark must be (`Rectified.paper_noise`)
                faint = min(th.faint_ink_darker_than, 1.0 - th.stain_noise_sigmas * rect.paper_noise)
                fr.faint_ratio, fstrokes, _, _ = _field_ink(rect, f.box, th.field_inset_mm, th, faint)
                fr.filled = fr.faint_ratio >= need and 0 <= fstrokes and fstrokes >= least or \
                    fr.faint_ratio >= th.strokes_check_below
        out.append(fr)
    return out


# ---------------------------------------------------------------------------------------------- damage


@dataclass
class Damage:
    stains: list[tuple[float, float, float, float]]  # mm boxes
    stain_area_mm2: float
    torn: list[str]
    torn_fractions: dict[str, float]
    crease: float
    stain_span_mm2: float = 0.0  # of the stain area, what only the row-spanning test found (never certain)

    @property
    def kinds(self) -> list[str]:
        k = []
        if self.stains:
            k.append("stain")
        if self.torn:
            k.append("torn")
        if self.crease > 0:
            k.append("crumpled")
        return k


def _print_halo(rect: Rectified, blur_px: float, *, wide: bool = True) -> tuple[NDArray[np.float32], int] | None:
    """The master as the photo shows it: sampled as finely as the photo samples the page and blurred by
    ``blur_px`` (`_label_sharpness`), 0 (print) … 1 (paper); None when the blur is too slight to reach past
    the print mask's own margin. At a reduced scale (it is smooth): ``(halo, f)``, grid pixel (y, x) at
    ``halo[y // f, x // f]``. ``wide``: err wide (the darker of the σ and 2σ predictions), else σ alone."""
    if blur_px <= 1.0:
        return None
    f = int(min(8, max(2, round(blur_px / 1.5))))
    h, w = rect.master_norm.shape
    small = cv2.resize(rect.master_norm, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    k = rect.source_px_per_mm / rect.px_per_mm if rect.source_px_per_mm > 0 else 1.0
    spread = math.hypot(blur_px, 0.5 / k if k < 1 else 0.0) / f  # sampling softens like a ~half-pixel blur
    # a defocus disk or a shake spreads print wider than the Gaussian of the same edge energy: ``wide``
    pred = cv2.GaussianBlur(small, (0, 0), spread, borderType=cv2.BORDER_REPLICATE)
    if wide:
        pred = cv2.min(pred, cv2.GaussianBlur(small, (0, 0), 2 * spread, borderType=cv2.BORDER_REPLICATE))
    return pred, f


def _darker(norm: NDArray[np.float32], darker_than: float, halo: tuple[NDArray[np.float32], int] | None,
            within: Mask) -> Mask:
    """``norm < darker_than`` (× the print's blurred halo where there is one, `_print_halo`) inside
    ``within``: the halo is looked up only at the few pixels there darker than ``darker_than`` at all."""
    dark = (norm < darker_than) & within
    if halo is None:
        return dark
    pred, f = halo
    ys, xs = np.nonzero(dark)
    hs, ws = pred.shape
    lim = darker_than * pred[np.minimum(ys // f, hs - 1), np.minimum(xs // f, ws - 1)]
    drop = norm[ys, xs] >= lim
    dark[ys[drop], xs[drop]] = False
    return dark


def _stain_area(blot: Mask, q: float, min_mm2: float) -> float:
    """mm² of the components of ``blot`` (on a grid of ``q`` px/mm) of at least ``min_mm2``."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(blot.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA] / (q * q)
    return float(areas[areas >= min_mm2].sum())


def _any_in_cell(mask: Mask, size: tuple[int, int]) -> Mask:
    """``mask`` reduced to ``size`` (w, h): a cell is set when any pixel in it is. An integer reduction
    is a max filter sampled at the cell centres; any other, an area resize."""
    h, w = mask.shape[:2]
    f = h // size[1] if size[1] else 0
    u8 = mask.view(np.uint8) if mask.dtype == np.bool_ else (mask > 0).view(np.uint8)
    if f >= 1 and f % 2 == 1 and h == f * size[1] and w == f * size[0]:
        if f == 1:
            return mask.astype(bool)
        big = cv2.dilate(u8, np.ones((f, f), np.uint8))
        return np.ascontiguousarray(big[f // 2::f, f // 2::f]).view(np.bool_)
    return cv2.resize(u8 * np.uint8(255), size, interpolation=cv2.INTER_AREA) > 0


def _foreign_ink(rect: Rectified, layout: FormLayout, th: FormThresholds, size: tuple[int, int],
                 blur_px: float = 0.0) -> tuple[Mask, Mask]:
    """Dark marks that are neither print nor writing: outside every value box (grown by the pen's usual
    overrun), not on the master's print. A coffee ring, a blot, dirt on the labels and margins.

    Measured at the rectified resolution (thin rings stay visible), returned on the ``size`` grid
    (any foreign pixel in a cell marks it), closed so that a ring's fragments join. Second mask: the
    faint marks inside the value boxes that span several rows (``stain_span_mm``), on the same grid.
    """
    p = rect.px_per_mm
    allowed = rect.print_mask.copy()
    for f in layout.fields:
        x0, y0, x1, y1 = _mm_to_px(f.box, p, -th.stain_overrun_mm)
        allowed[max(0, y0):y1, max(0, x0):x1] = True
    # darker than the paper beyond its noise (low light is noisy): a foreign mark
    noise = rect.paper_noise
    darker_than = min(th.stain_mark_darker_than, 1.0 - th.stain_noise_sigmas * noise)
    halo = _print_halo(rect, blur_px)
    # on a blurred page the print spreads past its outline: a mark is darker than the blurred print explains
    dark = _darker(rect.norm, darker_than, halo, rect.valid & ~allowed)
    small = _any_in_cell(dark, size)
    if rect.warm is not None:
        # a warm tint (coffee, tea, rust, grease) on the paper anywhere: neither blue nor black pen shifts the
        # paper that way; pixels next to strong ink are left out (colour fringes of pen strokes), the tint is
        # smoothed over ~0.7 mm and specks narrower than ~1 mm are dropped (sensor chroma noise). On the
        # tint's own (half) grid.
        q = rect.warm_px_per_mm or p
        hs = rect.warm.shape[:2]
        wsize = (hs[1], hs[0])
        k = max(1, round(th.stain_warm_smooth_mm * q))
        strong = _any_in_cell(rect.norm < th.stain_ink_darker_than, wsize)
        near_ink = cv2.dilate(strong.astype(np.uint8),
                              np.ones((2 * round(th.stain_ink_reach_mm * q) + 1,) * 2, np.uint8)) > 0
        tint = cv2.blur(rect.warm, (k, k))
        m2, v2, n2 = _at(rect.master, hs), _at(rect.valid, hs), _at(rect.norm, hs)
        printed = _any_in_cell(rect.print_mask, wsize)
        # beyond the tint's own noise too (low light: strong chroma noise)
        sel = (m2 > 230) & v2 & (n2 > 0.8)
        ref = tint[::2, ::2][sel[::2, ::2]]
        t_noise = 1.4826 * float(np.median(np.abs(ref - np.median(ref)))) if ref.size else 0.0
        drop = max(th.stain_warm_drop, th.stain_noise_sigmas * t_noise)
        warm = (tint < 1.0 - drop) & v2 & ~printed & ~near_ink
        warm = ink.open_mask(warm, radius_px=max(1, round(th.stain_warm_min_width_mm * q / 2)))
        small |= _any_in_cell(warm, size)
    r = max(1, round(th.stain_join_mm * size[0] / layout.page_mm[0]))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)
    out = cv2.morphologyEx(small.astype(np.uint8), cv2.MORPH_CLOSE, k) > 0
    # inside the value boxes writing is expected, but writing keeps to its box: a mark that runs across box
    # lines into a span no line of writing has (a coffee ring over two rows) is foreign too
    spanning = np.zeros(out.shape, bool)
    if blur_px / p > th.stain_span_max_blur_mm:
        return out, spanning
    faint = min(th.stain_span_darker_than, 1.0 - th.stain_noise_sigmas * noise)
    boxes = allowed & ~rect.print_mask
    for f in layout.fields:
        if f.kind == "signature":
            x0, y0, x1, y1 = _mm_to_px(f.box, p)
            boxes[max(0, y0):y1, max(0, x0):x1] = False
    # (the σ halo alone: on the sharp pages looked at here, the wide one would cut a ring at every box line)
    halo = _print_halo(rect, blur_px, wide=False)
    inner = _darker(rect.norm, faint, halo, rect.valid & boxes)
    small = _any_in_cell(inner, size)
    joined = cv2.morphologyEx(small.astype(np.uint8), cv2.MORPH_CLOSE, k)
    n, labels_, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    span = th.stain_span_mm * size[0] / layout.page_mm[0]
    wide = [i for i in range(1, n) if min(stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]) >= span]
    if wide:
        spanning = np.isin(labels_, wide) & small
    return out, spanning


def _marker_missing(rect: Rectified, layout: FormLayout, corner: str, blur_px: float = 0.0) -> float:
    """Share of a corner marker's solid print that is not dark in the photo (torn off): 0 … 1. The print
    looked at keeps 1 px (and 2σ of the print's blur) away from its edges, where blur lightens it."""
    p = rect.px_per_mm
    x0, y0, x1, y1 = _mm_to_px(layout.markers.box_mm(corner), p)  # type: ignore[arg-type]
    m = rect.master[y0:y1, x0:x1] < 100
    e = 1 + round(2 * blur_px)
    m = cv2.erode(m.astype(np.uint8), np.ones((2 * e + 1, 2 * e + 1), np.uint8)) > 0
    v = rect.valid[y0:y1, x0:x1] & m
    if not v.any():
        return 0.0
    darkest = cv2.erode(rect.norm[y0:y1, x0:x1], np.ones((3, 3), np.uint8))
    return float(np.count_nonzero(v & (darkest > 0.6)) / np.count_nonzero(v))


def damage(rect: Rectified, layout: FormLayout, loc: FormLocation, th: FormThresholds,
           glare: Mask | None = None, blur_px: float = 0.0) -> Damage:
    """Stains, torn corners and creases, measured on the page reduced to ``damage_px_per_mm``.

    ``glare``: where glare hides the page (`glare_region`); with any, no broad dark patch is looked for.
    ``blur_px``: the print's blur (`Legibility.blur_px`): marks must be darker than the blurred print explains.
    """
    q = th.damage_px_per_mm
    f = q / rect.px_per_mm
    h, w = rect.gray.shape
    size = (max(1, round(w * f)), max(1, round(h * f)))
    gray = cv2.resize(rect.gray, size, interpolation=cv2.INTER_AREA)
    valid = cv2.resize(rect.valid.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    master = cv2.resize(rect.master, size, interpolation=cv2.INTER_AREA)
    printed = ink.print_mask(master, dilate_px=max(1, round(th.damage_print_dilate_mm * q)), darker_than=200)
    # torn corners: a corner square that does not look like the master there (paper where the master has
    # paper, dark where it has print), away from the print's edges (blur and misregistration live there)
    torn: list[str] = []
    fracs: dict[str, float] = {}
    c = round(th.torn_corner_mm * q)
    hh, ww = gray.shape
    skip = np.zeros_like(valid)
    m_ink = master < 128
    # print's edges (and their blur: 2σ of `Legibility.blur_px` further) are neither ink nor paper
    band = max(1, round(th.damage_print_dilate_mm * q + 2 * blur_px * q / rect.px_per_mm))
    kern = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1,) * 2)
    solid_ink = cv2.erode(m_ink.astype(np.uint8), kern) > 0
    solid_paper = cv2.erode((~m_ink).astype(np.uint8), kern) > 0
    # a corner whose marker was decoded is intact there: the tear would have taken the marker's print
    decoded = {h.marker_id for h in loc.markers}
    intact = {k for k, i in layout.markers.ids.items() if i in decoded}
    for name in CORNERS:
        if name in loc.corners_out or name in intact:
            continue
        ys = slice(0, c) if "top" in name else slice(hh - c, hh)
        xs = slice(0, c) if "left" in name else slice(ww - c, ww)
        ys2 = slice(0, 2 * c) if "top" in name else slice(hh - 2 * c, hh)
        xs2 = slice(0, 2 * c) if "left" in name else slice(ww - 2 * c, ww)
        ring = (valid & solid_paper)[ys2, xs2].copy()
        ring[(slice(0, c) if "top" in name else slice(c, 2 * c)),
             (slice(0, c) if "left" in name else slice(c, 2 * c))] = False
        v = valid[ys, xs] & (solid_ink[ys, xs] | solid_paper[ys, xs])
        if not ring.any() or v.sum() < 0.25 * v.size:
            continue
        level = float(np.median(gray[ys2, xs2][ring]))
        rel = gray[ys, xs].astype(np.float32) / max(level, 1.0)
        off = np.where(solid_ink[ys, xs], rel > th.torn_ink_above, np.abs(rel - 1.0) > th.torn_deviation)
        fr = float(np.count_nonzero(off & v) / max(1, np.count_nonzero(v)))
        fr = max(fr, _marker_missing(rect, layout, name, blur_px))
        fracs[name] = round(fr, 4)
        if fr >= th.torn_min_fraction:
            torn.append(name)
            skip[ys, xs] = True
    # stains: (1) broad dark patches on the paper at a large scale (thin print closed away; patches that run
    # along the page edge are shadows or lighting, not stains); (2) dark marks that are neither print nor
    # writing (`_foreign_ink`), away from the page edge
    big = ink.normalise_paper(gray, stroke_px=max(1, round(th.stain_scale_mm * q)))
    e = max(1, round(th.stain_edge_mm * q))
    edge = np.zeros_like(valid)
    edge[:e, :] = True
    edge[-e:, :] = True
    edge[:, :e] = True
    edge[:, -e:] = True
    edge |= cv2.dilate((~valid).astype(np.uint8), np.ones((2 * e + 1, 2 * e + 1), np.uint8)) > 0
    solid_print = cv2.erode((master < 128).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    solid_print = cv2.dilate(solid_print.astype(np.uint8), np.ones((2 * e + 1, 2 * e + 1), np.uint8)) > 0
    patch = ink.blotch_mask(big, stroke_px=max(1, round(th.stain_stroke_mm * q)),
                            darker_than=th.stain_darker_than, exclude=~valid | skip)
    n, labels_, stats, _ = cv2.connectedComponentsWithStats(patch.astype(np.uint8), connectivity=8)
    blot = np.zeros_like(valid)
    # a highlight's halo spreads far and makes the paper around it look dark: with glare on the page, broad
    # patches are not looked for (tinted and foreign marks still are)
    glared = glare is not None and bool(glare.any())
    ks = 2 * max(1, round(th.stain_stroke_mm * q)) + 1
    paper = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (ks, ks)))
    rr = max(1, round(th.stain_ring_mm * q))
    ring_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rr + 1,) * 2)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] / (q * q) < th.stain_min_area_mm2:
            continue
        comp = labels_ == i
        # length (mm) along the page edge: area in the edge band over the band's width
        if glared or np.count_nonzero(comp & edge) / (q * e) > th.stain_edge_contact_mm:
            continue
        # a stain is darker than the paper all around it; a shadow's edge has deeper shadow on one side
        ring = (cv2.dilate(comp.astype(np.uint8), ring_k) > 0) & ~comp & valid & ~printed
        if not ring.any():
            continue
        inside = float(np.median(paper[comp]))
        around = float(np.percentile(paper[ring], 10))
        if around > 0 and (around - inside) / around >= th.stain_ring_margin:
            blot |= comp & ~solid_print
    foreign, spanning = _foreign_ink(rect, layout, th, size, blur_px)
    blot |= foreign & valid & ~skip & ~edge
    spanning &= valid & ~skip & ~edge & ~blot
    exclude = printed | ~valid | skip
    crease = ink.crease_fraction(gray, stroke_px=max(1, round(th.stain_stroke_mm * q)),
                                 scale_px=th.crease_scale_mm * q, deviation=th.crease_deviation,
                                 exclude=exclude | blot)
    if crease >= th.crease_fraction_max:
        spanning[:] = False  # on crumpled paper the crease shading spans rows: no ring told from it
    # the stain area the other tests found on their own (the row-spanning test never makes a stain certain)
    sure_area = _stain_area(blot, q, th.stain_min_area_mm2) if spanning.any() else None
    blot |= spanning
    stains: list[tuple[float, float, float, float]] = []
    total = 0.0
    n, labels_, stats, _ = cv2.connectedComponentsWithStats(blot.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        a = stats[i, cv2.CC_STAT_AREA] / (q * q)
        if a >= th.stain_min_area_mm2:
            x, y, bw, bh = (stats[i, k] / q for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH,
                                                     cv2.CC_STAT_HEIGHT))
            stains.append((x, y, bw, bh))
            total += a
    if sure_area is None:
        sure_area = total
    return Damage(stains=stains, stain_area_mm2=total, torn=torn, torn_fractions=fracs,
                  crease=crease if crease >= th.crease_fraction_max else -crease,
                  stain_span_mm2=total - sure_area)


# ------------------------------------------------------------------------------------------ the inspector


_NAMES_ZH = {"top_left": "左上角", "top_right": "右上角", "bottom_right": "右下角", "bottom_left": "左下角",
             "top": "上边", "right": "右边", "bottom": "下边", "left": "左边"}
_CAUSE_ZH = {"blur": "模糊", "dark": "过暗", "overexposed": "过曝", "low_contrast": "对比度过低",
             "glare": "反光"}
_CAUSE_EN = {"blur": "blurred", "dark": "too dark", "overexposed": "overexposed",
             "low_contrast": "too low in contrast", "glare": "glare"}


def _conf(value: float, threshold: float, certain_at: float) -> float:
    """0.6 at the threshold rising to 0.99 at ``certain_at`` (either side of the threshold)."""
    span = abs(threshold - certain_at)
    if span <= 0:
        return 0.95
    return float(min(0.99, 0.6 + 0.39 * min(1.0, abs(value - threshold) / span)))


class _Ctx:
    """Maps layout mm to full-size photo px and builds findings for one photo."""

    def __init__(self, photo: DecodedPhoto, ctx: PhotoContext, loc: FormLocation) -> None:
        self.ctx = ctx
        self.photo = photo
        self.f = photo.width / loc.preview_shape[1] if loc.preview_shape[1] else 1.0
        self.H = loc.H

    def quad_px(self, box: tuple[float, float, float, float]) -> NDArray[np.float64]:
        assert self.H is not None
        return geo.project(self.H, geo.box_to_quad(box)) * self.f

    def box_px(self, box: tuple[float, float, float, float]) -> list[int]:
        return [round(v) for v in geo.bounding_box(self.quad_px(box))]

    def finding(self, check: str, zh: str, en: str, hint_zh: str, hint_en: str, evidence: dict[str, Any],
                confidence: float = 0.95, certain: bool = True) -> Finding:
        return Finding(check=check, slot=self.ctx.slot, photo=self.ctx.file, evidence=evidence,
                       message_zh=zh, message_en=en, hint_zh=hint_zh, hint_en=hint_en,
                       confidence=confidence, certain=certain)


def _preview_clarity(g: Gray, th: FormThresholds) -> tuple[float, float, float]:
    """(blur width px, mean grey, saturated fraction) of the detection preview: is it a usable photo at all.

    The blur width is the worst gradient direction's 5th-percentile edge width (`sharpness.edge_field`):
    a sharp photo has some crisp edges in every direction; defocus widens all of them, motion blur those
    across its direction. 0 when the preview has no edges at all (blank, black, burnt out).
    """
    from wocheck.metrics.sharpness import edge_field

    level = float(g.mean()) if g.size else 0.0
    sat = ink.saturated_fraction(g, saturated_at=th.saturated_at)
    widths, _ = edge_field(g).directional_widths(th.not_form_direction_bins, min_edges=th.not_form_min_edges,
                                                 q=th.not_form_width_percentile)
    finite = widths[np.isfinite(widths)]
    return (float(finite.max()) if finite.size else 0.0), level, sat


def inspect_form(photo: DecodedPhoto, ctx: PhotoContext) -> InspectorOutput:
    """The service-form inspector: ``(photo, ctx) -> InspectorOutput`` (see the module docstring)."""
    t0 = time.perf_counter()
    th = ctx.cfg.thresholds("form", FormThresholds)
    layout = layout_for(ctx.cfg)
    order_type = ctx.order.order_type if ctx.order is not None else None
    imgs = form_images(photo, th)
    loc = locate_form(imgs, layout, th)
    m: dict[str, Any] = {"form_id": layout.form_id, "method": loc.method,
                         "markers": [h.marker_id for h in loc.markers]}
    c = _Ctx(photo, ctx, loc)
    findings: list[Finding] = []
    ann: list[Annotation] = []
    for h in loc.markers:
        ann.append(Annotation("polygon", tuple((float(x) * c.f, float(y) * c.f) for x, y in h.corners),
                              label=f"aruco {h.marker_id}", ok=True))
    if not loc.found:
        width, level, sat = _preview_clarity(imgs.det, th)
        m.update(outline_match=loc.outline_match, preview_blur_width_px=round(width, 2),
                 preview_level=round(level, 1), preview_saturated=round(sat, 4))
        clear = 0 < width <= th.not_form_blur_width_max and level >= th.not_form_level_min and \
            sat < th.overexposed_saturated_min
        certain = clear and not loc.markers and width <= th.not_form_blur_width_certain and (
            loc.outline_match is None or loc.outline_match < th.not_form_certain_match)
        if clear:
            findings.append(c.finding(
                "form.not_a_form", "服务单照片中未找到《售后服务单》",
                "No service form found in the service-form photo",
                "请上传本工单的纸质服务单照片", "Upload a photo of this order's paper service form",
                {"markers_found": len(loc.markers), "outline_match": loc.outline_match,
                 "threshold": th.outline_match_min, "preview_blur_width_px": round(width, 2),
                 "threshold_blur_width_px": th.not_form_blur_width_max},
                confidence=0.95 if certain else 0.7, certain=certain))
        else:
            cause = "dark" if level < th.not_form_level_min else (
                "overexposed" if sat >= th.overexposed_saturated_min else "blur")
            # certain only far from the line between a blurred form and a sharp photo of something else
            sure = (cause == "dark" and level < th.paper_level_certain / 2) or \
                (cause == "overexposed" and sat >= th.unlocated_overexposed_certain) or \
                (cause == "blur" and width >= th.unlocated_blur_width_certain)
            findings.append(c.finding(
                "form.illegible", f"服务单照片{_CAUSE_ZH[cause]}，无法辨认，找不到表单",
                f"Service form photo {_CAUSE_EN[cause]}: unreadable, the form can't be located",
                "请在光线充足处对焦后重拍服务单", "Retake the form photo in good light, in focus",
                {"cause": cause, "located": False, "preview_blur_width_px": round(width, 2),
                 "preview_level": round(level, 1), "preview_saturated": round(sat, 4),
                 "threshold_blur_width_px": th.not_form_blur_width_max, "threshold_level": th.not_form_level_min},
                confidence=0.95 if sure else 0.7, certain=sure))
        m["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return InspectorOutput(findings=tuple(findings), measurements=m, annotations=tuple(ann),
                               data={"form": {"found": False}})

    quad_full = loc.page_quad * c.f if loc.page_quad is not None else None
    in_frame_ok = loc.in_frame >= th.in_frame_min and not loc.corners_out
    m.update(in_frame=round(loc.in_frame, 4), corners_out=list(loc.corners_out), edges_cut=list(loc.edges_cut),
             rotation_deg=round(loc.rotation_deg, 1), outline_match=loc.outline_match)
    if quad_full is not None:
        ann.append(Annotation("polygon", tuple((float(x), float(y)) for x, y in quad_full),
                              label="page", ok=in_frame_ok))
    if not in_frame_ok:
        where_zh = "、".join(_NAMES_ZH[n] for n in (loc.corners_out or loc.edges_cut)) or "边缘"
        where_en = ", ".join(loc.corners_out or loc.edges_cut) or "an edge"
        findings.append(c.finding(
            "form.out_of_frame", f"服务单未拍全：{where_zh}在画面外（{loc.in_frame:.0%} 在画面内）",
            f"Service form not wholly in the frame: {where_en} cut off ({loc.in_frame:.0%} inside)",
            f"重拍服务单：{where_zh}未拍全，整张表单须在画面内",
            f"Retake the form with the whole page in the frame ({where_en} cut off)",
            {"in_frame": round(loc.in_frame, 4), "threshold": th.in_frame_min, "corners_out": list(loc.corners_out),
             "edges_cut": list(loc.edges_cut)},
            confidence=_conf(loc.in_frame, th.in_frame_min, th.in_frame_min - 0.1)))

    rect = rectify(imgs, loc, layout, th)
    leg = legibility(rect, layout, th)
    if "blur" in leg.causes and leg.sharpness >= th.sharpness_min / th.ocr_band \
            and not {"dark", "overexposed"} & set(leg.causes):
        # borderline blur: the printed labels read by OCR decide (a second, slower signal)
        o = ocr_labels(rect, layout, th)
        m["ocr_labels"] = o
        if o["tried"]:
            if o["read"] / o["tried"] >= th.ocr_read_min:
                leg.causes.remove("blur")  # the labels read fine: the pixel measure was too strict
                leg.certain = not leg.causes or leg.certain
            else:
                leg.certain = True  # both signals agree
    page_glare = glare_region(rect, th)
    fields = completeness(rect, layout, order_type, th, page_glare)
    m.update(sharpness=round(leg.sharpness, 4), paper_level=round(leg.paper_level, 1),
             contrast=round(leg.contrast, 4), saturated=round(leg.saturated, 4), align_shift_px=list(rect.shift_px),
             px_per_mm=rect.px_per_mm)
    # with the page cut off, the homography rests on the markers of one side: the far side is too loosely
    # registered to tell burnt-out print or stains from misregistration
    registered = in_frame_ok and len(loc.markers) >= 3 or loc.method == "outline" and in_frame_ok
    glared = [fr for fr in fields if fr.hidden_by_glare and fr.in_frame] if registered else []
    spec = {f.key: f for f in layout.fields}
    any_glare = bool(page_glare.any())
    dmg = damage(rect, layout, loc, th, page_glare, leg.blur_px) if not leg.causes and registered \
        else Damage([], 0.0, [], {}, 0.0)
    if leg.causes:
        cause = leg.causes[0]
        zh = "、".join(_CAUSE_ZH[x] for x in leg.causes)
        en = ", ".join(_CAUSE_EN[x] for x in leg.causes)
        hidden = [f.key for f in layout.fields if f.required_for(order_type)]
        conf = {"blur": _conf(leg.sharpness, th.sharpness_min, th.sharpness_certain),
                "dark": _conf(leg.paper_level, th.paper_level_min, th.paper_level_certain)}.get(cause, 0.9)
        findings.append(c.finding(
            "form.illegible", f"服务单照片{zh}，无法辨认", f"Service form photo {en}: can't be read",
            "请在光线充足处对焦、避免反光后重拍服务单", "Retake the form in even light, in focus, without glare",
            {"cause": cause, "causes": leg.causes, "sharpness": round(leg.sharpness, 4),
             "threshold_sharpness": th.sharpness_min, "paper_level": round(leg.paper_level, 1),
             "threshold_paper_level": th.paper_level_min, "contrast": round(leg.contrast, 4),
             "threshold_contrast": th.contrast_min, "saturated": round(leg.saturated, 4),
             "fields_hidden": hidden},
            confidence=conf, certain=leg.certain))
    elif glared:
        keys = [fr.key for fr in glared]
        findings.append(c.finding(
            "form.illegible", f"服务单反光，遮住：{'、'.join(fr.label for fr in glared)}",
            f"Glare on the service form hides: {', '.join(keys)}",
            "避开灯光反射，重拍服务单", "Retake the form without light reflections on it",
            {"cause": "glare", "fields_hidden": keys,
             "glare_fraction": {fr.key: round(fr.glare_fraction, 3) for fr in glared},
             "threshold": th.glare_field_fraction, "boxes_px": [c.box_px(spec[k].box) for k in keys]},
            # damaged (crumpled, stained) paper throws highlights and warps the print off the master
            confidence=0.9 if not dmg.kinds else 0.7, certain=not dmg.kinds))

    judge_fields = not leg.causes
    # a page in the borderline-blur band (by its sharpness, or by how far its print is smeared) is legible,
    # but its damage is for a reviewer
    blurred = leg.sharpness < th.ocr_band * th.sharpness_min or \
        leg.blur_px / th.px_per_mm > th.damage_certain_max_blur_mm
    for fr in fields:
        f = spec[fr.key]
        ok = fr.filled or not fr.required
        touched = fr.glare_fraction >= th.glare_judge_max  # partly under glare: not judged blank
        if fr.required and judge_fields and fr.in_frame and not touched and not fr.filled:
            # with glare on the page, its halo may wash out writing beyond the burnt-out print: review
            findings.append(_blank_finding(c, f, fr, th, sure=not any_glare))
            ok = False
        if not fr.in_frame or fr.hidden_by_glare or not judge_fields:
            ok = fr.filled or not fr.required
        good = ok and fr.in_frame and not fr.hidden_by_glare
        ann.append(Annotation("polygon", tuple((float(x), float(y)) for x, y in c.quad_px(f.box)),
                              label="" if good else f.key, ok=good))
    m["fields"] = {fr.key: fr.to_json() for fr in fields}

    m.update(stains_mm=[[round(v, 1) for v in s] for s in dmg.stains], stain_area_mm2=round(dmg.stain_area_mm2, 1),
             stain_span_mm2=round(dmg.stain_span_mm2, 1), blur_px=round(leg.blur_px, 2),
             torn_corners=dmg.torn, torn_fractions=dmg.torn_fractions, crease_fraction=round(abs(dmg.crease), 4))
    if dmg.kinds:
        zh_k = {"stain": "污渍", "torn": "缺角/撕破", "crumpled": "褶皱"}
        kinds_zh = "、".join(zh_k[k] for k in dmg.kinds)
        boxes = [c.box_px(s) for s in dmg.stains]
        for s in dmg.stains:
            ann.append(Annotation("box", _as_pairs(c.box_px(s)), label="stain", ok=False))
        for corner in dmg.torn:
            ann.append(Annotation("polygon", tuple((float(x), float(y)) for x, y in
                                                  c.quad_px(_corner_box(layout, corner, th.torn_corner_mm))),
                                  label="torn", ok=False))
        where = [*dmg.stains, *(_corner_box(layout, k, th.torn_corner_mm) for k in dmg.torn)]
        pts = np.concatenate([c.quad_px(b) for b in where]) if where else np.zeros((0, 2))
        damaged_box = [round(v) for v in geo.bounding_box(pts)]
        # blur smears print (the title, the markers) beyond the master's outline, where it reads as stains
        # and missing marker print: on a page in the borderline-blur band, damage goes to review
        sure = not any_glare and not blurred and (
                dmg.stain_area_mm2 - dmg.stain_span_mm2 >= th.damage_certain_factor * th.stain_min_area_mm2
                or any(dmg.torn_fractions.get(k, 0) >= th.damage_certain_factor * th.torn_min_fraction
                       for k in dmg.torn)
                or dmg.crease >= th.damage_certain_factor * th.crease_fraction_max)
        findings.append(c.finding(
            f"form.damaged.{dmg.kinds[0]}", f"服务单有{kinds_zh}", f"Service form is damaged: {', '.join(dmg.kinds)}",
            "请使用完好、整洁的服务单", "Use an intact, clean service form",
            {"kinds": dmg.kinds, "stain_boxes_px": boxes, "box_px": damaged_box,
             "stain_area_mm2": round(dmg.stain_area_mm2, 1),
             "threshold_stain_area_mm2": th.stain_min_area_mm2, "torn_corners": dmg.torn,
             "torn_fractions": dmg.torn_fractions, "threshold_torn": th.torn_min_fraction,
             "crease_fraction": round(abs(dmg.crease), 4), "threshold_crease": th.crease_fraction_max},
            confidence=0.95 if sure else 0.75, certain=sure))
    m["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    data = {"form": {"found": True, "filled": {fr.key: fr.filled for fr in fields},
                     "ticked": {fr.key: fr.ticked for fr in fields if fr.kind == "choice"}}}
    return InspectorOutput(findings=tuple(findings), measurements=m, annotations=tuple(ann), data=data)


def _as_pairs(box: list[int]) -> tuple[tuple[float, float], tuple[float, float]]:
    x, y, w, h = box
    return ((float(x), float(y)), (float(x + w), float(y + h)))


def _corner_box(layout: FormLayout, corner: str, size: float) -> tuple[float, float, float, float]:
    w, h = layout.page_mm
    x = 0.0 if "left" in corner else w - size
    y = 0.0 if "top" in corner else h - size
    return (x, y, size, size)


def _blank_finding(c: _Ctx, f: FieldSpec, fr: FieldResult, th: FormThresholds, *, sure: bool = True) -> Finding:
    if f.kind == "choice":
        check, thr = "form.no_tick", th.tick_ink_min
        zh, en = f"服务单“{f.label}”未勾选", f"Service form: nothing ticked in {f.key}"
        hz, he = f"请在“{f.label}”栏勾选一项", f"Tick one option of {f.key}"
    elif f.kind == "signature":
        check, thr = "form.no_signature", th.signature_ink_min
        zh, en = f"服务单“{f.label}”栏为空", f"Service form: {f.key.replace('_', ' ')} is blank"
        hz, he = "请客户在服务单上签字后重拍", "Have the customer sign the form, then retake it"
    else:
        check, thr = "form.field_blank", th.text_ink_min
        zh, en = f"服务单“{f.label}”栏为空", f"Service form: {f.key} is blank"
        hz, he = f"请填写“{f.label}”后重拍服务单", f"Fill in {f.key}, then retake the form photo"
    # light pen on washed-out paper can fall short of the ink darkness: a blank is certain only when the
    # looser look (faint_ink_darker_than) finds no ink either
    faint = fr.faint_ratio if f.kind != "choice" else fr.ink_ratio
    certain = sure and max(fr.ink_ratio, faint) < th.blank_certain_factor * thr
    return c.finding(check, zh, en, hz, he,
                     {"field": f.key, "ink_ratio": round(fr.ink_ratio, 5), "faint_ink_ratio": round(faint, 5),
                      "threshold": thr, "strokes": fr.strokes,
                      "box_px": c.box_px(f.box)},
                     confidence=0.97 if certain else 0.75, certain=certain)

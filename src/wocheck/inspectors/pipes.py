"""Pipe neatness on the 45° pipeline photo (clause 46): are the runs straight and square (横平竖直)?

Clarity and recognisability of the same photo are `wocheck.inspectors.scenes` (registered on the slot
too); this inspector judges only the tubing, and only on a photo where tubing can be judged.

How (pure functions in `wocheck.metrics.lines`, on the shared colour preview brought to one analysis scale):

1. the tubing: long thin bodies, bright, dark or coloured, narrower than a tube's maximum width
   (morphological top-hats), with the thinner-than-a-tube lines (vents, seams, rims) opened away; cabinet
   walls, the machine's sides and wide drain pipes give no response;
2. their outlines as straight segments (LSD): a straight run gives a few long segments, a curve, sag or loop
   many short ones turning through every direction;
3. the dominant directions the runs follow (up to three: the vertical and the two vanishing directions of a
   45° view, whatever they are in this photo) and the share of tube length that follows them — the
   neatness score, in [0, 1]: square runs ≈ 1, loops and sags far less. Loops the mask closes (holes) and
   the number of runs are reported as evidence.

A score below the review threshold is a ``pipes.messy`` finding; below the violation threshold it is
certain, between the two a reviewer decides. The runs are drawn for the reviewer: green where they follow a
dominant direction, red where they don't.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from pydantic import Field

from wocheck.inspectors.bands import Band, Strict, for_unrequired_slot, slot_required
from wocheck.inspectors.base import Annotation, InspectorOutput, PhotoContext
from wocheck.metrics._image import as_gray_float
from wocheck.metrics.exposure import luminance_percentile
from wocheck.metrics.lines import (
    aligned_share,
    angular_distance,
    chain_segments,
    detect_segments,
    dominant_directions,
    enclosed_holes,
    segment_angles,
    segment_lengths,
    thin_body_response,
)
from wocheck.records import Finding

if TYPE_CHECKING:
    from wocheck.io.images import DecodedPhoto

THRESHOLDS_NAME = "pipes"


class PipesThresholds(Strict):
    """Thresholds of the pipe-neatness inspector (models/thresholds/pipes.toml; calibrated by
    scripts/calibration/scenes.py, whose provenance the file records)."""

    # -- analysis scale and measure parameters (choices, not calibrated) --
    analysis_side: int = Field(ge=200, le=4000)  # px: long side of the analysed colour image
    preview_side: int = Field(ge=200, le=4000)  # px: the shared colour preview asked of the photo
    tube_max_width: float = Field(gt=0, lt=0.2)  # fraction of the long side: widest tube (wider: no tube)
    tube_min_width: float = Field(ge=0, lt=0.2)  # fraction of the long side: thinner lines are no tube
    response_min: int = Field(ge=1, le=255)  # thin-body response (0-255) that makes a tube pixel
    segment_min_length: float = Field(gt=0, lt=1)  # fraction of the long side: shorter segments dropped
    direction_tol_deg: float = Field(gt=0, le=45)  # a run follows a direction within this many degrees
    direction_separation_deg: float = Field(gt=0, le=90)  # two dominant directions at least this far apart
    max_directions: int = Field(ge=1, le=6)  # dominant directions allowed (vertical + two vanishing)
    chain_gap: float = Field(ge=0, lt=0.2)  # fraction of the long side: segment ends this close form a run
    hole_min_area: float = Field(ge=0, lt=1)  # fraction of the frame: a loop's enclosed area to count
    run_aligned_share: float = Field(ge=0, le=1)  # a drawn run is green when this share follows a direction
    max_runs_drawn: int = Field(ge=0)  # runs drawn for the reviewer (longest first)
    # -- judgeability (calibrated): below these the photo's tubing is not judged --
    min_tube_length: float = Field(ge=0)  # total tube outline length / long side
    min_luminance_p95: float = Field(ge=0, le=1)  # too dark a photo shows noise, not tubes
    # -- the neatness band (calibrated): aligned share of tube length, bad below --
    neatness: Band


@dataclass(frozen=True)
class TubeAnalysis:
    """What `analyse_tubing` found; px in the analysed image (``scale_to_full`` multiplies to full size)."""

    judged: bool
    reason: str
    neatness: float
    tube_length: float  # total outline length / long side
    segments: int
    directions_deg: list[float]
    direction_shares: list[float]
    holes: int
    luminance_p95: float
    scale_to_full: float
    runs: list[tuple[list[tuple[float, float]], bool]] = field(default_factory=list)  # (points full px, ok)

    def measurements(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("runs")
        d["runs"] = len(self.runs)
        return d


def _analysis_bgr(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    k = side / max(h, w, 1)
    if k >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)


def analyse_tubing(bgr: np.ndarray, full_long_side: int, th: PipesThresholds) -> TubeAnalysis:
    """Find the tubing in a colour image (any size, BGR) and score how square its runs are."""
    img = _analysis_bgr(np.asarray(bgr), th.analysis_side)
    long_side = max(img.shape[:2]) if img.size else 1
    to_full = full_long_side / long_side
    p95 = luminance_percentile(img, 95)
    if img.size == 0:
        return TubeAnalysis(judged=False, reason="empty image", neatness=0.0, tube_length=0.0, segments=0,
                            directions_deg=[], direction_shares=[], holes=0, luminance_p95=p95,
                            scale_to_full=round(to_full, 4))
    resp = thin_body_response(img, max_width_px=max(3, round(th.tube_max_width * long_side)))
    k_min = round(th.tube_min_width * long_side)
    if k_min >= 2:
        resp = cv2.morphologyEx(resp, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k_min, k_min)))
    mask = ((resp >= th.response_min) * 255).astype(np.uint8)
    segs = detect_segments(mask, min_length_px=th.segment_min_length * long_side)
    lengths = segment_lengths(segs)
    angles = segment_angles(segs)
    total = float(lengths.sum()) / long_side
    dirs = dominant_directions(angles, lengths, k=th.max_directions, tol_deg=th.direction_tol_deg,
                               separation_deg=th.direction_separation_deg)
    directions = [d for d, _ in dirs]
    score = aligned_share(angles, lengths, directions, tol_deg=th.direction_tol_deg)
    holes = enclosed_holes(mask, min_area_px=th.hole_min_area * mask.size)
    runs: list[tuple[list[tuple[float, float]], bool]] = []
    if len(segs) and directions:
        chains = chain_segments(segs, max_gap_px=th.chain_gap * long_side)
        chains.sort(key=lambda c: -float(np.hypot(*np.diff(c, axis=0).T).sum()) if len(c) > 1 else 0.0)
        for c in chains[: th.max_runs_drawn]:
            if len(c) < 2:
                continue
            d = np.diff(c, axis=0)
            seg_len = np.hypot(d[:, 0], d[:, 1])
            seg_ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180.0
            near = np.min(np.stack([angular_distance(seg_ang, x) for x in directions]), axis=0)
            ok_share = float(seg_len[near <= th.direction_tol_deg].sum()) / max(float(seg_len.sum()), 1e-9)
            pts = [(round(float(x) * to_full, 1), round(float(y) * to_full, 1)) for x, y in c]
            runs.append((pts, ok_share >= th.run_aligned_share))
    judged, reason = True, ""
    if p95 < th.min_luminance_p95:
        judged, reason = False, "too dark to judge the tubing"
    elif total < th.min_tube_length:
        judged, reason = False, "no tubing found"
    return TubeAnalysis(judged=judged, reason=reason, neatness=round(score, 4), tube_length=round(total, 3),
                        segments=len(segs), directions_deg=[round(d, 1) for d in directions],
                        direction_shares=[round(s, 3) for _, s in dirs], holes=holes,
                        luminance_p95=round(p95, 4), scale_to_full=round(to_full, 4), runs=runs)


def judge_tubing(t: TubeAnalysis, th: PipesThresholds, ctx: PhotoContext) -> list[Finding]:
    """A ``pipes.messy`` finding when the judged tubing's neatness is below the band."""
    if not t.judged:
        return []
    level = th.neatness.level(t.neatness)
    if level is None:
        return []
    spec = ctx.cfg.slots[ctx.slot]
    return [Finding(
        check="pipes.messy", slot=ctx.slot, photo=ctx.file,
        message_zh=f"{spec.zh}：管线走向杂乱，未做到横平竖直（{t.neatness:.0%}的管线沿主方向）",
        message_en=f"{spec.en.capitalize()}: the tubing is messy, not straight and square "
                   f"({t.neatness:.0%} of it follows the main directions)",
        hint_zh="整理管线：剪去多余管段，横平竖直走管并用管卡固定，然后重拍",
        hint_en="Tidy the tubing: cut surplus lengths, run it straight and square with clips, then retake",
        confidence=round(th.neatness.confidence(t.neatness), 3), certain=level == "violation",
        evidence={"measure": "aligned_share_of_tube_length", "value": t.neatness,
                  "threshold": th.neatness.violation if level == "violation" else th.neatness.review,
                  "review_threshold": th.neatness.review, "violation_threshold": th.neatness.violation,
                  "bad_when": "below", "directions_deg": t.directions_deg, "direction_shares": t.direction_shares,
                  "tube_length": t.tube_length, "segments": t.segments, "loops": t.holes,
                  "messy_runs": sum(1 for _, ok in t.runs if not ok)})]


def inspect_pipes(photo: DecodedPhoto, ctx: PhotoContext) -> InspectorOutput:
    """Neatness of the tubing on a 45° pipeline photo."""
    th = ctx.cfg.thresholds(THRESHOLDS_NAME, PipesThresholds)
    t = analyse_tubing(photo.preview_bgr(th.preview_side), max(photo.width, photo.height), th)
    findings = judge_tubing(t, th, ctx)
    if not slot_required(ctx):
        findings = [for_unrequired_slot(f) for f in findings]
    anns: list[Annotation] = []
    labelled = False
    for pts, ok in t.runs:  # colour tells straight (green) from messy (red); one label is enough
        label = "" if ok or labelled else "messy / 杂乱"
        labelled = labelled or not ok
        anns.append(Annotation("polyline", tuple(pts), label, ok=ok))
    return InspectorOutput(findings=tuple(findings), measurements=t.measurements(), annotations=tuple(anns))


def neatness_of(bgr_or_gray: np.ndarray, th: PipesThresholds) -> float:
    """The neatness score alone (for calibration and tests): aligned share of tube length, in [0, 1]."""
    a = np.asarray(bgr_or_gray)
    if a.ndim == 2:
        a = cv2.cvtColor(np.round(as_gray_float(a) * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    return analyse_tubing(a, max(a.shape[:2]), th).neatness

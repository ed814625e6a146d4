"""Scene photos (clauses 46, 47, 48): is the photo clear, and does it show anything recognisable?

For the 45° pipeline photo, the household install-environment and running-machine photos and the
commercial overall-machine and fault-part photos. The slot gives the clause (config ``[slots]``): 46 for
``pipeline_45``, 47 for ``install_env``/``machine_running`` (household), 48 for ``machine_overall``/
``fault_part`` (commercial). Pipe neatness is `wocheck.inspectors.pipes`.

What is measured (pure functions in `wocheck.metrics`), on the shared grey preview brought to one
analysis scale so that every px measure compares between photos of any resolution:

- sharpness: edge width (px at the analysis scale) of the sharpest edges in each gradient direction, per
  tile; a tile reads its worst direction, the photo a low percentile over the tiles: a sharp subject in
  front of a soft background passes, a shaken photo does not (its motion direction is wide in every tile),
  nor a defocused one; motion blur is told from defocus by how much wider one direction is than another;
- exposure: luminance percentiles and clipped fractions on a smaller copy (fractions don't depend on
  resolution); glare: the largest saturated blob that fades out through a bright halo (a white object
  ends at a crisp outline instead);
- resolution: the photo's own pixel size;
- recognisability: the share of tiles with contrasted edges in them (edge density and histogram entropy
  as evidence): a covered lens, a blank wall, a uniform frame or an extreme close-up has almost none.

Each finding names the measure that failed, its value and threshold; a value between the review and the
violation threshold is reported with ``certain=False`` (a reviewer decides).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from wocheck.inspectors.bands import Band, Strict, for_unrequired_slot, slot_required
from wocheck.inspectors.base import Annotation, InspectorOutput, PhotoContext
from wocheck.metrics._image import to_analysis_scale
from wocheck.metrics.exposure import clipped_fractions, entropy_bits, glare_blobs, luminance_percentile
from wocheck.metrics.sharpness import (
    anisotropy_of,
    directional_blur_width,
    edge_field,
    percentile_or,
    tile_directional_blur,
)
from wocheck.records import Finding

if TYPE_CHECKING:
    from wocheck.io.images import DecodedPhoto

THRESHOLDS_NAME = "scenes"


class ScenesThresholds(Strict):
    """Thresholds of the scene inspector (models/thresholds/scenes.toml; calibrated by
    scripts/calibration/scenes.py, whose provenance the file records)."""

    # -- analysis scale and measure parameters (choices, not calibrated) --
    analysis_side: int = Field(ge=200, le=4000)  # px: long side at which every px measure is taken
    preview_side: int = Field(ge=200, le=4000)  # px: the shared preview asked of the photo (cache)
    exposure_side: int = Field(ge=64, le=2000)  # px: long side of the copy exposure fractions are taken on
    edge_radius_px: int = Field(ge=2, le=30)  # px at analysis scale: local-contrast window radius
    edge_min_contrast: float = Field(gt=0, lt=1)  # [0, 1] grey: weakest edge counted as structure
    blur_min_contrast: float = Field(gt=0, lt=1)  # [0, 1] grey: weakest edge whose width judges blur
    blur_bins: int = Field(ge=2, le=36)  # gradient-direction bins (blur of the worst direction, motion)
    blur_percentile: float = Field(ge=0, le=100)  # per bin: this percentile of edge widths (sharpest edges)
    blur_min_edges: int = Field(ge=1)  # edges a direction bin needs to be measured ...
    blur_min_share: float = Field(ge=0, le=1)  # ... and this share of all edges (whole-frame measure)
    blur_tile_min_edges: int = Field(ge=1)  # per tile: edges a direction bin needs
    blur_tile_percentile: float = Field(ge=0, le=100)  # the photo's blur: this percentile over the tiles
    motion_bins: int = Field(ge=4, le=36)  # gradient-direction bins for motion vs defocus (narrow: ≤ 22.5°)
    motion_min_edges: int = Field(ge=1)  # edges a direction bin needs for motion vs defocus
    structure_grid: tuple[int, int]  # rows, cols of the structure tiles
    structure_tile_min_edges: int = Field(ge=1)  # edge pixels that make a tile "structured"
    glare_saturated_at: float = Field(gt=0, le=1)  # [0, 1] grey: a saturated pixel
    glare_halo_px: int = Field(ge=1, le=50)  # px at exposure scale: ring around a saturated blob
    glare_blobs: int = Field(ge=1, le=20)  # largest saturated blobs looked at for glare
    # -- calibrated thresholds (value -> review / violation) --
    blur_width_px: Band  # worst direction's sharp-edge width (px at analysis scale), bad above
    motion_anisotropy: float = Field(ge=1)  # widest/narrowest direction ratio: the blur is motion above it
    dark_p95: Band  # 95th percentile luminance [0, 1], bad below: even the highlights are dark
    overexposed_clip: Band  # fraction of pixels clipped white [0, 1], bad above
    glare_halo_min: float = Field(ge=0, le=1)  # ring mean grey [0, 1]: a blob fading out this bright is glare
    glare_area: Band  # largest glare blob, fraction of the frame, bad above (when not overexposed)
    structure_tiles: Band  # fraction of tiles with structure (edges) [0, 1], bad below
    min_short_side_px: Band  # the photo's short side in px, bad below
    # Per-slot overrides of the calibrated bands, e.g. {"fault_part": {"blur_width_px": {...}}}.
    slots: dict[str, dict[str, Band]] = Field(default_factory=dict)

    def band(self, name: str, slot: str) -> Band:
        override = self.slots.get(slot, {}).get(name)
        return override if override is not None else getattr(self, name)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SceneMeasures:
    """What `measure_scene` found (JSON-able through ``asdict``); px values at the analysis scale."""

    width: int
    height: int
    analysed_side: int
    blur_width_px: float  # the sharpest regions' worst-direction edge width
    frame_blur_width_px: float  # the whole frame's worst-direction edge width
    median_width_px: float  # the whole frame's median edge width
    motion_anisotropy: float
    motion_direction_deg: float  # gradient direction of the widest edges (the motion's), 0 = horizontal
    edges: int
    edge_density: float
    structure_tiles: float
    luminance_p05: float
    luminance_p50: float
    luminance_p95: float
    clip_dark: float
    clip_bright: float
    glare_area: float  # the largest saturated blob with a bright halo (glare), fraction of the frame
    glare_halo: float  # that blob's halo (or the largest blob's when none is glare), grey [0, 1]
    saturated_area: float  # the largest saturated blob, glare or not
    glare_box_px: list[float] | None  # full-size px
    entropy_bits: float
    sharpest_tile_box_px: list[float] | None  # full-size px


def measure_scene(gray: np.ndarray, width: int, height: int, th: ScenesThresholds) -> SceneMeasures:
    """Measure a scene photo's grey preview ``gray`` (any size) of a ``width``×``height`` photo."""
    a = to_analysis_scale(gray, th.analysis_side)
    long_a = max(a.shape) if a.size else 1
    # px measures taken on an image smaller than the analysis scale read in analysis-scale px
    px_scale = th.analysis_side / long_a if long_a < th.analysis_side else 1.0
    to_full = max(width, height) / long_a
    f = edge_field(a, radius=th.edge_radius_px, min_contrast=th.edge_min_contrast)
    fb = f.stronger_than(th.blur_min_contrast)
    frame_blur = directional_blur_width(fb, bins=th.blur_bins, min_edges=th.blur_min_edges,
                                        q=th.blur_percentile, min_share=th.blur_min_share)
    tiles = tile_directional_blur(fb, th.structure_grid, bins=th.blur_bins, min_edges=th.blur_tile_min_edges,
                                  q=th.blur_percentile)
    # the sharpest regions' worst direction; the whole frame's when no tile has edges in two directions
    blur = min(percentile_or(tiles, th.blur_tile_percentile, frame_blur), frame_blur) * px_scale
    ratio, direction = anisotropy_of(fb, bins=th.motion_bins, min_edges=th.motion_min_edges, q=th.blur_percentile)
    counts = f.tile_counts(th.structure_grid)
    best_box = None
    if np.isfinite(tiles).any():
        i, j = np.unravel_index(int(np.nanargmin(tiles)), tiles.shape)
        th_, tw_ = f.shape[0] / th.structure_grid[0], f.shape[1] / th.structure_grid[1]
        best_box = [round(j * tw_ * to_full, 1), round(i * th_ * to_full, 1), round(tw_ * to_full, 1),
                    round(th_ * to_full, 1)]
    e = to_analysis_scale(a, th.exposure_side)
    lo, hi = clipped_fractions(e)
    blobs = glare_blobs(e, saturated_at=th.glare_saturated_at, halo_px=th.glare_halo_px,
                        halo_blobs=th.glare_blobs)[: th.glare_blobs]
    glare = next((b for b in blobs if b.halo >= th.glare_halo_min), None)
    e_full = max(width, height) / max(e.shape) if e.size else 1.0
    return SceneMeasures(
        width=width, height=height, analysed_side=int(long_a),
        blur_width_px=round(float(blur), 3), frame_blur_width_px=round(frame_blur * px_scale, 3),
        median_width_px=round(f.median_width() * px_scale, 3),
        motion_anisotropy=round(ratio, 3), motion_direction_deg=round(direction, 1),
        edges=f.count, edge_density=round(f.density(), 5),
        structure_tiles=round(float(np.mean(counts >= th.structure_tile_min_edges)), 4),
        luminance_p05=round(luminance_percentile(e, 5), 4), luminance_p50=round(luminance_percentile(e, 50), 4),
        luminance_p95=round(luminance_percentile(e, 95), 4), clip_dark=round(lo, 5), clip_bright=round(hi, 5),
        glare_area=round(glare.area_fraction, 5) if glare else 0.0,
        glare_halo=round((glare or blobs[0]).halo, 4) if blobs else 0.0,
        saturated_area=round(blobs[0].area_fraction, 5) if blobs else 0.0,
        glare_box_px=glare.box(e_full) if glare else None,
        entropy_bits=round(entropy_bits(e), 3), sharpest_tile_box_px=best_box)


# check code -> (zh, en, hint_zh, hint_en); {slot_zh}/{slot_en} filled in per slot
_TEXT: dict[str, tuple[str, str, str, str]] = {
    "scene.blur": ("{slot_zh}模糊，看不清（失焦）", "{slot_en} is blurred (out of focus)",
                   "重拍：点击屏幕对焦，保持手机稳定后再拍", "Retake it: tap to focus and hold the phone steady"),
    "scene.motion_blur": ("{slot_zh}拍摄时抖动，画面拖影模糊", "{slot_en} is blurred by camera shake",
                          "重拍：双手持稳手机，光线不足时靠稳后再按快门",
                          "Retake it holding the phone steady (brace it in low light)"),
    "scene.dark": ("{slot_zh}过暗，看不清", "{slot_en} is too dark", "重拍：打开照明或闪光灯",
                   "Retake it with the lights or the flash on"),
    "scene.overexposed": ("{slot_zh}过曝，画面发白", "{slot_en} is overexposed (washed out)",
                          "重拍：避开强光直射，关闭闪光灯或降低曝光", "Retake it away from strong light, flash off"),
    "scene.glare": ("{slot_zh}有强反光，遮挡部分画面", "{slot_en} has glare hiding part of the view",
                    "重拍：换个角度避开灯光/闪光反光", "Retake it from another angle to avoid the reflection"),
    "scene.low_resolution": ("{slot_zh}分辨率过低", "{slot_en} resolution is too low",
                             "用手机相机原图上传，不要截图或压缩", "Upload the camera's original, not a screenshot"),
    "scene.unrecognisable": ("{slot_zh}无法辨认内容（镜头被遮挡、空白或过近）",
                             "{slot_en} shows nothing recognisable (covered lens, blank or too close)",
                             "重拍：退后到能看清整机和周围环境的位置", "Retake it from where the whole machine and its "
                             "surroundings are visible"),
}


def _finding(check: str, level: str, band: Band, value: float, ctx: PhotoContext, **evidence: Any) -> Finding:
    spec = ctx.cfg.slots[ctx.slot]
    zh, en, hzh, hen = _TEXT[check]
    threshold = band.violation if level == "violation" else band.review
    return Finding(
        check=check, slot=ctx.slot, photo=ctx.file,
        message_zh=zh.format(slot_zh=spec.zh, slot_en=spec.en), message_en=en.format(slot_zh=spec.zh,
                                                                                      slot_en=spec.en.capitalize()),
        hint_zh=hzh, hint_en=hen, confidence=round(band.confidence(value), 3), certain=level == "violation",
        evidence={"value": value, "threshold": threshold, "review_threshold": band.review,
                  "violation_threshold": band.violation, "bad_when": band.direction, **evidence})


def judge_scene(m: SceneMeasures, th: ScenesThresholds, ctx: PhotoContext) -> list[Finding]:
    """Findings for the measures ``m`` of a photo in slot ``ctx.slot``."""
    slot = ctx.slot.value
    out: list[Finding] = []
    short = min(m.width, m.height)
    b = th.band("min_short_side_px", slot)
    if (lv := b.level(short)) is not None:
        out.append(_finding("scene.low_resolution", lv, b, short, ctx, measure="short_side_px",
                            size_px=[m.width, m.height]))
    b = th.band("structure_tiles", slot)
    unrecognisable = b.level(m.structure_tiles)
    if unrecognisable is not None:
        out.append(_finding("scene.unrecognisable", unrecognisable, b, m.structure_tiles, ctx,
                            measure="structured_tile_fraction", entropy_bits=m.entropy_bits,
                            edge_density=m.edge_density, grid=list(th.structure_grid)))
    b = th.band("dark_p95", slot)
    if (lv := b.level(m.luminance_p95)) is not None:
        out.append(_finding("scene.dark", lv, b, m.luminance_p95, ctx, measure="luminance_p95",
                            luminance_p50=m.luminance_p50))
    b = th.band("overexposed_clip", slot)
    over = b.level(m.clip_bright)
    if over is not None:
        out.append(_finding("scene.overexposed", over, b, m.clip_bright, ctx, measure="clipped_white_fraction",
                            luminance_p05=m.luminance_p05, luminance_p50=m.luminance_p50))
    b = th.band("glare_area", slot)
    if over is None and (lv := b.level(m.glare_area)) is not None:
        out.append(_finding("scene.glare", lv, b, m.glare_area, ctx, measure="largest_glare_blob_fraction",
                            halo=m.glare_halo, halo_min=th.glare_halo_min, box_px=m.glare_box_px))
    # Blur of a frame without any edge is no separate defect: recognisability has said it.
    b = th.band("blur_width_px", slot)
    if not (unrecognisable and m.edges == 0) and (lv := b.level(m.blur_width_px)) is not None:
        motion = m.motion_anisotropy >= th.motion_anisotropy
        out.append(_finding("scene.motion_blur" if motion else "scene.blur", lv, b, m.blur_width_px, ctx,
                            measure="edge_width_px_at_analysis_scale", analysis_side_px=th.analysis_side,
                            frame_median_width_px=m.median_width_px, motion_anisotropy=m.motion_anisotropy,
                            motion_anisotropy_threshold=th.motion_anisotropy,
                            motion_direction_deg=m.motion_direction_deg if motion else None,
                            box_px=m.sharpest_tile_box_px))
    return out


def inspect_scene(photo: DecodedPhoto, ctx: PhotoContext) -> InspectorOutput:
    """Clarity and recognisability of one scene photo (any scene slot)."""
    th = ctx.cfg.thresholds(THRESHOLDS_NAME, ScenesThresholds)
    m = measure_scene(photo.preview_gray(th.preview_side), photo.width, photo.height, th)
    findings = judge_scene(m, th, ctx)
    if not slot_required(ctx):
        findings = [for_unrequired_slot(f) for f in findings]
    anns: list[Annotation] = []
    if m.glare_box_px and any(f.check == "scene.glare" for f in findings):
        x, y, w, h = m.glare_box_px
        anns.append(Annotation("box", ((x, y), (x + w, y + h)), f"glare {m.glare_area:.1%}", ok=False))
    if m.sharpest_tile_box_px and any(f.check in ("scene.blur", "scene.motion_blur") for f in findings):
        x, y, w, h = m.sharpest_tile_box_px  # even the sharpest part of the photo is blurred
        anns.append(Annotation("box", ((x, y), (x + w, y + h)), f"sharpest tile; blur {m.blur_width_px:.1f}px",
                               ok=False))
    return InspectorOutput(findings=tuple(findings), measurements=asdict(m), annotations=tuple(anns))

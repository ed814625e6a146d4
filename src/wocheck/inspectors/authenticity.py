"""Authenticity: each photo's hashes (for the history's reuse search) and the EXIF capture rules.

- `hash_photo` (every photo, in the worker): the 256-bit DCT hash with its quality and the 64-bit pHash of
  the photo *in display orientation* (EXIF orientation applied by the loader), so that a copy saved
  rotated still matches. The reuse search itself needs the history and runs in the scan's parent
  (`wocheck.history.checks`).
- `check_capture` (order level, pure): EXIF capture time more than ``capture_before_dispatch_hours`` before
  dispatch (50); photo GPS farther than ``gps_violation_km`` from the customer (44), or between
  ``gps_review_km`` and that (44 review), after converting the customer's GCJ-02/BD-09 to WGS-84; an image
  editor in EXIF Software (50 review). A fix at 0,0, a reset clock, or no EXIF at all is no evidence.

Thresholds: `AuthenticityThresholds` in ``models/thresholds/authenticity.toml``; the editor list is
``models/software_editors.toml``; the time and distance limits are ``[limits]`` of the config.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from wocheck.config import Config, load_config
from wocheck.errors import ConfigError
from wocheck.inspectors.base import InspectorOutput, PhotoContext
from wocheck.metrics.geo import haversine_km, to_wgs84
from wocheck.metrics.hashing import photo_hashes
from wocheck.paths import models_dir
from wocheck.records import Finding, Order, Slot

if TYPE_CHECKING:
    from wocheck.io.images import DecodedPhoto
    from wocheck.pipeline.work import PhotoResult

HASH_PREVIEW_SIDE = 1000  # the common preview size: the decode cache serves every inspector


class AuthenticityThresholds(BaseModel):
    """Reuse search and EXIF plausibility; calibrated by scripts/calibration/authenticity.py."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Hamming radius (bits of 256) within which two photos are the same picture. 0 identical … 128 unrelated.
    hash_radius: int = Field(31, ge=0, le=47)
    # Small crops move the 256-bit hash's finer bits: with ``crop_phash_tier``, a photo also matches when its
    # 64-bit pHash (coarser, crop-tolerant) is within ``phash_radius`` (of 64; ≤ 11, the index's exact range)
    # AND its 256-bit hash within ``crop_gate_radius`` (unrelated photos lie around 128). Off by default
    # since the window tier below covers crops up to 6 % a side, with fewer look-alikes and no pHash index.
    crop_phash_tier: bool = False
    phash_radius: int = Field(10, ge=0, le=11)
    crop_gate_radius: int = Field(80, ge=0, le=128)
    # Crops of up to ``CROP_INSET`` a side also match when one of the photo's crop-probe windows lies within
    # ``crop_window_radius`` (of 256) of another photo's centre-window hash and shares one of its first
    # ``crop_window_key_blocks`` 16-bit blocks (the lowest frequencies) exactly: the candidates' key.
    # ``crop_window_key_radius`` bounds the distance over those key blocks alone (16 bits each): a cropped
    # copy's best window differs there in few bits, a look-alike scene in more.
    crop_window_radius: int = Field(34, ge=0, le=96)
    crop_window_key_blocks: int = Field(4, ge=1, le=16)
    crop_window_key_radius: int = Field(8, ge=0, le=256)
    # A window match within ``crop_window_certain_radius`` is a violation, not a review: closer than any
    # look-alike pair of different photos was found (the calibration's figures).
    crop_window_certain_radius: int = Field(20, ge=0, le=96)
    # Slots whose photos share one printed design (the service form, the nameplate): different photos of
    # them lie closer together, so they match only within ``template_radius`` and never by the crop tier.
    # A reused form or nameplate photo is also caught by its content (another customer, another SN).
    template_slots: tuple[Slot, ...] = (Slot.service_form, Slot.code_label)
    template_radius: int = Field(20, ge=0, le=47)
    # Hashes of lower quality (0 flat … 100 busy; PDQ's image-domain metric) are neither indexed nor
    # searched: flat images (a blank wall, a covered lens) hash alike without being the same photo.
    hash_quality_min: int = Field(50, ge=0, le=100)
    # EXIF capture times before this date are a reset or unset clock, not evidence of an old photo.
    clock_valid_from: date = date(2012, 1, 1)
    # A capture time this many hours after the order closed means a wrong clock: no evidence either way.
    clock_future_tolerance_hours: float = Field(24.0, ge=0)
    # A device without body serial is tied to another engineer only when make+model has been seen with
    # exactly that one other engineer, on at least this many of their orders, and never with this one.
    device_min_other_orders: int = Field(20, ge=1)
    # Confidence of a capture-time finding when the EXIF time carried no UTC offset (the order's assumed).
    naive_time_confidence: float = Field(0.92, ge=0, le=1)


def data_file(cfg: Config, relative: str) -> Path:
    """A data file beside the config in use, else the project's own (a custom config need not copy them)."""
    path = cfg.models_root / relative
    return path if path.is_file() else models_dir() / relative


def thresholds(cfg: Config) -> AuthenticityThresholds:
    if (cfg.models_root / "thresholds" / "authenticity.toml").is_file():
        return cfg.thresholds("authenticity", AuthenticityThresholds)
    return _default_thresholds()


@lru_cache(maxsize=1)
def _default_thresholds() -> AuthenticityThresholds:
    return load_config(models_dir() / "config.toml").thresholds("authenticity", AuthenticityThresholds)


# --- per photo --------------------------------------------------------------------------------------

# Photo data the history looks up with but neither stores nor shows (256 window hashes: 16 kB of hex).
QUERY_ONLY_DATA = frozenset({"crop_probes"})


def hash_photo(photo: DecodedPhoto, ctx: PhotoContext) -> InspectorOutput:
    """The photo's perceptual hashes (display orientation), for the reuse search in the history."""
    h = photo_hashes(photo.preview_gray(HASH_PREVIEW_SIDE))  # all from one shared reduction (~3 ms)
    data: dict[str, Any] = {"hash256": h.hash256.hex(), "hash_quality": h.quality, "phash64": h.phash64.hex()}
    measurements = {**data, "exif_present": photo.exif.present}
    # crop-tolerant tier: the centre window (stored) and the query windows (looked up, not stored)
    data["hash_centre"] = h.centre.hex()
    data["crop_probes"] = h.probes.hex()  # CROP_QUERY_STEPS ** 4 window hashes, concatenated
    data["centre_quality"] = h.centre_quality  # a flat centre (a wall behind a door frame) skips the crop tier
    return InspectorOutput(measurements=measurements, data=data)


# --- editors ----------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _editor_patterns(path: Path) -> tuple[re.Pattern[str], ...]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return tuple(re.compile(p, re.IGNORECASE) for p in raw["patterns"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, re.error) as e:
        raise ConfigError(f"editor list {path} can't be used: {e}") from e


def editor_patterns(cfg: Config) -> tuple[re.Pattern[str], ...]:
    return _editor_patterns(data_file(cfg, "software_editors.toml"))


def editor_match(software: str | None, patterns: tuple[re.Pattern[str], ...]) -> str | None:
    """The editor pattern that ``software`` matches, or ``None`` (phone firmware, camera, nothing)."""
    if not software:
        return None
    for p in patterns:
        if p.search(software):
            return p.pattern
    return None


# --- order level ------------------------------------------------------------------------------------


def _parse(ts: Any) -> datetime | None:
    if not ts:
        return None
    try:
        return datetime.fromisoformat(str(ts))
    except ValueError:
        return None


def capture_time(exif: dict[str, Any], order: Order) -> tuple[datetime | None, bool]:
    """The photo's EXIF capture time as an aware datetime and whether its offset was assumed (the order's
    ``dispatched`` offset: phone EXIF times are local and mostly carry none)."""
    t = _parse(exif.get("captured_at"))
    if t is None:
        return None, False
    if t.tzinfo is None:
        offset = order.times.dispatched.utcoffset() or timedelta(0)
        return t.replace(tzinfo=timezone(offset)), True
    return t, False


def check_capture(order: Order, cfg: Config, photos: tuple[PhotoResult, ...]) -> list[Finding]:
    """EXIF time, place and software rules over an order's usable photos (pure)."""
    th = thresholds(cfg)
    lim = cfg.limits
    editors = editor_patterns(cfg)
    findings: list[Finding] = []
    dispatched = order.times.dispatched
    too_early = dispatched - timedelta(hours=lim.capture_before_dispatch_hours)
    latest_valid = order.times.closed + timedelta(hours=th.clock_future_tolerance_hours)
    customer = None
    if order.customer.lat is not None and order.customer.lon is not None:
        customer = to_wgs84(order.customer.lat, order.customer.lon, order.customer.datum)
    early: list[tuple[PhotoResult, datetime, bool]] = []
    places: list[tuple[PhotoResult, float, tuple[float, float]]] = []
    for p in photos:
        if not p.usable or not p.exif or not p.exif.get("present"):
            continue
        t, assumed = capture_time(p.exif, order)
        if t is not None and t.date() >= th.clock_valid_from and t <= latest_valid and t < too_early:
            early.append((p, t, assumed))
        gps = p.exif.get("gps")
        if customer is not None and gps and not p.exif.get("gps_zero"):
            lat, lon = float(gps[0]), float(gps[1])
            places.append((p, haversine_km((lat, lon), customer), (lat, lon)))
        editor = editor_match(p.exif.get("software"), editors)
        if editor:
            findings.append(Finding(
                check="exif.editor_software", slot=p.slot, photo=p.file, certain=False, confidence=0.7,
                evidence={"software": p.exif.get("software"), "matched": editor},
                message_zh=f"照片经图片编辑软件处理（{p.exif.get('software')}）",
                message_en=f"Photo was saved by an image editor ({p.exif.get('software')})",
                hint_zh="上传手机相机直接拍摄的原始照片，不要编辑",
                hint_en="Upload the camera's original photo, unedited"))
    if early:
        p, t, assumed = min(early, key=lambda e: e[1])
        hours = (dispatched - t).total_seconds() / 3600.0
        findings.append(Finding(
            check="exif.captured_before_dispatch", slot=p.slot, photo=p.file,
            confidence=th.naive_time_confidence if assumed else 0.97,
            evidence={"captured_at": t.isoformat(), "dispatched": dispatched.isoformat(),
                      "hours_before_dispatch": round(hours, 2),
                      "threshold_hours": lim.capture_before_dispatch_hours, "offset_assumed": assumed,
                      "photos": [{"photo": e[0].file, "captured_at": e[1].isoformat()} for e in early]},
            message_zh=f"照片拍摄时间（{t:%Y-%m-%d %H:%M}）早于派单 {hours:.1f} 小时，非本次上门拍摄",
            message_en=f"Photo was taken {hours:.1f} h before dispatch ({t:%Y-%m-%d %H:%M}): not from this visit",
            hint_zh="上传本次上门现场拍摄的照片", hint_en="Upload photos taken on site during this visit"))
    if places:
        p, km, where = max(places, key=lambda e: e[1])
        if km > lim.gps_review_km:
            far = km > lim.gps_violation_km
            findings.append(Finding(
                check="exif.gps_far" if far else "exif.gps_near", slot=p.slot, photo=p.file,
                certain=far, confidence=0.95 if far else 0.6,
                evidence={"distance_km": round(km, 3), "photo_gps_wgs84": list(where),
                          "customer_wgs84": [round(customer[0], 6), round(customer[1], 6)] if customer else None,
                          "customer_datum": order.customer.datum.value,
                          "threshold_km": lim.gps_violation_km if far else lim.gps_review_km,
                          "photos": [{"photo": e[0].file, "distance_km": round(e[1], 3)} for e in places]},
                message_zh=f"照片拍摄地点距客户地址 {km:.2f} 公里",
                message_en=f"Photo was taken {km:.2f} km from the customer's address",
                hint_zh="在客户现场拍摄照片", hint_en="Take the photos at the customer's site"))
    return findings

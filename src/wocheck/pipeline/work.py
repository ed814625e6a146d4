"""The per-photo and per-order work: pure functions of (photo, order, config) that return results.

Workers compute and return; they never write files or the history. `process_order` is what the scan's
executor runs for each order; `process_photo` is its per-photo part (picklable arguments and results).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wocheck.config import Config
from wocheck.inspectors.base import Annotation, InspectorOutput, PhotoContext
from wocheck.inspectors.record_rules import check_record
from wocheck.inspectors.slots import check_required_slots
from wocheck.io.photos import PathRefused, resolve_photo
from wocheck.pipeline.registry import order_combiners, photo_inspectors, warm_ups
from wocheck.records import Finding, InputErrorRecord, Order, PhotoRef, Slot

log = logging.getLogger(__name__)

_HEAVY_SLOTS = frozenset({Slot.service_form, Slot.code_label})


@dataclass(frozen=True)
class PhotoResult:
    """What one photo gave: usable or the reason it isn't, and each inspector's output."""

    slot: Slot
    file: str
    usable: bool
    error_kind: str | None = None
    reason_zh: str = ""
    reason_en: str = ""
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    exif: dict[str, Any] | None = None
    findings: tuple[Finding, ...] = ()
    measurements: dict[str, Any] = field(default_factory=dict)
    annotations: tuple[Annotation, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderResult:
    """Everything found for one order, before the policy gives clauses and verdicts."""

    order: Order
    findings: tuple[Finding, ...]
    photos: tuple[PhotoResult, ...]
    input_errors: tuple[InputErrorRecord, ...]


def _unusable(ref: PhotoRef, kind: str, zh: str, en: str) -> PhotoResult:
    return PhotoResult(slot=ref.slot, file=ref.file, usable=False, error_kind=kind, reason_zh=zh, reason_en=en)


def process_photo(ref: PhotoRef, order: Order, cfg: Config, photo_root: Path) -> PhotoResult:
    """Resolve, decode once and inspect one photo. Never raises for a bad file: the result says why."""
    # Imported here: decoding pulls OpenCV and Pillow, which a record-only run does not need.
    from wocheck.io.images import PhotoError, load_photo

    target = resolve_photo(photo_root, ref.file)
    if isinstance(target, PathRefused):
        return _unusable(ref, target.kind, target.reason_zh, target.reason_en)
    try:
        photo = load_photo(target, max_pixels=int(cfg.limits.max_photo_megapixels * 1e6),
                           max_bytes=int(cfg.limits.max_photo_megabytes * 2**20))
    except PhotoError as e:
        return _unusable(ref, str(e.kind), e.reason_zh, e.reason_en)
    ctx = PhotoContext(order=order, cfg=cfg, slot=ref.slot, file=ref.file)
    findings: list[Finding] = []
    measurements: dict[str, Any] = {}
    annotations: list[Annotation] = []
    data: dict[str, Any] = {}
    for name, inspector in photo_inspectors(ref.slot):
        try:
            out: InspectorOutput = inspector(photo, ctx)
        except Exception as e:  # an engine crash costs this inspector's result on this photo only
            log.exception("inspector %s failed on %s", name, ref.file)
            measurements[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        findings.extend(out.findings)
        if out.measurements:
            measurements[name] = out.measurements
        annotations.extend(out.annotations)
        data.update(out.data)
    return PhotoResult(slot=ref.slot, file=ref.file, usable=True, sha256=photo.sha256, width=photo.width,
                       height=photo.height, exif=photo.exif.to_contract_dict(), findings=tuple(findings),
                       measurements=measurements, annotations=tuple(annotations), data=data)


def crashed_photo(ref: PhotoRef, why: str) -> PhotoResult:
    """A photo whose inspection killed or hung its worker: usable (not the engineer's fault), not inspected."""
    return PhotoResult(slot=ref.slot, file=ref.file, usable=True, error_kind="inspection_failed",
                       reason_zh="检查程序处理该照片时异常，未完成检查，请人工查看",
                       reason_en=f"the checker failed on this photo ({why}); it was not inspected")


def finish_order(order: Order, cfg: Config, photos: tuple[PhotoResult, ...], *,
                 line: int | None = None) -> OrderResult:
    """The order-level part: record rules, required slots, combiners over the photos' results."""
    errors = tuple(
        InputErrorRecord(line=line, order_id=order.order_id, photo=p.file,
                         reason=f"photo {p.file} ({p.slot.value}): {p.reason_en}")
        for p in photos if p.error_kind is not None)
    unusable = {p.file: p.reason_en for p in photos if not p.usable}
    findings: list[Finding] = [*check_record(order, cfg), *check_required_slots(order, cfg, unusable)]
    for p in photos:
        findings.extend(p.findings)
    for name, combiner in order_combiners():
        try:
            findings.extend(combiner(order, cfg, photos))
        except Exception:
            log.exception("order check %s failed on %s", name, order.order_id)
    return OrderResult(order=order, findings=tuple(findings), photos=photos, input_errors=errors)


def process_order(order: Order, cfg: Config, photo_root: Path, *, line: int | None = None,
                  threads: int = 1) -> OrderResult:
    """Check one order: its record, each of its photos, the required slots and the order-level combiners.

    ``threads`` > 1 inspects the photos on that many threads (the self-check: one order, answer fast; the
    decoders, OpenCV and the engines release the GIL for most of their work). The nightly scan keeps 1:
    its parallelism is one order per worker process.
    """
    for warm_up in warm_ups(ref.slot for ref in order.photos):
        try:
            warm_up(cfg)
        except Exception:  # a warm-up only saves time: the inspector does its own set-up anyway
            log.exception("warm-up %s failed", getattr(warm_up, "__qualname__", warm_up))
    n = min(threads, len(order.photos))
    if n > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="photo") as pool:
            # longest first: the form and the labels carry the engines; results keep the order's photo order
            refs = sorted(order.photos, key=lambda r: r.slot not in _HEAVY_SLOTS)
            done = dict(zip(map(id, refs), pool.map(lambda r: process_photo(r, order, cfg, photo_root), refs),
                            strict=True))
        photos = tuple(done[id(ref)] for ref in order.photos)
    else:
        photos = tuple(process_photo(ref, order, cfg, photo_root) for ref in order.photos)
    return finish_order(order, cfg, photos, line=line)

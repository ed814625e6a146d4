"""`wocheck inspect`: one photo's measurements and findings, without an order around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wocheck.config import Config
from wocheck.inspectors.authenticity import QUERY_ONLY_DATA
from wocheck.inspectors.base import Annotation, PhotoContext
from wocheck.pipeline.registry import has_inspector, photo_inspectors
from wocheck.policy import clause_of, verdict_of
from wocheck.records import Finding, Slot


def inspect_one(path: Path, slot: Slot, cfg: Config, *, annotate_to: Path | None = None) -> dict[str, Any]:
    """The contract's inspect object for one photo: ``photo``, ``findings``, ``exif``, measurements.

    With ``annotate_to`` the photo is also drawn with what was found (`wocheck.report.annotate`) into that
    PNG or JPEG file, whose path the object gives as ``"annotated"``.
    """
    from wocheck.io.images import PhotoError, load_photo

    out: dict[str, Any] = {"photo": str(path), "slot": slot.value}
    try:
        photo = load_photo(path, max_pixels=int(cfg.limits.max_photo_megapixels * 1e6),
                           max_bytes=int(cfg.limits.max_photo_megabytes * 2**20))
    except PhotoError as e:
        out.update(readable=False, error={"kind": str(e.kind), "reason_zh": e.reason_zh, "reason_en": e.reason_en},
                   findings=[], exif=None)
        return out
    out.update(readable=True, width=photo.width, height=photo.height, format=photo.format,
               sha256=photo.sha256, exif=photo.exif.to_contract_dict())
    ctx = PhotoContext(order=None, cfg=cfg, slot=slot, file=str(path))
    findings: list[dict[str, Any]] = []
    measurements: dict[str, Any] = {}
    anns: list[Annotation] = []  # what --annotate draws
    found: list[Finding] = []
    for name, inspector in photo_inspectors(slot):
        result = inspector(photo, ctx)
        measurements[name] = result.measurements
        anns += result.annotations
        found += result.findings
        for f in result.findings:
            findings.append({"check": f.check, "clause": clause_of(f, cfg), "verdict": verdict_of(f, cfg),
                             "confidence": f.confidence, "message_zh": f.message_zh,
                             "message_en": f.message_en, "hint_zh": f.hint_zh, "evidence": f.evidence})
        out.update((k, v) for k, v in result.data.items() if k not in QUERY_ONLY_DATA)
    out["findings"] = findings
    out["measurements"] = measurements
    if not has_inspector(slot):
        out["note"] = f"no inspector for slot {slot.value} yet: only decoding and EXIF were checked"
    if annotate_to is not None:
        from wocheck.report.annotate import write_annotated

        out["annotated"] = str(write_annotated(annotate_to, photo, anns, found))
    return out

"""The checks that need the history, run by the scan's parent process after each order's result.

`HistoryChecks` holds the store and two in-memory near-duplicate indexes (256-bit DCT hash, 64-bit pHash)
built from it at start and caught up before every order (so orders recorded by a concurrent scan count
too). For each order:

1. `replay` — an order already recorded with the same record and configuration is not checked again: its
   recorded result and findings come back (a rerun after a kill skips what is done).
2. `check` — reuse (clause 50): each usable photo is looked up among *other* orders' photos: identical
   bytes; 256-bit hash within ``hash_radius``; or, for small crops that move the 256-bit hash, one of the
   photo's crop probe windows within ``crop_window_radius`` of another photo's centre-window hash, sharing
   one of its ``crop_window_key_blocks`` lowest-frequency blocks and within ``crop_window_key_radius``
   over them (crops of up to `CROP_INSET` a side, `wocheck.metrics.hashing.crop_probes256`), or (with
   ``crop_phash_tier``) pHash within ``phash_radius`` *and* 256-bit hash within ``crop_gate_radius`` —
   these crop tiers only for
   photos without their camera's capture time within the visit (a cropped copy is a re-saved file), and
   its findings go to review. Hashes below the quality floor
   (flat, generic pictures) are neither indexed nor searched. The later upload is the false one: the
   finding goes to this order, or — when the match was uploaded later — to that other order. Device
   (clause 43, review): a phone that the history ties to another engineer, only when distinctive.
3. `record` — the order, its photos (hashes, EXIF, device) and every finding, in one transaction.

Call `check` and `record` inside ``store.locked()`` so that two scans on one database can't both miss
each other's copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wocheck import __version__
from wocheck.config import Config
from wocheck.history.index import MultiIndexHash
from wocheck.history.store import HistoryStore, OrderRecord, PhotoRow, StoredPhoto
from wocheck.inspectors.authenticity import QUERY_ONLY_DATA, AuthenticityThresholds, capture_time, thresholds
from wocheck.io.photos import PathRefused, resolve_photo
from wocheck.metrics.hashing import hamming
from wocheck.paths import models_dir
from wocheck.records import Finding, InputErrorRecord, Order

if TYPE_CHECKING:
    from wocheck.pipeline.work import OrderResult, PhotoResult

log = logging.getLogger(__name__)


def order_fingerprint(order: Order, photo_root: Path | None = None) -> str:
    """The record and, under ``photo_root``, the state of each photo file (real path, size, mtime).

    A rerun replays an order only when this is unchanged: a photo uploaded again, replaced, or looked for
    under another photo root makes the order checked again.
    """
    h = hashlib.sha256(order.model_dump_json(by_alias=True).encode("utf-8"))
    if photo_root is not None:
        for ref in order.photos:
            target = resolve_photo(photo_root, ref.file)
            if isinstance(target, PathRefused):
                h.update(f"\0{ref.file}\0{target.kind}".encode())
                continue
            st = target.stat()
            h.update(f"\0{target}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return h.hexdigest()


def config_fingerprint(cfg: Config) -> str:
    """Changes when the checker or any of its data files changes: then recorded orders are checked again."""
    h = hashlib.sha256(__version__.encode())
    h.update(cfg.model_dump_json().encode("utf-8"))
    files = {p.resolve() for root in {cfg.models_root, models_dir()}
             for p in [*root.glob("*.toml"), *root.glob("thresholds/*.toml"), *root.glob("forms/*.json")]}
    for p in sorted(files):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _when(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts)
    except ValueError:
        return None


class HistoryChecks:
    def __init__(self, store: HistoryStore, cfg: Config, photo_root: Path | None = None) -> None:
        self.store = store
        self.cfg = cfg
        self.photo_root = photo_root
        self.th: AuthenticityThresholds = thresholds(cfg)
        self.config_fp = config_fingerprint(cfg)
        # exact searches up to the largest radius used: the layout follows it (and the history's size)
        self.idx256 = MultiIndexHash(256, radius=max(self.th.hash_radius, self.th.template_radius))
        self.idx64 = MultiIndexHash(64, radius=self.th.phash_radius)
        # centre-window hashes (crop tier): a key-block index over their lowest-frequency blocks
        self.idx_centre = MultiIndexHash(256, tables=self.th.crop_window_key_blocks)
        self._synced = 0
        self._synced_centre = 0
        self.sync()
        for idx in (self.idx256, self.idx64, self.idx_centre):  # the history as loaded: one main segment
            idx.merge()
        log.info("history %s: %d photos indexed", store.location, len(self.idx256))

    def sync(self) -> None:
        """Add photos recorded since the last sync (by this scan or a concurrent one) to the indexes."""
        for ids, h256, h64 in self.store.iter_hashes(after_photo_id=self._synced,
                                                     min_quality=self.th.hash_quality_min):
            self.idx256.add(ids, h256)
            if self.th.crop_phash_tier:
                self.idx64.add(ids, h64)
            self._synced = int(ids[-1])
        for ids, hc in self.store.iter_centre_hashes(after_photo_id=self._synced_centre,
                                                     min_quality=self.th.hash_quality_min):
            self.idx_centre.add(ids, hc)
            self._synced_centre = int(ids[-1])

    # -- replay ------------------------------------------------------------------------------------

    def replay(self, order: Order, line: int | None) -> OrderResult | None:
        """The recorded result of an order checked before with the same record and configuration."""
        from wocheck.pipeline.work import OrderResult

        stored = self.store.get_order(order.order_id)
        if (stored is None or stored.fingerprint != order_fingerprint(order, self.photo_root)
                or stored.config_fingerprint != self.config_fp):
            return None
        photos = tuple(_photo_result(p) for p in stored.photos)
        findings = tuple(Finding.model_validate_json(js) for js in stored.findings_json)
        errors = tuple(
            InputErrorRecord(line=line, order_id=order.order_id, photo=p.file,
                             reason=f"photo {p.file} ({p.slot.value}): {p.reason_en}")
            for p in photos if not p.usable)
        return OrderResult(order=order, findings=findings, photos=photos, input_errors=errors)

    # -- reuse and device --------------------------------------------------------------------------

    def check(self, result: OrderResult) -> list[tuple[str, Finding]]:
        """History findings for one order's result, each with the order id it belongs to."""
        self.sync()
        order = result.order
        out: list[tuple[str, Finding]] = []
        for i, p in enumerate(result.photos):
            if not p.usable:
                continue
            match = self._best_match(order, p)
            if match is None:
                continue
            other, distance, how = match
            mine = _when(_iso(order.photos[i].uploaded_at)) or order.times.closed
            theirs = _when(other.uploaded_at) or _when(other.closed_at)
            if theirs is not None and mine < theirs:
                # This order has the original: the other, later upload is the copy.
                out.append((other.order_id, self._reuse_finding(
                    slot=other.slot, photo=other.file, other_order=order.order_id, other_photo=p.file,
                    other_engineer=order.engineer.id, other_uploaded=mine.isoformat(), distance=distance,
                    how=how, exif_present=None)))
            else:
                out.append((order.order_id, self._reuse_finding(
                    slot=p.slot.value, photo=p.file, other_order=other.order_id, other_photo=other.file,
                    other_engineer=other.engineer_id, other_uploaded=other.uploaded_at or other.closed_at,
                    distance=distance, how=how, exif_present=bool(p.exif and p.exif.get("present")))))
        out.extend((order.order_id, f) for f in self._device_findings(result))
        return out

    def _best_match(self, order: Order, p: PhotoResult) -> tuple[StoredPhoto, int, str] | None:
        cands: list[tuple[int, int, str, StoredPhoto]] = []  # (distance, photo_id, how, photo)
        if p.sha256:
            for sp in self.store.photos_by_sha256(p.sha256):
                if sp.order_id != order.order_id:
                    cands.append((0, sp.photo_id, "identical_file", sp))
        h256 = p.data.get("hash256")
        h64 = p.data.get("phash64")
        quality = p.data.get("hash_quality")
        if h256 and h64 and quality is not None and int(quality) >= self.th.hash_quality_min:
            q256, q64 = bytes.fromhex(h256), bytes.fromhex(h64)
            template = p.slot in self.th.template_slots
            radius = self.th.template_radius if template else self.th.hash_radius
            near = dict(self.idx256.search(q256, radius))
            cropped: set[int] = set()
            windowed: dict[int, int] = {}
            if not template and not self._fresh_from_camera(order, p) and self._centre_ok(p):
                if self.th.crop_phash_tier:
                    cropped = {i for i, _ in self.idx64.search(q64, self.th.phash_radius)} - set(near)
                probes = bytes.fromhex(p.data.get("crop_probes") or "")  # the windows, concatenated
                windowed = {i: d for i, d in self.idx_centre.search_many(
                    probes, self.th.crop_window_radius, key_radius=self.th.crop_window_key_radius)
                            if i not in near} if probes else {}
            if near or cropped or windowed:
                for sp in self.store.photos(sorted({*near, *cropped, *windowed})):
                    if sp.order_id == order.order_id or sp.hash256 is None:
                        continue
                    d = near.get(sp.photo_id)
                    if d is not None:
                        cands.append((d, sp.photo_id, "perceptual_template" if template else "perceptual", sp))
                        continue
                    if sp.photo_id in windowed:
                        cands.append((windowed[sp.photo_id], sp.photo_id, "perceptual_window", sp))
                    if sp.photo_id in cropped:
                        d = hamming(q256, sp.hash256)
                        if d <= self.th.crop_gate_radius:
                            cands.append((d, sp.photo_id, "perceptual_crop", sp))
        if not cands:
            return None
        d, _, how, sp = min(cands, key=lambda c: (c[0], c[1]))
        return sp, d, how

    def _centre_ok(self, p: PhotoResult) -> bool:
        """Whether the photo's centre window has the structure the crop tier needs (the quality floor): the
        frame's quality may come from its edges alone (a blank wall beside a door frame), which the centre
        window leaves out — and two such centres are alike."""
        q = p.data.get("centre_quality")
        return q is None or int(q) >= self.th.hash_quality_min

    def _fresh_from_camera(self, order: Order, p: PhotoResult) -> bool:
        """Whether the photo carries its camera's capture time within this visit. A cropped copy is a
        re-saved file (no EXIF, or the old photo's time): only such photos are searched by the coarse,
        crop-tolerant hash, whose look-alikes among generic scenes (one form, one nameplate design) are
        otherwise too many."""
        if not p.exif or not p.exif.get("present"):
            return False
        t, _ = capture_time(p.exif, order)
        if t is None:
            return False
        early = order.times.dispatched - timedelta(hours=self.cfg.limits.capture_before_dispatch_hours)
        return early <= t <= order.times.closed + timedelta(hours=self.th.clock_future_tolerance_hours)

    def _reuse_finding(self, *, slot: str, photo: str, other_order: str, other_photo: str,
                       other_engineer: str | None, other_uploaded: str | None, distance: int, how: str,
                       exif_present: bool | None) -> Finding:
        radius = {"perceptual_crop": self.th.crop_gate_radius, "perceptual_window": self.th.crop_window_radius,
                  "perceptual_template": self.th.template_radius}.get(how, self.th.hash_radius)
        evidence: dict[str, Any] = {
            "other_order_id": other_order, "other_photo": other_photo, "other_engineer_id": other_engineer,
            "other_uploaded_at": other_uploaded, "match": how, "distance_bits": distance,
            "radius_bits": radius, "hash_bits": 256}
        if exif_present is not None:
            evidence["exif_present"] = exif_present
        # crop tiers: a reviewer confirms — unless a window lies closer than any look-alike was found
        close_window = how == "perceptual_window" and distance <= self.th.crop_window_certain_radius
        certain = how not in ("perceptual_crop", "perceptual_window") or close_window
        confidence = {"identical_file": 1.0, "perceptual": 0.97}.get(
            how, 0.95 if close_window else 0.9)
        if close_window:
            evidence["certain_radius_bits"] = self.th.crop_window_certain_radius
        same = "相同" if how == "identical_file" else "近似"
        return Finding(
            check="reuse.photo", slot=slot, photo=photo, evidence=evidence,  # type: ignore[arg-type]
            certain=certain, confidence=confidence,
            message_zh=f"照片与工单 {other_order} 的照片 {other_photo} {same}（汉明距离 {distance}），重复使用旧照片",
            message_en=f"Photo is the same as {other_photo} of order {other_order} "
                       f"(Hamming distance {distance}): a reused photo",
            hint_zh="上传本次上门现场实拍的照片", hint_en="Upload photos taken on site during this visit")

    def _device_findings(self, result: OrderResult) -> list[Finding]:
        order = result.order
        devices: dict[tuple[str | None, str | None, str | None], str] = {}
        for p in result.photos:
            if p.usable and p.exif and (p.exif.get("body_serial") or (p.exif.get("make") and p.exif.get("model"))):
                devices.setdefault((p.exif.get("make"), p.exif.get("model"), p.exif.get("body_serial")), p.file)
        out: list[Finding] = []
        for (make, model, serial), photo in devices.items():
            users = self.store.device_users(make=make, model=model, body_serial=serial, exclude_order=order.order_id)
            others = [u for u in users if u.engineer_id != order.engineer.id]
            if len(others) == len(users) == 0 or len(others) < len(users):
                continue  # unseen device, or this engineer has used it before: theirs (too)
            if serial:
                tied = others
            else:  # make+model only: one other engineer, many orders, never this engineer
                tied = others if (len(users) == 1 and others
                                  and others[0].orders >= self.th.device_min_other_orders) else []
            if not tied:
                continue
            names = ", ".join(u.engineer_id for u in tied)
            out.append(Finding(
                check="device.other_engineer", photo=photo, certain=False, confidence=0.6,
                slot=next(p.slot for p in result.photos if p.file == photo),
                evidence={"make": make, "model": model, "body_serial": serial,
                          "by": "body_serial" if serial else "make_model",
                          "other_engineers": [{"engineer_id": u.engineer_id, "orders": u.orders} for u in tied],
                          "min_other_orders": None if serial else self.th.device_min_other_orders},
                message_zh=f"拍摄设备（{make or ''} {model or ''}{' 序列号 ' + serial if serial else ''}）"
                           f"在历史记录中属于其他工程师（{names}），疑似代拍",
                message_en=f"The camera ({make or ''} {model or ''}{' serial ' + serial if serial else ''}) "
                           f"belongs to another engineer in the history ({names}): photos taken by someone else?",
                hint_zh="由本单工程师本人在现场拍摄并上传",
                hint_en="The order's engineer takes and uploads the photos"))
        return out

    # -- recording ---------------------------------------------------------------------------------

    def record(self, result: OrderResult, findings: list[Finding], scan_id: str | None) -> None:
        order = result.order
        rows: list[PhotoRow] = []
        for i, p in enumerate(result.photos):
            ref = order.photos[i] if i < len(order.photos) else None
            exif = p.exif or {}
            h256, h64, hc = p.data.get("hash256"), p.data.get("phash64"), p.data.get("hash_centre")
            if not self._centre_ok(p):
                hc = None  # never a crop-tier candidate
            rows.append(PhotoRow(
                position=i, slot=p.slot.value, file=p.file, usable=p.usable, error_kind=p.error_kind,
                reason_zh=p.reason_zh, reason_en=p.reason_en, sha256=p.sha256,
                hash256=bytes.fromhex(h256) if h256 else None, phash64=bytes.fromhex(h64) if h64 else None,
                hash_quality=p.data.get("hash_quality"), hash_centre=bytes.fromhex(hc) if hc else None,
                width=p.width, height=p.height, exif=p.exif,
                make=exif.get("make"), model=exif.get("model"), body_serial=exif.get("body_serial"),
                captured_at=exif.get("captured_at"), uploaded_by=ref.uploaded_by if ref else None,
                uploaded_at=_iso(ref.uploaded_at) if ref else None, result_json=_photo_json(p)))
        rec = OrderRecord(
            order_id=order.order_id, fingerprint=order_fingerprint(order, self.photo_root),
            order_json=order.model_dump_json(by_alias=True), engineer_id=order.engineer.id,
            contractor_id=order.contractor.id if order.contractor else None,
            dispatched_at=order.times.dispatched.isoformat(), closed_at=order.times.closed.isoformat(),
            photos=tuple(rows), findings=tuple((f.check, f.photo, f.model_dump_json()) for f in findings),
            config_fingerprint=self.config_fp)
        self.store.record_order(rec, scan_id)

    def add_to_other(self, order_id: str, finding: Finding, scan_id: str | None) -> Order | None:
        """Record a finding on an earlier-checked order; its order record (for the violation) or ``None``."""
        stored = self.store.get_order(order_id)
        if stored is None:
            return None
        self.store.add_findings(order_id, [(finding.check, finding.photo, finding.model_dump_json())], scan_id)
        return Order.model_validate_json(stored.order_json)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _photo_json(p: PhotoResult) -> str:
    return json.dumps({
        "slot": p.slot.value, "file": p.file, "usable": p.usable, "error_kind": p.error_kind,
        "reason_zh": p.reason_zh, "reason_en": p.reason_en, "sha256": p.sha256, "width": p.width,
        "height": p.height, "exif": p.exif, "measurements": p.measurements,
        "data": {k: v for k, v in p.data.items() if k not in QUERY_ONLY_DATA},
        # flat fields (points: tuples of floats): a plain dict, not `asdict`'s recursive deep copy (1 ms a photo)
        "annotations": [{"kind": a.kind, "points": a.points, "label": a.label, "ok": a.ok}
                        for a in p.annotations]}, ensure_ascii=False, default=str)


def _photo_result(row: PhotoRow) -> PhotoResult:
    from wocheck.inspectors.base import Annotation
    from wocheck.pipeline.work import PhotoResult
    from wocheck.records import Slot

    d: dict[str, Any] = json.loads(row.result_json) if row.result_json else {}
    return PhotoResult(
        slot=Slot(row.slot), file=row.file, usable=row.usable, error_kind=row.error_kind,
        reason_zh=row.reason_zh, reason_en=row.reason_en, sha256=row.sha256, width=row.width,
        height=row.height, exif=row.exif, measurements=d.get("measurements", {}), data=d.get("data", {}),
        annotations=tuple(Annotation(kind=a["kind"], points=tuple(tuple(pt) for pt in a["points"]),
                                     label=a.get("label", ""), ok=a.get("ok", False))
                          for a in d.get("annotations", [])))

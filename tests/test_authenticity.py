"""Authenticity: EXIF time/place/editor rules, hashing in display orientation, and reuse and device
findings through the scan's history (across nights, within a night, concurrent and killed scans)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from _authenticity_synth import order, save_jpeg, scene, wall, write_orders
from wocheck.config import Config
from wocheck.inspectors.authenticity import editor_match, editor_patterns, hash_photo, thresholds
from wocheck.inspectors.base import PhotoContext
from wocheck.io.images import load_photo
from wocheck.metrics.geo import gcj02_to_bd09, wgs84_to_gcj02
from wocheck.metrics.hashing import hamming
from wocheck.paths import models_dir
from wocheck.pipeline.scan import ScanSettings, run_scan
from wocheck.pipeline.work import process_order
from wocheck.records import Order, Slot

CUSTOMER_WGS = (31.2291, 121.5262)  # a point in Shanghai


def _order_with(tmp_path: Path, cfg: Config, *, customer: tuple[float, float] | None = None,
                datum: str = "gcj02", **exif: Any) -> list[str]:
    """Check one order holding one photo with this EXIF; the finding codes."""
    save_jpeg(scene(1), tmp_path / "p" / "a.jpg", **exif)
    rec = order("WO1", "E1", [("machine_running", "a.jpg")])
    lat, lon = customer or wgs84_to_gcj02(*CUSTOMER_WGS)
    rec["customer"] = {"name": "x", "address": "y", "lat": lat, "lon": lon, "datum": datum}
    res = process_order(Order.model_validate(rec), cfg, tmp_path / "p")
    return [f.check for f in res.findings if f.check.startswith("exif.")]


# --- capture time -------------------------------------------------------------------------------


@pytest.mark.parametrize(("exif_time", "offset", "flagged"), [
    ("2026:12:02 07:00:00", None, True),       # 2 h 10 min before dispatch (09:10 +08:00 assumed)
    ("2026:12:02 08:30:00", None, False),      # 40 min before: within the hour
    ("2026:12:02 10:00:00", None, False),      # after dispatch
    ("2026:11:15 10:00:00", None, True),       # weeks before: an old photo
    ("2026:12:02 00:30:00", "+00:00", False),  # 08:30 +08:00 in UTC: not early
    ("2026:12:01 22:00:00", "+00:00", True),   # 06:00 +08:00
    ("1980:01:01 00:00:00", None, False),      # reset clock: no evidence
    ("2031:05:05 10:00:00", None, False),      # clock in the future: no evidence
])
def test_capture_time_rule(tmp_path: Path, cfg: Config, exif_time: str, offset: str | None, flagged: bool) -> None:
    codes = _order_with(tmp_path, cfg, time=exif_time, offset=offset)
    assert ("exif.captured_before_dispatch" in codes) == flagged


def test_no_exif_is_no_violation_but_is_recorded(tmp_path: Path, cfg: Config) -> None:
    assert _order_with(tmp_path, cfg, exif=False) == []
    photo = load_photo(tmp_path / "p" / "a.jpg")
    out = hash_photo(photo, PhotoContext(order=None, cfg=cfg, slot=Slot.machine_running, file="a.jpg"))
    assert out.measurements["exif_present"] is False


# --- place --------------------------------------------------------------------------------------


def _offset(km_north: float) -> tuple[float, float]:
    return CUSTOMER_WGS[0] + km_north / 111.19, CUSTOMER_WGS[1]


@pytest.mark.parametrize(("km", "code"), [(0.0, None), (0.3, None), (1.2, "exif.gps_near"), (5.0, "exif.gps_far")])
def test_gps_distance_bands_after_datum_conversion(tmp_path: Path, cfg: Config, km: float, code: str | None) -> None:
    codes = _order_with(tmp_path, cfg, gps=_offset(km))  # customer in GCJ-02: ~0.5 km from WGS otherwise
    assert [c for c in codes if c.startswith("exif.gps")] == ([code] if code else [])


def test_gps_customer_in_bd09_and_wgs84(tmp_path: Path, cfg: Config) -> None:
    bd = gcj02_to_bd09(*wgs84_to_gcj02(*CUSTOMER_WGS))
    assert not [c for c in _order_with(tmp_path, cfg, gps=CUSTOMER_WGS, customer=bd, datum="bd09")
                if c.startswith("exif.gps")]
    assert not [c for c in _order_with(tmp_path, cfg, gps=CUSTOMER_WGS, customer=CUSTOMER_WGS, datum="wgs84")
                if c.startswith("exif.gps")]
    # the same WGS point read as if it were GCJ-02 is ~0.5 km off: the conversion matters
    assert _order_with(tmp_path, cfg, gps=_offset(1.6), customer=CUSTOMER_WGS, datum="gcj02")


def test_gps_zero_fix_is_no_evidence(tmp_path: Path, cfg: Config) -> None:
    assert _order_with(tmp_path, cfg, gps=(0.0, 0.0)) == []


# --- editors ------------------------------------------------------------------------------------


def test_editor_list_examples_both_ways(cfg: Config) -> None:
    raw = tomllib.loads((models_dir() / "software_editors.toml").read_text(encoding="utf-8"))
    pats = editor_patterns(cfg)
    for s in raw["editor_examples"]:
        assert editor_match(s, pats), s
    for s in raw["not_editor_examples"]:
        assert editor_match(s, pats) is None, s
    assert editor_match(None, pats) is None


@pytest.mark.parametrize(("software", "flagged"), [
    ("GIMP 2.8.16", True), ("ELS-AN00 4.0.0.120(C00E115R2P8)", False), ("MIUI Camera", False), ("16.1.2", False),
    ("MeituXiuXiu 9.5", True), ("美图秀秀 9.7.3.0", True), ("Café Cam 2", False)])
def test_editor_software_rule(tmp_path: Path, cfg: Config, software: str, flagged: bool) -> None:
    assert ("exif.editor_software" in _order_with(tmp_path, cfg, software=software)) == flagged


# --- hashing in display orientation -------------------------------------------------------------


def test_rotated_copy_hashes_like_the_original(tmp_path: Path, cfg: Config) -> None:
    img = scene(5)
    save_jpeg(img, tmp_path / "up.jpg")
    # stored sideways with EXIF orientation 6 (display: rotate 90° clockwise) -> displays as img
    save_jpeg(cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE), tmp_path / "side.jpg", orientation=6)
    ctx = PhotoContext(order=None, cfg=cfg, slot=Slot.machine_running, file="x")
    a = hash_photo(load_photo(tmp_path / "up.jpg"), ctx).data
    b = hash_photo(load_photo(tmp_path / "side.jpg"), ctx).data
    assert hamming(a["hash256"], b["hash256"]) <= 16
    raw = cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)  # the same pixels without applying EXIF
    c = hash_photo(load_photo(save_jpeg(raw, tmp_path / "raw.jpg")), ctx).data
    assert hamming(a["hash256"], c["hash256"]) > 64


# --- reuse through the scan's history -----------------------------------------------------------


def _scan(tmp_path: Path, cfg: Config, name: str, orders: list[dict[str, Any]], db: Path,
          workers: int = 1) -> list[dict[str, Any]]:
    path = write_orders(tmp_path / f"{name}.jsonl", orders)
    run_scan(ScanSettings(orders_path=path, photo_root=tmp_path / "p", out_dir=tmp_path / f"out_{name}",
                          workers=workers, db_path=db), cfg)
    return [json.loads(x) for x in (tmp_path / f"out_{name}" / "violations.jsonl").read_text("utf-8").splitlines()]


def _reuse(viols: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((v["order_id"], v["photo"], v["evidence"]["other_order_id"])
                  for v in viols if v["check"] == "reuse.photo")


def _shots(tmp_path: Path, name: str, seeds: list[int], **kw: Any) -> list[tuple[str, str]]:
    files = []
    for i, s in enumerate(seeds):
        f = f"{name}/{i}.jpg"
        save_jpeg(scene(s), tmp_path / "p" / f, **kw)
        files.append(("machine_running", f))
    return files


def test_reuse_across_nights_edited_copies_and_first_use_clean(tmp_path: Path, cfg: Config) -> None:
    db = tmp_path / "h.sqlite"
    night1 = [order(f"A{i}", f"E{i}", _shots(tmp_path, f"A{i}", [10 * i, 10 * i + 1])) for i in range(3)]
    assert _reuse(_scan(tmp_path, cfg, "n1", night1, db)) == []  # first use: nothing
    src = cv2.imread(str(tmp_path / "p" / "A1" / "0.jpg"))
    h, w = src.shape[:2]
    copies = {
        "resized.jpg": cv2.resize(src, (w * 3 // 5, h * 3 // 5), interpolation=cv2.INTER_AREA),
        "brighter.jpg": np.clip(src.astype(np.float32) * 1.15, 0, 255).astype(np.uint8),
        "cropped.jpg": src[h * 2 // 100: h - h * 2 // 100, w * 2 // 100: w - w * 2 // 100],
        # the fixture generator's re-upload: 1-5 % off each side (unequal), resized, re-encoded
        "cropped5.jpg": cv2.resize(src[h * 5 // 100: h - h * 1 // 100, w * 4 // 100: w - w * 5 // 100],
                                   (w * 4 // 5, h * 4 // 5), interpolation=cv2.INTER_AREA),
    }
    night2 = []
    for i, (name, img) in enumerate(copies.items()):
        save_jpeg(img, tmp_path / "p" / "B" / name, exif=False, quality=70)  # a re-saved copy: no camera EXIF
        files = [("machine_running", f"B/{name}"), *_shots(tmp_path, f"B{i}", [500 + i])]
        night2.append(order(f"B{i}", "E7", files, day="03"))
    viols = _scan(tmp_path, cfg, "n2", night2, db)
    found = _reuse(viols)
    assert [(o, p) for o, p, _ in found] == [(f"B{i}", f"B/{n}") for i, n in enumerate(copies)]
    # each names the original, or an earlier copy of it (the nearest match: the evidence is its distance)
    assert all(other == "A1" or (other.startswith("B") and other < o) for o, _, other in found)
    assert found[0][2] == "A1"
    ev = next(v for v in viols if v["check"] == "reuse.photo")
    assert ev["clause"] == 50 and ev["verdict"] == "violation"
    assert ev["evidence"]["other_photo"] == "A1/0.jpg"
    assert ev["evidence"]["distance_bits"] <= ev["evidence"]["radius_bits"]
    verdicts = {v["photo"]: v["verdict"] for v in viols if v["check"] == "reuse.photo"}
    assert verdicts["B/resized.jpg"] == verdicts["B/brighter.jpg"] == "violation"  # the fine 256-bit tier
    assert verdicts["B/cropped.jpg"] in ("violation", "review")
    crop5 = next(v for v in viols if v["check"] == "reuse.photo" and v["photo"] == "B/cropped5.jpg")
    assert crop5["evidence"]["match"] == "perceptual_window"
    certain = crop5["evidence"]["distance_bits"] <= thresholds(cfg).crop_window_certain_radius
    assert crop5["verdict"] == ("violation" if certain else "review")


def test_same_photo_twice_in_one_order_is_not_reuse(tmp_path: Path, cfg: Config) -> None:
    files = _shots(tmp_path, "A", [1, 2])
    rec = order("A", "E1", [*files, ("install_env", files[0][1])])
    assert _reuse(_scan(tmp_path, cfg, "n1", [rec], tmp_path / "h.sqlite")) == []


def test_blank_walls_do_not_match_each_other(tmp_path: Path, cfg: Config) -> None:
    recs = []
    for i in range(4):
        save_jpeg(wall(i), tmp_path / "p" / f"W{i}.jpg")
        recs.append(order(f"W{i}", f"E{i}", [("install_env", f"W{i}.jpg")]))
        # a wall beside a dark door frame: the frame's edge gives the whole picture structure (quality over
        # the floor), the centre window is flat; re-saved without EXIF, so the crop tier is searched too
        framed = wall(10 + i)
        framed[:, : 40 + 9 * i] = 25
        save_jpeg(framed, tmp_path / "p" / f"F{i}.jpg", exif=False)
        recs.append(order(f"F{i}", f"E{i}", [("install_env", f"F{i}.jpg")]))
    assert _reuse(_scan(tmp_path, cfg, "n1", recs, tmp_path / "h.sqlite")) == []


def test_within_a_night_the_later_upload_is_the_copy(tmp_path: Path, cfg: Config) -> None:
    files = _shots(tmp_path, "X", [77])
    first_in_file = order("LATE", "E1", files, uploaded="18:00")   # uploaded later, listed first
    second = order("EARLY", "E2", files, uploaded="12:00")
    viols = _scan(tmp_path, cfg, "n1", [first_in_file, second], tmp_path / "h.sqlite")
    assert _reuse(viols) == [("LATE", "X/0.jpg", "EARLY")]
    assert viols and all(v["order_id"] != "EARLY" for v in viols if v["check"] == "reuse.photo")


def test_device_with_serial_of_another_engineer_goes_to_review(tmp_path: Path, cfg: Config) -> None:
    db = tmp_path / "h.sqlite"
    n1 = [order("A", "E1", _shots(tmp_path, "A", [1], serial="SN-PHONE-1"))]
    _scan(tmp_path, cfg, "n1", n1, db)
    n2 = [order("B", "E2", _shots(tmp_path, "B", [2], serial="SN-PHONE-1")),   # E1's phone
          order("C", "E1", _shots(tmp_path, "C", [3], serial="SN-PHONE-1")),   # E1's own phone
          order("D", "E3", _shots(tmp_path, "D", [4]))]                        # a common model: no finding
    viols = _scan(tmp_path, cfg, "n2", n2, db)
    dev = [(v["order_id"], v["clause"], v["verdict"]) for v in viols if v["check"] == "device.other_engineer"]
    assert dev == [("B", 43, "review")]


def test_make_model_alone_needs_many_orders_of_one_other_engineer(tmp_path: Path, cfg: Config) -> None:
    db = tmp_path / "h.sqlite"
    need = 20  # device_min_other_orders in models/thresholds/authenticity.toml
    few = [order(f"A{i}", "E1", _shots(tmp_path, f"A{i}", [100 + i], make="RareCo", model="R1"))
           for i in range(need - 1)]
    _scan(tmp_path, cfg, "n1", few, db)
    probe = order("P", "E2", _shots(tmp_path, "P", [900], make="RareCo", model="R1"))
    assert not [v for v in _scan(tmp_path, cfg, "n2", [probe], db) if v["check"] == "device.other_engineer"]
    more = [order("A99", "E1", _shots(tmp_path, "A99", [199], make="RareCo", model="R1"))]
    _scan(tmp_path, cfg, "n3", more, db)
    probe2 = order("P2", "E2", _shots(tmp_path, "P2", [901], make="RareCo", model="R1"))
    # P (E2) is now in the history too: two engineers used the model, so it is not distinctive
    assert not [v for v in _scan(tmp_path, cfg, "n4", [probe2], db) if v["check"] == "device.other_engineer"]
    probe3 = order("P3", "E3", _shots(tmp_path, "P3", [902], make="OtherCo", model="Q1"))
    assert not [v for v in _scan(tmp_path, cfg, "n5", [probe3], db) if v["check"] == "device.other_engineer"]


# --- concurrency and kills ----------------------------------------------------------------------

_SCAN = [sys.executable, "-c", "import sys; from wocheck.cli import main; sys.exit(main())"]


def _cli_scan(tmp_path: Path, name: str, db: Path) -> subprocess.Popen[bytes]:
    with (tmp_path / f"{name}.stderr").open("ab") as err:  # a file, not a pipe: a kill leaves no reader waiting
        return subprocess.Popen([*_SCAN, "scan", str(tmp_path / f"{name}.jsonl"), "--photos", str(tmp_path / "p"),
                                 "--out", str(tmp_path / f"out_{name}"), "--db", str(db), "--workers", "1",
                                 "--quiet"], stdout=subprocess.DEVNULL, stderr=err)


def _finish(p: subprocess.Popen[bytes], tmp_path: Path, name: str) -> None:
    p.wait(timeout=240)
    assert p.returncode in (0, 1), (tmp_path / f"{name}.stderr").read_text(encoding="utf-8", errors="replace")


def _integrity(db: Path) -> tuple[str, int, int, int]:
    con = sqlite3.connect(db)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        orders = con.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        photos = con.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        orphans = con.execute("SELECT COUNT(*) FROM photos WHERE order_id NOT IN (SELECT order_id FROM orders)"
                              ).fetchone()[0]
        return ok, orders, photos, orphans
    finally:
        con.close()


def _records(path: Path) -> set[str]:
    return {json.dumps(json.loads(x), sort_keys=True) for x in path.read_text(encoding="utf-8").splitlines()}


@pytest.mark.slow
def test_two_scans_at_once_on_one_database(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    a = [order(f"A{i}", "E1", _shots(tmp_path, f"A{i}", [i, 1000 + i])) for i in range(8)]
    b = [order(f"B{i}", "E2", _shots(tmp_path, f"B{i}", [2000 + i, 3000 + i])) for i in range(8)]
    b[4]["photos"][0]["file"] = "A3/0.jpg"  # one photo used by both nights' orders
    write_orders(tmp_path / "a.jsonl", a)
    write_orders(tmp_path / "b.jsonl", b)
    procs = [_cli_scan(tmp_path, "a", db), _cli_scan(tmp_path, "b", db)]
    for p in procs:  # both ended before any assertion, so a failure leaves no scan running
        p.wait(timeout=240)
    for p, name in zip(procs, "ab", strict=True):
        _finish(p, tmp_path, name)
    assert _integrity(db) == ("ok", 16, 32, 0)
    viols = [json.loads(x) for n in "ab" for x in (tmp_path / f"out_{n}" / "violations.jsonl").read_text().splitlines()]
    # whichever scan came second, the shared photo is caught exactly once, on the later upload
    assert len([v for v in viols if v["check"] == "reuse.photo"]) == 1


@pytest.mark.slow
def test_scan_killed_midway_then_rerun(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    n = 30
    recs = [order(f"K{i:02d}", "E1", _shots(tmp_path, f"K{i}", [i, 500 + i])) for i in range(n)]
    recs[25]["photos"][0]["file"] = "K1/0.jpg"  # a reuse inside the night
    write_orders(tmp_path / "k.jsonl", recs)
    p = _cli_scan(tmp_path, "k", db)
    recorded = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        if db.exists():
            try:
                recorded = _integrity(db)[1]
            except sqlite3.OperationalError:
                recorded = 0
            if recorded >= 3:
                break
        time.sleep(0.02)
    assert p.poll() is None, "the scan ended before it could be killed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    ok, orders_at_kill, photos, orphans = _integrity(db)
    assert ok == "ok" and orphans == 0 and 3 <= orders_at_kill < n
    assert photos == 2 * orders_at_kill  # whole orders only
    assert not (tmp_path / "out_k" / "violations.jsonl").exists()  # no half file under the final name
    _finish(_cli_scan(tmp_path, "k", db), tmp_path, "k")
    assert _integrity(db) == ("ok", n, 2 * n, 0)
    rerun = _records(tmp_path / "out_k" / "violations.jsonl")
    # the same night on a fresh database gives the same records
    _finish(_cli_scan(tmp_path, "k", tmp_path / "fresh.sqlite"), tmp_path, "k")
    assert rerun == _records(tmp_path / "out_k" / "violations.jsonl")
    assert sum(json.loads(r)["check"] == "reuse.photo" for r in rerun) == 1


def test_a_flat_centre_is_neither_recorded_nor_searched_by_the_crop_tier(tmp_path: Path, cfg: Config) -> None:
    from wocheck.history.checks import HistoryChecks
    from wocheck.history.store import open_store
    from wocheck.metrics.hashing import photo_hashes
    from wocheck.pipeline.work import OrderResult, PhotoResult

    g = cv2.cvtColor(scene(21), cv2.COLOR_BGR2GRAY)
    h = photo_hashes(g)
    e = photo_hashes(cv2.resize(g[30:-10, 40:-20], (600, 450), interpolation=cv2.INTER_AREA))  # cropped copy
    assert h.centre_quality >= 50 and hamming(h.hash256, e.hash256) > 31  # only the crop tier finds it

    def result(oid: str, hashes: Any, centre_quality: int) -> OrderResult:
        data = {"hash256": hashes.hash256.hex(), "phash64": hashes.phash64.hex(), "hash_quality": hashes.quality,
                "hash_centre": hashes.centre.hex(), "crop_probes": hashes.probes.hex(),
                "centre_quality": centre_quality}
        rec = Order.model_validate(order(oid, "E1" if oid.startswith("A") else "E2",
                                         [("machine_running", f"{oid}.jpg")]))
        return OrderResult(order=rec, findings=(), input_errors=(), photos=(PhotoResult(
            slot=Slot.machine_running, file=f"{oid}.jpg", usable=True, data=data),))

    with open_store(tmp_path / "h.sqlite") as store:
        checks = HistoryChecks(store, cfg)
        checks.record(result("A_flat", h, 10), [], None)  # the same picture, its centre called flat
        assert checks.check(result("B", e, e.centre_quality)) == []  # not recorded: nothing to find
        checks.record(result("A", h, h.centre_quality), [], None)
        found = checks.check(result("B", e, e.centre_quality))
        assert [(oid, f.evidence["other_order_id"], f.evidence["match"]) for oid, f in found] == [
            ("B", "A", "perceptual_window")]
        assert checks.check(result("C", e, 10)) == []  # a flat query centre: the crop tier is not searched

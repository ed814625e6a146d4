"""Nameplate codes: region finding and ladder steps (properties), the inspector on synthetic label photos,
the order-level cross-checks (contract section 4) and `wocheck inspect --slot code_label`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_codes_synth import photograph, render_label, save_jpeg
from wocheck.config import Config
from wocheck.engines.base import DecodedCode
from wocheck.engines.zxing import ZxingEngine
from wocheck.inspectors.base import PhotoContext
from wocheck.inspectors.codes import (
    CodeThresholds,
    check_codes,
    inspect_code_label,
    read_label,
)
from wocheck.io.images import load_photo
from wocheck.metrics.codes import (
    binarize,
    code_regions,
    deskew_angle,
    dominant_orientation,
    normalize_contrast,
    rotate,
    sharpen,
    skew_angle,
    upscale,
)
from wocheck.pipeline.work import PhotoResult
from wocheck.policy import clause_of, verdict_of
from wocheck.records import Order, Slot

SN4 = "NVK4A2412000731"
SN8 = "NVK8A2412000731"
IMEI = "356938035643809"
MAC = "A4CF123B9E01"


# --- metrics ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("img", [np.zeros((0, 0), np.uint8), np.zeros((5, 5), np.uint8),
                                 np.full((300, 400), 128, np.uint8), np.zeros((300, 400), np.float32)])
def test_code_regions_on_degenerate_images(img: np.ndarray) -> None:
    assert code_regions(img) == []


def test_code_regions_find_the_label_and_scale_with_the_image() -> None:
    ph = photograph(render_label(SN4), canvas=(1000, 750), scale=0.6)
    regs = code_regions(ph)
    assert regs, "no region on a label photo"
    x, y, w, h = regs[0].box
    assert 250 < x + w / 2 < 750 and 200 < y + h / 2 < 550  # around the centre where the label is
    assert regs[0].coherence > 0.5  # a 1D code: parallel edges
    half = code_regions(cv2.resize(ph, (500, 375), interpolation=cv2.INTER_AREA))
    assert half
    cx = (half[0].box[0] + half[0].box[2] / 2) * 2
    assert abs(cx - (x + w / 2)) < 60


@given(st.floats(-80, 80))
@settings(max_examples=15, deadline=None)
def test_dominant_orientation_follows_rotation(angle: float) -> None:
    bars = np.zeros((200, 200), np.uint8)
    bars[:, ::8] = 255
    bars[:, 1::8] = 255
    rot = rotate(bars, angle, border=0)
    c = rot.shape[0] // 2
    crop = rot[c - 60:c + 60, c - 60:c + 60]
    direction, coherence = dominant_orientation(crop)
    assert 0 <= direction < 180 and 0 <= coherence <= 1
    assert coherence > 0.8
    back = deskew_angle(direction)
    # rotating by the deskew angle undoes the rotation (modulo 180)
    assert min(abs((angle + back) % 180), 180 - abs((angle + back) % 180)) < 4


@given(st.floats(-40, 40))
@settings(max_examples=15, deadline=None)
def test_skew_angle_undoes_a_turned_label(angle: float) -> None:
    label = np.full((300, 500), 255, np.uint8)
    label[40:200, 40:460:6] = 0  # bars
    label[40:200, 41:460:6] = 0
    cv2.rectangle(label, (5, 5), (494, 294), 0, 3)  # the sticker's border, at right angles to the bars
    turned = rotate(label, angle)
    skew, share = skew_angle(turned)
    assert -45 <= skew <= 45 and 0 <= share <= 1
    assert abs(skew + angle) < 2.5  # rotating by `skew` brings it back
    assert skew_angle(np.full((50, 50), 9, np.uint8)) == (0.0, 0.0)


@pytest.mark.parametrize("fn", [normalize_contrast, lambda g: upscale(g, 2), sharpen, binarize,
                                lambda g: rotate(g, 30)])
def test_ladder_steps_keep_uint8_and_accept_degenerate_input(fn: Any) -> None:
    rng = np.random.default_rng(0)
    g = rng.integers(0, 256, (40, 60), dtype=np.uint8)
    out = fn(g)
    assert out.dtype == np.uint8 and out.ndim == 2 and out.size >= g.size * 0.9
    assert fn(np.zeros((0, 0), np.uint8)).size == 0
    assert fn(g.astype(np.float64)).dtype == np.uint8


def test_upscale_doubles_and_sharpen_raises_contrast() -> None:
    g = cv2.GaussianBlur(np.kron(np.eye(8, dtype=np.uint8) * 255, np.ones((10, 10), np.uint8)), (0, 0), 2)
    assert upscale(g, 2).shape == (160, 160)
    assert float(np.abs(np.diff(sharpen(g, amount=2).astype(float))).mean()) > float(
        np.abs(np.diff(g.astype(float))).mean())


# --- the inspector on synthetic photos --------------------------------------------------------------------


def _ctx(cfg: Config, order: Order | None = None, file: str = "x.jpg") -> PhotoContext:
    return PhotoContext(order=order, cfg=cfg, slot=Slot.code_label, file=file)


def _read(tmp_path: Path, cfg: Config, label: np.ndarray, name: str = "p.jpg", orientation: int | None = None,
          **shot: Any) -> dict[str, Any]:
    p = tmp_path / name
    save_jpeg(photograph(label, **shot), p, orientation=orientation)
    out = inspect_code_label(load_photo(p), _ctx(cfg))
    return {"out": out, "kinds": {(c["kind"], c["text"]) for c in out.data["codes"]}}


@pytest.mark.slow
@pytest.mark.parametrize("shot", [
    {"canvas": (1600, 1200), "scale": 1.2},
    {"canvas": (4000, 3000), "scale": 1.0},  # small in the frame: read on a full-resolution crop
    {"canvas": (1600, 1200), "scale": 1.2, "angle": 25},  # a 1D code at an angle: deskewed
    {"canvas": (1600, 1200), "scale": 1.5, "blur": 2.0},
])
def test_sn_read_from_a_household_label(tmp_path: Path, cfg: Config, shot: dict[str, Any]) -> None:
    r = _read(tmp_path, cfg, render_label(SN4), **shot)
    assert ("sn", SN4) in r["kinds"]
    assert r["out"].data["codes_missing"] == []
    c = next(c for c in r["out"].data["codes"] if c["kind"] == "sn")
    assert c["symbology"] == "code128" and c["engine"] in ("zxing", "zbar") and len(c["box"]) == 4
    assert r["out"].findings == ()


def test_qr_payload_gives_sn_imei_mac_with_boxes_in_the_photo(tmp_path: Path, cfg: Config) -> None:
    r = _read(tmp_path, cfg, render_label(SN8, imei=IMEI, mac=MAC), canvas=(1600, 1200), scale=1.2)
    assert {("sn", SN8), ("imei", IMEI), ("mac", MAC)} <= r["kinds"]
    for c in r["out"].data["codes"]:
        x, y, w, h = c["box"]
        assert 0 <= x <= 1600 and 0 <= y <= 1200 and x + w <= 1601 and y + h <= 1201
    assert {a.ok for a in r["out"].annotations} == {True}


def test_exif_orientation_6_label(tmp_path: Path, cfg: Config) -> None:
    r = _read(tmp_path, cfg, render_label(SN4), orientation=6, canvas=(1600, 1200), scale=1.2)
    assert ("sn", SN4) in r["kinds"]


def test_unreadable_label_is_flagged_without_an_order(tmp_path: Path, cfg: Config) -> None:
    r = _read(tmp_path, cfg, render_label(SN4), canvas=(1600, 1200), scale=0.5, blur=6)
    out = r["out"]
    assert not any(k == "sn" for k, _ in r["kinds"])
    assert [m["kind"] for m in out.data["codes_missing"]] == ["sn"]
    assert [f.check for f in out.findings] == ["codes.unreadable"]
    assert clause_of(out.findings[0], cfg) == 49


def test_blank_photo_has_no_code(tmp_path: Path, cfg: Config) -> None:
    p = tmp_path / "blank.jpg"
    save_jpeg(np.full((600, 800), 200, np.uint8), p)
    out = inspect_code_label(load_photo(p), _ctx(cfg))
    assert out.data["codes"] == [] and out.data["codes_missing"][0]["reason"] == "no_code_found"


class _Crashing:
    name = "crashing"

    def available(self) -> bool:
        return True

    def decode(self, gray: np.ndarray, symbologies: Any) -> tuple[DecodedCode, ...]:
        raise RuntimeError("engine blew up")


def test_a_crashing_engine_costs_nothing_but_its_own_reads(tmp_path: Path, cfg: Config) -> None:
    p = tmp_path / "c.jpg"
    save_jpeg(photograph(render_label(SN4), canvas=(1600, 1200), scale=1.2), p)
    th = CodeThresholds()
    r = read_label(load_photo(p), cfg, th, engines=[_Crashing(), ZxingEngine()])
    assert any(v.value == SN4 for c in r.codes for v in c.values)
    assert r.engine_errors and r.engine_errors[0]["kind"] == "crash"
    dead = read_label(load_photo(p), cfg, th.model_copy(update={"ocr": False}), engines=[_Crashing()])
    assert dead.codes == [] and dead.missing() == ["sn"] and len(dead.engine_errors) >= 1


class _FullResolutionOnly:
    """zxing-cpp that reads nothing on views of at most ``min_side`` px (a code that needs every pixel)."""

    name = "zxing_full"

    def __init__(self, min_side: int) -> None:
        self.min_side = min_side
        self.sizes: list[int] = []

    def available(self) -> bool:
        return True

    def decode(self, gray: np.ndarray, symbologies: Any) -> tuple[DecodedCode, ...]:
        self.sizes.append(max(gray.shape))
        return ZxingEngine().decode(gray, symbologies) if max(gray.shape) > self.min_side else ()


def _big_label_photo(tmp_path: Path, orientation: int | None = None) -> Path:
    # 4000x3000, the label too small for the 1000-px preview, its crop larger than reduced_side
    p = tmp_path / "big.jpg"
    save_jpeg(photograph(render_label(SN4), canvas=(4000, 3000), scale=1.5), p, orientation=orientation)
    return p


@pytest.mark.parametrize("orientation", [None, 6])
def test_a_large_crop_is_read_at_half_resolution_with_full_size_boxes(tmp_path: Path, cfg: Config,
                                                                    orientation: int | None) -> None:
    photo = load_photo(_big_label_photo(tmp_path, orientation))
    th = CodeThresholds(reduced_side=1200, ocr=False)
    fast = read_label(photo, cfg, th)
    full = read_label(load_photo(photo.path), cfg, th.model_copy(update={"reduced_side": 0}))
    sn_fast = next(c for c in fast.codes if c.values[0].value == SN4)
    sn_full = next(c for c in full.codes if c.values[0].value == SN4)
    assert sn_fast.step == "reduced" and sn_full.step == "crop"
    # the same code, at the same place in full-size px (a half-resolution pixel is 2 px)
    assert np.allclose(sn_fast.code.box, sn_full.code.box, atol=6)
    assert ("L", None) not in photo._cache  # no full-resolution decode was needed


def test_a_code_the_reduced_view_cannot_read_is_read_at_full_resolution(tmp_path: Path, cfg: Config) -> None:
    photo = load_photo(_big_label_photo(tmp_path))
    eng = _FullResolutionOnly(min_side=1200)
    r = read_label(photo, cfg, CodeThresholds(reduced_side=1200, ocr=False), engines=[eng])
    assert [c.values[0].value for c in r.codes] == [SN4] and r.codes[0].step == "crop"
    assert any(s <= 1200 for s in eng.sizes[1:])  # the reduced rung was tried first, and gave nothing


@pytest.mark.parametrize("reduced_side, reduced_rungs", [(1600, False), (1000, True)])
def test_a_crop_no_larger_than_reduced_side_has_no_reduced_rung(tmp_path: Path, cfg: Config, reduced_side: int,
                                                                 reduced_rungs: bool) -> None:
    p = tmp_path / "small.jpg"
    save_jpeg(photograph(render_label(SN4), canvas=(1600, 1200), scale=1.6), p)
    r = read_label(load_photo(p), cfg, CodeThresholds(reduced_side=reduced_side, ocr=False),
                   engines=[_FullResolutionOnly(min_side=1000)])  # not on the preview: on the crop
    assert [c.values[0].value for c in r.codes] == [SN4] and r.codes[0].step == "crop"
    assert (r.views > 2) == reduced_rungs  # preview, (reduced rungs: nothing), crop


# --- order-level cross-checks -----------------------------------------------------------------------------


def _order(**kw: Any) -> Order:
    from conftest import order_dict

    return Order.model_validate(order_dict(**kw))


def _entry(kind: str, text: str, *, source: str = "barcode", symbology: str = "code128") -> dict[str, Any]:
    return {"kind": kind, "symbology": symbology, "text": text, "box": [10, 20, 300, 80], "engine": "zxing",
            "source": source, "confidence": 0.99 if source == "barcode" else 0.7}


def _label(file: str, *entries: dict[str, Any], missing: tuple[str, ...] = ()) -> PhotoResult:
    return PhotoResult(slot=Slot.code_label, file=file, usable=True,
                       data={"codes": list(entries), "codes_missing": [{"kind": k, "reason": "undecodable"}
                                                                       for k in missing],
                             "codes_unread_regions": [[1, 2, 3, 4]] if missing else []})


def _checks(order: Order, cfg: Config, *photos: PhotoResult) -> dict[str, tuple[int, str]]:
    return {f.check: (clause_of(f, cfg), verdict_of(f, cfg)) for f in check_codes(order, cfg, photos)}


RO600 = {"model": "NVK-RO600", "machine_code": "NVK6A2412000731", "mac": "A4CF123B9E01"}


def test_matching_codes_give_no_finding(cfg: Config) -> None:
    o = _order(**RO600)
    assert _checks(o, cfg, _label("a.jpg", _entry("sn", "NVK6A2412000731"),
                                  _entry("mac", "A4CF123B9E01", symbology="qr"))) == {}


@pytest.mark.parametrize("mac", ["a4:cf:12:3b:9e:01", "A4-CF-12-3B-9E-01", "a4cf123b9e01"])
def test_mac_written_with_separators_or_lower_case_matches(cfg: Config, mac: str) -> None:
    o = _order(**{**RO600, "mac": mac})
    assert _checks(o, cfg, _label("a.jpg", _entry("sn", "NVK6A2412000731"), _entry("mac", MAC, symbology="qr"))) == {}


def test_two_label_photos_one_blurred_the_sharp_one_counts(cfg: Config) -> None:
    o = _order(**RO600)
    blurred = _label("blur.jpg", missing=("sn",))
    sharp = _label("sharp.jpg", _entry("sn", "NVK6A2412000731"), _entry("mac", MAC, symbology="qr"))
    assert _checks(o, cfg, blurred, sharp) == {}
    assert _checks(o, cfg, blurred)["codes.unreadable"] == (49, "violation")


@pytest.mark.parametrize("plate, check, clause", [
    ("NVK6A2412000781", "codes.sn_typo", 42),  # 1 character
    ("NVK6A2412000181", "codes.sn_typo", 42),  # 2 characters
    ("NVK6A2412345678", "codes.sn_mismatch", 50),
    ("NVK8A2412000731", "codes.sn_other_model", 44),
])
def test_sn_cross_checks(cfg: Config, plate: str, check: str, clause: int) -> None:
    o = _order(**RO600)
    got = _checks(o, cfg, _label("a.jpg", _entry("sn", plate), _entry("mac", MAC, symbology="qr")))
    assert got[check] == (clause, "violation")
    assert ("codes.sn_typo" in got) + ("codes.sn_mismatch" in got) <= 1


def test_sn_finding_evidence_names_the_code(cfg: Config) -> None:
    o = _order(**RO600)
    photo = _label("a.jpg", _entry("sn", "NVK6A2412345678"), _entry("mac", MAC, symbology="qr"))
    (f,) = [f for f in check_codes(o, cfg, (photo,)) if f.check == "codes.sn_mismatch"]
    ev = f.evidence
    assert ev["symbology"] == "code128" and ev["text"] == "NVK6A2412345678" and ev["photo"] == "a.jpg"
    assert ev["box_px"] == [10, 20, 300, 80] and ev["distance"] > 2 and f.photo == "a.jpg"


@pytest.mark.parametrize("machine_code", ["", None, "NVK6A24120007", "ABC"])
def test_no_double_report_when_the_record_code_is_empty_or_malformed(cfg: Config, machine_code: str | None) -> None:
    o = _order(**{**RO600, "machine_code": machine_code})
    got = _checks(o, cfg, _label("a.jpg", _entry("sn", "NVK6A2412000731"), _entry("mac", MAC, symbology="qr")))
    assert got == {}


def test_imei_and_mac_cross_checks(cfg: Config) -> None:
    o = _order(model="NVK-RO800", machine_code=SN8, imei=IMEI, mac=MAC)
    ok = _label("a.jpg", _entry("sn", SN8), _entry("imei", IMEI), _entry("mac", MAC, symbology="qr"))
    assert _checks(o, cfg, ok) == {}
    other_imei = "490154203237518"
    got = _checks(o, cfg, _label("a.jpg", _entry("sn", SN8), _entry("imei", other_imei),
                                 _entry("mac", "A4CF123B9E02", symbology="qr")))
    assert got == {"codes.imei_mismatch": (50, "violation"), "codes.mac_mismatch": (50, "violation")}
    got = _checks(o, cfg, _label("a.jpg", _entry("sn", SN8)))
    assert got == {"codes.imei_unreadable": (49, "violation"), "codes.mac_unreadable": (49, "violation")}


def test_record_without_imei_is_not_compared(cfg: Config) -> None:
    o = _order(model="NVK-RO800", machine_code=SN8, imei=None, mac=MAC)
    got = _checks(o, cfg, _label("a.jpg", _entry("sn", SN8), _entry("imei", IMEI), _entry("mac", MAC, symbology="qr")))
    assert got == {}  # record.imei_missing (42) already says it


def test_ocr_reading_that_differs_goes_to_review(cfg: Config) -> None:
    o = _order(**RO600)
    got = _checks(o, cfg, _label("a.jpg", _entry("sn", "NVK6A2412000781", source="ocr"),
                                 _entry("mac", MAC, symbology="qr")))
    assert got == {"codes.sn_typo": (42, "review")}
    same = _checks(o, cfg, _label("a.jpg", _entry("sn", "NVK6A2412000731", source="ocr"),
                                  _entry("mac", MAC, symbology="qr")))
    assert same == {}


def test_no_usable_label_photo_is_left_to_slot_missing(cfg: Config) -> None:
    o = _order(**RO600)
    bad = PhotoResult(slot=Slot.code_label, file="a.jpg", usable=False, error_kind="corrupt")
    assert check_codes(o, cfg, (bad,)) == []
    assert check_codes(o, cfg, ()) == []


# --- CLI --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_inspect_lists_codes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from wocheck.cli import app

    p = tmp_path / "label.jpg"
    save_jpeg(photograph(render_label(SN8, imei=IMEI, mac=MAC), canvas=(1600, 1200), scale=1.2), p)
    res = CliRunner().invoke(app, ["inspect", str(p), "--slot", "code_label", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    kinds = {(c["kind"], c["text"]) for c in doc["codes"]}
    assert {("sn", SN8), ("imei", IMEI), ("mac", MAC)} <= kinds
    assert all({"kind", "symbology", "text", "box", "engine"} <= set(c) for c in doc["codes"])
    assert doc["findings"] == []


# --- OCR fallback -----------------------------------------------------------------------------------------


def test_ocr_fallback_reads_the_printed_sn_when_no_barcode_engine_can(tmp_path: Path, cfg: Config) -> None:
    p = tmp_path / "ocr.jpg"
    save_jpeg(photograph(render_label("NVK6A2412000731"), canvas=(1600, 1200), scale=1.3), p)
    r = read_label(load_photo(p), cfg, CodeThresholds(), engines=[])
    assert r.ocr_tried
    got = [(v.kind, v.value, c.source) for c in r.codes for v in c.values]
    assert ("sn", "NVK6A2412000731", "ocr") in got


def test_ocr_tokens_pass_only_the_format_check(cfg: Config) -> None:
    from wocheck.inspectors.codes import _ocr_values

    def kinds(*words: str) -> list[tuple[str, str]]:
        return [(v.kind, v.value) for v, _, _ in _ocr_values([(w, 0.9, (0, 0, 1, 1)) for w in words], cfg, 0.0)]

    assert kinds("SN:NVK6A24I2OOO731") == [("sn", "NVK6A2412000731")]  # I/O confusions in digit places
    assert kinds("NVK9Z2412000731") == []  # no such model code in the catalog
    assert kinds("NVK6A2413000731") == []  # month 13
    assert kinds("490154203237518") == [("imei", "490154203237518")]
    assert kinds("490154203237517") == []  # Luhn fails
    assert kinds("MAC:", "A4:CF:12:3B:9E:01") == [("mac", "A4CF123B9E01")]
    assert kinds("A4CF123B9E01") == []  # 12 hex digits without their key: could be anything


def test_sn_read_only_from_the_qr_goes_to_review(cfg: Config) -> None:
    o = _order(**RO600)
    qr_only = _label("a.jpg", _entry("sn", "NVK6A2412000731", symbology="qr"), _entry("mac", MAC, symbology="qr"))
    assert _checks(o, cfg, qr_only) == {"codes.sn_barcode_unreadable": (49, "review")}
    both = _label("b.jpg", _entry("sn", "NVK6A2412000731"))
    assert _checks(o, cfg, qr_only, both) == {}


def test_ocr_repairs_a_confused_model_code() -> None:
    from wocheck.identifiers import repair_ocr_sn

    codes = {"4A", "6A", "8A", "U2", "CA", "CB"}
    assert repair_ocr_sn("NVKBA2407695643", model_codes=codes) == "NVK8A2407695643"
    assert repair_ocr_sn("NVK6A2407695643", model_codes=codes) == "NVK6A2407695643"
    assert repair_ocr_sn("NVKXY2407695643", model_codes=codes) is None


class _Slow:
    name = "slow"

    def available(self) -> bool:
        return True

    def decode(self, gray: np.ndarray, symbologies: Any) -> tuple[DecodedCode, ...]:
        import time

        time.sleep(0.05)
        return ()


def test_reading_stops_at_its_time_budget(tmp_path: Path, cfg: Config) -> None:
    p = tmp_path / "slow.jpg"
    save_jpeg(photograph(render_label(SN4), canvas=(1600, 1200), scale=1.2), p)
    th = CodeThresholds(budget_s=0.01, ocr=False)
    r = read_label(load_photo(p), cfg, th, engines=[_Slow()])
    assert r.budget_exhausted and r.views <= 2 and r.missing() == ["sn"]

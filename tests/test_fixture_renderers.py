"""The fixture factory's object renderers: the filled-in service form and the nameplate sticker.

Forms render at half scale here (5.9 px/mm) to keep the file fast; the properties do not depend on scale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from fixturegen.form import (  # noqa: E402
    NON_FORM_KINDS,
    field_regions,
    load_layout,
    load_master,
    px_per_mm,
    render_form,
    render_non_form,
)
from fixturegen.nameplate import render_nameplate  # noqa: E402

zxingcpp = pytest.importorskip("zxingcpp")
pyzbar = pytest.importorskip("pyzbar.pyzbar")

SCALE = 0.5
FIELDS = {
    "order_no": "WO20261202000123", "service_type": "repair", "customer_name": "王女士", "phone": "13812345678",
    "model": "NVK-RO600", "address": "上海市浦东新区张杨路1200弄5号602", "machine_code": "NVK6A2412000731",
    "water_tds": "86", "fault_symptom": "F02 漏水，前置滤芯接口渗水", "action_taken": "更换快接头，试机无渗漏",
    "parts_replaced": "快接头×2", "charge": "0", "engineer": "张伟", "visit_time": "12-02 14:10",
    "finish_time": "15:20", "satisfaction": "satisfied",
}
TEXT_KEYS = [f["key"] for f in load_layout()["fields"] if f["kind"] == "text"]
LABELS = {
    "RO800": {"model": "NVK-RO800", "sn": "NVK8A2412000731", "imei": "861234567890125", "mac": "A4CF123B9E01",
              "mac_printed": "A4:CF:12:3B:9E:01"},
    "RO600": {"model": "NVK-RO600", "sn": "NVK6A2412000731", "imei": None, "mac": "A4CF123B9E01",
              "mac_printed": "a4-cf-12-3b-9e-01"},
    "RO400": {"model": "NVK-RO400", "sn": "NVK4A2501001234", "imei": None, "mac": None, "mac_printed": None},
}


def _form(seed: int, defects: frozenset[str] = frozenset(), fields: dict[str, str] | None = None):
    return render_form(np.random.default_rng(seed), fields or FIELDS, defects, scale=SCALE)


def ink_pixels(img: np.ndarray, box: tuple[int, int, int, int], inset_mm: float = 0.0) -> int:
    """How many of the box's unprinted pixels (print master white) are much darker than the paper."""
    k = px_per_mm(SCALE)
    x, y, w, h = box
    d = int(round(inset_mm * k))
    x0, y0, x1, y1 = max(x + d, 0), max(y + d, 0), x + w - d, y + h - d
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[y0:y1, x0:x1].astype(np.float32)
    unprinted = load_master(SCALE)[y0:y1, x0:x1] > 200
    paper = float(np.median(gray[unprinted]))
    ink = (gray < paper * 0.72) & unprinted
    return int(ink.sum())


def _grow(box: tuple[int, int, int, int], mm: float) -> tuple[int, int, int, int]:
    d = int(round(mm * px_per_mm(SCALE)))
    return (box[0] - d, box[1] - d, box[2] + 2 * d, box[3] + 2 * d)


# ------------------------------------------------------------------------------------------------ form


def test_form_is_deterministic_per_seed() -> None:
    a, b, c = _form(7), _form(7), _form(8)
    assert np.array_equal(a.image, b.image)
    assert a.regions == b.regions
    assert not np.array_equal(a.image, c.image)


def test_form_shape_scale_and_regions() -> None:
    fo = _form(1)
    h, w = load_master(SCALE).shape
    assert fo.kind == "form"
    assert fo.image.shape == (h, w, 3) and fo.image.dtype == np.uint8
    assert fo.alpha is None  # a clean form is an opaque rectangle
    for f in load_layout()["fields"]:
        assert f["key"] in fo.regions
        for opt in f.get("options", []):
            assert f"{f['key']}:{opt['value']}" in fo.regions
    assert fo.regions == {k: v for k, v in field_regions(SCALE).items()}
    json.dumps(fo.info)  # goes into the truth file as is
    json.dumps(fo.regions)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_form_has_ink_in_every_filled_field_tick_and_signature(seed: int) -> None:
    fo = _form(seed)
    for key in TEXT_KEYS:
        assert ink_pixels(fo.image, fo.regions[key], inset_mm=1.0) > 40, key
    # the chosen option carries a tick, the others stay clean
    for group in ("service_type", "satisfaction"):
        chosen = FIELDS[group]
        assert fo.info["ticks"][group] == chosen
        assert ink_pixels(fo.image, _grow(fo.regions[f"{group}:{chosen}"], 1.0)) > 40, group
    assert fo.info["signature"] is True
    assert ink_pixels(fo.image, fo.regions["customer_signature"], inset_mm=1.0) > 200


def test_blank_fields_no_tick_no_signature_leave_no_ink() -> None:
    blanks = frozenset({f"field_blank:{k}" for k in TEXT_KEYS} | {"no_tick", "no_tick:satisfaction", "no_signature"})
    fo = _form(4, blanks)
    for key in TEXT_KEYS:
        assert ink_pixels(fo.image, fo.regions[key], inset_mm=0.6) <= 2, key
    for key, box in fo.regions.items():
        if key.startswith(("service_type:", "satisfaction:")):
            assert ink_pixels(fo.image, _grow(box, 1.0)) <= 2, key
    assert fo.info["ticks"] == {"service_type": None, "satisfaction": None}
    assert fo.info["signature"] is False
    assert ink_pixels(fo.image, fo.regions["customer_signature"], inset_mm=0.6) <= 2
    assert fo.info["written"] == {}


def test_one_blank_field_among_filled_ones() -> None:
    fo = _form(5, frozenset({"field_blank:machine_code", "field_blank:satisfaction"}))
    assert "machine_code" not in fo.info["written"]
    assert ink_pixels(fo.image, fo.regions["machine_code"], inset_mm=2.0) <= 2
    assert ink_pixels(fo.image, fo.regions["order_no"], inset_mm=1.0) > 40
    assert fo.info["ticks"]["satisfaction"] is None and fo.info["ticks"]["service_type"] == "repair"
    # empty values in `fields` are left blank the same way
    fo2 = _form(5, fields={**FIELDS, "phone": ""})
    assert ink_pixels(fo2.image, fo2.regions["phone"], inset_mm=2.0) <= 2


def _aruco_ids(img: np.ndarray) -> dict[int, np.ndarray]:
    det = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50),
                                  cv2.aruco.DetectorParameters())
    corners, ids, _ = det.detectMarkers(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    return {} if ids is None else {int(i): c.reshape(4, 2) for i, c in zip(ids.ravel(), corners, strict=True)}


def test_markers_detected_on_clean_form() -> None:
    fo = _form(6)
    found = _aruco_ids(fo.image)
    assert set(found) == {0, 1, 2, 3}
    names = {0: "top_left", 1: "top_right", 2: "bottom_right", 3: "bottom_left"}
    for i, corners in found.items():
        x, y, w, h = fo.regions[f"marker:{names[i]}"]
        cx, cy = corners.mean(axis=0)
        assert x <= cx <= x + w and y <= cy <= y + h


def test_torn_corner_is_transparent_there_only() -> None:
    fo = _form(9, frozenset({"torn_corner"}))
    assert fo.alpha is not None and fo.alpha.shape == fo.image.shape[:2]
    corner = fo.info["defects"]["torn_corner"]["corner"]
    h, w = fo.alpha.shape
    cy = 0 if corner.startswith("top") else h - 1
    cx = 0 if corner.endswith("left") else w - 1
    assert fo.alpha[cy, cx] == 0
    assert fo.alpha[h - 1 - cy, w - 1 - cx] == 255
    x, y, bw, bh = fo.regions["torn_corner"]
    holes = fo.alpha < 128
    inside = holes[y:y + bh, x:x + bw].sum()
    assert inside == holes.sum() > 0
    assert holes.mean() < 0.05  # a corner, not the page


def test_stain_changes_only_its_region() -> None:
    clean, stained = _form(11), _form(11, frozenset({"stain"}))
    diff = np.abs(clean.image.astype(int) - stained.image.astype(int)).max(axis=2) > 8
    x, y, w, h = stained.regions["stain"]
    assert diff.sum() > 0.01 * diff.size  # sizeable
    outside = diff.copy()
    outside[y:y + h, x:x + w] = False
    assert outside.sum() == 0


def test_mild_fold_is_soft_and_crumpled_is_not() -> None:
    clean = _form(12)
    fold = _form(12, frozenset({"mild_fold"}))
    crum = _form(12, frozenset({"crumpled"}))
    d_fold = np.abs(clean.image.astype(np.float32) - fold.image.astype(np.float32))
    assert fold.alpha is None  # no warp
    assert 0 < d_fold.mean() < 3.0 and np.percentile(d_fold, 99.9) < 30
    assert crum.alpha is not None and (crum.alpha == 0).any()  # edges pulled in: wavy outline
    gray_c = cv2.cvtColor(clean.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gray_k = cv2.cvtColor(crum.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    assert np.abs(gray_c - gray_k).mean() > 3 * np.abs(gray_c - cv2.cvtColor(
        fold.image, cv2.COLOR_BGR2GRAY).astype(np.float32)).mean()


@pytest.mark.parametrize("kind", NON_FORM_KINDS)
def test_non_form_is_an_image_without_markers(kind: str) -> None:
    img = render_non_form(np.random.default_rng(5), kind)
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
    assert min(img.shape[:2]) >= 800
    assert _aruco_ids(img) == {}
    assert img.std() > 10  # not a blank frame


def test_non_form_is_deterministic_and_varied() -> None:
    a = render_non_form(np.random.default_rng(1), "box_label")
    assert np.array_equal(a, render_non_form(np.random.default_rng(1), "box_label"))
    assert not np.array_equal(a, render_non_form(np.random.default_rng(2), "box_label"))
    with pytest.raises(ValueError, match="unknown non-form kind"):
        render_non_form(np.random.default_rng(1), "poster")


# ------------------------------------------------------------------------------------------------ nameplate


def _decode(img: np.ndarray) -> set[str]:
    zx = {r.text for r in zxingcpp.read_barcodes(img)}
    zb = {r.data.decode() for r in pyzbar.decode(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY),
                                                 symbols=[pyzbar.ZBarSymbol.CODE128, pyzbar.ZBarSymbol.QRCODE])}
    return zx | zb


def _parse_qr(text: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in text.split(";"))


def test_nameplate_is_deterministic() -> None:
    a = render_nameplate(np.random.default_rng(3), LABELS["RO600"], frozenset())
    b = render_nameplate(np.random.default_rng(3), LABELS["RO600"], frozenset())
    assert np.array_equal(a.image, b.image) and a.regions == b.regions
    assert a.kind == "nameplate" and a.image.dtype == np.uint8
    json.dumps(a.info)
    json.dumps(a.regions)


@pytest.mark.parametrize(("name", "defects"), [
    ("RO800", frozenset()), ("RO600", frozenset()), ("RO400", frozenset()),
    ("RO800", frozenset({"small_codes"})), ("RO800", frozenset({"scratched"})), ("RO600", frozenset({"small_codes"})),
])
def test_nameplate_codes_decode_when_clean(name: str, defects: frozenset[str]) -> None:
    label = LABELS[name]
    fo = render_nameplate(np.random.default_rng(sum(map(ord, name + "".join(sorted(defects))))), label, defects)
    read = {r.text: r for r in zxingcpp.read_barcodes(fo.image)}
    assert label["sn"] in read and read[label["sn"]].format.name == "Code128"
    assert "sn_barcode" in fo.regions
    if label["imei"]:
        assert label["imei"] in read and "imei_barcode" in fo.regions
    else:
        assert "imei_barcode" not in fo.regions
    qrs = [t for t, r in read.items() if r.format.name == "QRCode"]
    if label["imei"] or label["mac"]:
        assert len(qrs) == 1
        parsed = _parse_qr(qrs[0])
        want = {"SN": label["sn"]} | ({"MAC": label["mac"]} if label["mac"] else {}) | (
            {"IMEI": label["imei"]} if label["imei"] else {})
        assert parsed == want
        # every decoded code lies inside its region box
        x, y, w, h = fo.regions["qr"]
        pos = read[qrs[0]].position
        assert x - 2 <= pos.top_left.x <= x + w and y - 2 <= pos.top_left.y <= y + h
    else:
        assert qrs == [] and "qr" not in fo.regions
    if label["mac"]:
        assert "text:mac" in fo.regions
    # pyzbar agrees on the SN
    assert label["sn"] in _decode(fo.image)
    # module size recorded for the camera's framing
    assert fo.info["module_px"]["sn_barcode"] >= (3.0 if "small_codes" in defects else 4.5)


@pytest.mark.parametrize("seed", range(4))
def test_nameplate_codes_cut_off_decode_nothing(seed: int) -> None:
    label = LABELS[["RO800", "RO600", "RO400"][seed % 3]]
    fo = render_nameplate(np.random.default_rng(seed), label, frozenset({"codes_cut_off"}))
    assert fo.info["defects"]["codes_cut_off"]["how"] in {"tape", "torn"}
    got = _decode(fo.image)
    assert not any(label["sn"] in t for t in got), got
    if label["imei"]:
        assert not any(label["imei"] in t for t in got), got

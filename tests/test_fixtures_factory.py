"""The fixture factory: deterministic, every contract defect present, truth consistent, EXIF readable."""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from wocheck.identifiers import code_distance, is_valid_imei, parse_sn
from wocheck.io.images import read_exif
from wocheck.io.orders import read_orders

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from fixturegen.orders import (  # noqa: E402
    CATALOG,
    DEFECTS,
    HARD_CASES,
    REQUIRED,
    Sizes,
    haversine_km,
    plan_nights,
    wgs84_to_gcj02,
)

SAMPLE = REPO / "fixtures" / "sample"
BAD = REPO / "fixtures" / "bad_input"
CONTRACT_CLAUSES = set(range(42, 51))


def _all(plans):
    return [o for night in plans for o in night]


@pytest.fixture(scope="module")
def plans_small():
    return plan_nights(7, 40, 2, Sizes(), later_orders=10)


def test_plan_covers_every_defect_and_hard_case(plans_small):
    orders = _all(plans_small)
    names = {d.defect for o in orders for d in o.defects}
    assert {d.name for d in DEFECTS} <= names
    assert {d.clause for o in orders for d in o.defects} == CONTRACT_CLAUSES
    hard = {h for o in orders for h in o.hard_cases}
    assert {h.name for h in HARD_CASES} | {"first_use_of_reused_photo"} <= hard
    # about a third clean, both classes and every order type present
    clean = sum(not o.defects for o in orders)
    assert 0.25 <= clean / len(orders) <= 0.45
    assert {o.record["machine_class"] for o in orders} == {"household", "commercial"}
    assert {o.record["order_type"] for o in orders} == {"install", "repair", "maintenance", "filter_change",
                                                          "relocate"}


def test_plan_one_defect_per_clause_and_required_slots(plans_small):
    for o in _all(plans_small):
        clauses = [d.clause for d in o.defects]
        assert len(clauses) == len(set(clauses)), o.record["order_id"]
        slots = {p["slot"] for p in o.record["photos"]}
        required = set(REQUIRED[(o.record["machine_class"], o.record["order_type"])])
        missing = {d.slot for d in o.defects if d.defect.endswith(".missing")}
        assert required - slots == missing, o.record["order_id"]


def test_plan_is_deterministic_and_seed_dependent():
    a = [o.truth() for o in _all(plan_nights(3, 12, 2, Sizes(), later_orders=4))]
    b = [o.truth() for o in _all(plan_nights(3, 12, 2, Sizes(), later_orders=4))]
    c = [o.truth() for o in _all(plan_nights(4, 12, 2, Sizes(), later_orders=4))]
    assert a == b
    assert a != c


def test_record_defects_mean_what_they_say(plans_small):
    for o in _all(plans_small):
        rec = o.record
        by = {d.defect: d for d in o.defects}
        if "record.sn_typo" in by:
            assert 1 <= code_distance(rec["machine_code"], o.label["sn"]) <= 2
            assert parse_sn(rec["machine_code"]) is not None
        if "record.sn_mismatch" in by:
            assert code_distance(rec["machine_code"], o.label["sn"]) > 2
        if "record.imei_mismatch" in by:
            assert is_valid_imei(rec["imei"]) and rec["imei"] != o.label["imei"]
        if not o.defects:  # a clean order's record matches its nameplate and its model
            assert rec["machine_code"] == o.label["sn"]
            sn = parse_sn(rec["machine_code"])
            assert sn is not None and sn.model_code == CATALOG[rec["model"]][1]
            if o.label["imei"]:
                assert rec["imei"] == o.label["imei"] and is_valid_imei(rec["imei"])


def test_gcj02_offset_is_the_usual_few_hundred_metres():
    lat, lon = 31.2226, 121.5320
    glat, glon = wgs84_to_gcj02(lat, lon)
    assert 0.1 < haversine_km((lat, lon), (glat, glon)) < 0.7


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    from make_fixtures import generate

    out = tmp_path_factory.mktemp("fx")
    sizes = Sizes(base=480, full_res_share=0.0, max_side=480, quality=80)
    generate(out / "a", orders=6, nights=2, seed=11, sizes=sizes, later_orders=3)
    generate(out / "b", orders=6, nights=2, seed=11, sizes=sizes, later_orders=3, workers=2)  # same bytes
    return out


def _digest(d: Path) -> dict[str, str]:
    return {p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_generation_is_byte_identical_for_a_seed_whatever_the_workers(tiny_set):
    a, b = _digest(tiny_set / "a"), _digest(tiny_set / "b")
    assert a == b
    assert any(k.endswith(".jpg") for k in a)


def _check_set(root: Path) -> None:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    for night in manifest["nights"]:
        orders = {}
        for item in read_orders(root / night["orders"]):
            assert item.order is not None, item.error
            orders[item.order.order_id] = item.order
        truth = [json.loads(x) for x in (root / night["truth"]).read_text(encoding="utf-8").splitlines()]
        assert [t["order_id"] for t in truth] == list(orders)
        photo_root = root / night["photos"]
        for t in truth:
            order = orders[t["order_id"]]
            files = {p.file for p in order.photos}
            assert t["clean"] == (not t["defects"])
            for d in t["defects"]:
                assert d["clause"] in CONTRACT_CLAUSES
                if "photo" in d:
                    assert d["photo"] in files
            for p in order.photos:
                path = photo_root / p.file
                with Image.open(path) as im:
                    exif = read_exif(im)
                    raw = im.getexif()
                    if "no_exif" in t["hard_cases"] or any(d.get("photo") == p.file and d["defect"].startswith(
                            "reuse.") for d in t["defects"]):
                        assert exif.captured_at is None
                        continue
                    assert exif.captured_at is not None and exif.make
                    if raw.get(ExifTags.Base.Orientation) == 6:  # stored sideways: landscape pixels, portrait view
                        assert im.width > im.height
                    if exif.gps is not None and order.customer.lat is not None and \
                            getattr(order.customer, "datum", "gcj02") == "gcj02":
                        g = wgs84_to_gcj02(*exif.gps)
                        km = haversine_km(g, (order.customer.lat, order.customer.lon))
                        far = {d["defect"] for d in t["defects"]} & {"exif.gps_far", "exif.gps_near"}
                        if "exif.gps_far" in far:
                            assert km > 2
                        elif "exif.gps_near" in far:
                            assert 0.5 < km < 2
                        else:
                            assert km < 0.5
                    captured = exif.captured_at.replace(tzinfo=order.times.dispatched.tzinfo) \
                        if exif.captured_at.tzinfo is None else exif.captured_at
                    early = (order.times.dispatched - captured).total_seconds() / 3600
                    if any(d["defect"] == "exif.before_dispatch" and d.get("photo") == p.file for d in t["defects"]):
                        assert early > 1
                    else:
                        assert early < 1


@pytest.mark.slow
def test_generated_truth_is_consistent_with_orders_and_photos(tiny_set):
    _check_set(tiny_set / "a")


@pytest.mark.skipif(not SAMPLE.exists(), reason="committed sample set not present")
def test_committed_sample_is_small_complete_and_consistent():
    size = sum(p.stat().st_size for d in (SAMPLE, BAD) for p in d.rglob("*") if p.is_file())
    assert size < 25 * 2**20
    truth = [json.loads(x) for f in sorted(SAMPLE.rglob("truth.jsonl")) for x in f.read_text("utf-8").splitlines()]
    assert {d["defect"] for t in truth for d in t["defects"]} >= {d.name for d in DEFECTS}
    _check_set(SAMPLE)
    # photo sizes: 1600 px and up, a few at full 4000x3000
    sides = []
    for p in (SAMPLE / "photos").rglob("*.jpg"):
        with Image.open(p) as im:
            sides.append(max(im.size))
    assert min(sides) >= 1000 and max(sides) == 4000
    assert math.isfinite(sum(sides))



@pytest.mark.slow
@pytest.mark.skipif(not BAD.exists(), reason="committed bad-input set not present")
def test_bad_input_set_gives_exactly_the_expected_input_errors(tmp_path):
    from wocheck.api import scan
    from wocheck.pipeline.scan import ScanSettings

    expected = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
    summary = scan(ScanSettings(orders_path=BAD / "orders.jsonl", photo_root=BAD / "photos", out_dir=tmp_path))
    errors = [json.loads(x) for x in (tmp_path / "input_errors.jsonl").read_text("utf-8").splitlines()]
    got = sorted((e["line"], e.get("photo")) for e in errors)
    want = sorted((e["line"], e.get("photo")) for e in expected["input_errors"])
    assert got == want
    assert summary.orders == len(expected["orders_checked"])

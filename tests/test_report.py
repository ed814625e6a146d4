"""The reviewers' report and summary.csv: data, escaping, CSP, thumbnails, fines, Excel-friendly CSV.

`make_night` builds a night's outcomes by hand (no inspector involved), so these tests and the browser
test (tests/test_browser_report.py) depend only on the report code.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html as htmlmod
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import order_dict
from wocheck.inspectors.base import Annotation
from wocheck.pipeline.scan import OrderOutcome, ScanSummary
from wocheck.pipeline.work import OrderResult, PhotoResult
from wocheck.records import InputErrorRecord, Order, Slot, Violation
from wocheck.report.fines import ClauseFine, clause_fines, order_fine
from wocheck.report.html import THUMB_SIDE, json_for_script, write_report
from wocheck.report.summary import BOM, render_summary_csv

# The contract's clauses 42-50 with the rulebook's contractor + engineer yuan (CLAUSES.md).
FINES = {c: ClauseFine(c, y, y, f"第{c}条原文") for c, y in
         {42: 20.0, 43: 50.0, 44: 100.0, 45: 10.0, 46: 10.0, 47: 10.0, 48: 10.0, 49: 50.0, 50: 50.0}.items()}
FINES[44] = ClauseFine(44, 100.0, 50.0, "第44条原文")

EVIL_ID = "WO<script>alert(1)</script>"
EVIL_NOTE = '<img src=x onerror="document.title=\'pwned\'">'
EVIL_NAME = "</script><script>document.title='pwned'</script>"
EVIL_FILE = 'evil/<b>x</b>" onerror="alert(2).jpg'
FILLERS = 120  # enough flagged orders for three pages of 50


@dataclass
class Night:
    outcomes: list[OrderOutcome]
    line_errors: list[InputErrorRecord]
    summary: ScanSummary
    photo_root: Path
    report_dir: Path


def _photo(root: Path, rel: str, color: tuple[int, int, int], size: tuple[int, int] = (1200, 900)) -> PhotoResult:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((size[1], size[0], 3), 190, np.uint8)
    img[size[1] // 8: size[1] * 7 // 8, size[0] // 8: size[0] * 7 // 8] = color
    Image.fromarray(img).save(path, "JPEG", quality=85)
    return PhotoResult(slot=Slot.service_form, file=rel, usable=True,
                       sha256=hashlib.sha256(path.read_bytes()).hexdigest(), width=size[0], height=size[1],
                       exif={"captured_at": "2026-12-02T15:30:00", "gps": [31.2, 121.5], "make": "Xiaomi",
                             "model": "23078RKD5C", "software": None, "orientation": 1})


def _v(order: Order, clause: int, check: str, verdict: str, *, photo: str | None = None,
       slot: str | None = None, box: list[int] | None = None, zh: str = "问题", en: str = "problem") -> Violation:
    ev: dict[str, object] = {"measured": 0.1, "threshold": 0.5}
    if box is not None:
        ev["box_px"] = box
    return Violation(order_id=order.order_id, clause=clause, check=check, verdict=verdict,  # type: ignore[arg-type]
                     confidence=0.95, slot=slot, photo=photo, evidence=ev, message_zh=zh, message_en=en,
                     hint_zh="重拍", hint_en="retake", engineer_id=order.engineer.id,
                     contractor_id=order.contractor.id if order.contractor else None,
                     closed_at=order.times.closed)


def _outcome(order: Order, photos: list[PhotoResult], vs: list[Violation],
             errors: tuple[InputErrorRecord, ...] = ()) -> OrderOutcome:
    return OrderOutcome(OrderResult(order=order, findings=(), photos=tuple(photos), input_errors=errors), tuple(vs))


def make_night(tmp: Path, *, fillers: int = FILLERS) -> Night:
    """Four designed orders (A: violations and a review with boxes; B: reviews only; OK: clean; EVIL: crafted
    strings everywhere) plus ``fillers`` flagged orders without photos, and one unreadable line."""
    root = tmp / "photos"
    out: list[OrderOutcome] = []

    a = Order.model_validate(order_dict(order_id="WO_A", order_type="repair", fault_symptom="F01"))
    pa = _photo(root, "WO_A/form.jpg", (250, 250, 245))
    pa = PhotoResult(**{**pa.__dict__, "annotations": (
        Annotation("polygon", ((150, 112), (1050, 112), (1050, 788), (150, 788)), "服务单", ok=True),)})
    pb = _photo(root, "WO_A/pipe.jpg", (90, 120, 160))
    pb = PhotoResult(**{**pb.__dict__, "slot": Slot.pipeline_45, "annotations": (
        Annotation("polyline", ((200, 800), (600, 300), (1000, 800)), "管线", ok=False),)})
    out.append(_outcome(a, [pa, pb], [
        _v(a, 42, "record.machine_code_empty", "violation", zh="机器编码未填写", en="Machine code not filled in"),
        _v(a, 45, "form.field_blank", "violation", photo="WO_A/form.jpg", slot="service_form",
           box=[600, 500, 300, 120], zh="服务单“客户签字”栏为空", en="Customer signature is blank"),
        _v(a, 46, "pipes.messy", "review", photo="WO_A/pipe.jpg", slot="pipeline_45", box=[200, 300, 800, 500],
           zh="管线散乱", en="Pipes messy"),
    ]))

    b = Order.model_validate(order_dict(order_id="WO_B", engineer={"id": "E2048", "name": "李娜"},
                                        contractor={"id": "C099", "name": "徐汇水工坊"}))
    out.append(_outcome(b, [], [
        _v(b, 44, "record.machine_code_other_model", "review", zh="型号不符", en="Model differs"),
        _v(b, 50, "auth.editor_software", "review", zh="照片经编辑软件处理", en="Edited photo"),
    ]))

    ok = Order.model_validate(order_dict(order_id="WO_OK"))
    out.append(_outcome(ok, [_photo(root, "WO_OK/form.jpg", (10, 200, 10))], []))

    evil_rec = order_dict(order_id=EVIL_ID, order_type="repair", fault_symptom="F99", fault_note=EVIL_NOTE,
                          engineer={"id": "E666", "name": "<img src=x onerror=alert(3)>"},
                          contractor={"id": "C666", "name": "=HYPERLINK(\"http://x\")"})
    evil_rec["customer"]["name"] = EVIL_NAME
    evil = Order.model_validate(evil_rec)
    pe = _photo(root, EVIL_FILE, (200, 60, 60))
    out.append(_outcome(evil, [pe], [
        _v(evil, 50, "auth.reused_photo", "review", photo=EVIL_FILE, slot="service_form", box=[100, 100, 200, 200],
           zh=f"照片重复使用 {EVIL_NOTE}", en=f"reused {EVIL_NOTE}"),
    ], errors=(InputErrorRecord(line=4, order_id=EVIL_ID, reason=f"photo {EVIL_NAME} missing"),)))

    for i in range(fillers):
        f = Order.model_validate(order_dict(order_id=f"WO_F{i:04d}",
                                            engineer={"id": f"E3{i % 5}", "name": f"工程师{i % 5}"}))
        clauses = [(43, "record.uploader_not_engineer", "violation")] + ([(49, "slot.missing", "violation")]
                                                                        if i % 3 == 0 else [])
        out.append(_outcome(f, [], [_v(f, c, ch, vd) for c, ch, vd in clauses]))

    line_errors = [InputErrorRecord(line=2, order_id=None, reason="line is not valid JSON: <script>x</script>")]
    summary = ScanSummary(orders=len(out), orders_flagged=sum(bool(o.violations) for o in out),
                          photos=sum(len(o.result.photos) for o in out), input_errors=2,
                          violations=sum(v.verdict == "violation" for o in out for v in o.violations),
                          reviews=sum(v.verdict == "review" for o in out for v in o.violations), seconds=1.5)
    return Night(out, line_errors, summary, root, tmp / "out" / "report")


def build(night: Night, **kw: object) -> Path:
    return write_report(night.report_dir, night.outcomes, night.line_errors, night.summary,
                        photo_root=night.photo_root, fines=FINES, **kw)  # type: ignore[arg-type]


def page_data(index: Path) -> dict[str, object]:
    text = index.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="wocheck-data">(.*?)</script>', text, re.S)
    assert m
    doc: dict[str, object] = json.loads(m.group(1))
    return doc


# --- JSON embedding ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                    max_leaves=12))
def test_json_for_script_round_trips_and_cannot_close_the_element(value: object) -> None:
    text = json_for_script(value)
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == value


def test_json_for_script_on_the_classic_breakouts() -> None:
    for s in ["</script><script>alert(1)</script>", "<!--<script>", "]]>", "&lt;", "\u2028x\u2029"]:
        text = json_for_script({"s": s})
        assert "</" not in text and "<!--" not in text and json.loads(text)["s"] == s


# --- the page ---------------------------------------------------------------------------------------


def test_report_is_self_contained_escaped_and_locked_down(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=3)
    index = build(night)
    text = index.read_text(encoding="utf-8")
    # Only our two script elements; the crafted values never appear as markup.
    assert re.findall(r"<script\b[^>]*>", text) == ['<script type="application/json" id="wocheck-data">',
                                                     "<script>"]
    for raw in (EVIL_ID, EVIL_NOTE, EVIL_NAME, "<img src=x", "<b>x</b>"):
        assert raw not in text
    # Nothing remote: no http(s) URL in any src/href, and the CSP forbids by default.
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    csp = htmlmod.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1))  # type: ignore[union-attr]
    assert "default-src 'none'" in csp and "connect-src" not in csp and "http" not in csp
    # The inline script and style are allowed by their hashes, exactly.
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S).group(1)  # type: ignore[union-attr]
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
    doc = page_data(index)
    ids = [o["id"] for o in doc["orders"]]  # type: ignore[attr-defined]
    assert EVIL_ID in ids and "WO_A" in ids and "WO_OK" not in ids
    evil = next(o for o in doc["orders"] if o["id"] == EVIL_ID)  # type: ignore[attr-defined]
    assert evil["note"] == EVIL_NOTE and evil["customer"][0] == EVIL_NAME  # data intact, only encoded


def test_report_fines_and_clause_table(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=2)
    doc = page_data(build(night))
    by_id = {o["id"]: o for o in doc["orders"]}  # type: ignore[attr-defined]
    assert by_id["WO_A"]["fine"] == 40.0 + 20.0  # 42 and 45 charged; the 46 review is not (yet)
    assert by_id["WO_B"]["fine"] == 0.0
    assert by_id["WO_F0000"]["fine"] == 100.0 + 100.0  # 43 and 49
    assert doc["clauses"]["44"] == {"fine": 150.0, "text_zh": "第44条原文"}  # type: ignore[index]


def test_thumbnails_for_flagged_orders_only_numbered_and_linked(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=2)
    index = build(night)
    doc = page_data(index)
    thumbs = sorted((night.report_dir / "thumbs").iterdir())
    assert len(thumbs) == 3  # WO_A's two photos and EVIL's one; not WO_OK's
    for t in thumbs:
        with Image.open(t) as im:
            assert im.format == "JPEG" and max(im.size) == THUMB_SIDE
    a = next(o for o in doc["orders"] if o["id"] == "WO_A")  # type: ignore[attr-defined]
    form, pipe = a["p"]
    assert form["findings"] == [1] and pipe["findings"] == [2]  # indexes into the order's findings list
    for ph in a["p"]:
        assert (night.report_dir / ph["thumb"]).is_file()
        assert (night.report_dir / unquote(ph["href"])).resolve() == (night.photo_root / ph["file"]).resolve()
    evil = next(o for o in doc["orders"] if o["id"] == EVIL_ID)  # type: ignore[attr-defined]
    href = evil["p"][0]["href"]
    assert not set(href) & set('<>"\' ') and (night.report_dir / unquote(href)).resolve().is_file()


def test_thumbnail_shows_the_finding_box_in_its_colour(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=0)
    doc = page_data(build(night))
    a = next(o for o in doc["orders"] if o["id"] == "WO_A")  # type: ignore[attr-defined]
    with Image.open(night.report_dir / a["p"][0]["thumb"]) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    k = THUMB_SIDE / 1200
    x0, y0, x1, y1 = (round(v * k) for v in (600, 500, 900, 620))  # the 45 violation's box_px, scaled
    edge = rgb[(y0 + y1) // 2, x0 - 1:x0 + 2]  # on the left edge of the box: red
    assert (edge[:, 0] > 150).any() and (edge[:, 0] - edge[:, 1] > 80).any()
    inside = rgb[(y0 + y1) // 2, (x0 + x1) // 2]  # inside the box: the photo, untouched (near-white)
    assert inside.min() > 200


def test_rerun_reuses_thumbnails_and_vanished_photo_has_none(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=0)
    build(night)
    stamps = {p.name: p.stat().st_mtime_ns for p in (night.report_dir / "thumbs").iterdir()}
    build(night)
    assert {p.name: p.stat().st_mtime_ns for p in (night.report_dir / "thumbs").iterdir()} == stamps
    for p in (night.report_dir / "thumbs").iterdir():
        p.unlink()
    (night.photo_root / "WO_A/pipe.jpg").unlink()
    doc = page_data(build(night))
    a = next(o for o in doc["orders"] if o["id"] == "WO_A")  # type: ignore[attr-defined]
    assert a["p"][0]["thumb"] and a["p"][1]["thumb"] is None


def _many_thumbs_night(tmp_path: Path) -> Night:
    """A night whose report draws 23 thumbnails: WO_A's, EVIL's and one for each of 20 flagged orders."""
    night = make_night(tmp_path, fillers=0)
    for i in range(20):
        o = Order.model_validate(order_dict(order_id=f"WO_P{i}"))
        p = _photo(night.photo_root, f"WO_P{i}/f.jpg", (i * 10, 100, 200), size=(400, 300))
        night.outcomes.append(_outcome(o, [p], [_v(o, 45, "form.blur", "violation", photo=p.file,
                                                   box=[10, 10, 50, 50])]))
    return night


def test_thumbnails_in_worker_processes_equal_serial(tmp_path: Path) -> None:
    night = _many_thumbs_night(tmp_path / "a")
    build(night, workers=2)
    serial = Night(night.outcomes, night.line_errors, night.summary, night.photo_root, tmp_path / "b" / "report")
    build(serial)
    par = {p.name: p.read_bytes() for p in (night.report_dir / "thumbs").iterdir()}
    ser = {p.name: p.read_bytes() for p in (serial.report_dir / "thumbs").iterdir()}
    assert len(par) == 23 and par == ser


@pytest.mark.parametrize("fail_after", [None, 1])
def test_thumbnails_drawn_elsewhere_are_written_here_and_the_rest_drawn_if_it_fails(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, fail_after: int | None) -> None:
    """A renderer (a cluster's workers) draws chunks of thumbnails; the report writes them. If it fails
    part-way, the thumbnails it did not give are drawn here: the same files either way."""
    from wocheck.report.html import THUMB_CHUNK, ThumbTask, render_thumb

    night = _many_thumbs_night(tmp_path / "serial")
    build(night)
    want = {p.name: p.read_bytes() for p in (night.report_dir / "thumbs").iterdir()}
    assert len(want) == 23
    given: list[int] = []

    def render(chunks: list[list[ThumbTask]]) -> Iterator[list[bytes | None]]:
        assert all(len(c) <= THUMB_CHUNK for c in chunks) and sum(map(len, chunks)) == 23
        for i, chunk in enumerate(chunks):
            if i == fail_after:
                raise ConnectionError("lost the scheduler")
            given.append(len(chunk))
            yield [render_thumb(t) for t in chunk]

    other = Night(night.outcomes, night.line_errors, night.summary, night.photo_root, tmp_path / "r" / "report")
    with caplog.at_level("WARNING", logger="wocheck.report.html"):
        build(other, render=render)
    assert {p.name: p.read_bytes() for p in (other.report_dir / "thumbs").iterdir()} == want
    if fail_after is None:
        assert sum(given) == 23 and not caplog.text
    else:
        assert given == [THUMB_CHUNK] and "the cluster failed after 1 of 3 chunks" in caplog.text


def test_empty_night_renders(tmp_path: Path) -> None:
    index = write_report(tmp_path / "r", [], [], ScanSummary(), photo_root=tmp_path, fines={})
    doc = page_data(index)
    assert doc["orders"] == [] and doc["errors"] == []


# --- fines ------------------------------------------------------------------------------------------


def test_order_fine_charges_each_clause_once() -> None:
    assert order_fine([45, 45, 45], FINES) == 20.0
    assert order_fine([42, 44], FINES) == 40.0 + 150.0
    assert order_fine([], FINES) == 0.0
    assert order_fine([45, 77], FINES) is None  # unknown clause: the fine is unknown, not understated


def test_clause_fines_without_a_table_is_empty(tmp_path: Path) -> None:
    assert clause_fines(tmp_path / "nope.toml") == {}


# --- summary.csv ------------------------------------------------------------------------------------


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[len(BOM):], newline="")))


def test_summary_csv_rows_per_order_and_clause(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=1)
    text = render_summary_csv(night.outcomes, night.line_errors, FINES)
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = _rows(text)
    a = [r for r in rows if r["order_id"] == "WO_A"]
    assert [(r["status"], r["clause"], r["fine_yuan"], r["fine_if_confirmed_yuan"]) for r in a] == [
        ("violation", "42", "40.00", ""), ("violation", "45", "20.00", ""), ("review", "46", "0.00", "20.00")]
    assert a[0]["engineer_id"] == "E1024" and a[0]["contractor_name"] == "浦东净源服务部"
    ok = [r for r in rows if r["order_id"] == "WO_OK"]
    assert len(ok) == 1 and ok[0]["status"] == "ok" and ok[0]["clause"] == ""
    errs = [r for r in rows if r["status"] == "input_error"]
    assert {(r["order_id"], r["line"]) for r in errs} == {(EVIL_ID, "4"), ("", "2")}
    # Each charged clause once per order: the CSV's fines sum to the orders' fines.
    total = sum(float(r["fine_yuan"] or 0) for r in rows)
    assert total == sum(order_fine({v.clause for v in o.violations if v.verdict == "violation"}, FINES) or 0
                        for o in night.outcomes)


def test_summary_csv_defuses_formulas_and_keeps_text(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=0)
    rows = _rows(render_summary_csv(night.outcomes, night.line_errors, FINES))
    evil = next(r for r in rows if r["order_id"] == EVIL_ID and r["status"] == "review")
    assert evil["contractor_name"] == "'=HYPERLINK(\"http://x\")"
    assert evil["message_zh"] == f"照片重复使用 {EVIL_NOTE}"


def test_summary_csv_without_fines_leaves_them_blank(tmp_path: Path) -> None:
    night = make_night(tmp_path, fillers=0)
    rows = _rows(render_summary_csv(night.outcomes, [], {}))
    a = [r for r in rows if r["order_id"] == "WO_A" and r["status"] == "violation"]
    assert a and all(r["fine_yuan"] == "" for r in a)


@pytest.mark.parametrize("workers", ["1"])
def test_scan_writes_summary_and_report(tmp_path: Path, workers: str) -> None:
    from typer.testing import CliRunner

    from wocheck.cli import app

    photos = tmp_path / "photos"
    rec = order_dict(order_id="WO_S1", order_type="repair", fault_symptom="F01", machine_code="",
                     photos=[{"slot": "service_form", "file": "WO_S1/form.jpg", "uploaded_by": "E1024",
                              "uploaded_at": "2026-12-02T15:38:00+08:00"}])
    _photo(photos, "WO_S1/form.jpg", (240, 240, 240))
    orders = tmp_path / "orders.jsonl"
    orders.write_text(json.dumps(rec, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out"
    CliRunner().invoke(app, ["scan", str(orders), "--photos", str(photos), "--out", str(out), "--workers", workers,
                             "--quiet"])
    raw = (out / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = _rows(raw.decode("utf-8"))
    s1 = {(r["status"], r["clause"]) for r in rows if r["order_id"] == "WO_S1"}
    assert ("violation", "42") in s1
    assert any(r["status"] == "input_error" and r["line"] == "2" for r in rows)
    doc = page_data(out / "report" / "index.html")
    assert [o["id"] for o in doc["orders"]] == ["WO_S1"]  # type: ignore[attr-defined]
    assert (out / "report" / doc["orders"][0]["p"][0]["thumb"]).is_file()  # type: ignore[index]


def test_a_drawing_crash_costs_the_thumbnail_not_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wocheck.report import annotate

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("drawing bug")

    monkeypatch.setattr(annotate, "render_annotated", boom)
    night = make_night(tmp_path, fillers=0)
    doc = page_data(build(night))
    photos = [ph for o in doc["orders"] for ph in o["p"]]  # type: ignore[attr-defined]
    assert photos and all(ph["thumb"] is None and ph["href"] for ph in photos)

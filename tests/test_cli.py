"""The commands end to end through Typer's runner: outputs, exit codes (contract section 6), help text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.main import get_command
from typer.testing import CliRunner

from conftest import order_dict
from wocheck.cli import app

runner = CliRunner()


def _photo(path: Path, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), "RGB").save(path, "JPEG")


def _clean_record(oid: str = "WO1", *, photos: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A household repair order whose record breaks no rule (photos default: every required slot)."""
    if photos is None:
        photos = [{"slot": s, "file": f"{oid}/{s}.jpg", "uploaded_by": "E1024",
                   "uploaded_at": "2026-12-02T15:38:00+08:00"}
                  for s in ("service_form", "machine_running", "code_label")]
    return order_dict(order_id=oid, order_type="repair", fault_symptom="F01", photos=photos)


def _write_photos(root: Path, rec: dict[str, Any]) -> None:
    for i, p in enumerate(rec["photos"]):
        _photo(root / p["file"], seed=i)


def test_every_command_has_help_text() -> None:
    group = get_command(app)
    assert group.help
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert names == ["check", "inspect", "penalty", "scan"]
    for name in names:
        cmd = group.commands[name]  # type: ignore[attr-defined]
        assert cmd.help and len(cmd.help) > 20, name
        for param in cmd.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.opts}"
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("wocheck ")


def test_check_record_violation_exit_1_chinese_with_hint(tmp_path: Path) -> None:
    rec = _clean_record()
    rec["machine_code"] = ""
    _write_photos(tmp_path, rec)
    order = tmp_path / "order.json"
    order.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["check", str(order)])
    assert res.exit_code == 1, res.output
    assert "机器编码未填写" in res.output and "处理：" in res.output
    res_en = runner.invoke(app, ["check", str(order), "--lang", "en"])
    assert "Machine code (SN) is not filled in" in res_en.output
    res_json = runner.invoke(app, ["check", str(order), "--format", "json"])
    doc = json.loads(res_json.output)
    v = [x for x in doc["violations"] if x["check"] == "record.machine_code_empty"][0]
    assert v["schema"] == "wocheck.violation/1" and v["clause"] == 42 and v["verdict"] == "violation"
    assert v["engineer_id"] == "E1024" and v["contractor_id"] == "C017"
    assert v["training_manager_id"] == "M03" and v["responsible_manager_id"] == "M11"


def test_check_missing_photo_is_slot_missing_and_exit_2(tmp_path: Path) -> None:
    rec = _clean_record()
    _write_photos(tmp_path, rec)
    (tmp_path / rec["photos"][2]["file"]).unlink()  # the code label photo is gone
    order = tmp_path / "order.json"
    order.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["check", str(order), "--format", "json"])
    assert res.exit_code == 2  # an input error (missing file) outranks findings
    doc = json.loads(res.output)
    missing = [v for v in doc["violations"] if v["check"] == "slot.missing"]
    assert [v["clause"] for v in missing] == [49]
    assert "does not exist" in json.dumps(missing[0]["evidence"])
    assert doc["input_errors"][0]["order_id"] == "WO1"


def test_check_bad_order_file_exit_2(tmp_path: Path) -> None:
    order = tmp_path / "order.json"
    order.write_text(json.dumps(order_dict(order_type="instal")), encoding="utf-8")
    res = runner.invoke(app, ["check", str(order)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["check", str(tmp_path / "absent.json")])
    assert res.exit_code == 2


def test_bad_config_fails_at_start_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("version = 1\n[limits]\ngps_review_km = -3\n", encoding="utf-8")
    order = tmp_path / "order.json"
    order.write_text(json.dumps(_clean_record()), encoding="utf-8")
    res = runner.invoke(app, ["check", str(order), "--config", str(cfg)])
    assert res.exit_code == 2
    assert "bad.toml" in res.output


def _night(tmp_path: Path) -> tuple[Path, Path, list[dict[str, Any]]]:
    photos = tmp_path / "photos"
    good = _clean_record("WO_OK")
    late = _clean_record("WO_LATE")
    late["photos"][0]["uploaded_at"] = "2026-12-04T09:00:00+08:00"  # form 41.7 h after completion: 45
    missing = _clean_record("WO_MISSING")
    escape = _clean_record("WO_ESCAPE")
    escape["photos"][1]["file"] = "../outside.jpg"
    recs = [good, late, missing, escape]
    for r in recs:
        _write_photos(photos, r) if r is not escape else None
    for p in escape["photos"]:
        if ".." not in p["file"]:
            _photo(photos / p["file"])
    _photo(tmp_path / "outside.jpg")
    (photos / missing["photos"][1]["file"]).unlink()
    (photos / missing["photos"][2]["file"]).write_bytes(b"")  # empty file
    lines = [json.dumps(r, ensure_ascii=False) for r in recs]
    lines.insert(1, "{broken json")
    lines.insert(3, json.dumps(order_dict(order_id="WO_ENUM", machine_class="industrial")))
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return orders, photos, recs


def test_scan_finishes_over_broken_input_and_reports_each(tmp_path: Path) -> None:
    orders, photos, recs = _night(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["scan", str(orders), "--photos", str(photos), "--out", str(out), "--workers", "1",
                              "--quiet"])
    assert res.exit_code == 2, res.output  # input errors present
    errors = [json.loads(x) for x in (out / "input_errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(e["schema"] == "wocheck.input_error/1" for e in errors)
    by = {(e["order_id"], e["line"]) for e in errors}
    assert (None, 2) in by  # the broken JSON line
    assert ("WO_ENUM", 4) in by
    reasons = " | ".join(e["reason"] for e in errors)
    assert "not valid JSON" in reasons and "machine_class: unknown value" in reasons
    assert "does not exist" in reasons and "empty" in reasons and "'..'" in reasons
    assert not (tmp_path / "out" / "violations.jsonl.partial").exists()
    viols = [json.loads(x) for x in (out / "violations.jsonl").read_text(encoding="utf-8").splitlines()]
    got = {(v["order_id"], v["clause"], v["check"]) for v in viols}
    assert ("WO_LATE", 45, "record.form_uploaded_late") in got
    assert ("WO_MISSING", 47, "slot.missing") in got and ("WO_MISSING", 49, "slot.missing") in got
    assert ("WO_ESCAPE", 47, "slot.missing") in got
    assert not any(oid == "WO_OK" and c in (42, 43, 45, 47, 49) and ch.startswith(("record.", "slot."))
                   for oid, c, ch in got)
    raw = (out / "summary.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    ids = {r["order_id"] for r in rows}
    assert {"WO_OK", "WO_LATE", "WO_MISSING", "WO_ESCAPE"} <= ids
    assert (out / "report" / "index.html").is_file()
    # The structured log: every line JSON; the scan's start, each order, each bad line, the end with the counts.
    log = [json.loads(x) for x in (out / "scan.log.jsonl").read_text(encoding="utf-8").splitlines()]
    events = [e["event"] for e in log if e["logger"] == "wocheck.scan.events"]
    assert events[0] == "scan_started" and events[-1] == "scan_finished" and "report_written" in events
    done = {e["order_id"] for e in log if e.get("event") == "order_done"}
    assert done == {r["order_id"] for r in recs}
    assert {e["line"] for e in log if e.get("event") == "input_error"} == {2, 4}
    end = log[-1]
    assert end["orders"] == len(recs) and end["input_errors"] == len(errors)
    assert end["violations"] + end["reviews"] == len(viols)


def test_scan_parallel_equals_serial(tmp_path: Path) -> None:
    orders, photos, _ = _night(tmp_path)

    def run(n: int) -> list[str]:
        out = tmp_path / f"out{n}"
        runner.invoke(app, ["scan", str(orders), "--photos", str(photos), "--out", str(out), "--workers", str(n),
                            "--quiet", "--db", str(tmp_path / f"h{n}.sqlite")])
        recs = [json.loads(x) for x in (out / "violations.jsonl").read_text(encoding="utf-8").splitlines()]
        return sorted(json.dumps({k: v for k, v in r.items() if k != "evidence"}, sort_keys=True) for r in recs)

    assert run(1) == run(2)


def test_scan_clean_night_exit_0(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    rec = _clean_record("WO_OK", photos=[])
    rec["order_type"], rec["fault_symptom"] = "repair", "F01"
    orders = tmp_path / "orders.jsonl"
    orders.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["scan", str(orders), "--photos", str(photos), "--out", str(tmp_path / "o"),
                              "--workers", "1", "--quiet"])
    assert res.exit_code == 1  # required photos missing
    cfg = tmp_path / "cfg.toml"
    from wocheck.config import default_config_path

    text = default_config_path().read_text(encoding="utf-8")
    text = text.replace('repair = ["service_form", "machine_running", "code_label"]', "repair = []")
    layout = default_config_path().parent / "forms/nvk-service-form-v1.json"
    text = text.replace('layouts = { "NVK-SF" = "forms/nvk-service-form-v1.json" }',
                        f'layouts = {{ "NVK-SF" = "{layout}" }}')
    cfg.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["scan", str(orders), "--photos", str(photos), "--out", str(tmp_path / "o2"),
                              "--workers", "1", "--quiet", "--config", str(cfg)])
    assert res.exit_code == 0, res.output


def test_scan_unreadable_orders_file_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["scan", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2


def test_inspect_unreadable_photo_exit_2(tmp_path: Path) -> None:
    p = tmp_path / "x.jpg"
    p.write_bytes(b"not an image")
    res = runner.invoke(app, ["inspect", str(p), "--slot", "install_env"])
    assert res.exit_code == 2
    doc = json.loads(res.output.splitlines()[0])
    assert doc["photo"] == str(p) and doc["readable"] is False


def test_inspect_reports_exif(tmp_path: Path) -> None:
    p = tmp_path / "a.jpg"
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "23078RKD5C"
    Image.new("RGB", (64, 48), (90, 120, 150)).save(p, "JPEG", exif=exif.tobytes())
    q = tmp_path / "b.jpg"
    _photo(q)
    res = runner.invoke(app, ["inspect", str(p), str(q), "--slot", "install_env"])
    docs = [json.loads(x) for x in res.output.splitlines()]
    assert [d["photo"] for d in docs] == [str(p), str(q)]
    assert docs[0]["exif"]["make"] == "Xiaomi" and docs[0]["exif"]["model"] == "23078RKD5C"
    assert set(docs[0]["exif"]) >= {"captured_at", "gps", "make", "model", "software", "orientation"}
    assert all("findings" in d for d in docs)
    assert "hash256" in docs[0] and "crop_probes" not in docs[0]  # the lookup's 256 windows are not shown


@pytest.mark.parametrize("bad", ["--slot=nowhere", "--format=xml"])
def test_bad_usage_exit_2(tmp_path: Path, bad: str) -> None:
    p = tmp_path / "a.jpg"
    _photo(p)
    args = ["inspect", str(p)] + ([bad] if bad.startswith("--slot") else ["--slot", "install_env", bad])
    assert runner.invoke(app, args).exit_code == 2


def test_scan_progress_bar_has_total_rate_and_eta(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wocheck.config import load_config
    from wocheck.pipeline.scan import ScanSettings, run_scan

    orders, photos, recs = _night(tmp_path)
    lines = sum(1 for x in orders.read_text(encoding="utf-8").splitlines() if x.strip())
    run_scan(ScanSettings(orders_path=orders, photo_root=photos, out_dir=tmp_path / "out", progress=True),
             load_config(None))
    err = capsys.readouterr().err
    assert len(recs) < lines
    assert f"{lines}/{lines}" in err  # every line counted, orders and unreadable lines alike
    assert "order/s" in err or "s/order" in err  # rate
    assert "<" in err  # elapsed<remaining: the ETA

"""An engine that kills its process, hangs or raises costs that photo only; the night finishes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import order_dict
from wocheck.config import Config
from wocheck.pipeline import registry
from wocheck.pipeline.scan import ScanSettings, run_scan
from wocheck.records import Slot


@pytest.fixture()
def faulty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._PHOTO, Slot.install_env, [("faulty", "fault_inspectors:faulty")])


def _order(oid: str, env_file: str) -> dict[str, object]:
    slots = ["service_form", "pipeline_45", "install_env", "machine_running", "code_label"]
    photos = [{"slot": s, "file": f"{oid}/{env_file if s == 'install_env' else s + '.jpg'}",
               "uploaded_by": "E1024", "uploaded_at": "2026-12-02T15:38:00+08:00"} for s in slots]
    return order_dict(order_id=oid, photos=photos)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_crash_hang_and_raise_cost_one_photo(tmp_path: Path, cfg: Config, faulty_registry: None,
                                             workers: int) -> None:
    photos = tmp_path / "photos"
    recs = [_order("WO_A", "env.jpg"), _order("WO_SEGV", "env_segv.jpg"), _order("WO_B", "env.jpg"),
            _order("WO_HANG", "env_hang.jpg"), _order("WO_RAISE", "env_raise.jpg"), _order("WO_C", "env.jpg")]
    rng = np.random.default_rng(0)
    for r in recs:
        for p in r["photos"]:  # type: ignore[union-attr]
            f = photos / p["file"]
            f.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), "RGB").save(f, "JPEG")
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    fast = cfg.model_copy(update={"limits": cfg.limits.model_copy(update={"order_timeout_seconds": 10.0})})
    out = tmp_path / "out"
    summary = run_scan(ScanSettings(orders_path=orders, photo_root=photos, out_dir=out, workers=workers), fast)
    assert summary.orders == 6
    errors = [json.loads(x) for x in (out / "input_errors.jsonl").read_text(encoding="utf-8").splitlines()]
    failed = {(e["order_id"], e.get("photo")) for e in errors}
    assert ("WO_SEGV", "WO_SEGV/env_segv.jpg") in failed
    assert ("WO_HANG", "WO_HANG/env_hang.jpg") in failed
    assert all(oid in ("WO_SEGV", "WO_HANG") for oid, _ in failed)  # a raising inspector is logged, not fatal
    viols = [json.loads(x) for x in (out / "violations.jsonl").read_text(encoding="utf-8").splitlines()]
    # The photo the checker could not inspect is not the engineer's missing photo.
    assert not any(v["check"] == "slot.missing" for v in viols)
    # The structured log names the photos the checker could not inspect, as warnings.
    log = [json.loads(x) for x in (out / "scan.log.jsonl").read_text(encoding="utf-8").splitlines()]
    warned = " | ".join(e["message"] for e in log if e["level"] in ("WARNING", "ERROR"))
    assert "WO_SEGV/env_segv.jpg" in warned and "WO_HANG/env_hang.jpg" in warned

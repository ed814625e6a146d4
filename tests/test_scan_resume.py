"""A rerun on the same history replays unchanged orders, and re-checks any whose photos changed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import order_dict
from wocheck.config import Config
from wocheck.pipeline.scan import ScanSettings, run_scan


def _night(tmp_path: Path) -> tuple[Path, Path]:
    photos = tmp_path / "photos"
    recs = []
    for k in range(3):
        oid = f"WO{k}"
        refs = [{"slot": s, "file": f"{oid}/{s}.jpg", "uploaded_by": "E1024",
                 "uploaded_at": "2026-12-02T15:38:00+08:00"} for s in ("service_form", "machine_running", "code_label")]
        recs.append(order_dict(order_id=oid, order_type="repair", fault_symptom="F01", photos=refs))
        for i, r in enumerate(refs):
            f = photos / r["file"]
            f.parent.mkdir(parents=True, exist_ok=True)
            rng = np.random.default_rng(10 * k + i)
            Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8), "RGB").save(f, "JPEG")
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    return orders, photos


def _scan(orders: Path, photos: Path, out: Path, db: Path, cfg: Config) -> tuple[int, int, list[str]]:
    s = run_scan(ScanSettings(orders_path=orders, photo_root=photos, out_dir=out, workers=1, db_path=db), cfg)
    lines = sorted((out / "violations.jsonl").read_text(encoding="utf-8").splitlines())
    return s.replayed, s.input_errors, lines


def test_rerun_replays_and_changed_photos_are_rechecked(tmp_path: Path, cfg: Config) -> None:
    orders, photos = _night(tmp_path)
    db = tmp_path / "h.sqlite"
    wrong_root = tmp_path / "elsewhere"
    wrong_root.mkdir()
    replayed, errors, _ = _scan(orders, wrong_root, tmp_path / "o0", db, cfg)
    assert replayed == 0 and errors == 9  # every photo missing under the wrong root
    replayed, errors, first = _scan(orders, photos, tmp_path / "o1", db, cfg)
    assert replayed == 0 and errors == 0  # another photo root: nothing stale is replayed
    replayed, errors, again = _scan(orders, photos, tmp_path / "o2", db, cfg)
    assert replayed == 3 and errors == 0 and again == first
    (photos / "WO1" / "code_label.jpg").unlink()  # a photo gone since: that order is checked again
    replayed, errors, _ = _scan(orders, photos, tmp_path / "o3", db, cfg)
    assert replayed == 2 and errors == 1

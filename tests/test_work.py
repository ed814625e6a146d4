"""The per-order work: photos inspected on threads give exactly the serial result, in the order's order."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from wocheck.config import Config
from wocheck.pipeline.work import process_order
from wocheck.records import Order

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample"


def _richest_order() -> Order:
    """The sample order with the most distinct slots (a form, a label and scenes), so threads interleave."""
    recs = [json.loads(x) for x in (SAMPLE / "orders.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    rec = max(recs, key=lambda r: (len({p["slot"] for p in r.get("photos", [])}), len(r.get("photos", []))))
    return Order.model_validate(rec)


def _untimed(value: Any) -> Any:
    """Measurements without their timings (``ms``, ``engine_ms``…), which differ between any two runs."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not (k == "ms" or k.endswith("_ms"))}
    if isinstance(value, list | tuple):
        return [_untimed(v) for v in value]
    return value


def test_threaded_photos_equal_serial(cfg: Config) -> None:
    order = _richest_order()
    assert len(order.photos) >= 4
    serial = process_order(order, cfg, SAMPLE / "photos", threads=1)
    threaded = process_order(order, cfg, SAMPLE / "photos", threads=3)
    assert [p.file for p in threaded.photos] == [r.file for r in order.photos]
    assert [replace(p, measurements=_untimed(p.measurements)) for p in threaded.photos] == \
        [replace(p, measurements=_untimed(p.measurements)) for p in serial.photos]
    assert threaded.findings == serial.findings

"""The fixture planner's planted reuses respect the contract: the later upload is the copy (clause 50)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from fixturegen.orders import Sizes, plan_nights  # noqa: E402


@pytest.mark.parametrize(("seed", "orders", "later"), [(7, 36, 9), (8, 60, 15), (9, 60, 15), (31, 60, 15)])
def test_reused_copy_uploaded_and_closed_after_its_source(seed: int, orders: int, later: int) -> None:
    nights = plan_nights(seed, orders, 2, Sizes(), later)
    by_id = {p.record["order_id"]: p for night in nights for p in night}
    pairs = 0
    for night in nights:
        for plan in night:
            for d in plan.defects:
                if not d.defect.startswith("reuse."):
                    continue
                src = by_id[d.detail["source_order"]]
                src_photo = next(x for x in src.record["photos"] if x["file"] == d.detail["source_photo"])
                copy = next(x for x in plan.record["photos"] if x["file"] == d.photo)
                copy_up = datetime.fromisoformat(copy["uploaded_at"])
                assert copy_up > datetime.fromisoformat(src_photo["uploaded_at"]), (plan.record["order_id"], d)
                assert copy_up > datetime.fromisoformat(src.record["times"]["closed"]), (plan.record["order_id"], d)
                assert (datetime.fromisoformat(plan.record["times"]["closed"])
                        > datetime.fromisoformat(src.record["times"]["closed"]))
                # nothing of the copy's order is uploaded after it closed
                closed = datetime.fromisoformat(plan.record["times"]["closed"])
                assert all(datetime.fromisoformat(x["uploaded_at"]) <= closed
                           for x in plan.record["photos"] if x["uploaded_at"])
                pairs += 1
    assert pairs >= 1

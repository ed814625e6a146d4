"""Accuracy floors of the service-form inspector on the committed fixture set (fixtures/sample).

Every service-form photo of the set is inspected with its order; the truth says which form defect (if any)
each carries. Floors sit a little under what the inspector measured when they were set (every defect kind
found, no clean form flagged), so that a regression fails here, not in production.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from wocheck.config import Config
from wocheck.inspectors.base import PhotoContext
from wocheck.inspectors.form import inspect_form
from wocheck.io.images import load_photo
from wocheck.policy import clause_of
from wocheck.records import Order, Slot

SAMPLE = REPO / "fixtures" / "sample"
# the check each fixture defect must raise (a prefix); "field_blank" may name a choice or the signature
EXPECT = {"out_of_frame": ("form.out_of_frame",), "blur": ("form.illegible",), "motion_blur": ("form.illegible",),
          "dark": ("form.illegible",), "overexposed": ("form.illegible",), "glare": ("form.illegible",),
          "field_blank": ("form.field_blank", "form.no_signature", "form.no_tick"), "no_tick": ("form.no_tick",),
          "no_signature": ("form.no_signature",), "stain": ("form.damaged",), "torn_corner": ("form.damaged",),
          "crumpled": ("form.damaged",), "not_a_form": ("form.not_a_form",)}


def _cases() -> list[tuple[Order, Path, str]]:
    truth = {t["order_id"]: t for t in map(json.loads, (SAMPLE / "truth.jsonl").read_text("utf-8").splitlines())}
    out = []
    for line in (SAMPLE / "orders.jsonl").read_text("utf-8").splitlines():
        order = Order.model_validate_json(line)
        t = truth[order.order_id]
        for ref in order.photos_in(Slot.service_form):
            label = "clean"
            for d in t["defects"]:
                name = d["defect"]
                if name.startswith("form.") and name not in ("form.missing", "form.uploaded_late") \
                        and d.get("photo") in (None, ref.file):
                    label = name.split(".", 1)[1]
            out.append((order, SAMPLE / "photos" / ref.file, label))
    return out


@pytest.fixture(scope="module")
def results(cfg: Config) -> list[dict[str, Any]]:
    if not (SAMPLE / "truth.jsonl").is_file():
        pytest.skip("fixtures/sample is not present")
    rows = []
    for order, path, label in _cases():
        ctx = PhotoContext(order=order, cfg=cfg, slot=Slot.service_form, file=path.name)
        out = inspect_form(load_photo(path), ctx)
        rows.append({"label": label, "findings": out.findings})
    return rows


@pytest.mark.slow
def test_every_form_defect_kind_is_found(results: list[dict[str, Any]]) -> None:
    kinds = {r["label"] for r in results} - {"clean"}
    assert len(kinds) >= 10, "the sample should hold most form defect kinds"
    missed = sorted({r["label"] for r in results if r["label"] != "clean"
                     and not any(f.check.startswith(EXPECT[r["label"]]) for f in r["findings"])})
    assert len(missed) <= 1, f"form defects not found: {missed}"


@pytest.mark.slow
def test_clean_forms_are_not_flagged(results: list[dict[str, Any]]) -> None:
    clean = [r for r in results if r["label"] == "clean"]
    flagged = [[f.check for f in r["findings"]] for r in clean if r["findings"]]
    assert len(clean) >= 10
    assert len(flagged) <= max(1, round(0.03 * len(clean))), flagged


@pytest.mark.slow
def test_clause_50_only_for_a_non_form(results: list[dict[str, Any]], cfg: Config) -> None:
    for r in results:
        if r["label"] != "not_a_form":
            assert all(clause_of(f, cfg) == 45 for f in r["findings"]), (r["label"], [f.check for f in r["findings"]])

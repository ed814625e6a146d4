"""Shared test helpers: a valid order record to start from, the default config."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from wocheck.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

BASE_ORDER: dict[str, Any] = {
    "order_id": "WO20261202000123",
    "order_type": "install",
    "machine_class": "household",
    "model": "NVK-RO600",
    "machine_code": "NVK6A2412000731",
    "imei": None,
    "mac": "A4CF123B9E01",
    "fault_symptom": None,
    "fault_note": None,
    "customer": {"name": "王女士", "address": "上海市浦东新区张杨路1200弄5号602", "lat": 31.2291, "lon": 121.5262},
    "engineer": {"id": "E1024", "name": "张伟"},
    "contractor": {"id": "C017", "name": "浦东净源服务部"},
    "managers": {"training": {"id": "M03", "name": "李强"}, "responsible": {"id": "M11", "name": "赵敏"}},
    "times": {"dispatched": "2026-12-02T09:10:00+08:00", "completed": "2026-12-02T15:20:00+08:00",
              "closed": "2026-12-02T15:41:00+08:00"},
    "photos": [
        {"slot": "service_form", "file": "WO20261202000123/form.jpg", "uploaded_by": "E1024",
         "uploaded_at": "2026-12-02T15:38:00+08:00"},
    ],
}


def order_dict(**overrides: Any) -> dict[str, Any]:
    """A deep copy of the base order with top-level keys replaced (``None`` values kept)."""
    d = copy.deepcopy(BASE_ORDER)
    d.update(overrides)
    return d


@pytest.fixture(scope="session")
def cfg() -> Config:
    return load_config()


@pytest.fixture(autouse=True)
def _history_db(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`wocheck scan` without --db keeps its history in a user-level file: point it at a fresh one per test."""
    monkeypatch.setenv("WOCHECK_DB", str(tmp_path_factory.mktemp("history") / "history.sqlite"))

"""Each record rule with a positive and a negative case, through the policy to clause and verdict."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import order_dict
from wocheck.config import Config
from wocheck.identifiers import luhn_check_digit
from wocheck.inspectors.record_rules import check_record
from wocheck.inspectors.slots import check_required_slots
from wocheck.policy import apply_policy
from wocheck.records import Order

IMEI = "86012345678901" + luhn_check_digit("86012345678901")


def _checks(cfg: Config, **overrides: Any) -> dict[str, tuple[int, str]]:
    order = Order.model_validate(order_dict(**overrides))
    return {v.check: (v.clause, v.verdict) for v in apply_policy(order, check_record(order, cfg), cfg)}


REPAIR = {"order_type": "repair", "fault_symptom": "F01"}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], int, str]] = [
    # check, overrides that trigger it, overrides that don't, clause, verdict
    ("record.machine_code_empty", {"machine_code": ""}, {}, 42, "violation"),
    ("record.machine_code_empty", {"machine_code": None}, {"machine_code": " nvk6a2412000731 "}, 42, "violation"),
    ("record.machine_code_malformed", {"machine_code": "NVK6A24120007"}, {}, 42, "violation"),
    ("record.machine_code_malformed", {"machine_code": "NVK6A2413000731"}, {}, 42, "violation"),  # month 13
    ("record.machine_code_other_model", {"machine_code": "NVK8A2412000731"}, {}, 44, "review"),
    ("record.model_unknown", {"model": "NVK-X9"}, {}, 42, "review"),
    ("record.model_class_mismatch", {"machine_class": "commercial"}, {}, 42, "review"),
    ("record.repair_no_symptom", {"order_type": "repair"}, REPAIR, 42, "violation"),
    ("record.repair_no_symptom", {"order_type": "repair", "fault_symptom": "  "}, REPAIR, 42, "violation"),
    ("record.symptom_not_in_catalog", {**REPAIR, "fault_symptom": "C01"}, REPAIR, 42, "violation"),
    ("record.symptom_not_in_catalog", {**REPAIR, "fault_symptom": "F08"}, REPAIR, 42, "violation"),
    ("record.network_symptom_no_module", {**REPAIR, "model": "NVK-RO400", "machine_code": "NVK4A2412000731",
                                          "mac": None, "fault_symptom": "F09"},
     {**REPAIR, "fault_symptom": "F09"}, 42, "violation"),
    ("record.other_symptom_no_note", {**REPAIR, "fault_symptom": "F99"},
     {**REPAIR, "fault_symptom": "F99", "fault_note": "滤瓶外壳开裂"}, 42, "violation"),
    ("record.symptom_on_non_repair", {"fault_symptom": "F02"}, {}, 42, "violation"),
    ("record.symptom_on_non_repair", {"order_type": "maintenance", "fault_symptom": "F02"},
     {"order_type": "maintenance"}, 42, "violation"),
    ("record.mac_missing", {"mac": None}, {"mac": "a4:cf:12:3b:9e:01"}, 42, "violation"),
    ("record.mac_missing", {"mac": ""}, {"mac": "A4-CF-12-3B-9E-01"}, 42, "violation"),
    ("record.mac_malformed", {"mac": "A4CF123B9E0"}, {"mac": "a4cf123b9e01"}, 42, "violation"),
    ("record.imei_missing", {"model": "NVK-RO800", "machine_code": "NVK8A2412000731"},
     {"model": "NVK-RO800", "machine_code": "NVK8A2412000731", "imei": IMEI}, 42, "violation"),
    ("record.imei_malformed", {"model": "NVK-RO800", "machine_code": "NVK8A2412000731",
                               "imei": IMEI[:-1] + str((int(IMEI[-1]) + 1) % 10)},
     {"model": "NVK-RO800", "machine_code": "NVK8A2412000731", "imei": IMEI}, 42, "violation"),
    ("record.uploader_not_engineer",
     {"photos": [{"slot": "service_form", "file": "a.jpg", "uploaded_by": "E2000"}]},
     {"photos": [{"slot": "service_form", "file": "a.jpg", "uploaded_by": "E1024"}]}, 43, "violation"),
    ("record.form_uploaded_late",
     {"photos": [{"slot": "service_form", "file": "a.jpg", "uploaded_at": "2026-12-03T15:21:00+08:00"}]},
     {"photos": [{"slot": "service_form", "file": "a.jpg", "uploaded_at": "2026-12-03T11:20:00+08:00"}]},
     45, "violation"),
]


@pytest.mark.parametrize(("check", "bad", "good", "clause", "verdict"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_positive_and_negative(cfg: Config, check: str, bad: dict[str, Any], good: dict[str, Any],
                                    clause: int, verdict: str) -> None:
    found = _checks(cfg, **bad)
    assert found.get(check) == (clause, verdict), found
    assert check not in _checks(cfg, **good)


def test_clean_base_order_has_no_record_findings(cfg: Config) -> None:
    assert _checks(cfg) == {}


def test_commercial_network_symptom_fits_model_with_module(cfg: Config) -> None:
    found = _checks(cfg, machine_class="commercial", model="NVK-C1000", machine_code="NVKCA2412000731",
                    imei=IMEI, order_type="repair", fault_symptom="C07")
    assert found == {}


def test_late_form_uses_closed_time_when_upload_time_missing(cfg: Config) -> None:
    found = _checks(cfg, times={"dispatched": "2026-12-01T09:10:00+08:00",
                                "completed": "2026-12-01T15:20:00+08:00", "closed": "2026-12-03T15:41:00+08:00"},
                    photos=[{"slot": "service_form", "file": "a.jpg"}])
    assert found.get("record.form_uploaded_late") == (45, "violation")


def test_late_form_across_time_zones(cfg: Config) -> None:
    # 15:20+08:00 is 07:20Z; 23 h later in UTC is still within the limit
    found = _checks(cfg, photos=[{"slot": "service_form", "file": "a.jpg", "uploaded_at": "2026-12-03T06:20:00+00:00"}])
    assert "record.form_uploaded_late" not in found


def test_one_finding_per_other_uploader(cfg: Config) -> None:
    order = Order.model_validate(order_dict(photos=[
        {"slot": "service_form", "file": "a.jpg", "uploaded_by": "E2"},
        {"slot": "code_label", "file": "b.jpg", "uploaded_by": "E2"},
        {"slot": "pipeline_45", "file": "c.jpg", "uploaded_by": "E3"}]))
    fs = [f for f in check_record(order, cfg) if f.check == "record.uploader_not_engineer"]
    assert [f.evidence["uploaded_by"] for f in fs] == ["E2", "E3"]
    assert fs[0].evidence["photos"] == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    ("machine_class", "order_type", "slots"),
    [("household", "install", {"service_form", "pipeline_45", "install_env", "machine_running", "code_label"}),
     ("household", "relocate", {"service_form", "pipeline_45", "install_env", "machine_running", "code_label"}),
     ("household", "repair", {"service_form", "machine_running", "code_label"}),
     ("household", "filter_change", {"service_form", "machine_running", "code_label"}),
     ("commercial", "install", {"service_form", "pipeline_45", "machine_overall", "code_label"}),
     ("commercial", "repair", {"service_form", "machine_overall", "fault_part", "code_label"}),
     ("commercial", "maintenance", {"service_form", "machine_overall", "code_label"})],
)
def test_required_slots_per_class_and_type(cfg: Config, machine_class: str, order_type: str, slots: set[str]) -> None:
    order = Order.model_validate(order_dict(machine_class=machine_class, order_type=order_type, photos=[]))
    vs = apply_policy(order, check_required_slots(order, cfg), cfg)
    assert {v.slot for v in vs} == slots
    clause = {"service_form": 45, "pipeline_45": 46, "install_env": 47, "machine_running": 47,
              "machine_overall": 48, "fault_part": 48, "code_label": 49}
    assert all(v.clause == clause[v.slot] and v.verdict == "violation" for v in vs)


def test_unusable_photo_counts_as_missing_with_reason(cfg: Config) -> None:
    order = Order.model_validate(order_dict(order_type="repair", photos=[
        {"slot": "service_form", "file": "a.jpg"}, {"slot": "machine_running", "file": "b.jpg"},
        {"slot": "machine_running", "file": "c.jpg"}, {"slot": "code_label", "file": "d.jpg"}]))
    fs = check_required_slots(order, cfg, {"a.jpg": "photo file is empty", "b.jpg": "truncated"})
    assert [f.slot.value for f in fs if f.slot] == ["service_form"]  # c.jpg still serves machine_running
    assert fs[0].evidence["unusable"] == {"a.jpg": "photo file is empty"}


def test_violation_record_carries_the_parties(cfg: Config) -> None:
    order = Order.model_validate(order_dict(machine_code=""))
    (v,) = apply_policy(order, check_record(order, cfg), cfg)
    d = v.to_json_dict()
    assert d["schema"] == "wocheck.violation/1"
    assert (d["engineer_id"], d["contractor_id"], d["training_manager_id"], d["responsible_manager_id"]) == \
        ("E1024", "C017", "M03", "M11")
    assert d["closed_at"] == "2026-12-02T15:41:00+08:00"
    assert d["message_zh"] and d["message_en"] and d["checker_version"]

"""The contract's types: the order record, findings, violation and input-error records.

`Order` mirrors section 1 of the contract (unknown keys are kept and ignored); `Finding` is what an
inspector reports (a measured defect with its evidence, no clause and no verdict: the policy decides
those); `Violation` and `InputErrorRecord` are the output records of section 5 and section 1.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

VIOLATION_SCHEMA = "wocheck.violation/1"
INPUT_ERROR_SCHEMA = "wocheck.input_error/1"


class OrderType(StrEnum):
    install = "install"
    repair = "repair"
    maintenance = "maintenance"
    filter_change = "filter_change"
    relocate = "relocate"


class MachineClass(StrEnum):
    household = "household"
    commercial = "commercial"


class Slot(StrEnum):
    service_form = "service_form"
    pipeline_45 = "pipeline_45"
    install_env = "install_env"
    machine_running = "machine_running"
    machine_overall = "machine_overall"
    fault_part = "fault_part"
    code_label = "code_label"


class Datum(StrEnum):
    gcj02 = "gcj02"
    wgs84 = "wgs84"
    bd09 = "bd09"


Verdict = Literal["violation", "review"]


class _Record(BaseModel):
    """Input records: unknown keys are kept (``extra="allow"``) and ignored."""

    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=False)


class Person(_Record):
    id: str = Field(min_length=1)
    name: str | None = None


class Managers(_Record):
    training: Person | None = None
    responsible: Person | None = None


class Customer(_Record):
    name: str | None = None
    address: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    datum: Datum = Datum.gcj02

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("coordinate must be a finite number")
        return v


class Times(_Record):
    dispatched: datetime
    completed: datetime
    closed: datetime

    @field_validator("dispatched", "completed", "closed")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("time must carry a UTC offset, e.g. 2026-12-02T09:10:00+08:00")
        return v


class PhotoRef(_Record):
    slot: Slot
    file: str = Field(min_length=1)
    uploaded_by: str | None = None
    uploaded_at: datetime | None = None

    @field_validator("uploaded_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and (v.tzinfo is None or v.utcoffset() is None):
            raise ValueError("time must carry a UTC offset, e.g. 2026-12-02T15:38:00+08:00")
        return v


class Order(_Record):
    order_id: str = Field(min_length=1)
    order_type: OrderType
    machine_class: MachineClass
    model: str = Field(min_length=1)
    machine_code: str | None = None
    imei: str | None = None
    mac: str | None = None
    fault_symptom: str | None = None
    fault_note: str | None = None
    customer: Customer
    engineer: Person
    contractor: Person | None = None
    managers: Managers | None = None
    times: Times
    photos: list[PhotoRef] = Field(default_factory=list)

    def photos_in(self, slot: Slot) -> list[PhotoRef]:
        return [p for p in self.photos if p.slot == slot]


class Finding(BaseModel):
    """One defect an inspector or rule found, with the evidence that led there.

    ``check`` is a stable dotted code (``form.field_blank``); the policy maps it to a clause and a
    verdict. ``certain=False`` asks the policy for ``review`` whatever the check's default verdict.
    ``hint_zh``/``hint_en`` say what the engineer should do to fix it.
    """

    model_config = ConfigDict(frozen=True)

    check: str
    slot: Slot | None = None
    photo: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    message_zh: str
    message_en: str
    hint_zh: str = ""
    hint_en: str = ""
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    certain: bool = True


class Violation(BaseModel):
    """The contract's output record (section 5)."""

    model_config = ConfigDict(frozen=True)

    schema_: str = Field(default=VIOLATION_SCHEMA, alias="schema")
    order_id: str
    clause: int = Field(ge=1, le=92)
    check: str
    verdict: Verdict
    confidence: float = Field(ge=0.0, le=1.0)
    slot: str | None = None
    photo: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    message_zh: str = ""
    message_en: str = ""
    hint_zh: str = ""
    hint_en: str = ""
    engineer_id: str | None = None
    contractor_id: str | None = None
    training_manager_id: str | None = None
    responsible_manager_id: str | None = None
    closed_at: datetime | None = None
    checker_version: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class InputErrorRecord(BaseModel):
    """One bad input (section 1): a line that could not become an order, or a photo that can't be used."""

    model_config = ConfigDict(frozen=True)

    schema_: str = Field(default=INPUT_ERROR_SCHEMA, alias="schema")
    line: int | None = None
    order_id: str | None = None
    reason: str
    photo: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", by_alias=True)
        if d.get("photo") is None:
            d.pop("photo", None)
        return d

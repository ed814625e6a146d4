"""Reading the penalty calculator's inputs: violation records and reviewer decisions (JSON Lines).

Violation records may come from any department (this checker's ``violations.jsonl``, telephone
call-backs, complaints, operator feedback) for any clause 1-92. The calculator needs only part of the
contract's record (section 5): ``order_id``, ``clause``, ``check``, ``verdict``, ``closed_at`` and the four
party ids; other keys (``confidence``, ``evidence``, messages ...) are kept and ignored, so a department
that does not measure a confidence still gets its records counted. A record whose ``schema`` is given
must be ``wocheck.violation/1`` (an input-error record fed by mistake is refused).

A bad line (not UTF-8, not JSON, a missing or wrong key) is rejected with its line number and the
reason; the other lines are read on. Only a file that can't be opened stops the run (`InputFileError`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wocheck.errors import InputFileError
from wocheck.io.orders import describe_validation_error
from wocheck.records import VIOLATION_SCHEMA, Verdict

MAX_LINE_BYTES = 2**20  # a violation record is well under 10 kB; a longer line is not one


class _Input(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class PenaltyRecord(_Input):
    """The part of a violation record (contract section 5) that the penalty calculator uses.

    A party id that is ``null`` or blank means that party is not charged for this record.
    """

    schema_: str | None = Field(default=None, alias="schema")
    order_id: str = Field(min_length=1)
    clause: int = Field(ge=1, le=92)
    check: str = Field(min_length=1)
    verdict: Verdict
    closed_at: datetime
    engineer_id: str | None = None
    contractor_id: str | None = None
    training_manager_id: str | None = None
    responsible_manager_id: str | None = None

    @field_validator("schema_")
    @classmethod
    def _schema(cls, v: str | None) -> str | None:
        if v is not None and v != VIOLATION_SCHEMA:
            raise ValueError(f"schema must be {VIOLATION_SCHEMA!r} (this is no violation record)")
        return v

    @field_validator("closed_at", mode="before")
    @classmethod
    def _closed_given(cls, v: Any) -> Any:
        if v is None or v == "":
            raise ValueError("closed_at is empty: the order's closing time decides the month of the charge")
        return v

    @field_validator("closed_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("closed_at must carry a UTC offset, e.g. 2026-12-02T15:41:00+08:00")
        return v

    @field_validator("engineer_id", "contractor_id", "training_manager_id", "responsible_manager_id")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v if v is not None and v.strip() else None

    @property
    def month(self) -> str:
        """``YYYY-MM`` of ``closed_at`` in its own offset (the company's local time)."""
        return f"{self.closed_at.year:04d}-{self.closed_at.month:02d}"


class Decision(_Input):
    """A reviewer's decision on one finding: matched on ``order_id`` + ``clause`` + ``check``."""

    order_id: str = Field(min_length=1)
    clause: int = Field(ge=1, le=92)
    check: str = Field(min_length=1)
    decision: Literal["confirmed", "dismissed"]

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.order_id, self.clause, self.check)


@dataclass(frozen=True)
class Rejected:
    """A line that could not be used, with where it is and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path} line {self.line}: {self.reason}"


_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class Lines(Generic[_M]):
    """The usable lines of a JSON Lines file (with their line numbers) and the rejected ones."""

    items: tuple[tuple[int, _M], ...]
    rejected: tuple[Rejected, ...]

    @property
    def values(self) -> list[_M]:
        return [item for _, item in self.items]


def _parse(raw: bytes, parse: Callable[[Any], _M]) -> _M | str:
    """The line's value, or the reason it can't be used."""
    if len(raw) > MAX_LINE_BYTES:
        return f"line is {len(raw)} bytes, longer than the {MAX_LINE_BYTES} a record may take"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not UTF-8 text: {e.reason} at byte {e.start}"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        return f"not valid JSON: {e.msg} at column {e.colno}"
    if not isinstance(obj, dict):
        return f"a record must be a JSON object, got {type(obj).__name__}"
    try:
        return parse(obj)
    except ValidationError as e:
        return describe_validation_error(e)


def read_jsonl(path: Path, model: type[_M], *, what: str) -> Lines[_M]:
    """Every non-blank line of ``path`` validated as ``model``; bad lines are rejected, not fatal."""
    try:
        fh = path.open("rb")
    except OSError as e:
        raise InputFileError(f"can't open {what} file {path}: {e.strerror or e}") from e
    items: list[tuple[int, _M]] = []
    rejected: list[Rejected] = []
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            stripped = raw.strip()
            if lineno == 1:
                stripped = stripped.removeprefix(b"\xef\xbb\xbf")
            if not stripped:
                continue
            got = _parse(stripped, model.model_validate)
            if isinstance(got, str):
                rejected.append(Rejected(str(path), lineno, got))
            else:
                items.append((lineno, got))
    return Lines(tuple(items), tuple(rejected))


def read_penalty_records(path: Path) -> Lines[PenaltyRecord]:
    """Violation records from any department (JSON Lines)."""
    return read_jsonl(path, PenaltyRecord, what="violations")


def read_decisions(path: Path) -> Lines[Decision]:
    """Reviewer decisions (JSON Lines ``{"order_id", "clause", "check", "decision"}``)."""
    return read_jsonl(path, Decision, what="decisions")

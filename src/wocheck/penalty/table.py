"""The rulebook's penalty table (clauses 1-92) as typed, validated data.

The table lives in ``models/penalty/rulebook.toml`` (generated from the rulebook text by
``scripts/extract_penalty_table.py`` and checked by hand); `load_penalty_table` reads and validates it
and raises `ConfigError` naming the file, the clause and the reason when something is wrong.

Each clause has one `PartyCell` per `Role`: not charged (the rulebook's ``/``), or an amount per
occurrence in yuan or KPI points, with the escalations that need a person (`Flag`).
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wocheck.errors import ConfigError
from wocheck.paths import models_dir

TABLE_SCHEMA = "wocheck.penalty_table/1"


class Role(StrEnum):
    """The four columns of the rulebook, in its order."""

    contractor = "contractor"  # 承包商/第三方平台
    engineer = "engineer"  # 责任工程师/仓库管理员
    training_manager = "training_manager"  # 培训经理/仓库主管
    responsible_manager = "responsible_manager"  # 责任经理


class Unit(StrEnum):
    yuan = "yuan"  # 元
    kpi = "kpi"  # KPI points, 分


class ClauseKind(StrEnum):
    penalty = "penalty"  # 负激励: a fine, once per order
    bad_review_tag = "bad_review_tag"  # 差评标签: per tag, accumulating
    reward = "reward"  # 正激励: paid to the party (booked as a negative amount)


# Escalations that need a person, in the order they are listed: "+照价赔偿" plus compensation at cost,
# "+双倍处罚" plus double, "情节严重" serious cases (contract ended / dismissal), "解除协议" agreement ended.
Flag = Literal["+照价赔偿", "+双倍处罚", "情节严重", "解除协议"]
FLAG_ORDER: tuple[str, ...] = ("+照价赔偿", "+双倍处罚", "情节严重", "解除协议")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyCell(_Strict):
    """One party's cell of a clause: ``charged=False`` is the rulebook's ``/``."""

    raw: str
    charged: bool
    amount: float | None = Field(None, ge=0)
    unit: Unit | None = None
    flags: tuple[Flag, ...] = ()
    note: str = ""
    merged_from: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> PartyCell:
        if self.charged and (self.amount is None or self.unit is None):
            raise ValueError("a charged cell needs amount and unit")
        if not self.charged and (self.amount is not None or self.unit is not None or self.flags):
            raise ValueError("a cell with charged = false takes no amount, unit or flags")
        return self

    @property
    def yuan(self) -> float:
        """The amount in yuan per occurrence (0 when not charged or charged in KPI points)."""
        return float(self.amount or 0.0) if self.unit == Unit.yuan else 0.0

    @property
    def kpi_points(self) -> float:
        """The KPI points per occurrence (0 when not charged or charged in yuan)."""
        return float(self.amount or 0.0) if self.unit == Unit.kpi else 0.0


class ClauseRule(_Strict):
    """One row of the rulebook's table."""

    number: int = Field(ge=1)
    category: str
    kind: ClauseKind
    text_zh: str = Field(min_length=1)
    source_zh: str = ""
    accumulate: bool = False  # one charge per record (bad-review tags), not once per order
    max_per_month: int | None = Field(None, ge=1)  # per party and month (clause 91: 每月限一次)
    contractor: PartyCell
    engineer: PartyCell
    training_manager: PartyCell
    responsible_manager: PartyCell

    def cell(self, role: Role) -> PartyCell:
        cell: PartyCell = getattr(self, role.value)
        return cell

    @model_validator(mode="after")
    def _kind(self) -> ClauseRule:
        if (self.kind == ClauseKind.bad_review_tag) != self.accumulate:
            raise ValueError("kind bad_review_tag and accumulate = true go together")
        if not any(self.cell(r).charged for r in Role):
            raise ValueError("no party is charged: at least one cell must not be \"/\"")
        return self


class PenaltyTable(_Strict):
    """The whole table; `load_penalty_table` builds it, the calculator only reads it."""

    schema_: Literal["wocheck.penalty_table/1"] = Field(alias="schema")
    provenance: dict[str, Any] = Field(default_factory=dict)
    clauses: tuple[ClauseRule, ...] = Field(alias="clause", min_length=1)
    source: str = ""

    @model_validator(mode="after")
    def _numbered(self) -> PenaltyTable:
        numbers = [c.number for c in self.clauses]
        expected = list(range(1, len(numbers) + 1))
        if numbers != expected:
            wrong = next(n for n, e in zip(numbers, expected, strict=True) if n != e)
            raise ValueError(f"clauses must be numbered 1..{len(numbers)} in order, each once (found {wrong} "
                             f"at position {numbers.index(wrong) + 1})")
        return self

    def rule(self, clause: int) -> ClauseRule | None:
        """The clause's row, or ``None`` if the table has no such clause."""
        if 1 <= clause <= len(self.clauses):
            return self.clauses[clause - 1]
        return None


def default_table_path() -> Path:
    return models_dir() / "penalty" / "rulebook.toml"


def _describe(e: ValidationError, raw: dict[str, Any]) -> str:
    lines = []
    for err in e.errors():
        loc = list(err["loc"])
        if len(loc) >= 2 and loc[0] == "clause" and isinstance(loc[1], int):
            items = raw.get("clause")
            number = items[loc[1]].get("number", "?") if isinstance(items, list) and loc[1] < len(items) else "?"
            where = f"clause {number}" + ("." + ".".join(str(p) for p in loc[2:]) if loc[2:] else "")
        else:
            where = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def load_penalty_table(path: Path | None = None) -> PenaltyTable:
    """Read and validate the penalty table (TOML); ``None`` = the project's ``models/penalty/rulebook.toml``."""
    path = path or default_table_path()
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"penalty table {path} does not exist") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"penalty table {path} can't be read: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"penalty table {path} is not valid TOML: {e}") from e
    try:
        return PenaltyTable.model_validate({**raw, "source": str(path)})
    except ValidationError as e:
        raise ConfigError(f"penalty table {path} is invalid:\n{_describe(e, raw)}") from e

"""Two-level thresholds and slot rules shared by the photo inspectors (a helper module, not an inspector).

A `Band` holds a review and a violation threshold for one measured value and which side is bad; it says
which level a value reaches and how confident a finding at that value is. The thresholds files under
models/thresholds/ hold bands as inline tables: ``blur = { review = 4.0, violation = 5.0, direction = "above" }``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wocheck.records import Finding

if TYPE_CHECKING:
    from wocheck.inspectors.base import PhotoContext


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(Strict):
    """A two-level threshold: past ``violation`` the finding is certain, between ``review`` and it a reviewer
    decides. ``direction`` says which side is bad: "above" (bad when value > threshold) or "below"."""

    review: float
    violation: float
    direction: str = Field(pattern="^(above|below)$")

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.direction == "above" and self.violation < self.review:
            raise ValueError("for 'above' the violation threshold must be ≥ the review threshold")
        if self.direction == "below" and self.violation > self.review:
            raise ValueError("for 'below' the violation threshold must be ≤ the review threshold")
        return self

    def level(self, value: float) -> str | None:
        """"violation", "review" or None for ``value``."""
        bad = (lambda t: value > t) if self.direction == "above" else (lambda t: value < t)
        if bad(self.violation):
            return "violation"
        if bad(self.review):
            return "review"
        return None

    def confidence(self, value: float) -> float:
        """0.5 at the review threshold, 0.9 at the violation threshold, → 0.99 beyond (linear in the value)."""
        span = abs(self.violation - self.review) or 1e-9
        past = (value - self.review) if self.direction == "above" else (self.review - value)
        c = 0.5 + 0.4 * past / span
        return float(min(0.99, max(0.5, c)))


def slot_required(ctx: PhotoContext) -> bool:
    """Whether the order requires this slot (config ``required_slots`` by class and type); True without order.

    Clauses 47 and 48 are per machine class (household: install_env, machine_running; commercial:
    machine_overall, fault_part): a defect on an extra photo the order doesn't require is left to a reviewer.
    """
    if ctx.order is None:
        return True
    return ctx.slot in ctx.cfg.required(ctx.order.machine_class, ctx.order.order_type)


def for_unrequired_slot(f: Finding) -> Finding:
    """The finding made uncertain (a reviewer decides), marked ``slot_required: false``."""
    return f.model_copy(update={"certain": False, "evidence": {**f.evidence, "slot_required": False}})

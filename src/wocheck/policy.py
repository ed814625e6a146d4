"""Findings -> violation records: the clause and the verdict of each check (contract section 4).

Nothing else happens here. The policy table is config (`[policy.checks]`); a finding that its inspector
marks uncertain, or whose confidence is below ``min_violation_confidence``, goes to ``review``.
"""

from __future__ import annotations

from collections.abc import Iterable

from wocheck import __version__
from wocheck.config import Config
from wocheck.errors import ConfigError
from wocheck.records import Finding, Order, Verdict, Violation


def clause_of(finding: Finding, cfg: Config) -> int:
    entry = cfg.check_policy(finding.check)
    if entry.clause is not None:
        return entry.clause
    if finding.slot is None:
        raise ConfigError(f"policy: check {finding.check!r} has no clause and its finding no slot")
    return cfg.slots[finding.slot].clause


def verdict_of(finding: Finding, cfg: Config) -> Verdict:
    entry = cfg.check_policy(finding.check)
    if entry.verdict == "review":
        return "review"
    if not finding.certain or finding.confidence < cfg.policy.min_violation_confidence:
        return "review"
    return "violation"


def to_violation(order: Order, finding: Finding, cfg: Config) -> Violation:
    mgr = order.managers
    return Violation(
        order_id=order.order_id, clause=clause_of(finding, cfg), check=finding.check,
        verdict=verdict_of(finding, cfg), confidence=finding.confidence,
        slot=finding.slot.value if finding.slot else None, photo=finding.photo, evidence=finding.evidence,
        message_zh=finding.message_zh, message_en=finding.message_en,
        hint_zh=finding.hint_zh, hint_en=finding.hint_en,
        engineer_id=order.engineer.id, contractor_id=order.contractor.id if order.contractor else None,
        training_manager_id=mgr.training.id if mgr and mgr.training else None,
        responsible_manager_id=mgr.responsible.id if mgr and mgr.responsible else None,
        closed_at=order.times.closed, checker_version=__version__,
    )


def apply_policy(order: Order, findings: Iterable[Finding], cfg: Config) -> list[Violation]:
    """Violation records for an order's findings, sorted by clause then check (stable output)."""
    out = [to_violation(order, f, cfg) for f in findings]
    return sorted(out, key=lambda v: (v.clause, v.check, v.photo or ""))

"""The fine a charged clause carries on one order, from the rulebook's penalty table.

The report and summary.csv show, per order, what the penalty side would charge: each charged clause once
per order (contract section 4), its contractor's plus its engineer's amount in yuan (the managers' columns
are KPI points for clauses 42-50). The amounts come from `wocheck.penalty.table`; if the table can't be
loaded the report still renders, with the fines left blank and a warning in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClauseFine:
    """Yuan per occurrence of one clause, per party; ``total`` is what an order carries for it."""

    clause: int
    contractor_yuan: float
    engineer_yuan: float
    text_zh: str = ""  # the rulebook's wording of the clause

    @property
    def total(self) -> float:
        return self.contractor_yuan + self.engineer_yuan


FineTable = Mapping[int, ClauseFine]


def clause_fines(table_path: Path | None = None) -> dict[int, ClauseFine]:
    """Every penalty clause's fine from the penalty table; empty (fines unknown) if it can't be loaded."""
    try:
        from wocheck.penalty.table import ClauseKind, load_penalty_table
    except ImportError:  # the penalty package is optional for the report
        log.warning("penalty table module not available: fines are left blank")
        return {}
    from wocheck.errors import WocheckError

    try:
        table = load_penalty_table(table_path)
    except WocheckError as e:
        log.warning("penalty table not loaded, fines are left blank: %s", e)
        return {}
    return {r.number: ClauseFine(r.number, r.contractor.yuan, r.engineer.yuan, r.text_zh)
            for r in table.clauses if r.kind == ClauseKind.penalty}


def order_fine(clauses: Iterable[int], fines: FineTable) -> float | None:
    """The fine of an order charged with ``clauses``: each clause once; ``None`` if a clause's is unknown."""
    total = 0.0
    for c in set(clauses):
        f = fines.get(c)
        if f is None:
            return None
        total += f.total
    return total

"""``OUT/summary.csv``: one row per order and clause, for the back office's spreadsheet.

Rows
    - an order with findings: one row per clause, ``status`` = ``violation`` (charged now) or ``review``
      (charged only if a reviewer confirms), with the clause's checks, messages and fine;
    - an order with none: one row with ``status`` = ``ok``;
    - every input error: one row with ``status`` = ``input_error`` and the ``reason`` (a bad line of the
      orders file carries the ``line`` and, when it could be read, the ``order_id``).

``fine_yuan`` is what the clause costs the order now (contractor + engineer, once per clause; blank if the
penalty table is unavailable); ``fine_if_confirmed_yuan`` what a ``review`` row would cost once confirmed.

Encoding: UTF-8 with a byte-order mark and CRLF line ends, so that Excel opens the Chinese text correctly
by double-click. Text cells that Excel would take for a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are prefixed with ``'`` (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wocheck.io.writers import write_text_atomic
from wocheck.records import InputErrorRecord, Violation
from wocheck.report.fines import FineTable, clause_fines

if TYPE_CHECKING:
    from wocheck.pipeline.scan import OrderOutcome

SUMMARY_COLUMNS = [
    "order_id", "status", "clause", "checks", "fine_yuan", "fine_if_confirmed_yuan", "confidence",
    "message_zh", "message_en",
    "order_type", "machine_class", "model", "engineer_id", "engineer_name", "contractor_id", "contractor_name",
    "closed_at", "photos", "line", "reason",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def _cell(value: object) -> object:
    """A value as Excel should show it: text that could start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _money(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


def _order_cols(o: OrderOutcome) -> dict[str, object]:
    order = o.order
    return {
        "order_id": order.order_id, "order_type": order.order_type.value,
        "machine_class": order.machine_class.value, "model": order.model,
        "engineer_id": order.engineer.id, "engineer_name": order.engineer.name or "",
        "contractor_id": order.contractor.id if order.contractor else "",
        "contractor_name": (order.contractor.name or "") if order.contractor else "",
        "closed_at": order.times.closed.isoformat(), "photos": len(order.photos),
    }


def _clause_rows(o: OrderOutcome, fines: FineTable) -> Iterator[dict[str, object]]:
    base = _order_cols(o)
    by_clause: dict[int, list[Violation]] = {}
    for v in o.violations:
        by_clause.setdefault(v.clause, []).append(v)
    for clause in sorted(by_clause):
        vs = by_clause[clause]
        charged = any(v.verdict == "violation" for v in vs)
        fine = fines.get(clause)
        amount = fine.total if fine is not None else None
        yield {
            **base, "status": "violation" if charged else "review", "clause": clause,
            "checks": " ".join(dict.fromkeys(v.check for v in vs)),
            "fine_yuan": _money(amount) if charged else _money(0.0),
            "fine_if_confirmed_yuan": "" if charged else _money(amount),
            "confidence": f"{max(v.confidence for v in vs):.2f}",
            "message_zh": "；".join(dict.fromkeys(v.message_zh for v in vs if v.message_zh)),
            "message_en": "; ".join(dict.fromkeys(v.message_en for v in vs if v.message_en)),
        }


def summary_rows(outcomes: Sequence[OrderOutcome], line_errors: Sequence[InputErrorRecord],
                 fines: FineTable) -> Iterator[dict[str, object]]:
    """The CSV's rows (unescaped values), orders in the given order, then the unreadable lines."""
    for o in outcomes:
        rows = list(_clause_rows(o, fines))
        yield from rows or [{**_order_cols(o), "status": "ok"}]
        for err in o.result.input_errors:
            yield {**_order_cols(o), "status": "input_error", "line": err.line if err.line is not None else "",
                   "reason": err.reason}
    for err in line_errors:
        yield {"order_id": err.order_id or "", "status": "input_error",
               "line": err.line if err.line is not None else "", "reason": err.reason}


def render_summary_csv(outcomes: Sequence[OrderOutcome], line_errors: Sequence[InputErrorRecord],
                       fines: FineTable | None = None) -> str:
    """The whole summary.csv text, BOM included."""
    fines = clause_fines() if fines is None else fines
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in summary_rows(outcomes, line_errors, fines):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return BOM + buf.getvalue()


def write_summary_csv(path: Path, outcomes: Sequence[OrderOutcome], line_errors: Sequence[InputErrorRecord],
                      fines: FineTable | None = None) -> Path:
    """Write ``summary.csv`` atomically (see the module's docstring for its rows and encoding)."""
    write_text_atomic(path, render_summary_csv(outcomes, line_errors, fines))
    return path

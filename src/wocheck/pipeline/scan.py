"""The nightly scan: read the orders, check each, write violations, input errors, summary and report.

Only this parent process writes. Outputs stream to ``*.partial`` files that become final when the scan
completes, so a crash or a kill never leaves a half-written file under a final name, and what was
already written stays readable.
"""

from __future__ import annotations

import csv
import io
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wocheck.config import Config
from wocheck.io.orders import read_orders
from wocheck.io.writers import JsonlWriter, write_text_atomic
from wocheck.pipeline.executor import run_orders
from wocheck.pipeline.work import OrderResult
from wocheck.policy import apply_policy
from wocheck.records import InputErrorRecord, Order, Violation

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ["order_id", "status", "order_type", "machine_class", "model", "engineer_id",
                   "contractor_id", "photos", "violations", "reviews", "clauses_violation", "clauses_review",
                   "input_errors"]


@dataclass(frozen=True)
class ScanSettings:
    orders_path: Path
    photo_root: Path
    out_dir: Path
    workers: int = 1
    db_path: Path | None = None
    progress: bool = False


@dataclass
class ScanSummary:
    orders: int = 0
    orders_flagged: int = 0
    photos: int = 0
    input_errors: int = 0
    violations: int = 0
    reviews: int = 0
    by_clause: Counter[tuple[int, str]] = field(default_factory=Counter)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"orders {self.orders} (flagged {self.orders_flagged}), photos {self.photos}, "
               f"violations {self.violations}, reviews {self.reviews}, input errors {self.input_errors}, "
               f"{self.seconds:.1f} s"]
        for (clause, verdict), n in sorted(self.by_clause.items()):
            out.append(f"  clause {clause} {verdict}: {n}")
        return out


@dataclass(frozen=True)
class OrderOutcome:
    """One order after the policy: what the writers and the report need."""

    result: OrderResult
    violations: tuple[Violation, ...]

    @property
    def order(self) -> Order:
        return self.result.order


def _summary_row(o: OrderOutcome) -> dict[str, object]:
    order = o.order
    viol = sorted({v.clause for v in o.violations if v.verdict == "violation"})
    rev = sorted({v.clause for v in o.violations if v.verdict == "review"})
    return {
        "order_id": order.order_id,
        "status": "flagged" if o.violations else "ok",
        "order_type": order.order_type.value, "machine_class": order.machine_class.value,
        "model": order.model, "engineer_id": order.engineer.id,
        "contractor_id": order.contractor.id if order.contractor else "",
        "photos": len(order.photos),
        "violations": sum(v.verdict == "violation" for v in o.violations),
        "reviews": sum(v.verdict == "review" for v in o.violations),
        "clauses_violation": " ".join(map(str, viol)), "clauses_review": " ".join(map(str, rev)),
        "input_errors": len(o.result.input_errors),
    }


def _error_row(err: InputErrorRecord) -> dict[str, object]:
    return {"order_id": err.order_id or f"(line {err.line})", "status": "input_error", "input_errors": 1}


def _progress(total_hint: int | None, enabled: bool) -> object:
    from tqdm import tqdm

    return tqdm(total=total_hint, unit="order", file=sys.stderr, disable=not enabled, dynamic_ncols=True)


def run_scan(settings: ScanSettings, cfg: Config) -> ScanSummary:
    """Scan every order of the file; returns the summary. Raises only if the orders file can't be read."""
    t0 = time.monotonic()
    out = settings.out_dir
    out.mkdir(parents=True, exist_ok=True)
    summary = ScanSummary()
    line_errors: list[InputErrorRecord] = []
    outcomes: list[OrderOutcome] = []
    rows: list[dict[str, object]] = []

    def good_orders() -> Iterator[tuple[Order, int]]:
        for item in read_orders(settings.orders_path):
            if item.order is not None:
                yield item.order, item.line
            elif item.error is not None:
                line_errors.append(item.error)
                errors_out.write(item.error.to_json_dict())
                rows.append(_error_row(item.error))

    bar = _progress(None, settings.progress)
    with JsonlWriter(out / "violations.jsonl") as viol_out, \
            JsonlWriter(out / "input_errors.jsonl") as errors_out:
        for result in run_orders(good_orders(), cfg, settings.photo_root, settings.workers):
            outcome = OrderOutcome(result, tuple(apply_policy(result.order, result.findings, cfg)))
            for v in outcome.violations:
                viol_out.write(v.to_json_dict())
                summary.by_clause[(v.clause, v.verdict)] += 1
            for err in result.input_errors:
                errors_out.write(err.to_json_dict())
            summary.orders += 1
            summary.photos += len(result.photos)
            summary.input_errors += len(result.input_errors)
            summary.violations += sum(v.verdict == "violation" for v in outcome.violations)
            summary.reviews += sum(v.verdict == "review" for v in outcome.violations)
            summary.orders_flagged += bool(outcome.violations)
            rows.append(_summary_row(outcome))
            outcomes.append(outcome)
            bar.update(1)  # type: ignore[attr-defined]
    bar.close()  # type: ignore[attr-defined]
    summary.input_errors += len(line_errors)

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "summary.csv", buf.getvalue())

    from wocheck.report.html import write_report

    summary.seconds = time.monotonic() - t0
    write_report(out / "report", outcomes, line_errors, summary, photo_root=settings.photo_root)
    return summary

"""The nightly scan: read the orders, check each, write violations, input errors, summary and report.

Only this parent process writes. Outputs stream to ``*.partial`` files that become final when the scan
completes, so a crash or a kill never leaves a half-written file under a final name, and what was
already written stays readable.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wocheck.config import Config
from wocheck.io.orders import read_orders
from wocheck.io.writers import JsonlWriter
from wocheck.pipeline.executor import run_orders
from wocheck.pipeline.work import OrderResult
from wocheck.policy import apply_policy
from wocheck.records import InputErrorRecord, Order, Violation

log = logging.getLogger(__name__)


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

    def good_orders() -> Iterator[tuple[Order, int]]:
        for item in read_orders(settings.orders_path):
            if item.order is not None:
                yield item.order, item.line
            elif item.error is not None:
                line_errors.append(item.error)
                errors_out.write(item.error.to_json_dict())

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
            outcomes.append(outcome)
            bar.update(1)  # type: ignore[attr-defined]
    bar.close()  # type: ignore[attr-defined]
    summary.input_errors += len(line_errors)

    from wocheck.report.html import write_report
    from wocheck.report.summary import write_summary_csv

    write_summary_csv(out / "summary.csv", outcomes, line_errors)

    summary.seconds = time.monotonic() - t0
    write_report(out / "report", outcomes, line_errors, summary, photo_root=settings.photo_root,
                 workers=settings.workers)
    return summary

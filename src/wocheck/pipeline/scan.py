"""The nightly scan: read the orders, check each, write violations, input errors, summary and report.

Only this parent process writes. Outputs stream to ``*.partial`` files that become final when the scan
completes, so a crash or a kill never leaves a half-written file under a final name, and what was
already written stays readable. Besides the outputs the scan keeps a structured log,
``OUT/scan.log.jsonl`` (`wocheck.pipeline.scanlog`): its events and every warning, one JSON object a line.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from wocheck import __version__
from wocheck.config import Config
from wocheck.io.orders import read_orders
from wocheck.io.writers import JsonlWriter
from wocheck.pipeline.executor import run_orders
from wocheck.pipeline.scanlog import ScanEvents, scan_log
from wocheck.pipeline.work import OrderResult
from wocheck.policy import apply_policy
from wocheck.records import Finding, InputErrorRecord, Order, Violation

if TYPE_CHECKING:
    from wocheck.history.scanning import ScanHistory
    from wocheck.report.html import ThumbRenderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanSettings:
    orders_path: Path
    photo_root: Path
    out_dir: Path
    workers: int = 1
    db_path: Path | None = None
    cluster: str | None = None  # a Dask scheduler address or "local"; None: the local process pool
    progress: bool = False


@dataclass
class ScanSummary:
    orders: int = 0
    orders_flagged: int = 0
    photos: int = 0
    input_errors: int = 0
    violations: int = 0
    reviews: int = 0
    replayed: int = 0  # orders the history already held unchanged: results replayed, not recomputed
    by_clause: Counter[tuple[int, str]] = field(default_factory=Counter)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"orders {self.orders} (flagged {self.orders_flagged}), photos {self.photos}, "
               f"violations {self.violations}, reviews {self.reviews}, input errors {self.input_errors}, "
               f"replayed from history {self.replayed}, {self.seconds:.1f} s"]
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


def _progress(orders_path: Path, enabled: bool) -> object:
    """A progress bar over the orders (rate and ETA: the total is the file's non-blank lines), or none."""
    from tqdm import tqdm

    total = None
    if enabled:
        try:
            with orders_path.open("rb") as f:
                total = sum(1 for line in f if line.strip())
        except OSError:  # the reader reports an unreadable file; the bar just has no total
            total = None
    return tqdm(total=total, unit="order", file=sys.stderr, disable=not enabled, dynamic_ncols=True)


def _open_history(settings: ScanSettings, cfg: Config) -> ScanHistory | None:
    """The scan's history (``--db``, else the default file); raises `HistoryError` if it can't be opened."""
    from wocheck.history.scanning import ScanHistory
    from wocheck.history.store import default_db_path

    return ScanHistory.open(settings.db_path or default_db_path(), cfg, settings.photo_root)


OrderRunner = Callable[[Iterable[tuple[Order, int]], Config, Path], Iterator[OrderResult]]


@contextmanager
def _executor(settings: ScanSettings) -> Iterator[tuple[OrderRunner, ThumbRenderer | None]]:
    """What computes the orders, and what draws the report's thumbnails (``None``: local processes): the local
    process pool, or the Dask cluster that ``settings.cluster`` names, connected for the scan's length."""
    if settings.cluster is None:
        yield (lambda items, cfg, root: run_orders(items, cfg, root, settings.workers)), None
        return
    from wocheck.pipeline.cluster import DaskCluster

    with DaskCluster(settings.cluster, settings.workers) as cluster:
        yield cluster.run_orders, cluster.render_thumbs


def run_scan(settings: ScanSettings, cfg: Config) -> ScanSummary:
    """Scan every order of the file; returns the summary. Raises only if the orders file can't be read."""
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    with scan_log(settings.out_dir / "scan.log.jsonl") as event:
        try:
            summary = _run_scan(settings, cfg, event)
        except BaseException as e:
            event("scan_failed", f"scan stopped: {type(e).__name__}: {e}", error=f"{type(e).__name__}: {e}")
            raise
        event("scan_finished", summary.lines()[0], orders=summary.orders, orders_flagged=summary.orders_flagged,
              photos=summary.photos, violations=summary.violations, reviews=summary.reviews,
              input_errors=summary.input_errors, replayed=summary.replayed, seconds=round(summary.seconds, 3),
              by_clause={f"{c} {v}": n for (c, v), n in sorted(summary.by_clause.items())})
        return summary


def _run_scan(settings: ScanSettings, cfg: Config, event: ScanEvents) -> ScanSummary:
    t0 = time.monotonic()
    out = settings.out_dir
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
                event("input_error", item.error.reason, line=item.error.line, order_id=item.error.order_id,
                      reason=item.error.reason)
                bar.update(1)  # type: ignore[attr-defined]

    history = _open_history(settings, cfg)
    scan_id = history.begin(settings) if history else None
    event("scan_started", f"scan of {settings.orders_path}", scan_id=scan_id, version=__version__,
          orders_path=str(settings.orders_path), photo_root=str(settings.photo_root), out_dir=str(out),
          workers=settings.workers, cluster=settings.cluster,
          history=getattr(history.store, "location", None) if history else None)
    position: dict[str, int] = {}  # order id -> index in outcomes (a later reuse may add to an outcome)

    def write(violations: list[Violation]) -> None:
        for v in violations:
            viol_out.write(v.to_json_dict())
            summary.by_clause[(v.clause, v.verdict)] += 1
        summary.violations += sum(v.verdict == "violation" for v in violations)
        summary.reviews += sum(v.verdict == "review" for v in violations)

    def handle(result: OrderResult, replayed: bool) -> None:
        later: list[tuple[Order, Finding]] = []
        if history is not None and not replayed:
            result, later = history.check_and_record(result, scan_id)
        outcome = OrderOutcome(result, tuple(apply_policy(result.order, result.findings, cfg)))
        write(list(outcome.violations))
        for err in result.input_errors:
            errors_out.write(err.to_json_dict())
        summary.orders += 1
        summary.replayed += replayed
        summary.photos += len(result.photos)
        summary.input_errors += len(result.input_errors)
        summary.orders_flagged += bool(outcome.violations)
        position[result.order.order_id] = len(outcomes)
        outcomes.append(outcome)
        event("order_done", result.order.order_id, order_id=result.order.order_id, photos=len(result.photos),
              violations=sum(v.verdict == "violation" for v in outcome.violations),
              reviews=sum(v.verdict == "review" for v in outcome.violations),
              clauses=sorted({v.clause for v in outcome.violations}), input_errors=len(result.input_errors),
              replayed=replayed)
        for other, finding in later:  # a reuse that makes an earlier-checked order the copy
            extra = apply_policy(other, [finding], cfg)
            write(extra)
            i = position.get(other.order_id)
            if i is not None:
                o = outcomes[i]
                summary.orders_flagged += not o.violations
                outcomes[i] = OrderOutcome(replace(o.result, findings=(*o.result.findings, finding)),
                                           tuple(sorted((*o.violations, *extra), key=lambda v: (v.clause, v.check))))
        bar.update(1)  # type: ignore[attr-defined]

    def pending() -> Iterator[tuple[Order, int]]:
        """Orders to check; those the history already holds (same record, same config) are replayed."""
        for order, line in good_orders():
            done = history.replay(order, line) if history is not None else None
            if done is None:
                yield order, line
            else:
                handle(done, replayed=True)

    from wocheck.report.html import write_report
    from wocheck.report.summary import write_summary_csv

    bar = _progress(settings.orders_path, settings.progress)
    status = "failed"
    with ExitStack() as executor:
        try:
            run, render = executor.enter_context(_executor(settings))
            with JsonlWriter(out / "violations.jsonl") as viol_out, \
                    JsonlWriter(out / "input_errors.jsonl") as errors_out:
                for result in run(pending(), cfg, settings.photo_root):
                    handle(result, replayed=False)
            status = "completed"
        finally:
            if history is not None:
                history.finish(scan_id, status)
        bar.close()  # type: ignore[attr-defined]
        summary.input_errors += len(line_errors)
        write_summary_csv(out / "summary.csv", outcomes, line_errors)

        summary.seconds = time.monotonic() - t0
        page = write_report(out / "report", outcomes, line_errors, summary, photo_root=settings.photo_root,
                            workers=settings.workers, render=render)
    event("report_written", str(page), path=str(page), seconds=round(time.monotonic() - t0 - summary.seconds, 3))
    return summary

"""The typed core that the CLI and the tests call: check an order, scan a night, inspect photos, fines.

Heavy modules (OpenCV, engines) are imported inside the functions that need them, so that start-up
stays light for the engineer's self-check.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wocheck.config import Config, load_config
from wocheck.errors import ExitCode
from wocheck.io.orders import read_order_file
from wocheck.pipeline.work import OrderResult, process_order
from wocheck.policy import apply_policy
from wocheck.records import Slot, Violation

if TYPE_CHECKING:
    from wocheck.penalty.calculator import PenaltyReport
    from wocheck.pipeline.scan import ScanSettings, ScanSummary


@dataclass(frozen=True)
class CheckResult:
    result: OrderResult
    violations: tuple[Violation, ...]

    @property
    def exit_code(self) -> ExitCode:
        if self.result.input_errors:
            return ExitCode.bad_input
        return ExitCode.findings if self.violations else ExitCode.ok


def check_order(order_path: Path, *, photo_root: Path | None = None, cfg: Config | None = None) -> CheckResult:
    """The engineer's self-check of one order file (photos under ``photo_root``, default its folder)."""
    cfg = cfg or load_config()
    order = read_order_file(order_path)
    root = photo_root if photo_root is not None else order_path.resolve().parent
    result = process_order(order, cfg, root, threads=min(os.cpu_count() or 1, cfg.limits.check_threads))
    return CheckResult(result, tuple(apply_policy(order, result.findings, cfg)))


def scan(settings: ScanSettings, cfg: Config | None = None) -> ScanSummary:
    """The nightly batch; see `wocheck.pipeline.scan.run_scan`."""
    from wocheck.pipeline.scan import run_scan  # its executor and writers: not the self-check's start-up

    return run_scan(settings, cfg or load_config())


def scan_exit_code(summary: ScanSummary) -> ExitCode:
    if summary.input_errors:
        return ExitCode.bad_input
    return ExitCode.findings if summary.violations or summary.reviews else ExitCode.ok


def inspect_photos(paths: Sequence[Path], slot: Slot, *, cfg: Config | None = None,
                   annotate: Path | None = None) -> list[dict[str, Any]]:
    """Each photo's measurements and findings (with clause and verdict), as the contract's JSON objects.

    ``annotate``: also draw each photo with what was found, into that PNG/JPEG file (one photo) or one
    ``<stem>.annotated.png`` per photo in that folder (see `wocheck.report.annotate.annotation_targets`).
    """
    from wocheck.inspect import inspect_one

    cfg = cfg or load_config()
    targets: list[Path | None] = [None] * len(paths)
    if annotate is not None:
        from wocheck.errors import WocheckError
        from wocheck.report.annotate import annotation_targets

        try:
            targets = list(annotation_targets(paths, annotate))
        except ValueError as e:
            raise WocheckError(str(e)) from None
    return [inspect_one(p, slot, cfg, annotate_to=t) for p, t in zip(paths, targets, strict=True)]


def penalty(violations_path: Path, *, month: str | None = None, decisions_path: Path | None = None,
            table_path: Path | None = None) -> PenaltyReport:
    """The fines per party and month from violation records (and reviewer decisions); see
    `wocheck.penalty.calculator`. Bad lines of either file end up in ``report.rejected``."""
    from wocheck.penalty.calculator import compute_penalties, parse_month
    from wocheck.penalty.io import read_decisions, read_penalty_records
    from wocheck.penalty.table import load_penalty_table

    if month is not None:
        parse_month(month)
    table = load_penalty_table(table_path)
    records = read_penalty_records(violations_path)
    decisions = read_decisions(decisions_path) if decisions_path else None
    rejected = [*records.rejected, *(decisions.rejected if decisions else ())]
    return compute_penalties(records.values, table, month=month,
                             decisions=decisions.values if decisions else (), rejected=rejected)

"""The history as one scan uses it: open, replay what is done, check and record each order, close.

`wocheck.pipeline.scan` calls only this; it hides the store, the indexes and the transactions.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wocheck import __version__
from wocheck.config import Config
from wocheck.history.checks import HistoryChecks
from wocheck.history.store import open_store
from wocheck.records import Finding, Order

if TYPE_CHECKING:
    from wocheck.pipeline.scan import ScanSettings
    from wocheck.pipeline.work import OrderResult


class ScanHistory:
    def __init__(self, checks: HistoryChecks) -> None:
        self.checks = checks
        self.store = checks.store

    @classmethod
    def open(cls, location: str | Path, cfg: Config, photo_root: Path | None = None) -> ScanHistory:
        store = open_store(location)
        try:
            return cls(HistoryChecks(store, cfg, photo_root))
        except BaseException:
            store.close()
            raise

    def begin(self, settings: ScanSettings) -> str:
        scan_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{os.getpid()}"
        self.store.begin_scan(scan_id, orders_path=str(settings.orders_path), out_dir=str(settings.out_dir),
                              checker_version=__version__)
        return scan_id

    def finish(self, scan_id: str | None, status: str) -> None:
        try:
            if scan_id is not None:
                self.store.finish_scan(scan_id, status)
        finally:
            self.store.close()

    def replay(self, order: Order, line: int | None) -> OrderResult | None:
        return self.checks.replay(order, line)

    def check_and_record(self, result: OrderResult, scan_id: str | None
                         ) -> tuple[OrderResult, list[tuple[Order, Finding]]]:
        """The order's result with its history findings added, recorded; and findings that belong to
        earlier-checked orders (with their records), already recorded on them. One transaction."""
        later: list[tuple[Order, Finding]] = []
        with self.store.locked():
            found = self.checks.check(result)
            mine = [f for target, f in found if target == result.order.order_id]
            for target, f in found:
                if target != result.order.order_id:
                    other = self.checks.add_to_other(target, f, scan_id)
                    if other is not None:
                        later.append((other, f))
            result = replace(result, findings=(*result.findings, *mine))
            self.checks.record(result, list(result.findings), scan_id)
        return result, later

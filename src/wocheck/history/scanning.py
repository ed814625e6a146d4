"""The history as one scan uses it: open, replay what is done, check and record each order, close.

`wocheck.pipeline.scan` calls only this; it hides the store, the indexes and the transactions. The database
failing under the scan (a PostgreSQL connection cut, a full disk) stops the scan with a `HistoryError`
that names the database: each order is recorded in a transaction of its own, so what was recorded before
stays, and the same scan run again replays it and goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wocheck import __version__
from wocheck.config import Config
from wocheck.history.checks import HistoryChecks
from wocheck.history.store import HistoryError, open_store
from wocheck.records import Finding, Order

if TYPE_CHECKING:
    from wocheck.pipeline.scan import ScanSettings
    from wocheck.pipeline.work import OrderResult

log = logging.getLogger(__name__)


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

    @contextmanager
    def _database(self, doing: str) -> Iterator[None]:
        """The driver's errors as a `HistoryError` naming the database and what the scan was doing."""
        try:
            yield
        except self.store.errors as e:
            raise HistoryError(f"the history database {self.store.location} failed {doing}: "
                               f"{type(e).__name__}: {str(e).strip()}; the orders recorded before are kept: "
                               "run the same scan again to go on (they are replayed, not redone)") from e

    def begin(self, settings: ScanSettings) -> str:
        scan_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{os.getpid()}"
        with self._database("as the scan started"):
            self.store.begin_scan(scan_id, orders_path=str(settings.orders_path), out_dir=str(settings.out_dir),
                                  checker_version=__version__)
        return scan_id

    def finish(self, scan_id: str | None, status: str) -> None:
        """Mark the scan ``status`` and close. Marking a failed scan may fail too (the database that failed
        it): that is logged, not raised over the first error."""
        try:
            if scan_id is not None:
                with self._database("as the scan finished"):
                    self.store.finish_scan(scan_id, status)
        except HistoryError as e:
            if status == "completed":
                raise
            log.warning("scan %s not marked %s in the history: %s", scan_id, status, e.__cause__)
        finally:
            self.store.close()

    def replay(self, order: Order, line: int | None) -> OrderResult | None:
        with self._database(f"looking up order {order.order_id}"):
            return self.checks.replay(order, line)

    def check_and_record(self, result: OrderResult, scan_id: str | None
                         ) -> tuple[OrderResult, list[tuple[Order, Finding]]]:
        """The order's result with its history findings added, recorded; and findings that belong to
        earlier-checked orders (with their records), already recorded on them. One transaction."""
        later: list[tuple[Order, Finding]] = []
        with self._database(f"recording order {result.order.order_id}"), self.store.locked():
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

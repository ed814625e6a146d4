"""The SQLite history backend: one file, WAL journal, every write one short IMMEDIATE transaction.

Safe for two scans at once on one file (WAL lets readers run beside the one writer; writers wait up to
``busy_timeout``), and for a scan killed midway: a transaction either committed or is rolled back when
the file is next opened, so an order is recorded whole or not at all.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from wocheck.history.migrations import MIGRATIONS, MIGRATIONS_TABLE
from wocheck.history.store import (
    INSERT_COLS,
    STORED_PHOTO_SQL,
    DeviceUse,
    HistoryError,
    OrderRecord,
    SqlHistoryStore,
    StoredPhoto,
    now_iso,
    photo_values,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 120_000  # a concurrent scan's transaction is short; wait rather than fail




_INSERT_PHOTO = (f"INSERT INTO photos ({', '.join(INSERT_COLS)}) "
                 f"VALUES ({', '.join('?' for _ in INSERT_COLS)})")


class SqliteStore(SqlHistoryStore):
    errors = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Switching a new file to WAL takes an exclusive lock that the busy handler doesn't wait for:
            # two scans opening one new database at once retry here instead of failing.
            deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
            while True:
                try:
                    mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError as e:
                    if "locked" not in str(e) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            if str(mode).lower() != "wal":
                log.warning("history %s: journal mode %s (WAL unavailable on this filesystem?)", path, mode)
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise HistoryError(f"history database {path} can't be opened: {e} "
                               f"(is it a wocheck SQLite file? pass another --db FILE)") from e
        except OSError as e:
            raise HistoryError(f"history database {path} can't be created: {e}") from e

    # -- transactions and migrations ---------------------------------------------------------------

    def _begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def _migrate(self) -> None:
        self._db.execute(MIGRATIONS_TABLE)
        for m in MIGRATIONS:
            self._begin()
            try:
                done = self._db.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (m.name,)).fetchone()
                if not done:
                    for stmt in m.render(pk="INTEGER PRIMARY KEY", blob="BLOB"):
                        self._db.execute(stmt)
                    self._db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                                     (m.name, now_iso()))
                    log.info("history %s: applied migration %s", self.location, m.name)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._db.close()

    # -- scans ---------------------------------------------------------------------------------------

    def begin_scan(self, scan_id: str, *, orders_path: str, out_dir: str, checker_version: str) -> None:
        with self._tx():
            self._db.execute("INSERT OR REPLACE INTO scans (scan_id, started_at, orders_path, out_dir, status, "
                             "checker_version) VALUES (?, ?, ?, ?, 'running', ?)",
                             (scan_id, now_iso(), orders_path, out_dir, checker_version))

    def finish_scan(self, scan_id: str, status: str) -> None:
        with self._tx():
            self._db.execute("UPDATE scans SET finished_at = ?, status = ? WHERE scan_id = ?",
                             (now_iso(), status, scan_id))

    # -- orders --------------------------------------------------------------------------------------

    def _tx(self) -> _Tx:
        return _Tx(self._db)

    def locked(self) -> _Tx:
        """One write transaction around lookups and recordings: a concurrent scan's orders are either
        wholly visible to the lookups or wait until this commits (no reuse slips between two scans)."""
        return _Tx(self._db)

    def record_order(self, rec: OrderRecord, scan_id: str | None = None) -> None:
        with self._tx():
            # ON DELETE CASCADE removes the order's previous photos and findings.
            self._db.execute("DELETE FROM orders WHERE order_id = ?", (rec.order_id,))
            self._db.execute(
                "INSERT INTO orders (order_id, fingerprint, scan_id, engineer_id, contractor_id, dispatched_at, "
                "closed_at, order_json, recorded_at, config_fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rec.order_id, rec.fingerprint, scan_id, rec.engineer_id, rec.contractor_id, rec.dispatched_at,
                 rec.closed_at, rec.order_json, now_iso(), rec.config_fingerprint))
            self._db.executemany(_INSERT_PHOTO, [photo_values(rec.order_id, rec.engineer_id, p)
                                                 for p in rec.photos])
            self._db.executemany(
                "INSERT INTO findings (order_id, check_code, photo, finding_json, added_by_scan) "
                "VALUES (?, ?, ?, ?, ?)", [(rec.order_id, c, ph, js, scan_id) for c, ph, js in rec.findings])

    def record_orders(self, recs: list[OrderRecord], scan_id: str | None = None) -> None:
        """Several orders in one transaction (bulk loads and benchmarks)."""
        with self._tx():
            for rec in recs:
                self.record_order(rec, scan_id)

    def add_findings(self, order_id: str, findings: list[tuple[str, str | None, str]], scan_id: str | None) -> None:
        with self._tx():
            self._db.executemany(
                "INSERT INTO findings (order_id, check_code, photo, finding_json, added_by_scan) "
                "VALUES (?, ?, ?, ?, ?)", [(order_id, c, ph, js, scan_id) for c, ph, js in findings])

    # -- lookups -------------------------------------------------------------------------------------

    def _fetch(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        return list(self._db.execute(sql, args).fetchall())

    def photos(self, photo_ids: list[int]) -> list[StoredPhoto]:
        out: list[StoredPhoto] = []
        for i in range(0, len(photo_ids), 500):
            part = photo_ids[i:i + 500]
            q = f"{STORED_PHOTO_SQL} WHERE p.photo_id IN ({', '.join('?' for _ in part)})"
            out.extend(StoredPhoto(*r) for r in self._db.execute(q, part))
        return out

    def photos_by_sha256(self, sha256: str) -> list[StoredPhoto]:
        return [StoredPhoto(*r) for r in self._db.execute(f"{STORED_PHOTO_SQL} WHERE p.sha256 = ?", (sha256,))]

    def device_users(self, *, make: str | None, model: str | None, body_serial: str | None,
                     exclude_order: str) -> list[DeviceUse]:
        if body_serial:
            where, args = "body_serial = ? AND IFNULL(make, '') = ?", [body_serial, make or ""]
        elif make and model:
            where, args = "make = ? AND model = ?", [make, model]
        else:
            return []
        rows = self._db.execute(
            f"SELECT engineer_id, COUNT(DISTINCT order_id) FROM photos WHERE {where} AND order_id != ? "
            "AND engineer_id IS NOT NULL GROUP BY engineer_id ORDER BY 2 DESC", [*args, exclude_order])
        return [DeviceUse(r[0], int(r[1])) for r in rows]



class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception (including KeyboardInterrupt).

    Nested inside an open transaction it does nothing: the outer one commits or rolls back the whole.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._outer = False

    def __enter__(self) -> None:
        self._outer = not self._db.in_transaction
        if self._outer:
            self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: object) -> None:
        if not self._outer:
            return
        if et is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")


"""The PostgreSQL history backend: one database shared by scans on several machines (psycopg 3).

The schema and its recorded migrations are `wocheck.history.migrations`, the same list SQLite runs,
rendered with ``BIGSERIAL PRIMARY KEY`` / ``BYTEA``.

Concurrency. Every write transaction — and `locked()`, the scan's check+record of one order — first
takes one transaction-scoped advisory lock (``pg_advisory_xact_lock``) on this database, released at
commit or rollback. So writers run one at a time, as under SQLite's ``BEGIN IMMEDIATE``:

- a scan's lookups inside `locked()` run after every other scan's earlier orders committed (READ
  COMMITTED: each statement sees what committed before it started), so a reuse between two scans'
  photos is found by whichever records second;
- photo ids (a sequence) are handed out in commit order, so the in-memory index catches up from rows
  committed by others with ``photo_id > last seen`` (`HistoryChecks.sync`) and misses none.

Reads outside `locked()` run in autocommit. PostgreSQL text can't hold NUL characters: they are dropped
from the text columns (EXIF strings padded with NULs).
"""

from __future__ import annotations

import logging
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import psycopg

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

# The advisory lock key of the history's writers (any fixed 64-bit number; advisory locks are per
# database, so two histories in one server don't block each other). ASCII "wocheckH".
WRITE_LOCK_KEY = int.from_bytes(b"wocheckH", "big", signed=True)
CONNECT_TIMEOUT_S = 30
PG_TYPES = {"pk": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA"}

_INSERT_PHOTO = (f"INSERT INTO photos ({', '.join(INSERT_COLS)}) "
                 f"VALUES ({', '.join('%s' for _ in INSERT_COLS)})")
_FINDING_COLS = ("order_id", "check_code", "photo", "finding_json", "added_by_scan")
_INSERT_FINDING = f"INSERT INTO findings ({', '.join(_FINDING_COLS)}) VALUES (%s, %s, %s, %s, %s)"
_ORDER_COLS = ("order_id", "fingerprint", "scan_id", "engineer_id", "contractor_id", "dispatched_at", "closed_at",
               "order_json", "recorded_at", "config_fingerprint")
_INSERT_ORDER = f"INSERT INTO orders ({', '.join(_ORDER_COLS)}) VALUES ({', '.join('%s' for _ in _ORDER_COLS)})"



def redact(url: str) -> str:
    """The URL without its password (for logs and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _text(v: str | None) -> str | None:
    return v.replace("\x00", "") if v else v


class PostgresStore(SqlHistoryStore):
    """The history in a PostgreSQL database given by a ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB`` URL
    (libpq's forms: ``?host=/socket/dir``, ``PGPASSWORD``, ``~/.pgpass`` work too)."""

    errors = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self.location = redact(url)
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as e:
            raise HistoryError(f"history database {self.location} can't be reached: {e} "
                               "(is the server up, the database created and the user allowed?)") from e
        self._depth = 0
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    # -- transactions and migrations ---------------------------------------------------------------

    def _migrate(self) -> None:
        for m in MIGRATIONS:
            with self._tx():  # the lock also serialises two scans creating a new database at once
                self._db.execute(MIGRATIONS_TABLE)
                done = self._db.execute("SELECT 1 FROM schema_migrations WHERE name = %s", (m.name,)).fetchone()
                if not done:
                    for stmt in m.render(**PG_TYPES):
                        self._db.execute(stmt)  # type: ignore[call-overload]
                    self._db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (%s, %s)",
                                     (m.name, now_iso()))
                    log.info("history %s: applied migration %s", self.location, m.name)

    def _tx(self) -> _Tx:
        return _Tx(self)

    def locked(self) -> _Tx:
        """One write transaction holding the history's advisory lock around lookups and recordings:
        another scan's orders are wholly visible to the lookups or wait until this commits."""
        return _Tx(self)

    def close(self) -> None:
        self._db.close()

    # -- scans ---------------------------------------------------------------------------------------

    def begin_scan(self, scan_id: str, *, orders_path: str, out_dir: str, checker_version: str) -> None:
        with self._tx():
            self._db.execute(
                "INSERT INTO scans (scan_id, started_at, orders_path, out_dir, status, checker_version) "
                "VALUES (%s, %s, %s, %s, 'running', %s) ON CONFLICT (scan_id) DO UPDATE SET "
                "started_at = EXCLUDED.started_at, orders_path = EXCLUDED.orders_path, out_dir = EXCLUDED.out_dir, "
                "status = 'running', finished_at = NULL, checker_version = EXCLUDED.checker_version",
                (scan_id, now_iso(), _text(orders_path), _text(out_dir), checker_version))

    def finish_scan(self, scan_id: str, status: str) -> None:
        with self._tx():
            self._db.execute("UPDATE scans SET finished_at = %s, status = %s WHERE scan_id = %s",
                             (now_iso(), status, scan_id))

    # -- orders --------------------------------------------------------------------------------------

    def record_order(self, rec: OrderRecord, scan_id: str | None = None) -> None:
        with self._tx(), self._db.cursor() as cur:
            # ON DELETE CASCADE removes the order's previous photos and findings.
            cur.execute("DELETE FROM orders WHERE order_id = %s", (rec.order_id,))
            cur.execute(_INSERT_ORDER, _order_values(rec, scan_id, now_iso()))
            if rec.photos:
                cur.executemany(_INSERT_PHOTO, [photo_values(rec.order_id, rec.engineer_id, p, _text)
                                                for p in rec.photos])
            if rec.findings:
                cur.executemany(_INSERT_FINDING, [(rec.order_id, c, _text(ph), _text(js), scan_id)
                                                  for c, ph, js in rec.findings])

    def record_orders(self, recs: list[OrderRecord], scan_id: str | None = None) -> None:
        """Several orders in one transaction (bulk loads and benchmarks): their previous rows deleted in one
        statement, the new rows streamed with ``COPY … FROM STDIN``. An order id given twice: the last wins."""
        latest = {rec.order_id: rec for rec in recs}
        if not latest:
            return
        now = now_iso()
        with self._tx(), self._db.cursor() as cur:
            # ON DELETE CASCADE removes the orders' previous photos and findings.
            cur.execute("DELETE FROM orders WHERE order_id = ANY(%s)", (list(latest),))
            with cur.copy(f"COPY orders ({', '.join(_ORDER_COLS)}) FROM STDIN") as cp:
                for rec in latest.values():
                    cp.write_row(_order_values(rec, scan_id, now))
            with cur.copy(f"COPY photos ({', '.join(INSERT_COLS)}) FROM STDIN") as cp:
                for rec in latest.values():
                    for p in rec.photos:
                        cp.write_row(photo_values(rec.order_id, rec.engineer_id, p, _text))
            if any(rec.findings for rec in latest.values()):
                with cur.copy(f"COPY findings ({', '.join(_FINDING_COLS)}) FROM STDIN") as cp:
                    for rec in latest.values():
                        for c, ph, js in rec.findings:
                            cp.write_row((rec.order_id, c, _text(ph), _text(js), scan_id))

    def add_findings(self, order_id: str, findings: list[tuple[str, str | None, str]], scan_id: str | None) -> None:
        if not findings:
            return
        with self._tx(), self._db.cursor() as cur:
            cur.executemany(_INSERT_FINDING, [(order_id, c, _text(ph), _text(js), scan_id) for c, ph, js in findings])

    # -- lookups -------------------------------------------------------------------------------------

    def _fetch(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        return list(self._db.execute(sql.replace("?", "%s"), args).fetchall())  # type: ignore[arg-type]

    def photos(self, photo_ids: list[int]) -> list[StoredPhoto]:
        if not photo_ids:
            return []
        return [StoredPhoto(*_bytes_at(r, 5)) for r in self._db.execute(
            f"{STORED_PHOTO_SQL} WHERE p.photo_id = ANY(%s) ORDER BY p.photo_id", ([int(i) for i in photo_ids],))]

    def photos_by_sha256(self, sha256: str) -> list[StoredPhoto]:
        return [StoredPhoto(*_bytes_at(r, 5)) for r in self._db.execute(
            f"{STORED_PHOTO_SQL} WHERE p.sha256 = %s ORDER BY p.photo_id", (sha256,))]

    def device_users(self, *, make: str | None, model: str | None, body_serial: str | None,
                     exclude_order: str) -> list[DeviceUse]:
        if body_serial:
            where, args = "body_serial = %s AND COALESCE(make, '') = %s", [_text(body_serial), _text(make) or ""]
        elif make and model:
            where, args = "make = %s AND model = %s", [_text(make), _text(model)]
        else:
            return []
        rows = self._db.execute(
            f"SELECT engineer_id, COUNT(DISTINCT order_id) FROM photos WHERE {where} AND order_id != %s "  # type: ignore[call-overload]
            "AND engineer_id IS NOT NULL GROUP BY engineer_id ORDER BY 2 DESC, 1", [*args, exclude_order])
        return [DeviceUse(r[0], int(r[1])) for r in rows]



class _Tx:
    """A transaction that first takes the history's advisory write lock; committed on success, rolled back
    on any exception (including KeyboardInterrupt). Nested inside an open one it does nothing: the outer
    one commits or rolls back the whole."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._tx: psycopg.Transaction | None = None

    def __enter__(self) -> None:
        s = self._store
        s._depth += 1
        if s._depth > 1:
            return
        tx = s._db.transaction()
        try:
            tx.__enter__()
        except BaseException:
            s._depth -= 1
            raise
        try:
            s._db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        except BaseException as e:
            s._depth -= 1
            tx.__exit__(type(e), e, e.__traceback__)
            raise
        self._tx = tx

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        s = self._store
        s._depth -= 1
        if self._tx is not None:
            self._tx.__exit__(et, e, tb)


def _bytes_at(r: tuple[object, ...], i: int) -> tuple[object, ...]:
    v = r[i]
    if isinstance(v, memoryview):
        return (*r[:i], bytes(v), *r[i + 1:])
    return r


def _order_values(rec: OrderRecord, scan_id: str | None, now: str) -> tuple[object, ...]:
    return (rec.order_id, rec.fingerprint, scan_id, rec.engineer_id, rec.contractor_id, rec.dispatched_at,
            rec.closed_at, _text(rec.order_json), now, rec.config_fingerprint)


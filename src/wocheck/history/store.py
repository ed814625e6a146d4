"""The history's one interface: what the scan records and asks, whatever database holds it.

The scan (parent process only) talks to a `HistoryStore`; inspectors never see it. `open_store` picks the
backend from the location: a file path is SQLite (`wocheck.history.sqlite`); a ``postgresql://`` URL is
PostgreSQL (`wocheck.history.postgres`, psycopg 3). Both run the same `wocheck.history.migrations`.

Recording an order is one transaction: the order, every photo reference and every finding, or nothing.
A second recording of the same order id replaces the first (a re-export that changed, a rerun after a
config change).
"""

from __future__ import annotations

import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wocheck.errors import WocheckError


class HistoryError(WocheckError):
    """The history database can't be opened or written (path, permissions, a file that is not SQLite)."""


@dataclass(frozen=True)
class PhotoRow:
    """One photo reference of an order as recorded (usable or not)."""

    position: int
    slot: str
    file: str
    usable: bool
    error_kind: str | None = None
    reason_zh: str = ""
    reason_en: str = ""
    sha256: str | None = None
    hash256: bytes | None = None
    phash64: bytes | None = None
    hash_quality: int | None = None
    hash_centre: bytes | None = None  # `centre256`, the crop-tolerant tier (migration 0002; format 2: 0003)
    width: int | None = None
    height: int | None = None
    exif: dict[str, Any] | None = None
    make: str | None = None
    model: str | None = None
    body_serial: str | None = None
    captured_at: str | None = None
    uploaded_by: str | None = None
    uploaded_at: str | None = None
    result_json: str | None = None  # the photo's result (measurements, data) to rebuild a skipped order


@dataclass(frozen=True)
class OrderRecord:
    """Everything recorded for one checked order, written in one transaction."""

    order_id: str
    fingerprint: str
    order_json: str
    engineer_id: str
    contractor_id: str | None
    dispatched_at: str
    closed_at: str
    photos: tuple[PhotoRow, ...]
    findings: tuple[tuple[str, str | None, str], ...]  # (check code, photo file, Finding JSON)
    config_fingerprint: str = ""


@dataclass(frozen=True)
class StoredOrder:
    order_id: str
    fingerprint: str
    config_fingerprint: str
    order_json: str
    photos: tuple[PhotoRow, ...]
    findings_json: tuple[str, ...]


@dataclass(frozen=True)
class StoredPhoto:
    """A recorded photo as a lookup returns it: where it was used, by whom and when."""

    photo_id: int
    order_id: str
    slot: str
    file: str
    sha256: str | None
    hash256: bytes | None
    engineer_id: str | None
    uploaded_by: str | None
    uploaded_at: str | None
    closed_at: str | None


@dataclass(frozen=True)
class DeviceUse:
    """How often one engineer's orders carried photos from a device."""

    engineer_id: str
    orders: int


class HistoryStore(ABC):
    """The history database. Use as a context manager; one instance per process (not shared)."""

    location: str
    # The driver's errors: the database failing under a running scan (a connection lost, a disk full),
    # which `wocheck.history.scanning` turns into a `HistoryError` naming the database.
    errors: tuple[type[Exception], ...] = ()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def applied_migrations(self) -> list[str]:
        """Names of the migrations applied, in order."""

    @abstractmethod
    def begin_scan(self, scan_id: str, *, orders_path: str, out_dir: str, checker_version: str) -> None: ...

    @abstractmethod
    def finish_scan(self, scan_id: str, status: str) -> None: ...

    @abstractmethod
    def get_order(self, order_id: str) -> StoredOrder | None:
        """The recorded order with its photos and findings, or ``None``."""

    @abstractmethod
    def record_order(self, rec: OrderRecord, scan_id: str | None = None) -> None:
        """Record (or replace) one order with its photos and findings, atomically."""

    @abstractmethod
    def add_findings(self, order_id: str, findings: list[tuple[str, str | None, str]], scan_id: str | None) -> None:
        """Append findings to an already recorded order (a reuse found later that makes it the copy)."""

    @abstractmethod
    def locked(self) -> AbstractContextManager[None]:
        """A write transaction spanning lookups and recordings (nested writes join it)."""

    @abstractmethod
    def iter_hashes(self, *, after_photo_id: int, min_quality: int, batch: int = 100_000
                    ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.uint8], NDArray[np.uint8]]]:
        """Batches of (photo ids, 256-bit hashes as (n, 32) uint8, 64-bit pHashes as (n, 8) uint8) with
        id > ``after_photo_id`` and hash quality ≥ ``min_quality``, in id order: to build or catch up the
        near-duplicate indexes."""

    def iter_centre_hashes(self, *, after_photo_id: int, min_quality: int, batch: int = 100_000
                           ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.uint8]]]:
        """Batches of (photo ids, centre-window hashes as (n, 32) uint8), like `iter_hashes`, for the
        crop-tolerant tier. A backend that doesn't record ``hash_centre`` yields nothing (no such tier)."""
        return iter(())

    @abstractmethod
    def photos(self, photo_ids: list[int]) -> list[StoredPhoto]:
        """The recorded photos of these ids (ids no longer recorded are left out)."""

    @abstractmethod
    def photos_by_sha256(self, sha256: str) -> list[StoredPhoto]: ...

    @abstractmethod
    def device_users(self, *, make: str | None, model: str | None, body_serial: str | None,
                     exclude_order: str) -> list[DeviceUse]:
        """Engineers whose other orders carry photos of this device (by body serial when given, else by
        make+model), with their order counts."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Rows per table (orders, photos, findings, scans)."""


DB_ENV = "WOCHECK_DB"


def default_db_path() -> Path:
    """Where `wocheck scan` keeps its history without ``--db``: ``$WOCHECK_DB``, else the user's data
    folder (``$XDG_DATA_HOME/wocheck/history.sqlite``, default ``~/.local/share/wocheck/history.sqlite``).
    One file across nights — not inside the night's output folder, which changes every night."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wocheck" / "history.sqlite"


_PG_URL = re.compile(r"^(postgresql|postgres):/", re.IGNORECASE)
_PG_COLLAPSED = re.compile(r"^(postgresql|postgres):/(?!/)", re.IGNORECASE)


def is_postgres_url(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database (``postgresql://…`` or ``postgres://…``)."""
    return bool(_PG_URL.match(str(location)))


def open_store(location: str | Path) -> HistoryStore:
    """The store at ``location``: a ``postgresql://USER@HOST[:PORT]/DB`` URL is PostgreSQL
    (`wocheck.history.postgres`), anything else a SQLite file path.

    A URL that went through `pathlib.Path` (``--db`` is a path option) lost one slash of ``//``; it is
    restored here."""
    loc = str(location)
    if is_postgres_url(loc):
        try:
            from wocheck.history.postgres import PostgresStore
        except ModuleNotFoundError as e:
            if e.name != "psycopg":
                raise
            raise HistoryError("a postgresql:// history needs the PostgreSQL driver: "
                               "pip install 'wocheck[postgres]' (psycopg 3)") from e

        return PostgresStore(_PG_COLLAPSED.sub(lambda m: f"{m.group(1)}://", loc, count=1))
    from wocheck.history.sqlite import SqliteStore

    return SqliteStore(Path(loc))


HASH_BYTES = 32  # a 256-bit hash
PHASH_BYTES = 8  # a 64-bit pHash


def now_iso() -> str:
    """The time a row is written (UTC, ISO 8601, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# The photos table's columns as read back (`photo_row`) and as written (`photo_values`).
PHOTO_COLS = ("order_id", "position", "slot", "file", "usable", "error_kind", "reason_zh", "reason_en",
              "sha256", "hash256", "phash64", "hash_quality", "width", "height", "exif_json", "make", "model",
              "body_serial", "captured_at", "engineer_id", "uploaded_by", "uploaded_at", "result_json")
INSERT_COLS = (*PHOTO_COLS, "hash_centre")  # hash_centre: migration 0002, written, not read back
STORED_PHOTO_SQL = ("SELECT p.photo_id, p.order_id, p.slot, p.file, p.sha256, p.hash256, p.engineer_id, "
                    "p.uploaded_by, p.uploaded_at, o.closed_at FROM photos p JOIN orders o USING (order_id)")


def _same(v: str | None) -> str | None:
    return v


def photo_values(order_id: str, engineer_id: str, p: PhotoRow,
                 text: Callable[[str | None], str | None] = _same) -> tuple[object, ...]:
    """One photos row in `INSERT_COLS` order; ``text`` cleans the free-text values for the database."""
    return (order_id, p.position, p.slot, text(p.file), int(p.usable), p.error_kind, text(p.reason_zh),
            text(p.reason_en), p.sha256, p.hash256, p.phash64, p.hash_quality, p.width, p.height,
            json.dumps(p.exif, ensure_ascii=False) if p.exif is not None else None,
            text(p.make), text(p.model), text(p.body_serial), text(p.captured_at), engineer_id,
            p.uploaded_by, p.uploaded_at, text(p.result_json), p.hash_centre)


def photo_row(r: tuple[Any, ...]) -> PhotoRow:
    """A `PhotoRow` from the columns ``PHOTO_COLS[1:]`` (binary columns as bytes whatever the driver gives)."""
    (position, slot, file, usable, error_kind, reason_zh, reason_en, sha256, hash256, phash64, quality,
     width, height, exif_json, make, model, serial, captured_at, _engineer, uploaded_by, uploaded_at,
     result_json) = r
    return PhotoRow(position=int(position), slot=str(slot), file=str(file), usable=bool(usable),
                    error_kind=error_kind, reason_zh=reason_zh or "", reason_en=reason_en or "", sha256=sha256,
                    hash256=bytes(hash256) if hash256 is not None else None,
                    phash64=bytes(phash64) if phash64 is not None else None,
                    hash_quality=quality, width=width, height=height,
                    exif=json.loads(exif_json) if exif_json else None,
                    make=make, model=model, body_serial=serial, captured_at=captured_at,
                    uploaded_by=uploaded_by, uploaded_at=uploaded_at, result_json=result_json)


class SqlHistoryStore(HistoryStore):
    """What the SQL backends share: the reads written once with ``?`` placeholders (the hash scans, an
    order as recorded, the counts).

    A backend gives `_fetch` (run one query, all rows) in its driver's placeholder style.
    """

    @abstractmethod
    def _fetch(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (``?`` placeholders) with ``args``."""

    def _pages(self, columns: str, not_null: str, after_photo_id: int, min_quality: int, batch: int
               ) -> Iterator[list[tuple[Any, ...]]]:
        last = after_photo_id
        while True:
            rows = self._fetch(f"SELECT photo_id, {columns} FROM photos WHERE photo_id > ? AND {not_null} "
                               "AND hash_quality >= ? ORDER BY photo_id LIMIT ?", (last, min_quality, batch))
            if not rows:
                return
            last = int(rows[-1][0])
            yield rows
            if len(rows) < batch:
                return

    @staticmethod
    def _stack(rows: list[tuple[Any, ...]], col: int, width: int) -> NDArray[np.uint8]:
        return np.frombuffer(b"".join(bytes(r[col]) for r in rows), dtype=np.uint8).reshape(len(rows), width)

    def iter_hashes(self, *, after_photo_id: int, min_quality: int, batch: int = 100_000
                    ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.uint8], NDArray[np.uint8]]]:
        for rows in self._pages("hash256, phash64", "hash256 IS NOT NULL AND phash64 IS NOT NULL",
                                after_photo_id, min_quality, batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            yield ids, self._stack(rows, 1, HASH_BYTES), self._stack(rows, 2, PHASH_BYTES)

    def iter_centre_hashes(self, *, after_photo_id: int, min_quality: int, batch: int = 100_000
                           ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.uint8]]]:
        for rows in self._pages("hash_centre", "hash_centre IS NOT NULL", after_photo_id, min_quality, batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            yield ids, self._stack(rows, 1, HASH_BYTES)

    def applied_migrations(self) -> list[str]:
        return [str(r[0]) for r in self._fetch("SELECT name FROM schema_migrations ORDER BY name", ())]

    def get_order(self, order_id: str) -> StoredOrder | None:
        rows = self._fetch("SELECT order_id, fingerprint, config_fingerprint, order_json FROM orders "
                           "WHERE order_id = ?", (order_id,))
        if not rows:
            return None
        row = rows[0]
        photos = tuple(photo_row(r) for r in self._fetch(
            f"SELECT {', '.join(PHOTO_COLS[1:])} FROM photos WHERE order_id = ? ORDER BY position", (order_id,)))
        findings = tuple(r[0] for r in self._fetch(
            "SELECT finding_json FROM findings WHERE order_id = ? ORDER BY finding_id", (order_id,)))
        return StoredOrder(row[0], row[1], row[2] or "", row[3], photos, findings)

    def counts(self) -> dict[str, int]:
        return {t: int(self._fetch(f"SELECT COUNT(*) FROM {t}", ())[0][0])
                for t in ("scans", "orders", "photos", "findings")}

    def max_photo_id(self) -> int:
        rows = self._fetch("SELECT MAX(photo_id) FROM photos", ())
        return int(rows[0][0] or 0) if rows else 0

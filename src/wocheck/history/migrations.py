"""The history's schema as named migrations, applied in order, each in its own transaction and recorded.

A migration is a name and SQL statements written once for every backend: ``{pk}`` stands for an
auto-increment integer primary key and ``{blob}`` for a byte string, which each backend fills in
(SQLite: ``INTEGER PRIMARY KEY`` / ``BLOB``; PostgreSQL: ``BIGSERIAL PRIMARY KEY`` / ``BYTEA``). The rest
is plain SQL both understand. Never edit a released migration: append a new one.

Table ``schema_migrations(name, applied_at)`` records what ran (the sqlite-utils practice).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]

    def render(self, *, pk: str, blob: str) -> list[str]:
        return [s.format(pk=pk, blob=blob) for s in self.statements]


MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", (
        # One row per scan run (a night, a rerun): when, over what, and whether it completed.
        """CREATE TABLE scans (
            scan_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
            orders_path TEXT, out_dir TEXT, status TEXT NOT NULL, checker_version TEXT)""",
        # One row per checked order; ``fingerprint`` is a hash of the order record (a changed
        # re-export is checked again), ``order_json`` the record itself (to rebuild violations).
        """CREATE TABLE orders (
            order_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, scan_id TEXT,
            engineer_id TEXT, contractor_id TEXT, dispatched_at TEXT, closed_at TEXT,
            order_json TEXT NOT NULL, recorded_at TEXT NOT NULL, config_fingerprint TEXT)""",
        # One row per photo reference of an order, usable or not, with its hashes and EXIF summary.
        """CREATE TABLE photos (
            photo_id {pk}, order_id TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
            position INTEGER NOT NULL, slot TEXT NOT NULL, file TEXT NOT NULL,
            usable INTEGER NOT NULL, error_kind TEXT, reason_zh TEXT, reason_en TEXT,
            sha256 TEXT, hash256 {blob}, phash64 {blob}, hash_quality INTEGER,
            width INTEGER, height INTEGER, exif_json TEXT,
            make TEXT, model TEXT, body_serial TEXT, captured_at TEXT,
            engineer_id TEXT, uploaded_by TEXT, uploaded_at TEXT, result_json TEXT)""",
        "CREATE INDEX photos_order ON photos(order_id)",
        "CREATE INDEX photos_sha256 ON photos(sha256)",
        "CREATE INDEX photos_device ON photos(make, model)",
        "CREATE INDEX photos_serial ON photos(body_serial)",
        # Every finding of an order (before the policy: clause and verdict are re-derived from config).
        """CREATE TABLE findings (
            finding_id {pk}, order_id TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
            check_code TEXT NOT NULL, photo TEXT, finding_json TEXT NOT NULL, added_by_scan TEXT)""",
        "CREATE INDEX findings_order ON findings(order_id)",
    )),
    # The crop-tolerant hash of each photo's centre window (`wocheck.metrics.hashing.centre256`).
    Migration("0002_photos_hash_centre", (
        "ALTER TABLE photos ADD COLUMN hash_centre {blob}",
    )),
    # Window hash format 2 (`wocheck.metrics.hashing`, CROP_INSET 2 % -> 6 %, bits block-major so that the
    # index keys on the lowest frequencies): the format-1 centre hashes can't be compared with format-2
    # query windows and the photos are not at hand to hash again, so they are cleared. Photos recorded
    # before keep their whole-frame hashes (reuse without crop still found); only the crop tier skips them.
    Migration("0003_photos_hash_centre_v2", (
        "UPDATE photos SET hash_centre = NULL WHERE hash_centre IS NOT NULL",
    )),
)

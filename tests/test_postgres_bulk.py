"""PostgreSQL's bulk recording (`PostgresStore.record_orders`, COPY): the same rows as one order at a time,
replacement of earlier recordings, the last of a repeated order id, atomicity, and the photo ids in the
order given (the index catches up by ``photo_id > last seen``)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from _pg import pg_server, pg_url  # noqa: F401  (fixtures)
from wocheck.history.postgres import PostgresStore
from wocheck.history.store import OrderRecord, PhotoRow


def _rec(order_id: str, n: int = 3, *, seed: int = 0, slot: str | None = "install_env",
         note: str = "") -> OrderRecord:
    rng = np.random.default_rng(seed)
    photos = tuple(PhotoRow(position=i, slot=slot, file=f"{order_id}/{i}.jpg", usable=bool(i % 2 == 0),  # type: ignore[arg-type]
                            error_kind=None if i % 2 == 0 else "missing", reason_en="" if i % 2 == 0 else "gone",
                            sha256=f"{order_id}-{i}-{seed}", hash256=rng.bytes(32), phash64=rng.bytes(8),
                            hash_quality=int(rng.integers(50, 100)), hash_centre=rng.bytes(32),
                            width=4000, height=3000, make="HUAWEI\x00", model="ELS-AN00", body_serial=None,
                            exif={"present": True, "software": "v1\x00\x00"}, captured_at=None,
                            uploaded_by="E1", uploaded_at="2026-12-02T15:38:00+08:00",
                            result_json='{"m": "tab\\there, quote \\" and back\\\\slash"}' + note)
                   for i in range(n))
    return OrderRecord(order_id=order_id, fingerprint=f"fp{seed}", order_json='{"o": "新订单\\n"}' + note,
                       engineer_id="E1", contractor_id="C1", dispatched_at="2026-12-02T09:10:00+08:00",
                       closed_at="2026-12-02T15:41:00+08:00", photos=photos,
                       findings=tuple((f"check.{k}", f"{order_id}/0.jpg" if k else None, f'{{"k": {k}}}')
                                      for k in range(2)),
                       config_fingerprint="cfg")


@pytest.fixture
def pair(pg_url: str, pg_server) -> Iterator[tuple[PostgresStore, PostgresStore]]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Two empty databases: one filled order by order, one in bulk."""
    other = pg_server.create_db(pg_url.rsplit("/", 1)[1] + "_bulk")
    with PostgresStore(pg_url) as one, PostgresStore(other) as bulk:
        yield one, bulk


def _hashes(s: PostgresStore) -> tuple[list[int], bytes]:
    ids, h256, _ = zip(*s.iter_hashes(after_photo_id=0, min_quality=0), strict=True) or ((), (), ())
    return [int(i) for a in ids for i in a], b"".join(a.tobytes() for a in h256)


def test_bulk_rows_equal_one_at_a_time(pair: tuple[PostgresStore, PostgresStore]) -> None:
    one, bulk = pair
    recs = [_rec(f"WO{i}", n=1 + i % 4, seed=i) for i in range(7)]
    for r in recs:
        one.record_order(r, "s1")
    bulk.record_orders(recs, "s1")
    assert bulk.counts() == one.counts() == {"scans": 0, "orders": 7, "photos": 16, "findings": 14}
    for r in recs:
        a, b = one.get_order(r.order_id), bulk.get_order(r.order_id)
        assert a is not None and a == b
        assert b.photos[0].make == "HUAWEI"  # NUL dropped from text, as on the single path
        assert b.photos[0].exif == {"present": True, "software": "v1\x00\x00"}  # JSON escapes it: kept
    assert _hashes(bulk) == _hashes(one)
    ids, _ = _hashes(bulk)
    assert ids == sorted(ids) and len(ids) == 16  # photo ids in the order given


def test_bulk_replaces_earlier_recordings_and_the_last_repeat_wins(pair: tuple[PostgresStore, PostgresStore]
                                                                   ) -> None:
    _, bulk = pair
    bulk.record_orders([_rec("A", n=4, seed=1), _rec("B", n=2, seed=2)])
    bulk.record_orders([_rec("A", n=2, seed=3), _rec("C", n=1, seed=4), _rec("C", n=3, seed=5)])
    a, b, c = (bulk.get_order(x) for x in "ABC")
    assert a is not None and a.fingerprint == "fp3" and len(a.photos) == 2
    assert b is not None and b.fingerprint == "fp2" and len(b.photos) == 2  # untouched
    assert c is not None and c.fingerprint == "fp5" and len(c.photos) == 3
    assert bulk.counts() == {"scans": 0, "orders": 3, "photos": 7, "findings": 6}
    assert [p.sha256 for p in bulk.photos_by_sha256("A-0-1")] == []  # A's first recording is gone


def test_bulk_is_atomic(pair: tuple[PostgresStore, PostgresStore]) -> None:
    _, bulk = pair
    bulk.record_orders([_rec("A", seed=1)])
    with pytest.raises(psycopg.errors.NotNullViolation):
        bulk.record_orders([_rec("A", seed=2), _rec("B", seed=3, slot=None)])  # B's photos break NOT NULL
    got = bulk.get_order("A")
    assert got is not None and got.fingerprint == "fp1"  # the delete of A rolled back with the rest
    assert bulk.get_order("B") is None
    assert bulk.counts()["photos"] == 3
    bulk.record_orders([])  # nothing to do, no error
    bulk.record_orders([_rec("B", seed=4)])  # the connection is usable after the failed transaction
    assert bulk.counts()["orders"] == 2

"""The history store: named migrations, atomic recording, the multi-index hash search."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from wocheck.history.index import MultiIndexHash
from wocheck.history.migrations import MIGRATIONS
from wocheck.history.store import OrderRecord, PhotoRow, default_db_path, open_store


def _rec(order_id: str, engineer: str = "E1", n: int = 2, slot: str | None = "machine_running",
         h: bytes | None = None) -> OrderRecord:
    photos = tuple(PhotoRow(position=i, slot=slot, file=f"{order_id}/{i}.jpg", usable=True,  # type: ignore[arg-type]
                            sha256=f"{order_id}-{i}", hash256=h or bytes([i]) * 32, phash64=bytes([i]) * 8,
                            hash_quality=80, make="HUAWEI", model="ELS-AN00")
                   for i in range(n))
    return OrderRecord(order_id=order_id, fingerprint="f", order_json="{}", engineer_id=engineer,
                       contractor_id=None, dispatched_at="2026-12-02T09:10:00+08:00",
                       closed_at="2026-12-02T15:41:00+08:00", photos=photos,
                       findings=(("reuse.photo", f"{order_id}/0.jpg", '{"x": 1}'),))


def test_migrations_are_named_recorded_and_applied_once(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with open_store(db) as s:
        assert s.applied_migrations() == [m.name for m in MIGRATIONS]
    with open_store(db) as s:  # reopening applies nothing twice
        assert s.applied_migrations() == [m.name for m in MIGRATIONS]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    con.close()


def test_migrations_render_for_both_backends() -> None:
    for m in MIGRATIONS:
        for stmt in m.render(pk="BIGSERIAL PRIMARY KEY", blob="BYTEA"):
            assert "{" not in stmt and "INTEGER PRIMARY KEY" not in stmt


def test_record_replaces_and_is_atomic(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.sqlite") as s:
        s.record_order(_rec("A", n=3))
        s.record_order(_rec("A", n=2))  # a second recording replaces the first
        got = s.get_order("A")
        assert got is not None and len(got.photos) == 2 and len(got.findings_json) == 1
        assert s.counts()["photos"] == 2
        with pytest.raises(sqlite3.IntegrityError):
            s.record_order(_rec("B", n=3, slot=None))  # a NOT NULL failure on a photo row
        assert s.get_order("B") is None  # nothing of B: no order row without its photos
        assert s.counts() == {"scans": 0, "orders": 1, "photos": 2, "findings": 1}


def test_lookups(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.sqlite") as s:
        s.record_order(_rec("A", "E1"))
        s.record_order(_rec("B", "E2"))
        assert {p.order_id for p in s.photos_by_sha256("A-1")} == {"A"}
        batches = list(s.iter_hashes(after_photo_id=0, min_quality=50, batch=3))
        ids = np.concatenate([b[0] for b in batches])
        assert list(ids) == sorted(ids) and len(ids) == 4
        assert all(b[1].shape[1] == 32 and b[2].shape[1] == 8 for b in batches)
        assert not list(s.iter_hashes(after_photo_id=0, min_quality=81))
        users = s.device_users(make="HUAWEI", model="ELS-AN00", body_serial=None, exclude_order="A")
        assert [(u.engineer_id, u.orders) for u in users] == [("E2", 1)]
        assert [p.order_id for p in s.photos([int(ids[0]), 10_000])] == ["A"]


def test_default_db_is_user_level_and_overridable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WOCHECK_DB", str(tmp_path / "x.sqlite"))
    assert default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("WOCHECK_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "wocheck" / "history.sqlite"


def test_postgres_url_goes_to_the_postgres_backend(tmp_path: Path) -> None:
    from wocheck.history.sqlite import HistoryError

    with pytest.raises(HistoryError, match="can't be reached"):  # no server on that socket: a clear error
        open_store(f"postgresql:///wocheck?host={tmp_path}")
    assert not list(tmp_path.iterdir())  # and no SQLite file named like the URL


def _flip(h: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    out = h.copy()
    for b in rng.choice(h.size * 8, k, replace=False):
        out[b // 8] ^= np.uint8(1 << (b % 8))
    return out


@pytest.mark.parametrize("bits", [256, 64])
def test_index_equals_brute_force(bits: int) -> None:
    rng = np.random.default_rng(bits)
    n = 30_000
    hashes = rng.integers(0, 256, (n, bits // 8), dtype=np.uint8)
    idx = MultiIndexHash(bits)
    idx.add(np.arange(n // 2) * 3 + 7, hashes[: n // 2])
    idx.merge()
    idx.add(np.arange(n // 2, n) * 3 + 7, hashes[n // 2:])  # half in the delta: both paths searched
    assert len(idx) == n
    for radius in (0, idx.max_radius // 3, idx.max_radius):
        for _ in range(20):
            j = int(rng.integers(n))
            q = _flip(hashes[j], int(rng.integers(0, radius + 1)), rng)
            got = idx.search(q.tobytes(), radius)
            d = np.unpackbits(hashes ^ q, axis=1).sum(axis=1)
            want = sorted((int(i) * 3 + 7, int(d[i])) for i in np.nonzero(d <= radius)[0])
            assert sorted(got) == want
            assert (j * 3 + 7, int(d[j])) in got
            assert [x[1] for x in got] == sorted(x[1] for x in got)


@pytest.mark.parametrize("substrings", [16, 12])
def test_index_layouts_and_incremental_merges_equal_brute_force(substrings: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The longer-substring layout a large index takes (12 of 21-22 bits for 256-bit hashes searched within
    31), forced on a small one, and merges that insert into the built tables: the exact answer still."""
    monkeypatch.setattr(MultiIndexHash, "_pick_layout",
                        lambda self, n: next(lay for lay in self._layouts if lay.m == substrings))
    rng = np.random.default_rng(substrings)
    n = 24_000
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    hashes[n // 3: n // 3 + 50] = hashes[7]  # a crowded bucket in every table
    idx = MultiIndexHash(256, radius=31)
    assert len(idx.layout) == 16
    for part in np.array_split(np.arange(n), 4):  # one rebuild, then three insertions
        idx.add(part, hashes[part])
        idx.merge()
    assert len(idx.layout) == substrings and sum(idx.layout) == 256
    idx.add([n], hashes[3:4])  # and one in the delta
    all_h = np.concatenate([hashes, hashes[3:4]])
    for radius in (0, 15, 31):
        for _ in range(15):
            j = int(rng.integers(n))
            q = _flip(hashes[j], int(rng.integers(0, radius + 1)), rng)
            d = np.unpackbits(all_h ^ q, axis=1).sum(axis=1)
            want = sorted((int(i), int(d[i])) for i in np.nonzero(d <= radius)[0])
            assert sorted(idx.search(q.tobytes(), radius)) == want
    with pytest.raises(ValueError):
        idx.search(bytes(32), 32)


def test_index_layout_lengthens_with_size() -> None:
    idx = MultiIndexHash(256, radius=31)
    assert len(idx._pick_layout(100_000).widths) == 16  # 16-bit substrings while buckets are small …
    assert idx._pick_layout(10_000_000).widths == (22,) * 4 + (21,) * 8  # … ~log2(n)-bit ones at 10 M
    assert len(MultiIndexHash(256)._pick_layout(10_000_000).widths) == 16  # radius 47: 16 needed
    assert len(MultiIndexHash(256, tables=6)._pick_layout(10_000_000).widths) == 16  # key blocks stay
    with pytest.raises(ValueError):
        MultiIndexHash(256, radius=48)


def test_index_rejects_bad_input() -> None:
    idx = MultiIndexHash(256)
    with pytest.raises(ValueError):
        idx.add([1], [b"short"])
    with pytest.raises(ValueError):
        idx.add([1, 2], [bytes(32)])
    with pytest.raises(ValueError):
        idx.search(bytes(32), idx.max_radius + 1)
    assert idx.search(bytes(32), 10) == []
    with pytest.raises(ValueError):
        MultiIndexHash(100)


@pytest.mark.parametrize("bits", [256, 64])
def test_search_many_is_the_merge_of_single_searches(bits: int) -> None:
    rng = np.random.default_rng(bits + 1)
    n = 20_000
    hashes = rng.integers(0, 256, (n, bits // 8), dtype=np.uint8)
    idx = MultiIndexHash(bits)
    idx.add(np.arange(n // 2), hashes[: n // 2])
    idx.merge()
    idx.add(np.arange(n // 2, n), hashes[n // 2:])  # main segment and delta
    radius = idx.max_radius
    for _ in range(10):
        targets = rng.integers(0, n, 5)
        queries = [_flip(hashes[j], int(rng.integers(0, radius + 1)), rng).tobytes() for j in targets]
        queries.append(rng.integers(0, 256, bits // 8, dtype=np.uint8).tobytes())  # matches nothing
        best: dict[int, int] = {}
        for q in queries:
            for i, d in idx.search(q, radius):
                best[i] = min(d, best.get(i, d))
        got = idx.search_many(queries, radius)
        assert sorted(got) == sorted(best.items())
        assert {int(j) for j in targets} <= {i for i, _ in got}
        assert [d for _, d in got] == sorted(d for _, d in got)
    assert idx.search_many([], radius) == []


def test_key_block_index_finds_exactly_the_entries_sharing_a_key_block() -> None:
    rng = np.random.default_rng(11)
    n, tables, radius = 20_000, 6, 60
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    idx = MultiIndexHash(256, tables=tables)
    assert not idx.exact and idx.max_radius == 256
    idx.add(np.arange(n // 2), hashes[: n // 2])
    idx.merge()
    idx.add(np.arange(n // 2, n), hashes[n // 2:])  # main segment and delta: both follow the key rule
    sub = hashes.view(np.uint16)[:, :tables]
    for trial in range(12):
        targets = rng.integers(0, n, 4)
        queries = []
        for j in targets:
            q = hashes[j].copy()
            keep = int(rng.integers(tables)) if trial % 3 else None  # every key block disturbed: not found
            for b in range(16):
                if b != keep:
                    q[2 * b] ^= np.uint8(1 << int(rng.integers(8)))  # one bit flipped in block b
            queries.append(q)
        q_arr = np.stack(queries)
        q_sub = q_arr.view(np.uint16)[:, :tables]
        d = np.unpackbits(hashes[:, None, :] ^ q_arr[None], axis=2).sum(axis=2)  # (n, queries)
        shares = (sub[:, None, :] == q_sub[None]).any(axis=2)
        ok = shares & (d <= radius)
        want = sorted((int(i), int(d[i][ok[i]].min())) for i in np.nonzero(ok.any(axis=1))[0])
        got = idx.search_many(b"".join(q.tobytes() for q in queries), radius)
        assert sorted(got) == want
        found = {i for i, _ in got}
        assert ({int(j) for j in targets} <= found) == bool(trial % 3)
    with pytest.raises(ValueError):
        MultiIndexHash(256, tables=17)
    with pytest.raises(ValueError):
        idx.search_many(bytes(33), 10)
    full = MultiIndexHash(256)
    full.add(np.arange(n), hashes)
    full.merge()
    idx.merge()
    assert idx.nbytes - tables * 65_537 * 4 == n * (32 + 8 + 4 * tables)  # the tables it keeps, no more
    assert idx.nbytes < full.nbytes

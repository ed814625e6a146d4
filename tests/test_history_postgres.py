"""The history on both backends: the store scenarios parametrised over SQLite and PostgreSQL (a throwaway
server, `_pg`), PostgreSQL's advisory write lock, two concurrent scans (two OS processes) into one
PostgreSQL database, and `wocheck scan --db postgresql://…` compared record-for-record with SQLite."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from _authenticity_synth import order, save_jpeg, scene, write_orders
from _pg import pg_server, pg_url  # noqa: F401  (fixtures)
from conftest import REPO
from wocheck.config import Config
from wocheck.history.checks import HistoryChecks
from wocheck.history.migrations import MIGRATIONS
from wocheck.history.postgres import PostgresStore, redact
from wocheck.history.store import HistoryStore, OrderRecord, PhotoRow, is_postgres_url, open_store
from wocheck.pipeline.scan import ScanSettings, run_scan

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh history location on each backend: a SQLite file or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "h.sqlite")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db: str) -> Iterator[HistoryStore]:
    with open_store(db) as s:
        yield s


def _rec(order_id: str, engineer: str = "E1", n: int = 2, slot: str | None = "machine_running",
         h: bytes | None = None, serial: str | None = None) -> OrderRecord:
    photos = tuple(PhotoRow(position=i, slot=slot, file=f"{order_id}/{i}.jpg", usable=True,  # type: ignore[arg-type]
                            sha256=f"{order_id}-{i}", hash256=h or bytes([i]) * 32, phash64=bytes([i]) * 8,
                            hash_quality=80, hash_centre=bytes([i + 7]) * 32, make="HUAWEI", model="ELS-AN00",
                            body_serial=serial,
                            exif={"present": True, "make": "HUAWEI"}, result_json='{"k": "v"}')
                   for i in range(n))
    return OrderRecord(order_id=order_id, fingerprint="f", order_json="{}", engineer_id=engineer,
                       contractor_id=None, dispatched_at="2026-12-02T09:10:00+08:00",
                       closed_at="2026-12-02T15:41:00+08:00", photos=photos,
                       findings=(("reuse.photo", f"{order_id}/0.jpg", '{"x": 1}'),))


# --- the store, on both backends -------------------------------------------------------------------


def test_migrations_are_named_recorded_and_applied_once(db: str) -> None:
    with open_store(db) as s:
        assert s.applied_migrations() == [m.name for m in MIGRATIONS]
        s.record_order(_rec("A"))
    with open_store(db) as s:  # reopening applies nothing twice and keeps the rows
        assert s.applied_migrations() == [m.name for m in MIGRATIONS]
        assert s.counts()["orders"] == 1


def _forget_migration(db: str, name: str) -> None:
    """Make the database look as if ``name`` had not run yet (an older checker's database)."""
    if is_postgres_url(db):
        with psycopg.connect(db, autocommit=True) as con:
            con.execute("DELETE FROM schema_migrations WHERE name = %s", (name,))
    else:
        con = sqlite3.connect(db)
        with con:
            con.execute("DELETE FROM schema_migrations WHERE name = ?", (name,))
        con.close()


def test_window_hash_format_2_clears_format_1_centre_hashes(db: str) -> None:
    name = "0003_photos_hash_centre_v2"
    assert name in [m.name for m in MIGRATIONS]
    with open_store(db) as s:
        s.record_order(_rec("OLD"))  # stands for centre hashes written in format 1
    _forget_migration(db, name)
    with open_store(db) as s:  # the upgrade: 0003 runs, once
        assert s.applied_migrations() == [m.name for m in MIGRATIONS]
        assert list(s.iter_centre_hashes(after_photo_id=0, min_quality=50)) == []  # no format-1 window left
        assert len(np.concatenate([b[0] for b in s.iter_hashes(after_photo_id=0, min_quality=50)])) == 2
        s.record_order(_rec("NEW"))  # recorded after the upgrade: format 2, kept
    with open_store(db) as s:
        centre = list(s.iter_centre_hashes(after_photo_id=0, min_quality=50))
        assert sum(len(b[0]) for b in centre) == 2


def test_record_replaces_and_is_atomic(store: HistoryStore) -> None:
    store.record_order(_rec("A", n=3))
    store.record_order(_rec("A", n=2))  # a second recording replaces the first
    got = store.get_order("A")
    assert got is not None and len(got.photos) == 2 and len(got.findings_json) == 1
    assert got.photos[1].hash256 == bytes([1]) * 32 and got.photos[1].exif == {"present": True, "make": "HUAWEI"}
    assert store.counts()["photos"] == 2
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        store.record_order(_rec("B", n=3, slot=None))  # a NOT NULL failure on a photo row
    assert store.get_order("B") is None  # nothing of B: no order row without its photos
    assert store.counts() == {"scans": 0, "orders": 1, "photos": 2, "findings": 1}
    store.record_order(_rec("C"))  # the connection is usable after the failed transaction
    assert store.counts()["orders"] == 2


def test_locked_joins_nested_writes_and_rolls_back_whole(store: HistoryStore) -> None:
    with pytest.raises(RuntimeError), store.locked():
        store.record_order(_rec("A"))
        store.add_findings("A", [("x.y", None, "{}")], None)
        raise RuntimeError("a crash between check and record")
    assert store.get_order("A") is None and store.counts()["findings"] == 0
    with store.locked():
        store.record_order(_rec("A"))
        store.add_findings("A", [("x.y", None, "{}")], "s1")
    got = store.get_order("A")
    assert got is not None and len(got.findings_json) == 2


def test_lookups(store: HistoryStore) -> None:
    store.record_order(_rec("A", "E1", serial="SER1"))
    store.record_order(_rec("B", "E2"))
    assert {p.order_id for p in store.photos_by_sha256("A-1")} == {"A"}
    batches = list(store.iter_hashes(after_photo_id=0, min_quality=50, batch=3))
    ids = np.concatenate([b[0] for b in batches])
    assert list(ids) == sorted(ids) and len(ids) == 4 and len(batches) == 2
    assert all(b[1].shape[1] == 32 and b[2].shape[1] == 8 for b in batches)
    assert bytes(batches[0][1][1]) == bytes([1]) * 32
    assert not list(store.iter_hashes(after_photo_id=0, min_quality=81))
    centre = list(store.iter_centre_hashes(after_photo_id=0, min_quality=50))
    assert [list(b[0]) for b in centre] == [list(ids)] and bytes(centre[0][1][0]) == bytes([7]) * 32
    assert [len(b[0]) for b in store.iter_hashes(after_photo_id=int(ids[1]), min_quality=50)] == [2]
    users = store.device_users(make="HUAWEI", model="ELS-AN00", body_serial=None, exclude_order="A")
    assert [(u.engineer_id, u.orders) for u in users] == [("E2", 1)]
    by_serial = store.device_users(make="HUAWEI", model=None, body_serial="SER1", exclude_order="B")
    assert [(u.engineer_id, u.orders) for u in by_serial] == [("E1", 1)]
    got = store.photos([int(ids[0]), 10_000])
    assert [p.order_id for p in got] == ["A"] and got[0].hash256 == bytes(32) and got[0].engineer_id == "E1"
    assert store.photos([]) == []


def test_scan_rows(store: HistoryStore) -> None:
    store.begin_scan("s1", orders_path="o.jsonl", out_dir="out", checker_version="0")
    store.begin_scan("s1", orders_path="o.jsonl", out_dir="out", checker_version="0")  # a restart replaces
    store.finish_scan("s1", "completed")
    assert store.counts()["scans"] == 1


def test_index_catches_up_from_rows_committed_by_another_connection(db: str, cfg: Config) -> None:
    with open_store(db) as mine, open_store(db) as theirs:
        theirs.record_order(_rec("A", h=bytes(range(32))))
        checks = HistoryChecks(mine, cfg)
        assert len(checks.idx256) == 2
        theirs.record_order(_rec("B", h=bytes(range(1, 33))))
        with mine.locked():
            checks.sync()
        assert len(checks.idx256) == 4
        found = [i for i, _ in checks.idx256.search(bytes(range(1, 33)), 0)]
        assert len(found) == 2 and {p.order_id for p in mine.photos(found)} == {"B"}


# --- PostgreSQL only -----------------------------------------------------------------------------------


def test_urls_dispatch_and_survive_pathlib(pg_url: str) -> None:  # noqa: F811
    assert is_postgres_url(pg_url) and is_postgres_url(Path(pg_url)) and not is_postgres_url("h.sqlite")
    with open_store(Path(pg_url)) as s:  # `--db` is a path option: Path() folds "//" into "/"
        assert isinstance(s, PostgresStore) and s.location == pg_url
    assert redact("postgresql://u:secret@h:5/d") == "postgresql://u:***@h:5/d"
    from wocheck.history.sqlite import HistoryError

    with pytest.raises(HistoryError, match="can't be reached"):
        open_store(pg_url.rsplit("/", 1)[0] + "/no_such_db")


def test_writers_wait_for_the_advisory_lock(pg_url: str) -> None:  # noqa: F811
    with open_store(pg_url) as a, open_store(pg_url) as b, open_store(pg_url) as c:
        done = threading.Event()
        errors: list[BaseException] = []

        def write() -> None:
            try:
                b.record_order(_rec("B"))
            except BaseException as e:  # reported below
                errors.append(e)
            done.set()

        with a.locked():
            a.record_order(_rec("A"))
            t = threading.Thread(target=write)
            t.start()
            assert not done.wait(0.5), "a second writer ran while the lock was held"
            assert c.get_order("A") is None  # not committed yet: invisible to the other connection
        t.join(60)
        assert done.is_set() and not errors
        ids = {p.order_id: p.photo_id for p in a.photos(list(range(1, 100)))}
        assert max(v for k, v in ids.items() if k == "A") < min(v for k, v in ids.items() if k == "B")


def test_two_new_stores_migrate_one_database_at_once(pg_url: str) -> None:  # noqa: F811
    out: list[object] = []

    def opener() -> None:
        try:
            with open_store(pg_url) as s:
                out.append(s.applied_migrations())
        except BaseException as e:  # reported below
            out.append(e)

    threads = [threading.Thread(target=opener) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == [[m.name for m in MIGRATIONS]] * 3


# --- scans --------------------------------------------------------------------------------------------


def _shots(tmp_path: Path, name: str, seeds: list[int]) -> list[tuple[str, str]]:
    files = []
    for i, s in enumerate(seeds):
        f = f"{name}/{i}.jpg"
        save_jpeg(scene(s), tmp_path / "p" / f)
        files.append(("machine_running", f))
    return files


def _scan(tmp_path: Path, cfg: Config, name: str, orders: list[dict[str, Any]], db: str) -> list[dict[str, Any]]:
    path = write_orders(tmp_path / f"{name}.jsonl", orders)
    run_scan(ScanSettings(orders_path=path, photo_root=tmp_path / "p", out_dir=tmp_path / f"out_{name}",
                          workers=1, db_path=Path(db)), cfg)
    return [json.loads(x) for x in (tmp_path / f"out_{name}" / "violations.jsonl").read_text("utf-8").splitlines()]


def _reuse(viols: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((v["order_id"], v["photo"], v["evidence"]["other_order_id"])
                  for v in viols if v["check"] == "reuse.photo")


def test_reuse_across_two_scans_and_replay(tmp_path: Path, cfg: Config, db: str) -> None:
    night1 = [order(f"A{i}", f"E{i}", _shots(tmp_path, f"A{i}", [10 * i, 10 * i + 1])) for i in range(3)]
    assert _reuse(_scan(tmp_path, cfg, "n1", night1, db)) == []  # first use: nothing
    night2 = [order("B0", "E7", [("machine_running", "A1/0.jpg"), *_shots(tmp_path, "B0", [500])], day="03"),
              order("B1", "E8", _shots(tmp_path, "B1", [501]), day="03")]
    first = _scan(tmp_path, cfg, "n2", night2, db)
    assert _reuse(first) == [("B0", "A1/0.jpg", "A1")]
    again = _scan(tmp_path, cfg, "n2", night2, db)  # a rerun replays from the history: the same records
    assert sorted(map(json.dumps, again)) == sorted(map(json.dumps, first))
    with open_store(db) as s:
        assert s.counts()["orders"] == 5 and s.counts()["scans"] == 3


def test_a_connection_cut_mid_scan_stops_it_clearly_and_a_rerun_goes_on(tmp_path: Path, cfg: Config,
                                                                        pg_url: str) -> None:  # noqa: F811
    """The server ends the scan's connection (an administrator, a failover) once an order is recorded: the
    scan stops with a `HistoryError` naming the database; the orders recorded stay, and the same scan run
    again replays them and writes what a scan never cut off writes."""
    from wocheck.history.store import HistoryError

    orders = [order(f"C{i}", f"E{i % 3}", _shots(tmp_path, f"C{i}", [100 + i])) for i in range(30)]
    path = write_orders(tmp_path / "night.jsonl", orders)

    def scan(db: str, out: str) -> Any:
        return run_scan(ScanSettings(orders_path=path, photo_root=tmp_path / "p", out_dir=tmp_path / out,
                                     workers=1, db_path=Path(db)), cfg)

    cut = threading.Event()

    def cut_after_first_order() -> None:
        with psycopg.connect(pg_url, autocommit=True) as con:
            for _ in range(60_000):
                if (con.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)
                        and con.execute("SELECT EXISTS (SELECT 1 FROM orders)").fetchone() == (True,)):
                    con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                    cut.set()
                    return
                threading.Event().wait(0.005)

    t = threading.Thread(target=cut_after_first_order, daemon=True)
    t.start()
    with pytest.raises(HistoryError, match=r"the history database postgresql://.* failed .*run the same scan again"):
        scan(pg_url, "out")
    t.join(timeout=60)
    assert cut.is_set()
    with open_store(pg_url) as s:
        recorded = s.counts()["orders"]
    assert 1 <= recorded < len(orders)

    again = scan(pg_url, "out")
    assert again.replayed == recorded and again.orders == len(orders)
    clean = scan(str(tmp_path / "clean.sqlite"), "clean")

    def records(out: str) -> list[str]:
        return sorted((tmp_path / out / "violations.jsonl").read_text(encoding="utf-8").splitlines())

    assert records("out") == records("clean") and records("clean")
    assert (again.violations, again.reviews, again.input_errors) == (clean.violations, clean.reviews,
                                                                     clean.input_errors)


_CLI = [sys.executable, "-c", "import sys; from wocheck.cli import main; sys.exit(main())"]


def _cli_scan(orders: Path, photos: Path, out: Path, db: str, stderr: Path) -> subprocess.Popen[bytes]:
    with stderr.open("ab") as err:
        return subprocess.Popen([*_CLI, "scan", str(orders), "--photos", str(photos), "--out", str(out),
                                 "--db", db, "--workers", "1", "--quiet"], stdout=subprocess.DEVNULL, stderr=err)


def _finish(p: subprocess.Popen[bytes], stderr: Path) -> None:
    p.wait(timeout=300)
    assert p.returncode in (0, 1), stderr.read_text(encoding="utf-8", errors="replace")


@pytest.mark.slow
def test_two_scans_at_once_into_one_postgres_database(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    a = [order(f"A{i}", "E1", _shots(tmp_path, f"A{i}", [i, 1000 + i])) for i in range(8)]
    b = [order(f"B{i}", "E2", _shots(tmp_path, f"B{i}", [2000 + i, 3000 + i])) for i in range(8)]
    b[4]["photos"][0]["file"] = "A3/0.jpg"  # one photo used by both nights' orders
    write_orders(tmp_path / "a.jsonl", a)
    write_orders(tmp_path / "b.jsonl", b)
    procs = [_cli_scan(tmp_path / f"{n}.jsonl", tmp_path / "p", tmp_path / f"out_{n}", pg_url,
                       tmp_path / f"{n}.stderr") for n in "ab"]
    for p in procs:  # both ended before any assertion, so a failure leaves no scan running
        p.wait(timeout=300)
    for p, n in zip(procs, "ab", strict=True):
        _finish(p, tmp_path / f"{n}.stderr")
    with psycopg.connect(pg_url) as con:
        orphans = con.execute("SELECT COUNT(*) FROM photos WHERE order_id NOT IN (SELECT order_id FROM orders)"
                              ).fetchone()
        doubled = con.execute("SELECT COUNT(*) FROM (SELECT order_id, position FROM photos "
                              "GROUP BY 1, 2 HAVING COUNT(*) > 1) d").fetchone()
    assert orphans == (0,) and doubled == (0,)
    with open_store(pg_url) as s:
        c = s.counts()
    assert (c["orders"], c["photos"], c["scans"]) == (16, 32, 2)
    viols = [json.loads(x) for n in "ab" for x in (tmp_path / f"out_{n}" / "violations.jsonl").read_text().splitlines()]
    # whichever scan came second, the shared photo is caught exactly once, on the later upload
    reuse = [v for v in viols if v["check"] == "reuse.photo"]
    assert len(reuse) == 1 and {reuse[0]["order_id"], reuse[0]["evidence"]["other_order_id"]} == {"A3", "B4"}


def _records(path: Path) -> list[str]:
    out = []
    for x in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(x)
        out.append(json.dumps(rec, sort_keys=True, ensure_ascii=False))
    return sorted(out)


@pytest.mark.slow
def test_cli_scan_into_postgres_matches_sqlite(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    night = REPO / "fixtures" / "sample" / "night2"
    runs = {"sqlite": str(tmp_path / "h.sqlite"), "postgresql": pg_url}
    for name, db in runs.items():
        _finish(_cli_scan(night / "orders.jsonl", night / "photos", tmp_path / name, db, tmp_path / f"{name}.err"),
                tmp_path / f"{name}.err")
    pg, lite = (_records(tmp_path / n / "violations.jsonl") for n in ("postgresql", "sqlite"))
    assert pg and pg == lite
    assert (_records(tmp_path / "postgresql" / "input_errors.jsonl")
            == _records(tmp_path / "sqlite" / "input_errors.jsonl"))
    with open_store(pg_url) as p, open_store(runs["sqlite"]) as s:
        assert p.counts() == s.counts() and p.counts()["orders"] > 0


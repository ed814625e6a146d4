#!/usr/bin/env python3
"""Benchmark the PostgreSQL history at scale: bulk insert rate, size per million photos, reuse lookup time.

Fills a PostgreSQL history with ``--hashes`` photo rows (default 10,000,000) through the real store's bulk
path (`PostgresStore.record_orders`: COPY, one transaction per ``--batch-orders`` orders of
``--photos-per-order`` photos), then in the same run:

- insert rate: photo rows per second over the whole fill and over its last tenth (the rate at full size),
  and the scan's own path at full size (`record_order`: one order per transaction under the advisory lock);
- size: the database and its tables on disk (``pg_database_size``, ``pg_total_relation_size``), per
  million photos;
- reuse lookup at full size: the scan's code path for one photo (`HistoryChecks.sync` + `_best_match`: the
  in-memory indexes, the lookup of the identical file by SHA-256 and the fetch of the candidates from
  PostgreSQL), for near copies of stored photos (hash bits flipped within the radius; each must find its
  original) and for unrelated photos; median and p95. Loading the indexes from the database is timed too.

The stored hashes are random bits (no ten million real photos are at hand); a query's crop windows are a
real photo's XOR one random mask (`_window_sets`; `--random-windows`: independent bits). The other
columns are either short synthetic values or, with ``--template FILE.sqlite`` (the history of a real
scan), the real rows' text columns (EXIF, the photo's result JSON, findings) cycled, so that the size per
million photos is the size of real rows.

Without ``--url`` it starts a throwaway PostgreSQL server (Debian's binaries, `tests/_pg.py`, fsync on) in a
temporary folder and removes it at the end. Its WAL is sized for bulk loading as a history server's would
be (``--pg-set``, default `BULK_SETTINGS`: without them, checkpoints every 1 GB of WAL write every touched
index page again in full, and the insert rate falls as the random SHA-256 index grows); the settings are
applied with ``ALTER SYSTEM`` (superuser) and printed.

    .venv/bin/python scripts/bench_postgres.py --hashes 200000                 # a quick look
    nice .venv/bin/python scripts/bench_postgres.py --template /tmp/h.sqlite    # 10 M, about half an hour
"""

from __future__ import annotations

import argparse
import itertools
import json
import signal
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from wocheck.config import load_config  # noqa: E402
from wocheck.history.checks import HistoryChecks  # noqa: E402
from wocheck.history.postgres import PostgresStore  # noqa: E402
from wocheck.history.store import OrderRecord, PhotoRow  # noqa: E402
from wocheck.inspectors.authenticity import thresholds  # noqa: E402
from wocheck.metrics import hashing  # noqa: E402
from wocheck.pipeline.work import PhotoResult  # noqa: E402
from wocheck.records import Order, Slot  # noqa: E402

MILLION = 1_000_000
PROBES = hashing.CROP_QUERY_STEPS ** 4  # crop-probe windows a photo carries
LAST_SHARE = 0.1  # the insert rate "at full size" is over this last share of the fill
# Settings of the throwaway server for a bulk load (reloadable without a restart); see docs/scaling.md.
BULK_SETTINGS = ("max_wal_size=8GB", "checkpoint_timeout=30min")


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from _pg import running_server

    with running_server(fsync=True) as server:
        yield server.create_db("bench")


def _template(path: Path | None) -> tuple[list[dict[str, object]], list[str], list[list[tuple[str, str]]]]:
    """Real rows' text columns (photos), order JSONs and findings of a SQLite history; or short stand-ins."""
    if path is None:
        photo = {"slot": "machine_running", "exif_json": '{"present": false}', "result_json": "{}",
                 "make": None, "model": None, "width": 4000, "height": 3000}
        return [photo], ["{}"], [[]]
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    photos = [dict(r) for r in con.execute(
        "SELECT slot, exif_json, result_json, make, model, width, height, reason_zh, reason_en, error_kind "
        "FROM photos ORDER BY photo_id")]
    orders = [str(r[0]) for r in con.execute("SELECT order_json FROM orders ORDER BY order_id")]
    findings = [[(str(r[0]), str(r[1]))] for r in con.execute("SELECT check_code, finding_json FROM findings")]
    con.close()
    if not photos or not orders:
        raise SystemExit(f"{path}: no photos or orders recorded")
    return photos, orders, findings or [[]]


class Filler:
    """Synthetic orders with random hashes; keeps a sample of what it stored to query for later."""

    def __init__(self, args: argparse.Namespace, quality_min: int) -> None:
        self.rng = np.random.default_rng(args.seed)
        self.k = args.photos_per_order
        self.quality_min = quality_min
        self.photos, self.orders, self.findings = _template(args.template)
        self._cycle = itertools.count()
        self.sample: list[tuple[bytes, bytes, str]] = []  # (hash256, phash64, order id) of stored photos
        self.sample_every = max(1, args.hashes // max(1, args.queries))
        self.stored = 0

    def orders_batch(self, first: int, n_orders: int, n_left: int) -> tuple[list[OrderRecord], int]:
        recs: list[OrderRecord] = []
        rows = 0
        rng = self.rng
        for o in range(first, first + n_orders):
            k = min(self.k, n_left - rows)
            if k <= 0:
                break
            h256 = rng.integers(0, 256, (k, 32), dtype=np.uint8)
            h64 = rng.integers(0, 256, (k, 8), dtype=np.uint8)
            hc = rng.integers(0, 256, (k, 32), dtype=np.uint8)
            q = rng.integers(self.quality_min, 101, k)
            sha = rng.integers(0, 256, (k, 32), dtype=np.uint8)
            oid = f"B{o:09d}"
            photos = []
            for i in range(k):
                t = self.photos[next(self._cycle) % len(self.photos)]
                photos.append(PhotoRow(
                    position=i, slot=str(t["slot"]), file=f"{oid}/{t['slot']}_{i}.jpg", usable=True,
                    sha256=sha[i].tobytes().hex(), hash256=h256[i].tobytes(), phash64=h64[i].tobytes(),
                    hash_quality=int(q[i]), hash_centre=hc[i].tobytes(), width=t["width"], height=t["height"],  # type: ignore[arg-type]
                    exif=json.loads(str(t["exif_json"])) if t["exif_json"] else None, make=t["make"],  # type: ignore[arg-type]
                    model=t["model"], uploaded_by=f"E{o % 997}", uploaded_at="2026-12-01T15:38:00+08:00",  # type: ignore[arg-type]
                    result_json=t["result_json"]))  # type: ignore[arg-type]
                if self.stored % self.sample_every == 0:
                    self.sample.append((h256[i].tobytes(), h64[i].tobytes(), oid))
                self.stored += 1
            findings = tuple((c, f"{oid}/{photos[0].file}", js) for c, js in self.findings[o % len(self.findings)])
            recs.append(OrderRecord(order_id=oid, fingerprint=f"{o:x}", order_json=self.orders[o % len(self.orders)],
                                    engineer_id=f"E{o % 997}", contractor_id=f"C{o % 61}",
                                    dispatched_at="2026-12-01T09:00:00+08:00", closed_at="2026-12-01T16:00:00+08:00",
                                    photos=tuple(photos), findings=findings, config_fingerprint="bench"))
            rows += k
        return recs, rows


def _flip(h: bytes, bits: int, rng: np.random.Generator) -> bytes:
    a = np.unpackbits(np.frombuffer(h, dtype=np.uint8))
    a[rng.choice(a.size, bits, replace=False)] ^= 1
    return np.packbits(a).tobytes()


def _window_sets(random_windows: bool) -> list[np.ndarray] | None:
    """The crop windows of real photos (and their mirror images), as `scripts/bench_history.py` draws its
    unrelated queries: a query's windows are one real photo's XOR one random mask — random content with a
    real photo's window structure (neighbouring windows share their low-frequency blocks). None: every
    window independent random bits instead (the index's worst case, unlike any picture)."""
    if random_windows:
        return None
    import cv2

    from bench_history import REAL, _images

    return [np.frombuffer(hashing.photo_hashes(e).probes, np.uint8).reshape(-1, 32)
            for _, g in _images(REAL, 64) for e in (g, cv2.flip(g, 1))]


def _query(h256: bytes, h64: bytes, quality: int, rng: np.random.Generator,
           windows: list[np.ndarray] | None) -> PhotoResult:
    if windows is None:
        wins = rng.integers(0, 256, (PROBES, 32), dtype=np.uint8)
    else:
        wins = windows[int(rng.integers(len(windows)))] ^ rng.integers(0, 256, 32, dtype=np.uint8)[None, :]
    probes = np.ascontiguousarray(wins).tobytes().hex()  # concatenated, as the inspector gives them
    return PhotoResult(slot=Slot.machine_running, file="query.jpg", usable=True,
                       sha256=rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex(),
                       data={"hash256": h256.hex(), "phash64": h64.hex(), "hash_quality": quality,
                             "crop_probes": probes})


def _ms(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs) * 1e3, xs[min(len(xs) - 1, int(0.95 * len(xs)))] * 1e3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hashes", type=int, default=10 * MILLION, help="photo rows (hashes) to store")
    ap.add_argument("--url", help="an existing, empty PostgreSQL database (default: a throwaway server)")
    ap.add_argument("--template", type=Path, help="a real scan's SQLite history whose rows' text columns to reuse")
    ap.add_argument("--photos-per-order", type=int, default=5)
    ap.add_argument("--batch-orders", type=int, default=2000, help="orders per bulk transaction")
    ap.add_argument("--queries", type=int, default=1000, help="near-copy lookups (and as many unrelated ones)")
    ap.add_argument("--scan-orders", type=int, default=200, help="orders recorded one by one at full size")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--pg-set", action="append", metavar="NAME=VALUE",
                    help=f"a server setting to apply (repeatable; default with the throwaway server: "
                         f"{' '.join(BULK_SETTINGS)}; none with --url)")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    ap.add_argument("--random-windows", action="store_true",
                    help="queries' crop windows independent random bits (worst case) instead of masked real ones")
    args = ap.parse_args(argv)
    settings = args.pg_set if args.pg_set is not None else ([] if args.url else list(BULK_SETTINGS))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still stops the throwaway server

    cfg = load_config(None)
    rng = np.random.default_rng(args.seed + 1)
    windows = _window_sets(args.random_windows)
    fig: dict[str, object] = {"hashes": args.hashes, "photos_per_order": args.photos_per_order,
                              "batch_orders": args.batch_orders, "template": str(args.template or "")}
    with _server(args.url) as url, PostgresStore(url) as store:
        for kv in settings:
            name, value = kv.split("=", 1)
            store._db.execute(f"ALTER SYSTEM SET {name} = '{value}'")  # type: ignore[call-overload]
        store._db.execute("SELECT pg_reload_conf()")
        fig["server_settings"] = settings
        print(f"server settings: {', '.join(settings) or 'as found'}")
        th = thresholds(cfg)
        filler = Filler(args, th.hash_quality_min)

        # -- fill -------------------------------------------------------------------------------------
        t0 = time.perf_counter()
        done = orders = 0
        last_mark = int(args.hashes * (1 - LAST_SHARE))
        t_last: float | None = None
        rows_at_last = 0
        report_every = max(args.hashes // 20, 1)
        next_report = report_every
        while done < args.hashes:
            recs, rows = filler.orders_batch(orders, args.batch_orders, args.hashes - done)
            if t_last is None and done >= last_mark:
                t_last, rows_at_last = time.perf_counter(), done
            store.record_orders(recs)
            done += rows
            orders += len(recs)
            if done >= next_report:
                el = time.perf_counter() - t0
                print(f"  {done:,} rows, {el:.0f} s, {done / el:,.0f} rows/s", file=sys.stderr, flush=True)
                next_report += report_every
        fill_s = time.perf_counter() - t0
        last_rate = (done - rows_at_last) / (time.perf_counter() - t_last) if t_last else done / fill_s
        fig |= {"fill_s": round(fill_s, 1), "insert_rows_per_s": round(done / fill_s),
                "insert_rows_per_s_last_tenth": round(last_rate), "orders": orders}
        print(f"bulk insert (COPY, {args.batch_orders} orders x {args.photos_per_order} photos a transaction): "
              f"{done:,} photo rows in {fill_s:.0f} s = {done / fill_s:,.0f} rows/s; "
              f"last tenth {last_rate:,.0f} rows/s")

        # -- size -------------------------------------------------------------------------------------
        db = store._db
        db.execute("VACUUM ANALYZE")
        size = {t: int(db.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0])  # type: ignore[index]
                for t in ("photos", "orders", "findings")}
        total = int(db.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]
        per_m = total / (done / MILLION) / 2**30
        fig |= {"db_bytes": total, "table_bytes": size, "gib_per_million_photos": round(per_m, 3)}
        print(f"database size: {total / 2**30:.2f} GiB ({', '.join(f'{t} {b / 2**30:.2f}' for t, b in size.items())}) "
              f"= {per_m:.2f} GiB per million photos")

        # -- the scan's recording path at full size -----------------------------------------------------
        recs, rows = filler.orders_batch(orders, args.scan_orders, args.scan_orders * args.photos_per_order)
        t = time.perf_counter()
        for r in recs:
            with store.locked():
                store.record_order(r)
        one_s = time.perf_counter() - t
        fig |= {"scan_path_orders_per_s": round(len(recs) / one_s, 1), "scan_path_rows_per_s": round(rows / one_s)}
        print(f"scan path (one order a transaction, advisory lock): {len(recs) / one_s:,.0f} orders/s = "
              f"{rows / one_s:,.0f} photo rows/s")

        # -- reuse lookups ----------------------------------------------------------------------------
        t = time.perf_counter()
        checks = HistoryChecks(store, cfg)
        load_s = time.perf_counter() - t
        mem = checks.idx256.nbytes + checks.idx64.nbytes + checks.idx_centre.nbytes
        fig |= {"index_load_s": round(load_s, 1), "index_mib": round(mem / 2**20), "indexed": len(checks.idx256)}
        print(f"index load from PostgreSQL: {load_s:.0f} s for {len(checks.idx256):,} hashes, "
              f"{mem / 2**20:,.0f} MiB in memory")
        order = Order.model_validate({
            "order_id": "QUERY", "order_type": "repair", "machine_class": "household", "model": "NVK-RO600",
            "customer": {}, "engineer": {"id": "EQ"},
            "times": {"dispatched": "2026-12-09T09:00:00+08:00", "completed": "2026-12-09T10:00:00+08:00",
                      "closed": "2026-12-09T10:30:00+08:00"}})
        near: list[float] = []
        found = 0
        for h256, h64, oid in filler.sample[:args.queries]:
            p = _query(_flip(h256, th.hash_radius // 2, rng), _flip(h64, th.phash_radius // 2, rng), 80, rng,
                       windows)
            t = time.perf_counter()
            checks.sync()
            m = checks._best_match(order, p)
            near.append(time.perf_counter() - t)
            found += m is not None and m[0].order_id == oid
        unrelated: list[float] = []
        false_hits = 0
        for _ in range(len(near)):
            p = _query(rng.integers(0, 256, 32, dtype=np.uint8).tobytes(),
                       rng.integers(0, 256, 8, dtype=np.uint8).tobytes(), 80, rng, windows)
            t = time.perf_counter()
            checks.sync()
            m = checks._best_match(order, p)
            unrelated.append(time.perf_counter() - t)
            false_hits += m is not None
        # The split: the database's part (catch-up query + SHA-256 lookup) and the in-memory index's part.
        db_part: list[float] = []
        index_part: list[float] = []
        for _ in range(len(near)):
            p = _query(rng.integers(0, 256, 32, dtype=np.uint8).tobytes(),
                       rng.integers(0, 256, 8, dtype=np.uint8).tobytes(), 80, rng, windows)
            t = time.perf_counter()
            checks.sync()
            store.photos_by_sha256(str(p.sha256))
            db_part.append(time.perf_counter() - t)
            t = time.perf_counter()
            checks.idx256.search(bytes.fromhex(p.data["hash256"]), th.hash_radius)
            checks.idx_centre.search_many(bytes.fromhex(p.data["crop_probes"]), th.crop_window_radius,
                                          key_radius=th.crop_window_key_radius)
            index_part.append(time.perf_counter() - t)
        (dm, d95), (im, i95) = _ms(db_part), _ms(index_part)
        fig |= {"lookup_db_part_ms_median": round(dm, 2), "lookup_db_part_ms_p95": round(d95, 2),
                "lookup_index_part_ms_median": round(im, 2), "lookup_index_part_ms_p95": round(i95, 2)}
        split = (f"  of which the database (catch-up + SHA-256 lookup): median {dm:.2f} ms, p95 {d95:.2f} ms; "
                 f"the in-memory index (256-bit + crop windows): median {im:.2f} ms, p95 {i95:.2f} ms")
        (nm, n95), (um, u95), (am, a95) = _ms(near), _ms(unrelated), _ms(near + unrelated)
        fig |= {"lookup_ms_median": round(am, 2), "lookup_ms_p95": round(a95, 2),
                "lookup_near_ms_median": round(nm, 2), "lookup_near_ms_p95": round(n95, 2),
                "lookup_unrelated_ms_median": round(um, 2), "lookup_unrelated_ms_p95": round(u95, 2),
                "near_found": found, "near_queries": len(near), "unrelated_false_hits": false_hits}
        print(f"reuse lookup at {len(checks.idx256):,} hashes (sync + index + SHA-256 + candidate fetch): "
              f"median {am:.2f} ms, p95 {a95:.2f} ms; near copies {nm:.2f} / {n95:.2f} ms "
              f"(found {found}/{len(near)}), unrelated {um:.2f} / {u95:.2f} ms ({false_hits} false hits)")
        print(split)
    if args.json:
        args.json.write_text(json.dumps(fig, indent=1), encoding="utf-8")
    return 0 if found == len(near) else 1


if __name__ == "__main__":
    sys.exit(main())

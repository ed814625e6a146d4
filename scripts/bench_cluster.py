#!/usr/bin/env python3
"""Benchmark the scan on Dask distributed against the local process pool, in one run.

Prints photos per second of the same scan (same orders, fresh history each time, nothing cached):
- through a Dask cluster of 1 worker process (1 thread), then of 2 worker processes;
- on the local process pool (`wocheck scan --workers 2`, the default executor).

The Dask clusters (a `LocalCluster` on this machine, standing in for `dask scheduler` + `dask worker`) are
started before the clock starts, as a nightly cluster is already running; the local pool's start-up is
part of its time, as it is part of every local scan. Each run also checks that its violations equal the
local run's (order aside).

    .venv/bin/python scripts/bench_cluster.py --orders 16
    .venv/bin/python scripts/bench_cluster.py --set fixtures/generated/night --orders 100

Ratios are what to compare between runs: these machines are noisy (±20-30 %).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _scan(orders: Path, photos: Path, work: Path, name: str, *, workers: int,
          cluster: str | None) -> tuple[float, int, list[str]]:
    """Wall seconds, photos and sorted violations of one scan with a fresh history."""
    from wocheck.config import load_config
    from wocheck.pipeline.scan import ScanSettings, run_scan

    out = work / name
    t0 = time.perf_counter()
    summary = run_scan(ScanSettings(orders_path=orders, photo_root=photos, out_dir=out, workers=workers,
                                    db_path=work / f"{name}.sqlite", cluster=cluster), load_config(None))
    seconds = time.perf_counter() - t0
    viols = sorted(json.dumps(json.loads(x), sort_keys=True)
                   for x in (out / "violations.jsonl").read_text(encoding="utf-8").splitlines())
    return seconds, summary.photos, viols


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=REPO / "fixtures" / "sample",
                    help="a folder with orders.jsonl and photos/ (default the committed sample)")
    ap.add_argument("--orders", type=int, default=16, help="the first N orders of the set (0 = all)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # after the import, which sets Dask's own levels

    photos = args.set / "photos"
    with tempfile.TemporaryDirectory(prefix="bench_cluster_") as tmp:
        work = Path(tmp)
        lines = (args.set / "orders.jsonl").read_text(encoding="utf-8").splitlines()
        orders = work / "orders.jsonl"
        orders.write_text("\n".join(lines[:args.orders] if args.orders else lines) + "\n", encoding="utf-8")

        runs: list[tuple[str, float, int, list[str]]] = []
        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                              scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cl, Client(cl) as c:
                c.wait_for_workers(n)
                s, p, v = _scan(orders, photos, work, f"dask{n}", workers=n, cluster=cl.scheduler_address)
                runs.append((f"dask, {n} worker process{'es' if n > 1 else ''}", s, p, v))
        s, p, v = _scan(orders, photos, work, "local2", workers=2, cluster=None)
        runs.append(("local pool, 2 processes", s, p, v))

    reference = runs[-1][3]
    print(f"{len(lines[:args.orders] if args.orders else lines)} orders, {runs[-1][2]} photos from {args.set}")
    for name, seconds, n_photos, viols in runs:
        same = "same violations" if viols == reference else "VIOLATIONS DIFFER from the local run"
        print(f"  {name:<28} {seconds:6.1f} s  {n_photos / seconds:6.2f} photos/s  ({same})")
    d1, d2, loc = (r[1] for r in runs)
    print(f"  dask 2 vs 1 worker: x{d1 / d2:.2f} faster; dask 2 vs local pool 2: x{loc / d2:.2f} faster")
    return 0 if all(r[3] == reference for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark the scan on Dask distributed against the local process pool, in one run.

Prints photos per second of the same scan (same orders, fresh history each time, nothing cached):
- through a Dask cluster of 1 worker process (1 thread), then of 2 worker processes;
- on the local process pool (`wocheck scan --workers 2`, the default executor).

The Dask clusters (a `LocalCluster` on this machine with wocheck's Dask settings, `pipeline/dask.yaml`,
standing in for `dask scheduler` + `dask worker` started as docs/scaling.md says) are started before the
clock starts, as a nightly cluster is already running (its workers have preloaded wocheck's inspectors as
they started, as the settings say); the local pool's start-up is
part of its time, as it is part of every local scan. Each run also checks that its violations equal the
local run's (order aside). Besides wall seconds, each run's CPU seconds (this process and every descendant:
scheduler, nannies, workers, fork server and pool) are printed: steadier than wall time on a shared machine.
``--rounds N`` repeats the three runs and prints medians. First, the machine's own ceiling for 2 vs 1
process on this work: the same photos decoded at full resolution alone on 1, then 2 processes.

    .venv/bin/python scripts/bench_cluster.py --orders 16
    .venv/bin/python scripts/bench_cluster.py --set fixtures/generated/night --orders 100

Ratios are what to compare between runs: these machines are noisy (±20-30 %).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import PeakRss, decode_all  # noqa: E402  (CPU seconds of every descendant process; decode floor)


def _scan(orders: Path, photos: Path, work: Path, name: str, *, workers: int,
          cluster: str | None) -> tuple[float, float, int, list[str], float]:
    """Wall seconds, CPU seconds, photos, sorted violations and the largest process's peak memory (MB) of one
    scan with a fresh history."""
    from wocheck.config import load_config
    from wocheck.pipeline.scan import ScanSettings, run_scan

    out = work / name
    with PeakRss() as usage:
        t0 = time.perf_counter()
        summary = run_scan(ScanSettings(orders_path=orders, photo_root=photos, out_dir=out, workers=workers,
                                        db_path=work / f"{name}.sqlite", cluster=cluster), load_config(None))
        seconds = time.perf_counter() - t0
    viols = sorted(json.dumps(json.loads(x), sort_keys=True)
                   for x in (out / "violations.jsonl").read_text(encoding="utf-8").splitlines())
    return seconds, usage.cpu_s, summary.photos, viols, max(usage.peak_kb.values(), default=0) / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=REPO / "fixtures" / "sample",
                    help="a folder with orders.jsonl and photos/ (default the committed sample)")
    ap.add_argument("--orders", type=int, default=16, help="the first N orders of the set (0 = all)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the three runs; medians are printed")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from distributed import Client

    from wocheck.pipeline.cluster import start_local_cluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # after the import, which sets Dask's own levels

    photos = args.set / "photos"
    with tempfile.TemporaryDirectory(prefix="bench_cluster_") as tmp:
        work = Path(tmp)
        lines = (args.set / "orders.jsonl").read_text(encoding="utf-8").splitlines()
        orders = work / "orders.jsonl"
        orders.write_text("\n".join(lines[:args.orders] if args.orders else lines) + "\n", encoding="utf-8")
        # The machine's own ceiling for 2 vs 1 process on this work: the same photos' full decode alone.
        files = [photos / ph["file"] for line in (lines[:args.orders] if args.orders else lines) if line.strip()
                 for ph in json.loads(line).get("photos", []) if (photos / ph["file"]).is_file()]
        decode1, decode2 = decode_all(files, 1)[0], decode_all(files, 2)[0]

        names = ["dask, 1 worker process", "dask, 2 worker processes", "local pool, 2 processes"]
        walls: dict[str, list[float]] = {n: [] for n in names}
        cpus: dict[str, list[float]] = {n: [] for n in names}
        viols: dict[str, list[str]] = {}
        peak_mb: dict[str, float] = {n: 0.0 for n in names}
        n_photos = 0
        for r in range(max(1, args.rounds)):
            for n in (1, 2):
                with start_local_cluster(n) as cl, Client(cl) as c:
                    c.wait_for_workers(n)
                    s, cpu, n_photos, v, mb = _scan(orders, photos, work, f"dask{n}-{r}", workers=n,
                                                    cluster=cl.scheduler_address)
                peak_mb[names[n - 1]] = max(peak_mb[names[n - 1]], mb)
                walls[names[n - 1]].append(s)
                cpus[names[n - 1]].append(cpu)
                viols[names[n - 1]] = v
            s, cpu, n_photos, v, mb = _scan(orders, photos, work, f"local2-{r}", workers=2, cluster=None)
            peak_mb[names[2]] = max(peak_mb[names[2]], mb)
            walls[names[2]].append(s)
            cpus[names[2]].append(cpu)
            viols[names[2]] = v

    reference = viols[names[2]]
    wall = {n: statistics.median(walls[n]) for n in names}
    cpu = {n: statistics.median(cpus[n]) for n in names}
    n_orders = len(lines[:args.orders] if args.orders else lines)
    print(f"{n_orders} orders, {n_photos} photos from {args.set}; medians of {max(1, args.rounds)} round(s)")
    for name in names:
        same = "same violations" if viols[name] == reference else "VIOLATIONS DIFFER from the local run"
        print(f"  {name:<28} {wall[name]:6.1f} s  {n_photos / wall[name]:6.2f} photos/s  "
              f"CPU {cpu[name]:6.1f} s  peak process {peak_mb[name]:5.0f} MB  ({same})")
    d1, d2, loc = (wall[n] for n in names)
    print(f"  dask 2 vs 1 worker: x{d1 / d2:.2f} faster; dask 2 vs local pool 2: x{loc / d2:.2f} faster "
          f"(CPU seconds dask 2 / local 2: {cpu[names[1]] / cpu[names[2]]:.2f})")
    print(f"  the machine's ceiling: decoding the same photos alone, 2 vs 1 process x{decode1 / decode2:.2f} "
          f"({decode1:.1f} / {decode2:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps({
            "set": str(args.set), "orders": n_orders, "photos": n_photos, "rounds": max(1, args.rounds),
            "wall_s": wall, "cpu_s": cpu, "peak_process_mb": peak_mb, "walls_s": walls,
            "photos_per_s": {n: n_photos / wall[n] for n in names},
            "dask2_over_dask1": d1 / d2, "dask2_over_local2": loc / d2, "decode_2_over_1": decode1 / decode2,
            "same_violations": all(v == reference for v in viols.values())}, indent=1), encoding="utf-8")
    return 0 if all(v == reference for v in viols.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark the nightly scan against the floor of decoding the same photos, in one run.

Prints, for one set of orders and photos and one worker count:
- the wall time to decode every photo at full resolution (load + full colour decode) on N processes;
- the wall time of `wocheck scan` over the same orders with N workers (fresh history, nothing cached);
- their ratio (target ≤ 1.5), photos per second per worker;
- the peak resident memory of any scan worker process (target ≤ 600 MB);
- a rerun of the identical scan (same history, same OUT: results replayed, thumbnails already drawn);
- the engineer's self-check (`wocheck check` as a new process, start-up included) on a 5-6 photo order.

    .venv/bin/python scripts/bench.py --orders 250 --full-res-share 0.5 --workers 2
    .venv/bin/python scripts/bench.py --set fixtures/generated/bench --workers 2
    .venv/bin/python scripts/bench.py --set SET_A --set SET_B/night2   # several sets, scanned as one night

Ratios are what to compare between runs: these machines are noisy (±20-30 %). When other jobs share the
cores, wall times stretch unevenly between the phases; the CPU-second ratio (scan: parent + workers +
thumbnail processes; floor: the decode calls themselves) is steadier.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _decode(path: str) -> float:
    """CPU seconds this process spent decoding ``path`` at full resolution."""
    from wocheck.io.images import load_photo

    c0 = time.process_time()
    photo = load_photo(Path(path), verify=False)
    photo.full_bgr()
    return time.process_time() - c0


def decode_all(paths: list[Path], workers: int) -> tuple[float, float]:
    """Wall seconds to decode every photo at full resolution on ``workers`` processes, and the CPU seconds."""
    ctx = get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        list(pool.map(_decode, [str(p) for p in paths[:workers]]))  # warm the workers' imports
        t0 = time.perf_counter()
        cpu = sum(pool.map(_decode, [str(p) for p in paths], chunksize=4))
        return time.perf_counter() - t0, cpu


def merge_sets(sets: list[Path]) -> Path:
    """One set holding every order and photo of ``sets`` (photos hard-linked, else copied), beside the first."""
    merged = sets[0].parent / ("merged-" + "+".join(s.name for s in sets))
    if (merged / "orders.jsonl").is_file():
        return merged
    seen: set[str] = set()
    lines: list[str] = []
    for s in sets:
        for line in (s / "orders.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            oid = json.loads(line)["order_id"]
            if oid in seen:
                raise SystemExit(f"bench: order {oid} is in two of the sets; they can't be scanned as one night")
            seen.add(oid)
            lines.append(line)
        for src in (s / "photos").rglob("*"):
            if src.is_file():
                dest = merged / "photos" / src.relative_to(s / "photos")
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(src, dest)
                except OSError:
                    shutil.copy2(src, dest)
    (merged / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return merged


class PeakRss:
    """Samples the peak resident memory (VmHWM) and the CPU time of every descendant process while running.

    Descendants, not children: the scan's workers are the fork server's children, which ``getrusage``
    never counts. A process that ends between two samples (every 0.2 s) loses its last fraction of CPU.
    """

    def __init__(self) -> None:
        self.peak_kb: dict[int, int] = {}
        self._ticks: dict[int, int] = {}
        self._base: dict[int, int] = {}
        self._hz = os.sysconf("SC_CLK_TCK")
        self._self0 = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _descendants(self) -> list[int]:
        parents: dict[int, int] = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    stat = (d / "stat").read_text()
                    parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        me, out, frontier = os.getpid(), [], [os.getpid()]
        while frontier:
            p = frontier.pop()
            kids = [c for c, pp in parents.items() if pp == p]
            out += kids
            frontier += kids
        return [p for p in out if p != me]

    @staticmethod
    def _cpu_ticks(pid: int) -> int | None:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return int(f[11]) + int(f[12])  # utime + stime
        except (OSError, ValueError, IndexError):
            return None

    def _sample_cpu(self, pids: list[int]) -> None:
        for pid in pids:
            t = self._cpu_ticks(pid)
            if t is not None:
                self._ticks[pid] = max(self._ticks.get(pid, 0), t)

    @property
    def cpu_s(self) -> float:
        """CPU seconds of this process and its descendants since entering (processes there before: the delta)."""
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = sum(t - self._base.get(pid, 0) for pid, t in self._ticks.items()) / self._hz
        return me.ru_utime + me.ru_stime - self._self0 + kids

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = self._descendants()
            self._sample_cpu(pids)
            for pid in pids:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), int(line.split()[1]))
                except OSError:
                    continue
            self._stop.wait(0.2)

    def __enter__(self) -> PeakRss:
        me = resource.getrusage(resource.RUSAGE_SELF)
        self._self0 = me.ru_utime + me.ru_stime
        for pid in self._descendants():
            t = self._cpu_ticks(pid)
            if t is not None:
                self._base[pid] = t
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def scan(orders: Path, photos: Path, out: Path, db: Path, workers: int) -> float:
    from wocheck.api import scan as run
    from wocheck.pipeline.scan import ScanSettings

    t0 = time.perf_counter()
    run(ScanSettings(orders_path=orders, photo_root=photos, out_dir=out, workers=workers, db_path=db))
    return time.perf_counter() - t0


def self_check_seconds(orders: Path, photos: Path, repeat: int) -> tuple[float, int]:
    """Median wall seconds of `wocheck check` (a new process each time) on the order with most photos ≤ 6."""
    recs = [json.loads(x) for x in orders.read_text(encoding="utf-8").splitlines() if x.strip()]
    rec = max((r for r in recs if len(r.get("photos", [])) <= 6), key=lambda r: len(r["photos"]))
    with tempfile.TemporaryDirectory() as tmp:
        order_file = Path(tmp) / "order.json"
        order_file.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
        exe = Path(sys.executable).parent / "wocheck"
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([str(exe), "check", str(order_file), "--photos", str(photos)],
                           capture_output=True, check=False)
            times.append(time.perf_counter() - t0)
    return statistics.median(times), len(rec["photos"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, action="append",
                    help="a fixture set (orders.jsonl + photos/); repeat to scan several as one night (their order "
                         "ids must differ); default: generate one")
    ap.add_argument("--orders", type=int, default=250, help="orders to generate when no --set")
    ap.add_argument("--full-res-share", type=float, default=0.5, help="share of 4000×3000 photos when generating")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args(argv)

    fixture = merge_sets(args.set) if args.set and len(args.set) > 1 else args.set[0] if args.set else None
    if fixture is None:
        fixture = REPO / "fixtures" / "generated" / f"bench{args.orders}-{args.seed}"
        if not (fixture / "orders.jsonl").is_file():
            print(f"bench: generating {args.orders} orders into {fixture}", file=sys.stderr)
            subprocess.run([sys.executable, str(REPO / "scripts" / "make_fixtures.py"), "--orders", str(args.orders),
                            "--nights", "1", "--seed", str(args.seed), "--out", str(fixture),
                            "--full-res-share", str(args.full_res_share), "--workers", str(args.workers)],
                           check=True)
    orders, photos = fixture / "orders.jsonl", fixture / "photos"
    paths = sorted(p for p in photos.rglob("*") if p.is_file())
    full = 0
    from PIL import Image

    for p in paths:
        with Image.open(p) as im:
            full += im.size[0] * im.size[1] >= 12_000_000
    n = len(paths)
    print(f"set: {fixture} — {n} photos, {full} at 4000×3000 ({full / max(n, 1):.0%}), workers {args.workers}")

    decode_s, decode_cpu = decode_all(paths, args.workers)
    work = Path(tempfile.mkdtemp(prefix="wocheck-bench-"))
    try:
        with PeakRss() as rss:
            scan_s = scan(orders, photos, work / "out", work / "h.sqlite", args.workers)
        scan_cpu = rss.cpu_s
        # the same command again (same history, same OUT): orders replayed, report thumbnails already drawn
        rerun_s = scan(orders, photos, work / "out", work / "h.sqlite", args.workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    check_s, check_photos = self_check_seconds(orders, photos, repeat=5)
    peak_mb = max(rss.peak_kb.values(), default=0) / 1024
    fig = {
        "photos": n, "photos_4000x3000": full, "workers": args.workers,
        "decode_full_s": round(decode_s, 2), "scan_s": round(scan_s, 2),
        "ratio_scan_to_decode": round(scan_s / decode_s, 2),
        "decode_full_cpu_s": round(decode_cpu, 2), "scan_cpu_s": round(scan_cpu, 2),
        "cpu_ratio_scan_to_decode": round(scan_cpu / max(decode_cpu, 1e-9), 2),
        "photos_per_s_per_worker": round(n / scan_s / args.workers, 2),
        "peak_worker_rss_mb": round(peak_mb, 1),
        "rerun_s": round(rerun_s, 2), "rerun_ratio_to_scan": round(rerun_s / scan_s, 3),
        "self_check_s": round(check_s, 2), "self_check_photos": check_photos,
    }
    print(f"decode at full resolution: {decode_s:.1f} s   scan: {scan_s:.1f} s   "
          f"ratio scan/decode: {fig['ratio_scan_to_decode']} (target ≤ 1.5)")
    print(f"CPU seconds: decode {decode_cpu:.1f}, scan {scan_cpu:.1f} (workers, parent, thumbnails): "
          f"ratio {fig['cpu_ratio_scan_to_decode']} (steadier than wall time on a shared machine)")
    print(f"photos per second per worker: {fig['photos_per_s_per_worker']}   "
          f"peak worker memory: {peak_mb:.0f} MB (target ≤ 600)")
    print(f"identical rerun on the same history: {rerun_s:.1f} s ({fig['rerun_ratio_to_scan']:.1%} of the scan)")
    print(f"engineer's self-check, {check_photos} photos, start-up included: {check_s:.2f} s (target ≤ 1.5)")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

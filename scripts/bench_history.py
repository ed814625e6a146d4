#!/usr/bin/env python3
"""Benchmark the history's reuse search at scale: inserts, index build, lookup time, recall, false matches.

The history (SQLite) is filled with ``--filler`` photo rows (default 1,000,000) whose hashes are random
bits — no million real photos are at hand — plus the *planted* originals: every usable public real photo
(../shared/realdata) and the fixture photos of one generated set. Then:

- recall: edited copies of each real photo (re-encoded, resized, brighter/darker, contrast, cropped ≤ 5 % a
  side, all at once) are looked up through the scan's own code path (`HistoryChecks._best_match`: the
  256-bit index, the crop-tolerant 64-bit index, the SQLite fetch); each must find its original;
- crop sizes caught: each real photo cropped by 1 … 8 % a side, resized and re-encoded;
- false matches: 10,000 unrelated random queries, and the fixture photos of *other* generated sets (the
  same forms, nameplates and under-sink scenes: the generic look-alikes that matter here) must match
  nothing;
- lookup time (median, p95), insert rate (photo rows per second, in order transactions of 5 photos), index
  build time, index memory and database size on disk.

    .venv/bin/python scripts/bench_history.py [--filler 1000000] [--db /tmp/bench.sqlite]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts" / "calibration"))

from authenticity import edits  # noqa: E402  (the calibration's edit set)

from wocheck.config import load_config  # noqa: E402
from wocheck.history.checks import HistoryChecks  # noqa: E402
from wocheck.history.store import OrderRecord, PhotoRow, open_store  # noqa: E402
from wocheck.inspectors.authenticity import thresholds  # noqa: E402
from wocheck.io.images import PhotoError, load_photo  # noqa: E402
from wocheck.metrics.hashing import CROP_INSET, hamming, photo_hashes, quality_score  # noqa: E402
from wocheck.pipeline.work import PhotoResult  # noqa: E402
from wocheck.records import Order, Slot  # noqa: E402

REAL = [REPO.parent / "shared/realdata/exif/images", REPO.parent / "shared/realdata/barcodes/images"]
FIX = REPO / "fixtures" / "generated"
PHOTOS_PER_ORDER = 5
GRID_PX = 64  # the hashes' DCT grid (64 × 64 cells): a copy with a shorter side has less detail than it
CHUNK_ORDERS = 2000


def _hashes(gray: np.ndarray) -> tuple[bytes, bytes, int, bytes | None]:
    """What a scan stores per photo: 256-bit hash, pHash, quality, centre-window hash (if not flat)."""
    h = photo_hashes(gray)
    floor = thresholds(load_config()).hash_quality_min
    return h.hash256, h.phash64, h.quality, h.centre if h.centre_quality >= floor else None


def _images(dirs: list[Path], limit: int) -> list[tuple[str, np.ndarray]]:
    out = []
    files = sorted(p for d in dirs if d.is_dir() for p in d.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    for f in files[:limit]:
        try:
            g = load_photo(f).preview_gray(1000)
        except PhotoError:
            continue
        if min(g.shape) >= 32:
            out.append((str(f), g))
    return out


def _order(order_id: str) -> Order:
    return Order.model_validate({
        "order_id": order_id, "order_type": "repair", "machine_class": "household", "model": "NVK-RO600",
        "customer": {}, "engineer": {"id": "EQ"},
        "times": {"dispatched": "2026-12-09T09:00:00+08:00", "completed": "2026-12-09T10:00:00+08:00",
                  "closed": "2026-12-09T10:30:00+08:00"}})


def _slot(file: str) -> Slot:
    """A fixture photo's slot from its name (``code_label_1.jpg``), else a scene slot."""
    stem = Path(file).stem.rsplit("_", 1)[0]
    return Slot(stem) if stem in Slot.__members__ else Slot.machine_running


def _probe(h256: bytes, h64: bytes, q: int, probes: bytes, slot: Slot = Slot.machine_running,
           centre_quality: int = 100) -> PhotoResult:
    return PhotoResult(slot=slot, file="q.jpg", usable=True,
                       data={"hash256": h256.hex(), "phash64": h64.hex(), "hash_quality": q,
                             "crop_probes": probes.hex(), "centre_quality": centre_quality})


def _rec(oid: str, rows: list[tuple[str, bytes, bytes, int, bytes | None]]) -> OrderRecord:
    photos = tuple(PhotoRow(position=i, slot="machine_running", file=f, usable=True, hash256=a, phash64=b,
                            hash_quality=q, hash_centre=c, sha256=None) for i, (f, a, b, q, c) in enumerate(rows))
    return OrderRecord(order_id=oid, fingerprint="bench", order_json="{}", engineer_id=f"E{hash(oid) % 500}",
                       contractor_id=None, dispatched_at="2026-12-01T09:00:00+08:00",
                       closed_at="2026-12-01T10:00:00+08:00", photos=photos, findings=())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filler", type=int, default=1_000_000, help="random-hash photo rows to store")
    ap.add_argument("--random-queries", type=int, default=10_000)
    ap.add_argument("--fixtures-index", type=int, default=300, help="fixture photos stored (from generated/cal)")
    ap.add_argument("--fixtures-query", type=int, default=500, help="fixture photos of other sets queried")
    ap.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--max-crop", type=float, default=0.05, help="crop a side of the recall edits (fixtures: 5 %%)")
    ap.add_argument("--crop-sweep", type=float, nargs="*", default=[0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08])
    ap.add_argument("--random-windows", action="store_true",
                    help="unrelated queries with independent random window hashes (worst case)")
    args = ap.parse_args(argv)
    cfg = load_config()
    rng = np.random.default_rng(args.seed)
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "bench.sqlite"
    if db.exists():
        db.unlink()

    t = time.perf_counter()
    real = [(f, g) for f, g in _images(REAL, 10_000) if quality_score(g) >= 50]
    fix_index = _images([FIX / "cal"], args.fixtures_index)
    # other sets only ("benchmix-cal-…" holds copies of cal's photos: true duplicates)
    fix_query = _images([d for d in sorted(FIX.iterdir()) if "cal" not in d.name] if FIX.is_dir() else [],
                        args.fixtures_query)
    print(f"hashing: {len(real)} real photos, {len(fix_index)} fixture photos stored, {len(fix_query)} fixture "
          f"photos queried ({time.perf_counter() - t:.0f} s)")

    planted = [(f"real:{f}", *_hashes(g)) for f, g in real] + [(f"fix:{f}", *_hashes(g)) for f, g in fix_index]
    store = open_store(db)
    t = time.perf_counter()
    n_rows = 0
    oid = 0
    filler_left = args.filler
    planted_left = list(planted)
    pos = np.sort(rng.choice(max(1, args.filler // PHOTOS_PER_ORDER), len(planted), replace=True))
    pi = 0
    while filler_left > 0 or planted_left:
        recs = []
        for _ in range(CHUNK_ORDERS):
            rows: list[tuple[str, bytes, bytes, int, bytes]] = []
            while pi < len(pos) and pos[pi] <= oid and planted_left:  # originals spread through the history
                rows.append(planted_left.pop(0))
                pi += 1
            k = min(PHOTOS_PER_ORDER - len(rows), filler_left)
            if k > 0:
                a = rng.integers(0, 256, (k, 32), dtype=np.uint8)
                b = rng.integers(0, 256, (k, 8), dtype=np.uint8)
                c = rng.integers(0, 256, (k, 32), dtype=np.uint8)
                rows += [(f"f{oid}_{i}.jpg", a[i].tobytes(), b[i].tobytes(), 80, c[i].tobytes()) for i in range(k)]
                filler_left -= k
            if not rows and filler_left <= 0:
                rows = planted_left[:PHOTOS_PER_ORDER]
                planted_left = planted_left[PHOTOS_PER_ORDER:]
            if not rows:
                break
            recs.append(_rec(f"H{oid:08d}", rows))
            n_rows += len(rows)
            oid += 1
        store.record_orders(recs)  # type: ignore[attr-defined]
    insert_s = time.perf_counter() - t
    print(f"inserted {n_rows:,} photo rows in {oid:,} orders: {insert_s:.1f} s = {n_rows / insert_s:,.0f} rows/s")

    t = time.perf_counter()
    checks = HistoryChecks(store, cfg)
    build_s = time.perf_counter() - t
    mem = checks.idx256.nbytes + checks.idx64.nbytes + checks.idx_centre.nbytes
    disk = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    print(f"index build (read from SQLite + tables): {build_s:.1f} s for {len(checks.idx256):,} hashes; "
          f"memory {mem / 2**20:.0f} MiB (256-bit {checks.idx256.nbytes / 2**20:.0f} + 64-bit "
          f"{checks.idx64.nbytes / 2**20:.0f} + centre {checks.idx_centre.nbytes / 2**20:.0f}); "
          f"database on disk {disk / 2**20:.0f} MiB")

    # single-insert rate into the live index (what a scan does per photo)
    t = time.perf_counter()
    m = 20_000
    checks.idx256.add(np.arange(10**9, 10**9 + m), rng.integers(0, 256, (m, 32), dtype=np.uint8))
    print(f"index inserts: {m / (time.perf_counter() - t):,.0f} hashes/s")

    probe_order = _order("QUERY")
    times: list[float] = []
    cpu: list[float] = []  # CPU seconds of the same lookups (this machine is shared: wall time waits for others)
    per_edit: dict[str, list[bool]] = {}
    by_size: dict[bool, list[bool]] = {}  # copies at least the hash's DCT grid on their short side, or smaller
    misses: list[tuple[str, str, object]] = []
    th = checks.th
    for (name, h256, _h64, _q, _c), (_, g) in zip(planted, real, strict=False):
        for kind, e in edits(g, rng, max_crop=args.max_crop).items():
            h = photo_hashes(e)  # computed by the worker: not timed
            a, b, q, probes = h.hash256, h.phash64, h.quality, h.probes
            t, c = time.perf_counter(), time.process_time()
            m_ = checks._best_match(probe_order, _probe(a, b, q, probes, centre_quality=h.centre_quality))
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            ok = q < th.hash_quality_min or (m_ is not None and m_[0].file == name)
            if not ok and m_ is not None:  # matched another stored photo: a near-identical one of the set?
                other = next(h for h in planted if h[0] == m_[0].file)
                ok = hamming(other[1], h256) <= th.hash_radius
            if not ok:
                misses.append((kind, name, f"copy {e.shape[1]}x{e.shape[0]} px",
                               None if m_ is None else (m_[0].file, m_[1], m_[2])))
            per_edit.setdefault(kind, []).append(ok)
            by_size.setdefault(min(e.shape[:2]) >= GRID_PX, []).append(ok)
    found = sum(sum(v) for v in per_edit.values())
    total = sum(len(v) for v in per_edit.values())
    tiers = (f"pHash ≤ {th.phash_radius}/64 with 256-bit ≤ {th.crop_gate_radius}, or " if th.crop_phash_tier
             else "")
    print(f"recall of planted near-duplicates, crops ≤ {args.max_crop:.0%} a side (radius {th.hash_radius}/256, or "
          f"{tiers}a crop window ≤ {th.crop_window_radius} with ≤ {th.crop_window_key_radius} over its "
          f"{th.crop_window_key_blocks} key blocks): {found}/{total} = {found / max(1, total):.4f}")
    for kind, v in per_edit.items():
        print(f"  {kind:9s} {sum(v)}/{len(v)}")
    for big, v in sorted(by_size.items(), reverse=True):
        print(f"  copies {'≥' if big else '<'} {GRID_PX} px on the short side: {sum(v)}/{len(v)}"
              + ("" if big else " (thumbnails: fewer pixels than the hash's 64×64 DCT grid)"))
    for miss in misses[:12]:
        print(f"   missed {miss}")

    # crop sizes caught: each real photo cropped by a fixed fraction on every side (± a quarter of it),
    # resized to 50-90 % and re-encoded (JPEG 60-85)
    by_crop: dict[float, list[bool]] = {}
    crop_misses: list[tuple[float, str, int, object]] = []
    stored = {x[0]: x[1] for x in planted}
    for f, g in real:
        name = f"real:{f}"
        hh, ww = g.shape
        for frac in args.crop_sweep:
            c = frac * rng.uniform(0.75, 1.25, 4)
            e = g[int(hh * c[0]):hh - int(hh * c[1]), int(ww * c[2]):ww - int(ww * c[3])]
            k = float(rng.uniform(0.5, 0.9))
            e = cv2.resize(e, (max(8, int(e.shape[1] * k)), max(8, int(e.shape[0] * k))), interpolation=cv2.INTER_AREA)
            e = cv2.imdecode(cv2.imencode(".jpg", e, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 86))])[1],
                             cv2.IMREAD_GRAYSCALE)
            h = photo_hashes(e)
            m_ = checks._best_match(probe_order, _probe(h.hash256, h.phash64, h.quality, h.probes,
                                                        centre_quality=h.centre_quality))
            ok = h.quality < th.hash_quality_min or (m_ is not None and m_[0].file == name)
            if not ok and m_ is not None:  # matched another stored photo: a near-identical one of the set?
                ok = hamming(stored[m_[0].file], stored[name]) <= th.hash_radius
            by_crop.setdefault(frac, []).append(ok)
            if not ok and frac < CROP_INSET:
                crop_misses.append((frac, name, h.quality, None if m_ is None else (m_[0].file, m_[1], m_[2])))
    print(f"crop sweep (every side cropped by ≈ the fraction, resized, re-encoded; centre window "
          f"{CROP_INSET:.0%} a side):")
    for frac, v in by_crop.items():
        print(f"  crop {frac:5.1%} a side: {sum(v)}/{len(v)} found")
    for miss in crop_misses[:12]:
        print(f"   missed {miss}")

    # Unrelated queries. The whole-frame hash and pHash: random bits. The crop windows of a real photo are
    # strongly correlated (neighbouring windows share their low-frequency blocks), which is what the
    # key-block index exploits: each query takes the windows of one real photo's edit XOR one random mask
    # (random content, a real photo's window structure). `--random-windows` uses independent random bits
    # per window instead (the worst case for the index, unlike any picture).
    window_sets = [photo_hashes(e).probes for _, g in real[:64] for e in (g, cv2.flip(g, 1))]
    false = 0
    rtimes: list[float] = []
    for _ in range(args.random_queries):
        a = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
        b = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
        base = np.frombuffer(window_sets[int(rng.integers(len(window_sets)))], np.uint8).reshape(-1, 32)
        if args.random_windows:
            wins = rng.integers(0, 256, base.shape, dtype=np.uint8)
        else:
            wins = base ^ rng.integers(0, 256, 32, dtype=np.uint8)[None, :]
        t, c = time.perf_counter(), time.process_time()
        false += checks._best_match(probe_order, _probe(a, b, 80, wins.tobytes())) is not None
        rtimes.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    times += rtimes
    rms = sorted(x * 1000 for x in rtimes)
    print(f"false matches among {args.random_queries:,} random unrelated queries: {false} "
          f"({false / max(1, args.random_queries):.4%}); their lookup median {statistics.median(rms):.2f} ms, "
          f"p95 {rms[int(0.95 * len(rms))]:.2f} ms ({'independent random' if args.random_windows else 'masked real'}"
          f" windows)")
    fq = 0
    skipped = 0
    hits = []
    for f, g in fix_query:
        h = photo_hashes(g)
        if h.quality < th.hash_quality_min:
            skipped += 1
            continue
        m_ = checks._best_match(probe_order, _probe(h.hash256, h.phash64, h.quality, h.probes, _slot(f),
                                                    h.centre_quality))
        if m_ is not None:
            fq += 1
            hits.append((f, m_[0].file, m_[1], m_[2]))
    n_fq = len(fix_query) - skipped
    by_how = {how: sum(h[3] == how for h in hits) for how in ("identical_file", "perceptual", "perceptual_crop",
                                                      "perceptual_window")}
    print(f"matches of {n_fq} fixture photos of other sets against the {len(fix_index)} stored: {fq} "
          f"({fq / max(1, n_fq):.2%}); by tier {by_how}; below the quality floor (not searched): {skipped}")
    print("  (the crop-tolerant tier is searched only for photos without their camera's capture time within the "
          "visit; fixture photos carrying one use the 256-bit tier alone)")
    for h in hits[:10]:
        print(f"   {h}")
    ms = sorted(x * 1000 for x in times)
    cms = sorted(x * 1000 for x in cpu)
    print(f"lookup: median {statistics.median(ms):.2f} ms, p95 {ms[int(0.95 * len(ms))]:.2f} ms, "
          f"max {ms[-1]:.1f} ms over {len(ms):,} lookups (wall); CPU median {statistics.median(cms):.2f} ms, "
          f"p95 {cms[int(0.95 * len(cms))]:.2f} ms")
    store.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Running the per-order work on local worker processes, so that one bad photo costs that photo only.

Results come back in input order through a bounded window, so memory stays flat however long the night is.
The worker processes get the config once (initializer), not with every order.

An engine can kill its process (a segfault in a native library) or hang. When a worker dies or an order
exceeds ``limits.order_timeout_seconds``, the pool is torn down, that order is redone photo by photo, each
photo in a process of its own, and a photo that kills or hangs its process again is marked "not
inspected" (an input-error record says so; it is not the engineer's missing photo). The other orders in
flight are resubmitted to a fresh pool; results that had already come back are kept.

Workers start from a fork server, never by forking the parent: a fork of a process whose OpenCV thread
pool has run deadlocks in the child. The parent's inspector registry travels to every worker.

`run_serial` runs everything in this process: the engineer's self-check, where start-up time matters more
than isolation.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from wocheck.config import Config
from wocheck.pipeline import registry
from wocheck.pipeline.procenv import prepare_worker
from wocheck.pipeline.work import OrderResult, PhotoResult, crashed_photo, finish_order, process_order, process_photo
from wocheck.records import Order

log = logging.getLogger(__name__)

_worker_cfg: Config | None = None
_worker_root: Path | None = None


def _init_worker(cfg: Config, photo_root: Path, inspectors: registry.Snapshot) -> None:
    global _worker_cfg, _worker_root
    prepare_worker()
    registry.restore(inspectors)
    _worker_cfg, _worker_root = cfg, photo_root


def _new_pool(workers: int, cfg: Config, photo_root: Path) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=_init_worker, initargs=(cfg, photo_root, registry.snapshot()))


def _run(order: Order, line: int) -> OrderResult:
    if _worker_cfg is None or _worker_root is None:
        raise RuntimeError("worker not initialised")
    return process_order(order, _worker_cfg, _worker_root, line=line)


def _run_photo(ref_index: int, order: Order) -> PhotoResult:
    if _worker_cfg is None or _worker_root is None:
        raise RuntimeError("worker not initialised")
    return process_photo(order.photos[ref_index], order, _worker_cfg, _worker_root)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_serial(items: Iterable[tuple[Order, int]], cfg: Config, photo_root: Path) -> Iterator[OrderResult]:
    """Each order's result, computed in this process (no isolation)."""
    for order, line in items:
        yield process_order(order, cfg, photo_root, line=line)


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, hung workers included (the executor has no public way to kill its processes)."""
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join(timeout=5)


def _isolated(order: Order, line: int, cfg: Config, photo_root: Path, timeout: float) -> OrderResult:
    """Redo one order photo by photo, each in a process of its own; a photo that crashes it is skipped."""
    photos: list[PhotoResult] = []
    for i, ref in enumerate(order.photos):
        pool = _new_pool(1, cfg, photo_root)
        try:
            photos.append(pool.submit(_run_photo, i, order).result(timeout=timeout))
        except FutureTimeout:
            log.error("order %s photo %s: inspection hung (> %.0f s); not inspected", order.order_id, ref.file,
                      timeout)
            photos.append(crashed_photo(ref, f"no result within {timeout:.0f} s"))
        except BrokenProcessPool:
            log.error("order %s photo %s: the inspecting process died; not inspected", order.order_id, ref.file)
            photos.append(crashed_photo(ref, "the inspecting process died"))
        finally:
            _kill(pool)
    return finish_order(order, cfg, tuple(photos), line=line)


class _Pool:
    def __init__(self, workers: int, cfg: Config, photo_root: Path) -> None:
        self.args = (workers, cfg, photo_root)
        self.pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return _new_pool(*self.args)

    def submit(self, order: Order, line: int) -> Future[OrderResult]:
        return self.pool.submit(_run, order, line)

    def restart(self) -> None:
        _kill(self.pool)
        self.pool = self._new()

    def close(self) -> None:
        _kill(self.pool)


def run_orders(items: Iterable[tuple[Order, int]], cfg: Config, photo_root: Path,
               workers: int) -> Iterator[OrderResult]:
    """Yield each order's result in input order, computed on ``workers`` isolated processes."""
    timeout = cfg.limits.order_timeout_seconds
    pool = _Pool(max(1, workers), cfg, photo_root)
    window: deque[tuple[Order, int, Future[OrderResult]]] = deque()

    def take() -> OrderResult:
        order, line, fut = window.popleft()
        try:
            return fut.result(timeout=timeout)
        except (BrokenProcessPool, FutureTimeout) as e:
            why = "a worker died" if isinstance(e, BrokenProcessPool) else f"no result within {timeout:.0f} s"
            log.error("order %s: %s; redoing it photo by photo", order.order_id, why)
            pool.restart()
            for i, (o, ln, f) in enumerate(window):  # keep results that came back; resubmit the others
                if not (f.done() and not f.cancelled() and f.exception() is None):
                    window[i] = (o, ln, pool.submit(o, ln))
            return _isolated(order, line, cfg, photo_root, timeout)

    try:
        for order, line in items:
            window.append((order, line, pool.submit(order, line)))
            if len(window) >= max(1, workers) * 4:
                yield take()
        while window:
            yield take()
    finally:
        pool.close()

"""Running the per-order work: in this process, or on a pool of local worker processes.

Results come back in input order through a bounded window, so memory stays flat however long the
night is. The worker processes get the config once (initializer), not with every order.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from wocheck.config import Config
from wocheck.pipeline.work import OrderResult, process_order
from wocheck.records import Order

_worker_cfg: Config | None = None
_worker_root: Path | None = None


def _init_worker(cfg: Config, photo_root: Path) -> None:
    global _worker_cfg, _worker_root
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract: one thread per worker process
    _worker_cfg, _worker_root = cfg, photo_root
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - OpenCV is a dependency
        pass


def _run(order: Order, line: int) -> OrderResult:
    if _worker_cfg is None or _worker_root is None:
        raise RuntimeError("worker not initialised")
    return process_order(order, _worker_cfg, _worker_root, line=line)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_orders(items: Iterable[tuple[Order, int]], cfg: Config, photo_root: Path,
               workers: int) -> Iterator[OrderResult]:
    """Yield each order's result in input order; ``workers <= 1`` runs in this process."""
    if workers <= 1:
        for order, line in items:
            yield process_order(order, cfg, photo_root, line=line)
        return
    window: deque[Future[OrderResult]] = deque()
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(cfg, photo_root)) as pool:
        for order, line in items:
            window.append(pool.submit(_run, order, line))
            if len(window) >= workers * 4:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

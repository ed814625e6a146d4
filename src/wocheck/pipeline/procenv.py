"""Settings of a worker process (the local pool's or a Dask worker), made once when it starts work.

- **One thread per engine**: OpenCV's thread pool, tesseract's OpenMP threads and the BLAS under numpy each
  start a thread per core by default. Workers are one per core already, so those threads only contend —
  and OpenBLAS's spin while they wait for work (threadpoolctl limits a BLAS already loaded).
- **A heap that keeps image buffers**: glibc serves blocks from its heap below an mmap threshold and maps
  larger ones afresh, faulting in and zeroing every page each time. Its dynamic threshold, which rises as
  large blocks are freed, stays below a worker's busy mix of 1-36 MB image buffers, and a Dask nanny turns
  it off altogether (``MALLOC_TRIM_THRESHOLD_=65536`` in ``distributed.nanny.pre-spawn-environ``; any such
  variable does). Fixing the thresholds at the dynamic maximum (32 MB, trim at twice that) measured, on
  230 photos of bench250-11 with 2 local workers (`scripts/bench_cluster.py`): 28.4 → 20.7 CPU-s, 14.9 →
  10.8 s; 64 MB gained nothing more. glibc only.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

# glibc's mallopt parameters (malloc.h) and the largest value its dynamic mmap threshold reaches by itself
# (DEFAULT_MMAP_THRESHOLD_MAX on 64 bits); trim at twice that, as the dynamic rule sets it.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 2**20
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES


def limit_threads() -> None:
    """One thread for OpenCV, tesseract (OpenMP, read when it starts) and the BLAS in this process."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    import cv2
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(1)
    threadpool_limits(1)


def keep_heap() -> bool:
    """Fix glibc's malloc thresholds so that freed image buffers are reused; False where it isn't glibc."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                    and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc
        return False


def prepare_worker() -> None:
    """Both of the above, once at the start of a worker process."""
    limit_threads()
    if keep_heap():
        log.debug("worker %d: malloc thresholds fixed at %d MB", os.getpid(), MMAP_THRESHOLD_BYTES >> 20)

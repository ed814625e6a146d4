"""A worker process's settings (`wocheck.pipeline.procenv`), each in a fresh process.

A Dask worker started by its nanny has ``MALLOC_TRIM_THRESHOLD_`` set, which turns glibc's dynamic mmap
threshold off: every image-sized buffer is mapped, faulted in and unmapped afresh; `keep_heap` gives the
reuse back, and also keeps the buffers a plain process's dynamic threshold would let go (above its 3 MB
ones). Measured by page faults. `limit_threads` leaves the BLAS one thread."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or not platform.libc_ver()[0].startswith("glibc"),
                                reason="glibc's malloc only")

_PROBE = """
import resource
import numpy as np
from wocheck.pipeline.procenv import keep_heap

def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):
        a = np.ones(3 * 2**20, dtype=np.uint8)  # 3 MB: a 1000-px colour preview (numpy asks for huge pages from 4 MB)
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults()  # numpy's own first-use costs out of the way
before = faults()
changed = keep_heap()
print(before, int(changed), faults())
"""


def _run(env_extra: dict[str, str]) -> tuple[int, bool, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", _PROBE], env={**env, **env_extra}, capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    return int(out[0]), bool(int(out[1])), int(out[2])


def test_the_nanny_environment_is_undone_in_the_worker() -> None:
    before, changed, after = _run({"MALLOC_TRIM_THRESHOLD_": "65536"})  # distributed's pre-spawn default
    pages = 40 * 3 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    assert before > pages // 2  # each buffer faulted in afresh: the cost being fixed
    assert changed
    assert after < before // 10  # buffers reused from the heap


def test_a_plain_process_keeps_reusing() -> None:
    before, changed, after = _run({})
    pages = 40 * 3 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    assert before < pages // 10  # glibc's dynamic threshold reuses buffers of this size already …
    assert changed and after < pages // 10  # … and still does with the thresholds fixed


def test_the_blas_gets_one_thread() -> None:
    probe = ("import numpy, threadpoolctl\n"
             "from wocheck.pipeline.procenv import limit_threads\n"
             "limit_threads()\n"
             "print(max(i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True,
                         timeout=120).stdout
    assert int(out) == 1

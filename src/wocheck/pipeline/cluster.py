"""Running the per-order work on a Dask distributed cluster (``wocheck scan --cluster``).

The parent sends each order to a running Dask scheduler (``--cluster tcp://HOST:8786``) or to a
`distributed.LocalCluster` of worker processes it starts on this machine (``--cluster local``). Workers
read the photos from ``photo_root``, a path every worker sees (a shared filesystem); only the results
travel back. As with the local executor, results come back in input order through a bounded window, and
only the parent writes files and the history. After the orders, the same workers draw the report's
thumbnails of flagged orders (they see the photos; the JPEGs come back and the parent writes them), so
the scan host needs no cores of its own for them.

The config travels once: it is scattered to every worker (broadcast) and each task refers to it. Each
worker process restores the parent's inspector registry and prepares itself (`procenv`: one thread per
engine, malloc thresholds) once, on its first task (cached per process), so a cluster started with no
knowledge of wocheck runs exactly the parent's inspectors.

Faults: a worker that dies mid-task costs only time, since the scheduler gives its tasks to another
worker; a task that raises is retried (``retries``). An order whose task still fails (the scheduler gave
up on it after it killed ``distributed.scheduler.allowed-failures`` workers) or that gives no result
within ``limits.order_timeout_seconds`` is redone photo by photo, each photo a task of its own; a photo
that fails again is marked "not inspected", as the local executor does. A hung task can't be stopped
inside a Dask worker, so the worker process running it is ended; its nanny (`dask worker` and
LocalCluster have one by default) starts a new one, and the scheduler gives its other tasks to others.
A scheduler that goes away is waited for (the client reconnects within ``CONNECT_TIMEOUT_SECONDS``); if it
doesn't come back the scan stops with a `ClusterError`, never marking a photo "not inspected" for it: the
orders done are in the history, and the same scan run again replays them and goes on.

Dask's own settings for these processes ship in ``pipeline/dask.yaml`` (its profiler off, its monitors
polling less often, this module preloaded by every worker: `dask_setup`): `start_local_cluster` applies
them to the LocalCluster it starts, and docs/scaling.md has ``dask scheduler`` and ``dask worker`` read the
same file (``DASK_CONFIG``).

`distributed` is an optional dependency (the ``cluster`` extra), imported only here and only when a
cluster is asked for.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wocheck.config import Config
from wocheck.errors import WocheckError
from wocheck.pipeline import registry
from wocheck.pipeline.procenv import prepare_worker
from wocheck.pipeline.work import OrderResult, PhotoResult, crashed_photo, finish_order, process_order, process_photo
from wocheck.records import Order

if TYPE_CHECKING:
    from distributed import Client, Future

    from wocheck.report.html import ThumbTask

log = logging.getLogger(__name__)

DASK_SETTINGS = Path(__file__).with_name("dask.yaml")  # Dask settings for the scan's scheduler and workers
LOCAL = "local"  # the --cluster value that starts a LocalCluster on this machine
TASK_RETRIES = 2  # a task that raises is run again this many times (a worker that dies is not counted)
WINDOW_PER_THREAD = 4  # orders in flight per worker thread, as the local executor keeps per process
CONNECT_TIMEOUT_SECONDS = 30.0  # how long to wait for the scheduler before giving up
ISOLATED_ATTEMPTS = 2  # an order or photo is submitted again once if the scheduler cancelled it

_restored: registry.Snapshot | None = None  # the snapshot this worker process last restored


class ClusterError(WocheckError):
    """The cluster can't be used: `distributed` missing, or the scheduler unreachable."""


def _prepare(inspectors: registry.Snapshot) -> None:
    """Make this worker process run the parent's inspectors, prepared as `procenv` says; once per process."""
    global _restored
    if _restored != inspectors:
        prepare_worker()  # one thread per engine; malloc thresholds fixed (the nanny's MALLOC_* undone)
        registry.restore(inspectors)
        _restored = inspectors


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run as a worker starts (``distributed.worker.preload`` in ``pipeline/dask.yaml``
    names this module): the worker prepared as `procenv` says and the inspectors imported before its first
    task, so that neither a night's first orders nor a worker its nanny restarts pay for them. Only the
    default registry: a scan with other inspectors restores its own on its first task."""
    _prepare(registry.snapshot())
    registry.load_all()
    log.debug("worker %s: ready", getattr(worker, "address", worker))


def _run_order(order: Order, line: int, cfg: Config, photo_root: str, inspectors: registry.Snapshot) -> OrderResult:
    """The task for one order, run on a worker."""
    _prepare(inspectors)
    return process_order(order, cfg, Path(photo_root), line=line)


def _run_photo(index: int, order: Order, cfg: Config, photo_root: str,
               inspectors: registry.Snapshot) -> PhotoResult:
    """The task for one photo of an order that failed as a whole, run on a worker."""
    _prepare(inspectors)
    return process_photo(order.photos[index], order, cfg, Path(photo_root))


def _render_thumbs(tasks: tuple[ThumbTask, ...], inspectors: registry.Snapshot) -> list[bytes | None]:
    """The task for a chunk of the report's thumbnails, run on a worker: their JPEGs."""
    from wocheck.report.html import render_thumb

    _prepare(inspectors)
    return [render_thumb(t) for t in tasks]


async def _exit_process() -> None:
    """End this worker process now (sent to a worker whose thread hangs: a thread can't be stopped).

    A coroutine: Dask runs it on the worker's event loop, the only way `Client.run` doesn't wait for a reply.
    """
    os._exit(1)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as e:
        raise ClusterError("--cluster needs the Dask distributed package: pip install 'wocheck[cluster]'") from e
    return distributed


def dask_settings() -> dict[str, Any]:
    """``pipeline/dask.yaml`` as dotted Dask config keys (``{"distributed.worker.profile.enabled": False, …}``)."""
    import yaml  # PyYAML: a dependency of dask

    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        else:
            flat[prefix] = node

    walk(yaml.safe_load(DASK_SETTINGS.read_text(encoding="utf-8")), "")
    return flat


def start_local_cluster(workers: int) -> Any:
    """A `distributed.LocalCluster` of ``workers`` processes of 1 thread each, with wocheck's Dask settings.

    The scheduler runs in this process; no dashboard (its HTTP server on a free port, never a clash with
    another cluster's 8787). The settings are read when the processes start (each nanny hands them to its
    worker), so they hold for the cluster's life. Close it (a context manager) when done.
    """
    distributed = _import_distributed()
    import dask

    with dask.config.set(dask_settings()):
        return distributed.LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                        dashboard_address=None,
                                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


def _connect(stack: ExitStack, cluster: str, workers: int, connect_timeout: float) -> Client:
    """A client of the scheduler at ``cluster``, or of a LocalCluster of ``workers`` processes it starts."""
    distributed = _import_distributed()
    if not log.isEnabledFor(logging.INFO):  # Dask logs every start and stop at INFO; keep stderr quiet unless -v
        logging.getLogger("distributed").setLevel(logging.WARNING)
    try:
        if cluster == LOCAL:
            return stack.enter_context(distributed.Client(stack.enter_context(start_local_cluster(workers))))
        return stack.enter_context(distributed.Client(cluster, timeout=connect_timeout))
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"can't reach the Dask scheduler at {cluster}: {e}; start it with `dask scheduler` "
                           f"(and workers with `dask worker {cluster}`), or use --cluster local") from e


def _threads(client: Client) -> int:
    return max(1, sum(client.nthreads().values()))


class DaskCluster:
    """One scan's use of a Dask cluster: its orders (`run_orders`), then its report's thumbnails (`render_thumbs`).

    ``cluster``: a scheduler address (``tcp://host:8786``) or ``"local"`` for a LocalCluster of ``workers``
    processes (``workers`` is ignored for a scheduler address: its workers are whatever joined it). A
    context manager: entering connects (raises `ClusterError` if the cluster can't be used), leaving
    disconnects and stops a LocalCluster it started.
    """

    def __init__(self, cluster: str, workers: int = 1, *, connect_timeout: float | None = None) -> None:
        self.cluster, self.workers = cluster, workers
        self.connect_timeout = CONNECT_TIMEOUT_SECONDS if connect_timeout is None else connect_timeout
        self.inspectors = registry.snapshot()
        self._stack = ExitStack()
        self._client: Client | None = None

    def __enter__(self) -> DaskCluster:
        with ExitStack() as stack:
            self._client = _connect(stack, self.cluster, self.workers, self.connect_timeout)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._client = None
        self._stack.close()

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("DaskCluster used outside its with-block")
        return self._client

    def run_orders(self, items: Iterable[tuple[Order, int]], cfg: Config, photo_root: Path
                   ) -> Iterator[OrderResult]:
        """Yield each order's result in input order, computed on the cluster.

        ``photo_root`` must be the same path on every worker.
        """
        client, inspectors = self.client, self.inspectors
        timeout = cfg.limits.order_timeout_seconds
        root = str(Path(photo_root).resolve())
        cfg_ref = [client.scatter(cfg, broadcast=True)]
        window_size = _threads(client) * WINDOW_PER_THREAD
        log.info("cluster %s: %d worker thread(s), %d orders in flight", self.cluster, _threads(client),
                 window_size)
        window: deque[tuple[Order, int, Future]] = deque()
        done = 0  # results yielded

        def connected() -> None:
            """Raise `ClusterError` if the scheduler is gone: a task lost with it says nothing of its order."""
            if client.status != "running":
                raise ClusterError(f"lost the Dask scheduler at {self.cluster} after {done} orders; those are in "
                                   "the history: run the same scan again to go on (they are replayed, not redone)")

        def config() -> Future:
            """The scattered config; scattered again if every worker holding it died or was restarted."""
            if cfg_ref[0].status != "finished":
                log.warning("the config held on the workers was lost (%s); sending it again", cfg_ref[0].status)
                cfg_ref[0] = client.scatter(cfg, broadcast=True, hash=False)
            return cfg_ref[0]

        def submit(order: Order, line: int) -> Future:
            return client.submit(_run_order, order, line, config(), root, inspectors, pure=False,
                                 retries=TASK_RETRIES)

        def free(fut: Future) -> None:
            """Cancel a hung task and end the worker process running it (its nanny starts a new one)."""
            busy = [w for w, keys in client.processing().items() if fut.key in keys]
            fut.cancel()
            if busy:
                log.warning("ending worker(s) %s, stuck on a hung task", busy)
                client.run(_exit_process, workers=busy, wait=False)

        def isolated(order: Order, line: int) -> OrderResult:
            photos: list[PhotoResult] = []
            for i in range(len(order.photos)):  # one at a time: a photo that kills its worker kills no other
                photos.append(isolated_photo(i, order))
            return finish_order(order, cfg, tuple(photos), line=line)

        def isolated_photo(i: int, order: Order) -> PhotoResult:
            ref = order.photos[i]
            for attempt in range(ISOLATED_ATTEMPTS):
                fut = client.submit(_run_photo, i, order, config(), root, inspectors, pure=False)
                try:
                    result: PhotoResult = fut.result(timeout=timeout)
                    return result
                except TimeoutError:
                    log.error("order %s photo %s: inspection hung (> %.0f s); not inspected", order.order_id,
                              ref.file, timeout)
                    free(fut)
                    return crashed_photo(ref, f"no result within {timeout:.0f} s")
                except Exception as e:  # the worker running it died again, or the inspection raised
                    connected()
                    if fut.cancelled() and attempt + 1 < ISOLATED_ATTEMPTS:
                        continue  # cancelled by the scheduler, not by the photo: its input (the config) was lost
                    log.error("order %s photo %s: %s; not inspected", order.order_id, ref.file, e)
                    return crashed_photo(ref, "the inspecting worker failed")
            raise AssertionError("unreachable")  # pragma: no cover

        def take() -> OrderResult:
            order, line, fut = window.popleft()
            why = ""
            for attempt in range(ISOLATED_ATTEMPTS):
                try:
                    result: OrderResult = fut.result(timeout=timeout)
                    return result
                except TimeoutError:
                    why = f"no result within {timeout:.0f} s"
                    free(fut)
                    break
                except Exception as e:  # KilledWorker (it killed workers repeatedly) or an error after retries
                    why = f"{type(e).__name__}: {e}"
                    if not (fut.cancelled() and attempt + 1 < ISOLATED_ATTEMPTS):
                        break
                    fut = submit(order, line)  # cancelled by the scheduler (its config was lost): once more
            connected()
            log.error("order %s: %s; redoing it photo by photo", order.order_id, why)
            return isolated(order, line)

        try:
            for order, line in items:
                window.append((order, line, submit(order, line)))
                if len(window) >= window_size:
                    yield take()
                    done += 1
            while window:
                yield take()
                done += 1
        except ClusterError:
            raise
        except Exception:  # the client gave up reconnecting (OSError), or an order's task was lost with it
            connected()
            raise
        finally:
            for _, _, fut in window:
                fut.cancel()

    def render_thumbs(self, chunks: Sequence[Sequence[ThumbTask]]) -> Iterator[list[bytes | None]]:
        """Draw the report's thumbnails on the workers, which see the photos; only the JPEGs come back.

        Chunk by chunk in the order given (a `wocheck.report.html.ThumbRenderer`). A worker that dies costs
        only time; if the cluster can't finish a chunk, the error is raised and the caller draws the rest.
        """
        client, inspectors = self.client, self.inspectors
        futures = [client.submit(_render_thumbs, tuple(replace(t, source=t.source.resolve()) for t in chunk),
                                 inspectors, pure=False, retries=TASK_RETRIES)
                   for chunk in chunks]  # (absolute paths: a worker's working directory is its own)
        try:
            for fut in futures:
                images: list[bytes | None] = fut.result()
                yield images
        finally:
            client.cancel(futures)

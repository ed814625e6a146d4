"""The scan on Dask distributed: a real scheduler and two real workers as OS processes on localhost.

The cluster's outputs must be the local process pool's, record for record (order aside), also when a
worker is killed in the middle of the scan, with ``--cluster local``, and with the history in PostgreSQL
(a throwaway server, `_pg`) instead of SQLite. A hung task: tests/test_cluster_hang.py.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from _pg import pg_server, pg_url  # noqa: F401  (fixtures)
from wocheck.config import Config
from wocheck.pipeline.scan import ScanSettings, ScanSummary, run_scan

distributed = pytest.importorskip("distributed", reason="the Dask 'distributed' package (extra 'cluster') is "
                                                        "not installed")

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample"
ORDERS = 6  # the first orders of the committed sample: enough work to kill a worker mid-scan, yet quick
START_TIMEOUT = 60.0

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (SAMPLE / "orders.jsonl").exists(), reason="committed sample not present")]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("night")
    lines = (SAMPLE / "orders.jsonl").read_text(encoding="utf-8").splitlines()[:ORDERS]
    (d / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d / "orders.jsonl"


def _scan(night: Path, out: Path, cfg: Config, **kw: Any) -> ScanSummary:
    return run_scan(ScanSettings(orders_path=night, photo_root=SAMPLE / "photos", out_dir=out,
                                 db_path=out.parent / f"{out.name}.sqlite", **kw), cfg)


def _outputs(out: Path) -> dict[str, list[str]]:
    """Each output's records as sorted canonical JSON (CSV rows as JSON lists)."""
    def jsonl(name: str) -> list[str]:
        text = (out / name).read_text(encoding="utf-8")
        return sorted(json.dumps(json.loads(x), sort_keys=True, ensure_ascii=False) for x in text.splitlines())

    with (out / "summary.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = sorted(json.dumps(r, ensure_ascii=False) for r in csv.reader(f))
    thumbs = sorted(f"{t.name} {hashlib.sha256(t.read_bytes()).hexdigest()}"
                    for t in (out / "report" / "thumbs").glob("*"))
    return {"violations": jsonl("violations.jsonl"), "input_errors": jsonl("input_errors.jsonl"), "summary": rows,
            "thumbnails": thumbs}


def _counts(s: ScanSummary) -> tuple[Any, ...]:
    return (s.orders, s.orders_flagged, s.photos, s.violations, s.reviews, s.input_errors, dict(s.by_clause))


@pytest.fixture(scope="module")
def local_run(night: Path, tmp_path_factory: pytest.TempPathFactory, cfg_module: Config
              ) -> tuple[ScanSummary, dict[str, list[str]]]:
    out = tmp_path_factory.mktemp("local") / "out"
    summary = _scan(night, out, cfg_module, workers=2)
    outputs = _outputs(out)
    assert summary.violations + summary.reviews > 0 and outputs["thumbnails"]  # the comparisons compare something
    return summary, outputs


@pytest.fixture
def no_thumbnails_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thumbnail drawn in this process fails the test: on a cluster, its workers draw them."""
    from wocheck.report import html

    def here(task: Any) -> bytes | None:
        raise AssertionError(f"thumbnail of {task.source} drawn on the scan host")

    monkeypatch.setattr(html, "render_thumb", here)


@pytest.fixture(scope="module")
def cfg_module() -> Config:
    from wocheck.config import load_config

    return load_config(None)


class _Cluster:
    def __init__(self, address: str, workers: list[subprocess.Popen[bytes]]) -> None:
        self.address = address
        self.workers = workers


def _wait(what: str, cond: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {START_TIMEOUT:.0f} s")
        time.sleep(0.2)


@contextmanager
def dask_processes(d: Path, *, nanny: bool, env: dict[str, str] | None = None
                   ) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """``dask scheduler`` and two ``dask worker`` processes (1 thread each) in ``d``: their address and the
    worker processes (without nannies, killing one kills that worker; with them, the nanny restarts it).
    They read wocheck's Dask settings as docs/scaling.md says: ``DASK_CONFIG`` names ``pipeline/dask.yaml``."""
    from wocheck.pipeline.cluster import DASK_SETTINGS

    sched_file = d / "scheduler.json"
    env = {**(dict(os.environ) if env is None else env), "DASK_CONFIG": str(DASK_SETTINGS)}
    procs: list[subprocess.Popen[bytes]] = []
    log = (d / "dask.log").open("wb")
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(sched_file)], stdout=log, stderr=log, env=env, cwd=d))
        _wait("the scheduler", lambda: sched_file.exists() and sched_file.stat().st_size > 0)
        workers = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(sched_file),
             "--nworkers", "1", "--nthreads", "1", *([] if nanny else ["--no-nanny"]), "--no-dashboard",
             "--host", "127.0.0.1", "--name", f"w{i}", "--local-directory", str(d / f"w{i}")],
            stdout=log, stderr=log, env=env, cwd=d) for i in range(2)]
        procs.extend(workers)
        address = json.loads(sched_file.read_text(encoding="utf-8"))["address"]
        with distributed.Client(address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
        yield address, workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Cluster]:
    """``dask scheduler`` and two ``dask worker`` processes (no nanny: killing one kills the worker)."""
    with dask_processes(tmp_path_factory.mktemp("dask"), nanny=False) as (address, workers):
        yield _Cluster(address, workers)


def test_cluster_scan_equals_local_scan(night: Path, tmp_path: Path, cfg_module: Config, cluster: _Cluster,
                                        local_run: tuple[ScanSummary, dict[str, list[str]]],
                                        no_thumbnails_here: None) -> None:
    summary = _scan(night, tmp_path / "out", cfg_module, workers=2, cluster=cluster.address)
    assert _counts(summary) == _counts(local_run[0])
    assert _outputs(tmp_path / "out") == local_run[1]


def _check_settings_in_force(client: Any) -> None:
    """The scheduler and every worker run as wocheck's Dask settings say: their periodic callbacks' intervals
    (what the settings change; a config value read after start-up would prove nothing)."""
    from dask.utils import parse_timedelta

    from wocheck.pipeline.cluster import dask_settings

    want = dask_settings()

    def ms(key: str) -> float:
        return float(parse_timedelta(want[key]) * 1000)

    def intervals(dask_scheduler: Any = None, dask_worker: Any = None) -> dict[str, float]:
        server = dask_scheduler or dask_worker
        return {name: float(pc.callback_time) for name, pc in server.periodic_callbacks.items()}

    servers = {"scheduler": client.run_on_scheduler(intervals), **client.run(intervals)}
    assert len(servers) >= 2, servers
    for name, got in servers.items():
        assert got["monitor"] == ms("distributed.admin.system-monitor.interval"), (name, got)
        assert got["tick"] == ms("distributed.admin.tick.interval"), (name, got)
        if name != "scheduler":
            assert "profile" not in got and "profile-cycle" not in got, (name, got)  # the profiler is off

    def preloads(dask_worker: Any) -> list[str]:
        return [p.name for p in dask_worker.preloads]

    assert set(map(tuple, client.run(preloads).values())) == {tuple(want["distributed.worker.preload"])}


def test_dask_settings_are_the_shipped_file() -> None:
    import dask

    from wocheck.pipeline.cluster import dask_settings

    settings = dask_settings()
    assert settings["distributed.worker.profile.enabled"] is False
    assert settings["distributed.worker.preload"] == ["wocheck.pipeline.cluster"]
    assert settings["distributed.admin.system-monitor.interval"] == "2s"
    # every key is one Dask knows (Dask would silently ignore a misspelt one)
    assert all(dask.config.get(k, default=KeyError) is not KeyError for k in settings), settings


def test_dask_processes_started_as_documented_run_with_the_settings(cluster: _Cluster) -> None:
    with distributed.Client(cluster.address, timeout=START_TIMEOUT) as client:
        _check_settings_in_force(client)


def test_local_cluster_runs_with_the_settings() -> None:
    import dask
    from dask.utils import parse_timedelta

    from wocheck.pipeline.cluster import dask_settings, start_local_cluster

    def ready() -> dict[str, Any]:
        """What the preload did in a worker that has run no task."""
        import cv2

        from wocheck.pipeline import cluster

        return {"inspectors": sorted(m for m in sys.modules if m.startswith("wocheck.inspectors.")),
                "opencv_threads": cv2.getNumThreads(), "prepared": cluster._restored is not None}

    with start_local_cluster(1) as local, distributed.Client(local) as client:
        (got,) = client.run(ready).values()
        _check_settings_in_force(client)
        nanny_ms = {n.periodic_callbacks["memory_monitor"].callback_time for n in local.workers.values()}
    assert got["prepared"] and got["opencv_threads"] == 1, got
    assert {"wocheck.inspectors.form", "wocheck.inspectors.codes", "wocheck.inspectors.scenes",
            "wocheck.inspectors.pipes", "wocheck.inspectors.authenticity"} <= set(got["inspectors"]), got
    assert nanny_ms == {parse_timedelta(dask_settings()["distributed.worker.memory.monitor-interval"]) * 1000}
    assert dask.config.get("distributed.worker.profile.enabled") is True  # this process's own config untouched


def test_a_worker_killed_mid_scan_costs_only_time(night: Path, tmp_path: Path, cfg_module: Config,
                                                  cluster: _Cluster,
                                                  local_run: tuple[ScanSummary, dict[str, list[str]]]) -> None:
    victim = cluster.workers[0]
    assert victim.poll() is None
    killed = threading.Event()

    def kill_when_busy() -> None:
        """Kill the victim worker once it is running one of the scan's tasks."""
        with distributed.Client(cluster.address, timeout=START_TIMEOUT) as watcher:
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                busy = [w for w, tasks in watcher.processing().items() if tasks]
                info = watcher.scheduler_info()["workers"]
                if any(info.get(w, {}).get("name") == "w0" for w in busy):
                    time.sleep(0.3)  # mid-task
                    victim.send_signal(signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.05)

    t = threading.Thread(target=kill_when_busy, daemon=True)
    t.start()
    summary = _scan(night, tmp_path / "out", cfg_module, workers=2, cluster=cluster.address)
    t.join(timeout=START_TIMEOUT)
    assert killed.is_set(), "the victim worker never ran a task"
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert _counts(summary) == _counts(local_run[0])
    assert _outputs(tmp_path / "out") == local_run[1]


def test_cluster_scan_into_postgres_equals_local_sqlite_scan(
        night: Path, tmp_path: Path, cfg_module: Config, cluster: _Cluster,
        local_run: tuple[ScanSummary, dict[str, list[str]]], pg_url: str) -> None:  # noqa: F811
    """(``pg_url`` skips, with the reason, where no PostgreSQL server can be started.)"""
    from wocheck.history.store import open_store

    summary = run_scan(ScanSettings(orders_path=night, photo_root=SAMPLE / "photos", out_dir=tmp_path / "out",
                                    workers=2, db_path=Path(pg_url), cluster=cluster.address), cfg_module)
    assert _counts(summary) == _counts(local_run[0])
    assert _outputs(tmp_path / "out") == local_run[1]
    with open_store(pg_url) as store:
        counts = store.counts()
    assert (counts["orders"], counts["photos"], counts["scans"]) == (summary.orders, summary.photos, 1)
    assert counts["findings"] > 0


def test_cluster_local(night: Path, tmp_path: Path, cfg_module: Config,
                       local_run: tuple[ScanSummary, dict[str, list[str]]], no_thumbnails_here: None) -> None:
    summary = _scan(night, tmp_path / "out", cfg_module, workers=2, cluster="local")
    assert _counts(summary) == _counts(local_run[0])
    assert _outputs(tmp_path / "out") == local_run[1]


def test_a_scheduler_lost_mid_scan_stops_it_clearly_and_a_rerun_goes_on(
        night: Path, tmp_path: Path, cfg_module: Config, monkeypatch: pytest.MonkeyPatch,
        local_run: tuple[ScanSummary, dict[str, list[str]]]) -> None:
    """The scheduler killed after the scan's first result: the scan stops with `ClusterError` once the client
    gives up reconnecting (no photo is marked "not inspected" for it); the orders done are in the history,
    and the same scan run again (here on the local pool) replays them and ends with the local run's outputs."""
    import psutil

    from wocheck.pipeline import cluster as cluster_mod
    from wocheck.pipeline.cluster import ClusterError

    monkeypatch.setattr(cluster_mod, "CONNECT_TIMEOUT_SECONDS", 3.0)
    out = tmp_path / "out"
    (tmp_path / "dask").mkdir()
    with dask_processes(tmp_path / "dask", nanny=False) as (address, _):
        (scheduler,) = [p for p in psutil.Process().children() if "distributed.cli.dask_scheduler" in p.cmdline()
                        and str(tmp_path / "dask" / "scheduler.json") in p.cmdline()]  # this test's, not the module's
        killed = threading.Event()

        def kill_after_first_order() -> None:
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                log = out / "scan.log.jsonl"
                if log.is_file() and '"event": "order_done"' in log.read_text(encoding="utf-8"):
                    scheduler.kill()
                    killed.set()
                    return
                time.sleep(0.02)

        t = threading.Thread(target=kill_after_first_order, daemon=True)
        t.start()
        with pytest.raises(ClusterError, match=r"lost the Dask scheduler at .* after \d+ orders"):
            _scan(night, out, cfg_module, workers=2, cluster=address)
        t.join(timeout=START_TIMEOUT)
    assert killed.is_set()
    assert not (out / "violations.jsonl").exists() and (out / "violations.jsonl.partial").is_file()
    assert "scan_failed" in (out / "scan.log.jsonl").read_text(encoding="utf-8")

    summary = _scan(night, out, cfg_module, workers=2)
    assert 1 <= summary.replayed < ORDERS
    assert _counts(summary) == _counts(local_run[0])
    assert _outputs(out) == local_run[1]


def test_unreachable_scheduler_is_a_usage_error(tmp_path: Path, cfg_module: Config) -> None:
    from wocheck.errors import ExitCode
    from wocheck.pipeline.cluster import ClusterError, DaskCluster

    with pytest.raises(ClusterError, match="can't reach the Dask scheduler") as e:
        with DaskCluster("tcp://127.0.0.1:9", connect_timeout=2.0):
            pass
    assert e.value.exit_code == ExitCode.bad_input


def test_crash_and_raise_cost_one_photo_on_the_cluster(tmp_path: Path, cfg_module: Config,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that kills its worker or raises costs that photo only, as on the local pool.

    (A hang is not tested here: its cost, the order timeout twice plus a worker restart, would be too
    long for this 2-core machine's test budget.)
    """
    import dask
    import numpy as np
    from PIL import Image

    from conftest import order_dict
    from wocheck.pipeline import registry
    from wocheck.records import Slot

    monkeypatch.setitem(registry._PHOTO, Slot.install_env, [("faulty", "fault_inspectors:faulty")])
    slots = ["service_form", "pipeline_45", "install_env", "machine_running", "code_label"]
    photos = tmp_path / "photos"
    recs = []
    for oid, env in [("WO_A", "env.jpg"), ("WO_SEGV", "env_segv.jpg"), ("WO_RAISE", "env_raise.jpg"),
                     ("WO_B", "env.jpg")]:
        refs = [{"slot": s, "file": f"{oid}/{env if s == 'install_env' else s + '.jpg'}", "uploaded_by": "E1024",
                 "uploaded_at": "2026-12-02T15:38:00+08:00"} for s in slots]
        recs.append(order_dict(order_id=oid, photos=refs))
    rng = np.random.default_rng(0)
    for r in recs:
        for ref in r["photos"]:  # type: ignore[union-attr]
            f = photos / ref["file"]
            f.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), "RGB").save(f, "JPEG")
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    # The scheduler gives up on a task after it killed 2 workers (default 4): keeps the test short.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        summary = run_scan(ScanSettings(orders_path=orders, photo_root=photos, out_dir=out, workers=2,
                                        db_path=tmp_path / "h.sqlite", cluster="local"), cfg_module)
    assert summary.orders == 4
    errors = [json.loads(x) for x in (out / "input_errors.jsonl").read_text(encoding="utf-8").splitlines()]
    failed = {(e["order_id"], e.get("photo")) for e in errors}
    assert failed == {("WO_SEGV", "WO_SEGV/env_segv.jpg")}  # a raising inspector is logged, not fatal
    viols = [json.loads(x) for x in (out / "violations.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not any(v["check"] == "slot.missing" for v in viols)

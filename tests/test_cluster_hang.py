"""A task that hangs on the cluster costs that photo and some time only: the scan finishes with the local
process pool's outputs for the same night (where the same photo hangs too), record for record.

A real ``dask scheduler`` and two ``dask worker`` processes *with* their nannies (as `dask worker` runs by
default): the worker stuck on the hung task is ended, its nanny starts a new one, and the cluster is whole
again after the scan.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import order_dict
from wocheck.config import Config
from wocheck.pipeline import registry
from wocheck.pipeline.scan import ScanSettings, run_scan
from wocheck.records import Slot

distributed = pytest.importorskip("distributed", reason="the Dask 'distributed' package (extra 'cluster') is "
                                                        "not installed")

from test_cluster import _counts, _outputs, dask_processes  # noqa: E402  (after the skip: it needs distributed too)

TESTS = Path(__file__).resolve().parent
START_TIMEOUT = 60.0
ORDER_TIMEOUT = 15.0  # s: short, so that a hang costs little; long enough for a cold worker's imports
SLOTS = ["service_form", "pipeline_45", "install_env", "machine_running", "code_label"]

pytestmark = pytest.mark.slow


@pytest.fixture()
def faulty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """install_env photos go to `fault_inspectors.faulty` (its file name says what to do: here, hang)."""
    monkeypatch.setitem(registry._PHOTO, Slot.install_env, [("faulty", "fault_inspectors:faulty")])


@pytest.fixture()
def night(tmp_path: Path) -> tuple[Path, Path]:
    """Five orders of five small photos; the third order's install photo hangs its inspector."""
    photos = tmp_path / "photos"
    recs = []
    rng = np.random.default_rng(7)
    for oid in ("WO_A", "WO_B", "WO_HANG", "WO_C", "WO_D"):
        env = "env_hang.jpg" if oid == "WO_HANG" else "env.jpg"
        refs = [{"slot": s, "file": f"{oid}/{env if s == 'install_env' else s + '.jpg'}", "uploaded_by": "E1024",
                 "uploaded_at": "2026-12-02T15:38:00+08:00"} for s in SLOTS]
        recs.append(order_dict(order_id=oid, photos=refs))
        for ref in refs:
            f = photos / ref["file"]
            f.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8), "RGB").save(f, "JPEG")
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    return orders, photos


@pytest.fixture()
def nanny_cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two workers, each under its nanny; the workers can import the fault inspectors."""
    d = tmp_path / "dask"
    d.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    with dask_processes(d, nanny=True, env=env) as (address, _):
        yield address


def test_a_hung_task_costs_that_photo_and_time_only(night: tuple[Path, Path], tmp_path: Path, cfg: Config,
                                                    faulty_registry: None, nanny_cluster: str) -> None:
    orders, photos = night
    fast = cfg.model_copy(update={"limits": cfg.limits.model_copy(update={"order_timeout_seconds": ORDER_TIMEOUT})})

    def scan(name: str, cluster: str | None) -> tuple[tuple[object, ...], dict[str, list[str]], float]:
        out = tmp_path / name
        t0 = time.monotonic()
        summary = run_scan(ScanSettings(orders_path=orders, photo_root=photos, out_dir=out, workers=2,
                                        db_path=tmp_path / f"{name}.sqlite", cluster=cluster), fast)
        return _counts(summary), _outputs(out), time.monotonic() - t0

    counts, outputs, seconds = scan("cluster", nanny_cluster)
    local_counts, local_outputs, _ = scan("local", None)

    failed = {(e["order_id"], e["photo"]) for e in map(json.loads, outputs["input_errors"])}
    assert failed == {("WO_HANG", "WO_HANG/env_hang.jpg")}  # that photo only, not inspected
    assert not any(json.loads(v)["check"] == "slot.missing" for v in outputs["violations"])
    assert counts[0] == 5 and counts[2] == 25  # every order and photo went through
    assert counts == local_counts
    assert outputs == local_outputs
    # The hang cost the order's timeout and its photo's, not the inspector's 600 s sleep.
    assert seconds < 2 * ORDER_TIMEOUT + 3 * START_TIMEOUT
    with distributed.Client(nanny_cluster, timeout=START_TIMEOUT) as client:  # the ended worker came back
        client.wait_for_workers(2, timeout=START_TIMEOUT)

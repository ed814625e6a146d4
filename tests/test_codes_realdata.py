"""On real phone photos of printed codes (../shared/realdata/barcodes, skipped when absent): the combined
reader reads every code at least one engine alone reads, and more than the best engine alone."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import SHARED
from wocheck.config import Config
from wocheck.engines.base import Symbology, run_engine
from wocheck.engines.zbar import ZbarEngine
from wocheck.engines.zxing import ZxingEngine
from wocheck.inspectors.codes import CodeThresholds, read_label
from wocheck.io.images import load_photo

ROOT = SHARED / "realdata" / "barcodes"
FORMATS = {"CODE_128": Symbology.code128, "EAN_13": Symbology.ean13}


def _rows() -> list[dict[str, str]]:
    if not (ROOT / "manifest.csv").exists():
        return []
    with (ROOT / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["format"] in FORMATS]


@pytest.mark.slow
@pytest.mark.skipif(not _rows(), reason="../shared/realdata/barcodes not present")
def test_combination_reads_at_least_what_each_engine_reads(cfg: Config) -> None:
    th = CodeThresholds(symbologies=list(FORMATS.values()), ocr=False)
    single = {"zxing": 0, "zbar": 0}
    combined = 0
    for r in _rows():
        path = Path(ROOT / "images" / r["file"])
        photo = load_photo(path)
        gray = photo.preview_gray(th.preview_side)
        alone = {}
        for eng in (ZxingEngine(), ZbarEngine()):
            res = run_engine(eng, gray, th.symbologies, max_pixels=th.engine_max_pixels, timeout_s=5)
            alone[eng.name] = any(c.text == r["expected_text"] for c in res.codes)
            single[eng.name] += alone[eng.name]
        got = any(c.code.text == r["expected_text"] for c in read_label(photo, cfg, th, stop_early=False).codes)
        combined += got
        assert got or not any(alone.values()), f"{r['file']}: an engine alone reads it, the combination not"
    assert combined > max(single.values())

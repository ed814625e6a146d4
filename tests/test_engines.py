"""Engine adapters: tesseract OCR, zxing-cpp and zbar behind one interface; failures are typed results."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from test_codes_synth import code128, qr
from wocheck.engines.base import DecodedCode, EngineErrorKind, Symbology, quad_from_rect, run_engine
from wocheck.engines.tesseract import available_backends, ocr
from wocheck.engines.zbar import ZbarEngine
from wocheck.engines.zxing import ZxingEngine

ENGINES = [ZxingEngine(), ZbarEngine()]
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _line(text: str, size: int = 40, font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"):
    f = ImageFont.truetype(font, size)
    img = Image.new("L", (int(size * 0.7 * len(text)) + 60, size + 30), 255)
    ImageDraw.Draw(img).text((20, 10), text, fill=0, font=f)
    return np.asarray(img)


@pytest.mark.parametrize("backend", available_backends())
def test_ocr_reads_a_printed_sn_line(backend: str) -> None:
    r = ocr(_line("NVK6A2412000731"), whitelist=ALNUM, backend=backend)
    assert r.error is None
    assert r.text.replace(" ", "") == "NVK6A2412000731"
    assert 0.5 < r.confidence <= 1.0
    assert r.words and all(0 <= w.confidence <= 1 for w in r.words)


def test_ocr_whitelist_restricts_output() -> None:
    r = ocr(_line("MAC A4:CF:12"), whitelist="0123456789ABCDEF")
    assert set(r.text) <= set("0123456789ABCDEF \n")


def test_ocr_chinese_line() -> None:
    r = ocr(_line("售后服务单", font="/usr/share/fonts/truetype/arphic/ukai.ttc"), lang="chi_sim")
    if r.error is not None and r.error.kind == EngineErrorKind.unavailable:
        pytest.skip("chi_sim not installed")
    assert "服务" in r.text.replace(" ", "")


def test_ocr_blank_and_degenerate_inputs_are_typed_results() -> None:
    blank = ocr(np.full((40, 200), 255, np.uint8))
    assert blank.error is None and blank.confidence < 0.5  # psm 7 may hallucinate a glyph, never confidently
    assert ocr(np.zeros((0, 0), np.uint8)).error.kind == EngineErrorKind.refused  # type: ignore[union-attr]
    assert ocr(np.zeros((10, 10), np.float32)).error.kind == EngineErrorKind.refused  # type: ignore[arg-type,union-attr]
    assert ocr(_line("A"), lang="xx_none").error.kind == EngineErrorKind.unavailable  # type: ignore[union-attr]
    assert ocr(_line("A"), backend="nope").error.kind == EngineErrorKind.unavailable  # type: ignore[union-attr]


def test_ocr_accepts_bgr() -> None:
    g = _line("NVK4A2401000001")
    r = ocr(np.dstack([g, g, g]), whitelist=ALNUM)
    assert r.text.replace(" ", "") == "NVK4A2401000001"


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_engines_read_code128_and_qr_with_boxes(engine) -> None:  # type: ignore[no-untyped-def]
    img = np.full((400, 900), 255, np.uint8)
    c = np.asarray(code128("NVK6A2412000731", caption=False))
    q = np.asarray(qr("SN:NVK6A2412000731;MAC:A4CF123B9E01"))
    img[20:20 + c.shape[0], 20:20 + c.shape[1]] = c
    img[20:20 + q.shape[0], 600:600 + q.shape[1]] = q
    res = run_engine(engine, img, [Symbology.code128, Symbology.qr], max_pixels=10**7, timeout_s=5)
    assert res.error is None
    by = {c.symbology: c for c in res.codes}
    assert by[Symbology.code128].text == "NVK6A2412000731"
    assert by[Symbology.qr].text == "SN:NVK6A2412000731;MAC:A4CF123B9E01"
    x, y, w, h = by[Symbology.qr].box
    assert 560 <= x <= 640 and w > 100 and h > 100
    x, y, w, h = by[Symbology.code128].box
    assert x < 100 and x + w > 300


def _two_codes() -> np.ndarray:
    img = np.full((400, 900), 255, np.uint8)
    c = np.asarray(code128("NVK6A2412000731", caption=False))
    q = np.asarray(qr("SN:NVK6A2412000731;MAC:A4CF123B9E01"))
    img[20:20 + c.shape[0], 20:20 + c.shape[1]] = c
    img[20:20 + q.shape[0], 600:600 + q.shape[1]] = q
    return img


@pytest.mark.parametrize("density", [2, 3])
def test_zbar_scanning_every_nth_line_reads_the_same_codes_and_boxes(density: int) -> None:
    img, syms = _two_codes(), [Symbology.code128, Symbology.qr]
    every = {c.symbology: c for c in ZbarEngine().decode(img, syms)}
    sparse = {c.symbology: c for c in ZbarEngine(density=density).decode(img, syms)}
    assert set(sparse) == set(every) == {Symbology.code128, Symbology.qr}
    for sym, c in sparse.items():
        assert c.text == every[sym].text
        assert np.allclose(c.box, every[sym].box, atol=2 * density)
    assert ZbarEngine(density=density).decode(img, [Symbology.qr])[0].symbology == Symbology.qr


def test_zbar_density_applies_only_from_its_view_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import wocheck.engines.zbar as zbar_mod

    calls: list[int] = []
    real = zbar_mod._scan
    monkeypatch.setattr(zbar_mod, "_scan", lambda zb, g, s, d: calls.append(d) or real(zb, g, s, d))
    img, syms = _two_codes(), [Symbology.code128]
    assert ZbarEngine(density=2, density_from_side=401).decode(img, syms)  # short side 400: every line
    assert calls == []
    assert ZbarEngine(density=2, density_from_side=400).decode(img, syms)
    assert calls == [2]


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_engines_only_report_requested_symbologies(engine) -> None:  # type: ignore[no-untyped-def]
    q = np.asarray(qr("HELLO"))
    res = run_engine(engine, q, [Symbology.code128], max_pixels=10**7, timeout_s=5)
    assert res.codes == ()


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_engines_on_degenerate_inputs(engine) -> None:  # type: ignore[no-untyped-def]
    for img in (np.zeros((1, 1), np.uint8), np.full((50, 50), 255, np.uint8), np.zeros((3, 200), np.uint8)):
        res = run_engine(engine, img, [Symbology.code128, Symbology.qr], max_pixels=10**7, timeout_s=5)
        assert res.ok and res.codes == ()
    empty = run_engine(engine, np.zeros((0, 5), np.uint8), [Symbology.qr], max_pixels=10**7, timeout_s=5)
    assert empty.error is not None and empty.error.kind == EngineErrorKind.refused
    big = run_engine(engine, np.zeros((100, 100), np.uint8), [Symbology.qr], max_pixels=100, timeout_s=5)
    assert big.error is not None and big.error.kind == EngineErrorKind.refused


class _Crashing:
    name = "crashing"

    def available(self) -> bool:
        return True

    def decode(self, gray, symbologies):  # type: ignore[no-untyped-def]
        raise MemoryError("out of memory in the engine")


class _Slow:
    name = "slow"

    def available(self) -> bool:
        return True

    def decode(self, gray, symbologies):  # type: ignore[no-untyped-def]
        import time

        time.sleep(0.05)
        return (DecodedCode("X", Symbology.qr, quad_from_rect(0, 0, 1, 1), "slow"),)


class _Missing(_Slow):
    name = "missing"

    def available(self) -> bool:
        return False


def test_engine_faults_become_typed_results() -> None:
    img = np.zeros((10, 10), np.uint8)
    crash = run_engine(_Crashing(), img, [Symbology.qr], max_pixels=1000, timeout_s=1)
    assert crash.error is not None and crash.error.kind == EngineErrorKind.crash
    assert "MemoryError" in crash.error.message
    assert not crash.ok and crash.codes == ()
    slow = run_engine(_Slow(), img, [Symbology.qr], max_pixels=1000, timeout_s=0.001)
    assert slow.error is not None and slow.error.kind == EngineErrorKind.timeout
    assert slow.ok and len(slow.codes) == 1  # an overrun keeps what was read
    missing = run_engine(_Missing(), img, [Symbology.qr], max_pixels=1000, timeout_s=1)
    assert missing.error is not None and missing.error.kind == EngineErrorKind.unavailable


def test_decoded_code_mapping_and_box() -> None:
    c = DecodedCode("A", Symbology.qr, quad_from_rect(10, 20, 30, 40), "x")
    assert c.box == (10, 20, 30, 40)
    m = c.mapped(scale=2, dx=100, dy=5)
    assert m.box == (120, 45, 60, 80)
    assert m.center == (150, 85)

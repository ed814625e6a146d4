"""The bad-input scenario set: one orders file in which every kind of broken input of the contract occurs.

`write_bad_input(out, seed)` writes ``orders.jsonl``, ``photos/`` and ``expected.json`` (which lines and
photos must become input errors, which orders must still be checked). Every broken line or photo sits
between good orders, so a test sees that the batch goes on and nothing already written is lost.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import scenes
from .camera import Shot, encode_jpeg, expose
from .orders import Sizes, plan_nights


def _good_photo(rng: np.random.Generator, slot: str) -> bytes:
    content = slot if slot in scenes.DRAW else "install_env"
    base, _ = scenes.DRAW[content](rng, (800, 600))
    return encode_jpeg(expose(rng, base, Shot(size=(800, 600))), None, 70)


def write_bad_input(out: Path, seed: int = 5) -> dict[str, Any]:
    """Write the scenario set under ``out``; returns the expected outcome (also in out/expected.json)."""
    rng = np.random.default_rng([seed, 404])
    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    clean = [o for o in plan_nights(seed, 9, 1, Sizes())[0] if not o.defects]
    base = min(clean, key=lambda o: len(o.photos)).record

    def order(n: int) -> dict[str, Any]:
        rec = copy.deepcopy(base)
        oid = f"WO20261202{9:01d}{n:05d}"
        rec["order_id"] = oid
        for p in rec["photos"]:
            p["file"] = f"{oid}/{Path(p['file']).name}"
        return rec

    def write_photos(rec: dict[str, Any], skip: str | None) -> None:
        for p in rec["photos"]:
            if skip is not None and p["file"].endswith(skip):
                continue
            dest = photos / p["file"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists() and not dest.is_symlink():
                dest.write_bytes(_good_photo(rng, p["slot"]))

    lines: list[str | bytes] = []
    expected_errors: list[dict[str, Any]] = []
    checked: list[str] = []

    def good(n: int, mutate: Any = None, photo_error: tuple[str, str] | None = None) -> dict[str, Any]:
        rec = order(n)
        if mutate:
            mutate(rec)
        write_photos(rec, photo_error[0] if photo_error else None)
        lines.append(json.dumps(rec, ensure_ascii=False))
        checked.append(rec["order_id"])
        if photo_error:
            expected_errors.append({"line": len(lines), "order_id": rec["order_id"], "photo": rec["photos"][0]["file"],
                                    "kind": photo_error[1]})
        return rec

    def bad_line(text: str | bytes, kind: str, order_id: str | None = None) -> None:
        lines.append(text)
        expected_errors.append({"line": len(lines), "order_id": order_id, "kind": kind})

    good(1)
    bad_line('{"order_id": "WO20261202900002", "order_type": "install", "machine_class": "house', "not_json")
    rec = order(3)
    del rec["times"]
    bad_line(json.dumps(rec, ensure_ascii=False), "missing_key", rec["order_id"])
    rec = order(4)
    rec["order_type"] = "instal"
    bad_line(json.dumps(rec, ensure_ascii=False), "unknown_enum", rec["order_id"])
    rec = order(5)
    rec["machine_class"] = "industrial"
    bad_line(json.dumps(rec, ensure_ascii=False), "unknown_enum", rec["order_id"])
    bad_line(b'{"order_id": "WO20261202900006", "note": "\xff\xfe bad bytes"}', "not_utf8")
    bad_line("[1, 2, 3]", "not_object")
    good(8, lambda r: r.update(app_version="5.12.0", extra={"k": [1, 2]}))  # unknown keys: fine

    def set_file(name: str) -> Any:
        def m(r: dict[str, Any]) -> None:
            r["photos"][0]["file"] = f"{r['order_id']}/{name}"
        return m

    # photo files that can't be used (each order is still checked; the slot counts as missing)
    r = good(9, set_file("missing.jpg"), ("missing.jpg", "missing"))
    r = good(10, set_file("empty.jpg"), ("empty.jpg", "empty"))
    (photos / r["photos"][0]["file"]).write_bytes(b"")
    r = good(11, set_file("truncated.jpg"), ("truncated.jpg", "truncated"))
    full = _good_photo(rng, r["photos"][0]["slot"])
    (photos / r["photos"][0]["file"]).write_bytes(full[: len(full) // 3])
    r = good(12, set_file("not_image.jpg"), ("not_image.jpg", "not_image"))
    (photos / r["photos"][0]["file"]).write_text("这不是图片 / this is not an image\n", encoding="utf-8")
    r = good(13, set_file("huge.png"), ("huge.png", "too_large"))
    buf = io.BytesIO()
    Image.new("1", (10000, 8000), 1).save(buf, "PNG", optimize=True)  # 80 MP in a few kB: a decompression bomb
    (photos / r["photos"][0]["file"]).write_bytes(buf.getvalue())
    # paths that lead out of the photo root: refused, never read
    good(14, lambda r: r["photos"][0].update(file="../orders.jsonl"), ("../orders.jsonl", "path_escape"))
    good(15, lambda r: r["photos"][0].update(file="/etc/hostname"), ("/etc/hostname", "path_absolute"))
    r = good(16, set_file("link.jpg"), ("link.jpg", "path_link"))
    link = photos / r["photos"][0]["file"]
    if link.exists() or link.is_symlink():
        link.unlink()
    link.symlink_to("../../expected.json")
    # a repeated order id: the later line is the error
    dup = order(1)
    bad_line(json.dumps(dup, ensure_ascii=False), "duplicate_order_id", dup["order_id"])
    rec = order(18)
    rec["times"]["dispatched"] = "2026-12-02T09:10:00"
    bad_line(json.dumps(rec, ensure_ascii=False), "time_without_offset", rec["order_id"])
    good(19)

    with (out / "orders.jsonl").open("wb") as fh:
        for ln in lines:
            fh.write((ln.encode("utf-8") if isinstance(ln, str) else ln) + b"\n")
    expected = {"description": "every broken input of the contract's section 1, between good orders",
                "lines": len(lines), "orders_checked": checked, "input_errors": expected_errors}
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return expected

"""The reviewers' report: ``OUT/report/index.html``, one self-contained page that opens from disk.

What the page holds
    - the night's numbers, and a paged list of the flagged orders (any violation or review) with their
      clauses, verdict, fine, engineer and contractor, filters (clause, verdict, engineer, contractor,
      free text) and sorting;
    - per order a detail view (``index.html#o=N``): the record, every finding with its message, fix hint
      and evidence, and every photo as an annotated thumbnail (``thumbs/*.jpg``, written here) linked to
      the full photo by a relative path;
    - the reviewers' decisions on ``review`` findings (kept in the browser's localStorage) and their
      export as the JSON Lines file that ``wocheck penalty --decisions`` reads (contract section 6).

Safety
    The data is one JSON document in a ``<script type="application/json">`` element, with ``<``, ``>``,
    ``&`` and U+2028/2029 written as ``\\uXXXX`` so no value can close the element; the page's script builds
    the DOM with ``textContent`` (never ``innerHTML`` with data). A Content-Security-Policy meta tag allows
    only the page's own inline script and style (by their SHA-256) and local images: nothing is loaded from
    the network.

Scale
    The list renders a page at a time from the JSON, thumbnails load lazily; thumbnails are drawn only for
    flagged orders (on the scan's Dask cluster when it has one, else in worker processes when
    ``workers > 1``), and named by the photo's content hash and what is drawn on it, so a rerun over the
    same night reuses them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from wocheck import __version__
from wocheck.inspectors.base import Annotation
from wocheck.io.writers import write_text_atomic
from wocheck.records import InputErrorRecord, Violation
from wocheck.report.fines import FineTable, clause_fines, order_fine

if TYPE_CHECKING:
    from wocheck.pipeline.scan import OrderOutcome, ScanSummary
    from wocheck.pipeline.work import PhotoResult

log = logging.getLogger(__name__)

# px, long side of an annotated thumbnail (shown at 330-450 CSS px). 500: a 4000-px phone photo decodes at
# libjpeg's 1/8 scale straight to it (4x fewer pixels than 1/4 for 640 px; ~8 ms less per thumbnail, and a
# night's report draws one per photo of every flagged order). The full photo is one click away.
THUMB_SIDE = 500
THUMB_JPEG_QUALITY = 80
THUMB_DIR = "thumbs"
THUMB_CHUNK = 8  # thumbnails per task handed to a worker process


def _env() -> Environment:
    return Environment(loader=PackageLoader("wocheck.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def json_for_script(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>``, ``&`` or line separators.

    ``JSON.parse`` of the element's text gives ``data`` back unchanged.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _asset(name: str) -> str:
    return resources.files("wocheck.report").joinpath("templates", name).read_text(encoding="utf-8")


def _href(target: Path, report_dir: Path) -> str:
    """A relative URL from the report folder to ``target`` (percent-encoded, so any file name is inert)."""
    rel = Path(os.path.relpath(target, report_dir.resolve())).as_posix()
    return quote(rel, safe="/")


# --- thumbnails ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThumbTask:
    """One thumbnail to draw: picklable, for a worker process."""

    source: Path
    dest: Path
    annotations: tuple[Annotation, ...]
    findings: tuple[Violation, ...]
    numbers: tuple[int, ...]  # each finding's number in the order's list (the page shows the same)
    lang: str = "zh"


def _thumb_name(sha256: str, annotations: Sequence[Annotation], findings: Sequence[Violation],
                numbers: Sequence[int]) -> str:
    drawn = json.dumps([[a.kind, a.points, a.label, a.ok] for a in annotations]
                       + [[n, v.check, v.verdict, v.message_zh, v.evidence.get("box_px")]
                          for n, v in zip(numbers, findings, strict=True)],
                       ensure_ascii=False, default=str)
    digest = hashlib.sha256(f"{THUMB_SIDE}|{THUMB_JPEG_QUALITY}|{drawn}".encode()).hexdigest()[:12]
    return f"{sha256[:16]}-{digest}.jpg"


def render_thumb(task: ThumbTask) -> bytes | None:
    """The thumbnail's JPEG: the photo's preview decoded and drawn on; ``None`` (logged) if it can't be drawn.

    Pure (reads the photo, writes nothing): it runs wherever the photo is seen, on the scan host or on a
    cluster's worker."""
    from wocheck.io.images import PhotoError, load_photo
    from wocheck.report.annotate import encode_image, render_annotated

    try:
        photo = load_photo(task.source, verify=False)
        img = render_annotated(photo, task.annotations, task.findings, THUMB_SIDE, lang=task.lang,
                               legend=False, numbers=task.numbers, preview=photo.thumbnail_bgr(THUMB_SIDE))
    except PhotoError as e:
        log.warning("thumbnail of %s not drawn: %s", task.source, e.reason_en)
        return None
    except Exception:  # a drawing bug costs this thumbnail (the page links the photo), never the report
        log.exception("thumbnail of %s not drawn", task.source)
        return None
    return encode_image(img, "jpeg", jpeg_quality=THUMB_JPEG_QUALITY)


def _write_thumb(task: ThumbTask, data: bytes | None) -> bool:
    from wocheck.report.annotate import write_bytes_atomic

    if data is None:
        return False
    write_bytes_atomic(task.dest, data)
    return True


def draw_thumb(task: ThumbTask) -> bool:
    """Draw one thumbnail and write it; ``False`` if the photo can't be used."""
    return _write_thumb(task, render_thumb(task))


def _draw_chunk(tasks: Sequence[ThumbTask]) -> list[bool]:
    return [draw_thumb(t) for t in tasks]


def _chunks(tasks: list[ThumbTask]) -> list[list[ThumbTask]]:
    return [tasks[i:i + THUMB_CHUNK] for i in range(0, len(tasks), THUMB_CHUNK)]


# Draws chunks of thumbnails elsewhere (a Dask cluster's workers, `wocheck.pipeline.cluster`): each chunk's
# JPEGs (``None`` where `render_thumb` gave none), chunk by chunk in the order given.
ThumbRenderer = Callable[[Sequence[Sequence[ThumbTask]]], Iterator[list[bytes | None]]]


def draw_thumbs(tasks: Sequence[ThumbTask], workers: int = 1, render: ThumbRenderer | None = None) -> int:
    """Draw every thumbnail not already on disk; returns how many were drawn.

    With ``render``, they are drawn there and written here; if it fails part-way (the cluster lost), the
    rest are drawn here. Else in ``workers`` local processes (here, for a few)."""
    todo = list({t.dest: t for t in tasks if not t.dest.is_file()}.values())
    if not todo:
        return 0
    drawn = 0
    if render is not None:
        chunks = _chunks(todo)
        done = 0
        try:
            for chunk, images in zip(chunks, render(chunks), strict=True):
                drawn += sum(_write_thumb(t, data) for t, data in zip(chunk, images, strict=True))
                done += 1
            return drawn
        except Exception as e:
            log.warning("thumbnails: the cluster failed after %d of %d chunks (%s: %s); drawing the rest here",
                        done, len(chunks), type(e).__name__, e)
            todo = [t for chunk in chunks[done:] for t in chunk]
    if workers <= 1 or len(todo) < 2 * THUMB_CHUNK:
        return drawn + sum(draw_thumb(t) for t in todo)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return drawn + sum(sum(ok) for ok in pool.map(_draw_chunk, _chunks(todo)))


# --- the data the page renders ----------------------------------------------------------------------


def _person(p: Any) -> list[str] | None:
    return [p.id, p.name or ""] if p is not None else None


def _violation_doc(v: Violation) -> dict[str, Any]:
    return {"clause": v.clause, "check": v.check, "verdict": v.verdict, "confidence": v.confidence,
            "slot": v.slot, "photo": v.photo, "msg_zh": v.message_zh, "msg_en": v.message_en,
            "hint_zh": v.hint_zh, "hint_en": v.hint_en, "evidence": v.evidence}


def _photo_doc(p: PhotoResult, index_of: Mapping[int, int], href: str | None, thumb: str | None,
               numbered: Sequence[Violation]) -> dict[str, Any]:
    return {"slot": p.slot.value, "file": p.file, "usable": p.usable, "reason_zh": p.reason_zh,
            "reason_en": p.reason_en, "href": href, "thumb": thumb,
            "exif": p.exif, "codes": p.data.get("codes") if isinstance(p.data, dict) else None,
            "findings": [index_of[id(v)] for v in numbered]}


def _order_doc(o: OrderOutcome, report_dir: Path, photo_root: Path, fines: FineTable,
               tasks: list[ThumbTask]) -> dict[str, Any]:
    from wocheck.io.photos import PathRefused, resolve_photo

    order = o.order
    vs = list(o.violations)
    index_of = {id(v): i for i, v in enumerate(vs)}
    photos: list[dict[str, Any]] = []
    for p in o.result.photos:
        numbered = [v for v in vs if v.photo == p.file and v.slot in (None, p.slot.value)]
        href = thumb = None
        if p.usable:
            target = resolve_photo(photo_root, p.file)
            if not isinstance(target, PathRefused):
                href = _href(target, report_dir)
                if p.sha256:
                    numbers = tuple(index_of[id(v)] + 1 for v in numbered)
                    name = _thumb_name(p.sha256, p.annotations, numbered, numbers)
                    tasks.append(ThumbTask(target, report_dir / THUMB_DIR / name, tuple(p.annotations),
                                           tuple(numbered), numbers))
                    thumb = f"{THUMB_DIR}/{name}"
        photos.append(_photo_doc(p, index_of, href, thumb, numbered))
    charged = {v.clause for v in vs if v.verdict == "violation"}
    managers = order.managers
    return {
        "id": order.order_id, "type": order.order_type.value, "cls": order.machine_class.value,
        "model": order.model, "code": order.machine_code, "imei": order.imei, "mac": order.mac,
        "symptom": order.fault_symptom, "note": order.fault_note,
        "customer": [order.customer.name or "", order.customer.address or ""],
        "eng": _person(order.engineer), "con": _person(order.contractor),
        "tm": _person(managers.training if managers else None),
        "rm": _person(managers.responsible if managers else None),
        "dispatched": order.times.dispatched.isoformat(), "completed": order.times.completed.isoformat(),
        "closed": order.times.closed.isoformat(),
        "fine": order_fine(charged, fines),
        "v": [_violation_doc(v) for v in vs], "p": photos,
        "errors": [e.reason for e in o.result.input_errors],
    }


@dataclass(frozen=True)
class ReportData:
    """The JSON document the page renders and the thumbnails it needs."""

    doc: dict[str, Any]
    thumbs: tuple[ThumbTask, ...]


def build_report_data(report_dir: Path, outcomes: Sequence[OrderOutcome], line_errors: Sequence[InputErrorRecord],
                      summary: ScanSummary, *, photo_root: Path, fines: FineTable) -> ReportData:
    """The page's data: flagged orders, input errors, the night's numbers and the clauses' fines."""
    tasks: list[ThumbTask] = []
    orders = [_order_doc(o, report_dir, photo_root, fines, tasks) for o in _flagged(outcomes)]
    clauses = sorted({v["clause"] for d in orders for v in d["v"]})
    errors = [{"line": e.line, "order_id": e.order_id, "reason": e.reason} for e in line_errors]
    errors += [{"line": e.line, "order_id": e.order_id, "reason": e.reason}
               for o in outcomes for e in o.result.input_errors]
    doc = {
        "schema": "wocheck.report/1",
        "meta": {"version": __version__, "generated": datetime.now(UTC).isoformat(timespec="seconds"),
                 "orders": summary.orders, "flagged": summary.orders_flagged, "photos": summary.photos,
                 "violations": summary.violations, "reviews": summary.reviews,
                 "input_errors": summary.input_errors, "seconds": round(summary.seconds, 1)},
        "clauses": {str(c): {"fine": fines[c].total if c in fines else None,
                             "text_zh": fines[c].text_zh if c in fines else ""} for c in clauses},
        "orders": orders,
        "errors": errors,
    }
    return ReportData(doc, tuple(tasks))


def _flagged(outcomes: Sequence[OrderOutcome]) -> Iterator[OrderOutcome]:
    return (o for o in outcomes if o.violations)


def render_page(doc: dict[str, Any]) -> str:
    """The HTML page for a report document (inline CSS and JS, CSP by hash, data as escaped JSON)."""
    css, js = _asset("report.css"), _asset("report.js")
    csp = ("default-src 'none'; img-src 'self' file: data: blob:; "
           f"style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
           "base-uri 'none'; form-action 'none'; object-src 'none'")
    return _env().get_template("index.html.j2").render(
        csp=csp, css=Markup(css), js=Markup(js), data=Markup(json_for_script(doc)),  # noqa: S704 - ours, escaped
        meta=doc["meta"])


def write_report(report_dir: Path, outcomes: Sequence[OrderOutcome], line_errors: Sequence[InputErrorRecord],
                 summary: ScanSummary, *, photo_root: Path, workers: int = 1,
                 render: ThumbRenderer | None = None, fines: FineTable | None = None) -> Path:
    """Write ``report_dir/index.html`` and the flagged orders' thumbnails; returns the page's path.

    Thumbnails are drawn by ``render`` (a cluster) if given, else in ``workers`` local processes."""
    report_dir.mkdir(parents=True, exist_ok=True)
    fines = clause_fines() if fines is None else fines
    data = build_report_data(report_dir, outcomes, line_errors, summary, photo_root=photo_root, fines=fines)
    drawn = draw_thumbs(data.thumbs, workers, render)
    for order in data.doc["orders"]:  # a photo that vanished since the scan: no thumbnail, still its link
        for ph in order["p"]:
            if ph["thumb"] and not (report_dir / ph["thumb"]).is_file():
                ph["thumb"] = None
    log.info("report: %d flagged orders, %d thumbnails (%d drawn now)", len(data.doc["orders"]),
             len(data.thumbs), drawn)
    path = report_dir / "index.html"
    write_text_atomic(path, render_page(data.doc))
    return path

"""The reviewers' report: ``OUT/report/index.html``, a self-contained page that opens from disk.

Jinja2 with autoescaping: every value from an order is escaped. No external resources.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from wocheck import __version__
from wocheck.io.writers import write_text_atomic
from wocheck.records import InputErrorRecord

if TYPE_CHECKING:
    from wocheck.pipeline.scan import OrderOutcome, ScanSummary


def _env() -> Environment:
    return Environment(loader=PackageLoader("wocheck.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def _photo_href(report_dir: Path, photo_root: Path, rel: str) -> str:
    return Path(os.path.relpath(photo_root.resolve() / rel, report_dir.resolve())).as_posix()


def write_report(report_dir: Path, outcomes: Sequence[OrderOutcome], line_errors: Sequence[InputErrorRecord],
                 summary: ScanSummary, *, photo_root: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    flagged: list[dict[str, Any]] = []
    for o in outcomes:
        if not o.violations:
            continue
        order = o.order
        clauses = Counter(v.clause for v in o.violations)
        flagged.append({
            "order": order,
            "clauses": sorted(clauses.items()),
            "verdict": "violation" if any(v.verdict == "violation" for v in o.violations) else "review",
            "violations": o.violations,
            "photos": [{"file": p.file, "slot": p.slot.value, "usable": p.usable, "reason": p.reason_zh,
                        "href": _photo_href(report_dir, photo_root, p.file) if p.usable else None}
                       for p in o.result.photos],
            "input_errors": o.result.input_errors,
        })
    html = _env().get_template("index.html.j2").render(
        flagged=flagged, line_errors=line_errors, summary=summary, version=__version__,
        n_orders=len(outcomes))
    path = report_dir / "index.html"
    write_text_atomic(path, html)
    return path

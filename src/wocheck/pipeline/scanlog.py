"""The scan's structured log: ``OUT/scan.log.jsonl``, one JSON object per line, for unattended nights.

What goes in: every warning and error any wocheck module logs in this process during the scan (a worker
that died, an order redone photo by photo, a photo not inspected, a thumbnail not drawn; with ``-v`` the
info lines too), and the scan's own events — ``scan_started``, one ``order_done`` per order, ``report_written``
and ``scan_finished`` with the summary — each with its fields as JSON keys (``event``, ``order_id``…), so that
a log shipper or ``jq`` can filter them. Formatting is python-json-logger's; the file is appended to, so a
resumed scan keeps the killed run's lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter

EVENTS = "wocheck.scan.events"  # the scan's events: INFO, into the structured log only (not stderr)
_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


class ScanEvents:
    """Writes the scan's events; each is a log record whose extra fields become the JSON line's keys."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger

    def __call__(self, event: str, message: str = "", **fields: Any) -> None:
        self._log.info(message or event, extra={"event": event, **fields})


def _formatter() -> logging.Formatter:
    return JsonFormatter(_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z", json_ensure_ascii=False, json_default=str)


@contextmanager
def scan_log(path: Path) -> Iterator[ScanEvents]:
    """Route wocheck's log records and the scan's events into the JSON Lines file ``path`` while open."""
    handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=False)
    handler.setLevel(logging.INFO)
    handler.setFormatter(_formatter())
    package = logging.getLogger("wocheck")
    events = logging.getLogger(EVENTS)
    saved = events.level, events.propagate
    events.setLevel(logging.INFO)
    events.propagate = False  # events are for the file; the terminal gets the progress bar and the summary
    package.addHandler(handler)
    events.addHandler(handler)
    try:
        yield ScanEvents(events)
    finally:
        events.removeHandler(handler)
        package.removeHandler(handler)
        events.setLevel(saved[0])
        events.propagate = saved[1]
        handler.close()

"""Reading order records: the nightly JSON Lines export and the engineer's single order file.

Every bad line becomes an `InputErrorRecord` with its line number and a reason a person can act on;
the reader goes on with the next line. Nothing here looks at photos.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from wocheck.errors import InputFileError, OrderInputError
from wocheck.records import InputErrorRecord, Order

MAX_LINE_BYTES = 4 * 2**20  # one order is a few kB; a longer line is not an order


@dataclass(frozen=True)
class OrderLine:
    """One line of the orders file: the order, or the error that kept it from being one."""

    line: int
    order: Order | None = None
    error: InputErrorRecord | None = None


def describe_validation_error(e: ValidationError) -> str:
    """A short, specific reason: ``missing key times.dispatched; order_type: unknown value 'instal' …``."""
    parts = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"])
        kind = err["type"]
        if kind == "missing":
            parts.append(f"missing key {loc}")
        elif kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            parts.append(f"{loc}: unknown value {err['input']!r} (expected {expected})")
        elif kind.startswith("datetime") or kind.startswith("date"):
            parts.append(f"{loc}: bad time {err['input']!r}: {err['msg']}")
        else:
            shown = repr(err["input"])
            if len(shown) > 60:
                shown = shown[:57] + "..."
            parts.append(f"{loc}: {err['msg']} (got {shown})")
    return "; ".join(parts)


def _order_id_of(obj: Any) -> str | None:
    if isinstance(obj, dict):
        oid = obj.get("order_id")
        if isinstance(oid, str) and oid:
            return oid
    return None


def parse_order(obj: Any) -> Order:
    """Validate one decoded JSON value as an order; raises `ValidationError` or `TypeError`."""
    if not isinstance(obj, dict):
        raise TypeError(f"an order must be a JSON object, got {type(obj).__name__}")
    return Order.model_validate(obj)


def _parse_line(raw: bytes, lineno: int) -> OrderLine:
    def error(reason: str, order_id: str | None = None) -> OrderLine:
        return OrderLine(lineno, error=InputErrorRecord(line=lineno, order_id=order_id, reason=reason))

    if len(raw) > MAX_LINE_BYTES:
        return error(f"line is {len(raw)} bytes, longer than the {MAX_LINE_BYTES} an order may take")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return error(f"not UTF-8 text: {e.reason} at byte {e.start}")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        return error(f"not valid JSON: {e.msg} at column {e.colno}")
    try:
        return OrderLine(lineno, order=parse_order(obj))
    except TypeError as e:
        return error(str(e))
    except ValidationError as e:
        return error(describe_validation_error(e), _order_id_of(obj))


def read_orders(path: Path) -> Iterator[OrderLine]:
    """Yield each non-blank line of a JSON Lines file as an order or an input error, in file order.

    A repeated ``order_id`` is an input error on the later line (the first one is checked).
    Raises `InputFileError` only when the file itself can't be opened.
    """
    seen: dict[str, int] = {}
    try:
        fh = path.open("rb")
    except OSError as e:
        raise InputFileError(f"can't open orders file {path}: {e.strerror or e}") from e
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            stripped = raw.strip()
            if not stripped:
                continue
            item = _parse_line(stripped.removeprefix(b"\xef\xbb\xbf"), lineno)
            if item.order is not None:
                oid = item.order.order_id
                if oid in seen:
                    reason = f"duplicate order_id {oid} (first on line {seen[oid]}); this line is skipped"
                    item = OrderLine(lineno, error=InputErrorRecord(line=lineno, order_id=oid, reason=reason))
                else:
                    seen[oid] = lineno
            yield item


def read_order_file(path: Path) -> Order:
    """Read the engineer's single order (a JSON file); raises `OrderInputError` with the reason."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(f"can't read order file {path}: {e.strerror or e}") from e
    item = _parse_line(data.strip().removeprefix(b"\xef\xbb\xbf"), 1)
    if item.order is None:
        reason = item.error.reason if item.error else "not an order record"
        raise OrderInputError(f"{path}: {reason}")
    return item.order

"""The JSON Lines reader: each bad line becomes an input error with its line number and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import order_dict
from wocheck.errors import InputFileError, OrderInputError
from wocheck.io.orders import read_order_file, read_orders
from wocheck.records import Datum, Order


def _write(tmp_path: Path, lines: list[str | bytes]) -> Path:
    p = tmp_path / "orders.jsonl"
    p.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    return p


def test_good_line_parses_and_keeps_unknown_keys(tmp_path: Path) -> None:
    d = order_dict(extra_field={"x": 1})
    items = list(read_orders(_write(tmp_path, [json.dumps(d, ensure_ascii=False)])))
    assert len(items) == 1 and items[0].order is not None
    order = items[0].order
    assert order.order_id == "WO20261202000123"
    assert order.customer.datum == Datum.gcj02
    assert order.model_extra == {"extra_field": {"x": 1}}


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({k: v for k, v in order_dict().items() if k != "times"}), "missing key times"),
        (json.dumps(order_dict(order_type="instal")), "order_type: unknown value 'instal'"),
        (json.dumps(order_dict(machine_class="industrial")), "machine_class: unknown value"),
        (json.dumps(order_dict(times={"dispatched": "yesterday", "completed": "2026-12-02T15:20:00+08:00",
                                      "closed": "2026-12-02T15:41:00+08:00"})), "times.dispatched: bad time"),
        (json.dumps(order_dict(times={"dispatched": "2026-12-02T09:10:00", "completed": "2026-12-02T15:20:00+08:00",
                                      "closed": "2026-12-02T15:41:00+08:00"})), "must carry a UTC offset"),
        (json.dumps(order_dict(photos=[{"slot": "selfie", "file": "a.jpg"}])), "photos.0.slot: unknown value"),
        (json.dumps(order_dict(customer={"name": "x", "lat": 95.0, "lon": 121.0})), "customer.lat"),
    ],
)
def test_bad_lines_become_input_errors(tmp_path: Path, line: str, expect: str) -> None:
    good = json.dumps(order_dict(order_id="WO2"))
    items = list(read_orders(_write(tmp_path, [good, line, good.replace("WO2", "WO3")])))
    assert [i.order.order_id for i in items if i.order] == ["WO2", "WO3"]
    (bad,) = [i for i in items if i.error]
    assert bad.line == 2 and bad.error is not None
    assert bad.error.line == 2
    assert expect in bad.error.reason, bad.error.reason
    assert bad.error.to_json_dict()["schema"] == "wocheck.input_error/1"


def test_order_id_named_when_known(tmp_path: Path) -> None:
    items = list(read_orders(_write(tmp_path, [json.dumps(order_dict(order_type="x"))])))
    assert items[0].error is not None and items[0].error.order_id == "WO20261202000123"


def test_non_utf8_blank_and_bom_lines(tmp_path: Path) -> None:
    good = json.dumps(order_dict())
    items = list(read_orders(_write(tmp_path, [b"\xef\xbb\xbf" + good.encode(), b"", b"\xff\xfe{}"])))
    assert items[0].order is not None
    assert items[1].error is not None and items[1].line == 3 and "UTF-8" in items[1].error.reason


def test_duplicate_order_id_is_an_error_on_the_later_line(tmp_path: Path) -> None:
    good = json.dumps(order_dict())
    items = list(read_orders(_write(tmp_path, [good, good])))
    assert items[0].order is not None
    assert items[1].error is not None and "duplicate order_id" in items[1].error.reason


def test_huge_line_is_refused(tmp_path: Path) -> None:
    huge = json.dumps(order_dict(fault_note="x" * (5 * 2**20)))
    items = list(read_orders(_write(tmp_path, [huge])))
    assert items[0].error is not None and "longer than" in items[0].error.reason


def test_nulls_allowed_where_the_contract_says(tmp_path: Path) -> None:
    d = order_dict(contractor=None, managers=None, machine_code=None, mac=None,
                   customer={"name": None, "address": None, "lat": None, "lon": None})
    order = Order.model_validate(d)
    assert order.contractor is None and order.customer.lat is None


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(InputFileError):
        list(read_orders(tmp_path / "nope.jsonl"))


def test_single_order_file(tmp_path: Path) -> None:
    p = tmp_path / "o.json"
    p.write_text(json.dumps(order_dict(), indent=2))
    assert read_order_file(p).order_id == "WO20261202000123"
    p.write_text("{}")
    with pytest.raises(OrderInputError, match="missing key order_id"):
        read_order_file(p)

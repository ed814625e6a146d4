"""The penalty table (models/penalty/rulebook.toml) against the rulebook, and its loader.

Three independent checks of the data: a hand-checked expectation list (read off the rulebook text by a
person, independent of the extraction script); when the rulebook text is present (../shared/seed), every
clause's four printed cells found again in its row, and the extraction script reproducing the data file;
and the loader refusing broken files with a `ConfigError` that says where.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO, SHARED
from wocheck.errors import ConfigError
from wocheck.penalty.table import ClauseKind, PenaltyTable, Role, Unit, default_table_path, load_penalty_table

RULEBOOK = SHARED / "seed" / "000_571e5d284d519877.txt"
needs_rulebook = pytest.mark.skipif(not RULEBOOK.is_file(), reason="the rulebook text (../shared/seed) is absent")


@pytest.fixture(scope="module")
def table() -> PenaltyTable:
    return load_penalty_table()


# ---- hand-checked expectations ----------------------------------------------------------------------
# Read off the rulebook's table by hand. Per clause: contractor, engineer, training manager, responsible
# manager. "/" not charged; "300y" 300 yuan; "0.5k" 0.5 KPI points; a flag follows after a space.
HAND_CHECKED: dict[int, tuple[str, str, str, str]] = {
    1: ("/", "300y", "10k", "10k"),
    2: ("/", "/", "1k", "0.5k"),
    3: ("100y", "100y", "1k", "0.5k"),
    4: ("20y", "20y", "1k", "0.5k"),
    5: ("50y", "50y", "1k", "0.5k"),
    6: ("100y", "100y", "5k", "2k"),
    7: ("20y", "20y", "/", "/"),
    8: ("50y", "50y", "2k", "1k"),
    9: ("50y", "20y", "1k", "0.5k"),
    10: ("1000y 情节严重", "500y 情节严重", "200y", "100y"),
    11: ("200y", "200y", "100y", "50y"),
    12: ("100y", "50y", "2k", "1k"),
    13: ("500y", "500y", "5k", "2k"),
    14: ("500y", "200y", "2k", "1k"),
    15: ("100y", "50y", "2k", "1k"),
    16: ("20y", "20y", "1k", "0.5k"),
    17: ("500y", "500y", "5k", "2k"),
    18: ("100y +照价赔偿", "50y +照价赔偿", "/", "/"),
    19: ("5000y 情节严重", "5000y 解除协议", "20k", "10k"),
    20: ("1000y", "500y", "5k", "5k"),
    21: ("/", "/", "/", "50y"),
    22: ("/", "/", "/", "50y"),
    23: ("1000y", "500y", "200y", "100y"),
    24: ("200y", "200y", "100y", "50y"),
    30: ("100y", "100y", "100y", "100y"),
    31: ("300y +双倍处罚", "300y +双倍处罚", "2k", "1k"),
    42: ("20y", "20y", "/", "/"),
    43: ("50y", "50y", "/", "/"),
    44: ("100y", "50y", "2k", "1k"),
    45: ("10y", "10y", "/", "/"),
    46: ("10y", "10y", "/", "/"),
    47: ("10y", "10y", "/", "/"),
    48: ("10y", "10y", "/", "/"),
    49: ("50y", "50y", "/", "/"),
    50: ("50y", "50y", "/", "/"),
    55: ("200y", "200y", "100y", "50y"),
    56: ("50y", "20y", "1k", "/"),
    60: ("5000y 情节严重", "5000y 情节严重", "20k", "10k"),
    64: ("100y", "100y", "5k", "2k"),
    66: ("5000y", "5000y 解除协议", "20k", "10k"),
    67: ("10y", "10y", "/", "/"),
    89: ("10y", "10y", "/", "/"),
    90: ("100y", "100y", "/", "/"),
    91: ("100y", "100y", "/", "/"),
    92: ("1000y", "1000y", "/", "/"),
}
HAND_TEXT = {42: "录单时未按照要求录单", 45: "《售后服务单》照片", 67: "未着工服", 89: "发生争执辱骂行为",
             91: "客户送锦旗或表扬信 (每月限一次)"}


def _expect(spec: str) -> tuple[float | None, Unit | None, tuple[str, ...]]:
    if spec == "/":
        return None, None, ()
    amount, *flags = spec.split(" ")
    unit = {"y": Unit.yuan, "k": Unit.kpi}[amount[-1]]
    return float(amount[:-1]), unit, tuple(flags)


@pytest.mark.parametrize("number", sorted(HAND_CHECKED))
def test_hand_checked_cells(table: PenaltyTable, number: int) -> None:
    rule = table.rule(number)
    assert rule is not None and rule.number == number
    for role, spec in zip(Role, HAND_CHECKED[number], strict=True):
        cell = rule.cell(role)
        amount, unit, flags = _expect(spec)
        assert (cell.amount, cell.unit, cell.flags) == (amount, unit, flags), (number, role.value, cell.raw)
        assert cell.charged == (amount is not None)
        assert cell.yuan == (amount if unit == Unit.yuan else 0.0)
        assert cell.kpi_points == (amount if unit == Unit.kpi else 0.0)


@pytest.mark.parametrize("number", sorted(HAND_TEXT))
def test_hand_checked_text(table: PenaltyTable, number: int) -> None:
    rule = table.rule(number)
    assert rule is not None and rule.text_zh.startswith(HAND_TEXT[number])


def test_kinds_accumulation_and_monthly_limit(table: PenaltyTable) -> None:
    assert len(table.clauses) == 92
    tags = [c.number for c in table.clauses if c.kind == ClauseKind.bad_review_tag]
    rewards = [c.number for c in table.clauses if c.kind == ClauseKind.reward]
    assert tags == list(range(67, 90))
    assert rewards == [90, 91, 92]
    assert [c.number for c in table.clauses if c.accumulate] == tags
    assert [c.number for c in table.clauses if c.max_per_month is not None] == [91]
    assert table.rule(91).max_per_month == 1  # type: ignore[union-attr]
    assert table.rule(0) is None and table.rule(93) is None


def test_every_cell_is_consistent_with_its_printed_text(table: PenaltyTable) -> None:
    """Units, flags and ``/`` follow from the raw cell text; amounts are its first number."""
    for rule in table.clauses:
        for role in Role:
            cell = rule.cell(role)
            where = (rule.number, role.value, cell.raw)
            if cell.raw == "/":
                assert not cell.charged, where
                continue
            assert cell.charged and cell.amount == float(re.findall(r"\d+(?:\.\d+)?", cell.raw)[0]), where
            if "分" in cell.raw:
                assert cell.unit == Unit.kpi, where
            if "元" in cell.raw or role in (Role.contractor, Role.engineer):
                assert cell.unit == Unit.yuan, where
            for flag in cell.flags:
                assert flag in cell.raw, where
            for word in ("照价赔偿", "双倍处罚", "情节严重", "解除协议"):
                assert (word in cell.raw) == any(word in f for f in cell.flags), where


def test_manager_columns_in_yuan_are_exactly_the_rows_printing_yuan_sized_numbers(table: PenaltyTable) -> None:
    yuan_rows = {r.number for r in table.clauses
                 for role in (Role.training_manager, Role.responsible_manager) if r.cell(role).unit == Unit.yuan}
    assert yuan_rows == {10, 11, 21, 22, 23, 24, 30, 55}


# ---- against the rulebook text ----------------------------------------------------------------------

def _row_cells(text: str, number: int) -> list[str]:
    """The tab cells of the rulebook line that starts clause ``number`` (independent of the script)."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if str(number) in cells[:2] and (cells[0] == str(number) or cells[1] == str(number)):
            return cells
    raise AssertionError(f"clause {number} not found in the rulebook")


@needs_rulebook
@pytest.mark.parametrize("number", range(1, 93))
def test_every_clause_matches_its_rulebook_row(table: PenaltyTable, number: int) -> None:
    cells = _row_cells(RULEBOOK.read_text(encoding="utf-8"), number)
    rule = table.rule(number)
    assert rule is not None
    assert rule.text_zh in cells, (number, rule.text_zh)
    after_text = cells[cells.index(rule.text_zh) + 1:]
    printed = [c for c in after_text if c]
    own = [rule.cell(role) for role in Role if rule.cell(role).merged_from is None]
    # the cells this row prints itself are its last printed cells, in column order
    assert [c.raw for c in own] == printed[len(printed) - len(own):], (number, printed)
    for role in Role:
        cell = rule.cell(role)
        if cell.merged_from is not None:
            above = table.rule(cell.merged_from)
            assert above is not None and above.cell(role) == cell.model_copy(update={"merged_from": None})


def _load_script() -> ModuleType:
    path = REPO / "scripts" / "extract_penalty_table.py"
    spec = importlib.util.spec_from_file_location("extract_penalty_table", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@needs_rulebook
def test_extraction_script_reproduces_the_data_file() -> None:
    mod = _load_script()
    text, warnings = mod.render(RULEBOOK)
    assert text == default_table_path().read_text(encoding="utf-8"), "run scripts/extract_penalty_table.py"
    assert all("not a table row" in w for w in warnings)


@needs_rulebook
def test_extraction_script_refuses_an_unlisted_bare_number_in_a_kpi_column() -> None:
    mod = _load_script()
    text = RULEBOOK.read_text(encoding="utf-8").replace("1分\t0.5分", "1\t0.5分", 1)
    with pytest.raises(mod.ExtractError, match="BARE_MANAGER_UNITS"):
        mod.extract(text)
    with pytest.raises(mod.ExtractError, match="clause 6 where clause 5"):
        mod.extract(RULEBOOK.read_text(encoding="utf-8").replace("\t5\t废水管", "\t6\t废水管", 1))


# ---- loader errors ----------------------------------------------------------------------------------

def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "table.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_missing_and_unparsable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_penalty_table(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_penalty_table(_write(tmp_path, "schema = \n"))


@pytest.mark.parametrize(("old", "new", "message"), [
    ('unit = "kpi"', 'unit = "dollar"', r"clause 1\.training_manager\.unit"),
    ('raw = "300 元", charged = true, amount = 300.0,', 'raw = "300 元", charged = true,', "needs amount and unit"),
    ('number = 2\n', 'number = 3\n', r"numbered 1\.\.92"),
    ('flags = ["+照价赔偿"]', 'flags = ["罚款"]', r"clause 18\.contractor\.flags"),
    ('schema = "wocheck.penalty_table/1"', 'schema = "other/1"', "schema"),
    ('amount = 10.0, unit = "kpi"', 'amount = -10.0, unit = "kpi"', "greater than or equal to 0"),
])
def test_invalid_table_names_the_clause_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = default_table_path().read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ConfigError, match=message):
        load_penalty_table(_write(tmp_path, text.replace(old, new, 1)))

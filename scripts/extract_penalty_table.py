#!/usr/bin/env python3
"""Extract the rulebook's penalty table (clauses 1-92) into ``models/penalty/rulebook.toml``.

Dev script: it reads the company rulebook text (default ``../shared/seed/000_571e5d284d519877.txt``,
tab-separated table rows of a PDF export) and writes the data file that `wocheck.penalty.table` loads
at run time. Run it again when the rulebook changes, then diff the data file and check it by hand.

    .venv/bin/python scripts/extract_penalty_table.py [RULEBOOK.txt] [--out models/penalty/rulebook.toml]
    .venv/bin/python scripts/extract_penalty_table.py --check   # exit 1 if the data file is out of date

How a table row reads (cells split on tabs):

    [category] <clause> <text> [evidence source...] <contractor> <engineer> <training mgr> <responsible mgr>

- A line whose first or second cell is a number 1-92 starts a clause; the last four cells (after
  trailing empty cells are dropped) are the four party columns; cells between the text and them are the
  evidence source (判定标准) as printed in that row (merged cells of the PDF print their text once).
- A missing category continues the one above. ``爽约改约 未按规范操`` (clause 32) carries the first part
  of the next category, wrapped by the PDF; it is cut back to ``爽约改约``.
- An empty party cell is a merged cell: it takes the cell above. This happens only in the bad-review tag
  block (clauses 68-89 share clause 67's "10元/项 ... 累加" cells); anywhere else it is an error.
- A cell is ``/`` (not charged) or an amount: ``300 元``/``50元`` (yuan), ``10 分``/``0.5分`` (KPI points),
  ``100/次`` (yuan per occurrence), with escalations kept as flags: ``+照价赔偿``, ``+双倍处罚``,
  ``情节严重…`` (flag ``情节严重``, the note keeps the full words) and ``解除协议并处罚 5000`` (flag ``解除协议``).
- A bare number is in the column's unit when the header gives one (contractor and engineer: 元/次).
  The two manager columns are headed "KPI" yet several rows print yuan-sized bare numbers there (200,
  100, 50); their unit is read row by row and listed in `BARE_MANAGER_UNITS` below; a bare number in a
  row not listed there stops the script, so a new rulebook gets read by a person.
- Lines that are no table row (the vertical category fragments ``净水``/``工``, a spilled evidence cell)
  are reported on stderr and not used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RULEBOOK = REPO.parent / "shared" / "seed" / "000_571e5d284d519877.txt"
DEFAULT_OUT = REPO / "models" / "penalty" / "rulebook.toml"

CLAUSE_COUNT = 92
PARTIES = ("contractor", "engineer", "training_manager", "responsible_manager")
COLUMNS_ZH = ("承包商/第三方平台 (元/次)", "责任工程师/仓库管理员 (元/次)", "培训经理/仓库主管 (KPI)", "责任经理 (KPI)")

# The unit of a bare number in the manager columns (headed "KPI"), read row by row in the rulebook.
# Rows 10, 11, 23, 24, 30, 55 print 200/100/50-sized numbers: yuan, like rows 21-22 that write "50元";
# the column's KPI points elsewhere run 0.5-20 分. Row 64 prints "5" and "2" where its neighbours print
# "5分" and "2分": KPI points.
BARE_MANAGER_UNITS: dict[int, str] = {10: "yuan", 11: "yuan", 23: "yuan", 24: "yuan", 30: "yuan", 55: "yuan",
                                      64: "kpi"}
BARE_COLUMN_UNITS = {"contractor": "yuan", "engineer": "yuan"}

# Category cells that the PDF export ran into the next category's first word.
CATEGORY_FIXES = {"爽约改约 未按规范操": "爽约改约"}

TAG_MARK = "累加"  # "每项进行累加扣款": one charge per tag, accumulating
MONTHLY_ONCE_MARK = "每月限一次"
REWARD_CATEGORY = "正激励"

_NUM = r"(\d+(?:\.\d+)?)"
_CELL_PATTERNS: list[tuple[re.Pattern[str], str | None, str | None]] = [
    # (pattern, unit or None = the column's, flag)
    (re.compile(rf"^{_NUM}$"), None, None),
    (re.compile(rf"^{_NUM}\s*元$"), "yuan", None),
    (re.compile(rf"^{_NUM}\s*分$"), "kpi", None),
    (re.compile(rf"^{_NUM}\s*/次$"), None, None),
    (re.compile(rf"^{_NUM}\s*元/项.*{TAG_MARK}.*$"), "yuan", None),
    (re.compile(rf"^{_NUM}\s*\+照价赔偿$"), None, "+照价赔偿"),
    (re.compile(rf"^{_NUM}\s*\+双倍处罚$"), None, "+双倍处罚"),
    (re.compile(rf"^{_NUM}\s*\((情节严重.*)\)$"), None, "情节严重"),
    (re.compile(rf"^解除协议并处罚\s*{_NUM}$"), None, "解除协议"),
]


class ExtractError(Exception):
    """The rulebook text has a row this script can't read unambiguously."""


@dataclass
class Cell:
    raw: str
    amount: float | None = None  # None: not charged ("/")
    unit: str | None = None  # "yuan" | "kpi"
    flags: list[str] = field(default_factory=list)
    note: str = ""
    merged_from: int | None = None  # an empty (merged) cell: the clause whose printed cell it shares


@dataclass
class Clause:
    number: int
    category: str
    text: str
    source: str
    cells: dict[str, Cell]
    kind: str = "penalty"
    accumulate: bool = False
    max_per_month: int | None = None


def parse_cell(raw: str, party: str, clause: int) -> Cell:
    """One party cell of clause ``clause`` -> amount, unit and escalation flags."""
    text = raw.strip()
    if text == "/":
        return Cell(raw=text)
    for rx, unit, flag in _CELL_PATTERNS:
        m = rx.match(text)
        if not m:
            continue
        if unit is None:
            unit = BARE_COLUMN_UNITS.get(party) or BARE_MANAGER_UNITS.get(clause)
            if unit is None:
                raise ExtractError(f"clause {clause} {party}: bare number {text!r} in a KPI column: read the row "
                                   f"and add the clause to BARE_MANAGER_UNITS")
        cell = Cell(raw=text, amount=float(m.group(1)), unit=unit)
        if flag:
            cell.flags.append(flag)
            if flag == "情节严重":
                cell.note = m.group(2)
            elif flag == "解除协议":
                cell.note = "解除协议"
        return cell
    raise ExtractError(f"clause {clause} {party}: can't read the amount {text!r}")


def _clause_start(cells: list[str]) -> tuple[str, int, list[str]] | None:
    """(category cell, clause number, cells after the number) if the line starts a clause row."""
    for i in (0, 1):
        if i < len(cells) and re.fullmatch(r"\d{1,2}", cells[i].strip()) and (i == 0 or not cells[0].strip()
                                                                              or not cells[0].strip().isdigit()):
            n = int(cells[i])
            if 1 <= n <= CLAUSE_COUNT:
                return (cells[0].strip() if i == 1 else ""), n, cells[i + 1:]
    return None


def extract(text: str, *, warn: list[str] | None = None) -> list[Clause]:
    """Every clause row of the rulebook text, in order; raises `ExtractError` if one is missing or odd."""
    warn = warn if warn is not None else []
    clauses: list[Clause] = []
    in_table = False
    category = ""
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.startswith("类别\t条款"):
            in_table = True
            continue
        if not in_table or not line.strip():
            continue
        cells = line.split("\t")
        start = _clause_start(cells)
        if start is None:
            if line.startswith("\t\t\t\t"):
                continue  # the column header's second line
            warn.append(f"line {lineno}: not a table row, ignored: {line.strip()!r}")
            continue
        cat, number, rest = start
        expected = len(clauses) + 1
        if number != expected:
            raise ExtractError(f"line {lineno}: clause {number} where clause {expected} was expected")
        if cat:
            category = CATEGORY_FIXES.get(cat, cat)
        while rest and not rest[-1].strip():
            rest.pop()
        if not rest:
            raise ExtractError(f"line {lineno}: clause {number} has no text")
        clause_text, after = rest[0].strip(), rest[1:]
        amounts = after[-4:] if len(after) >= 4 else [""] * (4 - len(after)) + after
        source = " ".join(c.strip() for c in after[:-4] if c.strip()) if len(after) > 4 else ""
        cells_by_party: dict[str, Cell] = {}
        for party, raw in zip(PARTIES, amounts, strict=True):
            if not raw.strip():
                above = clauses[-1].cells[party] if clauses else None
                if above is None or not clauses[-1].accumulate:
                    raise ExtractError(f"line {lineno}: clause {number} {party}: empty cell outside the tag block")
                cells_by_party[party] = Cell(raw=above.raw, amount=above.amount, unit=above.unit,
                                             flags=list(above.flags), note=above.note,
                                             merged_from=above.merged_from or clauses[-1].number)
            else:
                cells_by_party[party] = parse_cell(raw, party, number)
        accumulate = any(TAG_MARK in c.raw for c in cells_by_party.values())
        kind = "reward" if category == REWARD_CATEGORY else ("bad_review_tag" if accumulate else "penalty")
        clauses.append(Clause(number=number, category=category, text=clause_text, source=source,
                              cells=cells_by_party, kind=kind, accumulate=accumulate,
                              max_per_month=1 if MONTHLY_ONCE_MARK in clause_text else None))
    if len(clauses) != CLAUSE_COUNT:
        raise ExtractError(f"found {len(clauses)} clauses, expected {CLAUSE_COUNT}")
    return clauses


def _s(value: str) -> str:
    """A TOML basic string (JSON string escaping is valid TOML for these texts)."""
    return json.dumps(value, ensure_ascii=False)


def _cell_toml(cell: Cell) -> str:
    parts = [f"raw = {_s(cell.raw)}"]
    if cell.amount is None:
        parts.append("charged = false")
    else:
        parts += ["charged = true", f"amount = {cell.amount!r}", f"unit = {_s(cell.unit or '')}"]
        if cell.flags:
            parts.append("flags = [" + ", ".join(_s(f) for f in cell.flags) + "]")
        if cell.note:
            parts.append(f"note = {_s(cell.note)}")
    if cell.merged_from is not None:
        parts.append(f"merged_from = {cell.merged_from}")
    return "{ " + ", ".join(parts) + " }"


def to_toml(clauses: list[Clause], *, source_name: str, source_sha256: str) -> str:
    out = [
        "# The rulebook's penalty table, clauses 1-92: 《售后服务规范约定及质量考评》, 服务质量考核汇总.",
        "# GENERATED by scripts/extract_penalty_table.py from the rulebook text; checked by hand against it",
        "# (tests/test_penalty_table.py holds the hand-checked expectations). Edit the rulebook, not this file,",
        "# or edit here and say so in [provenance].",
        "#",
        "# Per clause, one cell per party (contractor = 承包商/第三方平台, engineer = 责任工程师/仓库管理员,",
        "# training_manager = 培训经理/仓库主管, responsible_manager = 责任经理):",
        "#   raw      the cell as printed;  charged = false where it prints \"/\" (that party is not charged);",
        "#            merged_from = N: the row prints an empty (merged) cell that shares clause N's text",
        "#   amount   per occurrence, in unit \"yuan\" (元) or \"kpi\" (KPI points, 分)",
        "#   flags    escalations that need a person: \"+照价赔偿\" (plus compensation at cost), \"+双倍处罚\"",
        "#            (plus double), \"情节严重\" (serious cases: see note), \"解除协议\" (agreement ended)",
        "# kind: penalty | bad_review_tag (accumulate = true: one charge per tag record) | reward (paid to the",
        "# party: the calculator books it as a negative amount); max_per_month: at most that many per party-month.",
        "",
        "schema = \"wocheck.penalty_table/1\"",
        "",
        "[provenance]",
        f"source = {_s(source_name)}",
        f"source_sha256 = {_s(source_sha256)}",
        "extracted_by = \"scripts/extract_penalty_table.py\"",
        "columns = [" + ", ".join(_s(c) for c in COLUMNS_ZH) + "]",
        "bare_manager_units = " + _s(", ".join(f"{k}: {v}" for k, v in sorted(BARE_MANAGER_UNITS.items()))),
        "evaluation_cycle = \"月度汇总 (monthly)\"",
    ]
    for c in clauses:
        out += ["", "[[clause]]", f"number = {c.number}", f"category = {_s(c.category)}", f"kind = {_s(c.kind)}",
                f"text_zh = {_s(c.text)}", f"source_zh = {_s(c.source)}"]
        if c.accumulate:
            out.append("accumulate = true")
        if c.max_per_month is not None:
            out.append(f"max_per_month = {c.max_per_month}")
        for party in PARTIES:
            out.append(f"{party} = {_cell_toml(c.cells[party])}")
    return "\n".join(out) + "\n"


def render(rulebook: Path) -> tuple[str, list[str]]:
    data = rulebook.read_bytes()
    warn: list[str] = []
    clauses = extract(data.decode("utf-8"), warn=warn)
    return to_toml(clauses, source_name=f"seed/{rulebook.name}", source_sha256=hashlib.sha256(data).hexdigest()), warn


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rulebook", nargs="?", type=Path, default=DEFAULT_RULEBOOK)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if --out differs from a fresh extraction")
    args = ap.parse_args(argv)
    try:
        text, warn = render(args.rulebook)
    except (OSError, UnicodeDecodeError, ExtractError) as e:
        print(f"extract_penalty_table: {e}", file=sys.stderr)
        return 2
    for w in warn:
        print(f"extract_penalty_table: {w}", file=sys.stderr)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"extract_penalty_table: {args.out} is out of date", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"extract_penalty_table: wrote {args.out} ({CLAUSE_COUNT} clauses)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

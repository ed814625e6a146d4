"""The penalty calculator: what counts, once per order, months, parties, outputs, and the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wocheck import api
from wocheck.cli import app
from wocheck.errors import ExitCode, InputFileError
from wocheck.penalty.calculator import (
    CSV_BOM,
    MonthError,
    PenaltyReport,
    charges_to_csv,
    compute_penalties,
    render_json_lines,
    report_to_csv,
    report_to_json,
)
from wocheck.penalty.io import Decision, PenaltyRecord, read_decisions, read_penalty_records
from wocheck.penalty.table import PenaltyTable, Role, load_penalty_table

runner = CliRunner()
CLOSED = "2026-12-02T15:41:00+08:00"


@pytest.fixture(scope="module")
def table() -> PenaltyTable:
    return load_penalty_table()


def rec(clause: int, order_id: str = "WO1", *, check: str | None = None, verdict: str = "violation",
        closed_at: str | None = CLOSED, **parties: Any) -> dict[str, Any]:
    """A violation record as the contract's section 5 writes it (party ids overridable, None = null)."""
    d: dict[str, Any] = {
        "schema": "wocheck.violation/1", "order_id": order_id, "clause": clause,
        "check": check or f"test.clause_{clause}", "verdict": verdict, "confidence": 0.97,
        "engineer_id": "E1024", "contractor_id": "C017", "training_manager_id": "M03",
        "responsible_manager_id": "M11", "closed_at": closed_at, "checker_version": "0.1.0",
    }
    d.update(parties)
    return d


def dec(r: dict[str, Any], decision: str) -> dict[str, Any]:
    return {"order_id": r["order_id"], "clause": r["clause"], "check": r["check"], "decision": decision}


def compute(table: PenaltyTable, records: list[dict[str, Any]], *, month: str | None = None,
            decisions: list[dict[str, Any]] = ()) -> PenaltyReport:  # type: ignore[assignment]
    return compute_penalties([PenaltyRecord.model_validate(r) for r in records], table, month=month,
                             decisions=[Decision.model_validate(d) for d in decisions])


def party(report: PenaltyReport, role: str, pid: str, month: str | None = None) -> dict[str, Any]:
    docs = report_to_json(report)
    for doc in docs:
        if month is None or doc["month"] == month:
            for p in doc["parties"]:
                if p["role"] == role and p["id"] == pid:
                    return p
    raise KeyError((role, pid, month))


def roles(report: PenaltyReport) -> set[tuple[str, str]]:
    return {(p["role"], p["id"]) for doc in report_to_json(report) for p in doc["parties"]}


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines),
                    encoding="utf-8")
    return path


# ---- the contract's example and the table's amounts -------------------------------------------------

def test_contract_example_shape(table: PenaltyTable) -> None:
    report = compute(table, [rec(44), rec(45)])
    [doc] = report_to_json(report)
    assert doc["month"] == "2026-12"
    c = party(report, "contractor", "C017")
    assert c["yuan"] == 110.0 and c["kpi_points"] == 0.0 and c["flags"] == []
    assert c["charges"][0] == {"order_id": "WO1", "clause": 44, "yuan": 100.0, "kpi_points": 0.0}
    assert all(set(ch) == {"order_id", "clause", "yuan", "kpi_points"} for ch in c["charges"])
    assert party(report, "engineer", "E1024")["yuan"] == 60.0
    assert (party(report, "training_manager", "M03")["yuan"], party(report, "training_manager", "M03")["kpi_points"]) \
        == (0.0, 2.0)
    assert party(report, "responsible_manager", "M11")["kpi_points"] == 1.0
    assert [p["role"] for p in doc["parties"]] == ["contractor", "engineer", "training_manager",
                                                   "responsible_manager"]
    assert report.exit_code == ExitCode.findings


@pytest.mark.parametrize("clause", range(1, 93))
def test_each_clause_charges_each_party_its_cell(table: PenaltyTable, clause: int) -> None:
    report = compute(table, [rec(clause)])
    rule = table.rule(clause)
    assert rule is not None
    sign = -1.0 if rule.kind.value == "reward" else 1.0
    ids = {Role.contractor: "C017", Role.engineer: "E1024", Role.training_manager: "M03",
           Role.responsible_manager: "M11"}
    for role in Role:
        cell = rule.cell(role)
        if not cell.charged:
            assert (role.value, ids[role]) not in roles(report)
            continue
        p = party(report, role.value, ids[role])
        assert p["yuan"] == sign * cell.yuan + 0.0 and p["kpi_points"] == sign * cell.kpi_points + 0.0


def test_manager_rows_in_yuan(table: PenaltyTable) -> None:
    report = compute(table, [rec(21, "A"), rec(10, "B")])
    rm = party(report, "responsible_manager", "M11")
    assert rm["yuan"] == 150.0 and rm["kpi_points"] == 0.0  # 21: 50元, 10: 100 (yuan)
    tm = party(report, "training_manager", "M03")
    assert tm["yuan"] == 200.0 and tm["kpi_points"] == 0.0
    assert ("contractor", "C017") in roles(report)  # clause 10 charges the contractor, 21 does not
    assert [ch["clause"] for ch in party(report, "contractor", "C017")["charges"]] == [10]


# ---- what counts: verdicts and reviewer decisions ---------------------------------------------------

def test_review_counts_only_when_confirmed(table: PenaltyTable) -> None:
    r = rec(46, verdict="review", check="pipes.messy")
    pending = compute(table, [r])
    assert roles(pending) == set()
    assert report_to_json(pending)[0]["pending_reviews"] == 1
    assert pending.exit_code == ExitCode.findings
    assert any("await a reviewer" in n for n in pending.notes)
    confirmed = compute(table, [r], decisions=[dec(r, "confirmed")])
    assert party(confirmed, "engineer", "E1024")["yuan"] == 10.0
    assert report_to_json(confirmed)[0]["pending_reviews"] == 0
    dismissed = compute(table, [r], decisions=[dec(r, "dismissed")])
    assert report_to_json(dismissed) == [] and dismissed.exit_code == ExitCode.ok


def test_decision_matches_order_clause_and_check(table: PenaltyTable) -> None:
    r = rec(46, verdict="review", check="pipes.messy")
    for wrong in ({"check": "pipes.blur"}, {"clause": 47}, {"order_id": "WO2"}):
        report = compute(table, [r], decisions=[{**dec(r, "confirmed"), **wrong}])
        assert roles(report) == set(), wrong
        assert any("no record" in n for n in report.notes)


def test_dismissal_drops_an_automatic_violation(table: PenaltyTable) -> None:
    v = rec(50, check="authenticity.duplicate")
    assert party(compute(table, [v]), "contractor", "C017")["yuan"] == 50.0
    report = compute(table, [v], decisions=[dec(v, "dismissed")])
    assert roles(report) == set() and report.exit_code == ExitCode.ok
    assert party(compute(table, [v], decisions=[dec(v, "confirmed")]), "contractor", "C017")["yuan"] == 50.0


def test_dismissing_one_finding_keeps_another_of_the_same_clause(table: PenaltyTable) -> None:
    a, b = rec(45, check="form.blur"), rec(45, check="form.field_blank")
    report = compute(table, [a, b], decisions=[dec(a, "dismissed")])
    assert party(report, "engineer", "E1024")["charges"] == [
        {"order_id": "WO1", "clause": 45, "yuan": 10.0, "kpi_points": 0.0}]


def test_later_decision_wins(table: PenaltyTable) -> None:
    r = rec(46, verdict="review")
    report = compute(table, [r], decisions=[dec(r, "confirmed"), dec(r, "dismissed")])
    assert roles(report) == set() and any("later line" in n for n in report.notes)


# ---- once per order; tags accumulate; clause 91 once a month ---------------------------------------

def test_clause_charged_once_per_order(table: PenaltyTable) -> None:
    same_order = [rec(45, check="form.blur"), rec(45, check="form.field_blank"), rec(45, check="form.torn"),
                  rec(45, check="form.blur", verdict="review")]
    e = party(compute(table, same_order), "engineer", "E1024")
    assert e["yuan"] == 10.0 and len(e["charges"]) == 1
    two_orders = [rec(45, "WO1"), rec(45, "WO2"), rec(45, "WO2", check="form.torn")]
    e2 = party(compute(table, two_orders), "engineer", "E1024")
    assert e2["yuan"] == 20.0 and [c["order_id"] for c in e2["charges"]] == ["WO1", "WO2"]


def test_bad_review_tags_accumulate(table: PenaltyTable) -> None:
    tags = [rec(67, check="review_tag.a"), rec(67, check="review_tag.b"), rec(72), rec(89, "WO2")]
    report = compute(table, tags)
    for role, pid in (("contractor", "C017"), ("engineer", "E1024")):
        p = party(report, role, pid)
        assert p["yuan"] == 40.0 and len(p["charges"]) == 4
    assert roles(report) == {("contractor", "C017"), ("engineer", "E1024")}  # managers: "/"
    doubled = compute(table, [rec(67), rec(67)])
    assert party(doubled, "engineer", "E1024")["yuan"] == 20.0
    assert any("identical" in n for n in doubled.notes)


def test_clause_91_at_most_once_a_month_per_party(table: PenaltyTable) -> None:
    praise = [rec(91, "WO2", closed_at="2026-12-20T10:00:00+08:00"),
              rec(91, "WO1", closed_at="2026-12-05T10:00:00+08:00"),
              rec(91, "WO3", closed_at="2026-12-07T10:00:00+08:00", engineer_id="E2"),
              rec(91, "WO4", closed_at="2027-01-03T10:00:00+08:00")]
    report = compute(table, praise)
    e = party(report, "engineer", "E1024", "2026-12")
    assert e["yuan"] == -100.0 and e["rewards_yuan"] == 100.0
    assert [c["order_id"] for c in e["charges"]] == ["WO1"]  # the earliest
    assert party(report, "engineer", "E2", "2026-12")["yuan"] == -100.0
    assert party(report, "engineer", "E1024", "2027-01")["yuan"] == -100.0
    c = party(report, "contractor", "C017", "2026-12")
    assert c["yuan"] == -100.0 and len(c["charges"]) == 1  # contractor C017 served WO1-WO3: one reward
    # not booked: E1024's WO2; C017's WO2 and WO3
    assert [n for n in report.notes if "not booked" in n] == [
        "2026-12: clause 91: 3 charge(s) not booked, over the rulebook's limit of 1 a month per party "
        "(status limited in --charges-csv)"]
    assert charges_to_csv(report).count(",limited") == 3


def test_rewards_net_against_fines(table: PenaltyTable) -> None:
    report = compute(table, [rec(44, "WO1"), rec(92, "WO2"), rec(90, "WO3")])
    c = party(report, "contractor", "C017")
    assert (c["fines_yuan"], c["rewards_yuan"], c["yuan"]) == (100.0, 1100.0, -1000.0)
    assert {ch["clause"]: ch["yuan"] for ch in c["charges"]} == {44: 100.0, 90: -100.0, 92: -1000.0}
    assert c["yuan"] == sum(ch["yuan"] for ch in c["charges"])
    assert "-0.0" not in json.dumps(report_to_json(report))


# ---- escalation flags -------------------------------------------------------------------------------

def test_escalation_flags(table: PenaltyTable) -> None:
    report = compute(table, [rec(18, "WO1"), rec(31, "WO2"), rec(10, "WO3"), rec(19, "WO4"), rec(45, "WO5")])
    c, e = party(report, "contractor", "C017"), party(report, "engineer", "E1024")
    assert c["flags"] == ["+照价赔偿", "+双倍处罚", "情节严重"]
    assert e["flags"] == ["+照价赔偿", "+双倍处罚", "情节严重", "解除协议"]
    assert party(report, "training_manager", "M03")["flags"] == []
    esc = {(x["order_id"], x["flag"]): x for x in c["escalations"]}
    assert set(esc) == {("WO1", "+照价赔偿"), ("WO2", "+双倍处罚"), ("WO3", "情节严重"), ("WO4", "情节严重")}
    assert esc[("WO3", "情节严重")]["note"] == "情节严重的解除服务协议"
    assert c["yuan"] == 100 + 300 + 1000 + 5000 + 10  # the escalations add nothing by themselves


# ---- months and offsets -----------------------------------------------------------------------------

def test_month_from_closed_at_in_its_own_offset(table: PenaltyTable) -> None:
    records = [rec(45, "DEC", closed_at="2026-12-01T00:30:00+08:00"),  # 2026-11-30 16:30 UTC
               rec(45, "NOV", closed_at="2026-11-30T20:00:00-05:00"),  # 2026-12-01 01:00 UTC
               rec(45, "JAN", closed_at="2027-01-01T00:00:00+08:00")]
    report = compute(table, records)
    assert [m.month for m in report.months] == ["2026-11", "2026-12", "2027-01"]
    assert [c["order_id"] for c in party(report, "engineer", "E1024", "2026-12")["charges"]] == ["DEC"]
    assert [c["order_id"] for c in party(report, "engineer", "E1024", "2026-11")["charges"]] == ["NOV"]
    only = compute(table, records, month="2026-12")
    [doc] = report_to_json(only)
    assert doc["month"] == "2026-12"
    assert [c["order_id"] for p in doc["parties"] for c in p["charges"]] == ["DEC"] * 2


def test_month_filter_with_nothing_in_it(table: PenaltyTable) -> None:
    report = compute(table, [rec(45)], month="2025-01")
    assert report_to_json(report) == [{"month": "2025-01", "parties": [], "uncharged": [], "pending_reviews": 0}]
    assert report.exit_code == ExitCode.ok
    assert report_to_json(compute(table, [])) == []


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "202612", "12-2026", "2026-00", ""])
def test_bad_month_is_refused(table: PenaltyTable, bad: str) -> None:
    with pytest.raises(MonthError, match="YYYY-MM"):
        compute(table, [rec(45)], month=bad)


# ---- parties ----------------------------------------------------------------------------------------

def test_null_party_is_not_charged_and_says_so(table: PenaltyTable) -> None:
    report = compute(table, [rec(44, contractor_id=None, training_manager_id=""), rec(45, "WO2")])
    assert party(report, "contractor", "C017")["charges"] == [
        {"order_id": "WO2", "clause": 45, "yuan": 10.0, "kpi_points": 0.0}]
    assert ("training_manager", "M03") not in roles(report)
    [doc] = report_to_json(report)
    assert doc["uncharged"] == [
        {"role": "contractor", "order_id": "WO1", "clause": 44, "yuan": 100.0, "kpi_points": 0.0},
        {"role": "training_manager", "order_id": "WO1", "clause": 44, "yuan": 0.0, "kpi_points": 2.0}]
    assert any("no contractor_id (1)" in n and "no training_manager_id (1)" in n for n in report.notes)
    assert party(report, "engineer", "E1024")["yuan"] == 60.0


def test_parties_are_kept_apart(table: PenaltyTable) -> None:
    report = compute(table, [rec(45, "WO1"), rec(45, "WO2", engineer_id="E2", contractor_id="C018")])
    assert party(report, "engineer", "E1024")["yuan"] == 10.0 and party(report, "engineer", "E2")["yuan"] == 10.0
    assert party(report, "contractor", "C018")["charges"][0]["order_id"] == "WO2"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["WO1", "WO2", "WO3"]), st.sampled_from([1, 18, 21, 44, 45, 67, 91]),
                          st.sampled_from(["a.x", "a.y"]), st.sampled_from(["violation", "review"])),
                max_size=12), st.randoms())
def test_sums_match_charges_and_ignore_record_order(items: list[tuple[str, int, str, str]], rnd: Any) -> None:
    table = load_penalty_table()
    ids = {"WO1": ("E1", "C1"), "WO2": ("E2", "C1"), "WO3": ("E1", "C2")}
    records = [rec(c, o, check=k, verdict=v, engineer_id=ids[o][0], contractor_id=ids[o][1]) for o, c, k, v in items]
    report = compute(table, records)
    shuffled = list(records)
    rnd.shuffle(shuffled)
    again = compute(table, shuffled)

    def totals(r: PenaltyReport) -> dict[tuple[str, str], tuple[float, float, int]]:
        return {(p["role"], p["id"]): (p["yuan"], p["kpi_points"], len(p["charges"]))
                for doc in report_to_json(r) for p in doc["parties"]}

    assert totals(report) == totals(again)
    for doc in report_to_json(report):
        for p in doc["parties"]:
            assert p["yuan"] == pytest.approx(sum(c["yuan"] for c in p["charges"]))
            once = [(c["order_id"], c["clause"]) for c in p["charges"] if c["clause"] != 67]
            assert len(once) == len(set(once))
    counted_67 = sum(1 for _o, c, _k, v in items if c == 67 and v == "violation")
    assert sum(1 for doc in report_to_json(report) for p in doc["parties"] if p["role"] == "engineer"
               for c in p["charges"] if c["clause"] == 67) == counted_67


# ---- reading the input ------------------------------------------------------------------------------

def test_bad_lines_are_rejected_with_line_and_reason_and_the_rest_count(tmp_path: Path) -> None:
    lines: list[Any] = [
        rec(45, "WO1"),
        "not json",
        {k: v for k, v in rec(45, "WO2").items() if k != "closed_at"},
        rec(45, "WO3", closed_at="2026-12-02T15:41:00"),
        rec(45, "WO4", closed_at=None),
        {**rec(93, "WO5")},
        {**rec(45, "WO6"), "verdict": "maybe"},
        {"schema": "wocheck.input_error/1", "line": 3, "order_id": "WO7", "reason": "x"},
        "[1, 2]",
        "",
        rec(44, "WO8"),
    ]
    path = write_jsonl(tmp_path / "v.jsonl", lines)
    got = read_penalty_records(path)
    assert [r.order_id for r in got.values] == ["WO1", "WO8"]
    reasons = {r.line: r.reason for r in got.rejected}
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 8, 9}
    assert "not valid JSON" in reasons[2]
    assert "closed_at" in reasons[3] and "offset" in reasons[4] and "closed_at is empty" in reasons[5]
    assert "clause" in reasons[6] and "verdict" in reasons[7] and "schema" in reasons[8]
    assert "JSON object" in reasons[9]
    report = api.penalty(path)
    assert len(report.rejected) == 8 and all(str(path) in r for r in report.rejected)
    assert party(report, "engineer", "E1024")["yuan"] == 60.0
    assert report.exit_code == ExitCode.bad_input


def test_records_from_other_departments_need_no_confidence(tmp_path: Path) -> None:
    callback = {"order_id": "WO9", "clause": 23, "check": "callback.rude", "verdict": "violation",
                "engineer_id": "E5", "closed_at": "2026-12-09T10:00:00+08:00", "caller": "客服部"}
    report = api.penalty(write_jsonl(tmp_path / "v.jsonl", [callback]))
    assert not report.rejected
    assert party(report, "engineer", "E5")["yuan"] == 500.0


def test_bom_and_bad_decision_lines(tmp_path: Path) -> None:
    r = rec(46, verdict="review")
    v = tmp_path / "v.jsonl"
    v.write_bytes(b"\xef\xbb\xbf" + json.dumps(r).encode() + b"\n")
    d = write_jsonl(tmp_path / "d.jsonl", [dec(r, "confirmed"), {**dec(r, "ok")}, "{"])
    got = read_decisions(d)
    assert len(got.values) == 1 and [x.line for x in got.rejected] == [2, 3]
    report = api.penalty(v, decisions_path=d)
    assert party(report, "engineer", "E1024")["yuan"] == 10.0
    assert len(report.rejected) == 2 and "decision" in report.rejected[0]


def test_missing_file_is_an_input_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="can't open violations file"):
        read_penalty_records(tmp_path / "nope.jsonl")


# ---- outputs ----------------------------------------------------------------------------------------

def test_csv_one_row_per_party_and_month_with_bom(table: PenaltyTable) -> None:
    report = compute(table, [rec(44, "WO1"), rec(18, "WO2", closed_at="2027-01-02T09:00:00+08:00")])
    text = report_to_csv(report)
    assert text.startswith(CSV_BOM)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(CSV_BOM))))
    assert len(rows) == 4 + 2
    by_key = {(r["month"], r["role"], r["party_id"]): r for r in rows}
    assert by_key[("2026-12", "contractor", "C017")]["yuan"] == "100.00"
    assert by_key[("2026-12", "training_manager", "M03")]["kpi_points"] == "2.00"
    assert by_key[("2027-01", "engineer", "E1024")]["flags"] == "+照价赔偿"
    for doc in report_to_json(report):
        for p in doc["parties"]:
            assert float(by_key[(doc["month"], p["role"], p["id"])]["yuan"]) == p["yuan"]


def test_charges_csv(table: PenaltyTable) -> None:
    report = compute(table, [rec(44, contractor_id=None)])
    rows = list(csv.DictReader(io.StringIO(charges_to_csv(report).removeprefix(CSV_BOM))))
    assert {(r["role"], r["status"]) for r in rows} == {("contractor", "uncharged"), ("engineer", "charged"),
                                                        ("training_manager", "charged"),
                                                        ("responsible_manager", "charged")}


def test_json_lines_one_object_per_month(table: PenaltyTable) -> None:
    one = render_json_lines(compute(table, [rec(45)]))
    assert json.loads(one)["month"] == "2026-12"
    two = render_json_lines(compute(table, [rec(45), rec(45, "WO2", closed_at="2027-01-02T09:00:00+08:00")]))
    assert [json.loads(line)["month"] for line in two.splitlines()] == ["2026-12", "2027-01"]


# ---- the command ------------------------------------------------------------------------------------

def test_cli_json_and_exit_codes(tmp_path: Path) -> None:
    v = write_jsonl(tmp_path / "v.jsonl", [rec(44), rec(45)])
    res = runner.invoke(app, ["penalty", str(v), "--format", "json", "--month", "2026-12"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert doc["month"] == "2026-12"
    assert [p for p in doc["parties"] if p["role"] == "contractor"][0]["yuan"] == 110.0

    res_csv = runner.invoke(app, ["penalty", str(v)])
    assert res_csv.exit_code == 1 and res_csv.stdout.startswith(CSV_BOM + "month,role,party_id")

    empty = runner.invoke(app, ["penalty", str(v), "--month", "2026-01", "--format", "json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout)["parties"] == []

    bad = write_jsonl(tmp_path / "bad.jsonl", [rec(45), "nope"])
    res_bad = runner.invoke(app, ["penalty", str(bad), "--format", "json"])
    assert res_bad.exit_code == 2
    assert json.loads(res_bad.stdout)["parties"]  # the good line is still summed
    assert "line 2" in res_bad.stderr and "not valid JSON" in res_bad.stderr

    assert runner.invoke(app, ["penalty", str(v), "--month", "2026-13"]).exit_code == 2
    assert runner.invoke(app, ["penalty", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_cli_decisions_notes_and_charges_csv(tmp_path: Path) -> None:
    r = rec(46, verdict="review", contractor_id=None)
    v = write_jsonl(tmp_path / "v.jsonl", [r])
    pending = runner.invoke(app, ["penalty", str(v), "--format", "json"])
    assert pending.exit_code == 1 and "await a reviewer" in pending.stderr
    d = write_jsonl(tmp_path / "d.jsonl", [dec(r, "confirmed")])
    out = tmp_path / "charges.csv"
    res = runner.invoke(app, ["penalty", str(v), "--decisions", str(d), "--charges-csv", str(out)])
    assert res.exit_code == 1, res.output
    assert "no contractor_id (1)" in res.stderr
    assert out.read_text(encoding="utf-8").startswith(CSV_BOM + "month,role,party_id,order_id")
    dismissed = write_jsonl(tmp_path / "d2.jsonl", [dec(r, "dismissed")])
    assert runner.invoke(app, ["penalty", str(v), "--decisions", str(dismissed)]).exit_code == 0

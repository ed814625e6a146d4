"""The monthly sums per party from violation records, the rulebook's table and reviewer decisions.

What counts (the back office's rules, written down here and in the project docs):

- A ``violation`` record counts unless a reviewer dismissed it (a decision ``dismissed`` on the same
  ``order_id`` + ``clause`` + ``check``): a reviewer's dismissal overrides the automatic verdict.
- A ``review`` record counts only once a reviewer ``confirmed`` it; without a decision it is pending
  (counted in ``pending_reviews``, charged to nobody).
- A clause is charged at most once per order: several counted findings of one clause in one order are
  one charge (the first in file order). Bad-review tags (clauses with ``accumulate``, 67-89) are charged
  once per record: each tag is 10 yuan and they add up.
- The month is ``closed_at``'s year and month in its own offset (the company's local time); ``month``
  keeps one month, otherwise every month present is reported, each month separately.
- A charge goes to the contractor, the engineer, the training manager and the responsible manager of
  the record, as far as the clause's row charges them (``/`` = not charged). A ``null`` party id means
  that party is not charged: the charge is listed under the month's ``uncharged`` and in `notes`.
- Rewards (clauses 90-92) are booked as negative amounts; a clause with ``max_per_month`` (91: 每月限一次)
  is paid at most that many times per party and month (the earliest by ``closed_at``).
- ``flags`` are the escalations of the charged cells that need a person (``+照价赔偿``, ``+双倍处罚``,
  ``情节严重``, ``解除协议``); ``escalations`` says which order and clause raised each.

Output: `report_to_json` gives one contract object per month (``{"month", "parties": [...]}``),
`render_json_lines` prints them one a line (one month: exactly the contract's one object);
`report_to_csv` one row per party and month (UTF-8 with BOM so that Excel opens it), `charges_to_csv`
one row per charge.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wocheck.errors import ExitCode, WocheckError
from wocheck.penalty.io import Decision, PenaltyRecord, Rejected
from wocheck.penalty.table import FLAG_ORDER, ClauseKind, ClauseRule, PenaltyTable, Role

log = logging.getLogger(__name__)

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CSV_BOM = "\ufeff"
_ROLE_ORDER = {r: i for i, r in enumerate(Role)}
_ID_FIELD = {Role.contractor: "contractor_id", Role.engineer: "engineer_id",
             Role.training_manager: "training_manager_id", Role.responsible_manager: "responsible_manager_id"}
_MONEY_DECIMALS = 2  # yuan to the fen
_NOTE_EXAMPLES = 3  # how many items a summarising note names


class MonthError(WocheckError):
    """``--month`` is not a month of the form YYYY-MM."""

    exit_code = ExitCode.bad_input


def parse_month(month: str) -> str:
    """Validate ``YYYY-MM`` and return it; raises `MonthError` with how to write it."""
    if not MONTH_RE.match(month):
        raise MonthError(f"--month {month!r} is not a month: write it as YYYY-MM, e.g. 2026-12")
    return month


@dataclass(frozen=True)
class Charge:
    """One clause charged to one party for one order (or one bad-review tag record)."""

    order_id: str
    clause: int
    yuan: float  # negative for rewards
    kpi_points: float
    closed_at: datetime
    flags: tuple[str, ...] = ()
    note: str = ""  # the rulebook's words for the flags (情节严重的解除服务协议 ...)
    seq: int = 0  # position of the record that raised it, in file order

    def sort_key(self) -> tuple[float, str, int, int]:
        """Earliest closing first (an instant: offsets compared), then order, clause, file order."""
        return (self.closed_at.timestamp(), self.order_id, self.clause, self.seq)

    def to_json(self) -> dict[str, Any]:
        """The contract's charge object: exactly ``order_id``, ``clause``, ``yuan``, ``kpi_points``."""
        return {"order_id": self.order_id, "clause": self.clause, "yuan": self.yuan, "kpi_points": self.kpi_points}


@dataclass(frozen=True)
class PartyMonth:
    """One party's sums for one month."""

    role: Role
    id: str
    charges: tuple[Charge, ...]

    @property
    def yuan(self) -> float:
        """Net yuan: fines minus rewards."""
        return _total(c.yuan for c in self.charges)

    @property
    def fines_yuan(self) -> float:
        return _total(c.yuan for c in self.charges if c.yuan > 0)

    @property
    def rewards_yuan(self) -> float:
        """Rewards as a positive number (they are negative in ``yuan``)."""
        return _total(-c.yuan for c in self.charges if c.yuan < 0)

    @property
    def kpi_points(self) -> float:
        return _total(c.kpi_points for c in self.charges)

    @property
    def flags(self) -> list[str]:
        present = {f for c in self.charges for f in c.flags}
        return [f for f in FLAG_ORDER if f in present]

    def to_json(self) -> dict[str, Any]:
        escalations = [{"order_id": c.order_id, "clause": c.clause, "flag": f, "note": c.note}
                       for c in self.charges for f in c.flags]
        return {"role": self.role.value, "id": self.id, "yuan": self.yuan, "kpi_points": self.kpi_points,
                "flags": self.flags, "charges": [c.to_json() for c in self.charges],
                "fines_yuan": self.fines_yuan, "rewards_yuan": self.rewards_yuan, "escalations": escalations}


@dataclass(frozen=True)
class Uncharged:
    """A charge the table makes that nobody pays: the record has no id for that party."""

    role: Role
    charge: Charge

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role.value, **self.charge.to_json()}


@dataclass(frozen=True)
class MonthReport:
    month: str
    parties: tuple[PartyMonth, ...]
    uncharged: tuple[Uncharged, ...] = ()
    limited: tuple[tuple[Role, str, Charge], ...] = ()  # dropped by a clause's max_per_month
    pending_reviews: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "parties": [p.to_json() for p in self.parties],
                "uncharged": [u.to_json() for u in self.uncharged], "pending_reviews": self.pending_reviews}


@dataclass(frozen=True)
class PenaltyReport:
    """The result: one `MonthReport` per month, the unusable input lines, and notes for a person."""

    months: tuple[MonthReport, ...]
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def charged(self) -> bool:
        return any(p.charges for m in self.months for p in m.parties)

    @property
    def exit_code(self) -> ExitCode:
        """2 if a line was rejected, 1 if anything is charged or awaits review, else 0 (contract section 6)."""
        if self.rejected:
            return ExitCode.bad_input
        if self.charged or any(m.pending_reviews or m.uncharged for m in self.months):
            return ExitCode.findings
        return ExitCode.ok


@dataclass(frozen=True)
class _Counted:
    seq: int  # position in the input: "first" means first in file order
    record: PenaltyRecord
    rule: ClauseRule


def _decision_map(decisions: Iterable[Decision], notes: list[str]) -> dict[tuple[str, int, str], Decision]:
    out: dict[tuple[str, int, str], Decision] = {}
    for d in decisions:
        prev = out.get(d.key)
        if prev is not None and prev.decision != d.decision:
            notes.append(f"decisions: order {d.order_id} clause {d.clause} check {d.check} is both "
                         f"{prev.decision} and {d.decision}: the later line ({d.decision}) wins")
        out[d.key] = d
    return out


def _signed(sign: float, amount: float) -> float:
    """``sign * amount`` without a negative zero."""
    return sign * amount if amount else 0.0


def _total(values: Iterable[float]) -> float:
    """A sum of amounts, rounded to fen (0.01), always a float."""
    return float(round(sum(values, 0.0), _MONEY_DECIMALS)) + 0.0


def _counts(verdict: str, decision: str | None) -> bool:
    """Whether a finding is charged: a violation unless dismissed, a review only once confirmed."""
    if verdict == "violation":
        return decision != "dismissed"
    return decision == "confirmed"


def compute_penalties(records: Iterable[PenaltyRecord], table: PenaltyTable, *, month: str | None = None,
                      decisions: Iterable[Decision] = (), rejected: Iterable[Rejected | str] = ()) -> PenaltyReport:
    """Sum the charges per month and party; see the module docstring for the rules.

    ``records`` and ``decisions`` are what `wocheck.penalty.io` reads, in file order; ``rejected`` are the
    lines the readers refused, carried into the report. Raises `MonthError` when ``month`` is not ``YYYY-MM``.
    """
    if month is not None:
        parse_month(month)
    notes: list[str] = []
    dmap = _decision_map(decisions, notes)
    used_decisions: set[tuple[str, int, str]] = set()
    rejected_out = [str(r) for r in rejected]

    counted: list[_Counted] = []
    pending: Counter[str] = Counter()
    for seq, rec in enumerate(records):
        rule = table.rule(rec.clause)
        if rule is None:
            rejected_out.append(f"order {rec.order_id}: clause {rec.clause} is not in the penalty table "
                                f"({table.source or 'the rulebook'} has clauses 1-{len(table.clauses)})")
            continue
        key = (rec.order_id, rec.clause, rec.check)
        found = dmap.get(key)
        if found is not None:
            used_decisions.add(key)
        decision = found.decision if found is not None else None
        if month is not None and rec.month != month:
            continue
        if rec.verdict == "review" and decision is None:
            pending[rec.month] += 1
        if _counts(rec.verdict, decision):
            counted.append(_Counted(seq, rec, rule))

    unused = sorted(dmap.keys() - used_decisions)
    if unused:
        shown = "; ".join(f"order {o} clause {c} check {k}" for o, c, k in unused[:_NOTE_EXAMPLES])
        more = f" and {len(unused) - _NOTE_EXAMPLES} more" if len(unused) > _NOTE_EXAMPLES else ""
        notes.append(f"decisions: {len(unused)} decision(s) match no record: {shown}{more}")

    # Once per order and clause (the first finding in file order), except accumulating clauses (one charge
    # per record: bad-review tags add up).
    occurrences: list[_Counted] = []
    seen_order_clause: set[tuple[str, int]] = set()
    identical: Counter[str] = Counter()
    for c in counted:
        if c.rule.accumulate:
            identical[c.record.model_dump_json(by_alias=True)] += 1
            occurrences.append(c)
            continue
        k = (c.record.order_id, c.record.clause)
        if k not in seen_order_clause:
            seen_order_clause.add(k)
            occurrences.append(c)
    log.info("%d counted finding(s) -> %d charge(s)", len(counted), len(occurrences))
    repeated = sum(n - 1 for n in identical.values() if n > 1)
    if repeated:
        notes.append(f"{repeated} bad-review tag record(s) repeat an identical record; each record is charged "
                     f"(tags accumulate): check the export for duplicates")

    by_party: dict[tuple[str, Role, str], list[Charge]] = defaultdict(list)
    uncharged: dict[str, list[Uncharged]] = defaultdict(list)
    months: set[str] = {month} if month is not None else set(pending)
    for c in occurrences:
        rec, rule = c.record, c.rule
        sign = -1.0 if rule.kind == ClauseKind.reward else 1.0
        months.add(rec.month)
        for role in Role:
            cell = rule.cell(role)
            if not cell.charged:
                continue
            charge = Charge(order_id=rec.order_id, clause=rec.clause, yuan=_signed(sign, cell.yuan),
                            kpi_points=_signed(sign, cell.kpi_points), closed_at=rec.closed_at, flags=tuple(cell.flags),
                            note=cell.note, seq=c.seq)
            party_id = getattr(rec, _ID_FIELD[role])
            if party_id is None:
                uncharged[rec.month].append(Uncharged(role, charge))
            else:
                by_party[(rec.month, role, party_id)].append(charge)

    limited: dict[str, list[tuple[Role, str, Charge]]] = defaultdict(list)
    parties: dict[str, list[PartyMonth]] = defaultdict(list)
    for (m, role, pid), charges in by_party.items():
        charges.sort(key=Charge.sort_key)
        kept: list[Charge] = []
        per_clause: Counter[int] = Counter()
        for ch in charges:
            per_clause[ch.clause] += 1
            limit = table.clauses[ch.clause - 1].max_per_month
            if limit is not None and per_clause[ch.clause] > limit:
                limited[m].append((role, pid, ch))
            else:
                kept.append(ch)
        parties[m].append(PartyMonth(role, pid, tuple(kept)))

    out: list[MonthReport] = []
    for m in sorted(months):
        ps = sorted(parties.get(m, []), key=lambda p: (_ROLE_ORDER[p.role], p.id))
        un = sorted(uncharged.get(m, []), key=lambda u: (_ROLE_ORDER[u.role], *u.charge.sort_key()))
        if un:
            per_role = Counter(u.role for u in un)
            what = ", ".join(f"no {_ID_FIELD[r]} ({per_role[r]})" for r in Role if per_role[r])
            notes.append(f"{m}: {len(un)} charge(s) not charged to anyone: {what}")
        if limited.get(m):
            per_clause_limited = Counter(ch.clause for _r, _p, ch in limited[m])
            for clause, n in sorted(per_clause_limited.items()):
                notes.append(f"{m}: clause {clause}: {n} charge(s) not booked, over the rulebook's limit of "
                             f"{table.clauses[clause - 1].max_per_month} a month per party (status limited in "
                             f"--charges-csv)")
        if pending[m]:
            notes.append(f"{m}: {pending[m]} review finding(s) await a reviewer's decision and are not charged")
        out.append(MonthReport(m, tuple(ps), tuple(un), tuple(limited.get(m, [])), pending[m]))
    return PenaltyReport(tuple(out), rejected_out, notes)


# ---- output ----------------------------------------------------------------------------------------

def report_to_json(report: PenaltyReport) -> list[dict[str, Any]]:
    """One contract object (``{"month", "parties", ...}``) per month, in month order."""
    return [m.to_json() for m in report.months]


def render_json_lines(report: PenaltyReport) -> str:
    """The JSON output: one month object a line (one month: exactly one JSON object)."""
    return "".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in report_to_json(report))


def _num(x: float) -> str:
    return f"{x:.2f}"


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows(rows)
    return CSV_BOM + buf.getvalue()


PARTY_CSV_HEADER = ["month", "role", "party_id", "yuan", "fines_yuan", "rewards_yuan", "kpi_points", "charges",
                    "flags"]
CHARGE_CSV_HEADER = ["month", "role", "party_id", "order_id", "clause", "yuan", "kpi_points", "flags", "status"]


def report_to_csv(report: PenaltyReport) -> str:
    """One row per party and month (UTF-8 with BOM, CRLF): the sums; ``flags`` joined by ``;``."""
    rows = [PARTY_CSV_HEADER]
    for m in report.months:
        for p in m.parties:
            rows.append([m.month, p.role.value, p.id, _num(p.yuan), _num(p.fines_yuan), _num(p.rewards_yuan),
                         _num(p.kpi_points), str(len(p.charges)), ";".join(p.flags)])
    return _csv(rows)


def charges_to_csv(report: PenaltyReport) -> str:
    """One row per charge (UTF-8 with BOM): ``status`` is ``charged``, ``uncharged`` (no party id) or
    ``limited`` (over the clause's monthly limit, not booked)."""
    rows = [CHARGE_CSV_HEADER]

    def row(m: str, role: Role, pid: str, ch: Charge, status: str) -> list[str]:
        return [m, role.value, pid, ch.order_id, str(ch.clause), _num(ch.yuan), _num(ch.kpi_points),
                ";".join(ch.flags), status]

    for m in report.months:
        for p in m.parties:
            rows += [row(m.month, p.role, p.id, ch, "charged") for ch in p.charges]
        rows += [row(m.month, u.role, "", u.charge, "uncharged") for u in m.uncharged]
        rows += [row(m.month, role, pid, ch, "limited") for role, pid, ch in m.limited]
    return _csv(rows)

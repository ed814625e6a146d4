#!/usr/bin/env python3
"""Accuracy of a wocheck scan against a generated fixture set's truth, per clause and per defect.

    scripts/evaluate.py fixtures/sample [--workers N] [--json OUT.json] [--out DIR]
    scripts/evaluate.py fixtures/sample --violations DIR   # score an existing scan (DIR/nightN/...)

Scans each night of the set in order (`wocheck.api.scan`, one shared --db so that reuse across nights can
be caught), then scores at the level of (order, clause) pairs:

- flagged recall: truth pairs with any finding of that clause (violation or review);
- automatic recall: truth pairs the contract expects as violations, found as violations;
- automatic precision: violation pairs that are in the truth;
- flagged precision: pairs with any finding that are in the truth;
- review load: share of clean orders with any finding (per clause: with a finding of that clause).

A breakdown per defect name gives each defect's flagged and automatic recall. Photo defects whose
inspectors don't exist yet show recall 0: that is the point of the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Pair = tuple[str, int]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def nights_of(fixture_dir: Path) -> list[dict[str, Any]]:
    """The nights of a set from its manifest (or the single night in FIXTURE_DIR when there is none)."""
    man = fixture_dir / "manifest.json"
    if man.exists():
        return list(json.loads(man.read_text(encoding="utf-8"))["nights"])
    return [{"night": 1, "dir": ".", "orders": "orders.jsonl", "photos": "photos", "truth": "truth.jsonl"}]


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def score(truth: Iterable[dict[str, Any]], violations: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Pair-level figures from truth lines and violation records (pure; see the module docstring).

    Each figure is a share in [0, 1], or None when its denominator is empty. Orders present in the
    violations but absent from the truth are ignored (they are not part of the set).
    """
    truth = list(truth)
    orders = {t["order_id"] for t in truth}
    clean = {t["order_id"] for t in truth if t["clean"]}
    t_pairs: dict[Pair, list[dict[str, Any]]] = defaultdict(list)
    for t in truth:
        for d in t["defects"]:
            t_pairs[(t["order_id"], int(d["clause"]))].append(d)
    auto_pairs = {p for p, ds in t_pairs.items()
                  if any(d.get("detail", {}).get("expected_verdict") != "review" for d in ds)}
    flagged: set[Pair] = set()
    auto: set[Pair] = set()
    checks_fp: dict[str, int] = defaultdict(int)
    for v in violations:
        if v.get("order_id") not in orders:
            continue
        p = (v["order_id"], int(v["clause"]))
        flagged.add(p)
        if v.get("verdict") == "violation":
            auto.add(p)
        if p not in t_pairs:
            checks_fp[f"{v['clause']}:{v.get('check')}"] += 1
    clauses = sorted({c for _, c in t_pairs} | {c for _, c in flagged})

    def figures(tp: set[Pair], ap: set[Pair], fl: set[Pair], au: set[Pair], clean_hit: int) -> dict[str, Any]:
        return {
            "truth_pairs": len(tp), "flagged_pairs": len(fl), "violation_pairs": len(au),
            "flagged_recall": _ratio(len(tp & fl), len(tp)),
            "automatic_recall": _ratio(len(ap & au), len(ap)),
            "automatic_precision": _ratio(len(au & tp), len(au)),
            "flagged_precision": _ratio(len(fl & tp), len(fl)),
            "review_load": _ratio(clean_hit, len(clean)),
        }

    per_clause = {}
    for c in clauses:
        tp = {p for p in t_pairs if p[1] == c}
        per_clause[str(c)] = figures(tp, {p for p in auto_pairs if p[1] == c}, {p for p in flagged if p[1] == c},
                                     {p for p in auto if p[1] == c},
                                     len({o for o, cc in flagged if cc == c and o in clean}))
    overall = figures(set(t_pairs), auto_pairs, flagged, auto, len({o for o, _ in flagged if o in clean}))
    per_defect: dict[str, dict[str, Any]] = {}
    for p, ds in t_pairs.items():
        for d in ds:
            e = per_defect.setdefault(d["defect"], {"clause": int(d["clause"]), "n": 0, "flagged": 0, "violation": 0,
                                                   "expected_review": d.get("detail", {}).get(
                                                       "expected_verdict") == "review"})
            e["n"] += 1
            e["flagged"] += p in flagged
            e["violation"] += p in auto
    for e in per_defect.values():
        e["flagged_recall"] = e["flagged"] / e["n"]
        e["automatic_recall"] = e["violation"] / e["n"]
    hard: dict[str, dict[str, int]] = {}
    for t in truth:
        if not t["clean"]:
            continue
        hit = any(o == t["order_id"] for o, _ in flagged)
        for h in t.get("hard_cases", []):
            e2 = hard.setdefault(h, {"n": 0, "flagged": 0})
            e2["n"] += 1
            e2["flagged"] += hit
    return {"orders": len(orders), "clean_orders": len(clean), "overall": overall, "per_clause": per_clause,
            "per_defect": dict(sorted(per_defect.items())), "hard_cases_flagged": dict(sorted(hard.items())),
            "false_positive_checks": dict(sorted(checks_fp.items(), key=lambda kv: -kv[1]))}


def run_scans(fixture_dir: Path, out: Path, workers: int) -> list[dict[str, Any]]:
    """Scan each night of the set into out/nightN (one shared history DB); returns the violation records."""
    from wocheck.api import scan
    from wocheck.pipeline.scan import ScanSettings

    records: list[dict[str, Any]] = []
    db = out / "history.sqlite"
    out.mkdir(parents=True, exist_ok=True)
    for n in nights_of(fixture_dir):
        night_out = out / f"night{n['night']}"
        settings = ScanSettings(orders_path=fixture_dir / n["orders"], photo_root=fixture_dir / n["photos"],
                                out_dir=night_out, workers=workers, db_path=db, progress=False)
        t0 = time.monotonic()
        summary = scan(settings)
        print(f"night {n['night']}: scanned {summary.orders} orders in {time.monotonic() - t0:.1f} s "
              f"({summary.violations} violations, {summary.reviews} reviews, {summary.input_errors} input errors)",
              file=sys.stderr)
        records += read_jsonl(night_out / "violations.jsonl")
    return records


def _fmt(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.2f}"


def table(result: dict[str, Any]) -> str:
    cols = ("flagged_recall", "automatic_recall", "automatic_precision", "review_load")
    lines = [f"{result['orders']} orders, {result['clean_orders']} clean",
             f"{'clause':>7} {'pairs':>5} {'flag.rec':>8} {'auto.rec':>8} {'auto.prec':>9} {'rev.load':>8}"]
    for c, f in [*result["per_clause"].items(), ("all", result["overall"])]:
        lines.append(f"{c:>7} {f['truth_pairs']:>5} " + " ".join(f"{_fmt(f[k]):>8}" for k in cols))
    lines.append("")
    lines.append(f"{'defect':<34} {'clause':>6} {'n':>4} {'flag.rec':>8} {'auto.rec':>8}")
    for name, e in result["per_defect"].items():
        tag = " (review expected)" if e["expected_review"] else ""
        lines.append(f"{name:<34} {e['clause']:>6} {e['n']:>4} {_fmt(e['flagged_recall']):>8} "
                     f"{_fmt(e['automatic_recall']):>8}{tag}")
    if result["hard_cases_flagged"]:
        lines.append("")
        lines.append("clean hard cases flagged (any finding on the order):")
        for h, e in result["hard_cases_flagged"].items():
            lines.append(f"  {h:<34} {e['flagged']}/{e['n']}")
    if result["false_positive_checks"]:
        lines.append("")
        lines.append("findings on pairs not in the truth (clause:check count):")
        for k, n in list(result["false_positive_checks"].items())[:15]:
            lines.append(f"  {k:<40} {n}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fixture_dir", type=Path)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    ap.add_argument("--out", type=Path, default=None, help="scan output folder (default out/evaluate/<set name>)")
    ap.add_argument("--violations", type=Path, default=None,
                    help="score the scan already in this folder (nightN/violations.jsonl) instead of scanning")
    a = ap.parse_args(argv)
    fx = a.fixture_dir
    if not (fx / "manifest.json").exists() and not (fx / "truth.jsonl").exists():
        print(f"evaluate: {fx} has no manifest.json or truth.jsonl (generate it with scripts/make_fixtures.py)",
              file=sys.stderr)
        return 2
    truth: list[dict[str, Any]] = []
    for n in nights_of(fx):
        truth += read_jsonl(fx / n["truth"])
    if a.violations is not None:
        records = []
        for n in nights_of(fx):
            records += read_jsonl(a.violations / f"night{n['night']}" / "violations.jsonl")
    else:
        out = a.out or Path("out") / "evaluate" / fx.resolve().name
        records = run_scans(fx, out, a.workers)
    result = score(truth, records)
    result["fixture_dir"] = str(fx)
    print(table(result))
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

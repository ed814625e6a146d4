"""The engineer's self-check answer: every finding with what to do, in Chinese (or English)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wocheck.api import CheckResult

_TEXT = {
    "zh": {
        "ok": "工单 {oid} 自检通过：未发现问题，可以结单。",
        "head": "工单 {oid} 自检：发现 {n} 个问题（{nv} 个将被处罚，{nr} 个需人工审核），请处理后再结单。",
        "violation": "违规", "review": "待审核",
        "clause": "第{c}条", "fix": "处理：", "errors": "无法使用的照片：",
    },
    "en": {
        "ok": "Order {oid} self-check passed: nothing found, the order can be closed.",
        "head": "Order {oid} self-check: {n} problem(s) ({nv} would be fined, {nr} go to review); "
                "fix them before closing.",
        "violation": "violation", "review": "review",
        "clause": "clause {c}", "fix": "fix: ", "errors": "Unusable photos:",
    },
}


def render_text(res: CheckResult, lang: str = "zh") -> str:
    t = _TEXT["en" if lang == "en" else "zh"]
    oid = res.result.order.order_id
    vs = res.violations
    lines: list[str] = []
    if not vs:
        lines.append(t["ok"].format(oid=oid))
    else:
        nv = sum(v.verdict == "violation" for v in vs)
        lines.append(t["head"].format(oid=oid, n=len(vs), nv=nv, nr=len(vs) - nv))
        for i, v in enumerate(vs, start=1):
            msg = v.message_en if lang == "en" else v.message_zh
            hint = v.hint_en if lang == "en" else v.hint_zh
            where = f" [{v.photo}]" if v.photo else ""
            lines.append(f"{i}. {t['clause'].format(c=v.clause)} {t[v.verdict]}：{msg}{where}"
                         if lang != "en" else f"{i}. {t['clause'].format(c=v.clause)} {t[v.verdict]}: {msg}{where}")
            if hint:
                lines.append(f"   {t['fix']}{hint}")
    if res.result.input_errors:
        lines.append(t["errors"])
        for p in res.result.photos:
            if not p.usable:
                lines.append(f"   - {p.file}: {p.reason_en if lang == 'en' else p.reason_zh}")
    return "\n".join(lines)


def render_json(res: CheckResult) -> str:
    doc: dict[str, Any] = {
        "order_id": res.result.order.order_id,
        "ok": not res.violations and not res.result.input_errors,
        "violations": [v.to_json_dict() for v in res.violations],
        "input_errors": [e.to_json_dict() for e in res.result.input_errors],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)

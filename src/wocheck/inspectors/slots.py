"""Required photo slots: each slot the order's class and type require must hold a usable photo.

A photo whose file is missing, refused, empty or unreadable does not count; the reason goes into the
evidence so that the engineer knows which file to upload again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wocheck.config import Config
from wocheck.records import Finding, Order, Slot


def check_required_slots(order: Order, cfg: Config,
                         unusable: Mapping[str, str] | None = None) -> list[Finding]:
    """One ``slot.missing`` finding per required slot without a usable photo.

    ``unusable`` maps a photo's file (as in the order) to the reason it can't be used (English).
    """
    unusable = unusable or {}
    out: list[Finding] = []
    for slot in cfg.required(order.machine_class, order.order_type):
        listed: Sequence[str] = [p.file for p in order.photos_in(slot)]
        usable = [f for f in listed if f not in unusable]
        if usable:
            continue
        spec = cfg.slots[slot]
        bad = {f: unusable[f] for f in listed}
        if bad:
            zh = f"缺少可用的{spec.zh}：所传文件无法读取"
            en = f"No usable {spec.en}: the uploaded file can't be read"
            hint_zh = f"重新上传{spec.zh}"
        else:
            zh = f"未上传{spec.zh}"
            en = f"{spec.en[:1].upper()}{spec.en[1:]} not uploaded"
            hint_zh = f"补拍并上传{spec.zh}"
        out.append(Finding(check="slot.missing", slot=Slot(slot), message_zh=zh, message_en=en,
                           hint_zh=hint_zh, hint_en=f"Upload the {spec.en}",
                           evidence={"slot": slot.value, "required_for":
                                     f"{order.machine_class.value} × {order.order_type.value}",
                                     "photos_listed": len(listed), "unusable": bad}))
    return out

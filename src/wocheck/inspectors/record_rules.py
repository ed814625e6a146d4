"""The order record's own rules: no pixels needed (clauses 42, 43, 44 from the record, 45 late upload).

`check_record(order, config)` returns the findings; the policy gives each its clause and verdict.
Missing photo slots are judged in `wocheck.inspectors.slots` once the photo files have been looked at.
"""

from __future__ import annotations

from wocheck.config import Config
from wocheck.identifiers import is_valid_imei, is_valid_mac, normalize_code, parse_sn
from wocheck.records import Finding, Order, Slot

_HOUR = 3600.0


def _f(check: str, zh: str, en: str, hint_zh: str, hint_en: str, **evidence: object) -> Finding:
    return Finding(check=check, message_zh=zh, message_en=en, hint_zh=hint_zh, hint_en=hint_en,
                   evidence=dict(evidence))


def check_machine_code(order: Order, cfg: Config) -> list[Finding]:
    """Machine code (机器编码) filled in, of the SN form, and of the order's model."""
    code = normalize_code(order.machine_code)
    if not code:
        return [_f("record.machine_code_empty", "机器编码未填写", "Machine code (SN) is not filled in",
                   "在工单中填写铭牌上的机器编码", "Enter the machine code from the nameplate",
                   machine_code=order.machine_code)]
    parts = parse_sn(code, cfg.codes.sn_pattern)
    if parts is None:
        return [_f("record.machine_code_malformed", f"机器编码格式错误：{order.machine_code}",
                   f"Machine code is not of the SN form: {order.machine_code}",
                   "核对铭牌，按“NVK+型号码+年月+6位序号”共15位重新填写",
                   "Re-enter it from the nameplate: NVK + model code + YYMM + 6-digit serial (15 chars)",
                   machine_code=order.machine_code, pattern=cfg.codes.sn_pattern)]
    spec = cfg.models.get(order.model)
    if spec is not None and parts.model_code != spec.sn_code:
        other = cfg.model_for_sn_code(parts.model_code)
        return [_f("record.machine_code_other_model",
                   f"机器编码型号码 {parts.model_code}（{other or '未知型号'}）与工单型号 {order.model} 不符",
                   f"Machine code's model code {parts.model_code} ({other or 'unknown model'}) "
                   f"is not the order's model {order.model}",
                   "核实现场机器型号；型号不符须先更正工单再结单",
                   "Verify the installed model; correct the order before closing it",
                   machine_code=code, sn_model_code=parts.model_code, sn_model=other,
                   order_model=order.model, expected_model_code=spec.sn_code)]
    return []


def check_model(order: Order, cfg: Config) -> list[Finding]:
    spec = cfg.models.get(order.model)
    if spec is None:
        return [_f("record.model_unknown", f"产品型号 {order.model} 不在公司产品目录中",
                   f"Model {order.model} is not in the company catalog",
                   "从产品目录中选择正确的型号", "Pick the model from the catalog",
                   model=order.model, catalog=sorted(cfg.models))]
    if spec.machine_class != order.machine_class:
        return [_f("record.model_class_mismatch",
                   f"型号 {order.model} 属于{spec.machine_class.value}，工单为{order.machine_class.value}",
                   f"Model {order.model} is {spec.machine_class.value}, the order says "
                   f"{order.machine_class.value}",
                   "核对机器类别（家用/商用）", "Check the machine class (household/commercial)",
                   model=order.model, model_class=spec.machine_class.value,
                   order_class=order.machine_class.value)]
    return []


def check_symptom(order: Order, cfg: Config) -> list[Finding]:
    """Fault symptom (故障现象): present for repairs, from the model's catalog, fitting the model."""
    rules = cfg.symptom_rules
    symptom = (order.fault_symptom or "").strip()
    if order.order_type not in rules.symptom_order_types:
        if symptom:
            return [_f("record.symptom_on_non_repair",
                       f"非维修工单（{order.order_type.value}）不应选择故障现象 {symptom}",
                       f"A {order.order_type.value} order carries a fault symptom ({symptom})",
                       "非维修工单请清空故障现象", "Clear the fault symptom on a non-repair order",
                       fault_symptom=symptom, order_type=order.order_type.value)]
        return []
    if not symptom:
        return [_f("record.repair_no_symptom", "维修工单未选择故障现象", "Repair order without a fault symptom",
                   "按实际故障选择故障现象", "Pick the fault symptom that was found",
                   fault_symptom=order.fault_symptom)]
    catalog = cfg.symptoms[order.machine_class]
    if symptom not in catalog:
        return [_f("record.symptom_not_in_catalog",
                   f"故障现象 {symptom} 不属于{order.machine_class.value}产品线的故障目录",
                   f"Fault symptom {symptom} is not in the {order.machine_class.value} catalog",
                   "从本产品线的故障目录中选择", "Pick a symptom from this product line's catalog",
                   fault_symptom=symptom, catalog=sorted(catalog))]
    spec = cfg.models.get(order.model)
    if symptom in rules.network and spec is not None and not (spec.imei or spec.mac):
        return [_f("record.network_symptom_no_module",
                   f"型号 {order.model} 无联网模块，不能选择“{catalog[symptom]}”（{symptom}）",
                   f"Model {order.model} has no IMEI/MAC module: network symptom {symptom} can't apply",
                   "按实际故障重新选择故障现象", "Pick the symptom that was actually found",
                   fault_symptom=symptom, model=order.model, imei=spec.imei, mac=spec.mac)]
    if symptom in rules.needs_note and not (order.fault_note or "").strip():
        return [_f("record.other_symptom_no_note", f"故障现象选“其他”（{symptom}）但未填写故障说明",
                   f"Symptom {symptom} ('other') without a fault note",
                   "在故障说明中写明具体故障", "Describe the fault in the fault note",
                   fault_symptom=symptom, fault_note=order.fault_note)]
    return []


def check_modules(order: Order, cfg: Config) -> list[Finding]:
    """IMEI / MAC filled in (and well formed) for models that carry them."""
    spec = cfg.models.get(order.model)
    if spec is None:
        return []
    out: list[Finding] = []
    if spec.imei:
        if not normalize_code(order.imei):
            out.append(_f("record.imei_missing", f"型号 {order.model} 带4G模块，IMEI未填写",
                          f"Model {order.model} has an IMEI: it is not filled in",
                          "填写铭牌上的IMEI码", "Enter the IMEI from the nameplate", imei=order.imei))
        elif not is_valid_imei(order.imei):
            out.append(_f("record.imei_malformed", f"IMEI格式错误（应为15位数字且校验位正确）：{order.imei}",
                          f"IMEI is not 15 digits with a valid check digit: {order.imei}",
                          "核对铭牌重新填写IMEI", "Re-enter the IMEI from the nameplate", imei=order.imei))
    if spec.mac:
        if not normalize_code(order.mac):
            out.append(_f("record.mac_missing", f"型号 {order.model} 带Wi-Fi模块，MAC未填写",
                          f"Model {order.model} has a MAC: it is not filled in",
                          "填写铭牌上的MAC码", "Enter the MAC from the nameplate", mac=order.mac))
        elif not is_valid_mac(order.mac):
            out.append(_f("record.mac_malformed", f"MAC格式错误（应为12位十六进制）：{order.mac}",
                          f"MAC is not 12 hex digits: {order.mac}",
                          "核对铭牌重新填写MAC", "Re-enter the MAC from the nameplate", mac=order.mac))
    return out


def check_uploaders(order: Order) -> list[Finding]:
    """Every photo uploaded by the order's engineer (43); one finding per other uploader."""
    others: dict[str, list[str]] = {}
    for p in order.photos:
        if p.uploaded_by and p.uploaded_by != order.engineer.id:
            others.setdefault(p.uploaded_by, []).append(p.file)
    return [_f("record.uploader_not_engineer",
               f"照片由 {who} 上传，工单绑定工程师为 {order.engineer.id}",
               f"Photos uploaded by {who}, but the order's engineer is {order.engineer.id}",
               "由实际上门的绑定工程师本人上传照片；人员变更须先改派工单",
               "The bound engineer who served must upload; reassign the order first if someone else served",
               uploaded_by=who, engineer_id=order.engineer.id, photos=files)
            for who, files in sorted(others.items())]


def check_form_upload_time(order: Order, cfg: Config) -> list[Finding]:
    """The service form uploaded within the limit after `completed` (45)."""
    limit_h = cfg.limits.form_upload_max_hours
    out: list[Finding] = []
    for p in order.photos_in(Slot.service_form):
        at = p.uploaded_at or order.times.closed
        late_h = (at - order.times.completed).total_seconds() / _HOUR
        if late_h > limit_h:
            out.append(Finding(
                check="record.form_uploaded_late", slot=Slot.service_form, photo=p.file,
                message_zh=f"服务单照片在完工后 {late_h:.1f} 小时才上传（限 {limit_h:g} 小时）",
                message_en=f"Service form uploaded {late_h:.1f} h after completion (limit {limit_h:g} h)",
                hint_zh="完工后及时上传服务单照片", hint_en="Upload the service form right after completion",
                evidence={"uploaded_at": at.isoformat(), "completed": order.times.completed.isoformat(),
                          "hours_after": round(late_h, 2), "threshold_hours": limit_h,
                          "uploaded_at_source": "photo" if p.uploaded_at else "order closed time"}))
            break  # one late form is the finding; more copies add nothing
    return out


def check_record(order: Order, cfg: Config) -> list[Finding]:
    """All record rules of one order, in a stable order."""
    return [
        *check_model(order, cfg),
        *check_machine_code(order, cfg),
        *check_symptom(order, cfg),
        *check_modules(order, cfg),
        *check_uploaders(order),
        *check_form_upload_time(order, cfg),
    ]


"""Order records, the defect plan and the truth: what each generated order is, breaks and carries.

`plan_night(seed, night, n_orders, ...)` decides, deterministically, every order of one night: its class,
type and model, its record (the contract's schema), the photos of each slot with the shot and EXIF of each,
the defects injected (each with the contract clause it breaks) and the clean-but-tricky hard cases present.
Pixels are made later (`make_fixtures.py` runs the camera over each `PhotoPlan`).

Defects are fixture-side names (`form.blur`, `record.sn_typo`, `reuse.cross_night`, ...); `DEFECTS` lists
them with their clause, what order they need (class, type, model features, slot) and their family (two
defects of one family never share an order). An order carries at most one defect per clause, so that each
(order, clause) pair of the truth names exactly one defect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from .camera import Shot
from .types import Defect

TZ = timezone(timedelta(hours=8))
HOUSEHOLD, COMMERCIAL = "household", "commercial"
TYPES = ["install", "repair", "maintenance", "filter_change", "relocate"]

# the contract's catalog (section 3): model -> (class, SN code, IMEI, MAC)
CATALOG: dict[str, tuple[str, str, bool, bool]] = {
    "NVK-RO400": (HOUSEHOLD, "4A", False, False),
    "NVK-RO600": (HOUSEHOLD, "6A", False, True),
    "NVK-RO800": (HOUSEHOLD, "8A", True, True),
    "NVK-UF200": (HOUSEHOLD, "U2", False, False),
    "NVK-C1000": (COMMERCIAL, "CA", True, True),
    "NVK-C2000": (COMMERCIAL, "CB", True, True),
}
SYMPTOMS = {
    HOUSEHOLD: {"F01": "不出水", "F02": "漏水", "F03": "出水慢", "F04": "水有异味", "F05": "噪音大", "F06": "频繁启停",
                "F07": "显示异常/报警", "F09": "联网异常", "F99": "其他"},
    COMMERCIAL: {"C01": "不出水", "C02": "漏水", "C03": "产水量低", "C04": "出水TDS超标", "C05": "增压泵异常",
                 "C06": "控制板故障", "C07": "联网异常", "C99": "其他"},
}
NETWORK = {"F09", "C07"}
OTHER = {"F99", "C99"}

# the contract's required-slot table (section 2)
REQUIRED: dict[tuple[str, str], list[str]] = {}
for _t in ("install", "relocate"):
    REQUIRED[(HOUSEHOLD, _t)] = ["service_form", "pipeline_45", "install_env", "machine_running", "code_label"]
    REQUIRED[(COMMERCIAL, _t)] = ["service_form", "pipeline_45", "machine_overall", "code_label"]
for _t in ("repair", "maintenance", "filter_change"):
    REQUIRED[(HOUSEHOLD, _t)] = ["service_form", "machine_running", "code_label"]
REQUIRED[(COMMERCIAL, "repair")] = ["service_form", "machine_overall", "fault_part", "code_label"]
REQUIRED[(COMMERCIAL, "maintenance")] = ["service_form", "machine_overall", "code_label"]
REQUIRED[(COMMERCIAL, "filter_change")] = ["service_form", "machine_overall", "code_label"]

# form fields required per order type (models/forms/nvk-service-form-v1.json)
FORM_REQUIRED_BY_TYPE = {
    "install": ["water_tds"], "relocate": ["water_tds"], "repair": ["fault_symptom", "action_taken"],
    "maintenance": ["action_taken"], "filter_change": ["parts_replaced"],
}
FORM_ALWAYS = ["order_no", "customer_name", "phone", "model", "address", "machine_code", "engineer",
               "visit_time", "finish_time"]
SCENE_SLOTS = ("pipeline_45", "install_env", "machine_running", "machine_overall", "fault_part")

PHONES = [("Xiaomi", "23049RAD8C"), ("HUAWEI", "ALN-AL00"), ("OPPO", "PGT-AN10"), ("vivo", "V2324A"),
          ("Apple", "iPhone 14 Pro"), ("HONOR", "PGT-AN00"), ("Redmi", "23078RKD5C"), ("samsung", "SM-S9180")]
FIRMWARE = ["17.1.2", "MIUI Camera", "HDR+ 1.0.540104767zd", "ALN-AL00 4.0.0.150(C00E150R2P2)",
            "PGT-AN10_11_C.25", "V2324A_A_1.7.2"]
EDITORS = ["Adobe Photoshop 25.1 (Windows)", "GIMP 2.10.34", "美图秀秀 9.7.3.0", "Snapseed 2.21",
           "Adobe Lightroom 9.0 (Android)"]

CITIES = [  # (city, district streets, WGS-84 centre)
    ("上海市浦东新区", ["张杨路", "世纪大道", "锦绣路", "杨高南路"], (31.2226, 121.5320)),
    ("北京市朝阳区", ["望京街", "建国路", "朝阳北路", "东三环中路"], (39.9219, 116.4430)),
    ("广州市天河区", ["天河路", "体育东路", "中山大道西", "黄埔大道"], (23.1291, 113.3308)),
    ("杭州市西湖区", ["文三路", "天目山路", "古墩路", "教工路"], (30.2741, 120.1201)),
    ("成都市武侯区", ["人民南路", "科华北路", "武侯大道", "玉林北路"], (30.6405, 104.0434)),
    ("武汉市洪山区", ["珞喻路", "雄楚大道", "民族大道", "光谷大道"], (30.5049, 114.3997)),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
ENGINEERS = [("E1024", "张伟"), ("E1031", "李娜"), ("E1047", "王磊"), ("E1052", "刘洋"), ("E1068", "陈杰"),
             ("E1075", "杨帆")]
CONTRACTORS = [("C017", "浦东净源服务部"), ("C021", "望京水卫士"), ("C034", "天河清泉服务站"),
               ("C042", "西湖净水工坊")]
MANAGERS = [("M03", "李强"), ("M11", "赵敏"), ("M07", "周婷"), ("M15", "孙浩")]
PARTS = ["PP棉滤芯", "前置活性炭", "RO膜", "后置活性炭", "复合滤芯"]
ACTIONS = ["更换进水电磁阀，试机正常", "清洗增压泵进水口，冲洗膜组件", "更换漏水快接头，检漏无渗漏",
           "调整废水比，复测TDS正常", "检查滤芯寿命并复位，消毒水路"]


# --------------------------------------------------------------------------------------------- defects


@dataclass(frozen=True)
class Spec:
    """A defect (clause set) or a hard case (clause None) and what an order needs to carry it."""

    name: str
    clause: int | None
    classes: frozenset[str] | None = None
    types: frozenset[str] | None = None
    model: str | None = None  # "imei" | "mac" | "no_net" | "net" | "twin" (a model with a same-featured twin)
    slot: str | None = None  # a slot the order must require
    family: str | None = None
    needs_label: bool = False  # needs a readable nameplate photo
    night2: bool = False  # only in a later night
    review: bool = False  # the contract allows / expects a review verdict
    exif: str | None = None  # "needs" EXIF (with GPS) to show, or "strips" it


def _s(*a: str) -> frozenset[str]:
    return frozenset(a)


REPAIR = _s("repair")
NON_REPAIR = _s("install", "maintenance", "filter_change", "relocate")
INSTALLS = _s("install", "relocate")
HH, CO = _s(HOUSEHOLD), _s(COMMERCIAL)

DEFECTS: list[Spec] = [
    # clause 42: the record
    Spec("record.machine_code_empty", 42, family="sn"),
    Spec("record.machine_code_malformed", 42, family="sn"),
    Spec("record.repair_no_symptom", 42, types=REPAIR, family="symptom"),
    Spec("record.symptom_not_in_catalog", 42, types=REPAIR, family="symptom"),
    Spec("record.network_symptom_no_module", 42, types=REPAIR, classes=HH, model="no_net", family="symptom"),
    Spec("record.other_symptom_no_note", 42, types=REPAIR, family="symptom"),
    Spec("record.symptom_on_non_repair", 42, types=NON_REPAIR, family="symptom"),
    Spec("record.sn_typo", 42, family="sn", needs_label=True),
    Spec("record.imei_missing", 42, model="imei", family="imei"),
    Spec("record.mac_missing", 42, model="mac", family="mac"),
    # 43
    Spec("record.uploader_not_engineer", 43, family="uploader"),
    # 44
    Spec("record.sn_other_model", 44, model="twin", family="sn", needs_label=True),
    Spec("exif.gps_far", 44, family="gps"),
    Spec("exif.gps_near", 44, family="gps", review=True),
    # 45: the service form
    Spec("form.missing", 45, family="form"),
    Spec("form.out_of_frame", 45, family="form"),
    Spec("form.blur", 45, family="form"),
    Spec("form.motion_blur", 45, family="form"),
    Spec("form.dark", 45, family="form"),
    Spec("form.overexposed", 45, family="form"),
    Spec("form.glare", 45, family="form"),
    Spec("form.field_blank", 45, family="form"),
    Spec("form.no_tick", 45, family="form"),
    Spec("form.no_signature", 45, family="form"),
    Spec("form.stain", 45, family="form"),
    Spec("form.torn_corner", 45, family="form"),
    Spec("form.crumpled", 45, family="form"),
    Spec("form.uploaded_late", 45, family="form_time"),
    # 46: the 45° pipeline photo
    Spec("pipeline_45.missing", 46, types=INSTALLS, slot="pipeline_45", family="pipe"),
    Spec("pipeline_45.blur", 46, types=INSTALLS, slot="pipeline_45", family="pipe"),
    Spec("pipeline_45.dark", 46, types=INSTALLS, slot="pipeline_45", family="pipe"),
    Spec("pipeline_45.overexposed", 46, types=INSTALLS, slot="pipeline_45", family="pipe"),
    Spec("pipeline_45.messy", 46, types=INSTALLS, slot="pipeline_45", family="pipe", review=True),
    # 47: household environment / running
    Spec("install_env.missing", 47, classes=HH, types=INSTALLS, slot="install_env", family="hh_scene"),
    Spec("machine_running.missing", 47, classes=HH, slot="machine_running", family="hh_scene"),
    Spec("install_env.blur", 47, classes=HH, types=INSTALLS, slot="install_env", family="hh_scene"),
    Spec("machine_running.dark", 47, classes=HH, slot="machine_running", family="hh_scene"),
    Spec("install_env.overexposed", 47, classes=HH, types=INSTALLS, slot="install_env", family="hh_scene"),
    Spec("machine_running.covered_lens", 47, classes=HH, slot="machine_running", family="hh_scene"),
    Spec("install_env.blank_wall", 47, classes=HH, types=INSTALLS, slot="install_env", family="hh_scene"),
    Spec("machine_running.extreme_closeup", 47, classes=HH, slot="machine_running", family="hh_scene"),
    # 48: commercial overall / fault part
    Spec("machine_overall.missing", 48, classes=CO, slot="machine_overall", family="co_scene"),
    Spec("fault_part.missing", 48, classes=CO, types=REPAIR, slot="fault_part", family="co_scene"),
    Spec("machine_overall.blur", 48, classes=CO, slot="machine_overall", family="co_scene"),
    Spec("fault_part.dark", 48, classes=CO, types=REPAIR, slot="fault_part", family="co_scene"),
    Spec("machine_overall.overexposed", 48, classes=CO, slot="machine_overall", family="co_scene"),
    Spec("machine_overall.covered_lens", 48, classes=CO, slot="machine_overall", family="co_scene"),
    Spec("machine_overall.blank_wall", 48, classes=CO, slot="machine_overall", family="co_scene"),
    Spec("fault_part.extreme_closeup", 48, classes=CO, types=REPAIR, slot="fault_part", family="co_scene"),
    # 49: the nameplate photo
    Spec("label.missing", 49, family="label"),
    Spec("label.blur", 49, family="label"),
    Spec("label.motion_blur", 49, family="label"),
    Spec("label.glare", 49, family="label"),
    Spec("label.codes_cut_off", 49, family="label"),
    # 50: authenticity
    Spec("record.sn_mismatch", 50, family="sn", needs_label=True),
    Spec("record.imei_mismatch", 50, model="imei", family="imei", needs_label=True),
    Spec("record.mac_mismatch", 50, model="mac", family="mac", needs_label=True),
    Spec("reuse.same_night", 50, family="reuse"),
    Spec("reuse.cross_night", 50, family="reuse", night2=True),
    Spec("exif.before_dispatch", 50, family="time"),
    Spec("form.not_a_form", 50, family="form"),
    Spec("exif.editor_software", 50, family="software", review=True),
]
DEFECT_BY_NAME = {d.name: d for d in DEFECTS}

HARD_CASES: list[Spec] = [
    Spec("mac_formatted", None, model="mac", family="mac"),
    Spec("network_symptom_ok", None, types=REPAIR, model="net", family="symptom"),
    Spec("other_symptom_with_note", None, types=REPAIR, family="symptom"),
    Spec("two_labels_one_blurred", None, family="label"),
    Spec("exif_orientation_6", None, exif="needs", family="orientation"),
    Spec("no_exif", None, exif="strips", family="exif"),
    Spec("no_gps", None, exif="strips", family="exif"),
    Spec("gps_scatter", None, exif="needs", family="gps"),
    Spec("customer_datum_wgs84", None, family="gps"),
    Spec("phone_firmware_software", None, exif="needs", family="software"),
    Spec("form_uploaded_20h", None, family="form_time"),
    Spec("captured_30min_before_dispatch", None, exif="needs", family="time"),
    Spec("form_upside_down", None, family="form"),
    Spec("form_mild_fold", None, family="form"),
    Spec("form_borderline_blur", None, family="form"),
    Spec("form_low_light_legible", None, family="form"),
    Spec("form_hand_shadow", None, family="form"),
    Spec("small_codes", None, family="label"),
    Spec("busy_but_neat_pipes", None, types=INSTALLS, slot="pipeline_45", family="pipe"),
    Spec("extra_photo_in_slot", None, family="extra"),
    Spec("null_contractor", None, family="null_c"),
    Spec("null_managers", None, family="null_m"),
    Spec("null_coordinates", None, family="gps"),
    Spec("unknown_extra_keys", None, family="keys"),
]
HARD_BY_NAME = {h.name: h for h in HARD_CASES}


def _model_ok(model: str, need: str | None) -> bool:
    cls, _, imei, mac = CATALOG[model]
    if need is None:
        return True
    if need == "imei":
        return imei
    if need == "mac":
        return mac
    if need == "no_net":
        return not (imei or mac)
    if need == "net":
        return imei or mac
    if need == "twin":
        return model in TWINS
    raise ValueError(need)


# models whose nameplate might belong to a same-featured other model (no IMEI/MAC side effects)
TWINS = {"NVK-RO400": "NVK-UF200", "NVK-UF200": "NVK-RO400", "NVK-C1000": "NVK-C2000", "NVK-C2000": "NVK-C1000"}


def combos_for(specs: list[Spec]) -> list[tuple[str, str, str]]:
    """Every (class, type, model) that satisfies all ``specs``."""
    out = []
    for model, (cls, *_rest) in CATALOG.items():
        for t in TYPES:
            ok = True
            for s in specs:
                if s.classes is not None and cls not in s.classes:
                    ok = False
                elif s.types is not None and t not in s.types:
                    ok = False
                elif not _model_ok(model, s.model):
                    ok = False
                elif s.slot is not None and s.slot not in REQUIRED[(cls, t)]:
                    ok = False
                if not ok:
                    break
            if ok:
                out.append((cls, t, model))
    return out


def _compatible(chosen: list[Spec], s: Spec) -> bool:
    if any(c.family == s.family for c in chosen if s.family):
        return False
    if s.clause is not None and any(c.clause == s.clause for c in chosen):
        return False
    if {c.exif for c in [*chosen, s]} >= {"needs", "strips"}:
        return False
    label_bad = any(c.family == "label" and c.clause for c in [*chosen, s])
    needs_label = any(c.needs_label for c in [*chosen, s])
    if label_bad and needs_label:
        return False
    return bool(combos_for([*chosen, s]))


# ------------------------------------------------------------------------------------------------ plans


@dataclass
class PhotoPlan:
    """One photo to make: what it shows, how it is taken, its EXIF and its upload record."""

    slot: str
    file: str
    content: str  # "form" | "nameplate" | scene name | "non_form" | "blank_wall" | "covered_lens" | ...
    shot: Shot
    obj_defects: frozenset[str] = frozenset()
    scene_kw: dict[str, Any] = field(default_factory=dict)
    exif: dict[str, Any] | None = None
    uploaded_by: str = ""
    uploaded_at: datetime | None = None
    reuse_of: tuple[int, str] | None = None  # (night, file) of the photo this one re-encodes
    scene_of: str | None = None  # closeups: the scene they blow up
    glare_on: list[str] = field(default_factory=list)  # object regions the glare covers


@dataclass
class OrderPlan:
    night: int
    index: int
    record: dict[str, Any]
    photos: list[PhotoPlan]
    defects: list[Defect]
    hard_cases: list[str]
    form_fields: dict[str, str]
    label: dict[str, Any]

    def truth(self) -> dict[str, Any]:
        return {"order_id": self.record["order_id"], "night": self.night, "clean": not self.defects,
                "defects": [d.to_json() for d in self.defects], "hard_cases": sorted(self.hard_cases)}


# --- identifiers and places -------------------------------------------------------------------------


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_imei(rng: np.random.Generator) -> str:
    body = "86" + "".join(str(int(d)) for d in rng.integers(0, 10, 12))
    return body + luhn_digit(body)


def make_mac(rng: np.random.Generator) -> str:
    return "A4CF12" + "".join(f"{int(b):02X}" for b in rng.integers(0, 256, 3))


def make_sn(rng: np.random.Generator, model: str) -> str:
    code = CATALOG[model][1]
    yy, mm = int(rng.integers(22, 27)), int(rng.integers(1, 13))
    return f"NVK{code}{yy:02d}{mm:02d}{int(rng.integers(0, 10**6)):06d}"


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 coordinates that Chinese map services give for a WGS-84 point (the standard formula)."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def offset_km(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` away from (lat, lon) towards ``bearing`` (radians), small-distance approximation."""
    dlat = km * math.cos(bearing) / 111.32
    dlon = km * math.sin(bearing) / (111.32 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


# --- the planner ------------------------------------------------------------------------------------


@dataclass
class Sizes:
    """Photo sizes: most at ``base`` long side, a share at full 4000×3000; all capped at ``max_side``."""

    base: int = 1600
    full_res_share: float = 0.02
    max_side: int = 4000
    quality: int = 85

    def pick(self, rng: np.random.Generator, portrait: bool = False) -> tuple[int, int]:
        r = rng.random()
        if r < self.full_res_share:
            long = 4000
        elif r < self.full_res_share + 0.15:
            long = int(rng.choice([1800, 1920, 2000]))
        else:
            long = self.base
        long = min(long, self.max_side)
        short = long * 3 // 4
        return (short, long) if portrait else (long, short)


def _clean_shot(rng: np.random.Generator, size: tuple[int, int], background: str = "desk") -> Shot:
    return Shot(size=size, fill=float(rng.uniform(0.58, 0.86)), rotation_deg=float(rng.normal(0, 6)),
                tilt=float(rng.uniform(0.02, 0.09)), defocus=float(rng.uniform(0.0, 1.2)),
                exposure=float(rng.uniform(0.88, 1.12)), light_gradient=float(rng.uniform(0.1, 0.35)),
                noise=float(rng.uniform(1.0, 2.0)), vignette=float(rng.uniform(0.1, 0.35)), background=background,
                warmth=float(rng.uniform(-0.5, 1.0)))


def _apply_photo_defect(rng: np.random.Generator, kind: str, shot: Shot) -> dict[str, Any]:
    """Degrade a shot: blur, motion_blur, dark, overexposed (photographic defects); returns the detail."""
    if kind == "blur":
        shot.defocus = float(rng.uniform(4.5, 9.0))
        return {"defocus_sigma_px_at_1600": round(shot.defocus, 2)}
    if kind == "motion_blur":
        shot.motion = (float(rng.uniform(28, 48)), float(rng.uniform(0, 180)))
        return {"motion_px_at_1600": round(shot.motion[0], 1), "angle_deg": round(shot.motion[1], 1)}
    if kind == "dark":
        shot.exposure = float(rng.uniform(0.06, 0.14))
        shot.gamma = 1.2
        return {"exposure_gain": round(shot.exposure, 3)}
    if kind == "overexposed" and shot.background == "wall":  # scenes: blown out, shapes still faintly there
        shot.flare = float(rng.uniform(40, 60))
        shot.exposure = float(rng.uniform(1.6, 1.8))
        return {"flare": round(shot.flare, 1), "exposure_gain": round(shot.exposure, 2)}
    if kind == "overexposed":
        shot.flare = float(rng.uniform(70, 95))
        shot.exposure = float(rng.uniform(1.8, 2.1))
        return {"flare": round(shot.flare, 1), "exposure_gain": round(shot.exposure, 2)}
    raise ValueError(kind)


class NightPlanner:
    """Plans the orders of one night; ``sources`` are earlier nights' reusable photos."""

    def __init__(self, seed: int, night: int, n_orders: int, sizes: Sizes, clean_share: float = 1 / 3,
                 earlier: list[OrderPlan] | None = None, defect_offset: int = 0) -> None:
        self.seed, self.night, self.n, self.sizes = seed, night, n_orders, sizes
        self.clean_share = clean_share
        self.earlier = earlier or []
        self.rng = np.random.default_rng([seed, night, 7])
        self.day = datetime(2026, 12, 1, tzinfo=TZ) + timedelta(days=night)
        self.defect_offset = defect_offset

    # -- which orders carry what
    def assign(self) -> list[list[Spec]]:
        rng = self.rng
        n_clean = max(1, round(self.n * self.clean_share))
        # clean orders spread evenly, the first order clean (a reuse source for what follows)
        clean_idx = {int(round(i * self.n / n_clean)) for i in range(n_clean)}
        pool = [d for d in DEFECTS if d.night2 == (self.night > 1) or not d.night2]
        if self.night > 1:  # a later night leads with the cross-night reuse
            pool = sorted(pool, key=lambda d: d.name != "reuse.cross_night")
        else:
            k = self.defect_offset % len(pool)
            pool = pool[k:] + pool[:k]
        queue = list(pool)
        hard_queue = list(HARD_CASES)
        plans: list[list[Spec]] = []
        # the first pass through the defects and hard cases must place each of them (coverage); later
        # nights and later passes take 1-3 per order
        first_pass = first_pass_h = self.night == 1
        clean_left = len(clean_idx)
        defective_left = self.n - clean_left
        for i in range(self.n):
            if i in clean_idx:
                # enough hard cases per clean order that every one of them appears
                want_h = int(rng.integers(1, 4))
                if first_pass_h:
                    want_h = max(want_h, -(-len(hard_queue) // max(clean_left, 1)))
                clean_left -= 1
                chosen: list[Spec] = []
                j = 0
                while len(chosen) < want_h and j < len(hard_queue):
                    if _compatible(chosen, hard_queue[j]):
                        chosen.append(hard_queue.pop(j))
                    else:
                        j += 1
                if not hard_queue:
                    hard_queue = list(HARD_CASES)
                    first_pass_h = False
                plans.append(chosen)
                continue
            # enough defects per defective order that the whole pool is used (coverage of every defect)
            want = 1 + int(rng.random() < 0.55) + int(rng.random() < 0.25)
            if first_pass:
                want = max(want, -(-len(queue) // max(defective_left, 1)))
            defective_left -= 1
            chosen = []
            j = 0
            while len(chosen) < want and j < len(queue):
                if _compatible(chosen, queue[j]):
                    chosen.append(queue.pop(j))
                else:
                    j += 1
            plans.append(chosen)
            if not queue:
                queue = list(pool)
                first_pass = False
        # what the last orders could not take goes to earlier defective orders that can
        used = {s.name for chosen in plans for s in chosen}
        for spec in [q for q in queue if q.name not in used]:
            for chosen in plans:
                if chosen and chosen[0].clause is not None and _compatible(chosen, spec):
                    chosen.append(spec)
                    break
        return plans

    # -- one order
    def order(self, i: int, specs: list[Spec], reuse_sources: list[OrderPlan]) -> OrderPlan:
        rng = np.random.default_rng([self.seed, self.night, 1000 + i])
        names = {s.name for s in specs}
        combos = combos_for(specs)
        # spread over classes and types: rotate by index
        cls, otype, model = combos[(i * 7 + int(rng.integers(0, 3))) % len(combos)]
        reuse_src: OrderPlan | None = None
        if names & {"reuse.same_night", "reuse.cross_night"}:
            cands = [p for p in reuse_sources if "first_use_of_reused_photo" not in p.hard_cases
                     and any(c[0] == p.record["machine_class"] for c in combos)]
            if cands:
                reuse_src = cands[-1] if "reuse.same_night" in names else cands[0]
                fits = [c for c in combos if c[0] == reuse_src.record["machine_class"]]
                cls, otype, model = fits[i % len(fits)]
            else:
                specs = [s for s in specs if not s.name.startswith("reuse.")]
                names = {s.name for s in specs}
        _, _, has_imei, has_mac = CATALOG[model]
        order_id = f"WO{self.day:%Y%m%d}{self.night:01d}{i + 1:05d}"
        city, streets, (clat, clon) = CITIES[int(rng.integers(len(CITIES)))]
        site = offset_km(clat, clon, float(rng.uniform(0.5, 8)), float(rng.uniform(0, 2 * math.pi)))
        addr = f"{city}{streets[int(rng.integers(len(streets)))]}{int(rng.integers(1, 2000))}号" \
               f"{int(rng.integers(1, 30))}栋{int(rng.integers(1, 33))}{int(rng.integers(1, 5)):02d}室"
        eng = ENGINEERS[int(rng.integers(len(ENGINEERS)))]
        con = CONTRACTORS[int(rng.integers(len(CONTRACTORS)))]
        mgr = [MANAGERS[int(k)] for k in rng.choice(len(MANAGERS), 2, replace=False)]
        sn = make_sn(rng, model)
        imei = make_imei(rng) if has_imei else None
        mac = make_mac(rng) if has_mac else None
        dispatched = self.day + timedelta(hours=float(rng.uniform(8, 14)))
        dispatched = dispatched.replace(second=0, microsecond=0)
        start = dispatched + timedelta(minutes=float(rng.uniform(30, 180)))
        work = timedelta(minutes=float(rng.uniform(40, 150)))
        completed = (start + work).replace(second=0, microsecond=0)
        closed = completed + timedelta(minutes=float(rng.uniform(8, 40)))
        closed = closed.replace(second=0, microsecond=0)
        cust_name = SURNAMES[int(rng.integers(len(SURNAMES)))] + ("女士" if rng.random() < 0.5 else "先生")
        phone = "1" + str(int(rng.choice([35, 38, 39, 58, 86, 89]))) + "".join(
            str(int(d)) for d in rng.integers(0, 10, 8))
        symptom = None
        note = None
        catalog = SYMPTOMS[cls]
        if otype == "repair":
            ok = [c for c in catalog if c not in OTHER and c not in NETWORK]
            symptom = ok[int(rng.integers(len(ok)))]
        defects: list[Defect] = []
        hard: list[str] = []

        def add(name: str, slot: str | None = None, photo: str | None = None, **detail: Any) -> None:
            spec = DEFECT_BY_NAME[name]
            if spec.review:
                detail.setdefault("expected_verdict", "review")
            defects.append(Defect(name, int(spec.clause or 0), slot, photo, detail))

        rec_code: str | None = sn
        rec_imei, rec_mac = imei, mac
        label_sn, label_model = sn, model
        # -- record defects
        if "record.machine_code_empty" in names:
            rec_code = "" if rng.random() < 0.5 else None
            add("record.machine_code_empty", machine_code=rec_code)
        if "record.machine_code_malformed" in names:
            rec_code = [sn[:-1], sn.replace("0", "O", 1) if "0" in sn[3:] else sn[:-1], sn + "7",
                        sn[:3] + sn[5:]][int(rng.integers(4))]
            add("record.machine_code_malformed", machine_code=rec_code)
        if "record.sn_typo" in names:
            pos = [int(p) for p in rng.choice(range(9, 15), int(rng.integers(1, 3)), replace=False)]
            chars = list(sn)
            for p in pos:
                chars[p] = str((int(chars[p]) + int(rng.integers(1, 9))) % 10)
            rec_code = "".join(chars)
            add("record.sn_typo", machine_code=rec_code, nameplate_sn=sn, distance=len(pos))
        if "record.sn_mismatch" in names:
            other = make_sn(rng, model)
            while sum(a != b for a, b in zip(other, sn, strict=True)) < 4:
                other = make_sn(rng, model)
            rec_code = other
            add("record.sn_mismatch", machine_code=rec_code, nameplate_sn=sn)
        if "record.sn_other_model" in names:
            label_model = TWINS[model]
            label_sn = make_sn(rng, label_model)
            rec_code = label_sn
            add("record.sn_other_model", machine_code=rec_code, order_model=model, nameplate_model=label_model)
        if "record.imei_missing" in names:
            rec_imei = None if rng.random() < 0.6 else ""
            add("record.imei_missing", imei=rec_imei)
        if "record.mac_missing" in names:
            rec_mac = None if rng.random() < 0.6 else ""
            add("record.mac_missing", mac=rec_mac)
        if "record.imei_mismatch" in names:
            rec_imei = make_imei(rng)
            add("record.imei_mismatch", imei=rec_imei, nameplate_imei=imei)
        if "record.mac_mismatch" in names:
            rec_mac = make_mac(rng)
            add("record.mac_mismatch", mac=rec_mac, nameplate_mac=mac)
        if "mac_formatted" in names and mac:
            rec_mac = [":".join(mac[k:k + 2] for k in range(0, 12, 2)), "-".join(mac[k:k + 2] for k in range(0, 12, 2)),
                       mac.lower()][int(rng.integers(3))]
            hard.append("mac_formatted")
        if "record.repair_no_symptom" in names:
            symptom = None if rng.random() < 0.5 else ""
            add("record.repair_no_symptom", fault_symptom=symptom)
        if "record.symptom_not_in_catalog" in names:
            other_cls = COMMERCIAL if cls == HOUSEHOLD else HOUSEHOLD
            symptom = [c for c in SYMPTOMS[other_cls] if c not in OTHER][int(rng.integers(5))]
            if rng.random() < 0.3:
                symptom = "F08" if cls == HOUSEHOLD else "C08"
            add("record.symptom_not_in_catalog", fault_symptom=symptom)
        if "record.network_symptom_no_module" in names:
            symptom = "F09"
            add("record.network_symptom_no_module", fault_symptom=symptom, model=model)
        if "record.other_symptom_no_note" in names:
            symptom = "F99" if cls == HOUSEHOLD else "C99"
            note = [None, "", "  "][int(rng.integers(3))]
            add("record.other_symptom_no_note", fault_symptom=symptom, fault_note=note)
        if "record.symptom_on_non_repair" in names:
            symptom = [c for c in catalog if c not in OTHER][int(rng.integers(5))]
            add("record.symptom_on_non_repair", fault_symptom=symptom, order_type=otype)
        if "network_symptom_ok" in names:
            symptom = "F09" if cls == HOUSEHOLD else "C07"
            hard.append("network_symptom_ok")
        if "other_symptom_with_note" in names:
            symptom = "F99" if cls == HOUSEHOLD else "C99"
            note = "净水器外壳有异响，拆机检查为固定螺丝松动，已紧固"
            hard.append("other_symptom_with_note")

        # -- the GPS the phone records (WGS-84) and the customer's coordinates in the record (GCJ-02)
        rec_lat, rec_lon = wgs84_to_gcj02(*site)
        datum = None
        photo_site = site
        gps_detail: dict[str, Any] = {}
        if "exif.gps_far" in names:
            photo_site = offset_km(*site, float(rng.uniform(4.5, 6.0)), float(rng.uniform(0, 2 * math.pi)))
            gps_detail = {"km": round(haversine_km(site, photo_site), 2)}
        elif "exif.gps_near" in names:
            photo_site = offset_km(*site, float(rng.uniform(0.9, 1.3)), float(rng.uniform(0, 2 * math.pi)))
            gps_detail = {"km": round(haversine_km(site, photo_site), 2)}
        elif "gps_scatter" in names:
            photo_site = offset_km(*site, float(rng.uniform(0.25, 0.38)), float(rng.uniform(0, 2 * math.pi)))
            hard.append("gps_scatter")
        if "customer_datum_wgs84" in names:
            rec_lat, rec_lon = site
            datum = "wgs84"
            hard.append("customer_datum_wgs84")
        if "null_coordinates" in names:
            rec_lat = rec_lon = None
            hard.append("null_coordinates")

        # -- photos
        required = list(REQUIRED[(cls, otype)])
        device = PHONES[int(rng.integers(len(PHONES)))]
        uploader = eng[0]
        photos: list[PhotoPlan] = []
        counter: dict[str, int] = {}

        def new_photo(slot: str, content: str, shot: Shot, **kw: Any) -> PhotoPlan:
            counter[slot] = counter.get(slot, 0) + 1
            p = PhotoPlan(slot=slot, file=f"{order_id}/{slot}_{counter[slot]}.jpg", content=content, shot=shot, **kw)
            photos.append(p)
            return p

        form_fields = {
            "order_no": order_id, "service_type": otype, "customer_name": cust_name, "phone": phone,
            "model": model, "address": addr, "machine_code": rec_code or sn,
            "water_tds": f"{int(rng.integers(40, 420))}" if otype in INSTALLS else "",
            "fault_symptom": (f"{symptom} {catalog.get(symptom or '', '')}".strip() if symptom else "")
            if otype == "repair" else "",
            "action_taken": ACTIONS[int(rng.integers(len(ACTIONS)))] if otype in ("repair", "maintenance") else "",
            "parts_replaced": "、".join(PARTS[int(k)] for k in rng.choice(len(PARTS), 2, replace=False))
            if otype == "filter_change" else "",
            "charge": "" if rng.random() < 0.4 else f"{int(rng.choice([0, 80, 120, 260]))}元",
            "engineer": eng[1], "visit_time": f"{start:%m-%d %H:%M}", "finish_time": f"{completed:%m-%d %H:%M}",
            "satisfaction": str(rng.choice(["very_satisfied", "very_satisfied", "satisfied", "neutral"])),
        }
        if otype == "repair" and not form_fields["fault_symptom"]:
            form_fields["fault_symptom"] = "机器不出水，检查发现进水阀堵塞"

        for slot in required:
            portrait = slot == "code_label" and rng.random() < 0.3
            size = self.sizes.pick(rng, portrait)
            if slot == "service_form":
                shot = _clean_shot(rng, size, "desk")
                obj_def: set[str] = set()
                detail: dict[str, Any] = {}
                fname = next((n for n in names if n.startswith("form.") and n != "form.uploaded_late"), None)
                if fname == "form.missing":
                    add("form.missing", slot="service_form")
                    continue
                if fname == "form.not_a_form":
                    p = new_photo(slot, "non_form", shot)
                    add("form.not_a_form", slot=slot, photo=p.file)
                    continue
                kind = fname.split(".", 1)[1] if fname else None
                if kind == "out_of_frame":
                    edge = str(rng.choice(["left", "right", "top", "bottom"]))
                    shot.out_of_frame = (edge, float(rng.uniform(0.14, 0.3)))
                    detail = {"edge": edge, "fraction_out": round(shot.out_of_frame[1], 3)}
                elif kind in ("blur", "motion_blur", "dark", "overexposed"):
                    detail = _apply_photo_defect(rng, kind, shot)
                elif kind == "glare":
                    pass  # placed below, over required fields
                elif kind == "field_blank":
                    need = FORM_ALWAYS + FORM_REQUIRED_BY_TYPE[otype] + ["customer_signature"]
                    k = int(rng.integers(1, 3))
                    keys = [str(x) for x in rng.choice(need, k, replace=False)]
                    obj_def |= {f"field_blank:{x}" for x in keys}
                    detail = {"fields": sorted(keys)}
                elif kind in ("no_tick", "no_signature", "stain", "torn_corner", "crumpled"):
                    obj_def.add(kind)
                glare_on: list[str] = []
                if kind == "glare":
                    glare_on = [str(x) for x in rng.choice(["machine_code", "customer_signature", "order_no",
                                                            "address", "customer_name"], 2, replace=False)]
                    detail = {"fields": sorted(glare_on)}
                if "form_upside_down" in names:
                    shot.rotation_deg = 180 + float(rng.normal(0, 4))
                    hard.append("form_upside_down")
                if "form_mild_fold" in names:
                    obj_def.add("mild_fold")
                    hard.append("form_mild_fold")
                if "form_borderline_blur" in names:  # soft but legible: defocus or a slight shake
                    if rng.random() < 0.6:
                        shot.defocus = float(rng.uniform(1.6, 2.6))
                    else:
                        shot.motion = (float(rng.uniform(6, 11)), float(rng.uniform(0, 180)))
                    hard.append("form_borderline_blur")
                if "form_low_light_legible" in names:
                    shot.exposure = float(rng.uniform(0.28, 0.4))
                    hard.append("form_low_light_legible")
                if "form_hand_shadow" in names:
                    shot.shadow = float(rng.uniform(0.35, 0.5))
                    hard.append("form_hand_shadow")
                p = new_photo(slot, "form", shot, obj_defects=frozenset(obj_def), glare_on=glare_on)
                if kind and fname != "form.missing":
                    add(fname, slot=slot, photo=p.file, **detail)
            elif slot == "code_label":
                lname = next((n for n in names if n.startswith("label.")), None)
                if lname == "label.missing":
                    add("label.missing", slot=slot)
                    continue
                if "two_labels_one_blurred" in names:
                    bshot = _clean_shot(rng, size, "machine")
                    _apply_photo_defect(rng, "blur", bshot)
                    new_photo(slot, "nameplate", bshot)
                    hard.append("two_labels_one_blurred")
                shot = _clean_shot(rng, size, "machine")
                shot.fill = float(rng.uniform(0.7, 0.9))
                od: set[str] = set()
                detail = {}
                glare_on = []
                if lname in ("label.blur", "label.motion_blur"):
                    detail = _apply_photo_defect(rng, lname.split(".")[1], shot)
                elif lname == "label.glare":
                    glare_on = ["sn_barcode", "text:sn", "qr"]  # every place the SN can be read from
                    detail = {"regions": glare_on}
                elif lname == "label.codes_cut_off":
                    od.add("codes_cut_off")
                if "small_codes" in names:
                    od.add("small_codes")  # the renderer's smaller modules: hard, still legible
                    hard.append("small_codes")
                p = new_photo(slot, "nameplate", shot, obj_defects=frozenset(od), glare_on=glare_on)
                if lname:
                    add(lname, slot=slot, photo=p.file, **detail)
            else:
                sname = next((n for n in names if n.startswith(slot + ".")), None)
                kind = sname.split(".", 1)[1] if sname else None
                if kind == "missing":
                    add(sname or "", slot=slot)
                    continue
                shot = _clean_shot(rng, size, "wall")
                shot.tilt = 0.0
                kw: dict[str, Any] = {}
                content = slot
                detail = {}
                if slot == "pipeline_45":
                    kw = {"messy": kind == "messy", "busy": "busy_but_neat_pipes" in names}
                    if kw["busy"]:
                        hard.append("busy_but_neat_pipes")
                if kind in ("blur", "dark", "overexposed"):
                    detail = _apply_photo_defect(rng, kind, shot)
                elif kind in ("covered_lens", "blank_wall"):
                    content = kind
                elif kind == "extreme_closeup":
                    content = "extreme_closeup"
                    kw = {"of": slot}
                p = new_photo(slot, content, shot, scene_kw=kw)
                if sname:
                    add(sname, slot=slot, photo=p.file, **detail)
        if "extra_photo_in_slot" in names:
            extra_slot = next((s for s in ("install_env", "machine_running", "machine_overall") if s in required), None)
            if extra_slot and any(p.slot == extra_slot for p in photos):
                new_photo(extra_slot, extra_slot, _clean_shot(rng, self.sizes.pick(rng), "wall"))
                hard.append("extra_photo_in_slot")

        # -- reuse: one scene photo of this order is an earlier order's photo, re-encoded, resized, cropped
        reused: tuple[PhotoPlan, PhotoPlan] | None = None  # (the copy, its source photo)
        if reuse_src is not None:
            rname = "reuse.same_night" if "reuse.same_night" in names else "reuse.cross_night"
            marked = {d.photo for d in defects}
            targets = [q for q in photos if q.content == q.slot and q.slot in SCENE_SLOTS and q.file not in marked]
            pair = next(((q, t) for t in targets for q in reuse_src.photos
                         if q.slot == t.slot and q.content == q.slot), None)
            if pair is not None:
                src_photo, target = pair
                target.reuse_of = (reuse_src.night, src_photo.file)
                reused = (target, src_photo)
                target.content = "reuse"
                reuse_src.hard_cases.append("first_use_of_reused_photo")
                add(rname, slot=target.slot, photo=target.file, source_order=reuse_src.record["order_id"],
                    source_photo=src_photo.file, source_night=reuse_src.night)

        # -- EXIF and uploads
        t_cap = start + timedelta(minutes=float(rng.uniform(2, 10)))
        exif_mode = "normal"
        if "no_exif" in names:
            exif_mode = "none"
            hard.append("no_exif")
        elif "no_gps" in names:
            exif_mode = "no_gps"
            hard.append("no_gps")
        software = None
        if "phone_firmware_software" in names:
            software = FIRMWARE[int(rng.integers(len(FIRMWARE)))]
            hard.append("phone_firmware_software")
        orient_photo = None
        if "exif_orientation_6" in names:
            cands = [p for p in photos if p.content != "reuse"]
            orient_photo = cands[int(rng.integers(len(cands)))] if cands else None
            if orient_photo is not None:
                w, h = orient_photo.shot.size
                orient_photo.shot.size = (min(w, h), max(w, h))
                hard.append("exif_orientation_6")
        early_photo = None
        if "exif.before_dispatch" in names or "captured_30min_before_dispatch" in names:
            cands = [p for p in photos if p.content != "reuse" and p.slot != "service_form"]
            early_photo = cands[0] if cands else None
        editor_photo = None
        if "exif.editor_software" in names:
            cands = [p for p in photos if p.content != "reuse"]
            editor_photo = cands[int(rng.integers(len(cands)))] if cands else None
        offset_time = bool(rng.random() < 0.5)
        for p in photos:
            t_cap += timedelta(minutes=float(rng.uniform(1, 12)))
            when = min(t_cap, completed - timedelta(minutes=2))
            if p.slot == "service_form":
                when = completed - timedelta(minutes=float(rng.uniform(1, 5)))
            when = when.replace(microsecond=0)
            gps_pt = offset_km(*photo_site, float(abs(rng.normal(0, 0.025))), float(rng.uniform(0, 2 * math.pi)))
            ex: dict[str, Any] | None = {"captured_at": when, "offset_time": offset_time,
                                         "gps": (round(gps_pt[0], 6), round(gps_pt[1], 6)),
                                         "make": device[0], "model": device[1], "software": software, "orientation": 1}
            if p is early_photo and ex is not None:
                if "exif.before_dispatch" in names:
                    ex["captured_at"] = (dispatched - timedelta(hours=float(rng.uniform(3, 40)))).replace(microsecond=0)
                    add("exif.before_dispatch", slot=p.slot, photo=p.file,
                        captured_at=ex["captured_at"].isoformat(), dispatched=dispatched.isoformat())
                else:
                    ex["captured_at"] = (dispatched - timedelta(minutes=float(rng.uniform(25, 35)))).replace(
                        microsecond=0)
                    hard.append("captured_30min_before_dispatch")
            if p is editor_photo and ex is not None:
                ex["software"] = EDITORS[int(rng.integers(len(EDITORS)))]
                add("exif.editor_software", slot=p.slot, photo=p.file, software=ex["software"])
            if exif_mode == "none":
                ex = None
            elif exif_mode == "no_gps" and ex is not None:
                ex["gps"] = None
            if p is orient_photo and ex is not None:
                ex["orientation"] = 6
            if p.content == "reuse":
                ex = None  # the re-upload went through a chat app: metadata stripped
            p.exif = ex
            p.uploaded_by = uploader
            p.uploaded_at = (closed - timedelta(minutes=float(rng.uniform(1, 6)))).replace(microsecond=0)
            if p.slot == "service_form":
                p.uploaded_at = max(p.uploaded_at, (when + timedelta(minutes=1)))
        if gps_detail and any(p.exif is not None and p.exif.get("gps") for p in photos):  # else nothing shows it
            add("exif.gps_far" if "exif.gps_far" in names else "exif.gps_near", **gps_detail)
        if "record.uploader_not_engineer" in names and photos:
            other = next(e for e in ENGINEERS if e[0] != eng[0])
            victims = photos if rng.random() < 0.5 else [photos[int(rng.integers(len(photos)))]]
            for p in victims:
                p.uploaded_by = other[0]
            add("record.uploader_not_engineer", uploaded_by=other[0], engineer=eng[0],
                photos=[p.file for p in victims])
        form_photos = [p for p in photos if p.slot == "service_form"]
        if "form.uploaded_late" in names and form_photos:
            late = timedelta(hours=float(rng.uniform(26, 50)))
            for p in form_photos:
                p.uploaded_at = (completed + late).replace(microsecond=0)
            closed = max(closed, form_photos[0].uploaded_at + timedelta(minutes=3))
            add("form.uploaded_late", slot="service_form", photo=form_photos[0].file,
                hours_after=round(late.total_seconds() / 3600, 1))
        if "form_uploaded_20h" in names and form_photos:
            for p in form_photos:
                p.uploaded_at = (completed + timedelta(hours=float(rng.uniform(19.5, 21)))).replace(microsecond=0)
            closed = max(closed, form_photos[0].uploaded_at + timedelta(minutes=3))
            hard.append("form_uploaded_20h")
        if reused is not None and reuse_src is not None:
            # The later upload is the false one (contract, clause 50): the copy goes up after its source
            # order's last upload and closing, even when both orders fall on one night.
            copy, src_photo = reused
            src_closed = datetime.fromisoformat(reuse_src.record["times"]["closed"])
            src_last = max(src_closed, src_photo.uploaded_at or src_closed)
            if copy.uploaded_at is None or copy.uploaded_at <= src_last:
                copy.uploaded_at = (src_last + timedelta(minutes=float(rng.uniform(1, 6)))).replace(microsecond=0)
        for p in photos:  # nothing uploaded after closing
            if p.uploaded_at is not None and p.uploaded_at > closed:
                closed = p.uploaded_at + timedelta(minutes=2)

        record: dict[str, Any] = {
            "order_id": order_id, "order_type": otype, "machine_class": cls, "model": model,
            "machine_code": rec_code, "imei": rec_imei, "mac": rec_mac, "fault_symptom": symptom, "fault_note": note,
            "customer": {"name": cust_name, "address": addr, "lat": None if rec_lat is None else round(rec_lat, 6),
                         "lon": None if rec_lon is None else round(rec_lon, 6)},
            "engineer": {"id": eng[0], "name": eng[1]},
            "contractor": {"id": con[0], "name": con[1]},
            "managers": {"training": {"id": mgr[0][0], "name": mgr[0][1]},
                         "responsible": {"id": mgr[1][0], "name": mgr[1][1]}},
            "times": {"dispatched": dispatched.isoformat(), "completed": completed.isoformat(),
                      "closed": closed.isoformat()},
            "photos": [{"slot": p.slot, "file": p.file, "uploaded_by": p.uploaded_by,
                        "uploaded_at": p.uploaded_at.isoformat() if p.uploaded_at else None} for p in photos],
        }
        if datum:
            record["customer"]["datum"] = datum
        if "null_contractor" in names:
            record["contractor"] = None
            hard.append("null_contractor")
        if "null_managers" in names:
            record["managers"] = None if rng.random() < 0.5 else {"training": None, "responsible": None}
            hard.append("null_managers")
        if "unknown_extra_keys" in names:
            record["app_version"] = "5.12.0"
            record["customer"]["wechat_openid"] = "oXk3" + "".join(str(int(d)) for d in rng.integers(0, 10, 10))
            record["photos"][0]["thumb"] = record["photos"][0]["file"].replace(".jpg", "_t.jpg")
            hard.append("unknown_extra_keys")
        mac_printed = None
        if mac:
            mac_printed = [":".join(mac[k:k + 2] for k in range(0, 12, 2)), mac,
                           "-".join(mac[k:k + 2] for k in range(0, 12, 2))][int(rng.integers(3))]
        label = {"model": label_model, "sn": label_sn, "imei": imei, "mac": mac, "mac_printed": mac_printed}
        return OrderPlan(self.night, i, record, photos, defects, hard, form_fields, label)

    def plan(self) -> list[OrderPlan]:
        plans: list[OrderPlan] = []
        for i, specs in enumerate(self.assign()):
            if any(s.name == "reuse.same_night" for s in specs):
                sources = [p for p in plans if not p.defects]
            elif any(s.name == "reuse.cross_night" for s in specs):
                sources = [p for p in self.earlier if not p.defects]
            else:
                sources = []
            plans.append(self.order(i, specs, sources))
        return plans


def plan_nights(seed: int, orders: int, nights: int, sizes: Sizes, later_orders: int | None = None
                ) -> list[list[OrderPlan]]:
    """Plan every night: night 1 with ``orders`` orders, later nights with ``later_orders`` (default 1/4)."""
    out: list[list[OrderPlan]] = []
    earlier: list[OrderPlan] = []
    for night in range(1, nights + 1):
        n = orders if night == 1 else (later_orders or max(4, orders // 4))
        plans = NightPlanner(seed, night, n, sizes, earlier=earlier, defect_offset=night * 11).plan()
        out.append(plans)
        earlier = earlier + plans
    return out

"""The company configuration: catalog, required slots, limits and defect -> clause policy.

Loaded from ``models/config.toml`` (or ``--config FILE``) and validated at load: a wrong key or value
raises `ConfigError` naming its path and the reason, before any order is read.
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wocheck.errors import ConfigError
from wocheck.paths import models_dir
from wocheck.records import MachineClass, OrderType, Slot, Verdict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """One product model of the catalog."""

    machine_class: MachineClass
    sn_code: str = Field(pattern=r"^[0-9A-Z]{2}$")
    imei: bool
    mac: bool


class CodesConfig(_Strict):
    sn_pattern: str
    sn_typo_max_distance: int = Field(2, ge=0, le=5)

    @field_validator("sn_pattern")
    @classmethod
    def _groups(cls, v: str) -> str:
        try:
            rx = re.compile(v)
        except re.error as e:
            raise ValueError(f"not a regular expression: {e}") from e
        missing = {"model_code", "yymm", "serial"} - set(rx.groupindex)
        if missing:
            raise ValueError(f"the pattern must name the groups {sorted(missing)}")
        return v


class SymptomRules(_Strict):
    network: list[str]
    needs_note: list[str]
    symptom_order_types: list[OrderType]


class SlotSpec(_Strict):
    clause: int = Field(ge=1, le=92)
    zh: str
    en: str


class Limits(_Strict):
    form_upload_max_hours: float = Field(24.0, gt=0)
    capture_before_dispatch_hours: float = Field(1.0, ge=0)
    gps_violation_km: float = Field(2.0, gt=0)
    gps_review_km: float = Field(0.5, gt=0)
    max_photo_megapixels: float = Field(60.0, gt=0)
    max_photo_megabytes: float = Field(80.0, gt=0)
    order_timeout_seconds: float = Field(120.0, gt=0)
    check_threads: int = Field(2, ge=1, le=64)

    @model_validator(mode="after")
    def _order(self) -> Limits:
        if self.gps_review_km > self.gps_violation_km:
            raise ValueError("gps_review_km must not exceed gps_violation_km")
        return self


class CheckPolicy(_Strict):
    clause: int | None = Field(None, ge=1, le=92)  # None: the slot's clause
    verdict: Verdict


class Policy(_Strict):
    min_violation_confidence: float = Field(0.9, ge=0, le=1)
    checks: dict[str, CheckPolicy]

    @field_validator("checks")
    @classmethod
    def _codes(cls, v: dict[str, CheckPolicy]) -> dict[str, CheckPolicy]:
        for code in v:
            if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", code):
                raise ValueError(f"check code {code!r} is not a dotted lower-case code")
        return v


class FormsConfig(_Strict):
    default: str
    layouts: dict[str, str]

    @model_validator(mode="after")
    def _default_known(self) -> FormsConfig:
        if self.default not in self.layouts:
            raise ValueError(f"default form {self.default!r} is not among layouts {sorted(self.layouts)}")
        return self


class Config(_Strict):
    """The whole configuration; `load_config` builds it, everything else only reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    version: Literal[1]
    forms: FormsConfig
    codes: CodesConfig
    models: dict[str, ModelSpec]
    symptoms: dict[MachineClass, dict[str, str]]
    symptom_rules: SymptomRules
    slots: dict[Slot, SlotSpec]
    required_slots: dict[MachineClass, dict[OrderType, list[Slot]]]
    limits: Limits
    policy: Policy
    source: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Config:
        for slot in Slot:
            if slot not in self.slots:
                raise ValueError(f"slots: slot {slot.value!r} has no entry")
        for mc in MachineClass:
            if mc not in self.symptoms:
                raise ValueError(f"symptoms: no catalog for machine class {mc.value!r}")
            table = self.required_slots.get(mc)
            if table is None:
                raise ValueError(f"required_slots: no table for machine class {mc.value!r}")
            for ot in OrderType:
                if ot not in table:
                    raise ValueError(f"required_slots.{mc.value}: no entry for order type {ot.value!r}")
        codes = [m.sn_code for m in self.models.values()]
        if len(codes) != len(set(codes)):
            raise ValueError("models: two models share one sn_code")
        return self

    def required(self, machine_class: MachineClass, order_type: OrderType) -> list[Slot]:
        return list(self.required_slots[machine_class][order_type])

    def model_for_sn_code(self, sn_code: str) -> str | None:
        for name, spec in self.models.items():
            if spec.sn_code == sn_code:
                return name
        return None

    def check_policy(self, check: str) -> CheckPolicy:
        """The policy entry of a check; its first dotted prefix that has one (``form.blur.x`` -> ``form.blur``)."""
        parts = check.split(".")
        while parts:
            key = ".".join(parts)
            if key in self.policy.checks:
                return self.policy.checks[key]
            parts.pop()
        raise ConfigError(f"policy: no entry for check {check!r}: add it to [policy.checks] in {self.source}")

    @property
    def models_root(self) -> Path:
        """The folder that data paths of this config are relative to (the config file's folder)."""
        return Path(self.source).parent if self.source else models_dir()

    def form_layout_path(self, form_id: str | None = None) -> Path:
        return self.models_root / self.forms.layouts[form_id or self.forms.default]

    def thresholds(self, name: str, model: type[_T]) -> _T:
        """The thresholds file ``thresholds/NAME.toml`` beside this config, validated by ``model``.

        Each file holds one inspector's thresholds (units and bounds in ``model``) and a ``[provenance]``
        table naming the script and data that calibrated them; loaded once per process.
        """
        return _load_thresholds(self.models_root / "thresholds" / f"{name}.toml", model)


_T = TypeVar("_T", bound=BaseModel)


@lru_cache(maxsize=64)
def _load_thresholds(path: Path, model: type[_T]) -> _T:
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"thresholds file {path} does not exist") from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"thresholds file {path} can't be read: {e}") from e
    raw.pop("provenance", None)
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"thresholds file {path} is invalid:\n{_format_validation_error(e)}") from e


def _format_validation_error(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def default_config_path() -> Path:
    return models_dir() / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read and validate a configuration file (TOML); ``None`` = the project's default."""
    path = path or default_config_path()
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file {path} does not exist") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {path} can't be read: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from e
    try:
        cfg = Config.model_validate({**raw, "source": str(path.resolve())})
    except ValidationError as e:
        raise ConfigError(f"config file {path} is invalid:\n{_format_validation_error(e)}") from e
    for key in cfg.forms.layouts:
        layout = cfg.form_layout_path(key)
        if not layout.is_file():
            raise ConfigError(f"config file {path}: forms.layouts.{key}: {layout} does not exist")
    return cfg


def load_json(path: Path) -> Any:
    """Read a JSON data file of the project, as a `ConfigError` when it is missing or broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"data file {path} can't be read: {e}") from e

"""The config loads, and a wrong one fails at start naming the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from wocheck.config import default_config_path, load_config
from wocheck.errors import ConfigError, ExitCode


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = default_config_path().read_text(encoding="utf-8")
    assert old in text, old
    p = tmp_path / "config.toml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    (tmp_path / "forms").symlink_to(default_config_path().parent / "forms")
    return p


def test_default_config_matches_the_contract() -> None:
    cfg = load_config()
    assert {m: (s.sn_code, s.imei, s.mac) for m, s in cfg.models.items()} == {
        "NVK-RO400": ("4A", False, False), "NVK-RO600": ("6A", False, True), "NVK-RO800": ("8A", True, True),
        "NVK-UF200": ("U2", False, False), "NVK-C1000": ("CA", True, True), "NVK-C2000": ("CB", True, True)}
    assert cfg.limits.gps_violation_km == 2.0 and cfg.limits.gps_review_km == 0.5
    assert cfg.form_layout_path().is_file()


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ('sn_code = "4A"', 'sn_code = "4a"', "models.NVK-RO400.sn_code"),
        ('machine_class = "household"', 'machine_class = "home"', "models.NVK-RO400.machine_class"),
        ("gps_review_km = 0.5", "gps_review_km = 5.0", "gps_review_km must not exceed"),
        ('verdict = "violation" }', 'verdict = "maybe" }', "policy.checks"),
        ("form_upload_max_hours = 24.0", "form_upload_max_hours = -1", "limits.form_upload_max_hours"),
        ('relocate = ["service_form", "pipeline_45", "machine_overall", "code_label"]', "",
         "no entry for order type 'relocate'"),
        ("version = 1", "version = 1\nsurprise = 3", "surprise"),
        ("sn_pattern = '", "sn_pattern = '(", "not a regular expression"),
        ('"NVK-SF" = "forms/nvk-service-form-v1.json"', '"NVK-SF" = "forms/none.json"', "does not exist"),
    ],
)
def test_wrong_config_names_key_and_reason(tmp_path: Path, old: str, new: str, expect: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(_variant(tmp_path, old, new))
    assert expect in str(e.value)
    assert e.value.exit_code == ExitCode.bad_input


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[models\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")


def test_policy_lookup_by_prefix_and_unknown() -> None:
    cfg = load_config()
    assert cfg.check_policy("slot.missing.extra").verdict == "violation"
    with pytest.raises(ConfigError, match="no entry for check"):
        cfg.check_policy("nothing.known")

"""Identifier parsing and validation: SN, IMEI (Luhn), MAC forms, QR payloads, OCR repair, edit distance."""

from __future__ import annotations

import string

from hypothesis import assume, given
from hypothesis import strategies as st

from wocheck.identifiers import (
    DEFAULT_SN_PATTERN,
    classify_code,
    code_distance,
    is_valid_imei,
    is_valid_mac,
    luhn_check_digit,
    luhn_ok,
    normalize_code,
    normalize_mac,
    parse_label_payload,
    parse_sn,
    repair_ocr_imei,
    repair_ocr_sn,
    sn_model_code,
)

digits = st.text(alphabet=string.digits, min_size=1, max_size=30)
model_codes = st.text(alphabet=string.digits + string.ascii_uppercase, min_size=2, max_size=2)
hex12 = st.text(alphabet="0123456789abcdefABCDEF", min_size=12, max_size=12)


@st.composite
def sns(draw: st.DrawFn) -> str:
    code = draw(model_codes)
    yy = draw(st.integers(0, 99))
    mm = draw(st.integers(1, 12))
    serial = draw(st.integers(0, 999_999))
    return f"NVK{code}{yy:02d}{mm:02d}{serial:06d}"


@st.composite
def imeis(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=string.digits, min_size=14, max_size=14))
    return body + luhn_check_digit(body)


@given(digits)
def test_luhn_check_digit_makes_a_valid_number(body: str) -> None:
    assert luhn_ok(body + luhn_check_digit(body))


@given(imeis(), st.integers(0, 14), st.integers(1, 9))
def test_luhn_catches_every_single_digit_error(imei: str, pos: int, delta: int) -> None:
    wrong = imei[:pos] + str((int(imei[pos]) + delta) % 10) + imei[pos + 1:]
    assert is_valid_imei(imei)
    assert not is_valid_imei(wrong)


@given(imeis(), st.integers(0, 13))
def test_luhn_catches_adjacent_transpositions(imei: str, pos: int) -> None:
    a, b = imei[pos], imei[pos + 1]
    assume(a != b and {a, b} != {"0", "9"})  # 09 <-> 90 is Luhn's one blind spot
    swapped = imei[:pos] + b + a + imei[pos + 2:]
    assert not luhn_ok(swapped)


def test_known_imei_and_wrong_lengths() -> None:
    assert is_valid_imei("490154203237518")
    assert not is_valid_imei("49015420323751")
    assert not is_valid_imei("4901542032375180")
    assert not is_valid_imei("49015420323751X")
    assert not is_valid_imei(None) and not is_valid_imei("")


@given(hex12, st.sampled_from(["", ":", "-"]))
def test_mac_forms_normalise_to_one_value(h: str, sep: str) -> None:
    printed = sep.join(h[i:i + 2] for i in range(0, 12, 2))
    assert is_valid_mac(printed)
    assert normalize_mac(printed) == h.upper()
    assert normalize_mac(printed.lower()) == normalize_mac(printed.upper())


@given(st.text(max_size=20))
def test_mac_validation_needs_exactly_twelve_hex_digits(t: str) -> None:
    if is_valid_mac(t):
        assert len(normalize_mac(t)) == 12 and all(c in "0123456789ABCDEF" for c in normalize_mac(t))


@given(sns())
def test_sn_round_trip(sn: str) -> None:
    parts = parse_sn(sn)
    assert parts is not None
    assert sn == f"NVK{parts.model_code}{parts.year % 100:02d}{parts.month:02d}{parts.serial}"
    assert sn_model_code(sn) == parts.model_code
    assert parse_sn(sn.lower()) == parts  # case-insensitive


@given(sns(), st.integers(13, 99))
def test_sn_month_out_of_range_is_malformed(sn: str, month: int) -> None:
    bad = sn[:7] + f"{month:02d}" + sn[9:]
    assert parse_sn(bad) is None


@given(sns())
def test_sn_wrong_length_is_malformed(sn: str) -> None:
    assert parse_sn(sn[:-1]) is None
    assert parse_sn(sn + "7") is None


@given(st.text(max_size=20), st.text(max_size=20))
def test_edit_distance_is_a_metric(a: str, b: str) -> None:
    assert code_distance(a, b) == code_distance(b, a)
    assert (code_distance(a, b) == 0) == (normalize_code(a) == normalize_code(b))
    assert code_distance(a, a) == 0


@given(st.text(alphabet="AB01", max_size=10), st.text(alphabet="AB01", max_size=10),
       st.text(alphabet="AB01", max_size=10))
def test_edit_distance_triangle_inequality(a: str, b: str, c: str) -> None:
    assert code_distance(a, c) <= code_distance(a, b) + code_distance(b, c)


@given(sns(), st.lists(st.integers(9, 14), min_size=1, max_size=2, unique=True))
def test_typing_slips_count_one_per_character(sn: str, positions: list[int]) -> None:
    chars = list(sn)
    for p in positions:
        chars[p] = str((int(chars[p]) + 1) % 10)
    assert code_distance(sn, "".join(chars)) == len(positions)


@given(sns(), st.one_of(st.none(), hex12), st.one_of(st.none(), imeis()), st.permutations(["SN", "MAC", "IMEI"]),
       st.sampled_from([";", "\n"]))
def test_label_payload_round_trip(sn: str, mac: str | None, imei: str | None, order: list[str], sep: str) -> None:
    vals = {"SN": sn, "MAC": mac, "IMEI": imei}
    text = sep.join(f"{k}:{vals[k]}" for k in order if vals[k])
    got = parse_label_payload(text)
    assert got is not None
    assert got == {k.lower(): v for k, v in vals.items() if v}
    kinds = {v.kind: v.value for v in classify_code(text)}
    assert kinds["sn"] == sn
    if mac:
        assert kinds["mac"] == mac.upper()
    if imei:
        assert kinds["imei"] == imei


def test_payload_rejects_other_texts() -> None:
    assert parse_label_payload("http://example.com/a;b") is None
    assert parse_label_payload("SN:NVK6A2412000731;FOO:1") is None
    assert parse_label_payload("") is None and parse_label_payload(None) is None
    assert parse_label_payload("sn = NVK6A2412000731 ; mac：A4CF123B9E01") == {"sn": "NVK6A2412000731",
                                                                              "mac": "A4CF123B9E01"}


@given(sns(), imeis(), hex12)
def test_classify_bare_codes(sn: str, imei: str, mac: str) -> None:
    assert [v.kind for v in classify_code(sn)] == ["sn"]
    assert [v.kind for v in classify_code(imei)] == ["imei"]
    assert [(v.kind, v.value) for v in classify_code(mac)] == [("mac", mac.upper())]
    assert [v.kind for v in classify_code(":".join(mac[i:i + 2] for i in range(0, 12, 2)))] == ["mac"]


def test_classify_other_and_retail() -> None:
    assert [v.kind for v in classify_code("http://nvk.example/p/123")] == ["other"]
    assert [v.kind for v in classify_code("490154203237517")] == ["other"]  # 15 digits, Luhn fails
    assert [v.kind for v in classify_code("012345678905", linear_retail=True)] == ["other"]  # UPC-A, not a MAC


@given(sns())
def test_repair_ocr_sn_fixes_digit_confusions_only_in_digit_places(sn: str) -> None:
    confused = sn[:5] + sn[5:].replace("0", "O").replace("1", "I").replace("5", "S").replace("8", "B")
    assert repair_ocr_sn(confused) == sn
    assert repair_ocr_sn(sn) == sn
    assert repair_ocr_sn(sn[:-1]) is None


@given(imeis())
def test_repair_ocr_imei(imei: str) -> None:
    assert repair_ocr_imei(imei.replace("0", "O").replace("1", "I")) == imei
    assert repair_ocr_imei(imei[:-1]) is None


def test_default_pattern_is_the_contracts() -> None:
    assert parse_sn("NVK6A2412000731", DEFAULT_SN_PATTERN) is not None

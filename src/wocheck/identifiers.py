"""Machine identifiers: SN (机器编码), IMEI and MAC formats, normalisation and comparison.

Pure functions, no I/O. The SN pattern and the model codes come from the catalog (config); these
functions take them as arguments so that another catalog needs no code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

_MAC_SEPARATORS = re.compile(r"[:\-.\s]")
_MAC_HEX12 = re.compile(r"^[0-9A-F]{12}$")
_IMEI15 = re.compile(r"^\d{15}$")

DEFAULT_SN_PATTERN = r"^NVK(?P<model_code>[0-9A-Z]{2})(?P<yymm>\d{4})(?P<serial>\d{6})$"


@dataclass(frozen=True)
class SnParts:
    model_code: str
    year: int
    month: int
    serial: str


def normalize_code(text: str | None) -> str:
    """Upper-case, strip blanks: the form in which SNs and IMEIs are compared."""
    return "" if text is None else re.sub(r"\s+", "", text).upper()


def parse_sn(text: str | None, pattern: str = DEFAULT_SN_PATTERN) -> SnParts | None:
    """Split an SN into model code, production year-month and serial; ``None`` if malformed.

    ``pattern`` must define the named groups ``model_code``, ``yymm`` and ``serial``. A month outside
    01-12 makes the SN malformed.
    """
    m = re.fullmatch(pattern.removeprefix("^").removesuffix("$"), normalize_code(text))
    if m is None:
        return None
    yymm = m.group("yymm")
    month = int(yymm[2:])
    if not 1 <= month <= 12:
        return None
    return SnParts(model_code=m.group("model_code"), year=2000 + int(yymm[:2]), month=month,
                   serial=m.group("serial"))


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn check (its last digit is the check digit)."""
    if not digits or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The Luhn check digit to append to ``body`` (digits only)."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise ValueError(f"not a digit string: {body!r}")


def is_valid_imei(text: str | None) -> bool:
    """15 digits with a valid Luhn check digit."""
    t = normalize_code(text)
    return bool(_IMEI15.fullmatch(t)) and luhn_ok(t)


def normalize_mac(text: str | None) -> str:
    """12 upper-case hex digits without separators; ``""`` for empty input. Does not validate."""
    return "" if text is None else _MAC_SEPARATORS.sub("", text).upper()


def is_valid_mac(text: str | None) -> bool:
    """12 hex digits, printed with or without ``:``/``-`` separators, any case."""
    return bool(_MAC_HEX12.fullmatch(normalize_mac(text)))


def code_distance(a: str | None, b: str | None) -> int:
    """Levenshtein distance between two codes after normalisation (typing slips count 1 per char)."""
    return int(Levenshtein.distance(normalize_code(a), normalize_code(b)))

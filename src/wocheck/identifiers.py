"""Machine identifiers: SN (机器编码), IMEI and MAC formats, normalisation and comparison.

Pure functions, no I/O. The SN pattern and the model codes come from the catalog (config); these
functions take them as arguments so that another catalog needs no code change.
"""

from __future__ import annotations

import re
from collections.abc import Collection
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


# --- nameplate codes: what a decoded text carries --------------------------------------------------------

CODE_KINDS = ("sn", "imei", "mac", "other")
_PAYLOAD_KEYS = {"SN": "sn", "S/N": "sn", "IMEI": "imei", "MAC": "mac"}
_PAYLOAD_PART = re.compile(r"^\s*(SN|S/N|IMEI|MAC)\s*[:：=]\s*(.*?)\s*$", re.IGNORECASE)
# OCR confusions in places that must be digits (the SN's YYMM and serial, an IMEI).
_OCR_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "T": "1", "Z": "2", "S": "5",
                            "B": "8", "G": "6"})


@dataclass(frozen=True)
class CodeValue:
    """One identifier a decoded code carries: ``kind`` (sn | imei | mac | other) and its normalised value.

    ``value`` is upper-case without blanks (an SN, 15 IMEI digits, 12 MAC hex digits); for ``other`` the
    text as read. ``key`` is the payload key it came from (``"SN"`` ...) or ``""`` for a bare code.
    """

    kind: str
    value: str
    key: str = ""


def parse_label_payload(text: str | None) -> dict[str, str] | None:
    """The nameplate QR's ``SN:<sn>;MAC:<mac>;IMEI:<imei>`` as ``{"sn": .., "mac": .., "imei": ..}``.

    Parts in any order, keys in any case, ``;`` or newlines between parts, absent parts left out. ``None``
    when the text is not such a payload (a part without a known key, or no part at all). A key given
    twice keeps its first value.
    """
    if not text:
        return None
    parts = [p for p in re.split(r"[;\n\r]+", text) if p.strip()]
    if not parts:
        return None
    out: dict[str, str] = {}
    for p in parts:
        m = _PAYLOAD_PART.match(p)
        if m is None:
            return None
        out.setdefault(_PAYLOAD_KEYS[m.group(1).upper()], m.group(2))
    return out


def _bare_kind(text: str, sn_pattern: str, *, allow_mac: bool) -> str:
    if parse_sn(text, sn_pattern) is not None:
        return "sn"
    if is_valid_imei(text):
        return "imei"
    if allow_mac and is_valid_mac(text) and re.fullmatch(r"[0-9A-Fa-f:\-. ]+", text.strip()):
        return "mac"
    return "other"


def classify_code(text: str, *, sn_pattern: str = DEFAULT_SN_PATTERN, linear_retail: bool = False) -> list[CodeValue]:
    """What a decoded code's text carries: one `CodeValue` per identifier, or one ``other``.

    A nameplate payload (``SN:..;MAC:..``) gives one value per part, each of the kind its key names (a
    value of the wrong form keeps its kind: the label is wrong, which the cross-checks report). A bare
    text is an SN when of the SN form, an IMEI when 15 digits pass Luhn, a MAC when 12 hex digits (with or
    without separators). ``linear_retail``: the code is an EAN/UPC, whose 12-13 digits are never a MAC.
    """
    payload = parse_label_payload(text)
    if payload is not None:
        out = []
        for kind, raw in payload.items():
            value = normalize_mac(raw) if kind == "mac" else normalize_code(raw)
            out.append(CodeValue(kind, value, key=kind.upper()))
        return out
    kind = _bare_kind(text, sn_pattern, allow_mac=not linear_retail)
    if kind == "mac":
        return [CodeValue("mac", normalize_mac(text))]
    if kind in ("sn", "imei"):
        return [CodeValue(kind, normalize_code(text))]
    return [CodeValue("other", text)]


_OCR_SWAP = {"8": "B", "B": "8", "0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "2": "Z", "Z": "2",
             "6": "G", "G": "6", "4": "A", "A": "4"}


def repair_ocr_sn(token: str, sn_pattern: str = DEFAULT_SN_PATTERN,
                  model_codes: Collection[str] | None = None) -> str | None:
    """An OCR'd token as an SN when it is one after fixing letter/digit confusions, else ``None``.

    After the 5-character prefix (``NVK`` + model code) only letters that OCR confuses with digits are
    changed (O→0, I→1, S→5, B→8, ...). With ``model_codes`` (the catalog's) the SN's model code must be
    one of them; a model code that is not is tried with one confused character swapped (``BA`` -> ``8A``),
    accepted only when exactly one swap gives a catalog code.
    """
    t = normalize_code(token)
    prefix_len = 5
    fixed = t if parse_sn(t, sn_pattern) is not None else t[:prefix_len] + t[prefix_len:].translate(_OCR_DIGIT)
    parts = parse_sn(fixed, sn_pattern)
    if parts is None:
        return None
    if model_codes is None or parts.model_code in model_codes:
        return fixed
    code = parts.model_code
    at = fixed.find(code, 3)
    options = {code[:i] + _OCR_SWAP[c] + code[i + 1:] for i, c in enumerate(code) if c in _OCR_SWAP}
    hits = sorted(o for o in options if o in model_codes)
    if len(hits) != 1 or at < 0:
        return None
    out = fixed[:at] + hits[0] + fixed[at + len(code):]
    return out if parse_sn(out, sn_pattern) is not None else None


def repair_ocr_imei(token: str) -> str | None:
    """An OCR'd token as an IMEI (letter/digit confusions fixed) when it then passes Luhn, else ``None``."""
    t = normalize_code(token).translate(_OCR_DIGIT)
    return t if is_valid_imei(t) else None


def sn_model_code(text: str | None, sn_pattern: str = DEFAULT_SN_PATTERN) -> str | None:
    """The model code of an SN (``"6A"`` of ``NVK6A2412000731``), ``None`` when malformed."""
    parts = parse_sn(text, sn_pattern)
    return parts.model_code if parts else None

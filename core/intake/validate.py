"""Checking one intake form: a whole, valid record or a message per field (never a half record).

:func:`validate` returns the record to store, or for each bad field a message that names the field
and the allowed range. Values outside the usual band of CONV-INPUT-1 need an explicit confirmation
(``confirmed``), which is stored with the record (``confirmed_unusual``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import field, frozen

from .. import rules
from ..scan import GS, GSRN_RE, gs1_check_digit_ok, read_identifier
from ..text import unsafe_message
from .forms import DATE_RE, MAX_AGE_YEARS, MRN_RE, NUMBER_RE, PREGNANCY_RESULTS, SECTIONS, WRISTBAND_MAX, FieldSpec


@frozen
class FormResult:
    data: dict[str, Any] | None
    errors: dict[str, str] = field(factory=dict)
    confirm: dict[str, str] = field(factory=dict)

    @property
    def ok(self) -> bool:
        return self.data is not None


def _parse_decimal(spec: FieldSpec, raw: str) -> tuple[Decimal | None, str | None, str | None]:
    """(value, error, needs-confirmation message)."""
    text = raw.strip().replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw.strip()
    if not NUMBER_RE.match(text):
        rng = f" from {spec.range_text}" if spec.limit else ""
        return None, f"{spec.label}: enter a plain number{rng}.", None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        return None, f"{spec.label}: not a number.", None
    if spec.limit:
        lo, hi, ulo, uhi, _unit = rules.INPUT_LIMITS[spec.limit]
        unit = spec.unit_text
        if not lo <= value <= hi:
            return None, f"{spec.label}: {text} is outside the allowed range {lo} to {hi}{unit}.", None
        if not ulo <= value <= uhi:
            return (
                value,
                None,
                f"{spec.label} {text}{unit} is unusual (usual {ulo} to {uhi}): confirm it is right.",
            )  # CONV-INPUT-1
    return value, None, None


def _parse_date(spec: FieldSpec, raw: str, today: date) -> tuple[date | None, str | None]:
    text = raw.strip()
    if not DATE_RE.match(text):
        return None, f"{spec.label}: enter a date as YYYY-MM-DD."
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None, f"{spec.label}: {text} is not a real date."
    if value > today:
        return None, f"{spec.label}: {text} is in the future (today is {today.isoformat()})."
    if value.year < today.year - MAX_AGE_YEARS:
        return None, f"{spec.label}: {text} is more than {MAX_AGE_YEARS} years ago."
    return value, None


def clean_text(raw: str) -> str:
    """Typed text without unprintable characters, trimmed."""
    return "".join(ch for ch in raw if ch == " " or ch.isprintable()).strip()


def validate(
    section: str,
    raw: Mapping[str, Any],
    *,
    today: date,
    confirmed: Iterable[str] = (),
    dob: date | None = None,
    taken_mrns: Iterable[str] = (),
    taken_wristbands: Iterable[str] = (),
    wristband_scheme: str = "gsrn",
) -> FormResult:
    """Validate one form. ``raw`` maps field names to the typed strings (bools for checkboxes).
    The identity's wristband identifier is read as a scanner typed it and checked against the
    site's scheme (``wristband_scheme``: "gsrn" or "site") and the other patients' (issue 20)."""
    errors: dict[str, str] = {}
    confirm: dict[str, str] = {}
    data: dict[str, Any] = {}
    for spec in SECTIONS[section].fields:
        value, error, conf = _field_value(spec, raw.get(spec.name), today, dob)
        if error:
            errors[spec.name] = error
        elif value is not None:
            data[spec.name] = value
        if conf:
            confirm[spec.name] = conf
    _cross_checks(section, data, errors, set(taken_mrns))
    if section == "identity" and "wristband" in data and "wristband" not in errors:
        _wristband_check(data, errors, wristband_scheme, taken_wristbands)
    if errors:
        return FormResult(None, errors, confirm)
    agreed = set(confirmed)
    unconfirmed = {k: v for k, v in confirm.items() if k not in agreed}
    if unconfirmed:
        return FormResult(None, {}, unconfirmed)
    if confirm:
        data["confirmed_unusual"] = sorted(confirm)
    return FormResult(data, {}, confirm)


def _field_value(spec: FieldSpec, value: Any, today: date, dob: date | None) -> tuple[Any, str | None, str | None]:
    """One field: (the value to store or None if left empty, its error, its confirmation message)."""
    if spec.kind == "bool":
        return bool(value), None, None
    text = "" if value is None else str(value)
    if spec.kind == "text":
        scanned = spec.name == "wristband"  # a GS1 code's group separator is part of the scan
        refused = unsafe_message(spec.label, text.strip("\r\n"), allow=GS if scanned else "")  # C0/C1, DEL, bidi (core/text.py)
        if refused:
            return None, refused, None
        text = text.strip() if scanned else clean_text(text)
    if not text.strip():
        return None, _required(spec), None
    if spec.kind == "decimal":
        v, err, conf = _parse_decimal(spec, text)
        return (None, err, None) if err else (str(v), None, conf)
    if spec.kind == "date":
        return _date_value(spec, text, today, dob)
    if spec.kind == "choice" and text not in [v for v, _l in spec.choices]:
        return None, f"{spec.label}: choose one of {spec.range_text}.", None
    if spec.kind == "text" and len(text) > spec.max_len:
        return None, f"{spec.label}: at most {spec.max_len} characters (got {len(text)}).", None
    return text, None, None


def _required(spec: FieldSpec) -> str | None:
    """The message for an empty field: None if it may stay empty."""
    if not spec.required:
        return None
    return f"{spec.label}: required" + (f" ({spec.range_text})." if spec.range_text else ".")


def _date_value(spec: FieldSpec, text: str, today: date, dob: date | None) -> tuple[Any, str | None, None]:
    d, err = _parse_date(spec, text, today)
    if err is None and dob is not None and spec.name != "dob" and d is not None and d < dob:
        err = f"{spec.label}: {d.isoformat()} is before the date of birth {dob.isoformat()}."
    return (None, err, None) if err else (d.isoformat() if d else None, None, None)


def _cross_checks(section: str, data: dict[str, Any], errors: dict[str, str], taken_mrns: set[str]) -> None:
    check = _CROSS_CHECKS.get(section)
    if check is not None:
        check(data, errors, taken_mrns)


def _wristband_check(data: dict[str, Any], errors: dict[str, str], scheme: str, taken: Iterable[str]) -> None:
    """Issue 20: the identifier a scanned wristband carries, stored as it will be read at each dose
    (a GS1 code: its AI 8018 GSRN, check digit verified; a scanner's AIM prefix dropped)."""
    scan = read_identifier(data["wristband"])
    if scan.error:
        errors["wristband"] = f"Wristband ID: {scan.error}"
        return
    value = scan.identifier
    if scheme == "gsrn" and not (GSRN_RE.match(value) and gs1_check_digit_ok(value)):
        errors["wristband"] = (
            "Wristband ID: a GS1 GSRN, 18 digits whose last is the check digit (scan the wristband); "
            "the site's wristbands are GSRN (Settings)."
        )
        return
    if not value or len(value) > WRISTBAND_MAX or any(c == GS for c in value):
        errors["wristband"] = f"Wristband ID: 1 to {WRISTBAND_MAX} characters, as the wristband's code reads."
        return
    if value.casefold() in {t.casefold() for t in taken if t}:
        errors["wristband"] = f"Wristband ID: {value} belongs to another patient already."
        return
    data["wristband"] = value


def _identity_checks(data: dict[str, Any], errors: dict[str, str], taken_mrns: set[str]) -> None:
    if "mrn" in data and "mrn" not in errors:
        if not MRN_RE.match(data["mrn"]):
            errors["mrn"] = "MRN: 3–20 letters, digits or '-'."
        elif data["mrn"].upper() in {m.upper() for m in taken_mrns}:
            errors["mrn"] = f"MRN: {data['mrn']} belongs to another patient already."


def _labs_checks(data: dict[str, Any], errors: dict[str, str], _taken: set[str]) -> None:
    # CONV-CALC-7: a liver result needs its ULN in the same unit.
    if ("alp" in data) != ("alp_uln" in data) and "alp" not in errors and "alp_uln" not in errors:
        missing = "alp_uln" if "alp" in data else "alp"
        errors[missing] = f"{SECTIONS['labs'].field(missing).label}: enter ALP and its ULN together (CONV-CALC-7)."


def _blasts_checks(data: dict[str, Any], errors: dict[str, str], _taken: set[str]) -> None:
    """PRE-3: WBC with blast % (the count is computed), or the absolute count, not both."""
    has_pair = "wbc" in data or "blast_pct" in data
    has_abs = "blasts_per_mm3" in data
    if has_pair and has_abs:
        errors["blasts_per_mm3"] = "Blast count (/mm³): give either WBC with blast %, or the absolute count, not both."
    elif has_pair and ("wbc" not in data or "blast_pct" not in data):
        missing = "blast_pct" if "wbc" in data else "wbc"
        errors[missing] = f"{SECTIONS['blasts'].field(missing).label}: needed with the other to compute the count (PRE-3)."
    elif not has_pair and not has_abs and not {"wbc", "blast_pct", "blasts_per_mm3"} & errors.keys():
        errors["wbc"] = "WBC (×10⁹/L): enter WBC and blast %, or the absolute blast count (/mm³)."
    if "wbc" in data and "blast_pct" in data:
        data["blasts_per_mm3"] = str(blasts_per_mm3(Decimal(data["wbc"]), Decimal(data["blast_pct"])))
        data["derived_from"] = "wbc_pct"
    elif has_abs:
        _absolute_count_check(data, errors)
        data["derived_from"] = "absolute"


def _absolute_count_check(data: dict[str, Any], errors: dict[str, str]) -> None:
    v = Decimal(data["blasts_per_mm3"])
    hi = rules.INPUT_LIMITS["blasts_per_mm3"][1]
    if v > hi:
        errors["blasts_per_mm3"] = f"Blast count (/mm³): at most {hi:,} /mm³ (is this the WBC in ×10⁹/L or a %?)."
    elif v < rules.BLAST_COUNT_MIN_PLAUSIBLE_PER_MM3 and v != 0:
        # PRE-3: the count field refuses a bare percentage.
        errors["blasts_per_mm3"] = (
            f"Blast count (/mm³): {v} looks like a % or ×10⁹/L; enter /mm³ (1 ×10⁹/L = 1,000/mm³) or use WBC and %."
        )


def _reproductive_checks(data: dict[str, Any], errors: dict[str, str], _taken: set[str]) -> None:
    result = data.get("pregnancy_test")
    if result in PREGNANCY_RESULTS and "test_date" not in data and "test_date" not in errors:
        errors["test_date"] = "Test date: required with a pregnancy test result (PRE-7)."
    if data.get("potential") == "yes" and result is None and "pregnancy_test" not in errors:
        errors["pregnancy_test"] = "Pregnancy test: choose Negative, Positive or Not done (PRE-7)."


_CROSS_CHECKS: dict[str, Callable[[dict[str, Any], dict[str, str], set[str]], None]] = {
    "identity": _identity_checks,
    "labs": _labs_checks,
    "blasts": _blasts_checks,
    "reproductive": _reproductive_checks,
}


def blasts_per_mm3(wbc_1e9_l: Decimal, pct: Decimal) -> Decimal:
    """PRE-3: WBC (×10⁹/L) × blast % ÷ 100 × 1,000 /mm³."""
    value = wbc_1e9_l * pct / 100 * rules.PER_MM3_PER_1E9_L
    return Decimal(format(value.normalize(), "f"))

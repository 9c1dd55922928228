"""Vital signs typed on the monitor: validation and the usual bands (CONV-INPUT-1, MON-4)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import rules
from ..clock import fmt_local, local_instant, to_local

# Vital signs: (data field, label, INPUT_LIMITS key, decimals allowed). CONV-INPUT-1.
VITALS_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("temp_c", "Temperature (°C)", "temp_c", True),
    ("hr", "Heart rate (/min)", "heart_rate", False),
    ("sys", "Systolic BP (mmHg)", "systolic_bp", False),
    ("dia", "Diastolic BP (mmHg)", "diastolic_bp", False),
    ("rr", "Respiratory rate (/min)", "resp_rate", False),
    ("spo2", "SpO2 (%)", "spo2", False),
)
_TIME_RE = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_DECIMAL_RE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
_INT_RE = re.compile(r"^[0-9]{1,3}$")


def _vitals_parse(raw: Mapping[str, Any]) -> tuple[dict[str, Decimal], dict[str, str]]:
    values: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for name, label, limit, decimals in VITALS_FIELDS:
        lo, hi, _ulo, _uhi, unit = rules.INPUT_LIMITS[limit]
        rng = f"{lo} to {hi} {unit}"
        value = raw.get(name)
        text = "" if value is None else str(value).strip()
        if decimals and text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not text:
            errors[name] = f"{label}: required ({rng})."
            continue
        pattern = _DECIMAL_RE if decimals else _INT_RE
        if not pattern.match(text):
            kind = "a number (up to 2 decimals)" if decimals else "a whole number"
            errors[name] = f"{label}: enter {kind} from {rng}."
            continue
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex guards this
            errors[name] = f"{label}: not a number ({rng})."
            continue
        if not lo <= number <= hi:
            errors[name] = f"{label}: {text} is outside the allowed range {rng}."
            continue
        values[name] = number
    if "sys" in values and "dia" in values:
        sys_, dia = values["sys"], values["dia"]
        if dia > sys_ or (dia == sys_ and sys_ > 0):
            lo, hi, *_r, unit = rules.INPUT_LIMITS["diastolic_bp"]
            errors["dia"] = f"Diastolic BP (mmHg): {dia} must be lower than the systolic {sys_} mmHg ({lo} to {hi} {unit})."
            del values["dia"]
    return values, errors


def unusual_vitals(raw: Mapping[str, Any]) -> dict[str, str]:
    """Valid values outside the usual band: each needs an explicit confirmation (CONV-INPUT-1)."""
    values, _errors = _vitals_parse(raw)
    out: dict[str, str] = {}
    for name, label, limit, _dec in VITALS_FIELDS:
        if name not in values:
            continue
        _lo, _hi, ulo, uhi, unit = rules.INPUT_LIMITS[limit]
        if not ulo <= values[name] <= uhi:
            out[name] = f"{label}: {values[name]} {unit} is unusual (usual {ulo} to {uhi}): confirm it is right (CONV-INPUT-1)."
    return out


def validate_vitals(raw: Mapping[str, Any], *, confirmed: Iterable[str] = ()) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Validate one set of vital signs typed as strings.

    Returns ``(data, {})`` with ``temp_c`` as an exact decimal string and the others as ints, or
    ``(None, errors)`` with a message per field naming the field and its allowed range. A value
    outside the usual band (:func:`unusual_vitals`) is an error until its field is in ``confirmed``;
    confirmed unusual fields are listed in ``data["confirmed_unusual"]``.
    """
    values, errors = _vitals_parse(raw)
    unusual = unusual_vitals(raw)
    confirmed = set(confirmed)
    for name, message in unusual.items():
        if name not in confirmed and name not in errors:
            errors[name] = message
    if errors:
        return None, errors
    data: dict[str, Any] = {}
    for name, _label, _limit, decimals in VITALS_FIELDS:
        number = values[name]
        data[name] = format(number, "f") if decimals else int(number)
    if unusual:
        data["confirmed_unusual"] = sorted(unusual)
    return data, {}


def vitals_taken_at(text: str | None, now: datetime) -> datetime:
    """When a set of vital signs was taken, typed as HH:MM (24 h, the site's time, today): empty,
    or the minute it is now, is ``now`` itself (so a set taken just after the infusion ended is not
    moved before its end by the lost seconds). A time the clocks skipped is refused, one they
    repeated is the earlier (CONV-TIME-1); a time after now is refused (a late entry keeps the
    time it was taken, MON-4). ValueError names the field."""
    text = (text or "").strip()
    if not text:
        return now
    m = _TIME_RE.match(text)
    if not m:
        raise ValueError("Taken at: HH:MM (24 h, the site's time), e.g. 09:05.")
    wall = time(int(m[1]), int(m[2]))
    local_now = to_local(now)
    if wall == local_now.time().replace(second=0, microsecond=0):
        return now
    at, _note = local_instant(local_now.date(), wall, "Taken at")
    if at > now:
        raise ValueError(f"Taken at: {text} is later than now ({fmt_local(now, day=False)}).")
    return at

"""Intake records in words (one-line summaries), and back into form values (a correction's prefill)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from .. import rules
from .forms import SECTIONS


def raw_from_data(section: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Form values for an existing record (to prefill a correction). A blast count computed from
    WBC and blast % is left out: the form takes one or the other (PRE-3), and saving the prefilled
    form unchanged must not be refused for holding both."""
    out: dict[str, Any] = {}
    for spec in SECTIONS[section].fields:
        v = data.get(spec.name)
        if section == "blasts" and spec.name == "blasts_per_mm3" and data.get("derived_from") == "wbc_pct":
            v = None
        out[spec.name] = bool(v) if spec.kind == "bool" else ("" if v is None else str(v))
    return out


def form_values(section: str, record: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The form values and confirmations that validate to ``record`` again (a record already
    checked, handed to a command as if typed)."""
    return raw_from_data(section, record), frozenset(record.get("confirmed_unusual") or ())


def age_years(dob: date, on: date) -> int:
    years = on.year - dob.year
    if (on.month, on.day) < (dob.month, dob.day):
        years -= 1
    return years


def measurement_bsa(data: Mapping[str, Any]):
    """The BSA of a recorded measurement, recomputed with its stored formula (CONV-BSA-2)."""
    from ..calc import bsa

    return bsa(Decimal(data["height_cm"]), Decimal(data["weight_kg"]), data.get("bsa_formula", rules.BSA_DEFAULT_FORMULA))


def summary(section: str, data: Mapping[str, Any]) -> str:
    """A one-line plain-text summary of a record (user text included literally by the caller)."""
    sec = SECTIONS[section]
    if section == "measurement":
        b = measurement_bsa(data)
        return f"{data['height_cm']} cm, {data['weight_kg']} kg on {data['measured_on']}; BSA {b.shown} m² ({b.label})"
    if section == "vod_risk":
        on = [f.label for f in sec.fields if data.get(f.name)]
        return "; ".join(on) if on else "none of the listed factors"
    if section == "blasts":
        src = f" (WBC {data['wbc']} × {data['blast_pct']}%)" if data.get("derived_from") == "wbc_pct" else ""
        return f"{data.get('blasts_per_mm3')} /mm³{src} on {data['collected_on']}"
    if section == "labs":
        return _labs_summary(data)
    parts = []
    for f in sec.fields:
        v = data.get(f.name)
        if v in (None, ""):
            continue
        if f.choices:
            v = dict(f.choices).get(v, v)
        parts.append(f"{f.label}: {v}")
    return "; ".join(parts)


def _labs_summary(data: Mapping[str, Any]) -> str:
    """A labs record on one line: what it holds (a laboratory's message may carry only some tests)."""

    def has(key: str) -> bool:
        return data.get(key) not in (None, "")

    u = data.get("bilirubin_unit", "")
    parts = [f"ANC {data['anc']}"] if has("anc") else []
    if has("platelets"):
        tx = {"yes": " after a transfusion", "no": ""}.get(data.get("platelet_transfusion"), " transfusion ?")
        parts.append(f"PLT {data['platelets']}{tx}")
    for key, label in (("bilirubin", "bili"), ("ast", "AST"), ("alt", "ALT")):
        if has(key):
            uln = data.get(f"{key}_uln")
            parts.append(
                f"{label} {data[key]}/{uln if uln not in (None, '') else '? ULN'}" + (f" {u}" if key == "bilirubin" else "")
            )
    if has("crcl"):
        parts.append(f"CrCl {data['crcl']} mL/min")
    source = " (laboratory)" if data.get("source") == "laboratory" else ""
    return f"{data.get('collected_on')}{source}: " + (", ".join(parts) or "no results")

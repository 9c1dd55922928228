"""An Observation per lab value and per vital sign."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import infusion as inf
from ..events import Event
from ..facts import fact_time
from .context import Context
from .values import (
    BILIRUBIN,
    BP,
    DIASTOLIC,
    LABS,
    LOINC,
    OBS_CATEGORY,
    SYSTOLIC,
    VITALS,
    fhir_date,
    instant,
    qty,
    ref,
    resource_id,
    text,
)

_LAB_CATEGORY = [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}]
_VITAL_CATEGORY = [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}]


def _lab_rows(d: Mapping[str, Any]) -> list[tuple[str, str, str | None, str | None, str, str, str | None]]:
    """The values a lab entry may hold; total bilirubin in the unit it was entered in."""
    rows = list(LABS)
    unit = text(d.get("bilirubin_unit"))
    if unit in BILIRUBIN:
        code, display, ucum, shown = BILIRUBIN[unit]
        rows.insert(2, ("bilirubin", "Total bilirubin", code, display, ucum, shown, "bilirubin_uln"))
    return rows


def _lab_notes(ctx: Context, entry: Any, name: str) -> list[dict[str, Any]]:
    d = entry.data
    notes = []
    if name == "platelets" and d.get("platelet_transfusion"):
        notes.append({"text": f"Platelet transfusion before this count: {d['platelet_transfusion']}"})
    for c in entry.corrections:
        notes.append({"text": f"Corrected: {c.reason}", "time": instant(c.at), "authorReference": ctx.practitioner(c.actor)})
    return notes


def labs(ctx: Context) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in ctx.p.history("labs"):
        d = entry.data
        issued = entry.corrections[-1].at if entry.corrections else entry.at
        effective = fhir_date(d.get("collected_on"))
        for name, label, code, display, ucum, shown, uln in _lab_rows(d):
            if d.get(name) in (None, ""):
                continue
            concept: dict[str, Any] = {"text": label}
            if code:
                concept["coding"] = [{"system": LOINC, "code": code, "display": display}]
            res: dict[str, Any] = {
                "resourceType": "Observation",
                "id": resource_id(ctx.stream, entry.version, name),
                "status": "corrected" if entry.corrections else "final",
                "category": _LAB_CATEGORY,
                "code": concept,
                "subject": ctx.subject,
            }
            if effective:
                res["effectiveDateTime"] = effective
            res["issued"] = instant(issued)
            res["valueQuantity"] = qty(d[name], ucum, shown)
            if uln and d.get(uln) not in (None, ""):
                res["referenceRange"] = [{"high": qty(d[uln], ucum, shown), "text": "high = upper limit of normal (ULN)"}]
            notes = _lab_notes(ctx, entry, name)
            if notes:
                res["note"] = notes
            out.append(res)
    return out


def _loinc(codes: tuple[tuple[str, str], ...], label: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": c, "display": disp} for c, disp in codes], "text": label}


def _bp(d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "component": [
            {"code": _loinc((SYSTOLIC,), "Systolic"), "valueQuantity": qty(d["sys"], "mm[Hg]", "mmHg")},
            {"code": _loinc((DIASTOLIC,), "Diastolic"), "valueQuantity": qty(d["dia"], "mm[Hg]", "mmHg")},
        ]
    }


def _vital_signs(ctx: Context, ev: Event, ma: str | None) -> list[dict[str, Any]]:
    """The Observations of one set of vital signs (blood pressure as one panel, after the heart rate)."""
    d = ev.data
    tail: dict[str, Any] = {
        "subject": ctx.subject,
        "effectiveDateTime": instant(fact_time(ev)),
        "issued": instant(ev.at),
        "performer": [ctx.person(ev.actor)],
    }

    def obs(tag: str, code: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        res: dict[str, Any] = {"resourceType": "Observation", "id": resource_id(ctx.stream, ev.version, tag)}
        if ma:
            res["partOf"] = [ref(ma)]
        res.update({"status": "final", "category": _VITAL_CATEGORY, "code": code})
        res.update(tail)
        res.update(body)
        if d.get("point"):
            res["note"] = [{"text": f"Schedule point: {d['point']}"}]
        return res

    out = []
    for name, label, codes, ucum, shown in VITALS:
        if d.get(name) in (None, ""):
            continue
        out.append(obs(name, _loinc(codes, label), {"valueQuantity": qty(d[name], ucum, shown)}))
        if name == "hr" and d.get("sys") not in (None, "") and d.get("dia") not in (None, ""):
            out.append(obs("bp", _loinc((BP,), "Blood pressure"), _bp(d)))
    return out


def vitals(ctx: Context, administrations: Mapping[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ev in ctx.events:
        if ev.kind == inf.VITALS_RECORDED:
            out.extend(_vital_signs(ctx, ev, administrations.get(text(ev.data.get("dose_id")))))
    return out

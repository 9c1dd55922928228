"""The Patient resource, and a MedicationRequest per dose on the timeline."""

from __future__ import annotations

from typing import Any

from .. import schedule as sch
from .context import Context
from .values import GENDERS, ROUTE_IV, V2_0203, instant, qty, resource_id, text


def patient_resource(ctx: Context) -> dict[str, Any]:
    p = ctx.p
    identifier: dict[str, Any] = {
        "use": "usual",
        "type": {"coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}], "text": "MRN"},
        "value": p.mrn,
    }
    if ctx.options.mrn_system:
        identifier["system"] = ctx.options.mrn_system
    identifiers = [identifier]
    if p.wristband:  # issue 20: the wristband's own identifier, apart from the MRN
        band: dict[str, Any] = {"use": "secondary", "type": {"text": "Wristband"}, "value": p.wristband}
        if ctx.options.wristband_system:
            band["system"] = ctx.options.wristband_system
        identifiers.append(band)
    res: dict[str, Any] = {"resourceType": "Patient", "id": ctx.patient_id, "identifier": identifiers}
    if p.name:
        res["name"] = [{"text": p.name}]
    gender = GENDERS.get(text(p.identity.get("sex")))
    if gender:
        res["gender"] = gender
    if p.dob:
        res["birthDate"] = p.dob.isoformat()
    return res


def request_id(ctx: Context, dose: sch.Dose) -> str:
    return resource_id(ctx.stream, f"request:c{dose.cycle}d{dose.day}")


def _status(dose: sch.Dose, tl: sch.Timeline, notes: list[dict[str, Any]]) -> tuple[str, str | None]:
    """The request's status and its reason, from the dose's state (notes added for a hold or a draft)."""
    state = dose.state
    if state == sch.GIVEN:
        return "completed", None
    if state == sch.HELD:
        notes.append({"text": f"Held from {dose.held_from} ({text(dose.toxicity).replace('_', '-')} toxicity)."})
        return "on-hold", dose.hold_reason
    if state == sch.OMITTED:
        return "cancelled", dose.omit_reason
    if state == sch.NOT_APPLICABLE:
        return ("stopped", tl.discontinued_reason) if tl.discontinued else ("cancelled", dose.note)
    if dose.level is None or not dose.level_confirmed:
        notes.append({"text": text(dose.level_basis)})
        return "draft", None  # not actionable until a prescriber confirms the level (CONV-RESP-4, CONV-MOD-3)
    return "active", None


def _history_notes(ctx: Context, dose: sch.Dose) -> list[dict[str, Any]]:
    """A past hold, and each move of the dose (not those recorded in error)."""
    notes: list[dict[str, Any]] = []
    if dose.held_from is not None and dose.state != sch.HELD:
        rec = f", recovered {dose.recovered_on}" if dose.recovered_on else ""
        notes.append({"text": f"Was held from {dose.held_from}{rec}: {text(dose.hold_reason)}"})
    for ev in ctx.events:
        if (
            ev.kind == sch.DOSE_MOVED
            and ev.version not in ctx.voided
            and ev.data.get("cycle") == dose.cycle
            and ev.data.get("day") == dose.day
        ):
            notes.append(
                {
                    "text": f"Moved to {ev.data.get('date')}: {text(ev.data.get('reason'))}",
                    "time": instant(ev.at),
                    "authorReference": ctx.practitioner(ev.actor),
                }
            )
    return notes


def _dosage(dose: sch.Dose) -> dict[str, Any]:
    level = f"{format(dose.level.normalize(), 'f')} mg/m²" if dose.level is not None else "level to be confirmed"
    dosage: dict[str, Any] = {
        "sequence": dose.day,
        "text": f"{dose.label}: {level} by intravenous infusion over 1 hour",
        "timing": {"event": [dose.planned.isoformat()], "code": {"text": f"{dose.label} (cycle {dose.cycle}, day {dose.day})"}},
        "route": ROUTE_IV,
    }
    if dose.level is not None:
        dosage["doseAndRate"] = [{"doseQuantity": qty(dose.level, "mg/m2", "mg/m²")}]
    return dosage


def request(ctx: Context, dose: sch.Dose, tl: sch.Timeline) -> dict[str, Any]:
    notes: list[dict[str, Any]] = []
    status, reason = _status(dose, tl, notes)
    notes += _history_notes(ctx, dose)
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": request_id(ctx, dose),
        "status": status,
        "intent": "plan",
        "medicationCodeableConcept": ctx.medication,
        "subject": ctx.subject,
        "dosageInstruction": [_dosage(dose)],
    }
    if reason:
        res["statusReason"] = {"text": text(reason)}
    if notes:
        res["note"] = notes
    return res

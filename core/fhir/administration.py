"""A MedicationAdministration per dose given, with an AdverseEvent per infusion reaction."""

from __future__ import annotations

from datetime import UTC
from decimal import InvalidOperation
from typing import Any

from .. import infusion as inf
from .. import preparation as prep
from .. import schedule as sch
from ..events import Event
from ..infusion.reactions import reaction_numbers
from .context import Context
from .requests import request_id
from .values import (
    AE_OUTCOME,
    AE_SERIOUSNESS,
    AE_SEVERITY,
    MEDICATION_TEXT,
    PERFORM_FUNCTION,
    ROUTE_IV,
    SERIOUS_GRADES,
    SEVERITY,
    grade_text,
    instant,
    qty,
    ref,
    resource_id,
)

Notes = list[dict[str, Any]]
_PHASE_STATUS = {inf.INFUSING: "in-progress", inf.PAUSED: "on-hold", inf.STOPPED: "stopped"}


class _Dose:
    """What one given dose's resources are made from."""

    def __init__(self, ctx: Context, dose: sch.Dose):
        self.dose = dose
        self.did = prep.dose_id(dose.cycle, dose.day)
        given = [
            e
            for e in ctx.events
            if e.kind == sch.DOSE_GIVEN and e.data.get("cycle") == dose.cycle and e.data.get("day") == dose.day
        ]
        self.given: Event | None = given[-1] if given else None
        self.ma_id = resource_id(ctx.stream, self.given.version if self.given else f"given:{self.did}")
        self.events = [e for e in ctx.events if e.data.get("dose_id") == self.did]
        self.started = next((e for e in self.events if e.kind == inf.INFUSION_STARTED), None)
        self.mon = ctx.src.monitor(self.did, ctx.now, inf.MonitorSettings(tz=UTC)) if self.started else None
        self.prep = ctx.src.prep(self.did)


def _status(res: dict[str, Any], mon: inf.MonitorState | None, notes: Notes) -> None:
    if mon is None or mon.phase == inf.NOT_STARTED:
        res["status"] = "completed"
        notes.append({"text": "Documented as given; no infusion record in Bedside."})
        return
    status = _PHASE_STATUS.get(mon.phase, "completed")
    res["status"] = status
    if status == "stopped" and mon.stop_reason:
        res["statusReason"] = [{"text": mon.stop_reason}]
    elif status == "on-hold" and mon.pauses:
        res["statusReason"] = [{"text": mon.pauses[-1].reason}]


def _effective(res: dict[str, Any], d: _Dose) -> None:
    mon = d.mon
    if mon is not None and mon.started_at is not None:
        period = {"start": instant(mon.started_at)}
        end = mon.stopped_at or mon.ended_at
        if end is not None:
            period["end"] = instant(end)
        res["effectivePeriod"] = period
    else:
        res["effectiveDateTime"] = (d.dose.given_on or d.dose.planned).isoformat()


def _performers(ctx: Context, d: _Dose) -> list[dict[str, Any]]:
    performers: list[dict[str, Any]] = []
    giver = d.started.actor if d.started is not None else (d.given.actor if d.given else d.dose.given_by)
    if giver:
        performers.append(
            {
                "function": {"coding": [{"system": PERFORM_FUNCTION, "code": "performer", "display": "Performer"}]},
                "actor": ctx.person(giver),
            }
        )
    v = d.prep.last_verification
    if v is not None and v.matched:
        performers.append(
            {
                "function": {
                    "coding": [{"system": PERFORM_FUNCTION, "code": "verifier", "display": "Verifier"}],
                    "text": "verifier (blind double-check of the preparation)",
                },
                "actor": ctx.person(v.actor),
            }
        )
    if d.prep.calculation is not None:
        performers.append(
            {"function": {"text": "preparer (calculated and prepared the dose)"}, "actor": ctx.person(d.prep.calculation.actor)}
        )
    return performers


def _dosage(d: _Dose) -> dict[str, Any]:
    dose, given, st = d.dose, d.given, d.prep
    dosage: dict[str, Any] = {"route": ROUTE_IV}
    mg = given.data.get("dose_mg") if given else None
    mg = mg if mg not in (None, "") else dose.dose_mg
    level = given.data.get("level_mg_m2") if given else dose.level
    text = f"{dose.label}: {level} mg/m²" + (f" = {mg} mg" if mg is not None else "") + " by intravenous infusion"
    if st.calculation is not None:
        c = st.calculation.data
        try:
            p = st.calculation.prep
        except (ValueError, KeyError, TypeError, InvalidOperation):
            p = None  # a calculation the engine now refuses: its stored values still travel as text
        if p is not None:
            text += f" (BSA {p.bsa.shown} m², {p.bsa.label}; {p.route} {p.final_volume_ml} mL)"
            dosage["rateQuantity"] = qty(p.rate_ml_per_h, "mL/h", "mL/h")
        else:
            text += f" ({c.get('route')} {c.get('final_volume_ml')} mL)"
    dosage["text"] = text
    if mg is not None:
        dosage["dose"] = qty(mg, "mg", "mg")
    return dosage


def _monitor_notes(ctx: Context, d: _Dose, notes: Notes) -> list[dict[str, Any]]:
    """The pauses, reactions, deviations and observation of the infusion as notes; the reactions'
    AdverseEvents."""
    mon = d.mon
    assert mon is not None
    for p in mon.pauses:
        end = f" to {instant(p.ended_at)}" if p.ended_at else " (still paused)"
        notes.append({"text": f"Paused from {instant(p.started_at)}{end}: {p.reason}", "time": instant(p.started_at)})
    numbers = reaction_numbers(d.events)  # the one numbering (core/infusion/reactions.py)
    start_of = {n: seq for seq, n in numbers.items()}
    by_seq = {e.seq: e for e in d.events}
    adverse: list[dict[str, Any]] = []
    for r in mon.reactions:
        for at, who in r.notified:
            notes.append({"text": f"Infusion reaction {r.number}: notified {who}", "time": instant(at)})
        for at, what in r.treatments:
            notes.append({"text": f"Infusion reaction {r.number}: treatment {what}", "time": instant(at)})
        started = by_seq.get(start_of.get(r.number, -1))
        adverse.append(adverse_event(ctx, r, started, d.ma_id, d.dose))
    for dv in mon.deviations:
        text_dv = f"Deviation {dv.kind} ({dv.rule}) at {instant(dv.at)}: {dv.reason}"
        if dv.kind == "observation_incomplete":
            text_dv += f" (who: {dv.who})"
        notes.append({"text": text_dv, "time": instant(dv.at)})
    if mon.observation_outcome == "completed" and mon.observation_closed_at:
        notes.append({"text": "Observation completed.", "time": instant(mon.observation_closed_at)})
    elif mon.observation_open:
        notes.append({"text": "Observation after the infusion is in progress."})
    for pr in mon.problems:
        notes.append({"text": f"Not applied ({pr.rule}): {pr.text}"})
    return adverse


def _medication(res: dict[str, Any], ctx: Context, d: _Dose, notes: Notes) -> None:
    """The drug; with the vial cartons scanned at preparation (issue 20), a contained Medication
    with the lot and expiry (R4 MedicationAdministration has no batch of its own; a Medication has
    one batch: the first carton's, every carton listed in a note)."""
    cartons = d.prep.cartons if d.prep is not None else ()
    if not cartons:
        res["medicationCodeableConcept"] = ctx.medication
        return
    first = cartons[0]
    res["contained"] = [
        {
            "resourceType": "Medication",
            "id": "vials",
            "code": ctx.medication,
            "batch": {"lotNumber": first.lot, "expirationDate": first.expiry},
        }
    ]
    res["medicationReference"] = {"reference": "#vials", "display": MEDICATION_TEXT}
    listed = "; ".join(
        f"lot {c.lot} expiry {c.expiry}" + (f" serial {c.serial}" if c.serial else "") + f" (GTIN {c.gtin})" for c in cartons
    )
    notes.append({"text": f"Vials scanned at preparation: {listed}"})


def administration(ctx: Context, dose: sch.Dose) -> tuple[dict[str, Any], list[dict[str, Any]], inf.MonitorState | None]:
    """The MedicationAdministration of a given dose, its AdverseEvents, and its monitor state."""
    d = _Dose(ctx, dose)
    notes: Notes = []
    res: dict[str, Any] = {"resourceType": "MedicationAdministration", "id": d.ma_id}
    _status(res, d.mon, notes)
    _medication(res, ctx, d, notes)
    res["subject"] = ctx.subject
    _effective(res, d)
    performers = _performers(ctx, d)
    if performers:
        res["performer"] = performers
    res["request"] = ref(request_id(ctx, dose), dose.label)
    res["dosage"] = _dosage(d)
    adverse = _monitor_notes(ctx, d, notes) if d.mon is not None else []
    if notes:
        res["note"] = sorted(notes, key=lambda n: n.get("time", "~"))  # in time order; untimed notes last
    return res, adverse, d.mon


def adverse_event(ctx: Context, r: inf.Reaction, started: Event | None, ma_id: str, dose: sch.Dose) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": resource_id(ctx.stream, started.version if started else f"reaction:{dose.label}:{r.number}"),
        "actuality": "actual",
        "category": [{"text": f"infusion related reaction ({dose.label}, reaction {r.number}, during {r.during})"}],
        "event": {"text": r.symptoms or "infusion related reaction"},
        "subject": ctx.subject,
        "date": instant(r.started_at),
        "detected": instant(r.started_at),
    }
    if started is not None:
        res["recordedDate"] = instant(started.at)
        res["recorder"] = ctx.person(started.actor)
    if r.grade is not None:
        res["severity"] = {"text": grade_text(r.grade, r.ctcae_version)}
        code = SEVERITY.get(str(r.grade))
        if code is not None:
            res["severity"]["coding"] = [{"system": AE_SEVERITY, "code": code[0], "display": code[1]}]
        if str(r.grade) in SERIOUS_GRADES:
            res["seriousness"] = {"coding": [{"system": AE_SERIOUSNESS, "code": "serious", "display": "Serious"}]}
    if r.resolved_at is not None:
        what = "infusion resumed" if r.outcome == "resume" else "infusion stopped"
        res["outcome"] = {
            "coding": [{"system": AE_OUTCOME, "code": "resolved", "display": "Resolved"}],
            "text": f"resolved at {instant(r.resolved_at)}; {what}",
        }
    else:
        res["outcome"] = {"coding": [{"system": AE_OUTCOME, "code": "ongoing", "display": "Ongoing"}], "text": "not yet resolved"}
    res["suspectEntity"] = [{"instance": ref(ma_id, f"{MEDICATION_TEXT} {dose.label}")}]
    return res

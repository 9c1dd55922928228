"""A FHIR R4 export of one patient's BESPONSA treatment, as plain dicts (JSON-ready).

:func:`bundle` folds the patient's events into a Bundle of type ``collection``: the Patient, the
users involved (Practitioner and PractitionerRole), a MedicationRequest per dose on the timeline,
a MedicationAdministration per dose given, an Observation per lab value and per vital sign, and an
AdverseEvent per infusion reaction. It is a pure function: no I/O, no clock (``now`` is passed
in), and it imports no FHIR library (the tests validate the output with ``fhir.resources``).

Choices (each visible in the output):

* Every time of day is an instant in UTC (``...Z``). Calendar dates that have no time in the
  record stay FHIR dates (``YYYY-MM-DD``): the birth date, a lab's collection date, a dose's
  planned date, and the date of a dose documented as given without an infusion record (the site's
  local date, CONV-TIME-1; no time is invented).
* Amounts are JSON numbers made from the exact decimals (``Decimal("1.45")`` → ``1.45``; a value
  that a JSON number would not carry exactly is refused). UCUM units.
* Free text a user typed (name, reasons, symptoms, treatments, who was notified) travels as text,
  as typed; it is never parsed or coded (the patient's name is ``name.text`` only).
* Resource ids are uuid5 of the patient stream and the version of the event a resource comes from
  (or of the stream and a fixed tag, for a planned dose), so the same log exports the same bundle.
* LOINC codes only where they are certain (method-less codes for ANC and platelets); the CTCAE
  grade is text (``severity.text``), with no extension.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import infusion as inf
from .. import preparation as prep
from .. import schedule as sch
from ..events import Event, parse_utc
from ..intake import Patient

__all__ = ["MEDICATION", "NDC", "NAMESPACE", "bundle", "to_json"]

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bedside:fhir")
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
NDC = "0008-0100-01"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
PERFORM_FUNCTION = "http://terminology.hl7.org/CodeSystem/med-admin-perform-function"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
PRACTITIONER_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"

MEDICATION_TEXT = "inotuzumab ozogamicin (BESPONSA)"
MEDICATION: dict[str, Any] = {"coding": [{"system": NDC_SYSTEM, "code": NDC}], "text": MEDICATION_TEXT}
ROUTE_IV: dict[str, Any] = {
    "coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}],
    "text": "intravenous infusion",
}
GENDERS = {"female": "female", "male": "male", "other": "other"}
ROLE_CODES = {"nurse": "nurse", "pharmacist": "pharmacist"}  # practitioner-role codes that fit exactly

# (field, label, LOINC code, LOINC display, UCUM code, unit shown, ULN field)
_LABS: tuple[tuple[str, str, str | None, str | None, str, str, str | None], ...] = (
    ("anc", "ANC", "26499-4", "Neutrophils [#/volume] in Blood", "10*9/L", "×10⁹/L", None),
    ("platelets", "Platelets", "26515-7", "Platelets [#/volume] in Blood", "10*9/L", "×10⁹/L", None),
    ("ast", "AST", "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "U/L",
     "ast_uln"),
    ("alt", "ALT", "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "U/L",
     "alt_uln"),
    ("alp", "ALP", "6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "U/L",
     "alp_uln"),
)
_BILIRUBIN = {
    "mg/dL": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL"),
    "µmol/L": ("14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma", "umol/L", "µmol/L"),
}
# (field(s), label, LOINC codes, UCUM code, unit shown)
_VITALS: tuple[tuple[str, str, tuple[tuple[str, str], ...], str, str], ...] = (
    ("temp_c", "Body temperature", (("8310-5", "Body temperature"),), "Cel", "°C"),
    ("hr", "Heart rate", (("8867-4", "Heart rate"),), "/min", "/min"),
    ("rr", "Respiratory rate", (("9279-1", "Respiratory rate"),), "/min", "/min"),
    ("spo2", "Oxygen saturation (SpO2)", (("2708-6", "Oxygen saturation in Arterial blood"),
                                          ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")), "%", "%"),
)
_BP = ("85354-9", "Blood pressure panel with all children optional")
_SYSTOLIC = ("8480-6", "Systolic blood pressure")
_DIASTOLIC = ("8462-4", "Diastolic blood pressure")


# --- values -----------------------------------------------------------------------------------------


def _id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "#".join(str(p) for p in parts)))


def _instant(when: datetime) -> str:
    """An instant in UTC with ``Z`` (fractions of a second only when there are any)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("a FHIR instant needs an aware datetime")
    u = when.astimezone(UTC)
    return u.strftime("%Y-%m-%dT%H:%M:%S") + (u.strftime(".%f") if u.microsecond else "") + "Z"


def _num(value: Any) -> int | float:
    """A JSON number carrying the exact decimal (``Decimal("0.94")`` → ``0.94``)."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if d == d.to_integral_value() and abs(d) < 2**53:
        return int(d)
    f = float(d)
    if Decimal(repr(f)) != d:
        raise ValueError(f"{value!r} cannot be carried exactly by a JSON number")
    return f


def _qty(value: Any, code: str, unit: str) -> dict[str, Any]:
    return {"value": _num(value), "unit": unit, "system": UCUM, "code": code}


def _ref(rid: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"urn:uuid:{rid}"}
    if display:
        out["display"] = display
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _date(value: Any) -> str | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def _grade_text(grade: Any, version: str | None) -> str:
    g = "anaphylaxis" if grade == "anaphylaxis" else f"Grade {grade}"
    return f"CTCAE v{version or '5.0'} {g}"


def _fact_time(ev: Event) -> datetime:
    """When the fact happened: the ``at`` the user entered (ISO UTC), else when it was written."""
    raw = ev.data.get("at")
    if isinstance(raw, str):
        try:
            return parse_utc(raw)
        except ValueError:
            try:
                t = datetime.fromisoformat(raw)
            except ValueError:
                t = None
            if t is not None and t.tzinfo is not None:
                return t.astimezone(UTC)
    return ev.at


def to_json(data: Mapping[str, Any]) -> str:
    """The bundle as JSON text (UTF-8 characters kept, two-space indent)."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


# --- the export -------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, patient: Patient, events: Sequence[Event], users: Mapping[str, tuple[str, str]], now: datetime,
                 tz: tzinfo, mrn_system: str | None):
        self.p = patient
        self.events = [e for e in events if e.stream == patient.stream] or list(events)
        self.users = users
        self.now = now
        self.tz = tz
        self.mrn_system = mrn_system
        self.voided = sch.voided_versions(self.events)  # schedule entries recorded in error
        self.stream = patient.stream
        self.people: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        reg = patient.history("identity")
        self.patient_id = _id(self.stream, reg[0].version if reg else 0)
        self.subject = _ref(self.patient_id, patient.name or None)

    # -- people --
    def person(self, username: str) -> dict[str, Any]:
        """A reference to the user's PractitionerRole (created with its Practitioner on first use)."""
        if username not in self.people:
            full, role = self.users.get(username, ("", ""))
            pr_id = _id("user", username)
            practitioner: dict[str, Any] = {
                "resourceType": "Practitioner",
                "id": pr_id,
                "identifier": [{"type": {"text": "Bedside user name"}, "value": username}],
            }
            if full:
                practitioner["name"] = [{"text": full}]
            role_res: dict[str, Any] = {
                "resourceType": "PractitionerRole",
                "id": _id("user", username, "role", role),
                "practitioner": _ref(pr_id, full or username),
            }
            if role:
                code: dict[str, Any] = {"text": role}
                if role in ROLE_CODES:
                    code["coding"] = [{"system": PRACTITIONER_ROLE, "code": ROLE_CODES[role]}]
                role_res["code"] = [code]
            self.people[username] = (practitioner, role_res)
        full, role = self.users.get(username, (username, ""))
        return _ref(self.people[username][1]["id"], f"{full} ({role})" if role else full)

    def practitioner(self, username: str) -> dict[str, Any]:
        self.person(username)
        full = self.users.get(username, (username, ""))[0]
        return _ref(self.people[username][0]["id"], full or username)

    # -- resources --
    def patient_resource(self) -> dict[str, Any]:
        ident = self.p.identity
        identifier: dict[str, Any] = {
            "use": "usual",
            "type": {"coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}], "text": "MRN"},
            "value": self.p.mrn,
        }
        if self.mrn_system:
            identifier["system"] = self.mrn_system
        res: dict[str, Any] = {"resourceType": "Patient", "id": self.patient_id, "identifier": [identifier]}
        if self.p.name:
            res["name"] = [{"text": self.p.name}]
        gender = GENDERS.get(_text(ident.get("sex")))
        if gender:
            res["gender"] = gender
        if self.p.dob:
            res["birthDate"] = self.p.dob.isoformat()
        return res

    def request_id(self, dose: sch.Dose) -> str:
        return _id(self.stream, f"request:c{dose.cycle}d{dose.day}")

    def request(self, dose: sch.Dose, tl: sch.Timeline) -> dict[str, Any]:
        state = dose.state
        reason: str | None = None
        notes: list[dict[str, Any]] = []
        if state == sch.GIVEN:
            status = "completed"
        elif state == sch.HELD:
            status, reason = "on-hold", dose.hold_reason
            notes.append({"text": f"Held from {dose.held_from} ({_text(dose.toxicity).replace('_', '-')} toxicity)."})
        elif state == sch.OMITTED:
            status, reason = "cancelled", dose.omit_reason
        elif state == sch.NOT_APPLICABLE:
            if tl.discontinued:
                status, reason = "stopped", tl.discontinued_reason
            else:
                status, reason = "cancelled", dose.note
        elif dose.level is None or not dose.level_confirmed:
            status = "draft"  # not actionable until a prescriber confirms the level (CONV-RESP-4, CONV-MOD-3)
            notes.append({"text": _text(dose.level_basis)})
        else:
            status = "active"
        if dose.held_from is not None and state != sch.HELD:
            rec = f", recovered {dose.recovered_on}" if dose.recovered_on else ""
            notes.append({"text": f"Was held from {dose.held_from}{rec}: {_text(dose.hold_reason)}"})
        for ev in self.events:
            if ev.kind == sch.DOSE_MOVED and ev.version not in self.voided and ev.data.get("cycle") == dose.cycle and ev.data.get("day") == dose.day:
                notes.append({"text": f"Moved to {ev.data.get('date')}: {_text(ev.data.get('reason'))}",
                              "time": _instant(ev.at), "authorReference": self.practitioner(ev.actor)})
        dosage: dict[str, Any] = {
            "sequence": dose.day,
            "text": f"{dose.label}: " + (f"{format(dose.level.normalize(), 'f')} mg/m²" if dose.level is not None
                                         else "level to be confirmed") + " by intravenous infusion over 1 hour",
            "timing": {"event": [dose.planned.isoformat()], "code": {"text": f"{dose.label} (cycle {dose.cycle}, day {dose.day})"}},
            "route": ROUTE_IV,
        }
        if dose.level is not None:
            dosage["doseAndRate"] = [{"doseQuantity": _qty(dose.level, "mg/m2", "mg/m²")}]
        res: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": self.request_id(dose),
            "status": status,
            "intent": "plan",
            "medicationCodeableConcept": MEDICATION,
            "subject": self.subject,
            "dosageInstruction": [dosage],
        }
        if reason:
            res["statusReason"] = {"text": _text(reason)}
        if notes:
            res["note"] = notes
        return res

    def administration(self, dose: sch.Dose) -> tuple[dict[str, Any], list[dict[str, Any]], inf.MonitorState | None]:
        """The MedicationAdministration of a given dose, its AdverseEvents, and its monitor state."""
        did = prep.dose_id(dose.cycle, dose.day)
        given = [e for e in self.events if e.kind == sch.DOSE_GIVEN and e.data.get("cycle") == dose.cycle
                 and e.data.get("day") == dose.day]
        given_ev = given[-1] if given else None
        ma_id = _id(self.stream, given_ev.version if given_ev else f"given:{did}")
        dose_evs = [e for e in self.events if e.data.get("dose_id") == did]
        started = next((e for e in dose_evs if e.kind == inf.INFUSION_STARTED), None)
        mon = inf.monitor(self.events, did, self.now, inf.MonitorSettings(tz=UTC)) if started else None
        notes: list[dict[str, Any]] = []
        res: dict[str, Any] = {"resourceType": "MedicationAdministration", "id": ma_id}
        if mon is None or mon.phase == inf.NOT_STARTED:
            status = "completed"
            res["status"] = status
            notes.append({"text": "Documented as given; no infusion record in Bedside."})
        else:
            status = {
                inf.INFUSING: "in-progress",
                inf.PAUSED: "on-hold",
                inf.STOPPED: "stopped",
            }.get(mon.phase, "completed")
            res["status"] = status
            if status == "stopped" and mon.stop_reason:
                res["statusReason"] = [{"text": mon.stop_reason}]
            elif status == "on-hold" and mon.pauses:
                res["statusReason"] = [{"text": mon.pauses[-1].reason}]
        res["medicationCodeableConcept"] = MEDICATION
        res["subject"] = self.subject
        if mon is not None and mon.started_at is not None:
            period = {"start": _instant(mon.started_at)}
            end = mon.stopped_at or mon.ended_at
            if end is not None:
                period["end"] = _instant(end)
            res["effectivePeriod"] = period
        else:
            res["effectiveDateTime"] = (dose.given_on or dose.planned).isoformat()
        performers: list[dict[str, Any]] = []
        giver = started.actor if started is not None else (given_ev.actor if given_ev else dose.given_by)
        if giver:
            performers.append({"function": {"coding": [{"system": PERFORM_FUNCTION, "code": "performer", "display": "Performer"}]},
                               "actor": self.person(giver)})
        st = prep.fold(self.events, did)
        v = st.last_verification
        if v is not None and v.matched:
            performers.append({"function": {"coding": [{"system": PERFORM_FUNCTION, "code": "verifier", "display": "Verifier"}],
                                            "text": "verifier (blind double-check of the preparation)"},
                               "actor": self.person(v.actor)})
        if st.calculation is not None:
            performers.append({"function": {"text": "preparer (calculated and prepared the dose)"},
                               "actor": self.person(st.calculation.actor)})
        if performers:
            res["performer"] = performers
        res["request"] = _ref(self.request_id(dose), dose.label)
        dosage: dict[str, Any] = {"route": ROUTE_IV}
        mg = given_ev.data.get("dose_mg") if given_ev else None
        mg = mg if mg not in (None, "") else dose.dose_mg
        level = given_ev.data.get("level_mg_m2") if given_ev else dose.level
        text = f"{dose.label}: {level} mg/m²" + (f" = {mg} mg" if mg is not None else "") + " by intravenous infusion"
        if st.calculation is not None:
            c = st.calculation.data
            try:
                p = st.calculation.prep
            except (ValueError, KeyError, TypeError, InvalidOperation):
                p = None  # a calculation the engine now refuses: its stored values still travel as text
            if p is not None:
                text += f" (BSA {p.bsa.shown} m², {p.bsa.label}; {p.route} {p.final_volume_ml} mL)"
                dosage["rateQuantity"] = _qty(p.rate_ml_per_h, "mL/h", "mL/h")
            else:
                text += f" ({c.get('route')} {c.get('final_volume_ml')} mL)"
        dosage["text"] = text
        if mg is not None:
            dosage["dose"] = _qty(mg, "mg", "mg")
        res["dosage"] = dosage
        adverse: list[dict[str, Any]] = []
        if mon is not None:
            for p in mon.pauses:
                end = f" to {_instant(p.ended_at)}" if p.ended_at else " (still paused)"
                notes.append({"text": f"Paused from {_instant(p.started_at)}{end}: {p.reason}", "time": _instant(p.started_at)})
            starts = sorted((e for e in dose_evs if e.kind == inf.REACTION_STARTED),
                            key=lambda e: (_fact_time(e), e.seq))
            for r in mon.reactions:
                sev = starts[r.number - 1] if r.number - 1 < len(starts) else None
                for at, who in r.notified:
                    notes.append({"text": f"Infusion reaction {r.number}: notified {who}", "time": _instant(at)})
                for at, what in r.treatments:
                    notes.append({"text": f"Infusion reaction {r.number}: treatment {what}", "time": _instant(at)})
                adverse.append(self.adverse_event(r, sev, ma_id, dose))
            for dv in mon.deviations:
                text_dv = f"Deviation {dv.kind} ({dv.rule}) at {_instant(dv.at)}: {dv.reason}"
                if dv.kind == "observation_incomplete":
                    text_dv += f" (who: {dv.who})"
                notes.append({"text": text_dv, "time": _instant(dv.at)})
            if mon.observation_outcome == "completed" and mon.observation_closed_at:
                notes.append({"text": "Observation completed.", "time": _instant(mon.observation_closed_at)})
            elif mon.observation_open:
                notes.append({"text": "Observation after the infusion is in progress."})
            for pr in mon.problems:
                notes.append({"text": f"Not applied ({pr.rule}): {pr.text}"})
        if notes:
            res["note"] = sorted(notes, key=lambda n: n.get("time", "~"))  # in time order; untimed notes last
        return res, adverse, mon

    def adverse_event(self, r: inf.Reaction, started: Event | None, ma_id: str, dose: sch.Dose) -> dict[str, Any]:
        res: dict[str, Any] = {
            "resourceType": "AdverseEvent",
            "id": _id(self.stream, started.version if started else f"reaction:{dose.label}:{r.number}"),
            "actuality": "actual",
            "category": [{"text": f"infusion related reaction ({dose.label}, reaction {r.number}, during {r.during})"}],
            "event": {"text": r.symptoms or "infusion related reaction"},
            "subject": self.subject,
            "date": _instant(r.started_at),
            "detected": _instant(r.started_at),
        }
        if started is not None:
            res["recordedDate"] = _instant(started.at)
            res["recorder"] = self.person(started.actor)
        if r.grade is not None:
            res["severity"] = {"text": _grade_text(r.grade, r.ctcae_version)}
        if r.resolved_at is not None:
            what = "infusion resumed" if r.outcome == "resume" else "infusion stopped"
            res["outcome"] = {"coding": [{"system": AE_OUTCOME, "code": "resolved", "display": "Resolved"}],
                              "text": f"resolved at {_instant(r.resolved_at)}; {what}"}
        else:
            res["outcome"] = {"coding": [{"system": AE_OUTCOME, "code": "ongoing", "display": "Ongoing"}], "text": "not yet resolved"}
        res["suspectEntity"] = [{"instance": _ref(ma_id, f"{MEDICATION_TEXT} {dose.label}")}]
        return res

    def labs(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for entry in self.p.history("labs"):
            d = entry.data
            issued = entry.corrections[-1].at if entry.corrections else entry.at
            status = "corrected" if entry.corrections else "final"
            effective = _date(d.get("collected_on"))
            rows = list(_LABS)
            unit = _text(d.get("bilirubin_unit"))
            if unit in _BILIRUBIN:
                code, display, ucum, shown = _BILIRUBIN[unit]
                rows.insert(2, ("bilirubin", "Total bilirubin", code, display, ucum, shown, "bilirubin_uln"))
            for name, label, code, display, ucum, shown, uln in rows:
                if d.get(name) in (None, ""):
                    continue
                concept: dict[str, Any] = {"text": label}
                if code:
                    concept["coding"] = [{"system": LOINC, "code": code, "display": display}]
                res: dict[str, Any] = {
                    "resourceType": "Observation",
                    "id": _id(self.stream, entry.version, name),
                    "status": status,
                    "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
                    "code": concept,
                    "subject": self.subject,
                }
                if effective:
                    res["effectiveDateTime"] = effective
                res["issued"] = _instant(issued)
                res["valueQuantity"] = _qty(d[name], ucum, shown)
                if uln and d.get(uln) not in (None, ""):
                    res["referenceRange"] = [{"high": _qty(d[uln], ucum, shown), "text": "high = upper limit of normal (ULN)"}]
                notes = []
                if name == "platelets" and d.get("platelet_transfusion"):
                    notes.append({"text": f"Platelet transfusion before this count: {d['platelet_transfusion']}"})
                for c in entry.corrections:
                    notes.append({"text": f"Corrected: {c.reason}", "time": _instant(c.at),
                                  "authorReference": self.practitioner(c.actor)})
                if notes:
                    res["note"] = notes
                out.append(res)
        return out

    def vitals(self, administrations: Mapping[str, str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for ev in self.events:
            if ev.kind != inf.VITALS_RECORDED:
                continue
            d = ev.data
            when = _fact_time(ev)
            base: dict[str, Any] = {
                "status": "final",
                "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
            }
            ma = administrations.get(_text(d.get("dose_id")))
            common_tail: dict[str, Any] = {
                "subject": self.subject,
                "effectiveDateTime": _instant(when),
                "issued": _instant(ev.at),
                "performer": [self.person(ev.actor)],
            }

            def obs(tag: str, code: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
                res: dict[str, Any] = {"resourceType": "Observation", "id": _id(self.stream, ev.version, tag)}
                if ma:
                    res["partOf"] = [_ref(ma)]
                res.update(base)
                res["code"] = code
                res.update(common_tail)
                res.update(body)
                if d.get("point"):
                    res["note"] = [{"text": f"Schedule point: {d['point']}"}]
                return res

            for name, label, codes, ucum, shown in _VITALS:
                if d.get(name) in (None, ""):
                    continue
                code = {"coding": [{"system": LOINC, "code": c, "display": disp} for c, disp in codes], "text": label}
                out.append(obs(name, code, {"valueQuantity": _qty(d[name], ucum, shown)}))
                if name == "hr" and d.get("sys") not in (None, "") and d.get("dia") not in (None, ""):
                    code_bp = {"coding": [{"system": LOINC, "code": _BP[0], "display": _BP[1]}], "text": "Blood pressure"}
                    out.append(obs("bp", code_bp, {"component": [
                        {"code": {"coding": [{"system": LOINC, "code": _SYSTOLIC[0], "display": _SYSTOLIC[1]}], "text": "Systolic"},
                         "valueQuantity": _qty(d["sys"], "mm[Hg]", "mmHg")},
                        {"code": {"coding": [{"system": LOINC, "code": _DIASTOLIC[0], "display": _DIASTOLIC[1]}], "text": "Diastolic"},
                         "valueQuantity": _qty(d["dia"], "mm[Hg]", "mmHg")},
                    ]}))
        return out


def bundle(
    patient: Patient,
    events: Sequence[Event],
    users: Mapping[str, tuple[str, str]],
    *,
    now: datetime,
    tz: tzinfo = UTC,
    mrn_system: str | None = None,
) -> dict[str, Any]:
    """A FHIR R4 Bundle (type ``collection``) of ``patient``'s treatment, as a JSON-ready dict.

    ``events`` are the patient's stream; ``users`` maps a user name to (full name, role); ``now``
    (aware) is the bundle's timestamp and the moment infusion states are computed at; ``tz`` is
    the site's zone, which decides today's local date for the schedule (CONV-TIME-1).
    ``mrn_system`` is the site's identifier system URI for MRNs, when it has one.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    b = _Builder(patient, events, users, now, tz, mrn_system)
    tl = sch.timeline(b.events, now.astimezone(tz).date(), {u: role for u, (_n, role) in users.items()})
    requests = [b.request(d, tl) for d in tl.doses()]
    administrations: list[dict[str, Any]] = []
    adverse: list[dict[str, Any]] = []
    ma_by_dose: dict[str, str] = {}
    for d in tl.doses():
        if d.state != sch.GIVEN:
            continue
        ma, aes, _mon = b.administration(d)
        administrations.append(ma)
        adverse.extend(aes)
        ma_by_dose[prep.dose_id(d.cycle, d.day)] = ma["id"]
    labs = b.labs()
    vitals = b.vitals(ma_by_dose)
    people = [res for pair in sorted(b.people.items()) for res in pair[1]]
    resources = [b.patient_resource(), *people, *requests, *administrations, *labs, *vitals, *adverse]
    last = b.events[-1].version if b.events else 0
    bid = _id(b.stream, last, "bundle")
    return {
        "resourceType": "Bundle",
        "id": bid,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bid}"},
        "type": "collection",
        "timestamp": _instant(now),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }

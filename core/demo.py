"""The demo: realistic demo users and patients on a throw-away database.

Demo users all have the PIN ``1234``. Their hashes are precomputed under a fixed demo key, so
the demo starts without spending argon2 time (the demo is not secret; a real site's key is
random and kept in a file beside its database).

Every seeded event is built from its typed payload class (core/<job>/events.py), as a command's
decision builds it, but with times in the past; an unknown key fails at once (:func:`_typed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import intake
from .auth import USERS_STREAM, SiteKey
from .auth.events import UserCreated
from .calc import bsa, prepare
from .clock import Clock, local_date
from .demo_users import DEMO_PIN, DEMO_USERS  # noqa: F401  (re-exported)
from .events import EVENT_TYPES, NewEvent, Payload, iso_utc
from .infusion.events import InfusionStarted, VitalsRecorded
from .intake.events import LabsRecorded, MeasurementRecorded
from .predose.events import ChecklistRecorded, IdentityConfirmed, PremedGiven, VerdictRecorded
from .preparation.events import PrepCalculated, PrepStep, PrepVerification
from .schedule.events import CycleStarted, DoseGiven
from .store import EventStore

DEMO_KEY = SiteKey(None, bytes.fromhex("6465" * 16))
_HASH_1234 = "$argon2id$v=19$m=7168,t=5,p=1$uDKZjxJX05VBtHyRygH4LQ$/evIgiHZablbzIP/D9Kw/FrrGi4qSKN5XdgMGKMvbfU"

#: Date fields given as whole days from today (an int) in DEMO_PATIENTS.
_DATE_KEYS = frozenset({"dob", "measured_on", "collected_on", "consent_date"})
_NO_VOD_RISK = {"two_alkylator_conditioning": False, "bilirubin_ge_uln_before_hsct": False, "liver_disease": False,
                "prior_hsct": False, "later_salvage": True, "prior_vod": False, "serious_liver_disease": False}  # fmt: skip
_NOT_REPRODUCTIVE = {"potential": "no", "pregnancy_test": "not_applicable", "breastfeeding": "no"}

# fmt: off
#: Each demo patient as section → data; an int in a date field is that many days from today.
DEMO_PATIENTS: tuple[Mapping[str, Mapping[str, Any]], ...] = (
    {
        "identity": {"name": "HARTMAN, Lena", "dob": "1968-04-12", "mrn": "MRN-100231", "sex": "female"},
        "diagnosis": {"disease_status": "relapsed", "cd22": "positive", "allergies": "Penicillin (rash)"},
        "measurement": {"height_cm": "170", "weight_kg": "70", "measured_on": -2},
        "labs": {"collected_on": -1, "anc": "1.8", "platelets": "112", "platelet_transfusion": "no",
                 "bilirubin_unit": "mg/dL", "bilirubin": "0.8", "bilirubin_uln": "1.2", "ast": "28", "ast_uln": "40",
                 "alt": "31", "alt_uln": "40", "alp": "96", "alp_uln": "120"},
        "blasts": {"collected_on": -1, "wbc": "6.2", "blast_pct": "12"},
        "vod_risk": _NO_VOD_RISK,
        "hsct": {"plan": "planned"},
        "reproductive": _NOT_REPRODUCTIVE,
        "consent": {"consent": "given", "consent_date": -3, "note": "Discussed VOD risk and HSCT plan [bold]with family[/bold]"},
    },
    {
        "identity": {"name": "OSEI, Kwame", "dob": "1991-09-30", "mrn": "MRN-100377", "sex": "male"},
        "diagnosis": {"disease_status": "refractory", "cd22": "positive", "allergies": "none known"},
        "measurement": {"height_cm": "181", "weight_kg": "101.15", "measured_on": -1},
        "labs": {"collected_on": -1, "anc": "0.8", "platelets": "42", "platelet_transfusion": "no",
                 "bilirubin_unit": "mg/dL", "bilirubin": "1.4", "bilirubin_uln": "1.2", "ast": "104", "ast_uln": "40",
                 "alt": "38", "alt_uln": "40", "crcl": "28"},
        "blasts": {"collected_on": -1, "wbc": "30", "blast_pct": "40"},
        "hsct": {"plan": "undecided"},
    },
    {
        "identity": {"name": "LINDQVIST, Maja", "dob": -11 * 365 - 40, "mrn": "MRN-200518", "sex": "female"},
        "diagnosis": {"disease_status": "relapsed", "cd22": "positive", "allergies": "none known"},
        "measurement": {"height_cm": "120", "weight_kg": "22", "measured_on": -1},
        "labs": {"collected_on": -1, "anc": "1.1", "platelets": "64", "platelet_transfusion": "no",
                 "bilirubin_unit": "µmol/L", "bilirubin": "9", "bilirubin_uln": "21", "ast": "35", "ast_uln": "45",
                 "alt": "30", "alt_uln": "40"},
        "blasts": {"collected_on": -1, "blasts_per_mm3": "2400"},
        "vod_risk": {**_NO_VOD_RISK, "prior_hsct": True, "later_salvage": False},
        "hsct": {"plan": "not_planned"},
        "reproductive": _NOT_REPRODUCTIVE,
        "consent": {"consent": "given", "consent_date": -2, "note": "Parents consented; child assented"},
    },
    {
        "identity": {
            "name": "NAKAMURA, Ren",
            "dob": "1979-07-08",
            "mrn": "MRN-100590",
            "sex": "male",
            "wristband": "950123450000059016",  # a GS1 GSRN (issue 20): scan ]d28018950123450000059016
        },
        "diagnosis": {"disease_status": "relapsed", "cd22": "positive", "allergies": "none known"},
        "measurement": {"height_cm": "175", "weight_kg": "72", "measured_on": -8},
        "labs": {"collected_on": -8, "anc": "1.4", "platelets": "88", "platelet_transfusion": "no",
                 "bilirubin_unit": "mg/dL", "bilirubin": "0.7", "bilirubin_uln": "1.2", "ast": "25", "ast_uln": "40",
                 "alt": "22", "alt_uln": "40"},
        "blasts": {"collected_on": -8, "wbc": "4.1", "blast_pct": "9"},
        "vod_risk": _NO_VOD_RISK,
        "hsct": {"plan": "not_planned"},
        "reproductive": _NOT_REPRODUCTIVE,
        "consent": {"consent": "given", "consent_date": -9},
    },
    {
        "identity": {"name": "DUBOIS, Marc", "dob": "1955-01-20", "mrn": "MRN-100412", "sex": "male"},
        "diagnosis": {"disease_status": "relapsed", "cd22": "unknown", "allergies": "none known"},
        "measurement": {"height_cm": "195", "weight_kg": "140", "measured_on": -4},
    },
)
# fmt: on

_ACTORS = {"identity": "nina", "labs": "nina", "consent": "priya", "hsct": "priya", "diagnosis": "priya"}
_IN_PROGRESS = "MRN-100590"  # NAKAMURA: a treatment in progress (:func:`_treatment_in_progress`)


def _dated(data: Mapping[str, Any], today: date) -> dict[str, Any]:
    return {k: (today + timedelta(days=v)).isoformat() if k in _DATE_KEYS and isinstance(v, int) else v for k, v in data.items()}


def demo_patients(today: date) -> list[dict]:
    """Each demo patient as a dict of section → data (dates relative to ``today``)."""
    return [{section: _dated(data, today) for section, data in p.items()} for p in DEMO_PATIENTS]


def _typed(cls: type[Payload], data: dict) -> Payload:
    """The payload built from its class (an unknown key is a TypeError: the demo cannot drift)."""
    return cls(**data)


def seed_users(store: EventStore, clock: Clock) -> None:
    """Write the demo users (PIN 1234) to an empty users log, authenticated under the demo key."""
    _keyed(store)
    now = clock.now()
    users = [UserCreated(username=u, full_name=n, role=r, pin_hash=_HASH_1234) for u, n, r in DEMO_USERS]
    store.append(USERS_STREAM, 0, [u.new(USERS_STREAM, "system", now) for u in users])


def _keyed(store: EventStore) -> None:
    """Sign the demo's events with the demo key (the key the demo's Ledger is made with)."""
    if getattr(store, "keys", "none") is None:
        store.set_keys(DEMO_KEY)  # type: ignore[attr-defined]


def seed(store: EventStore, clock: Clock, formula: str = "mosteller") -> None:
    """Write the demo users and patients (one commit per stream)."""
    _keyed(store)
    now = clock.now()
    today = local_date(now)
    seed_users(store, clock)
    for i, sections in enumerate(demo_patients(today)):
        stream = intake.PATIENT_PREFIX + f"demo{i + 1:04d}" + "0" * 24
        events = _intake(stream, sections, now, formula)
        if sections["identity"]["mrn"] == _IN_PROGRESS:
            events += _treatment_in_progress(stream, now, today, first_version=len(events) + 1)
        store.append(stream, 0, events)


def _section_data(section: str, data: Mapping[str, Any], formula: str) -> dict[str, Any]:
    """A form's data with what core derives when it is recorded (CONV-BSA-2, PRE-3)."""
    data = dict(data)
    if section == "measurement":
        b = bsa(Decimal(data["height_cm"]), Decimal(data["weight_kg"]), formula)
        data.update(bsa_formula=b.formula, bsa_m2=str(b.exact))
    if section == "blasts" and "wbc" in data:
        count = intake.blasts_per_mm3(Decimal(data["wbc"]), Decimal(data["blast_pct"]))
        data.update(blasts_per_mm3=str(count), derived_from="wbc_pct")
    elif section == "blasts":
        data["derived_from"] = "absolute"
    return data


def _intake(stream: str, sections: Mapping[str, Mapping[str, Any]], now: datetime, formula: str) -> list[NewEvent]:
    """The intake forms, recorded ten days ago, a minute apart."""
    out = []
    for n, (section, data) in enumerate(sections.items()):
        payload = _typed(EVENT_TYPES[intake.SECTIONS[section].kind], _section_data(section, data, formula))
        out.append(payload.new(stream, _ACTORS.get(section, "nina"), now - timedelta(days=10) + timedelta(minutes=n)))
    return out


def _treatment_in_progress(stream: str, now: datetime, today: date, first_version: int) -> list[NewEvent]:
    """NAKAMURA: C1 D1 given a week ago; C1 D8 prepared, verified, checked and infusing for 20 min.

    ``first_version`` is the stream version of the first event returned (the double-check names
    the calculation's version)."""
    start = now - timedelta(minutes=20)  # the C1 D8 infusion started
    t = start - timedelta(hours=1)  # the bag was prepared and the checks recorded

    def ev(payload: Payload, actor: str, at: datetime | None = None) -> NewEvent:
        return payload.new(stream, actor, at or t)

    out = [ev(p, actor, at) for p, actor, at in _cycle_so_far(now, today)]
    calc = _calculation(today)
    out.append(ev(calc, "phil"))
    calc_version = first_version + len(out) - 1
    out += [ev(p, "phil") for p in _bag_steps(t)]
    out += [ev(p, "nina") for p in _checks(start)]
    out += [ev(p, actor, at) for p, actor, at in _verified_and_started(calc, calc_version, start)]
    return out


def _cycle_so_far(now: datetime, today: date) -> list[tuple[Payload, str, datetime | None]]:
    d1 = today - timedelta(days=7)
    labs = {"collected_on": (today - timedelta(days=1)).isoformat(), "anc": "1.1", "platelets": "71",
            "platelet_transfusion": "no", "bilirubin_unit": "mg/dL", "bilirubin": "0.9", "bilirubin_uln": "1.2",
            "ast": "34", "ast_uln": "40", "alt": "30", "alt_uln": "40"}  # fmt: skip
    measurement = {"height_cm": "175", "weight_kg": "72.4", "measured_on": today.isoformat(), "bsa_formula": "mosteller",
                   "bsa_m2": str(bsa(Decimal("175"), Decimal("72.4")).exact)}  # fmt: skip
    given = {"cycle": 1, "day": 1, "date": d1.isoformat(), "level_mg_m2": "0.8", "dose_mg": "1.50"}
    return [
        (CycleStarted(cycle=1, day1=d1.isoformat()), "priya", now - timedelta(days=8)),
        (_typed(DoseGiven, given), "nina", now - timedelta(days=7)),
        (_typed(LabsRecorded, labs), "nina", None),
        (_typed(MeasurementRecorded, measurement), "nina", None),
    ]


def _calculation(today: date) -> Payload:
    """The C1 D8 calculation at 0.5 mg/m² (Table 1, DOSE-1) from today's height and weight."""
    p = prepare(Decimal("175"), Decimal("72.4"), Decimal("0.5"))
    return _typed(PrepCalculated, {
        "dose_id": "c1d8", "cycle": 1, "day": 8, "level_mg_m2": "0.5", "level_basis": "Table 1, cycle 1 Day 8 (DOSE-1)",
        "height_cm": "175", "weight_kg": "72.4", "measured_on": today.isoformat(), "formula": "mosteller",
        "bsa_m2": str(p.bsa.exact), "dose_mg": str(p.dose_mg), "withdraw_ml": str(p.withdraw_ml), "vials": p.vials,
        "route": p.route, "final_volume_ml": str(p.final_volume_ml), "syringe_volume_ml": None,
        "unverified_rules": list(p.unverified_rules),
    })  # fmt: skip


def _bag_steps(t: datetime) -> list[Payload]:
    return [
        PrepStep(dose_id="c1d8", step="reconstituted", at=iso_utc(t), vials_kept=None, reason=None),
        PrepStep(dose_id="c1d8", step="diluted", at=iso_utc(t + timedelta(minutes=15)), vials_kept="refrigerated", reason=None),
    ]


def _checks(start: datetime) -> list[Payload]:
    """The pre-dose records of C1 D8: identity scanned, the checklist, the three premedications, vitals."""
    given_at = iso_utc(start - timedelta(minutes=30))
    premeds = (("corticosteroid", "dexamethasone", "12 mg IV"), ("antipyretic", "paracetamol", "1000 mg PO"),
               ("antihistamine", "loratadine", "10 mg PO"))  # fmt: skip
    vitals = {"dose_id": "c1d8", "at": iso_utc(start - timedelta(minutes=5)), "temp_c": "36.7", "hr": 78, "sys": 124,
              "dia": 76, "rr": 15, "spo2": 98}  # fmt: skip
    return [
        _typed(
            IdentityConfirmed,
            {"cycle": 1, "day": 8, "method": "scanned", "name": "NAKAMURA, Ren", "dob": "1979-07-08", "mrn": "MRN-100590"},
        ),
        _typed(ChecklistRecorded, {"cycle": 1, "day": 8, "emergency_ready": True}),
        *(
            _typed(PremedGiven, {"cycle": 1, "day": 8, "drug_class": c, "drug": d, "dose": q, "given_at": given_at})
            for c, d, q in premeds
        ),
        _typed(VitalsRecorded, vitals),
    ]


def _verified_and_started(calc: Payload, calc_version: int, start: datetime) -> list[tuple[Payload, str, datetime]]:
    """The blind double-check (noah), the PROCEED verdict and the start, with the dose given (SCHED-6)."""
    d = calc.to_data()
    shown = str(bsa(Decimal(d["height_cm"]), Decimal(d["weight_kg"])).shown)
    expected = {"bsa_m2": shown, "level_mg_m2": d["level_mg_m2"], "dose_mg": d["dose_mg"], "withdraw_ml": d["withdraw_ml"]}
    deadline = start - timedelta(minutes=65) + timedelta(hours=4, minutes=15)
    verification = {"dose_id": "c1d8", "calc_version": calc_version, "entered": expected, "expected": expected,
                    "matched": True, "mismatches": []}  # fmt: skip
    started = {"dose_id": "c1d8", "at": iso_utc(start), "route": "bag", "flush_min": 0, "stability_deadline": iso_utc(deadline)}
    given = {"cycle": 1, "day": 8, "date": local_date(start).isoformat(), "level_mg_m2": "0.5", "dose_mg": d["dose_mg"]}
    return [
        (_typed(PrepVerification, verification), "noah", start - timedelta(minutes=10)),
        (
            _typed(VerdictRecorded, {"cycle": 1, "day": 8, "overall": "PROCEED", "deciding": []}),
            "nina",
            start - timedelta(minutes=2),
        ),
        (_typed(InfusionStarted, started), "nina", start),
        (_typed(DoseGiven, given), "nina", start),
    ]

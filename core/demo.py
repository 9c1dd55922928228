"""The demo: realistic demo users and patients on a throw-away database.

Demo users all have the PIN ``1234``. Their hashes are precomputed under a fixed demo key, so
the demo starts without spending argon2 time (the demo is not secret; a real site's key is
random and kept in a file beside its database).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from . import intake
from .auth import USERS_STREAM, SiteKey
from .calc import bsa
from .demo_users import DEMO_PIN, DEMO_USERS  # noqa: F401  (re-exported)
from .clock import Clock, local_date
from .events import EVENT_TYPES, NewEvent, Payload
from .store import EventStore

from .auth.events import UserCreated
from .infusion.events import InfusionStarted, VitalsRecorded
from .intake.events import LabsRecorded, MeasurementRecorded
from .predose.events import ChecklistRecorded, IdentityConfirmed, PremedGiven, VerdictRecorded
from .preparation.events import PrepCalculated, PrepStep, PrepVerification
from .schedule.events import CycleStarted, DoseGiven

DEMO_KEY = SiteKey(None, bytes.fromhex("6465" * 16))
_HASH_1234 = "$argon2id$v=19$m=7168,t=5,p=1$uDKZjxJX05VBtHyRygH4LQ$/evIgiHZablbzIP/D9Kw/FrrGi4qSKN5XdgMGKMvbfU"



def _d(today: date, days: int) -> str:
    return (today + timedelta(days=days)).isoformat()


def demo_patients(today: date) -> list[dict]:
    """Each demo patient as a dict of section → data (dates relative to ``today``)."""
    return [
        {
            "identity": {"name": "HARTMAN, Lena", "dob": "1968-04-12", "mrn": "MRN-100231", "sex": "female"},
            "diagnosis": {"disease_status": "relapsed", "cd22": "positive", "allergies": "Penicillin (rash)"},
            "measurement": {"height_cm": "170", "weight_kg": "70", "measured_on": _d(today, -2)},
            "labs": {"collected_on": _d(today, -1), "anc": "1.8", "platelets": "112", "platelet_transfusion": "no",
                     "bilirubin_unit": "mg/dL", "bilirubin": "0.8", "bilirubin_uln": "1.2", "ast": "28", "ast_uln": "40",
                     "alt": "31", "alt_uln": "40", "alp": "96", "alp_uln": "120"},
            "blasts": {"collected_on": _d(today, -1), "wbc": "6.2", "blast_pct": "12"},
            "vod_risk": {"two_alkylator_conditioning": False, "bilirubin_ge_uln_before_hsct": False, "liver_disease": False,
                         "prior_hsct": False, "later_salvage": True, "prior_vod": False, "serious_liver_disease": False},
            "hsct": {"plan": "planned"},
            "reproductive": {"potential": "no", "pregnancy_test": "not_applicable", "breastfeeding": "no"},
            "consent": {"consent": "given", "consent_date": _d(today, -3), "note": "Discussed VOD risk and HSCT plan [bold]with family[/bold]"},
        },
        {
            "identity": {"name": "OSEI, Kwame", "dob": "1991-09-30", "mrn": "MRN-100377", "sex": "male"},
            "diagnosis": {"disease_status": "refractory", "cd22": "positive", "allergies": "none known"},
            "measurement": {"height_cm": "181", "weight_kg": "101.15", "measured_on": _d(today, -1)},
            "labs": {"collected_on": _d(today, -1), "anc": "0.8", "platelets": "42", "platelet_transfusion": "no",
                     "bilirubin_unit": "mg/dL", "bilirubin": "1.4", "bilirubin_uln": "1.2", "ast": "104", "ast_uln": "40",
                     "alt": "38", "alt_uln": "40", "crcl": "28"},
            "blasts": {"collected_on": _d(today, -1), "wbc": "30", "blast_pct": "40"},
            "hsct": {"plan": "undecided"},
        },
    ] + _later_patients(today)


def _later_patients(today: date) -> list[dict]:
    return [
        {
            "identity": {"name": "LINDQVIST, Maja", "dob": _d(today, -11 * 365 - 40), "mrn": "MRN-200518", "sex": "female"},
            "diagnosis": {"disease_status": "relapsed", "cd22": "positive", "allergies": "none known"},
            "measurement": {"height_cm": "120", "weight_kg": "22", "measured_on": _d(today, -1)},
            "labs": {"collected_on": _d(today, -1), "anc": "1.1", "platelets": "64", "platelet_transfusion": "no",
                     "bilirubin_unit": "µmol/L", "bilirubin": "9", "bilirubin_uln": "21", "ast": "35", "ast_uln": "45",
                     "alt": "30", "alt_uln": "40"},
            "blasts": {"collected_on": _d(today, -1), "blasts_per_mm3": "2400"},
            "vod_risk": {"two_alkylator_conditioning": False, "bilirubin_ge_uln_before_hsct": False, "liver_disease": False,
                         "prior_hsct": True, "later_salvage": False, "prior_vod": False, "serious_liver_disease": False},
            "hsct": {"plan": "not_planned"},
            "reproductive": {"potential": "no", "pregnancy_test": "not_applicable", "breastfeeding": "no"},
            "consent": {"consent": "given", "consent_date": _d(today, -2), "note": "Parents consented; child assented"},
        },
        {
            "identity": {"name": "NAKAMURA, Ren", "dob": "1979-07-08", "mrn": "MRN-100590", "sex": "male"},
            "diagnosis": {"disease_status": "relapsed", "cd22": "positive", "allergies": "none known"},
            "measurement": {"height_cm": "175", "weight_kg": "72", "measured_on": _d(today, -8)},
            "labs": {"collected_on": _d(today, -8), "anc": "1.4", "platelets": "88", "platelet_transfusion": "no",
                     "bilirubin_unit": "mg/dL", "bilirubin": "0.7", "bilirubin_uln": "1.2", "ast": "25", "ast_uln": "40",
                     "alt": "22", "alt_uln": "40"},
            "blasts": {"collected_on": _d(today, -8), "wbc": "4.1", "blast_pct": "9"},
            "vod_risk": {"two_alkylator_conditioning": False, "bilirubin_ge_uln_before_hsct": False, "liver_disease": False,
                         "prior_hsct": False, "later_salvage": True, "prior_vod": False, "serious_liver_disease": False},
            "hsct": {"plan": "not_planned"},
            "reproductive": {"potential": "no", "pregnancy_test": "not_applicable", "breastfeeding": "no"},
            "consent": {"consent": "given", "consent_date": _d(today, -9)},
        },
        {
            "identity": {"name": "DUBOIS, Marc", "dob": "1955-01-20", "mrn": "MRN-100412", "sex": "male"},
            "diagnosis": {"disease_status": "relapsed", "cd22": "unknown", "allergies": "none known"},
            "measurement": {"height_cm": "195", "weight_kg": "140", "measured_on": _d(today, -4)},
        },
    ]


def _typed(cls: type[Payload], data: dict) -> Payload:
    """The payload built from its class (an unknown key is a TypeError: the demo cannot drift)."""
    return cls(**data)


def seed_users(store: EventStore, clock: Clock) -> None:
    """Write the demo users (PIN 1234) to an empty users log."""
    now = clock.now()
    store.append(
        USERS_STREAM,
        0,
        [UserCreated(username=u, full_name=n, role=r, pin_hash=_HASH_1234).new(USERS_STREAM, "system", now) for u, n, r in DEMO_USERS],
    )


def seed(store: EventStore, clock: Clock, formula: str = "mosteller") -> None:
    """Write the demo users and patients (one commit per stream)."""
    now = clock.now()
    today = local_date(now)
    seed_users(store, clock)
    actors = {"identity": "nina", "labs": "nina", "consent": "priya", "hsct": "priya", "diagnosis": "priya"}
    for i, sections in enumerate(demo_patients(today)):
        pid = f"demo{i + 1:04d}" + "0" * 24
        stream = intake.PATIENT_PREFIX + pid
        events: list[NewEvent] = []
        for section, data in sections.items():
            data = dict(data)
            if section == "measurement":
                b = bsa(Decimal(data["height_cm"]), Decimal(data["weight_kg"]), formula)
                data.update(bsa_formula=b.formula, bsa_m2=str(b.exact))
            if section == "blasts" and "wbc" in data:
                data.update(blasts_per_mm3=str(intake.blasts_per_mm3(Decimal(data["wbc"]), Decimal(data["blast_pct"]))), derived_from="wbc_pct")
            elif section == "blasts":
                data["derived_from"] = "absolute"
            at = now - timedelta(days=10) + timedelta(minutes=len(events))
            events.append(_typed(EVENT_TYPES[intake.SECTIONS[section].kind], data).new(stream, actors.get(section, "nina"), at))
        if sections["identity"]["mrn"] == "MRN-100590":
            events += _treatment_in_progress(stream, now, today)
        final: list[NewEvent] = []
        for item in events:
            if isinstance(item, tuple):  # the double-check and the start need the calculation's version
                from .events import iso_utc

                _tag, calc_ev, start = item
                version = next(i for i, e in enumerate(final, 1) if e is calc_ev)
                d = calc_ev.data
                expected = {"bsa_m2": str(bsa(Decimal(d["height_cm"]), Decimal(d["weight_kg"])).shown), "level_mg_m2": d["level_mg_m2"],
                            "dose_mg": d["dose_mg"], "withdraw_ml": d["withdraw_ml"]}
                final.append(_typed(PrepVerification, {"dose_id": "c1d8", "calc_version": version, "entered": expected, "expected": expected,
                                                       "matched": True, "mismatches": []}).new(stream, "noah", start - timedelta(minutes=10)))
                final.append(_typed(VerdictRecorded, {"cycle": 1, "day": 8, "overall": "PROCEED", "deciding": []}).new(stream, "nina", start - timedelta(minutes=2)))
                deadline = start - timedelta(minutes=65) + timedelta(hours=4, minutes=15)
                final.append(_typed(InfusionStarted, {"dose_id": "c1d8", "at": iso_utc(start), "route": "bag", "flush_min": 0,
                                                      "stability_deadline": iso_utc(deadline)}).new(stream, "nina", start))
                final.append(_typed(DoseGiven, {"cycle": 1, "day": 8, "date": local_date(start).isoformat(), "level_mg_m2": "0.5",
                                                "dose_mg": d["dose_mg"]}).new(stream, "nina", start))
            else:
                final.append(item)
        store.append(stream, 0, final)


def _treatment_in_progress(stream: str, now: datetime, today: date) -> list[NewEvent]:
    """NAKAMURA: C1 D1 given a week ago; C1 D8 prepared, verified, checked and infusing for 20 min.

    Each event is built from its typed payload class (core/<job>/events.py), as a command's
    decision would build it, but with times in the past; tests fold them with the real engines.
    """
    from .calc import prepare
    from .events import iso_utc

    d1 = today - timedelta(days=7)
    start = now - timedelta(minutes=20)
    t = start - timedelta(hours=1)

    def ev(cls: type[Payload], actor: str, data: dict, at: datetime | None = None) -> NewEvent:
        return _typed(cls, data).new(stream, actor, at or t)

    out = [
        ev(CycleStarted, "priya", {"cycle": 1, "day1": d1.isoformat()}, now - timedelta(days=8)),
        ev(DoseGiven, "nina", {"cycle": 1, "day": 1, "date": d1.isoformat(), "level_mg_m2": "0.8", "dose_mg": "1.50"}, now - timedelta(days=7)),
        ev(LabsRecorded, "nina", {"collected_on": (today - timedelta(days=1)).isoformat(), "anc": "1.1", "platelets": "71", "platelet_transfusion": "no",
                                   "bilirubin_unit": "mg/dL", "bilirubin": "0.9", "bilirubin_uln": "1.2", "ast": "34", "ast_uln": "40", "alt": "30", "alt_uln": "40"}),
        ev(MeasurementRecorded, "nina", {"height_cm": "175", "weight_kg": "72.4", "measured_on": today.isoformat(), "bsa_formula": "mosteller",
                                          "bsa_m2": str(bsa(Decimal("175"), Decimal("72.4")).exact)}),
    ]
    m = {"height_cm": "175", "weight_kg": "72.4", "measured_on": today.isoformat()}
    p = prepare(Decimal(m["height_cm"]), Decimal(m["weight_kg"]), Decimal("0.5"))
    calc_ev = ev(PrepCalculated, "phil", {
        "dose_id": "c1d8", "cycle": 1, "day": 8, "level_mg_m2": "0.5", "level_basis": "Table 1, cycle 1 Day 8 (DOSE-1)",
        "height_cm": m["height_cm"], "weight_kg": m["weight_kg"], "measured_on": m["measured_on"], "formula": "mosteller",
        "bsa_m2": str(p.bsa.exact), "dose_mg": str(p.dose_mg), "withdraw_ml": str(p.withdraw_ml), "vials": p.vials, "route": p.route,
        "final_volume_ml": str(p.final_volume_ml), "syringe_volume_ml": None, "unverified_rules": list(p.unverified_rules)})
    out.append(calc_ev)
    out.append(ev(PrepStep, "phil", {"dose_id": "c1d8", "step": "reconstituted", "at": iso_utc(t), "vials_kept": None, "reason": None}))
    out.append(ev(PrepStep, "phil", {"dose_id": "c1d8", "step": "diluted", "at": iso_utc(t + timedelta(minutes=15)), "vials_kept": "refrigerated", "reason": None}))
    for k, v in ((IdentityConfirmed, {"method": "scanned", "name": "NAKAMURA, Ren", "dob": "1979-07-08", "mrn": "MRN-100590"}),
                 (ChecklistRecorded, {"emergency_ready": True})):
        out.append(ev(k, "nina", {"cycle": 1, "day": 8, **v}))
    for cls, drug, dose in (("corticosteroid", "dexamethasone", "12 mg IV"), ("antipyretic", "paracetamol", "1000 mg PO"), ("antihistamine", "loratadine", "10 mg PO")):
        out.append(ev(PremedGiven, "nina", {"cycle": 1, "day": 8, "drug_class": cls, "drug": drug, "dose": dose, "given_at": iso_utc(start - timedelta(minutes=30))}))
    out.append(ev(VitalsRecorded, "nina", {"dose_id": "c1d8", "at": iso_utc(start - timedelta(minutes=5)), "temp_c": "36.7", "hr": 78, "sys": 124, "dia": 76, "rr": 15, "spo2": 98}))
    # verification and start are added by seed() once the calculation's version is known
    out.append(("VERIFY", calc_ev, start))
    return out

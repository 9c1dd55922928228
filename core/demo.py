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
from .clock import Clock, local_date
from .events import NewEvent
from .store import EventStore

DEMO_KEY = SiteKey(None, bytes.fromhex("6465" * 16))
DEMO_PIN = "1234"
_HASH_1234 = "$argon2id$v=19$m=65536,t=3,p=4$pJXEVR/gL6RALcNK78VvkA$2domkR2F7RfoCSyvXpOmEk5v0USqw8kxcphPKQaU51w"

DEMO_USERS = (
    ("nina", "Nina Okafor", "nurse"),
    ("noah", "Noah Brandt", "nurse"),
    ("phil", "Phil Marsh", "pharmacist"),
    ("priya", "Dr Priya Raman", "prescriber"),
    ("adam", "Adam Keller", "admin"),
)


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
                     "alt": "38", "alt_uln": "40"},
            "blasts": {"collected_on": _d(today, -1), "wbc": "30", "blast_pct": "40"},
            "hsct": {"plan": "undecided"},
        },
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
            "identity": {"name": "DUBOIS, Marc", "dob": "1955-01-20", "mrn": "MRN-100412", "sex": "male"},
            "diagnosis": {"disease_status": "relapsed", "cd22": "unknown", "allergies": "none known"},
            "measurement": {"height_cm": "195", "weight_kg": "140", "measured_on": _d(today, -4)},
        },
    ]


def seed(store: EventStore, clock: Clock, formula: str = "mosteller") -> None:
    """Write the demo users and patients (one commit per stream)."""
    now = clock.now()
    today = local_date(now)
    store.append(
        USERS_STREAM,
        0,
        [NewEvent(USERS_STREAM, "user.created", "system", now, {"username": u, "full_name": n, "role": r, "pin_hash": _HASH_1234})
         for u, n, r in DEMO_USERS],
    )
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
            at = now - timedelta(hours=3) + timedelta(minutes=len(events))
            events.append(NewEvent(stream, intake.SECTIONS[section].kind, actors.get(section, "nina"), at, data))
        store.append(stream, 0, events)

"""The FHIR export's code systems, codes and value builders (ids, instants, exact numbers, references)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import frozen

from .. import rules

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bedside:fhir")
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
NDC = rules.NDC  # PREP-1, SUP-1
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
PERFORM_FUNCTION = "http://terminology.hl7.org/CodeSystem/med-admin-perform-function"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
PRACTITIONER_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

MEDICATION_TEXT = "inotuzumab ozogamicin (BESPONSA)"
MEDICATION: dict[str, Any] = {"coding": [{"system": NDC_SYSTEM, "code": NDC}], "text": MEDICATION_TEXT}
ROUTE_IV: dict[str, Any] = {
    "coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}],
    "text": "intravenous infusion",
}
GENDERS = {"female": "female", "male": "male", "other": "other"}

# A reaction's CTCAE grade (CTCAE-1) as FHIR's adverse-event-severity, which has three codes: the
# lowest grade (Grade 1) "Mild" as CTCAE-1 words it; from the severe grade of CONV-IRR-1 up
# (rules.IRR_SEVERE_GRADE), and anaphylaxis, "Severe", the highest code; the grades between
# (Grade 2) "Moderate", CTCAE v5's own general word for Grade 2. The grade itself stays in the text.
_MILD, _MODERATE, _SEVERE = ("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe")
SEVERITY: dict[str, tuple[str, str]] = {
    **{
        str(g): _MILD if g == rules.CTCAE_GRADES[0] else _SEVERE if g >= rules.IRR_SEVERE_GRADE else _MODERATE
        for g in rules.CTCAE_GRADES
    },
    rules.IRR_ANAPHYLAXIS: _SEVERE,
}
# Seriousness (adverse-event-seriousness) only where the grade itself meets a seriousness criterion:
# life-threatening or death (CTCAE-1, rules.CTCAE_LIFE_THREATENING_GRADE and up). Below that, or
# anaphylaxis of no recorded grade, it depends on what the record does not hold (a hospital stay,
# for one): left out, not guessed.
SERIOUS_GRADES = frozenset(str(g) for g in rules.CTCAE_GRADES if g >= rules.CTCAE_LIFE_THREATENING_GRADE)
# The diagnosis (IND-1) as a Condition's clinical status: relapsed is FHIR's "relapse"; refractory
# disease is still "active". Text only for the disease itself: no code is invented for it.
CLINICAL_STATUS = {"relapsed": ("relapse", "Relapse"), "refractory": ("active", "Active")}
DISEASE_TEXT = "B-cell precursor acute lymphoblastic leukemia"
ROLE_CODES = {"nurse": "nurse", "pharmacist": "pharmacist"}  # practitioner-role codes that fit exactly

# (field, label, LOINC code, LOINC display, UCUM code, unit shown, ULN field)
LABS: tuple[tuple[str, str, str | None, str | None, str, str, str | None], ...] = (
    ("anc", "ANC", "26499-4", "Neutrophils [#/volume] in Blood", "10*9/L", "×10⁹/L", None),
    ("platelets", "Platelets", "26515-7", "Platelets [#/volume] in Blood", "10*9/L", "×10⁹/L", None),
    (
        "ast",
        "AST",
        "1920-8",
        "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "U/L",
        "U/L",
        "ast_uln",
    ),
    ("alt", "ALT", "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "U/L", "alt_uln"),
    ("alp", "ALP", "6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "U/L", "alp_uln"),
)
BILIRUBIN = {
    "mg/dL": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL"),
    "µmol/L": ("14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma", "umol/L", "µmol/L"),
}
# (field(s), label, LOINC codes, UCUM code, unit shown)
VITALS: tuple[tuple[str, str, tuple[tuple[str, str], ...], str, str], ...] = (
    ("temp_c", "Body temperature", (("8310-5", "Body temperature"),), "Cel", "°C"),
    ("hr", "Heart rate", (("8867-4", "Heart rate"),), "/min", "/min"),
    ("rr", "Respiratory rate", (("9279-1", "Respiratory rate"),), "/min", "/min"),
    (
        "spo2",
        "Oxygen saturation (SpO2)",
        (("2708-6", "Oxygen saturation in Arterial blood"), ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")),
        "%",
        "%",
    ),
)
BP = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")


@frozen
class FhirOptions:
    """How one export is written: a ``transaction`` bundle (each entry a PUT of its own id, so a
    server stores it and sending it again changes nothing) or a ``collection`` (the form of before
    issue 20); and the site's settings it carries (core/site.py): its identifier system for MRNs
    and the drug's RxNorm code (RxCUI), each used only when the site has set it."""

    transaction: bool = False
    mrn_system: str = ""
    rxnorm_code: str = ""
    wristband_system: str = ""  # the site's system for wristband identifiers (a GSRN or its own)


def medication(options: FhirOptions) -> dict[str, Any]:
    """The drug as a CodeableConcept: NDC (PREP-1, SUP-1), and RxNorm when the site has set its code."""
    if not options.rxnorm_code:
        return MEDICATION
    rx = {"system": RXNORM, "code": options.rxnorm_code, "display": MEDICATION_TEXT}
    return {**MEDICATION, "coding": [*MEDICATION["coding"], rx]}


def resource_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "#".join(str(p) for p in parts)))


def instant(when: datetime) -> str:
    """An instant in UTC with ``Z`` (fractions of a second only when there are any)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("a FHIR instant needs an aware datetime")
    u = when.astimezone(UTC)
    return u.strftime("%Y-%m-%dT%H:%M:%S") + (u.strftime(".%f") if u.microsecond else "") + "Z"


def num(value: Any) -> int | float:
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


def qty(value: Any, code: str, unit: str) -> dict[str, Any]:
    return {"value": num(value), "unit": unit, "system": UCUM, "code": code}


def ref(rid: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"urn:uuid:{rid}"}
    if display:
        out["display"] = display
    return out


def text(value: Any) -> str:
    return "" if value is None else str(value)


def fhir_date(value: Any) -> str | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def grade_text(grade: Any, version: str | None) -> str:
    g = "anaphylaxis" if grade == "anaphylaxis" else f"Grade {grade}"
    return f"CTCAE v{version or '5.0'} {g}"


def coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def to_json(data: Mapping[str, Any]) -> str:
    """The bundle as JSON text (UTF-8 characters kept, two-space indent)."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"

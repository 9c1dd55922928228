"""The intake's events: one typed payload per form (section) and the correction.

A section's payload holds exactly the keys a valid form stores (:func:`bedside.core.intake.validate`
builds them): numbers and dates as the strings typed and checked, choices as their values, the
VOD risk checkboxes as booleans. An optional field left empty is absent from the stored JSON, never
``null``: :meth:`SectionPayload.to_data` leaves out a field that is ``None``. Derived values are
stored with the record: the BSA with its formula (``bsa_formula``, ``bsa_m2``: CONV-BSA-2), the blast
count and where it came from (``derived_from``: PRE-3), and the unusual values the user confirmed
(``confirmed_unusual``: CONV-INPUT-1). The kind strings live here only.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from ..events import Payload, event_type


class SectionPayload(Payload):
    """A recorded intake form (an empty optional field is absent from the stored JSON)."""

    def to_data(self) -> dict[str, Any]:
        return {k: v for k, v in super().to_data().items() if v is not None}


@event_type("patient.registered")
@frozen
class PatientRegistered(SectionPayload):
    """Identity (IND-1): a new patient's stream starts with it; corrected, never re-recorded."""

    name: str | None = None
    dob: str | None = None
    mrn: str | None = None
    sex: str | None = None
    wristband: str | None = None  # issue 20: the wristband's own identifier (a GS1 GSRN or the site's), apart from the MRN


@event_type("intake.diagnosis")
@frozen
class DiagnosisRecorded(SectionPayload):
    """Relapsed/refractory B-ALL, CD22 status and allergies (IND-1, IND-4, IND-5)."""

    disease_status: str | None = None
    cd22: str | None = None
    allergies: str | None = None


@event_type("intake.measurement")
@frozen
class MeasurementRecorded(SectionPayload):
    """Height and weight, with the BSA core derived with the site's formula (DOSE-2, CONV-BSA-2)."""

    height_cm: str | None = None
    weight_kg: str | None = None
    measured_on: str | None = None
    bsa_formula: str | None = None  # absent in a record made before the BSA was stored
    bsa_m2: str | None = None
    confirmed_unusual: list[str] | None = None


@event_type("intake.labs")
@frozen
class LabsRecorded(SectionPayload):
    """Blood counts and liver tests (PRE-4, PRE-5, CONV-CALC-7), CrCl optional (CONV-RENAL-1)."""

    collected_on: str | None = None
    anc: str | None = None
    platelets: str | None = None
    platelet_transfusion: str | None = None
    bilirubin_unit: str | None = None
    bilirubin: str | None = None
    bilirubin_uln: str | None = None
    ast: str | None = None
    ast_uln: str | None = None
    alt: str | None = None
    alt_uln: str | None = None
    alp: str | None = None
    alp_uln: str | None = None
    crcl: str | None = None
    confirmed_unusual: list[str] | None = None


@event_type("labs.imported")
@frozen
class LabsImported(SectionPayload):
    """Results from the laboratory system (issue 20): the labs record's fields that the message
    carried (PRE-4, PRE-5; bilirubin and enzymes in the lab's unit with the ULN from its reference
    range, CONV-CALC-7), with where they came from: the sender, the message id and its digest (a
    second import of it changes nothing), the LOINC code and unit as sent of each field, and, when
    an admin assigned it from the quarantine, which entry and why. The platelet transfusion question
    (CONV-HEM-3) is not answered by a laboratory: absent, it counts as not independent."""

    collected_on: str | None = None
    collected_at: str | None = None  # UTC, ISO 8601
    anc: str | None = None
    platelets: str | None = None
    bilirubin_unit: str | None = None
    bilirubin: str | None = None
    bilirubin_uln: str | None = None
    ast: str | None = None
    ast_uln: str | None = None
    alt: str | None = None
    alt_uln: str | None = None
    alp: str | None = None
    alp_uln: str | None = None
    source: str = "laboratory"
    sender: str | None = None
    message_id: str | None = None
    digest: str | None = None
    loinc: dict[str, str] | None = None
    units: dict[str, str] | None = None
    not_used: list[str] | None = None
    confirmed_unusual: list[str] | None = None
    assigned_from: int | None = None  # the quarantine entry (its version in the labs stream)
    assigned_reason: str | None = None


@event_type("labs.transfusion")
@frozen
class TransfusionAnswered(Payload):
    """CONV-HEM-3 for a count the laboratory sent (its message does not say): whether a platelet
    transfusion came before it, answered by a named clinician. ``entry`` is the labs record's stream
    version; the record then reads ``platelet_transfusion``: ``answer``, the unanswered record kept."""

    entry: int
    answer: str  # "yes" or "no"


@event_type("intake.blasts")
@frozen
class BlastsRecorded(SectionPayload):
    """Peripheral blasts: WBC × blast %, or the absolute count (PRE-3)."""

    collected_on: str | None = None
    wbc: str | None = None
    blast_pct: str | None = None
    blasts_per_mm3: str | None = None
    derived_from: str | None = None  # "wbc_pct" or "absolute"
    confirmed_unusual: list[str] | None = None


@event_type("intake.vod_risk")
@frozen
class VodRiskRecorded(SectionPayload):
    """The VOD risk factors a user records (WARN-VOD-2); the others are derived from other records."""

    two_alkylator_conditioning: bool | None = None
    bilirubin_ge_uln_before_hsct: bool | None = None
    liver_disease: bool | None = None
    prior_hsct: bool | None = None
    later_salvage: bool | None = None
    prior_vod: bool | None = None
    serious_liver_disease: bool | None = None


@event_type("intake.hsct")
@frozen
class HsctPlanRecorded(SectionPayload):
    """Whether an HSCT is planned (CYC-1, CYC-2, CONV-CYC-1)."""

    plan: str | None = None


@event_type("intake.reproductive")
@frozen
class ReproductiveRecorded(SectionPayload):
    """Reproductive potential, pregnancy test, breastfeeding (PRE-7, WARN-EFT-1, WARN-LACT-1)."""

    potential: str | None = None
    pregnancy_test: str | None = None
    test_date: str | None = None
    breastfeeding: str | None = None


@event_type("intake.consent")
@frozen
class ConsentRecorded(SectionPayload):
    """Consent to treatment (PRE-8)."""

    consent: str | None = None
    consent_date: str | None = None
    note: str | None = None


@event_type("intake.corrected")
@frozen
class EntryCorrected(Payload):
    """An earlier intake entry (``corrects``: its stream version) now reads ``data``; the old values
    stay in the history with the reason."""

    corrects: int
    section: str
    reason: str
    data: dict[str, Any]


#: Section name → the payload class of its form.
SECTION_PAYLOADS: dict[str, type[SectionPayload]] = {
    "identity": PatientRegistered,
    "diagnosis": DiagnosisRecorded,
    "measurement": MeasurementRecorded,
    "labs": LabsRecorded,
    "blasts": BlastsRecorded,
    "vod_risk": VodRiskRecorded,
    "hsct": HsctPlanRecorded,
    "reproductive": ReproductiveRecorded,
    "consent": ConsentRecorded,
}
PATIENT_REGISTERED = PatientRegistered.KIND
CORRECTION_KIND = EntryCorrected.KIND

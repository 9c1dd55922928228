"""Patient intake: the forms' fields as data, their validation, the patient fold and its commands.

Forms are described by :data:`SECTIONS` (the screens build themselves from it), validated by
:func:`validate`, which either returns a whole, valid record or a message per field naming the
field and the allowed range (never a half record). Values outside the usual band of
CONV-INPUT-1 need an explicit confirmation, which is recorded with the event.

Modules: ``events`` (the typed payloads), ``forms`` (the sections and their fields), ``validate``,
``patient`` (the fold), ``summary`` (records in words), ``commands`` (register, record, correct).
"""

from __future__ import annotations

from .. import rules
from .commands import CorrectEntry, RecordSection, RegisterPatient
from .events import (
    CORRECTION_KIND,
    PATIENT_REGISTERED,
    SECTION_PAYLOADS,
    BlastsRecorded,
    ConsentRecorded,
    DiagnosisRecorded,
    EntryCorrected,
    HsctPlanRecorded,
    LabsRecorded,
    MeasurementRecorded,
    PatientRegistered,
    ReproductiveRecorded,
    SectionPayload,
    VodRiskRecorded,
)
from .forms import (
    DATE_RE,
    INTAKE_ORDER,
    KIND_TO_SECTION,
    MAX_AGE_YEARS,
    MRN_RE,
    NUMBER_RE,
    PATIENT_PREFIX,
    PREGNANCY_RESULTS,
    SECTIONS,
    YES_NO,
    FieldSpec,
    Section,
    dates_to_fill,
    form_defaults,
)
from .patient import Correction, Entry, Patient, apply, fold_patient, new_patient_id
from .summary import age_years, form_values, measurement_bsa, raw_from_data, summary
from .validate import FormResult, blasts_per_mm3, clean_text, validate

__all__ = [
    "CORRECTION_KIND",
    "DATE_RE",
    "INTAKE_ORDER",
    "KIND_TO_SECTION",
    "MAX_AGE_YEARS",
    "MRN_RE",
    "NUMBER_RE",
    "PATIENT_PREFIX",
    "PATIENT_REGISTERED",
    "PREGNANCY_RESULTS",
    "SECTIONS",
    "SECTION_PAYLOADS",
    "YES_NO",
    "BlastsRecorded",
    "ConsentRecorded",
    "CorrectEntry",
    "Correction",
    "DiagnosisRecorded",
    "Entry",
    "EntryCorrected",
    "FieldSpec",
    "FormResult",
    "HsctPlanRecorded",
    "LabsRecorded",
    "MeasurementRecorded",
    "Patient",
    "PatientRegistered",
    "RecordSection",
    "RegisterPatient",
    "ReproductiveRecorded",
    "Section",
    "SectionPayload",
    "VodRiskRecorded",
    "age_years",
    "apply",
    "blasts_per_mm3",
    "clean_text",
    "dates_to_fill",
    "fold_patient",
    "form_defaults",
    "form_values",
    "measurement_bsa",
    "new_patient_id",
    "raw_from_data",
    "summary",
    "validate",
]

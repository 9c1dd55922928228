"""The intake forms as data: each section's fields, their kinds, ranges and the rules behind them.

The screens build themselves from :data:`SECTIONS`; :func:`bedside.core.intake.validate` checks a
form against it (CONV-INPUT-1 for the usual and allowed ranges of :data:`bedside.core.rules.INPUT_LIMITS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from attrs import frozen

from .. import rules
from .events import SECTION_PAYLOADS, LabsImported

IMPORTED_LABS_KIND = LabsImported.KIND
WRISTBAND_MAX = 40  # a software limit: a scanned wristband identifier as stored

PATIENT_PREFIX = "patient:"
NUMBER_RE = re.compile(r"^[0-9]{1,7}(\.[0-9]{1,4})?$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MRN_RE = re.compile(r"^[A-Za-z0-9-]{3,20}$")
MAX_AGE_YEARS = rules.MAX_AGE_YEARS
LAB_UNIT = "lab unit"  # the unit of rules.INPUT_LIMITS for a result in the lab's own unit


@frozen
class FieldSpec:
    name: str
    label: str
    kind: str  # decimal | date | choice | text | bool
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    limit: str | None = None  # key of rules.INPUT_LIMITS
    help: str = ""
    max_len: int = 200
    #: A date that is normally today (measured, collected, consented): the form starts with today's
    #: date in the site's zone (CONV-TIME-1), editable. Never a clinical value: only when it happened.
    today: bool = False
    #: Today's date fills this (empty) date once the named choice takes one of these values: a
    #: pregnancy test's date when its result is chosen (PRE-7).
    today_when: tuple[str, tuple[str, ...]] | None = None

    @property
    def unit_text(self) -> str:
        """`` kg`` after a number of this field; nothing for a result in the lab's own unit (the
        label names it, or the form asks for it)."""
        unit = rules.INPUT_LIMITS[self.limit][-1] if self.limit else LAB_UNIT
        return "" if unit == LAB_UNIT else f" {unit}"

    @property
    def hint(self) -> str:
        """What an empty field shows: the allowed range, the date format, or the help."""
        if self.kind == "date":
            return "YYYY-MM-DD"
        return self.range_text if self.limit else self.help

    @property
    def range_text(self) -> str:
        if self.limit:
            lo, hi, *_rest, _unit = rules.INPUT_LIMITS[self.limit]
            return f"{lo} to {hi}{self.unit_text}"
        if self.kind == "date":
            return "a date YYYY-MM-DD, not in the future"
        if self.choices:
            return ", ".join(label for _v, label in self.choices)
        return ""


@frozen
class Section:
    name: str
    title: str
    kind: str  # event kind
    fields: tuple[FieldSpec, ...]
    rule: str = ""  # the rule ID(s) behind the section

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


YES_NO = (("yes", "Yes"), ("no", "No"))
#: The pregnancy test answers that are a result, and need the test's date (PRE-7).
PREGNANCY_RESULTS = ("negative", "positive")

SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section(
            "identity",
            "Identity",
            SECTION_PAYLOADS["identity"].KIND,
            (
                FieldSpec("name", "Full name", "text", max_len=100, help="Family name, given names"),
                FieldSpec("dob", "Date of birth", "date"),
                FieldSpec("mrn", "MRN", "text", max_len=20, help="3–20 letters, digits or '-'"),
                FieldSpec("sex", "Sex", "choice", choices=(("female", "Female"), ("male", "Male"), ("other", "Other/unknown"))),
                FieldSpec(
                    "wristband",
                    "Wristband ID",
                    "text",
                    required=False,
                    max_len=WRISTBAND_MAX,
                    help="scan the wristband: a GS1 GSRN (18 digits) or the site's own (Settings)",
                ),
            ),
            "IND-1",
        ),
        Section(
            "diagnosis",
            "Diagnosis",
            SECTION_PAYLOADS["diagnosis"].KIND,
            (
                FieldSpec(
                    "disease_status", "R/R B-ALL", "choice", choices=(("relapsed", "Relapsed"), ("refractory", "Refractory"))
                ),
                FieldSpec(
                    "cd22",
                    "CD22 status",
                    "choice",
                    choices=(("positive", "Positive"), ("negative", "Negative"), ("unknown", "Unknown")),
                ),
                FieldSpec("allergies", "Allergies", "text", required=False, max_len=200, help="Free text; 'none known' if none"),
            ),
            "IND-1, IND-4, IND-5",
        ),
        Section(
            "measurement",
            "Height and weight",
            SECTION_PAYLOADS["measurement"].KIND,
            (
                FieldSpec("height_cm", "Height (cm)", "decimal", limit="height_cm"),
                FieldSpec("weight_kg", "Weight (kg)", "decimal", limit="weight_kg"),
                FieldSpec("measured_on", "Measured on", "date", today=True),
            ),
            "DOSE-2, CONV-BSA-2",
        ),
        Section(
            "labs",
            "Labs",
            SECTION_PAYLOADS["labs"].KIND,
            (
                FieldSpec("collected_on", "Collected on", "date", today=True),
                FieldSpec("anc", "ANC (×10⁹/L)", "decimal", limit="anc"),
                FieldSpec("platelets", "Platelets (×10⁹/L)", "decimal", limit="platelets"),
                FieldSpec(
                    "platelet_transfusion",
                    "Platelet transfusion before this count?",
                    "choice",
                    choices=YES_NO,
                    help="MOD-HEM-5: counts must be independent of transfusion",
                ),
                FieldSpec("bilirubin_unit", "Bilirubin unit", "choice", choices=(("mg/dL", "mg/dL"), ("µmol/L", "µmol/L"))),
                FieldSpec("bilirubin", "Total bilirubin", "decimal", limit="bilirubin"),
                FieldSpec("bilirubin_uln", "Bilirubin ULN", "decimal", limit="uln"),
                FieldSpec("ast", "AST (U/L)", "decimal", limit="ast"),
                FieldSpec("ast_uln", "AST ULN (U/L)", "decimal", limit="uln"),
                FieldSpec("alt", "ALT (U/L)", "decimal", limit="alt"),
                FieldSpec("alt_uln", "ALT ULN (U/L)", "decimal", limit="uln"),
                FieldSpec("alp", "ALP (U/L)", "decimal", required=False, limit="alp"),
                FieldSpec("alp_uln", "ALP ULN (U/L)", "decimal", required=False, limit="uln"),
                FieldSpec(
                    "crcl",
                    "CrCl (mL/min)",
                    "decimal",
                    required=False,
                    limit="crcl",
                    help="Optional; below 30 the warnings screen says so (CONV-RENAL-1, never blocks)",
                ),
            ),
            "PRE-4, PRE-5, CONV-CALC-7, CONV-RENAL-1",
        ),
        Section(
            "blasts",
            "Peripheral blasts",
            SECTION_PAYLOADS["blasts"].KIND,
            (
                FieldSpec("collected_on", "Collected on", "date", today=True),
                FieldSpec("wbc", "WBC (×10⁹/L)", "decimal", required=False, limit="wbc", help="with blast % → count"),
                FieldSpec("blast_pct", "Blasts (% of WBC)", "decimal", required=False, limit="blast_pct"),
                FieldSpec(
                    "blasts_per_mm3", "Blast count (/mm³)", "decimal", required=False, limit=None, help="absolute count, not a %"
                ),
            ),
            "PRE-3",
        ),
        Section(
            "vod_risk",
            "VOD risk factors",
            SECTION_PAYLOADS["vod_risk"].KIND,
            tuple(
                FieldSpec(k, label, "bool", required=False)
                for k, label in rules.VOD_RISK_FACTORS.items()
                if k not in ("hsct_planned", "older_age", "many_cycles")  # derived from other records
            ),
            "WARN-VOD-2",
        ),
        Section(
            "hsct",
            "HSCT plan",
            SECTION_PAYLOADS["hsct"].KIND,
            (
                FieldSpec(
                    "plan",
                    "HSCT plan",
                    "choice",
                    choices=(("planned", "Planned"), ("not_planned", "Not planned"), ("undecided", "Undecided")),
                ),
            ),
            "CYC-1, CYC-2, CONV-CYC-1",
        ),
        Section(
            "reproductive",
            "Reproductive status",
            SECTION_PAYLOADS["reproductive"].KIND,
            (
                FieldSpec("potential", "Reproductive potential", "choice", choices=YES_NO),
                FieldSpec(
                    "pregnancy_test",
                    "Pregnancy test",
                    "choice",
                    required=False,
                    choices=(
                        ("negative", "Negative"),
                        ("positive", "Positive"),
                        ("not_done", "Not done"),
                        ("not_applicable", "Not applicable"),
                    ),
                ),
                FieldSpec("test_date", "Test date", "date", required=False, today_when=("pregnancy_test", PREGNANCY_RESULTS)),
                FieldSpec("breastfeeding", "Breastfeeding", "choice", choices=YES_NO),
            ),
            "PRE-7, WARN-EFT-1, WARN-LACT-1",
        ),
        Section(
            "consent",
            "Consent",
            SECTION_PAYLOADS["consent"].KIND,
            (
                FieldSpec("consent", "Consent to treatment", "choice", choices=(("given", "Given"), ("declined", "Declined"))),
                FieldSpec("consent_date", "Consent date", "date", today=True),
                FieldSpec("note", "Note", "text", required=False, max_len=200),
            ),
            "PRE-8",
        ),
    )
}

INTAKE_ORDER = ("diagnosis", "measurement", "labs", "blasts", "vod_risk", "hsct", "reproductive", "consent")
#: Event kind → the intake section it records; results imported from the laboratory are labs records.
KIND_TO_SECTION = {**{s.kind: s.name for s in SECTIONS.values()}, IMPORTED_LABS_KIND: "labs"}


def form_defaults(section: str, today: date) -> dict[str, str]:
    """What a new form of ``section`` starts with: today's date in each date that is normally today
    (``today`` is the site's local date, CONV-TIME-1); nothing clinical is ever filled in."""
    return {f.name: today.isoformat() for f in SECTIONS[section].fields if f.today}


def dates_to_fill(section: str, raw: Mapping[str, Any], today: date) -> dict[str, str]:
    """The empty dates that today's date fills now that the form holds ``raw`` (``today_when``)."""
    out: dict[str, str] = {}
    for f in SECTIONS[section].fields:
        if f.today_when is None or str(raw.get(f.name) or "").strip():
            continue
        choice, values = f.today_when
        if raw.get(choice) in values:
            out[f.name] = today.isoformat()
    return out

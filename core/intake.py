"""Patient intake: the forms' fields as data, their validation, and the patient fold.

Forms are described by :data:`SECTIONS` (the screens build themselves from it), validated by
:func:`validate`, which either returns a whole, valid record or a message per field naming the
field and the allowed range (never a half record). Values outside the usual band of
CONV-INPUT-1 need an explicit confirmation, which is recorded with the event.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import evolve, field, frozen

from . import rules
from .events import Event, NewEvent
from .text import unsafe_message

PATIENT_PREFIX = "patient:"
NUMBER_RE = re.compile(r"^[0-9]{1,7}(\.[0-9]{1,4})?$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MRN_RE = re.compile(r"^[A-Za-z0-9-]{3,20}$")
MAX_AGE_YEARS = rules.MAX_AGE_YEARS


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

    @property
    def range_text(self) -> str:
        if self.limit:
            lo, hi, *_rest, unit = rules.INPUT_LIMITS[self.limit]
            return f"{lo} to {hi} {unit}"
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

SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section(
            "identity",
            "Identity",
            "patient.registered",
            (
                FieldSpec("name", "Full name", "text", max_len=100, help="Family name, given names"),
                FieldSpec("dob", "Date of birth", "date"),
                FieldSpec("mrn", "MRN", "text", max_len=20, help="3–20 letters, digits or '-'"),
                FieldSpec("sex", "Sex", "choice", choices=(("female", "Female"), ("male", "Male"), ("other", "Other/unknown"))),
            ),
            "IND-1",
        ),
        Section(
            "diagnosis",
            "Diagnosis",
            "intake.diagnosis",
            (
                FieldSpec("disease_status", "R/R B-ALL", "choice", choices=(("relapsed", "Relapsed"), ("refractory", "Refractory"))),
                FieldSpec("cd22", "CD22 status", "choice", choices=(("positive", "Positive"), ("negative", "Negative"), ("unknown", "Unknown"))),
                FieldSpec("allergies", "Allergies", "text", required=False, max_len=200, help="Free text; 'none known' if none"),
            ),
            "IND-1, IND-4, IND-5",
        ),
        Section(
            "measurement",
            "Height and weight",
            "intake.measurement",
            (
                FieldSpec("height_cm", "Height (cm)", "decimal", limit="height_cm"),
                FieldSpec("weight_kg", "Weight (kg)", "decimal", limit="weight_kg"),
                FieldSpec("measured_on", "Measured on", "date"),
            ),
            "DOSE-2, CONV-BSA-2",
        ),
        Section(
            "labs",
            "Labs",
            "intake.labs",
            (
                FieldSpec("collected_on", "Collected on", "date"),
                FieldSpec("anc", "ANC (×10⁹/L)", "decimal", limit="anc"),
                FieldSpec("platelets", "Platelets (×10⁹/L)", "decimal", limit="platelets"),
                FieldSpec("platelet_transfusion", "Platelet transfusion before this count?", "choice", choices=YES_NO, help="MOD-HEM-5: counts must be independent of transfusion"),
                FieldSpec("bilirubin_unit", "Bilirubin unit", "choice", choices=(("mg/dL", "mg/dL"), ("µmol/L", "µmol/L"))),
                FieldSpec("bilirubin", "Total bilirubin", "decimal", limit="bilirubin"),
                FieldSpec("bilirubin_uln", "Bilirubin ULN", "decimal", limit="uln"),
                FieldSpec("ast", "AST (U/L)", "decimal", limit="ast"),
                FieldSpec("ast_uln", "AST ULN (U/L)", "decimal", limit="uln"),
                FieldSpec("alt", "ALT (U/L)", "decimal", limit="alt"),
                FieldSpec("alt_uln", "ALT ULN (U/L)", "decimal", limit="uln"),
                FieldSpec("alp", "ALP (U/L)", "decimal", required=False, limit="alp"),
                FieldSpec("alp_uln", "ALP ULN (U/L)", "decimal", required=False, limit="uln"),
                FieldSpec("crcl", "CrCl (mL/min)", "decimal", required=False, limit="crcl",
                          help="Optional; below 30 the warnings screen says so (CONV-RENAL-1, never blocks)"),
            ),
            "PRE-4, PRE-5, CONV-CALC-7, CONV-RENAL-1",
        ),
        Section(
            "blasts",
            "Peripheral blasts",
            "intake.blasts",
            (
                FieldSpec("collected_on", "Collected on", "date"),
                FieldSpec("wbc", "WBC (×10⁹/L)", "decimal", required=False, limit="wbc", help="with blast % → count"),
                FieldSpec("blast_pct", "Blasts (% of WBC)", "decimal", required=False, limit="blast_pct"),
                FieldSpec("blasts_per_mm3", "Blast count (/mm³)", "decimal", required=False, limit=None, help="absolute count, not a %"),
            ),
            "PRE-3",
        ),
        Section(
            "vod_risk",
            "VOD risk factors",
            "intake.vod_risk",
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
            "intake.hsct",
            (
                FieldSpec("plan", "HSCT plan", "choice", choices=(("planned", "Planned"), ("not_planned", "Not planned"), ("undecided", "Undecided"))),
            ),
            "CYC-1, CYC-2, CONV-CYC-1",
        ),
        Section(
            "reproductive",
            "Reproductive status",
            "intake.reproductive",
            (
                FieldSpec("potential", "Reproductive potential", "choice", choices=YES_NO),
                FieldSpec("pregnancy_test", "Pregnancy test", "choice", required=False, choices=(("negative", "Negative"), ("positive", "Positive"), ("not_done", "Not done"), ("not_applicable", "Not applicable"))),
                FieldSpec("test_date", "Test date", "date", required=False),
                FieldSpec("breastfeeding", "Breastfeeding", "choice", choices=YES_NO),
            ),
            "PRE-7, WARN-EFT-1, WARN-LACT-1",
        ),
        Section(
            "consent",
            "Consent",
            "intake.consent",
            (
                FieldSpec("consent", "Consent to treatment", "choice", choices=(("given", "Given"), ("declined", "Declined"))),
                FieldSpec("consent_date", "Consent date", "date"),
                FieldSpec("note", "Note", "text", required=False, max_len=200),
            ),
            "PRE-8",
        ),
    )
}

INTAKE_ORDER = ("diagnosis", "measurement", "labs", "blasts", "vod_risk", "hsct", "reproductive", "consent")
KIND_TO_SECTION = {s.kind: s.name for s in SECTIONS.values()}
CORRECTION_KIND = "intake.corrected"


@frozen
class FormResult:
    data: dict[str, Any] | None
    errors: dict[str, str] = field(factory=dict)
    confirm: dict[str, str] = field(factory=dict)

    @property
    def ok(self) -> bool:
        return self.data is not None


def _parse_decimal(spec: FieldSpec, raw: str) -> tuple[Decimal | None, str | None, str | None]:
    """(value, error, needs-confirmation message)."""
    text = raw.strip().replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw.strip()
    if not NUMBER_RE.match(text):
        rng = f" from {spec.range_text}" if spec.limit else ""
        return None, f"{spec.label}: enter a plain number{rng}.", None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        return None, f"{spec.label}: not a number.", None
    if spec.limit:
        lo, hi, ulo, uhi, unit = rules.INPUT_LIMITS[spec.limit]
        if not lo <= value <= hi:
            return None, f"{spec.label}: {text} is outside the allowed range {lo} to {hi} {unit}.", None
        if not ulo <= value <= uhi:
            return value, None, f"{spec.label} {text} {unit} is unusual (usual {ulo} to {uhi}): confirm it is right."  # CONV-INPUT-1
    return value, None, None


def _parse_date(spec: FieldSpec, raw: str, today: date) -> tuple[date | None, str | None]:
    text = raw.strip()
    if not DATE_RE.match(text):
        return None, f"{spec.label}: enter a date as YYYY-MM-DD."
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None, f"{spec.label}: {text} is not a real date."
    if value > today:
        return None, f"{spec.label}: {text} is in the future (today is {today.isoformat()})."
    if value.year < today.year - MAX_AGE_YEARS:
        return None, f"{spec.label}: {text} is more than {MAX_AGE_YEARS} years ago."
    return value, None


def _clean_text(raw: str) -> str:
    return "".join(ch for ch in raw if ch == " " or ch.isprintable()).strip()


def validate(
    section: str,
    raw: Mapping[str, Any],
    *,
    today: date,
    confirmed: Iterable[str] = (),
    dob: date | None = None,
    taken_mrns: Iterable[str] = (),
) -> FormResult:
    """Validate one form. ``raw`` maps field names to the typed strings (bools for checkboxes)."""
    sec = SECTIONS[section]
    errors: dict[str, str] = {}
    confirm: dict[str, str] = {}
    data: dict[str, Any] = {}
    confirmed = set(confirmed)
    for spec in sec.fields:
        value = raw.get(spec.name)
        if spec.kind == "bool":
            data[spec.name] = bool(value)
            continue
        text = "" if value is None else str(value)
        if spec.kind == "text":
            refused = unsafe_message(spec.label, text)  # C0/C1, DEL, bidi overrides (core/text.py)
            if refused:
                errors[spec.name] = refused
                continue
            text = _clean_text(text)
        if not text.strip():
            if spec.required:
                errors[spec.name] = f"{spec.label}: required" + (f" ({spec.range_text})." if spec.range_text else ".")
            continue
        if spec.kind == "decimal":
            v, err, conf = _parse_decimal(spec, text)
            if err:
                errors[spec.name] = err
                continue
            if conf:
                confirm[spec.name] = conf
            data[spec.name] = str(v)
        elif spec.kind == "date":
            d, err = _parse_date(spec, text, today)
            if err:
                errors[spec.name] = err
                continue
            if dob is not None and spec.name != "dob" and d is not None and d < dob:
                errors[spec.name] = f"{spec.label}: {d.isoformat()} is before the date of birth {dob.isoformat()}."
                continue
            data[spec.name] = d.isoformat() if d else None
        elif spec.kind == "choice":
            allowed = [v for v, _l in spec.choices]
            if text not in allowed:
                errors[spec.name] = f"{spec.label}: choose one of {spec.range_text}."
                continue
            data[spec.name] = text
        else:
            if len(text) > spec.max_len:
                errors[spec.name] = f"{spec.label}: at most {spec.max_len} characters (got {len(text)})."
                continue
            data[spec.name] = text
    _cross_checks(section, data, errors, confirm, set(taken_mrns))
    if errors:
        return FormResult(None, errors, confirm)
    unconfirmed = {k: v for k, v in confirm.items() if k not in confirmed}
    if unconfirmed:
        return FormResult(None, {}, unconfirmed)
    if confirm:
        data["confirmed_unusual"] = sorted(confirm)
    return FormResult(data, {}, confirm)


def _cross_checks(section: str, data: dict[str, Any], errors: dict[str, str], confirm: dict[str, str], taken_mrns: set[str]) -> None:
    if section == "identity":
        if "mrn" in data and "mrn" not in errors:
            if not MRN_RE.match(data["mrn"]):
                errors["mrn"] = "MRN: 3–20 letters, digits or '-'."
            elif data["mrn"].upper() in {m.upper() for m in taken_mrns}:
                errors["mrn"] = f"MRN: {data['mrn']} belongs to another patient already."
    elif section == "labs":
        # CONV-CALC-7: a liver result needs its ULN in the same unit.
        if ("alp" in data) != ("alp_uln" in data) and "alp" not in errors and "alp_uln" not in errors:
            missing = "alp_uln" if "alp" in data else "alp"
            errors[missing] = f"{SECTIONS['labs'].field(missing).label}: enter ALP and its ULN together (CONV-CALC-7)."
    elif section == "blasts":
        has_pair = "wbc" in data or "blast_pct" in data
        has_abs = "blasts_per_mm3" in data
        if has_pair and has_abs:
            errors["blasts_per_mm3"] = "Blast count (/mm³): give either WBC with blast %, or the absolute count, not both."
        elif has_pair and ("wbc" not in data or "blast_pct" not in data):
            missing = "blast_pct" if "wbc" in data else "wbc"
            errors[missing] = f"{SECTIONS['blasts'].field(missing).label}: needed with the other to compute the count (PRE-3)."
        elif not has_pair and not has_abs and not {"wbc", "blast_pct", "blasts_per_mm3"} & errors.keys():
            errors["wbc"] = "WBC (×10⁹/L): enter WBC and blast %, or the absolute blast count (/mm³)."
        if "wbc" in data and "blast_pct" in data:
            data["blasts_per_mm3"] = str(blasts_per_mm3(Decimal(data["wbc"]), Decimal(data["blast_pct"])))
            data["derived_from"] = "wbc_pct"
        elif has_abs:
            v = Decimal(data["blasts_per_mm3"])
            hi = rules.INPUT_LIMITS["blasts_per_mm3"][1]
            if v > hi:
                errors["blasts_per_mm3"] = f"Blast count (/mm³): at most {hi:,} /mm³ (is this the WBC in ×10⁹/L or a %?)."
            elif v < rules.BLAST_COUNT_MIN_PLAUSIBLE_PER_MM3 and v != 0:
                # PRE-3: the count field refuses a bare percentage.
                errors["blasts_per_mm3"] = f"Blast count (/mm³): {v} looks like a % or ×10⁹/L; enter /mm³ (1 ×10⁹/L = 1,000/mm³) or use WBC and %."
            data["derived_from"] = "absolute"
    elif section == "reproductive":
        result = data.get("pregnancy_test")
        if result in ("negative", "positive") and "test_date" not in data and "test_date" not in errors:
            errors["test_date"] = "Test date: required with a pregnancy test result (PRE-7)."
        if data.get("potential") == "yes" and result is None and "pregnancy_test" not in errors:
            errors["pregnancy_test"] = "Pregnancy test: choose Negative, Positive or Not done (PRE-7)."
    elif section == "consent":
        pass


def blasts_per_mm3(wbc_1e9_l: Decimal, pct: Decimal) -> Decimal:
    """PRE-3: WBC (×10⁹/L) × blast % ÷ 100 × 1,000 /mm³."""
    value = wbc_1e9_l * pct / 100 * rules.PER_MM3_PER_1E9_L
    return Decimal(format(value.normalize(), "f"))


# --- the patient fold --------------------------------------------------------------------------


@frozen
class Correction:
    version: int
    actor: str
    at: datetime
    reason: str
    old: dict[str, Any]
    new: dict[str, Any]


@frozen
class Entry:
    """One recorded intake item; corrections replace its data and keep the old values."""

    section: str
    version: int
    actor: str
    at: datetime
    data: dict[str, Any]
    corrections: tuple[Correction, ...] = ()


@frozen
class Patient:
    id: str
    version: int = 0
    entries: tuple[Entry, ...] = ()

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.id

    def history(self, section: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.section == section)

    def current(self, section: str) -> dict[str, Any] | None:
        h = self.history(section)
        return h[-1].data if h else None

    @property
    def identity(self) -> dict[str, Any]:
        return self.current("identity") or {}

    @property
    def name(self) -> str:
        return self.identity.get("name", "")

    @property
    def mrn(self) -> str:
        return self.identity.get("mrn", "")

    @property
    def dob(self) -> date | None:
        d = self.identity.get("dob")
        return date.fromisoformat(d) if d else None

    def entry(self, version: int) -> Entry | None:
        return next((e for e in self.entries if e.version == version), None)

    def missing_sections(self) -> tuple[str, ...]:
        return tuple(s for s in INTAKE_ORDER if not self.history(s))


def apply(p: Patient, ev: Event) -> Patient:
    """Apply one event to a patient (the fold's step); kinds of other modules only move the version."""
    p = evolve(p, version=ev.version)
    section = KIND_TO_SECTION.get(ev.kind)
    if section is not None:
        return evolve(p, entries=p.entries + (Entry(section, ev.version, ev.actor, ev.at, dict(ev.data)),))
    if ev.kind == CORRECTION_KIND:
        target = ev.data["corrects"]
        new = dict(ev.data["data"])
        entries = tuple(
            evolve(e, data=new, corrections=e.corrections + (Correction(ev.version, ev.actor, ev.at, ev.data["reason"], e.data, new),))
            if e.version == target
            else e
            for e in p.entries
        )
        return evolve(p, entries=entries)
    return p


def fold_patient(patient_id: str, events: Iterable[Event]) -> Patient:
    p = Patient(patient_id)
    for ev in events:
        p = apply(p, ev)
    return p


def new_patient_id() -> str:
    return uuid.uuid4().hex


def record_event(p: Patient, section: str, data: dict[str, Any], actor: str, at: datetime) -> NewEvent:
    return NewEvent(p.stream, SECTIONS[section].kind, actor, at, data)


def correction_event(p: Patient, version: int, data: dict[str, Any], reason: str, actor: str, at: datetime) -> NewEvent:
    entry = p.entry(version)
    if entry is None:
        raise ValueError(f"no entry {version} to correct")
    refused = unsafe_message("Reason", reason)
    if refused:
        raise ValueError(refused)
    reason = _clean_text(reason)
    if not reason:
        raise ValueError("Reason: a correction needs a reason.")
    return NewEvent(p.stream, CORRECTION_KIND, actor, at, {"corrects": version, "section": entry.section, "reason": reason, "data": data})


def raw_from_data(section: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Form values for an existing record (to prefill a correction)."""
    out: dict[str, Any] = {}
    for spec in SECTIONS[section].fields:
        v = data.get(spec.name)
        out[spec.name] = bool(v) if spec.kind == "bool" else ("" if v is None else str(v))
    return out


def age_years(dob: date, on: date) -> int:
    years = on.year - dob.year
    if (on.month, on.day) < (dob.month, dob.day):
        years -= 1
    return years


def measurement_bsa(data: Mapping[str, Any]):
    """The BSA of a recorded measurement, recomputed with its stored formula (CONV-BSA-2)."""
    from .calc import bsa

    return bsa(Decimal(data["height_cm"]), Decimal(data["weight_kg"]), data.get("bsa_formula", rules.BSA_DEFAULT_FORMULA))


def summary(section: str, data: Mapping[str, Any]) -> str:
    """A one-line plain-text summary of a record (user text included literally by the caller)."""
    sec = SECTIONS[section]
    if section == "measurement":
        b = measurement_bsa(data)
        return f"{data['height_cm']} cm, {data['weight_kg']} kg on {data['measured_on']}; BSA {b.shown} m² ({b.formula})"
    if section == "vod_risk":
        on = [f.label for f in sec.fields if data.get(f.name)]
        return "; ".join(on) if on else "none of the listed factors"
    if section == "blasts":
        src = f" (WBC {data['wbc']} × {data['blast_pct']}%)" if data.get("derived_from") == "wbc_pct" else ""
        return f"{data.get('blasts_per_mm3')} /mm³{src} on {data['collected_on']}"
    if section == "labs":
        u = data.get("bilirubin_unit", "")
        return (
            f"{data['collected_on']}: ANC {data['anc']}, PLT {data['platelets']}, "
            f"bili {data['bilirubin']}/{data['bilirubin_uln']} {u}, AST {data['ast']}/{data['ast_uln']}, ALT {data['alt']}/{data['alt_uln']}"
            + (f", CrCl {data['crcl']} mL/min" if data.get("crcl") not in (None, "") else "")
        )
    parts = []
    for f in sec.fields:
        v = data.get(f.name)
        if v in (None, ""):
            continue
        if f.choices:
            v = dict(f.choices).get(v, v)
        parts.append(f"{f.label}: {v}")
    return "; ".join(parts)

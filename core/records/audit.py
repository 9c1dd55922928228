"""The audit trail in words: what each event recorded, as "label: value" pairs.

Every stored field is shown, in the order its event class declares them. ``short`` is the value
at display precision (BSA 0.01 m², CONV-CALC-2; mg 0.01, CONV-CALC-3; mL 0.01, CONV-CALC-4; a time
in the site's zone, to the minute) for the audit table; ``full`` is the whole stored value for the
detail pane (a time to the second, in the site's zone).
User text is kept as typed (the screen shows it literally); a damaged value is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from attrs import fields, frozen

from .. import intake, rules
from ..calc import FORMULA_LABELS
from ..clock import fmt_local, parse_aware
from ..events import EVENT_TYPES, Event

#: Fields never shown: a PIN's hash is a secret, even on the audit.
HIDDEN = frozenset({"pin_hash"})

KIND_WORDS = {
    "patient.registered": "registered patient",
    "intake.corrected": "corrected entry",
    "user.created": "created user",
    "user.signed_in": "signed in",
    "user.signin_failed": "failed sign-in",
    "user.unlocked": "unlocked user",
    "user.pin_changed": "changed PIN",
    "user.deactivated": "deactivated user",
    "site.setting": "changed setting",
    "log.report_seen": "saw integrity report",
    "log.key_rotated": "rotated log key",
    "log.anchors_reset": "reset anchors",
    "cycle.started": "started cycle 1",
    "cycle.extended": "extended cycle 1",
    "dose.given": "recorded dose given",
    "dose.held": "held dose",
    "dose.moved": "moved dose",
    "dose.omitted": "omitted dose",
    "dose.recovered": "recorded recovery",
    "levels.confirmed": "confirmed levels",
    "proposal.decided": "decided proposal",
    "response.recorded": "recorded response",
    "schedule.voided": "marked entry in error",
    "treatment.discontinued": "discontinued treatment",
    "prep.calculated": "calculated dose",
    "prep.step": "preparation step",
    "prep.verification": "double-checked dose",
    "prep.override": "pharmacist override",
    "prep.syringe": "recorded syringe set",
    "prep.carton": "scanned a vial carton",
    "labs.transfusion": "answered platelet transfusion",
    "predose.identity": "confirmed identity",
    "predose.premed": "gave premedication",
    "predose.checklist": "emergency checklist",
    "predose.override": "pre-dose override",
    "predose.verdict": "pre-dose verdict",
    "bilirubin.cause": "bilirubin cause",
    "qt_drug.recorded": "recorded QT drug",
    "test.ecg": "recorded ECG",
    "test.electrolytes": "recorded electrolytes",
    "toxicity.recorded": "recorded toxicity",
    "toxicity.resolved": "resolved toxicity",
    "infusion.started": "started infusion",
    "infusion.paused": "paused infusion",
    "infusion.resumed": "resumed infusion",
    "infusion.stopped": "stopped infusion",
    "infusion.ended": "ended infusion",
    "observation.completed": "completed observation",
    "observation.incomplete": "observation incomplete",
    "vitals.recorded": "recorded vital signs",
    "alert.acknowledged": "acknowledged alert",
    "reaction.started": "reaction started",
    "reaction.graded": "graded reaction",
    "reaction.notified": "reaction: notified",
    "reaction.treated": "reaction: treated",
    "reaction.resolved": "reaction resolved",
}

#: Labels where the field's name does not read as one (else: its words, acronyms in capitals).
LABELS = {
    "at": "time",
    "dob": "date of birth",
    "day1": "Day 1",
    "dose_id": "dose",
    "dose_mg": "amount",
    "calc_version": "calculation entry",
    "corrects": "corrects entry",
    "sys": "systolic BP",
    "dia": "diastolic BP",
    "hr": "heart rate",
    "rr": "respiratory rate",
    "spo2": "SpO₂",
    "temp_c": "temperature",
    "platelets": "platelets",
    "blasts_per_mm3": "blasts",
    "primed_with_nacl": "primed with 0.9% NaCl",
}
_ACRONYMS = {
    "bsa": "BSA", "mrn": "MRN", "anc": "ANC", "alp": "ALP", "ast": "AST", "alt": "ALT", "uln": "ULN",
    "crcl": "CrCl", "wbc": "WBC", "hsct": "HSCT", "ecg": "ECG", "qt": "QT", "mrd": "MRD", "id": "ID",
    "ctcae": "CTCAE", "vod": "VOD", "cd22": "CD22", "pct": "%", "ge": "≥",
}  # fmt: skip
#: Units by the field name's ending, with the display quantum of the rule that sets it (or None:
#: shown as stored).
_UNITS: tuple[tuple[str, str, Decimal | None], ...] = (
    ("_mg_m2", "mg/m²", None),
    ("_m2", "m²", rules.BSA_QUANTUM_M2),  # CONV-CALC-2
    ("_mg", "mg", rules.DOSE_QUANTUM_MG),  # CONV-CALC-3
    ("_ml", "mL", rules.VOLUME_QUANTUM_ML),  # CONV-CALC-4
    ("_cm", "cm", None),
    ("_kg", "kg", None),
    ("_min", "min", None),
    ("_pct", "%", None),
    ("_per_mm3", "/mm³", None),
    ("_c", "°C", None),
)
_DOSE_ID = re.compile(r"c(\d+)d(\d+)")
_CODE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@frozen
class Field:
    """One stored field in words: its label, its value at display precision, its whole value."""

    name: str
    label: str
    short: str
    full: str


def kind_words(kind: str) -> str:
    """A kind of event in a few words ("recorded height and weight"); :func:`what` adds what
    only the event knows."""
    if kind not in KIND_WORDS and kind in intake.KIND_TO_SECTION:
        return "recorded " + intake.SECTIONS[intake.KIND_TO_SECTION[kind]].title.lower()
    return KIND_WORDS.get(kind) or kind.replace(".", " ").replace("_", " ")


def what(ev: Event) -> str:
    """The event in a few words ("recorded height and weight", "corrected entry #3")."""
    words = kind_words(ev.kind)
    if ev.kind == "intake.corrected":
        words += f" #{ev.data.get('corrects')}"
    elif ev.kind == "labs.transfusion":
        words += f" #{ev.data.get('entry')}"
    return words


def kinds_matching(query: str) -> list[str]:
    """The kinds whose words hold ``query`` (case-insensitive), for the audit's filter: every kind
    this version names in words or has an event class for (a kind only an older version wrote is
    found by its stored text)."""
    folded = query.casefold()
    known = {*KIND_WORDS, *intake.KIND_TO_SECTION, *EVENT_TYPES}
    return sorted(k for k in known if folded in kind_words(k).casefold())


def event_fields(ev: Event) -> list[Field]:
    """Every shown field of ``ev``, in its class's order (keys it does not declare last)."""
    cls = EVENT_TYPES.get(ev.kind)
    order = [a.name for a in fields(cls)] if cls is not None else []  # type: ignore[arg-type]
    names = [n for n in order if n in ev.data] + [n for n in ev.data if n not in order]
    section = intake.KIND_TO_SECTION.get(ev.kind) or ("identity" if ev.kind == "patient.registered" else None)
    if ev.kind == "intake.corrected":
        section = ev.data.get("section")
    data = ev.data
    cycle, day = data.get("cycle"), data.get("day")
    dose = type(cycle) is int and type(day) is int  # a dose's cycle and day read as one: "C1 D8"
    out = []
    for name in names:
        if name in HIDDEN or (dose and name in ("cycle", "day", "dose_id")):
            if dose and name == "cycle":
                out.append(Field("dose", "Dose", f"C{cycle} D{day}", f"C{cycle} D{day}"))
            continue
        out.append(_field(name, data[name], section))
    return out


def summary(ev: Event) -> str:
    """The fields on one line for the table, at display precision; empty values left out."""
    return " · ".join(f"{f.label}: {f.short}" for f in event_fields(ev) if f.short not in ("", "—"))


def label(name: str, section: str | None = None) -> str:
    """A field's label: the intake form's, else the words of its name, units and acronyms said."""
    spec = _spec(name, section)
    if spec is not None:
        return spec.label
    if name in LABELS:
        return LABELS[name][:1].upper() + LABELS[name][1:]
    if name.isdigit():
        return f"Day {name}"
    stem = name
    for end, _unit, _q in _UNITS:
        if stem.endswith(end) and stem != end.lstrip("_"):
            stem = stem[: -len(end)]
            break
    text = " ".join(_ACRONYMS.get(w, w) for w in stem.split("_"))
    return text[:1].upper() + text[1:]


def _spec(name: str, section: str | None) -> intake.FieldSpec | None:
    sec = intake.SECTIONS.get(section or "")
    if sec is None:
        return None
    return next((f for f in sec.fields if f.name == name), None)


def _field(name: str, value: Any, section: str | None) -> Field:
    spec = _spec(name, section)
    if spec is not None and spec.choices and isinstance(value, str):
        words = dict(spec.choices).get(value, value)
        return Field(name, spec.label, words, words)
    if isinstance(value, Mapping):
        inner = [_field(str(k), v, section) for k, v in value.items()]
        return Field(
            name, label(name, section), ", ".join(f"{f.label} {f.short}" for f in inner),
            ", ".join(f"{f.label} {f.full}" for f in inner),
        )  # fmt: skip
    if isinstance(value, list | tuple):
        items = [_value(name, v) for v in value]
        return Field(name, label(name, section), ", ".join(s for s, _f in items) or "—", ", ".join(f for _s, f in items) or "—")
    short, full = _value(name, value, units=spec is None)  # an intake label names its unit itself
    return Field(name, label(name, section), short, full)


def _value(name: str, value: Any, units: bool = True) -> tuple[str, str]:
    """(display precision, whole) for one stored value of field ``name``."""
    if value is None or value == "":
        return "—", "—"
    if isinstance(value, bool):
        return ("yes", "yes") if value else ("no", "no")
    text = str(value)
    if isinstance(value, str) and _TIME.match(text):
        at = parse_aware(text)
        if at is not None:
            return fmt_local(at), fmt_local(at, seconds=True)
    if isinstance(value, str) and _DOSE_ID.fullmatch(text):
        m = _DOSE_ID.fullmatch(text)
        return (f"C{m.group(1)} D{m.group(2)}",) * 2  # type: ignore[union-attr]
    if isinstance(value, str) and _CODE.fullmatch(text):
        return (text.replace("_", " "),) * 2
    if name in ("formula", "bsa_formula") and text in FORMULA_LABELS:
        return (FORMULA_LABELS[text],) * 2
    for end, unit, quantum in _UNITS:
        if name.endswith(end) and _is_number(value):
            sep = " " if units else ""
            return f"{_rounded(text, quantum)}{sep}{unit if units else ''}", f"{text}{sep}{unit if units else ''}"
    return text, text


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        Decimal(str(value))
    except InvalidOperation:
        return False
    return True


def _rounded(text: str, quantum: Decimal | None) -> str:
    """``text`` half-up to ``quantum`` when it has more digits than that (display only)."""
    if quantum is None:
        return text
    d = Decimal(text)
    if d.as_tuple().exponent >= quantum.as_tuple().exponent:  # type: ignore[operator]
        return text
    return str(d.quantize(quantum, rounding=ROUND_HALF_UP))

"""Whether a laboratory message may be applied to a patient, and what it records (pure).

:func:`route` finds the patient by MRN among every patient's index line; :func:`identity` then
requires the message's **two identifiers** (MRN and date of birth) to match the record, and a name,
when sent, not to contradict it. :func:`panels` reads each result through the LOINC and UCUM
tables of :mod:`bedside.core.labcodes` into the labs record's fields: final results only, exact
values, an accepted unit (CONV-CALC-7), within the software limits (CONV-INPUT-1; an unusual
value needs a named user's confirmation, so it is quarantined), the ULN from the result's reference
range (missing: stored without it, and the pre-dose check holds until it is entered, CONV-LAB-5),
and a collection time that is not in the future, read in the site's zone (CONV-TIME-1).

Every problem is a :class:`Problem` with the reason a user reads in the quarantine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from attrs import frozen

from .. import labcodes, rules
from .model import LabMessage, LabResult

HL7_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?([+-]\d{4})?$")
RANGE_RE = re.compile(r"^\s*(?:(-?[0-9.]+)\s*[-–]\s*|(?:<=?|≤)\s*)([0-9.]+)\s*$")
LOINC_NAMES = ("LN", "LOINC", labcodes.LOINC_SYSTEM)


@frozen
class Problem:
    reason: str
    rules: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.reason + (f" [{', '.join(self.rules)}]" if self.rules else "")


def norm_mrn(mrn: str) -> str:
    return mrn.strip().upper()


def route(index: Mapping[str, Any], msg: LabMessage) -> str | Problem:
    """The one patient whose MRN the message names (PatientEntry lines of core/wardindex.py)."""
    if not msg.mrns:
        return Problem("no MRN in the message (PID-3): a result is matched on two identifiers, never a name")
    wanted = {norm_mrn(m) for m in msg.mrns}
    hits = sorted({pid for pid, e in index.items() if norm_mrn(e.mrn) in wanted})
    if not hits:
        return Problem(f"no patient with MRN {', '.join(sorted(wanted))} on this ward: unmatched")
    if len(hits) > 1:
        return Problem(f"the message's identifiers name {len(hits)} patients: ambiguous")
    return hits[0]


def _dob(text: str) -> date | None:
    t = text.strip()
    try:
        if re.fullmatch(r"\d{8}", t[:8]) and len(t) in (8, 12, 14):
            return date(int(t[:4]), int(t[4:6]), int(t[6:8]))
        return date.fromisoformat(t)
    except ValueError:
        return None


def _name_words(text: str) -> set[str]:
    return {w for w in re.split(r"[\s,^'-]+", text.casefold()) if w}


def identity(msg: LabMessage, mrn: str, dob: date | None, name: str) -> Problem | None:
    """None when the message's MRN and date of birth match the record (and its name, if any, does
    not contradict it); else why it is not this patient's."""
    if norm_mrn(mrn) not in {norm_mrn(m) for m in msg.mrns}:
        return Problem(f"the MRN in the message ({', '.join(msg.mrns) or 'none'}) is not this patient's ({mrn})")
    sent = _dob(msg.dob)
    if sent is None:
        return Problem("no readable date of birth in the message (PID-7): two identifiers are needed, MRN and date of birth")
    if dob is None or sent != dob:
        return Problem(f"date of birth {sent.isoformat()} in the message differs from the record: wrong patient?")
    if msg.family and not (_name_words(msg.family) <= _name_words(name)):
        return Problem(f"the name in the message ({msg.family}, {msg.given}) does not match the record ({name})")
    return None


def parse_time(text: str, zone: ZoneInfo) -> datetime | None:
    """An HL7 TS (no offset: the site's local time) or a FHIR dateTime, in UTC; a bare date is
    its local midnight. None when unreadable."""
    t = text.strip()
    m = HL7_TS.match(t)
    try:
        if m:
            y, mo, d, hh, mm, ss, off = m.groups()
            tz: Any = zone
            if off:
                sign = 1 if off[0] == "+" else -1
                tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
            return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=tz).astimezone(UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return datetime.combine(date.fromisoformat(t), datetime.min.time(), zone).astimezone(UTC)
        when = datetime.fromisoformat(t.replace("Z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=zone)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _plain(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _uln(r: LabResult, label: str) -> str | Problem | None:
    m = RANGE_RE.match(r.ref_range) if r.ref_range else None
    if m is None:
        return None  # missing or unreadable: stored without it, and the pre-dose check holds (CONV-CALC-7)
    uln = _number(m.group(2))
    lo, hi, *_ = rules.INPUT_LIMITS["uln"]
    if uln is None or not lo <= uln <= hi:
        return Problem(f"{label}: the reference range {r.ref_range!r} gives no ULN from {lo} to {hi}", ("CONV-CALC-7",))
    return _plain(uln)


def _value(r: LabResult, field: str, confirmed: bool) -> tuple[str, bool] | Problem:
    """The result in the app's unit, and whether it is an unusual value confirmed by the assigner."""
    label = labcodes.LABELS[field]
    if r.status.casefold() not in {s.casefold() for s in labcodes.HL7_FINAL | labcodes.FHIR_FINAL}:
        return Problem(
            f"{label}: result status {r.status or 'none'!r} is not final: a preliminary result is never used for a dose"
        )
    if r.comparator or r.value_type not in ("NM", "SN"):
        shown = (r.comparator + r.value) or "(empty)"
        return Problem(f"{label}: {shown} is not an exact number (value type {r.value_type or 'none'})", ("CONV-CALC-7",))
    v = _number(r.value)
    if v is None:
        return Problem(f"{label}: {r.value!r} is not a number", ("CONV-CALC-7",))
    factor = labcodes.UNITS[field].get(r.unit)
    if factor is None:
        accepted = ", ".join(sorted(labcodes.UNITS[field]))
        return Problem(
            f"{label}: unit {r.unit or '(none)'!r} is not one Bedside reads (accepted UCUM: {accepted})", ("CONV-CALC-7",)
        )
    v = v * factor
    lo, hi, ulo, uhi, unit = rules.INPUT_LIMITS[field]
    if not lo <= v <= hi:
        return Problem(f"{label}: {_plain(v)} is outside the allowed range {lo} to {hi} ({unit})", ("CONV-INPUT-1",))
    unusual = not ulo <= v <= uhi
    if unusual and not confirmed:
        return Problem(
            f"{label}: {_plain(v)} is outside the usual range {ulo} to {uhi}: an admin checks it and assigns it",
            ("CONV-INPUT-1",),
        )
    return _plain(v), unusual


def _is_loinc(r: LabResult) -> bool:
    return r.system.upper() in LOINC_NAMES or r.system == labcodes.LOINC_SYSTEM


@frozen
class Panels:
    """What the message records: one labs record per local collection date."""

    panels: tuple[dict[str, Any], ...]
    not_used: tuple[str, ...]


def _when(r: LabResult, msg: LabMessage, zone: ZoneInfo, now: datetime, dob: date | None) -> datetime | Problem:
    text = r.observed or msg.collected
    at = parse_time(text, zone) if text else None
    label = labcodes.LABELS.get(labcodes.LOINC_FIELDS.get(r.code, ""), r.code)
    if at is None:
        return Problem(f"{label}: no readable collection time (OBR-7 / OBX-14: {text or 'none'!r})", ("CONV-LAB-5",))
    if at > now:
        return Problem(f"{label}: collected {at.isoformat()} UTC, which is in the future", ("CONV-LAB-5", "CONV-TIME-1"))
    if dob is not None and at.astimezone(zone).date() < dob:
        return Problem(f"{label}: collected before the patient's date of birth", ("CONV-LAB-5",))
    return at


def _put(panel: dict[str, Any], key: str, value: Any, label: str) -> Problem | None:
    if key in panel and panel[key] != value:
        return Problem(f"{label}: two different results in one message ({panel[key]} and {value}): ambiguous")
    panel[key] = value
    return None


def _add(panel: dict[str, Any], r: LabResult, field: str, value: str, unusual: bool, at: datetime) -> Problem | None:
    """Put one result into its date's record; a second, different value for a field is ambiguous."""
    label = labcodes.LABELS[field]
    items = [(field, value)]
    if field == "bilirubin":
        items.append(("bilirubin_unit", labcodes.BILIRUBIN_UNIT[r.unit]))
    if field in labcodes.ULN_FIELDS:
        uln = _uln(r, label)
        if isinstance(uln, Problem):
            return uln
        if uln is not None:
            items.append((f"{field}_uln", uln))
    for key, val in items:
        clash = _put(panel, key, val, label)
        if clash:
            return clash
    panel["loinc"][field] = r.code
    panel["units"][field] = r.unit
    if unusual:
        panel["confirmed_unusual"] = sorted({*panel.get("confirmed_unusual", []), field})
    panel["collected_at"] = max(panel["collected_at"], at.isoformat())
    return None


def panels(msg: LabMessage, zone: ZoneInfo, now: datetime, dob: date | None, confirmed: bool = False) -> Panels | Problem:
    """The labs records the message makes, or the first problem that stops it being applied."""
    by_date: dict[date, dict[str, Any]] = {}
    not_used: list[str] = []
    for r in msg.results:
        field = labcodes.LOINC_FIELDS.get(r.code) if _is_loinc(r) else None
        if field is None:
            not_used.append(r.code or "(no code)")
            continue
        at = _when(r, msg, zone, now, dob)
        if isinstance(at, Problem):
            return at
        got = _value(r, field, confirmed)
        if isinstance(got, Problem):
            return got
        day = at.astimezone(zone).date()
        panel = by_date.setdefault(
            day, {"collected_on": day.isoformat(), "collected_at": at.isoformat(), "loinc": {}, "units": {}}
        )
        problem = _add(panel, r, field, *got, at)
        if problem:
            return problem
    if not by_date:
        codes = ", ".join(not_used) or "none"
        return Problem(f"no result Bedside uses (LOINC codes sent: {codes}): nothing to record", ("CONV-CALC-7",))
    return Panels(tuple(by_date[d] for d in sorted(by_date)), tuple(not_used))


def taken(events: Iterable[Any], kind: str) -> dict[tuple[str, str], str]:
    """(sender, message id) → digest of each message already recorded by events of ``kind``."""
    out: dict[tuple[str, str], str] = {}
    for ev in events:
        if ev.kind == kind:
            out[(ev.data.get("sender", ""), ev.data.get("message_id", ""))] = ev.data.get("digest", "")
    return out

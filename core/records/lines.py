"""One record line per event: what the printed record says each kind of event recorded.

User text is printed literally (:func:`clean`); a damaged value is printed as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .. import infusion as inf
from .. import predose as pr
from .. import preparation as prep
from .. import schedule as sch
from ..calc import FORMULA_LABELS
from ..clock import parse_aware
from ..events import Event
from .page import clean
from .words import (
    DISCONTINUE_WORDS,
    EXTENSION_WORDS,
    POINT_LABELS,
    RESPONSE_WORDS,
    STEP_WORDS,
    TOXICITY_WORDS,
    grade,
    level,
    plain,
    word,
)

_TAG_RE = re.compile(r":c(\d+)d(\d+)$")
Fmt = Callable[[datetime | None], str]


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def dose_key(ev: Event) -> tuple[int, int] | None:
    """The (cycle, day) of the dose an event is about, or None."""
    d = ev.data
    did = d.get("dose_id")
    if isinstance(did, str):
        m = re.fullmatch(r"c(\d+)d(\d+)", did)
        return (int(m.group(1)), int(m.group(2))) if m else None
    c, day = d.get("cycle"), d.get("day")
    if _int(c) and _int(day):
        return c, day
    pid = d.get("proposal_id")
    if isinstance(pid, str):
        m = _TAG_RE.search(pid)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def cycle_of(ev: Event) -> int | None:
    c = ev.data.get("cycle")
    return c if _int(c) else None


# --- preparation -----------------------------------------------------------------------------------


def _calculated(d: Mapping[str, Any]) -> str:
    formula = word(FORMULA_LABELS, d.get("formula"))
    try:
        shown = Decimal(str(d.get("bsa_m2"))).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        bsa = f"BSA {shown} m²"
    except Exception:  # noqa: BLE001 - a damaged value is printed as stored
        bsa = f"BSA {clean(d.get('bsa_m2'))} m²"
    measured = f" measured {clean(d['measured_on'])}" if d.get("measured_on") else ""
    text = (
        f"Calculated: {bsa} ({formula}; {clean(d.get('height_cm'))} cm, {clean(d.get('weight_kg'))} kg{measured}), "
        f"{level(d.get('level_mg_m2'))} = {clean(d.get('dose_mg'))} mg; withdraw {clean(d.get('withdraw_ml'))} mL "
        f"from {clean(d.get('vials'))} vial(s); {clean(d.get('route'))} {clean(d.get('final_volume_ml'))} mL"
    )
    if d.get("level_basis"):
        text += f"; level basis: {clean(d['level_basis'])}"
    return text


def _step(d: Mapping[str, Any]) -> str:
    text = word(STEP_WORDS, d.get("step"))
    if d.get("vials_kept"):
        text += f" (vials kept {clean(str(d['vials_kept']).replace('_', ' '))})"
    if d.get("reason"):
        text += f": {clean(d['reason'])}"
    return text


def _verification(d: Mapping[str, Any]) -> str:
    if d.get("matched"):
        return "Blind double-check: matched (BSA, level, dose, volume)"
    fields = ", ".join(prep.VERIFY_LABELS.get(str(x), clean(x)) for x in d.get("mismatches", []))
    return f"Blind double-check: MISMATCH ({fields})"


# --- pre-dose checks -------------------------------------------------------------------------------


def _identity(d: Mapping[str, Any]) -> str:
    return (
        f"Identity confirmed ({clean(d.get('method'))}): {clean(d.get('name'))}, DOB {clean(d.get('dob'))}, "
        f"MRN {clean(d.get('mrn'))}"
    )


def _premed(d: Mapping[str, Any]) -> str:
    return (
        f"Premedication given: {clean(d.get('drug'))} {clean(d.get('dose'))} "
        f"({clean(str(d.get('drug_class', '')).replace('_', ' '))})"
    )


def _override(d: Mapping[str, Any]) -> str:
    return (
        f"Override {clean(d.get('rule_id'))} ({clean(d.get('decision', 'proceed'))}, as "
        f"{clean(d.get('role'))}): {clean(d.get('reason'))}"
    )


def _verdict(d: Mapping[str, Any]) -> str:
    deciding = ", ".join(clean(x) for x in d.get("deciding") or [])
    return f"Pre-dose check: {clean(d.get('overall'))}" + (f" ({deciding})" if deciding else "")


# --- the infusion ----------------------------------------------------------------------------------


def _started(d: Mapping[str, Any], t: Fmt) -> str:
    deadline = parse_aware(d.get("stability_deadline"))
    text = f"Infusion started (route {clean(d.get('route', 'bag'))}"
    if d.get("flush_min"):
        text += f", flush {clean(d['flush_min'])} min"
    text += ")"
    if deadline is not None:
        text += f"; bag stable until {t(deadline)}"
    code = d.get("bag_code")
    if isinstance(code, str) and code:
        text += f"; bag label {clean(code)} scanned"
    return text


def _incomplete(d: Mapping[str, Any]) -> str:
    who = f" (who: {clean(d['who'])})" if d.get("who") else ""
    return f"Observation INCOMPLETE, deviation (MON-2): {clean(d.get('reason'))}{who}"


def _vitals(d: Mapping[str, Any]) -> str:
    parts = [
        f"T {clean(d.get('temp_c'))} °C",
        f"HR {clean(d.get('hr'))}/min",
        f"BP {clean(d.get('sys'))}/{clean(d.get('dia'))} mmHg",
        f"RR {clean(d.get('rr'))}/min",
        f"SpO2 {clean(d.get('spo2'))}%",
    ]
    text = "Vital signs: " + ", ".join(parts)
    if d.get("point"):
        point = str(d["point"])
        label = POINT_LABELS.get(point) or (f"reaction {point.split(':', 1)[1]}" if point.startswith("reaction:") else point)
        text += f" ({clean(label)})"
    if d.get("confirmed_unusual"):
        text += " (unusual values confirmed: " + ", ".join(clean(x) for x in d["confirmed_unusual"]) + ")"
    return text


def _which(d: Mapping[str, Any]) -> str:
    return f" {clean(d['reaction'])}" if d.get("reaction") is not None else ""


def _graded(d: Mapping[str, Any]) -> str:
    text = f"Reaction{_which(d)} graded: {grade(d.get('grade'))} (CTCAE v{clean(d.get('ctcae_version', '5.0'))})"
    if d.get("correction_reason"):
        text += f"; grade correction: {clean(d['correction_reason'])}"
    return text


# --- the schedule ----------------------------------------------------------------------------------


def _given(d: Mapping[str, Any]) -> str:
    mg = f", {clean(d['dose_mg'])} mg" if d.get("dose_mg") not in (None, "") else ""
    return f"Recorded as given on {clean(d.get('date'))}: {level(d.get('level_mg_m2'))}{mg}"


def _held(d: Mapping[str, Any]) -> str:
    tox = word(TOXICITY_WORDS, d.get("toxicity"))
    return f"HELD from {clean(d.get('planned_date'))} ({tox} toxicity): {clean(d.get('reason'))}"


def _proposal(d: Mapping[str, Any]) -> str:
    return (
        f"{clean(d.get('rule'))} proposal {clean(d.get('decision'))} (as {clean(d.get('role'))})"
        + (f" for {clean(d['date'])}" if d.get("date") else "")
        + f": {clean(d.get('reason'))}"
    )


def _extended(d: Mapping[str, Any]) -> str:
    note = f": {clean(d['note'])}" if d.get("note") else ""
    return f"Cycle 1 extended to {clean(d.get('length_days'))} days ({word(EXTENSION_WORDS, d.get('reason'))}){note}"


def _levels(d: Mapping[str, Any]) -> str:
    lv = d.get("levels") or {}
    days = ", ".join(f"D{x} {plain(lv.get(str(x)))}" for x in (1, 8, 15))
    return f"Levels confirmed (mg/m²): {days}; basis: {clean(d.get('basis'))}"


def _response(d: Mapping[str, Any]) -> str:
    resp = word(RESPONSE_WORDS, d.get("response"))
    return f"Response assessed {clean(d.get('assessed_on'))}: {resp}, MRD {clean(d.get('mrd'))}"


def _discontinued(d: Mapping[str, Any]) -> str:
    note = f": {clean(d['note'])}" if d.get("note") else ""
    return f"Treatment DISCONTINUED from {clean(d.get('date'))} ({word(DISCONTINUE_WORDS, d.get('reason'))}){note}"


#: A dose's record lines, by kind: each reads the event's data.
DOSE_LINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    prep.CALCULATED: _calculated,
    prep.STEP: _step,
    prep.VERIFICATION: _verification,
    prep.CARTON: lambda d: (
        f"Vial carton scanned: lot {clean(d.get('lot'))}, expiry {clean(d.get('expiry'))}, GTIN {clean(d.get('gtin'))}"
        + (f", serial {clean(d.get('serial'))}" if d.get("serial") else "")
    ),
    pr.IDENTITY: _identity,
    pr.PREMED: _premed,
    pr.CHECKLIST: lambda d: "Emergency equipment and medicines ready: " + ("yes" if d.get("emergency_ready") else "NO"),
    pr.OVERRIDE: _override,
    pr.VERDICT: _verdict,
    inf.INFUSION_PAUSED: lambda d: f"Infusion paused: {clean(d.get('reason'))}",
    inf.INFUSION_RESUMED: lambda d: "Infusion resumed",
    inf.INFUSION_ENDED: lambda d: "Infusion ended",
    inf.INFUSION_STOPPED: lambda d: f"Infusion STOPPED: {clean(d.get('reason'))}",
    inf.OBSERVATION_COMPLETED: lambda d: "Observation completed",
    inf.OBSERVATION_INCOMPLETE: _incomplete,
    inf.VITALS_RECORDED: _vitals,
    inf.REACTION_GRADED: _graded,
    inf.REACTION_NOTIFIED: lambda d: f"Reaction{_which(d)}: notified {clean(d.get('who'))}",
    inf.REACTION_TREATED: lambda d: f"Reaction{_which(d)} treatment: {clean(d.get('treatment'))}",
    inf.REACTION_RESOLVED: lambda d: f"Reaction{_which(d)} resolved; outcome: {clean(d.get('outcome'))}",
    sch.DOSE_GIVEN: _given,
    sch.DOSE_HELD: _held,
    sch.DOSE_RECOVERED: lambda d: f"Recovered from the hold on {clean(d.get('date'))}",
    sch.DOSE_OMITTED: lambda d: f"OMITTED: {clean(d.get('reason'))}",
    sch.DOSE_MOVED: lambda d: f"Moved to {clean(d.get('date'))}: {clean(d.get('reason'))}",
    sch.PROPOSAL_DECIDED: _proposal,
}

#: A cycle's record lines (cycle start, extension, levels, response), by kind.
CYCLE_LINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    sch.CYCLE_STARTED: lambda d: f"Cycle 1 start date set to {clean(d.get('day1'))}",
    sch.CYCLE_EXTENDED: _extended,
    sch.LEVELS_CONFIRMED: _levels,
    sch.RESPONSE_RECORDED: _response,
}


def describe(ev: Event, reaction_no: Mapping[int, int], t: Fmt) -> str | None:
    """One record line for an event of a dose (user text literal), or None for events not on the
    record; ``reaction_no`` numbers the dose's reactions, ``t`` shows a time."""
    if ev.kind == inf.INFUSION_STARTED:
        return _started(ev.data, t)
    if ev.kind == inf.REACTION_STARTED:
        n = reaction_no.get(ev.seq)
        return f"Infusion reaction {n if n else '?'} started: {clean(ev.data.get('symptoms'))}"
    line = DOSE_LINES.get(ev.kind)
    return None if line is None else line(ev.data)


def describe_cycle(ev: Event) -> str | None:
    line = CYCLE_LINES.get(ev.kind)
    return None if line is None else line(ev.data)


def describe_decision(ev: Event, t: Fmt) -> str | None:
    """A treatment decision: a discontinuation, or a proposal decided for no one dose."""
    if ev.kind == sch.TREATMENT_DISCONTINUED:
        return _discontinued(ev.data)
    return describe(ev, {}, t)

"""Premedication in one form (PRE-1, issue 17): the command that records every class given together,
and what the form offers for each class.

What is offered is never invented (the reference names no drug or dose for PRE-1; PRE-2's regimens
are practice examples, for site templates only): for each class, what this patient was given at
their previous dose, else the site's premedication protocol (a site setting an admin records),
else nothing. The form shows the offer and where it comes from; the nurse takes it into the form,
checks it against what was given and saves, and only then is anything recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import field, frozen

from .. import rules
from ..clock import fmt_local
from ..commands import Actor, Decision, State, decider
from ..events import iso_utc, parse_utc
from .commands import CLINICIANS, DoseCommand, _checked, _dose, _text, premed_given_at
from .events import PREMED, PremedGiven

SITE_PROTOCOL = "site protocol"


@frozen
class PremedOffer:
    """What the form offers for one class: drug, dose and route, and where they come from
    (``source``: "as at C1 D8", "site protocol", or "" when there is nothing to offer).
    ``recorded``: what is recorded for this class at this dose already ("" if nothing)."""

    drug_class: str
    drug: str = ""
    dose: str = ""
    source: str = ""
    recorded: str = ""


def _dose_premeds(events: Any) -> dict[tuple[int, int], dict[str, PremedGiven]]:
    """The latest premedication of each class at each dose, from a patient's events."""
    out: dict[tuple[int, int], dict[str, PremedGiven]] = {}
    for ev in events:
        if ev.kind == PREMED:
            p = ev.payload
            out.setdefault((p.cycle, p.day), {})[p.drug_class] = p
    return out


def premed_offer(view: Any, cycle: int, day: int) -> tuple[PremedOffer, ...]:
    """For each class (PRE-1), what the premedication form offers for dose C``cycle`` D``day``:
    the previous dose's drug, dose and route, else the site protocol's, else nothing."""
    given = _dose_premeds(view.events)
    earlier = sorted(k for k in given if k < (cycle, day))
    previous = given[earlier[-1]] if earlier else {}
    label = f"as at C{earlier[-1][0]} D{earlier[-1][1]}" if earlier else ""
    protocol = {t.drug_class: t for t in view.site.premed_protocol}
    here = given.get((cycle, day), {})
    out = []
    for cls in rules.PREMED_CLASSES:
        done = here.get(cls)
        recorded = f"{done.drug} {done.dose} at {fmt_local(parse_utc(done.given_at), day=False)}" if done else ""
        if cls in previous:
            p = previous[cls]
            out.append(PremedOffer(cls, p.drug, p.dose, label, recorded))
        elif cls in protocol:
            t = protocol[cls]
            out.append(PremedOffer(cls, t.drug, t.dose, SITE_PROTOCOL, recorded))
        else:
            out.append(PremedOffer(cls, recorded=recorded))
    return tuple(out)


@frozen
class PremedRow:
    """One row of the premedication form: the class, the drug and its dose and route, as typed."""

    drug_class: str
    drug: str = ""
    dose: str = ""  # dose and route, as typed (the event's ``dose``)


@frozen
class RecordPremeds(DoseCommand):
    """Pre-dose, m then ctrl+s: record the premedications given together before this dose, one per class filled (PRE-1).

    A row per class (corticosteroid, antipyretic, antihistamine) with the drug, its dose and route;
    one time given for them all (HH:MM today, the site's local time). An empty row records nothing."""

    rows: tuple[PremedRow, ...] = field(default=(), converter=tuple)
    time: str = ""  # HH:MM, the site's local time today (CONV-TIME-1)
    emits = (PremedGiven,)


def _filled(rows: tuple[PremedRow, ...]) -> list[tuple[str, str, str]]:
    """(class, drug, dose) of each filled row; ValueError names the row and what it lacks."""
    seen: set[str] = set()
    out = []
    for row in rows:
        if row.drug_class not in rules.PREMED_CLASSES:
            raise ValueError(f"Class: one of {', '.join(rules.PREMED_CLASSES)} (PRE-1).")
        label = row.drug_class.capitalize()
        if row.drug_class in seen:
            raise ValueError(f"{label}: one row per class.")
        seen.add(row.drug_class)
        drug = _text(f"{label}, drug", row.drug, required=False)
        dose = _text(f"{label}, dose and route", row.dose, required=False)
        if drug and not dose:
            raise ValueError(f"{label}: the dose and route of {drug}, or leave the row empty.")
        if dose and not drug:
            raise ValueError(f"{label}: the drug given, or leave the row empty.")
        if drug:
            out.append((row.drug_class, drug, dose))
    if not out:
        raise ValueError("Premedication: fill in at least one class (drug, dose and route).")
    return out


@decider(RecordPremeds)
def decide_premeds(state: State, cmd: RecordPremeds, now: datetime, actor: Actor) -> Decision:
    refused = _dose(state, cmd, actor, "Premedication", CLINICIANS, "PRE-1")
    if refused:
        return refused

    def build() -> Decision:
        filled = _filled(cmd.rows)
        at, _note = premed_given_at(cmd.time, now)
        return [
            PremedGiven(cycle=cmd.cycle, day=cmd.day, drug_class=cls, drug=drug, dose=dose, given_at=iso_utc(at))
            for cls, drug, dose in filled
        ]

    return _checked(build, "PRE-1")

"""Entries recorded in error.

A schedule entry is never changed or deleted. One recorded in error is voided by a later event
naming it (``schedule.voided``), with who, when and why; the fold then skips it. Only the latest
entry still in force can be voided (then the one before it, and so on), so what remains is always
a state the checks once accepted. A dose recorded by starting its infusion is not voided here:
its infusion record (started, stopped, observed) governs it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import frozen

from ..events import Event
from ..text import unsafe_message
from .events import (
    CYCLE_EXTENDED,
    CYCLE_STARTED,
    DOSE_GIVEN,
    DOSE_HELD,
    DOSE_MOVED,
    DOSE_OMITTED,
    DOSE_RECOVERED,
    INFUSION_STARTED_KIND,
    LEVELS_CONFIRMED,
    PROPOSAL_DECIDED,
    RESPONSE_RECORDED,
    SCHEDULE_VOIDED,
    TREATMENT_DISCONTINUED,
)

VOIDABLE_KINDS = (
    CYCLE_STARTED,
    DOSE_GIVEN,
    DOSE_HELD,
    DOSE_RECOVERED,
    DOSE_OMITTED,
    DOSE_MOVED,
    CYCLE_EXTENDED,
    RESPONSE_RECORDED,
    LEVELS_CONFIRMED,
)
# A prescriber's decision stands: a discontinuation changes only by a correction of the facts it
# rests on (CONV-OVR-1), so these end the chain of entries that can be voided.
DECISION_KINDS = (PROPOSAL_DECIDED, TREATMENT_DISCONTINUED)


@frozen
class VoidedEntry:
    entry: str
    recorded_by: str
    voided_by: str
    voided_at: Any  # datetime (UTC)
    reason: str


def voided_versions(events: Sequence[Event]) -> set[int]:
    """Versions of the entries recorded in error (each named by a later void event)."""
    return {int(e.payload.voids) for e in events if e.kind == SCHEDULE_VOIDED}


def describe_entry(ev: Event) -> str:
    """One line in words for a schedule entry (what a voiding names)."""
    d = ev.data
    label = f"C{d['cycle']} D{d['day']}" if "cycle" in d and "day" in d else ""
    text = {
        CYCLE_STARTED: lambda: f"Cycle 1 started, Day 1 {d.get('day1')}",
        DOSE_GIVEN: lambda: f"{label} given {d.get('date')} ({d.get('level_mg_m2')} mg/m²)",
        DOSE_HELD: lambda: f"{label} held: {d.get('reason', '')}",
        DOSE_RECOVERED: lambda: f"{label} recovered {d.get('date')}",
        DOSE_OMITTED: lambda: f"{label} omitted: {d.get('reason', '')}",
        DOSE_MOVED: lambda: f"{label} moved to {d.get('date')}",
        CYCLE_EXTENDED: lambda: f"Cycle 1 extended to {d.get('length_days')} days",
        RESPONSE_RECORDED: lambda: f"Response after cycle {d.get('cycle')}: {d.get('response')} (MRD {d.get('mrd')})",
        LEVELS_CONFIRMED: lambda: f"Levels confirmed for cycle {d.get('cycle')}",
        PROPOSAL_DECIDED: lambda: f"Proposal {d.get('proposal_id')}: {d.get('decision')}",
        TREATMENT_DISCONTINUED: lambda: f"Treatment discontinued: {d.get('reason')}",
    }.get(ev.kind)
    return text() if text else ev.kind


def latest_entry(events: Sequence[Event]) -> Event | None:
    """The latest schedule entry still in force (the only one that may be voided), or a decision."""
    voided = voided_versions(events)
    kinds = VOIDABLE_KINDS + DECISION_KINDS
    return next(
        (e for e in sorted(events, key=lambda e: e.version, reverse=True) if e.kind in kinds and e.version not in voided), None
    )


def _void_target(events: Sequence[Event], expected_version: int | None) -> tuple[Event, str]:
    """The latest entry and its words, if it may be marked in error at all (ValueError if not)."""
    ev = latest_entry(events)
    if ev is None:
        raise ValueError("There is no schedule entry to enter in error.")
    what = describe_entry(ev)
    if expected_version is not None and ev.version != expected_version:
        raise ValueError(f"The latest entry changed while you were answering (now: {what}); look again before marking it.")
    if ev.kind in DECISION_KINDS:
        raise ValueError(
            f"The latest entry is a prescriber's decision ({what}); a decision is not entered in error "
            "(CONV-OVR-1): correct the facts it rests on, or record a new decision."
        )
    return ev, what


def _by_infusion(events: Sequence[Event], ev: Event, what: str) -> None:
    if ev.kind == DOSE_GIVEN:
        tag = f"c{ev.data['cycle']}d{ev.data['day']}"
        if any(e.kind == INFUSION_STARTED_KIND and e.data.get("dose_id") == tag for e in events):
            raise ValueError(
                f"{what} was recorded by starting its infusion; its infusion record governs it "
                "(stop the infusion in the monitor, t, with the reason)."
            )


def void_refusal(events: Sequence[Event]) -> str | None:
    """Why the latest entry cannot be marked in error by anyone (said before asking for a reason), or None."""
    try:
        ev, what = _void_target(events, None)
        _by_infusion(events, ev, what)
    except ValueError as exc:
        return str(exc)
    return None


def void_needs(ev: Event, username: str, role: str | None) -> str | None:
    """Who else must mark ``ev`` in error when this user may not: "prescriber", or None if they may
    (the user who recorded it, or a prescriber: the schedule's clinical decisions are theirs)."""
    return None if username == ev.actor or role == "prescriber" else "prescriber"


def check_void(
    events: Sequence[Event], actor: str, role: str | None, reason: str, expected_version: int | None = None
) -> dict[str, Any]:
    """``data`` voiding the latest entry, or ValueError saying why not and what to do instead.

    Who: the user who recorded it, or a prescriber (the schedule's clinical decisions are theirs)."""
    ev, what = _void_target(events, expected_version)
    if not reason or not reason.strip():
        raise ValueError("Reason: required (what was wrong with the entry).")
    if unsafe_message("Reason", reason):
        raise ValueError(unsafe_message("Reason", reason))
    _by_infusion(events, ev, what)
    if void_needs(ev, actor, role) is not None:
        raise ValueError(f"{what} was recorded by {ev.actor}: only {ev.actor} or a prescriber may enter it in error.")
    return {"voids": ev.version, "kind": ev.kind, "entry": what, "recorded_by": ev.actor, "reason": reason.strip()}


def voided_entries(events: Sequence[Event]) -> tuple[VoidedEntry, ...]:
    """Every entry recorded in error, newest first, for the timeline and the printed record."""
    return tuple(
        VoidedEntry(str(e.payload.entry), str(e.payload.recorded_by), e.actor, e.at, str(e.payload.reason))
        for e in sorted((e for e in events if e.kind == SCHEDULE_VOIDED), key=lambda e: e.version, reverse=True)
    )

"""Cycle timeline: a pure schedule engine over the patient stream (no I/O, no clock, no UI).

:func:`timeline` folds the events of one patient stream (``patient:<id>``) into a
:class:`Timeline` for a given local ``today``. The ``check_*`` helpers validate a user action
against a timeline and return the ``data`` of the event to append (as
``NewEvent(stream, kind, actor, at, data)``), or raise ``ValueError`` with a message that names
the rule and, where there is one, the nearest allowed date. Nothing here is stored: cycle and day
numbers are derived (SCHED-8).

Dose days are the site's **local calendar dates** (CONV-TIME-1). Events carry UTC timestamps, but
every schedule-relevant date is stored explicitly in ``data`` as an ISO date string
(``"YYYY-MM-DD"``), so this module never converts time zones. Levels are exact decimal strings
(CONV-CALC-6). ``cycle`` is an int ≥ 1, ``day`` one of 1, 8, 15 (SCHED-1).

Event vocabulary (kind → ``data``):

``cycle.started`` (:data:`CYCLE_STARTED`)
    ``{"cycle": 1, "day1": date}``. The chosen start date of cycle 1; re-recording it before
    C1 D1 is given moves the start (latest wins). Later cycles start when their Day 1 dose is
    given (SCHED-6).
``dose.given`` (:data:`DOSE_GIVEN`)
    ``{"cycle", "day", "date": date, "level_mg_m2": str, "dose_mg": str}``; who = the actor.
``dose.held`` (:data:`DOSE_HELD`)
    ``{"cycle", "day", "planned_date": date, "reason": str,
    "toxicity": "hematologic" | "non_hematologic" | "other"}``. The interruption is counted from
    the planned date of the first hold of that dose (CONV-SCHED-5).
``dose.recovered`` (:data:`DOSE_RECOVERED`)
    ``{"cycle", "day", "date": date}``: recovery from the hold (the date counts, CONV-SCHED-5).
``dose.omitted`` (:data:`DOSE_OMITTED`)
    ``{"cycle", "day" (8 | 15), "reason": str}``. A Day 1 is never omitted (SCHED-6).
``dose.moved`` (:data:`DOSE_MOVED`)
    ``{"cycle", "day", "date": date, "reason": str}``: a new planned date (Day 8/15 inside the
    effective window; Day 1 only later, as a recorded deviation, CONV-SCHED-1/3).
``cycle.extended`` (:data:`CYCLE_EXTENDED`)
    ``{"cycle": 1, "length_days": 22..28, "reason": "cr_cri" | "toxicity_recovery" | "other",
    "note": str}`` (SCHED-4; latest wins).
``response.recorded`` (:data:`RESPONSE_RECORDED`)
    ``{"cycle", "response": "cr" | "cri" | "neither" | "not_assessed",
    "mrd": "negative" | "positive" | "unknown", "assessed_on": date}``; ``cycle`` = the cycle
    during or after which it was assessed. Cycle *n* follows the latest response of cycles < *n*
    (DOSE-4).
``levels.confirmed`` (:data:`LEVELS_CONFIRMED`)
    ``{"cycle", "levels": {"1": str, "8": str | None, "15": str | None}, "basis": str,
    "row": "cr_cri" | "no_cr_cri" | None, "custom": bool, "unverified_rule"?: str}``: a
    prescriber's confirmation of a cycle's levels (CONV-RESP-4 row choice, CONV-MOD-1/2/3, or a
    CONV-MOD-5 split, which a pharmacist then verifies).
``proposal.decided`` (:data:`PROPOSAL_DECIDED`)
    ``{"proposal_id", "rule", "decision": "confirmed" | "declined", "reason": str,
    "role": "prescriber" | "pharmacist", "unverified_rule"?: str, "date"?: date}``. ``date`` is
    the chosen date of a date proposal (SCHED-7, CONV-SCHED-3, CONV-SCHED-7) or the
    discontinuation date of a confirmed discontinuation proposal.
``treatment.discontinued`` (:data:`TREATMENT_DISCONTINUED`)
    ``{"reason": "vod" | "severe_infusion_reaction" | "no_response_3_cycles" |
    "prescriber_decision" | "patient_choice" | "other", "note": str, "date": date}``.
``intake.hsct`` / ``intake.corrected`` (owned by ``core/intake.py``)
    ``{"plan": "planned" | "not_planned" | "undecided"}``; a correction
    ``{"corrects": version, "section": "hsct", "reason", "data": {"plan"}}`` replaces the data of
    the entry it names; the latest entry (by version) is the current plan.

Confirmed proposals that are decisions in themselves are applied by the fold: MOD-INT-2 omits the
dose; MOD-INT-3 / MOD-INT-4 reduce the target cycle onward; CYC-1 allows the 3rd HSCT cycle;
MOD-INT-5, MOD-INT-6, MOD-HEM-4 and CYC-3 discontinue treatment (no override, §16.1); a date
proposal sets the date its dose may be given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from .. import rules
from ..events import Event
from ..text import unsafe_message
from .events import (
    CYCLE_EXTENDED, CYCLE_STARTED, DOSE_GIVEN, DOSE_HELD, DOSE_MOVED, DOSE_OMITTED, DOSE_RECOVERED,
    INFUSION_STARTED_KIND, INTAKE_CORRECTED, INTAKE_HSCT, KINDS, LEVELS_CONFIRMED, PROPOSAL_DECIDED,
    RESPONSE_RECORDED, SCHEDULE_VOIDED, TREATMENT_DISCONTINUED,
)


# --- Vocabulary ----------------------------------------------------------------------------------

TOXICITIES = ("hematologic", "non_hematologic", "other")
RESPONSES = ("cr", "cri", "neither", "not_assessed")  # RESP-4
IN_CR_CRI = frozenset({"cr", "cri"})  # DOSE-4: CR and CRi alike
MRD_VALUES = ("negative", "positive", "unknown")  # RESP-4
EXTENSION_REASONS = ("cr_cri", "toxicity_recovery", "other")  # SCHED-4, CONV-SCHED-3
DISCONTINUE_REASONS = (
    "vod",
    "severe_infusion_reaction",
    "no_response_3_cycles",
    "prescriber_decision",
    "patient_choice",
    "other",
)
HSCT_PLANS = ("planned", "not_planned", "undecided")
ROWS = ("cr_cri", "no_cr_cri")  # DOSE-1 rows for cycle ≥ 2
DECISIONS = ("confirmed", "declined")
ROLES = ("prescriber", "pharmacist")

# Dose states.
PLANNED = "planned"
DUE_TODAY = "due_today"
IN_WINDOW = "in_window"
GIVEN = "given"
HELD = "held"
OMITTED = "omitted"
DELAYED = "delayed"
NOT_APPLICABLE = "not_applicable"
BLOCKED = "blocked"  # its window opened or passed inside another dose's toxicity hold (MOD-INT, CONV-MOD-4)
OVERDUE = "overdue"
STATES = (PLANNED, DUE_TODAY, IN_WINDOW, GIVEN, HELD, OMITTED, DELAYED, NOT_APPLICABLE, OVERDUE, BLOCKED)
RESOLVED_STATES = frozenset({GIVEN, OMITTED, NOT_APPLICABLE})

# Proposal scopes: what an undecided proposal blocks in check_give.
SCOPE_DOSE = "dose"  # its own dose
SCOPE_CYCLE = "cycle"  # every dose of its cycle
SCOPE_ALL = "all"  # every dose (a discontinuation question)
SCOPE_NONE = "none"  # nothing (cycle limits already block, or information)

DISCONTINUE_RULES = frozenset({"MOD-INT-5", "MOD-INT-6", "MOD-HEM-4", "CYC-3"})
LEVEL_RULES = frozenset({"CONV-RESP-4", "CONV-MOD-1", "CONV-MOD-2", "CONV-MOD-3"})
DATE_RULES = frozenset({"SCHED-7", "CONV-SCHED-3", "CONV-SCHED-7"})
TABLE4_DOSE_RULES = frozenset({"MOD-INT-1", "MOD-INT-2"})

_SPACING = timedelta(days=rules.MIN_DAYS_BETWEEN_DOSES)  # SCHED-3, CONV-SCHED-2


# --- Value types ---------------------------------------------------------------------------------


@frozen
class Window:
    """Dates a dose may be given, inclusive. ``end`` None: open-ended (a Day 1 delayed by a hold)."""

    start: date
    end: date | None

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and d >= self.start and (self.end is None or d <= self.end)

    def nearest(self, d: date) -> date:
        if d < self.start:
            return self.start
        if self.end is not None and d > self.end:
            return self.end
        return d

    @property
    def text(self) -> str:
        if self.end is None:
            return f"{self.start.isoformat()} or later"
        if self.end == self.start:
            return self.start.isoformat()
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@frozen
class Proposal:
    """Something a named role must confirm or decline (recorded as ``proposal.decided``)."""

    id: str
    rule: str
    text: str
    unverified: bool
    needs_role: str  # "prescriber" | "pharmacist"
    cycle: int | None = None
    day: int | None = None
    date: date | None = None  # the proposed date, for date proposals
    scope: str = SCOPE_NONE


@frozen
class CycleLimit:
    rule: str
    max_cycles: int
    text: str


@frozen
class Levels:
    """The levels (mg/m²) of one cycle: Table 1, or reduced (CONV-MOD-1/2/3), or None."""

    cycle: int
    levels: Mapping[int, Decimal | None]  # to give; None: cannot be computed (CONV-RESP-4) or dropped
    maximum: Mapping[int, Decimal | None]  # the highest allowed per day
    row: str | None  # "cycle1" | "cr_cri" | "no_cr_cri" | None (not assessed)
    basis: str
    reduced: bool = False
    two_doses: bool = False
    dropped: frozenset[int] = frozenset()
    needs_confirmation: bool = False
    confirmed: bool = False
    custom: bool = False
    unverified_rule: str | None = None


@frozen
class Dose:
    cycle: int
    day: int
    nominal: date  # Day 1: the planned Day 1 (SCHED-6); Day 8/15: Day 1 + 7/14
    planned: date  # nominal, or as moved or approved
    window: Window  # nominal: ± 2 days for Day 8/15 (SCHED-2); Day 1 none (CONV-SCHED-1)
    effective: Window | None  # where it may be given (SCHED-7); None: nowhere without approval, or not open
    earliest: date | None  # last dose given (or projected) + 6 days (SCHED-3)
    projected: bool  # True: an earlier dose is not yet given; windows are a projection
    state: str
    level: Decimal | None
    level_basis: str
    level_confirmed: bool = True  # False: a prescriber must confirm first (CONV-MOD-3, CONV-RESP-4)
    reduced: bool = False
    given_on: date | None = None
    given_by: str | None = None
    dose_mg: Decimal | None = None
    held_from: date | None = None  # planned date of the first hold (CONV-SCHED-5)
    hold_reason: str | None = None
    toxicity: str | None = None
    recovered_on: date | None = None
    interruption_days: int | None = None
    omit_reason: str | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return f"C{self.cycle} D{self.day}"

    @property
    def resolved(self) -> bool:
        return self.state in RESOLVED_STATES


@frozen
class Cycle:
    number: int
    day1: date  # actual if given, else planned
    day1_given: bool
    planned_length: int  # SCHED-4 / SCHED-5: 21 for cycle 1, 28 later
    extended_length: int | None  # SCHED-4: cycle 1 only, 22–28
    extension_reason: str | None
    extension_note: str
    end: date  # the day before the next Day 1 (actual or planned, SCHED-6)
    doses: tuple[Dose, ...]

    @property
    def length_planned(self) -> int:
        """The planned length with any extension (SCHED-6: next Day 1 = Day 1 + this)."""
        return self.extended_length or self.planned_length

    @property
    def length_days(self) -> int:
        """Day 1 to the end date inclusive (longer than planned when the next Day 1 is delayed)."""
        return (self.end - self.day1).days + 1


# --- Parsed facts ---------------------------------------------------------------------------------


@frozen
class _Given:
    on: date
    level: Decimal
    dose_mg: Decimal | None
    actor: str
    version: int


@frozen
class _Interruption:
    start: date  # planned date of the first hold (CONV-SCHED-5)
    reason: str
    toxicity: str
    recovered: date | None
    first_version: int

    def days(self, today: date) -> int:
        return max(0, ((self.recovered or today) - self.start).days)


@frozen
class _Response:
    cycle: int
    response: str
    mrd: str
    assessed_on: date
    version: int


@frozen
class _LevelsRecord:
    cycle: int
    levels: Mapping[int, Decimal | None]
    basis: str
    row: str | None
    custom: bool
    version: int


@frozen
class _Decision:
    proposal_id: str
    rule: str
    decision: str
    reason: str
    on: date | None
    version: int


@frozen
class _Facts:
    start: date | None = None
    given: Mapping[tuple[int, int], _Given] = field(factory=dict)
    interruptions: Mapping[tuple[int, int], _Interruption] = field(factory=dict)
    omitted: Mapping[tuple[int, int], str] = field(factory=dict)
    moved: Mapping[tuple[int, int], tuple[date, str, int]] = field(factory=dict)
    extension: tuple[int, str, str] | None = None
    responses: tuple[_Response, ...] = ()
    levels: Mapping[int, _LevelsRecord] = field(factory=dict)
    decisions: Mapping[str, _Decision] = field(factory=dict)
    discontinued: tuple[str, str, date | None] | None = None  # (reason, note, date)
    hsct_plan: str = "undecided"


@frozen
class Timeline:
    today: date
    started: bool
    cycles: tuple[Cycle, ...]
    current_cycle: int | None  # SCHED-8, derived
    current_day: int | None
    next_dose: Dose | None
    last_given: date | None
    cycles_given: int
    cycles_allowed: int
    cycles_remaining: int
    limits: tuple[CycleLimit, ...]
    hsct_plan: str
    discontinued: bool
    discontinued_reason: str | None
    discontinued_on: date | None
    proposals: tuple[Proposal, ...]
    status: str
    reduced_from_cycle: int | None
    two_doses_from_cycle: int | None
    facts: _Facts = field(repr=False)
    # MOD-NH-3, CONV-IRR-1: severe reactions still standing (read once here, for every path)
    severe_reactions: tuple = ()

    def cycle(self, number: int) -> Cycle | None:
        return next((c for c in self.cycles if c.number == number), None)

    def dose(self, cycle: int, day: int) -> Dose | None:
        c = self.cycle(cycle)
        return next((d for d in c.doses if d.day == day), None) if c else None

    def doses(self) -> tuple[Dose, ...]:
        return tuple(d for c in self.cycles for d in c.doses)

    def proposal(self, proposal_id: str) -> Proposal | None:
        return next((p for p in self.proposals if p.id == proposal_id), None)


# --- Parsing -------------------------------------------------------------------------------------


def _d(text: Any) -> date:
    return text if isinstance(text, date) else date.fromisoformat(str(text))


def _dec(text: Any) -> Decimal:
    return text if isinstance(text, Decimal) else Decimal(str(text))


def _key(data: Mapping[str, Any]) -> tuple[int, int]:
    return int(data["cycle"]), int(data["day"])


# --- Entries recorded in error ---------------------------------------------------------------------
#
# A schedule entry is never changed or deleted. One recorded in error is voided by a later event
# naming it, with who, when and why; the fold then skips it. Only the latest entry still in force
# can be voided (then the one before it, and so on), so what remains is always a state the checks
# once accepted. A dose recorded by starting its infusion is not voided here: its infusion record
# (started, stopped, observed) governs it.

VOIDABLE_KINDS = (
    CYCLE_STARTED, DOSE_GIVEN, DOSE_HELD, DOSE_RECOVERED, DOSE_OMITTED, DOSE_MOVED, CYCLE_EXTENDED,
    RESPONSE_RECORDED, LEVELS_CONFIRMED,
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
    return {int(e.data["voids"]) for e in events if e.kind == SCHEDULE_VOIDED}


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
    return next((e for e in sorted(events, key=lambda e: e.version, reverse=True) if e.kind in kinds and e.version not in voided), None)


def check_void(events: Sequence[Event], actor: str, role: str, reason: str, expected_version: int | None = None) -> dict[str, Any]:
    """``data`` voiding the latest entry, or ValueError saying why not and what to do instead.

    Who: the user who recorded it, or a prescriber (the schedule's clinical decisions are theirs)."""
    ev = latest_entry(events)
    if ev is None:
        raise ValueError("There is no schedule entry to enter in error.")
    what = describe_entry(ev)
    if expected_version is not None and ev.version != expected_version:
        raise ValueError(f"The latest entry changed while you were answering (now: {what}); look again before marking it.")
    if ev.kind in DECISION_KINDS:
        raise ValueError(f"The latest entry is a prescriber's decision ({what}); a decision is not entered in error "
                         "(CONV-OVR-1): correct the facts it rests on, or record a new decision.")
    if not reason or not reason.strip():
        raise ValueError("Reason: required (what was wrong with the entry).")
    if unsafe_message("Reason", reason):
        raise ValueError(unsafe_message("Reason", reason))
    if ev.kind == DOSE_GIVEN:
        tag = f"c{ev.data['cycle']}d{ev.data['day']}"
        if any(e.kind == INFUSION_STARTED_KIND and e.data.get("dose_id") == tag for e in events):
            raise ValueError(f"{what} was recorded by starting its infusion; its infusion record governs it "
                             "(stop the infusion in the monitor, t, with the reason).")
    if actor != ev.actor and role != "prescriber":
        raise ValueError(f"{what} was recorded by {ev.actor}: only {ev.actor} or a prescriber may enter it in error.")
    return {"voids": ev.version, "kind": ev.kind, "entry": what, "recorded_by": ev.actor, "reason": reason.strip()}


def voided_entries(events: Sequence[Event]) -> tuple[VoidedEntry, ...]:
    """Every entry recorded in error, newest first, for the timeline and the printed record."""
    return tuple(
        VoidedEntry(str(e.data.get("entry", "")), str(e.data.get("recorded_by", "")), e.actor, e.at, str(e.data.get("reason", "")))
        for e in sorted((e for e in events if e.kind == SCHEDULE_VOIDED), key=lambda e: e.version, reverse=True)
    )


def _parse(events: Sequence[Event]) -> _Facts:
    streams = {e.stream for e in events}
    if len(streams) > 1:
        raise ValueError(f"timeline() takes one patient stream, got {len(streams)}")
    start: date | None = None
    given: dict[tuple[int, int], _Given] = {}
    holds: dict[tuple[int, int], list[tuple[date, str, str, int]]] = {}
    recoveries: dict[tuple[int, int], list[tuple[date, int]]] = {}
    omitted: dict[tuple[int, int], str] = {}
    moved: dict[tuple[int, int], tuple[date, str, int]] = {}
    extension: tuple[int, str, str] | None = None
    responses: list[_Response] = []
    levels: dict[int, _LevelsRecord] = {}
    decisions: dict[str, _Decision] = {}
    discontinued: tuple[str, str, date | None] | None = None
    hsct: dict[int, str] = {}
    voided = voided_versions(events)
    for ev in sorted(events, key=lambda e: e.version):
        if ev.version in voided:
            continue
        k, data = ev.kind, ev.data
        if k == CYCLE_STARTED:
            if (1, 1) not in given:
                start = _d(data["day1"])
        elif k == DOSE_GIVEN:
            mg = data.get("dose_mg")
            given[_key(data)] = _Given(_d(data["date"]), _dec(data["level_mg_m2"]), _dec(mg) if mg not in (None, "") else None, ev.actor, ev.version)
        elif k == DOSE_HELD:
            holds.setdefault(_key(data), []).append((_d(data["planned_date"]), str(data.get("reason", "")), str(data.get("toxicity", "other")), ev.version))
        elif k == DOSE_RECOVERED:
            recoveries.setdefault(_key(data), []).append((_d(data["date"]), ev.version))
        elif k == DOSE_OMITTED:
            omitted[_key(data)] = str(data.get("reason", ""))
        elif k == DOSE_MOVED:
            moved[_key(data)] = (_d(data["date"]), str(data.get("reason", "")), ev.version)
        elif k == CYCLE_EXTENDED:
            extension = (int(data["length_days"]), str(data["reason"]), str(data.get("note", "")))
        elif k == RESPONSE_RECORDED:
            responses.append(_Response(int(data["cycle"]), str(data["response"]), str(data.get("mrd", "unknown")), _d(data["assessed_on"]), ev.version))
        elif k == LEVELS_CONFIRMED:
            raw = data["levels"]
            lv = {day: (None if raw.get(str(day)) in (None, "") else _dec(raw[str(day)])) for day in rules.DAYS}
            levels[int(data["cycle"])] = _LevelsRecord(int(data["cycle"]), MappingProxyType(lv), str(data.get("basis", "")), data.get("row"), bool(data.get("custom", False)), ev.version)
        elif k == PROPOSAL_DECIDED:
            on = data.get("date")
            decisions[str(data["proposal_id"])] = _Decision(str(data["proposal_id"]), str(data["rule"]), str(data["decision"]), str(data.get("reason", "")), _d(on) if on else None, ev.version)
        elif k == TREATMENT_DISCONTINUED:
            if discontinued is None:
                on = data.get("date")
                discontinued = (str(data["reason"]), str(data.get("note", "")), _d(on) if on else None)
        elif k == INTAKE_HSCT:
            hsct[ev.version] = str(data.get("plan", "undecided"))
        elif k == INTAKE_CORRECTED and (data.get("section") == "hsct" or data.get("corrects") in hsct):
            target = int(data["corrects"])
            if target in hsct:
                hsct[target] = str(data["data"].get("plan", "undecided"))
    interruptions: dict[tuple[int, int], _Interruption] = {}
    for key, hs in holds.items():
        first, last = hs[0], hs[-1]
        rec = [r for r in recoveries.get(key, []) if r[1] > last[3]]
        interruptions[key] = _Interruption(first[0], last[1], last[2], rec[-1][0] if rec else None, first[3])
    plan = hsct[max(hsct)] if hsct else "undecided"
    return _Facts(
        start,
        given,
        interruptions,
        omitted,
        moved,
        extension,
        tuple(responses),
        levels,
        decisions,
        discontinued,
        plan if plan in HSCT_PLANS else "undecided",
    )


def _latest_response(facts: _Facts, *, before_cycle: int | None = None, cycle: int | None = None) -> _Response | None:
    rs = [
        r
        for r in facts.responses
        if (before_cycle is None or r.cycle < before_cycle) and (cycle is None or r.cycle == cycle)
    ]
    return max(rs, key=lambda r: (r.assessed_on, r.version)) if rs else None


def _confirmed(facts: _Facts, proposal_id: str) -> _Decision | None:
    d = facts.decisions.get(proposal_id)
    return d if d is not None and d.decision == "confirmed" else None


def _fmt(level: Decimal | None) -> str:
    return "—" if level is None else format(level.normalize(), "f")


def _levels_text(levels: Mapping[int, Decimal | None]) -> str:
    return "/".join(_fmt(levels[d]) for d in rules.DAYS)


# --- Table 4 (UNVERIFIED, CONV-MOD-4) --------------------------------------------------------------


@frozen
class _Table4:
    proposals: tuple[Proposal, ...]
    reduce_from: int | None
    two_from: int | None
    omitted: Mapping[tuple[int, int], str]


def _table4(facts: _Facts, today: date) -> _Table4:
    """Proposals from each interruption, counted by CONV-SCHED-5; rows accumulate (§6.3)."""
    props: list[Proposal] = []
    reduce_from: int | None = None
    two_from: int | None = None
    omitted: dict[tuple[int, int], str] = {}
    for (c, d), it in sorted(facts.interruptions.items(), key=lambda kv: kv[1].first_version):
        n = it.days(today)
        tag = f"c{c}d{d}"
        resolved = (c, d) in facts.given or (c, d) in facts.omitted
        target = c if d == 1 else c + 1  # CONV-MOD-4: the cycle a held Day 1 starts, else the next
        counted = f"interruption of C{c} D{d}: {n} days from {it.start.isoformat()}" + (
            f" to recovery {it.recovered.isoformat()}" if it.recovered else " so far (not recovered)"
        )
        if it.recovered is not None:
            if n < rules.INTERRUPT_OMIT_DAYS and not resolved:
                earliest = it.recovered
                props.append(
                    Proposal(
                        f"MOD-INT-1:{tag}",
                        "MOD-INT-1",
                        f"Table 4 (UNVERIFIED): {counted} (< {rules.INTERRUPT_OMIT_DAYS}) → delay C{c} D{d} to "
                        f"{earliest.isoformat()} or later, keeping ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days between doses "
                        "(MOD-INT-1, CONV-SCHED-6).",
                        True,
                        "prescriber",
                        c,
                        d,
                        None,
                        SCOPE_DOSE,
                    )
                )
            elif n >= rules.INTERRUPT_OMIT_DAYS and d in rules.OMITTABLE_DAYS:
                pid = f"MOD-INT-2:{tag}"
                if _confirmed(facts, pid):
                    omitted[(c, d)] = "MOD-INT-2 (UNVERIFIED) omission confirmed by a prescriber"
                elif not resolved:
                    props.append(
                        Proposal(
                            pid,
                            "MOD-INT-2",
                            f"Table 4 (UNVERIFIED): {counted} (≥ {rules.INTERRUPT_OMIT_DAYS}) → omit C{c} D{d} "
                            "(MOD-INT-2; a Day 1 is delayed, never omitted, SCHED-6).",
                            True,
                            "prescriber",
                            c,
                            d,
                            None,
                            SCOPE_DOSE,
                        )
                    )
            if n >= rules.INTERRUPT_REDUCE_DAYS:
                if reduce_from is None:
                    rule, what, scope = "MOD-INT-3", (
                        f"cut each dose by 25% from cycle {target} (CONV-MOD-1: 0.8 → 0.6, 0.5 → 0.375 mg/m²)"
                    ), SCOPE_CYCLE
                elif two_from is None:
                    rule, what, scope = "MOD-INT-4", (
                        f"after the 25% cut, 2 doses per cycle from cycle {target} (CONV-MOD-2: Day "
                        f"{rules.TWO_DOSES_DROPPED_DAY} dropped)"
                    ), SCOPE_CYCLE
                else:
                    rule, what, scope = "MOD-INT-5", (
                        "the 25% cut and 2 doses per cycle were not tolerated → permanently discontinue "
                        "(once confirmed, no override)"
                    ), SCOPE_ALL
                pid = f"{rule}:{tag}"
                dec = facts.decisions.get(pid)
                if dec is None:
                    props.append(
                        Proposal(
                            pid,
                            rule,
                            f"Table 4 (UNVERIFIED): {counted} (≥ {rules.INTERRUPT_REDUCE_DAYS}) → {what} ({rule}).",
                            True,
                            "prescriber",
                            target if scope == SCOPE_CYCLE else c,
                            None if scope == SCOPE_CYCLE else d,
                            None,
                            scope,
                        )
                    )
                elif dec.decision == "confirmed":
                    if rule == "MOD-INT-3":
                        reduce_from = target
                    elif rule == "MOD-INT-4":
                        two_from = target
        if n > rules.INTERRUPT_DISCONTINUE_AFTER_DAYS:
            rows = [("MOD-INT-6", "Table 4 (UNVERIFIED, MOD-INT-6)")]
            if it.toxicity == "hematologic" and d in rules.HEMATOLOGIC_HOLD_DAYS:
                rows.append(("MOD-HEM-4", "Table 2 (UNVERIFIED, MOD-HEM-4, CONV-HEM-4): if suspected BESPONSA-related,"))
            for rule, source in rows:
                pid = f"{rule}:{tag}"
                dec = facts.decisions.get(pid)
                if dec is None:
                    props.append(
                        Proposal(
                            pid,
                            rule,
                            f"{source} {counted} (> {rules.INTERRUPT_DISCONTINUE_AFTER_DAYS}) → consider permanent "
                            "discontinuation (prescriber decides; recorded).",
                            True,
                            "prescriber",
                            c,
                            d,
                            None,
                            SCOPE_ALL,
                        )
                    )
    return _Table4(tuple(props), reduce_from, two_from, omitted)


# --- Levels (DOSE-1, DOSE-4, CONV-MOD-1/2/3/5, CONV-RESP-4) -----------------------------------------


def _table_row(facts: _Facts, n: int, chosen_row: str | None) -> tuple[str | None, Mapping[int, Decimal] | None, str]:
    if n == 1:
        return "cycle1", rules.LEVELS_CYCLE1, "DOSE-1: cycle 1"
    resp = _latest_response(facts, before_cycle=n)
    if resp is not None and resp.response in IN_CR_CRI:
        return "cr_cri", rules.LEVELS_CR_CRI, (
            f"DOSE-1/DOSE-4: cycle {n}, in {resp.response.upper()} (response of cycle {resp.cycle}, "
            f"{resp.assessed_on.isoformat()})"
        )
    if resp is not None and resp.response == "neither":
        return "no_cr_cri", rules.LEVELS_NO_CR, (
            f"DOSE-1/DOSE-4: cycle {n}, not in CR/CRi (response of cycle {resp.cycle}, {resp.assessed_on.isoformat()})"
        )
    if chosen_row in ROWS:
        table = rules.LEVELS_CR_CRI if chosen_row == "cr_cri" else rules.LEVELS_NO_CR
        return chosen_row, table, f"DOSE-1, CONV-RESP-4: response not assessed; prescriber chose the {chosen_row} row"
    return None, None, (
        f"CONV-RESP-4: cycle {n} response not assessed; no level until a response is recorded or a "
        "prescriber picks the Table 1 row"
    )


def _compute_levels(facts: _Facts, n: int, reduce_from: int | None, two_from: int | None, *, use_record: bool = True) -> Levels:
    rec = facts.levels.get(n) if use_record else None
    row, table, basis = _table_row(facts, n, rec.row if rec else None)
    none = MappingProxyType({d: None for d in rules.DAYS})
    if table is None:
        return Levels(n, none, none, None, basis, needs_confirmation=True)
    maximum: dict[int, Decimal | None] = dict(table)
    reduced = reduce_from is not None and n >= reduce_from
    two = two_from is not None and n >= two_from
    unverified: str | None = None
    if reduced:
        unverified = "MOD-INT-3"
        maximum = {d: rules.REDUCED_LEVEL[table[d]] for d in rules.DAYS}
        basis += "; MOD-INT-3 (UNVERIFIED) 25% cut confirmed: each dose × 0.75 (CONV-MOD-1)"
        capped = []
        for d in rules.DAYS:  # CONV-MOD-3: no day above the level last given on that day
            last = [g for (c, day), g in facts.given.items() if day == d and reduce_from <= c < n]  # type: ignore[operator]
            if last:
                top = max(last, key=lambda g: g.version).level
                if maximum[d] is not None and top < maximum[d]:  # type: ignore[operator]
                    maximum[d] = top
                    capped.append(f"D{d} ≤ {_fmt(top)}")
        if capped:
            basis += f"; never raised after a reduction (MOD-GEN-3, CONV-MOD-3): {', '.join(capped)}"
    dropped: set[int] = set()
    if two:
        unverified = "MOD-INT-4"
        maximum[rules.TWO_DOSES_DROPPED_DAY] = None
        dropped.add(rules.TWO_DOSES_DROPPED_DAY)
        basis += f"; MOD-INT-4 (UNVERIFIED) 2 doses per cycle: Day {rules.TWO_DOSES_DROPPED_DAY} dropped (CONV-MOD-2)"
    if not reduced:
        # Non-reduced cycles use Table 1 as it stands; a record only chooses the row (CONV-RESP-4).
        return Levels(n, MappingProxyType(dict(maximum)), MappingProxyType(dict(maximum)), row, basis,
                      confirmed=rec is not None, unverified_rule=None)
    if rec is None:
        return Levels(n, MappingProxyType(dict(maximum)), MappingProxyType(dict(maximum)), row,
                      basis + "; a prescriber confirms this cycle's levels (CONV-MOD-3)", True, two,
                      frozenset(dropped), True, False, False, unverified)
    levels: dict[int, Decimal | None] = {}
    stale = False
    for d in rules.DAYS:
        mine, top = rec.levels[d], maximum[d]
        if mine is None or top is None:
            levels[d] = None
            if mine is None:
                dropped.add(d)
        else:
            levels[d] = min(mine, top)
            stale = stale or mine > top
    basis += f"; confirmed by a prescriber: {_levels_text(rec.levels)} ({rec.basis})"
    if stale:
        basis += "; capped since: confirm again"
    return Levels(n, MappingProxyType(levels), MappingProxyType(dict(maximum)), row, basis, True, two,
                  frozenset(dropped), stale, not stale, rec.custom, unverified)


def levels_for(tl: Timeline, cycle: int) -> Levels:
    """The levels of ``cycle``: Table 1 for its response, or the reduced ones (CONV-MOD-1/2/3).

    Never above Table 1 for the cycle and response (DOSE-1, DOSE-4), never raised after a
    reduction (MOD-GEN-3, CONV-MOD-3); levels are None where they cannot be computed (CONV-RESP-4).
    """
    if isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < 1:
        raise ValueError(f"cycle must be an integer ≥ 1, got {cycle!r}")
    return _compute_levels(tl.facts, cycle, tl.reduced_from_cycle, tl.two_doses_from_cycle)


# --- Cycle limits (CYC-1 to CYC-4, CONV-RESP-3, CONV-CYC-1) ----------------------------------------


def _third_cycle(facts: _Facts) -> tuple[bool, str]:
    """CYC-1 / CONV-RESP-3: may a 3rd cycle be considered on the HSCT path?"""
    r = _latest_response(facts, cycle=rules.HSCT_CYCLES)
    if r is None or r.response == "not_assessed":
        return False, f"record the response after cycle {rules.HSCT_CYCLES} first"
    if r.response not in IN_CR_CRI:
        return True, f"not in CR/CRi after cycle {rules.HSCT_CYCLES}"
    if r.mrd == "positive":
        return True, f"in {r.response.upper()} but MRD-positive after cycle {rules.HSCT_CYCLES}"
    if r.mrd == "unknown":
        return True, (
            f"in {r.response.upper()} with MRD unknown after cycle {rules.HSCT_CYCLES}: record MRD first; a "
            "prescriber may proceed with a reason"
        )
    return False, f"in MRD-negative {r.response.upper()} after cycle {rules.HSCT_CYCLES}: no 3rd cycle"


def _limits(facts: _Facts) -> tuple[CycleLimit, ...]:
    out: list[CycleLimit] = []
    plan = facts.hsct_plan
    if plan == "planned":
        may, why = _third_cycle(facts)
        if may and _confirmed(facts, f"CYC-1:c{rules.HSCT_MAX_CYCLES_WITH_THIRD}"):
            out.append(CycleLimit("CYC-1", rules.HSCT_MAX_CYCLES_WITH_THIRD,
                                  f"HSCT planned: a 3rd cycle confirmed ({why}; CONV-RESP-3); no 4th cycle"))
        else:
            extra = "; a 3rd may be considered (prescriber, CONV-RESP-3)" if may else f" ({why})"
            out.append(CycleLimit("CYC-1", rules.HSCT_CYCLES, f"HSCT planned: {rules.HSCT_CYCLES} cycles{extra}"))
    else:
        out.append(CycleLimit("CYC-2", rules.NON_HSCT_MAX_CYCLES, f"not going to HSCT: at most {rules.NON_HSCT_MAX_CYCLES} cycles"))
        if plan != "not_planned":
            out.append(CycleLimit("CONV-CYC-1", rules.HSCT_DECISION_AFTER_CYCLES,
                                  f"HSCT plan undecided: record the decision before cycle {rules.HSCT_DECISION_AFTER_CYCLES + 1}"))
    if not any(r.response in IN_CR_CRI and r.cycle <= rules.NO_RESPONSE_STOP_CYCLES for r in facts.responses):
        out.append(CycleLimit("CYC-3", rules.NO_RESPONSE_STOP_CYCLES,
                              f"no CR/CRi recorded: discontinue if none within {rules.NO_RESPONSE_STOP_CYCLES} cycles"))
    return tuple(out)


def _cycle_proposals(facts: _Facts, cycles_given: int) -> list[Proposal]:
    out: list[Proposal] = []
    third = rules.HSCT_CYCLES + 1
    if cycles_given == rules.HSCT_CYCLES and (third, 1) not in facts.given:
        if facts.hsct_plan == "planned":
            may, why = _third_cycle(facts)
            if may:
                out.append(Proposal(f"CYC-1:c{third}", "CYC-1",
                                    f"HSCT planned, {why}: a 3rd cycle may be considered (CYC-1, CONV-RESP-3); "
                                    "never automatic; no 4th cycle.", False, "prescriber", third, None, None, SCOPE_NONE))
        elif facts.hsct_plan == "undecided" and cycles_given >= rules.HSCT_DECISION_AFTER_CYCLES:
            out.append(Proposal(f"CONV-CYC-1:c{third}", "CONV-CYC-1",
                                f"HSCT plan undecided after cycle {cycles_given}: record the HSCT decision before "
                                f"scheduling cycle {third} (CONV-CYC-1; HSCT {rules.HSCT_CYCLES} cycles, otherwise "
                                f"at most {rules.NON_HSCT_MAX_CYCLES}).", False, "prescriber", third, None, None, SCOPE_NONE))
    stop = rules.NO_RESPONSE_STOP_CYCLES
    if cycles_given >= stop and not any(r.response in IN_CR_CRI and r.cycle <= stop for r in facts.responses):
        assessed = [r for r in facts.responses if r.cycle >= stop and r.response != "not_assessed"]
        if assessed:
            out.append(Proposal("CYC-3", "CYC-3",
                                f"No CR/CRi within {stop} cycles → discontinue (CYC-3, CONV-RESP-2; no override): "
                                "a prescriber records the discontinuation.", False, "prescriber", None, None, None, SCOPE_NONE))
    return out


# --- The fold ----------------------------------------------------------------------------------------


def _approved(facts: _Facts, rule_names: Sequence[str], c: int, d: int) -> date | None:
    best: _Decision | None = None
    for rule in rule_names:
        prefix = f"{rule}:c{c}d{d}:"
        for pid, dec in facts.decisions.items():
            if pid.startswith(prefix) and dec.decision == "confirmed" and (best is None or dec.version > best.version):
                best = dec
    if best is None:
        return None
    return best.on or date.fromisoformat(best.proposal_id.rsplit(":", 1)[1])


def _state(today: date, planned: date, eff: Window) -> str:
    if today < eff.start:
        return PLANNED
    if eff.end is not None and today > eff.end:
        return OVERDUE
    return DUE_TODAY if today == planned else IN_WINDOW


def timeline(events: Sequence[Event], today: date, roles: Mapping[str, str] | None = None) -> Timeline:
    """Fold one patient stream into its cycle timeline as of the local date ``today``.

    ``roles`` (user name → role) says whose grade corrections may lift a severe reaction's block
    (CONV-IRR-1: a prescriber's); without it none does."""
    facts = _parse(events)
    t4 = _table4(facts, today)
    if t4.omitted:
        facts = _Facts(facts.start, facts.given, facts.interruptions, {**t4.omitted, **facts.omitted}, facts.moved,
                       facts.extension, facts.responses, facts.levels, facts.decisions, facts.discontinued, facts.hsct_plan)
    cycles_given = sum(1 for (c, d) in facts.given if d == 1)
    limits = _limits(facts)
    disc_reason: str | None = None
    disc_on: date | None = None
    if facts.discontinued is not None:
        disc_reason = facts.discontinued[0] + (f": {facts.discontinued[1]}" if facts.discontinued[1] else "")
        disc_on = facts.discontinued[2]
    else:
        stop = next((x for x in sorted(facts.decisions.values(), key=lambda x: x.version)
                     if x.decision == "confirmed" and x.rule in DISCONTINUE_RULES), None)
        if stop is not None:
            disc_reason, disc_on = f"{stop.rule} confirmed by a prescriber: {stop.reason}", stop.on
    discontinued = disc_reason is not None
    allowed = min(lim.max_cycles for lim in limits)
    if discontinued:
        allowed = cycles_given
        limits = (*limits, CycleLimit("discontinued", cycles_given, f"treatment discontinued ({disc_reason})"))
    proposals: list[Proposal] = [] if discontinued else [*t4.proposals, *_cycle_proposals(facts, cycles_given)]

    cycles: list[Cycle] = []
    last_given: date | None = None
    proj_last: date | None = None
    all_resolved = True
    n = 1
    next_day1 = facts.start
    while next_day1 is not None:
        if n > 1 and ((n, 1) not in facts.given and (discontinued or n > allowed)):
            break
        lv = _compute_levels(facts, n, t4.reduce_from, t4.two_from)
        base_length = rules.CYCLE1_DAYS if n == 1 else rules.LATER_CYCLE_DAYS  # SCHED-4, SCHED-5
        ext_len: int | None = None
        ext_reason: str | None = None
        ext_note = ""
        if n == rules.EXTENDABLE_CYCLE and facts.extension is not None:
            ext_len, ext_reason, ext_note = facts.extension
        length = ext_len or base_length
        doses: list[Dose] = []
        day1 = next_day1
        for d in rules.DAYS:
            key = (n, d)
            g = facts.given.get(key)
            it = facts.interruptions.get(key)
            if d == 1:
                nominal = next_day1
                window = Window(nominal, nominal)
            else:
                nominal = day1 + timedelta(days=d - 1)
                window = Window(nominal - timedelta(days=rules.WINDOW_DAYS), nominal + timedelta(days=rules.WINDOW_DAYS))
            earliest = proj_last + _SPACING if proj_last else None
            projected = not all_resolved
            level = lv.levels[d]
            reduced = lv.reduced
            common: dict[str, Any] = dict(
                cycle=n, day=d, nominal=nominal, window=window, earliest=earliest, projected=projected,
                level=level, level_basis=lv.basis, level_confirmed=not lv.needs_confirmation, reduced=reduced,
            )
            if it is not None:
                common.update(held_from=it.start, hold_reason=it.reason, toxicity=it.toxicity,
                              recovered_on=it.recovered, interruption_days=it.days(today))
            if g is not None:
                common.update(level=g.level, level_basis=f"given at {_fmt(g.level)} mg/m²", level_confirmed=True,
                              reduced=g.level < _row_level(lv.row, d) if lv.row else lv.reduced)
                dose = Dose(planned=g.on, effective=None, state=GIVEN, given_on=g.on, given_by=g.actor,
                            dose_mg=g.dose_mg, **common)
                last_given = g.on if last_given is None or g.on > last_given else last_given
                proj_last = max(proj_last, g.on) if proj_last else g.on
                if d == 1:
                    day1 = g.on
            elif discontinued:
                dose = Dose(planned=nominal, effective=None, state=NOT_APPLICABLE,
                            note=f"treatment discontinued ({disc_reason})", **common)
            elif n > allowed:
                binding = "; ".join(f"{lim.rule}: {lim.text}" for lim in limits if lim.max_cycles == allowed)
                dose = Dose(planned=nominal, effective=None, state=NOT_APPLICABLE,
                            note=f"cycle {n} is above the {allowed} cycles now allowed ({binding})", **common)
            elif d in lv.dropped:
                common.update(level=None)
                dose = Dose(planned=nominal, effective=None, state=NOT_APPLICABLE,
                            note="2 doses per cycle (MOD-INT-4, CONV-MOD-2)" if d == rules.TWO_DOSES_DROPPED_DAY and lv.two_doses
                            else "dropped by the prescriber's reduced split (CONV-MOD-5)", **common)
            elif key in facts.omitted:
                dose = Dose(planned=nominal, effective=None, state=OMITTED, omit_reason=facts.omitted[key], **common)
            elif it is None and (cover := _covering_hold(facts, n, d, nominal, window, today)) is not None and (
                    d in rules.OMITTABLE_DAYS and _confirmed(facts, f"MOD-INT-2:c{n}d{d}")):
                dose = Dose(planned=nominal, effective=None, state=OMITTED, omit_reason=(
                    f"MOD-INT-2 (UNVERIFIED) omission confirmed by a prescriber: its window passed inside the hold of "
                    f"C{cover[0][0]} D{cover[0][1]}"), **common)
            else:
                cover = None if it is not None else _covering_hold(facts, n, d, nominal, window, today)
                if cover is not None:
                    dose, new_props = _inside_hold(facts, today, n, d, nominal, window, earliest, projected, cover, common)
                else:
                    dose, new_props = _open_dose(facts, today, n, d, nominal, window, earliest, projected, it, common, ext_len)
                proposals.extend(new_props)
                all_resolved = False
                proj = dose.effective.start if dose.effective else max(dose.planned, earliest or dose.planned)
                proj_last = max(proj_last, proj) if proj_last else proj
                if d == 1:
                    day1 = dose.effective.start if dose.effective else dose.planned
            doses.append(dose)
        # level confirmations for this cycle (CONV-RESP-4, CONV-MOD-1/2/3, CONV-MOD-5)
        open_doses = [x for x in doses if not x.resolved]
        if open_doses and not open_doses[0].projected and not discontinued:
            proposals.extend(_level_proposals(facts, lv, n, t4.reduce_from))
        c1 = day1
        cycles.append(Cycle(n, c1, (n, 1) in facts.given, base_length, ext_len, ext_reason, ext_note, c1, tuple(doses)))
        if (n, 1) not in facts.given:
            break
        next_day1 = c1 + timedelta(days=length)
        n += 1

    # cycle ends: the day before the next Day 1 (actual or planned, SCHED-6)
    fixed: list[Cycle] = []
    for i, cy in enumerate(cycles):
        end = (cycles[i + 1].day1 - timedelta(days=1)) if i + 1 < len(cycles) else cy.day1 + timedelta(days=cy.length_planned - 1)
        fixed.append(Cycle(cy.number, cy.day1, cy.day1_given, cy.planned_length, cy.extended_length,
                           cy.extension_reason, cy.extension_note, end, cy.doses))
    cycles = fixed

    decided = set(facts.decisions)
    proposals = [p for p in proposals if p.id not in decided]
    from ..eligibility import severe_reactions  # the monitor's facts (core/infusion.py imports this module's peers)

    standing = severe_reactions(events, roles)
    severe = () if discontinued else standing
    # MOD-NH-3, CONV-IRR-1: a severe reaction blocks every dose until a prescriber records the
    # permanent discontinuation; it cannot be declined (check_decide), only the grade corrected.
    proposals[:0] = [Proposal(f"CONV-IRR-1:{r.dose_id}:{r.number}", "CONV-IRR-1", f"{r.text} {r.next_step}", False,
                              "prescriber", None, None, None, SCOPE_ALL) for r in severe]
    current_cycle = current_day = None
    for cy in cycles:
        if cy.day1_given and cy.day1 <= today:
            current_cycle, current_day = cy.number, (today - cy.day1).days + 1
    nxt = None if discontinued else next((x for cy in cycles for x in cy.doses if not x.resolved), None)
    status = _status(facts, cycles, nxt, discontinued, disc_reason, cycles_given, allowed, limits)
    if severe:
        status = f"No further dose: {severe[0].text} {severe[0].next_step}"
    return Timeline(
        today=today,
        started=facts.start is not None,
        cycles=tuple(cycles),
        current_cycle=current_cycle,
        current_day=current_day,
        next_dose=nxt,
        last_given=last_given,
        cycles_given=cycles_given,
        cycles_allowed=allowed,
        cycles_remaining=max(0, allowed - cycles_given),
        limits=limits,
        hsct_plan=facts.hsct_plan,
        discontinued=discontinued,
        discontinued_reason=disc_reason,
        discontinued_on=disc_on,
        proposals=tuple(proposals),
        status=status,
        reduced_from_cycle=t4.reduce_from,
        two_doses_from_cycle=t4.two_from,
        facts=facts,
        severe_reactions=standing,
    )


def _row_level(row: str | None, day: int) -> Decimal:
    table = {"cycle1": rules.LEVELS_CYCLE1, "cr_cri": rules.LEVELS_CR_CRI, "no_cr_cri": rules.LEVELS_NO_CR}.get(row or "")
    return table[day] if table else max(rules.ALLOWED_LEVELS)


def _open_dose(
    facts: _Facts,
    today: date,
    n: int,
    d: int,
    nominal: date,
    window: Window,
    earliest: date | None,
    projected: bool,
    it: _Interruption | None,
    common: dict[str, Any],
    ext_len: int | None,
) -> tuple[Dose, list[Proposal]]:
    """A dose not yet given, omitted or dropped: its planned date, effective window and state."""
    props: list[Proposal] = []
    tag = f"c{n}d{d}"
    if it is not None and it.recovered is None:
        return Dose(planned=it.start, effective=None, state=HELD,
                    note=f"held from {it.start.isoformat()}: {it.reason} ({it.toxicity})", **common), props
    if it is not None:
        # CONV-SCHED-6: a delayed dose may be given from the recovery date, spacing kept.
        start = max(x for x in (it.recovered, earliest, window.start) if x is not None)
        end = None if d == 1 else max(start, window.end)  # type: ignore[type-var]
        eff = Window(start, end)
        note = (f"delayed by a hold from {it.start.isoformat()}, recovered {it.recovered.isoformat()} "
                f"(CONV-SCHED-5/6); may be given {eff.text}")
        state = DELAYED
        if end is not None and today > end:
            state = OVERDUE
            # Toxicity, not CONV-SCHED-7, decides a dose held past its window: only once its Table 4
            # proposal (MOD-INT-1/2) is decided is a later miss a non-toxicity one (issue 15).
            if not projected and _table4_decided(facts, tag):
                props.append(_sched7_overdue(n, d, end, earliest, today))
        return Dose(planned=start, effective=eff, state=state, note=note, **common), props
    moved = facts.moved.get((n, d))
    if d == 1:
        approved = _approved(facts, ("CONV-SCHED-3",), n, d)
        candidates = [x for x in (moved[0] if moved else None, approved) if x is not None]
        planned = max([nominal, *candidates])
        if earliest is not None and planned < earliest:
            if not projected:
                props.append(_sched3(facts, n, planned, earliest, ext_len))
            return Dose(planned=planned, effective=None, state=DELAYED,
                        note=f"planned {planned.isoformat()} is < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
                             f"(SCHED-3, CONV-SCHED-3): earliest {earliest.isoformat()}, needs a prescriber",
                        **common), props
        eff = Window(planned, planned)
        state = _state(today, planned, eff)
        note = "Day 1 has no window (CONV-SCHED-1)"
        if state == OVERDUE:
            note += "; overdue: record a hold or a recorded delay (CONV-SCHED-3)"
        return Dose(planned=planned, effective=eff, state=state, note=note, **common), props
    approved = _approved(facts, ("SCHED-7", "CONV-SCHED-7"), n, d)
    planned = moved[0] if moved else nominal
    note = "± 2 days (SCHED-2), ≥ 6 days after the last dose (SCHED-3, SCHED-7)"
    if approved is not None:
        planned = approved
        eff = Window(approved, approved) if earliest is None or approved >= earliest else None
        note = f"moved to {approved.isoformat()} by a prescriber (SCHED-7 / CONV-SCHED-7)"
    else:
        start = max(window.start, earliest) if earliest else window.start
        eff = Window(start, window.end) if window.end is not None and start <= window.end else None
    if eff is None:
        assert earliest is not None
        if not projected:
            props.append(Proposal(
                f"SCHED-7:{tag}:{earliest.isoformat()}", "SCHED-7",
                f"C{n} D{d}: no date in its window {window.text} is ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days after the last "
                f"dose; earliest spacing-compliant date {earliest.isoformat()} (SCHED-7, CONV-SCHED-6): confirm it, "
                "or omit the dose.", False, "prescriber", n, d, earliest, SCOPE_DOSE))
        return Dose(planned=planned, effective=None, state=DELAYED,
                    note=f"window empty after spacing (SCHED-7): earliest {earliest.isoformat()}, needs a prescriber",
                    **common), props
    state = _state(today, planned, eff)
    if state == OVERDUE and not projected:
        props.append(_sched7_overdue(n, d, eff.end, earliest, today))  # type: ignore[arg-type]
    return Dose(planned=planned, effective=eff, state=state, note=note, **common), props


def _table4_decided(facts: _Facts, tag: str) -> bool:
    return any(f"{rule}:{tag}" in facts.decisions for rule in TABLE4_DOSE_RULES)


def _covering_hold(facts: _Facts, n: int, d: int, nominal: date, window: Window,
                   today: date) -> tuple[tuple[int, int], _Interruption] | None:
    """The toxicity hold of an earlier dose inside which this dose's window opened or passed (its
    planned date, for a Day 1, which has no window): (that dose, its interruption), or None.

    MOD-INT / CONV-MOD-4: Table 4 decides every such dose; none is ever silently due."""
    opens = nominal if d == 1 else window.start
    found = None
    for key, it in facts.interruptions.items():
        # The recovery date itself is after the hold: a dose may be given on it (CONV-SCHED-6).
        inside = opens < it.recovered if it.recovered is not None else opens <= today
        if key < (n, d) and it.start <= opens and inside:
            if found is None or it.start < found[1].start:
                found = (key, it)
    return found


def _inside_hold(facts: _Facts, today: date, n: int, d: int, nominal: date, window: Window, earliest: date | None,
                 projected: bool, cover: tuple[tuple[int, int], _Interruption], common: dict[str, Any]) -> tuple[Dose, list[Proposal]]:
    """A dose whose window opened or passed during another dose's toxicity hold (MOD-INT, CONV-MOD-4).

    While the hold is open it is BLOCKED (never due). After recovery its own interruption is counted
    from its planned date to the recovery date (CONV-SCHED-5) and Table 4 (UNVERIFIED) proposes, for a
    prescriber to confirm or decline: < 7 days, delay it to the recovery date or later, spacing kept
    (MOD-INT-1, CONV-SCHED-6); ≥ 7 days, omit it (MOD-INT-2; a Day 1 is delayed, never omitted:
    SCHED-6). Until decided the proposal blocks it; a declined omission lets it be given from the
    recovery date (CONV-SCHED-6), spacing kept."""
    (hc, hd), it = cover
    tag = f"c{n}d{d}"
    held = f"C{hc} D{hd}"
    if it.recovered is None:
        return Dose(planned=nominal, effective=None, state=BLOCKED,
                    note=(f"its window opened during the toxicity hold of {held} (from {it.start.isoformat()}: "
                          f"{it.reason}); Table 4 decides it when the hold ends (MOD-INT, UNVERIFIED, CONV-MOD-4): "
                          "record the recovery of " + held), **common), []
    count = max(0, (it.recovered - nominal).days)  # CONV-SCHED-5: from this dose's planned date
    counted = (f"C{n} D{d} planned {nominal.isoformat()} fell inside the hold of {held} "
               f"({it.start.isoformat()} to recovery {it.recovered.isoformat()}): {count} days")
    props: list[Proposal] = []
    if d in rules.OMITTABLE_DAYS and count >= rules.INTERRUPT_OMIT_DAYS:
        rule = "MOD-INT-2"
        text = (f"Table 4 (UNVERIFIED): {counted} (≥ {rules.INTERRUPT_OMIT_DAYS}) → omit C{n} D{d} (MOD-INT-2, CONV-MOD-4); "
                "a prescriber confirms or declines.")
    else:
        rule = "MOD-INT-1"
        limit = "" if d == 1 else f" (< {rules.INTERRUPT_OMIT_DAYS})"
        text = (f"Table 4 (UNVERIFIED): {counted}{limit} → delay C{n} D{d} to {it.recovered.isoformat()} or later, "
                f"keeping ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days between doses (MOD-INT-1, CONV-SCHED-6"
                + ("; a Day 1 is delayed, never omitted, SCHED-6" if d == 1 else "") + "); a prescriber confirms or declines.")
    pid = f"{rule}:{tag}"
    # A Day 1 delayed ≥ 7 days is delayed, as a held Day 1 itself is (SCHED-6, CONV-MOD-4): no dose
    # row applies; the hold's own ≥ 14 / > 28-day rows (MOD-INT-3 to 6) come from the held dose.
    decided = pid in facts.decisions or (d == 1 and count >= rules.INTERRUPT_OMIT_DAYS)
    # A Day 8/15's row is known at recovery, whatever is still open before it (decided together); a
    # Day 1's waits for the cycle before it to be resolved (its date may move by SCHED-4 first, M3).
    if not decided and (d != 1 or not projected):
        props.append(Proposal(pid, rule, text, True, "prescriber", n, d, None, SCOPE_DOSE))
    start = max(x for x in (it.recovered, earliest, window.start if d != 1 else nominal) if x is not None)
    end = None if d == 1 else max(start, window.end)  # type: ignore[type-var]
    eff = Window(start, end)
    if not decided:
        return Dose(planned=start, effective=eff, state=DELAYED,
                    note=f"{counted}: waiting for the prescriber's decision on {pid} (UNVERIFIED, d decides)", **common), props
    state = DELAYED if today < start else (OVERDUE if end is not None and today > end else IN_WINDOW)
    if state == OVERDUE and not projected:
        props.append(_sched7_overdue(n, d, end, earliest, today))  # type: ignore[arg-type]
    return Dose(planned=start, effective=eff, state=state,
                note=f"{counted}; {pid} decided by a prescriber: may be given {eff.text} (CONV-SCHED-6)", **common), props


def _sched7_overdue(n: int, d: int, missed: date, earliest: date | None, today: date) -> Proposal:
    when = max(today, earliest) if earliest else today
    return Proposal(
        f"CONV-SCHED-7:c{n}d{d}:{missed.isoformat()}", "CONV-SCHED-7",
        f"C{n} D{d} was not given by {missed.isoformat()}: omit it (record an omission), or give it later on "
        f"{when.isoformat()} or after, keeping ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days between doses (CONV-SCHED-7; "
        "no default; later nominal dates do not move).", False, "prescriber", n, d, when, SCOPE_NONE)


def _sched3(facts: _Facts, n: int, planned: date, earliest: date, ext_len: int | None) -> Proposal:
    text = (f"Planned C{n} D1 {planned.isoformat()} is < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
            f"(SCHED-3, CONV-SCHED-3). Earliest spacing-compliant C{n} D1: {earliest.isoformat()}.")
    if n == rules.EXTENDABLE_CYCLE + 1 and facts.start is not None:
        c1 = facts.given[(1, 1)].on if (1, 1) in facts.given else facts.start
        need = (earliest - c1).days
        if need <= rules.CYCLE1_MAX_DAYS:
            text += (f" Extend cycle 1 to {need}–{rules.CYCLE1_MAX_DAYS} days with its reason (SCHED-4): C2 D1 "
                     f"{earliest.isoformat()} to {(c1 + timedelta(days=rules.CYCLE1_MAX_DAYS)).isoformat()}.")
        else:
            text += " Beyond the 28-day extension: the delay is recorded with its cause (CONV-SCHED-3)."
    return Proposal(f"CONV-SCHED-3:c{n}d1:{earliest.isoformat()}", "CONV-SCHED-3", text, False, "prescriber",
                    n, 1, earliest, SCOPE_DOSE)


def _level_proposals(facts: _Facts, lv: Levels, n: int, reduce_from: int | None) -> list[Proposal]:
    out: list[Proposal] = []
    if lv.needs_confirmation:
        if lv.row is None:
            rule, text, unverified = "CONV-RESP-4", (
                f"Cycle {n}: response not assessed. Record the response, or choose the Table 1 row explicitly "
                f"(CR/CRi {_levels_text(rules.LEVELS_CR_CRI)}, not CR/CRi {_levels_text(rules.LEVELS_NO_CR)} mg/m²)."
            ), False
        else:
            rule = "CONV-MOD-2" if lv.two_doses else ("CONV-MOD-1" if n == reduce_from else "CONV-MOD-3")
            text = (f"Cycle {n} levels after the toxicity reduction: proposed {_levels_text(lv.maximum)} mg/m² "
                    f"({lv.basis}). A prescriber confirms them, or enters another split (CONV-MOD-5).")
            unverified = True
        out.append(Proposal(f"{rule}:c{n}", rule, text, unverified, "prescriber", n, None, None, SCOPE_CYCLE))
    rec = facts.levels.get(n)
    if rec is not None and rec.custom and lv.reduced:
        pid = f"CONV-MOD-5:c{n}:v{rec.version}"
        if not _confirmed(facts, pid):
            out.append(Proposal(pid, "CONV-MOD-5",
                                f"Cycle {n}: custom reduced split {_levels_text(rec.levels)} mg/m² ({rec.basis}): "
                                "a pharmacist verifies it (CONV-MOD-5).", False, "pharmacist", n, None, None, SCOPE_CYCLE))
    return out


def _status(facts: _Facts, cycles: list[Cycle], nxt: Dose | None, discontinued: bool, reason: str | None,
            given: int, allowed: int, limits: tuple[CycleLimit, ...]) -> str:
    if facts.start is None:
        return "Not started: choose the cycle 1 start date."
    if discontinued:
        return f"Treatment discontinued ({reason})."
    if nxt is not None:
        return f"Next: {nxt.label} ({nxt.state.replace('_', ' ')})."
    binding = [lim for lim in limits if lim.max_cycles == allowed]
    why = "; ".join(f"{lim.rule}: {lim.text}" for lim in binding)
    return f"No further cycle: {given} of {allowed} allowed given ({why})."


# --- Decision helpers ------------------------------------------------------------------------------


def _need_started(tl: Timeline) -> None:
    if not tl.started:
        raise ValueError("Treatment not started: record the cycle 1 start date first (cycle.started).")


def _need_active(tl: Timeline) -> None:
    _need_started(tl)
    if tl.discontinued:
        raise ValueError(f"Treatment is discontinued ({tl.discontinued_reason}); no dose can be scheduled or given (§16.1).")


def _need_dose(tl: Timeline, cycle: int, day: int) -> Dose:
    if isinstance(day, bool) or day not in rules.DAYS:
        raise ValueError(f"day must be one of {', '.join(map(str, rules.DAYS))} (SCHED-1), got {day!r}")
    dose = tl.dose(cycle, day)
    if dose is None:
        if isinstance(cycle, int) and cycle > tl.cycles_allowed:
            binding = "; ".join(f"{lim.rule}: {lim.text}" for lim in tl.limits if lim.max_cycles == tl.cycles_allowed)
            raise ValueError(f"Cycle {cycle} is not allowed: {tl.cycles_allowed} cycles at most ({binding}).")
        raise ValueError(f"C{cycle} D{day} is not scheduled yet (a cycle starts when its Day 1 is given, SCHED-6).")
    return dose


def _need_open(dose: Dose) -> None:
    if dose.state == GIVEN:
        raise ValueError(f"{dose.label} was already given on {dose.given_on}.")
    if dose.state == OMITTED:
        raise ValueError(f"{dose.label} was omitted ({dose.omit_reason}).")
    if dose.state == NOT_APPLICABLE:
        raise ValueError(f"{dose.label} does not apply: {dose.note}.")


def _text(value: str, what: str) -> str:
    refused = unsafe_message(what, value)  # C0/C1, DEL, bidi controls are refused, not dropped (core/text.py)
    if refused:
        raise ValueError(refused)
    clean = "".join(ch for ch in str(value or "") if ch == " " or ch.isprintable()).strip()
    if not clean:
        raise ValueError(f"{what} is required.")
    return clean


def _blocking(tl: Timeline, dose: Dose) -> list[Proposal]:
    out = []
    for p in tl.proposals:
        if (p.scope == SCOPE_ALL
                or (p.scope == SCOPE_CYCLE and p.cycle == dose.cycle)
                or (p.scope == SCOPE_DOSE and (p.cycle, p.day) == (dose.cycle, dose.day))):
            out.append(p)
    return out


def _earlier_open(tl: Timeline, dose: Dose) -> list[Dose]:
    out = []
    for x in tl.doses():
        if (x.cycle, x.day) >= (dose.cycle, dose.day):
            break
        if not x.resolved:
            out.append(x)
    return out


def check_start(tl: Timeline, day1: date) -> dict[str, Any]:
    """``cycle.started``: choose (or move) the cycle 1 start date, until C1 D1 is given."""
    if tl.discontinued:
        raise ValueError(f"Treatment is discontinued ({tl.discontinued_reason}).")
    if not isinstance(day1, date):
        raise ValueError("day1 must be a date.")
    if (1, 1) in tl.facts.given:
        raise ValueError(f"C1 D1 was given on {tl.facts.given[(1, 1)].on}; cycle 1 has started (SCHED-6).")
    return {"cycle": 1, "day1": day1.isoformat()}


def check_give(tl: Timeline, cycle: int, day: int, on_date: date, level_mg_m2: Decimal | str, dose_mg: Decimal | str) -> dict[str, Any]:
    """``dose.given``: refuse after discontinuation, out of order, against the spacing or window
    rules (SCHED-2/3/7, CONV-SCHED-1/3), with an undecided blocking proposal, or at a level other
    than the allowed one (DOSE-1, DOSE-6, MOD-GEN-3, CONV-MOD-3, CONV-RESP-4)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    if not isinstance(on_date, date):
        raise ValueError("on_date must be a date.")
    if on_date > tl.today:
        raise ValueError(f"{dose.label}: {on_date} is in the future (today is {tl.today}); record a dose when it is given.")
    if dose.state == HELD:
        raise ValueError(f"{dose.label} is held since {dose.held_from} ({dose.hold_reason}); record recovery first "
                         "(MOD-GEN-2, Table 2/3).")
    if dose.state == BLOCKED:
        raise ValueError(f"{dose.label} is blocked: {dose.note}.")
    before = _earlier_open(tl, dose)
    if before:
        names = ", ".join(f"{x.label} ({x.state})" for x in before)
        raise ValueError(f"{dose.label}: earlier doses are not given or omitted: {names}. Resolve them first "
                         "(SCHED-6, CONV-SCHED-7).")
    if tl.last_given is not None and on_date < tl.last_given + _SPACING:
        raise ValueError(f"{dose.label} on {on_date}: < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
                         f"({tl.last_given}) (SCHED-3, CONV-SCHED-2/3); earliest {tl.last_given + _SPACING}.")
    if dose.effective is None:
        rule = "SCHED-3, CONV-SCHED-3" if day == 1 else "SCHED-7"
        raise ValueError(f"{dose.label}: no allowed date in its window ({rule}); earliest spacing-compliant date "
                         f"{dose.earliest}, which a prescriber must confirm.")
    if on_date not in dose.effective:
        rule = "CONV-SCHED-1 (Day 1 has no window)" if day == 1 else "SCHED-2, SCHED-7 (effective window)"
        raise ValueError(f"{dose.label} on {on_date} is outside {dose.effective.text} ({rule}); nearest allowed date "
                         f"{dose.effective.nearest(on_date)}.")
    blocks = _blocking(tl, dose)
    severe = next((p for p in blocks if p.rule == "CONV-IRR-1"), None)
    if severe is not None:
        raise ValueError(f"{dose.label}: no further dose. {severe.text}")
    if blocks:
        names = "; ".join(f"{p.id} ({p.needs_role}" + (f", proposed date {p.date}" if p.date else "") + ")" for p in blocks)
        raise ValueError(f"{dose.label}: waiting for a decision: {names}.")
    if dose.level is None:
        raise ValueError(f"{dose.label}: no level can be computed: {dose.level_basis}.")
    if not dose.level_confirmed:
        raise ValueError(f"{dose.label}: a prescriber must confirm cycle {cycle}'s levels first ({dose.level_basis}).")
    try:
        lv = _dec(level_mg_m2)
        mg = _dec(dose_mg)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{dose.label}: level and dose must be decimal numbers.") from exc
    if lv != dose.level:
        direction = "above" if lv > dose.level else "below"
        raise ValueError(f"{dose.label}: level {_fmt(lv)} mg/m² is {direction} the allowed {_fmt(dose.level)} mg/m² "
                         f"({dose.level_basis}; DOSE-6, MOD-GEN-3).")
    if not mg.is_finite() or mg <= 0:
        raise ValueError(f"{dose.label}: dose_mg must be a positive number of mg.")
    return {"cycle": cycle, "day": day, "date": on_date.isoformat(), "level_mg_m2": _fmt(dose.level), "dose_mg": format(mg, "f")}


def check_hold(tl: Timeline, cycle: int, day: int, reason: str, toxicity: str) -> dict[str, Any]:
    """``dose.held``: a Day 8/15 is never held for counts (MOD-GEN-1); planned date from the timeline."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    if dose.state == HELD:
        raise ValueError(f"{dose.label} is already held since {dose.held_from}.")
    if toxicity not in TOXICITIES:
        raise ValueError(f"toxicity must be one of {', '.join(TOXICITIES)}.")
    if toxicity == "hematologic" and day not in rules.HEMATOLOGIC_HOLD_DAYS:
        raise ValueError(f"{dose.label}: doses within a cycle are not held for neutropenia or thrombocytopenia "
                         "(MOD-GEN-1, MOD-HEM-6); Table 2 applies at Day 1 only.")
    planned = dose.held_from or dose.planned
    return {"cycle": cycle, "day": day, "planned_date": planned.isoformat(), "reason": _text(reason, "A hold reason"),
            "toxicity": toxicity}


def check_recover(tl: Timeline, cycle: int, day: int, on_date: date) -> dict[str, Any]:
    """``dose.recovered``: the recovery date (CONV-SCHED-5 counts to it)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    if dose.state != HELD:
        raise ValueError(f"{dose.label} is not held.")
    if not isinstance(on_date, date) or on_date > tl.today:
        raise ValueError(f"{dose.label}: the recovery date must be a date not after today ({tl.today}).")
    return {"cycle": cycle, "day": day, "date": on_date.isoformat()}


def check_omit(tl: Timeline, cycle: int, day: int, reason: str) -> dict[str, Any]:
    """``dose.omitted``: Day 8/15 only (a Day 1 is delayed, never omitted: SCHED-6, MOD-INT-2)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    if day not in rules.OMITTABLE_DAYS:
        raise ValueError(f"{dose.label}: a Day 1 is delayed, never omitted (SCHED-6, MOD-INT-2, CONV-MOD-4).")
    return {"cycle": cycle, "day": day, "reason": _text(reason, "An omission reason")}


def check_move(tl: Timeline, cycle: int, day: int, new_date: date, reason: str) -> dict[str, Any]:
    """``dose.moved``: Day 8/15 within the effective window (SCHED-2, SCHED-3, SCHED-7); a Day 1
    only later than planned, as a recorded delay (CONV-SCHED-1, CONV-SCHED-3)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    if not isinstance(new_date, date):
        raise ValueError("new_date must be a date.")
    if dose.state == HELD:
        raise ValueError(f"{dose.label} is held; it is delayed by the hold until recovery is recorded (CONV-SCHED-5).")
    why = _text(reason, "A reason for the move")
    if new_date < tl.today:
        raise ValueError(f"{dose.label}: {new_date} is in the past (today {tl.today}); nearest allowed date {tl.today} or later.")
    earliest = tl.last_given + _SPACING if tl.last_given else None
    if earliest is not None and new_date < earliest:
        raise ValueError(f"{dose.label} on {new_date}: < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
                         f"({tl.last_given}) (SCHED-3); nearest allowed date {earliest}.")
    if day == 1:
        if cycle == 1:
            raise ValueError("C1 D1 is the start date: record a new cycle 1 start (check_start) instead.")
        floor = max(dose.nominal, earliest) if earliest else dose.nominal
        if new_date < floor:
            raise ValueError(f"{dose.label}: Day 1 has no window and cannot come earlier than {floor} "
                             f"(CONV-SCHED-1, SCHED-3); nearest allowed date {floor}.")
        if cycle == rules.EXTENDABLE_CYCLE + 1:
            c1 = tl.cycle(rules.EXTENDABLE_CYCLE)
            assert c1 is not None
            last_ext = c1.day1 + timedelta(days=rules.CYCLE1_MAX_DAYS)
            if new_date <= last_ext:
                length = (new_date - c1.day1).days
                raise ValueError(f"C2 D1 on {new_date} is a cycle 1 of {length} days: extend cycle 1 instead "
                                 f"(SCHED-4, check_extend length {length}, with its reason).")
        return {"cycle": cycle, "day": day, "date": new_date.isoformat(), "reason": why}
    if dose.effective is None:
        raise ValueError(f"{dose.label}: no date in its window is allowed (SCHED-7); the earliest compliant date "
                         f"{dose.earliest} needs a prescriber's confirmation.")
    if new_date not in dose.effective:
        raise ValueError(f"{dose.label} on {new_date} is outside its effective window {dose.effective.text} "
                         f"(SCHED-2, SCHED-7); nearest allowed date {dose.effective.nearest(new_date)}.")
    return {"cycle": cycle, "day": day, "date": new_date.isoformat(), "reason": why}


def check_extend(tl: Timeline, length_days: int, reason: str, note: str = "") -> dict[str, Any]:
    """``cycle.extended``: cycle 1 only, 22–28 days (SCHED-4), keeping C2 D1 ≥ 6 days after the last dose."""
    _need_active(tl)
    lo, hi = rules.CYCLE1_MIN_EXTENDED_DAYS, rules.CYCLE1_MAX_DAYS
    if isinstance(length_days, bool) or not isinstance(length_days, int) or not lo <= length_days <= hi:
        raise ValueError(f"Cycle 1 may be extended to {lo}–{hi} days (SCHED-4), got {length_days!r}.")
    if reason not in EXTENSION_REASONS:
        raise ValueError(f"Extension reason must be one of {', '.join(EXTENSION_REASONS)} (SCHED-4).")
    if (rules.EXTENDABLE_CYCLE + 1, 1) in tl.facts.given:
        raise ValueError("C2 D1 was given: cycle 1 is over and only cycle 1 may be extended (SCHED-4, SCHED-5).")
    if unsafe_message("Note", note):
        raise ValueError(unsafe_message("Note", note))
    clean_note = "".join(ch for ch in str(note or "") if ch == " " or ch.isprintable()).strip()
    if reason == "other" and not clean_note:
        raise ValueError("Neither label reason applies: the prescriber records why (CONV-SCHED-3).")
    if reason == "cr_cri" and not any(r.response in IN_CR_CRI for r in tl.facts.responses):
        raise ValueError("No CR/CRi is recorded: record the response, or give toxicity recovery (or another reason) "
                         "for the extension (SCHED-4).")
    c1 = tl.cycle(1)
    assert c1 is not None
    c2 = c1.day1 + timedelta(days=length_days)
    if tl.last_given is not None and c2 < tl.last_given + _SPACING:
        need = (tl.last_given + _SPACING - c1.day1).days
        if need > hi:
            raise ValueError(f"C2 D1 must be ≥ {tl.last_given + _SPACING} (SCHED-3), beyond the {hi}-day extension: "
                             "record the delay with its cause (CONV-SCHED-3).")
        raise ValueError(f"A {length_days}-day cycle 1 puts C2 D1 on {c2}, < {rules.MIN_DAYS_BETWEEN_DOSES} days after "
                         f"the last dose ({tl.last_given}) (SCHED-3, CONV-SCHED-3); nearest allowed: {need} days "
                         f"(C2 D1 {tl.last_given + _SPACING}).")
    return {"cycle": rules.EXTENDABLE_CYCLE, "length_days": length_days, "reason": reason, "note": clean_note}


def check_response(tl: Timeline, cycle: int, response: str, mrd: str, assessed_on: date) -> dict[str, Any]:
    """``response.recorded`` (RESP-4) for a cycle that has started."""
    _need_started(tl)
    if response not in RESPONSES:
        raise ValueError(f"response must be one of {', '.join(RESPONSES)} (RESP-4).")
    if mrd not in MRD_VALUES:
        raise ValueError(f"MRD must be one of {', '.join(MRD_VALUES)} (RESP-3, RESP-4).")
    cy = tl.cycle(cycle) if isinstance(cycle, int) else None
    if cy is None or not cy.day1_given:
        raise ValueError(f"Cycle {cycle} has not started (its Day 1 is not given).")
    if not isinstance(assessed_on, date) or assessed_on < cy.day1 or assessed_on > tl.today:
        raise ValueError(f"The assessment date must be between {cy.day1} (C{cycle} D1) and today ({tl.today}).")
    return {"cycle": cycle, "response": response, "mrd": mrd, "assessed_on": assessed_on.isoformat()}


def check_levels(tl: Timeline, cycle: int, levels: Mapping[int, Decimal | str | None], basis: str, row: str | None = None) -> dict[str, Any]:
    """``levels.confirmed``: a prescriber's levels for a cycle. Non-reduced cycles are Table 1 as it
    stands (a row chosen only when the response is not assessed, CONV-RESP-4); reduced cycles may be
    lower, never higher (CONV-MOD-1/2/3/5); a custom split is verified by a pharmacist."""
    _need_active(tl)
    why = _text(basis, "A basis (reason)")
    cy = tl.cycle(cycle) if isinstance(cycle, int) else None
    if cy is None:
        raise ValueError(f"Cycle {cycle} is not scheduled.")
    if all(x.resolved for x in cy.doses):
        raise ValueError(f"Cycle {cycle} has no dose left to give.")
    if row is not None and row not in ROWS:
        raise ValueError(f"row must be one of {', '.join(ROWS)} (DOSE-1).")
    base = _compute_levels(tl.facts, cycle, tl.reduced_from_cycle, tl.two_doses_from_cycle, use_record=False)
    if base.row is None:
        if row is None:
            raise ValueError(f"Cycle {cycle}: response not assessed: choose the Table 1 row (CONV-RESP-4).")
        base = _compute_levels(
            _with_row(tl.facts, cycle, row), cycle, tl.reduced_from_cycle, tl.two_doses_from_cycle)
    elif row is not None and row != base.row and cycle > 1:
        raise ValueError(f"Cycle {cycle}: the row follows the latest response ({base.row}) (DOSE-4).")
    wanted: dict[int, Decimal | None] = {}
    for d in rules.DAYS:
        raw = levels.get(d, levels.get(str(d)))  # type: ignore[call-overload]
        try:
            wanted[d] = None if raw in (None, "") else _dec(raw)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"Day {d}: level must be a decimal number.") from exc
    custom = False
    if not base.reduced:
        for d in rules.DAYS:
            if wanted[d] != base.maximum[d]:
                raise ValueError(f"Cycle {cycle} Day {d}: {_fmt(wanted[d])} ≠ Table 1 {_fmt(base.maximum[d])} mg/m²; "
                                 "a lower level needs a toxicity reduction (MOD-INT-3, CONV-MOD-1; DOSE-6).")
    else:
        if wanted[1] is None:
            raise ValueError(f"Cycle {cycle}: a Day 1 is never omitted (SCHED-6).")
        for d in rules.DAYS:
            w, top = wanted[d], base.maximum[d]
            if w is None:
                continue
            if top is None:
                raise ValueError(f"Cycle {cycle} Day {d}: dropped by 2 doses per cycle (MOD-INT-4, CONV-MOD-2).")
            if not w.is_finite() or w <= 0:
                raise ValueError(f"Cycle {cycle} Day {d}: level must be positive.")
            if w > top:
                raise ValueError(f"Cycle {cycle} Day {d}: {_fmt(w)} mg/m² is above the allowed {_fmt(top)} mg/m² "
                                 "(CONV-MOD-1, CONV-MOD-3, MOD-GEN-3).")
            custom = custom or w not in rules.ALLOWED_LEVELS
        count = sum(1 for w in wanted.values() if w is not None)
        if base.two_doses and count > rules.TWO_DOSES_MAX_DOSES:
            raise ValueError(f"Cycle {cycle}: at most {rules.TWO_DOSES_MAX_DOSES} doses per cycle (MOD-INT-4, CONV-MOD-5).")
        total = sum((w for w in wanted.values() if w is not None), Decimal(0))
        top_total = sum((t for t in base.maximum.values() if t is not None), Decimal(0))
        if total > top_total:
            raise ValueError(f"Cycle {cycle}: total {_fmt(total)} mg/m² is above the reduced total {_fmt(top_total)} "
                             "mg/m² (CONV-MOD-5).")
    data: dict[str, Any] = {
        "cycle": cycle,
        "levels": {str(d): (None if wanted[d] is None else _fmt(wanted[d])) for d in rules.DAYS},
        "basis": why,
        "row": base.row if base.row in ROWS else None,
        "custom": custom,
    }
    if base.unverified_rule:
        data["unverified_rule"] = base.unverified_rule
    return data


def _with_row(facts: _Facts, cycle: int, row: str) -> _Facts:
    levels = dict(facts.levels)
    levels[cycle] = _LevelsRecord(cycle, MappingProxyType({d: None for d in rules.DAYS}), "", row, False, -1)
    return _Facts(facts.start, facts.given, facts.interruptions, facts.omitted, facts.moved, facts.extension,
                  facts.responses, levels, facts.decisions, facts.discontinued, facts.hsct_plan)


def check_decide(tl: Timeline, proposal_id: str, decision: str, reason: str, role: str, on_date: date | None = None) -> dict[str, Any]:
    """``proposal.decided``: the named role confirms or declines an open proposal, with a reason."""
    _need_started(tl)
    p = tl.proposal(proposal_id)
    if p is None:
        raise ValueError(f"No open proposal {proposal_id!r}.")
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}.")
    if role != p.needs_role:
        raise ValueError(f"{p.id} needs a {p.needs_role} (CONV-OVR-1, §16.1); a {role} cannot decide it.")
    why = _text(reason, "A reason for the decision")
    if p.rule in LEVEL_RULES:
        raise ValueError(f"{p.id}: confirm the levels themselves (levels.confirmed, check_levels) or record the response.")
    if p.rule == "CONV-CYC-1":
        raise ValueError(f"{p.id}: record the HSCT decision (intake HSCT plan) instead (CONV-CYC-1).")
    if p.rule == "CONV-IRR-1":
        raise ValueError(f"{p.id}: a severe infusion reaction is not a proposal to decline: a prescriber records the "
                         "permanent discontinuation (D), or corrects the grade on the monitor with a reason (MOD-NH-3, CONV-IRR-1).")
    data: dict[str, Any] = {"proposal_id": p.id, "rule": p.rule, "decision": decision, "reason": why, "role": role}
    if p.unverified:
        data["unverified_rule"] = p.rule
    if p.rule in DATE_RULES and decision == "confirmed":
        chosen = on_date or p.date
        assert p.date is not None and chosen is not None
        if chosen < p.date:
            raise ValueError(f"{p.id}: {chosen} is before the earliest compliant date {p.date} (SCHED-3); nearest "
                             f"allowed date {p.date}.")
        if p.rule == "CONV-SCHED-3" and p.cycle == rules.EXTENDABLE_CYCLE + 1:
            c1 = tl.cycle(rules.EXTENDABLE_CYCLE)
            assert c1 is not None
            length = (chosen - c1.day1).days
            if length <= rules.CYCLE1_MAX_DAYS:
                raise ValueError(f"{p.id}: C2 D1 on {chosen} makes cycle 1 {length} days: record the extension with "
                                 f"its reason instead (SCHED-4, check_extend length {length}).")
        data["date"] = chosen.isoformat()
    elif p.rule in DISCONTINUE_RULES and decision == "confirmed":
        data["date"] = (on_date or tl.today).isoformat()
    elif on_date is not None:
        raise ValueError(f"{p.id}: a date only goes with a date proposal or a discontinuation.")
    return data


def check_discontinue(tl: Timeline, reason: str, note: str, on_date: date) -> dict[str, Any]:
    """``treatment.discontinued``: permanent; no override (§16.1)."""
    _need_started(tl)
    if tl.discontinued:
        raise ValueError(f"Treatment is already discontinued ({tl.discontinued_reason}).")
    if reason not in DISCONTINUE_REASONS:
        raise ValueError(f"reason must be one of {', '.join(DISCONTINUE_REASONS)}.")
    if unsafe_message("Note", note):
        raise ValueError(unsafe_message("Note", note))
    clean = "".join(ch for ch in str(note or "") if ch == " " or ch.isprintable()).strip()
    if reason == "other" and not clean:
        raise ValueError("A discontinuation for another reason needs a note.")
    if not isinstance(on_date, date) or on_date > tl.today:
        raise ValueError(f"The discontinuation date must be a date not after today ({tl.today}).")
    return {"reason": reason, "note": clean, "date": on_date.isoformat()}

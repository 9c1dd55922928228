"""The timeline screen's commands, each with its one decision (core/commands.py).

Every decision reads the actor's role from the users log (``actor``; core/schedule/access.py
holds the rules), folds the patient's timeline from the state (the projection), and runs the
schedule's pure check, whose ValueError becomes the refusal: a screen sends only what its user
chose. Dates are the site's local calendar dates (CONV-TIME-1)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from attrs import frozen

from ..commands import Actor, Command, Decision, Refusal, State, decider, refusal_from, refuse, refused_unless
from ..events import Payload
from ..intake import PATIENT_PREFIX
from . import checks, prescriber_checks
from .access import access, dose_amount
from .events import (
    CycleExtended,
    CycleStarted,
    DoseGiven,
    DoseHeld,
    DoseMoved,
    DoseOmitted,
    DoseRecovered,
    LevelsConfirmed,
    ProposalDecided,
    ResponseRecorded,
    ScheduleVoided,
    TreatmentDiscontinued,
)
from .levels import levels_for
from .model import Timeline
from .voids import check_void


@frozen
class ScheduleCommand(Command):
    """Base of the timeline's commands: one patient's stream (not a command itself)."""

    pid: str

    @property
    def stream(self) -> str:  # type: ignore[override]
        return PATIENT_PREFIX + self.pid


def _refusal(state: State, cmd: ScheduleCommand, actor: Actor, action: str, what: str) -> Refusal | None:
    """The actor may take ``action`` on an existing patient (access.py's rule), or why not."""
    may = access(action, actor)
    if not may.allowed:
        return refuse(f"{what}: {may.why}")
    if cmd.pid not in state.patients:
        return refuse(f"{what}: no patient {cmd.pid!r}.")
    return None


def _decide(
    state: State, cmd: ScheduleCommand, actor: Actor, action: str, what: str, build: Callable[[Timeline], Payload]
) -> Decision:
    """The role and patient checks, then the pure check on the patient's timeline as it stands."""
    refused = _refusal(state, cmd, actor, action, what)
    if refused:
        return refused
    tl = state.view(cmd.pid).timeline
    return refused_unless(lambda: [build(tl)])


# -- b: start cycle 1 -------------------------------------------------------------------------------


@frozen
class StartCycle(ScheduleCommand):
    """Timeline, b: choose (or move) the cycle 1 start date, until C1 D1 is given (SCHED-6)."""

    day1: date
    emits = (CycleStarted,)


@decider(StartCycle)
def decide_start(state: State, cmd: StartCycle, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state, cmd, actor, "start", "Start cycle 1", lambda tl: CycleStarted.from_data(checks.check_start(tl, cmd.day1))
    )


# -- g: a dose given (documented elsewhere; normally recorded by starting the infusion) -------------


@frozen
class RecordDoseGiven(ScheduleCommand):
    """Timeline, g: record a dose given on a date, at its allowed level and the dose in mg core shows (SCHED-2/3/7, DOSE-6)."""

    cycle: int
    day: int
    on_date: date
    emits = (DoseGiven,)


@decider(RecordDoseGiven)
def decide_given(state: State, cmd: RecordDoseGiven, now: datetime, actor: Actor) -> Decision:
    refused = _refusal(state, cmd, actor, "give", f"C{cmd.cycle} D{cmd.day}")
    if refused:
        return refused
    view = state.view(cmd.pid)
    tl = view.timeline
    try:
        checks._need_active(tl)
        dose = checks._need_dose(tl, cmd.cycle, cmd.day)
    except ValueError as exc:
        return refusal_from(exc)
    amount = dose_amount(view, dose)
    if amount.mg is None:
        return refuse(f"{dose.label}: {amount.text}.")
    return refused_unless(
        lambda: [DoseGiven.from_data(checks.check_give(tl, cmd.cycle, cmd.day, cmd.on_date, dose.level, amount.mg))]
    )  # type: ignore[arg-type]


# -- h, y: hold and recovery ------------------------------------------------------------------------


@frozen
class HoldDose(ScheduleCommand):
    """Timeline, h: hold a dose with its reason and cause (a Day 8/15 is never held for counts, MOD-GEN-1)."""

    cycle: int
    day: int
    reason: str
    toxicity: str
    emits = (DoseHeld,)


@decider(HoldDose)
def decide_hold(state: State, cmd: HoldDose, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "hold",
        f"Hold C{cmd.cycle} D{cmd.day}",
        lambda tl: DoseHeld.from_data(checks.check_hold(tl, cmd.cycle, cmd.day, cmd.reason, cmd.toxicity)),
    )


@frozen
class RecordRecovery(ScheduleCommand):
    """Timeline, y: record the recovery date of a held dose (CONV-SCHED-5 counts to it)."""

    cycle: int
    day: int
    on_date: date
    emits = (DoseRecovered,)


@decider(RecordRecovery)
def decide_recovery(state: State, cmd: RecordRecovery, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "recover",
        f"Recovery of C{cmd.cycle} D{cmd.day}",
        lambda tl: DoseRecovered.from_data(checks.check_recover(tl, cmd.cycle, cmd.day, cmd.on_date)),
    )


# -- m, o, x: move, omit, extend ---------------------------------------------------------------------


@frozen
class MoveDose(ScheduleCommand):
    """Timeline, m: move a dose to a new date with a reason (inside its effective window; a Day 1 only later, CONV-SCHED-1/3)."""

    cycle: int
    day: int
    new_date: date
    reason: str
    emits = (DoseMoved,)


@decider(MoveDose)
def decide_move(state: State, cmd: MoveDose, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "move",
        f"Move C{cmd.cycle} D{cmd.day}",
        lambda tl: DoseMoved.from_data(checks.check_move(tl, cmd.cycle, cmd.day, cmd.new_date, cmd.reason)),
    )


@frozen
class OmitDose(ScheduleCommand):
    """Timeline, o: omit a Day 8 or 15 with a reason (a Day 1 is delayed, never omitted: SCHED-6)."""

    cycle: int
    day: int
    reason: str
    emits = (DoseOmitted,)


@decider(OmitDose)
def decide_omit(state: State, cmd: OmitDose, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "omit",
        f"Omit C{cmd.cycle} D{cmd.day}",
        lambda tl: DoseOmitted.from_data(checks.check_omit(tl, cmd.cycle, cmd.day, cmd.reason)),
    )


@frozen
class ExtendCycle(ScheduleCommand):
    """Timeline, x: extend cycle 1 to 22–28 days with its reason (SCHED-4, CONV-SCHED-3)."""

    length_days: int
    reason: str
    note: str = ""
    emits = (CycleExtended,)


@decider(ExtendCycle)
def decide_extend(state: State, cmd: ExtendCycle, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "extend",
        "Extend cycle 1",
        lambda tl: CycleExtended.from_data(checks.check_extend(tl, cmd.length_days, cmd.reason, cmd.note)),
    )


# -- R: the response ---------------------------------------------------------------------------------


@frozen
class RecordResponse(ScheduleCommand):
    """Timeline, R: record the response at the end of a cycle, with MRD and the assessment date (RESP-4)."""

    cycle: int
    response: str
    mrd: str
    assessed_on: date
    emits = (ResponseRecorded,)


@decider(RecordResponse)
def decide_response(state: State, cmd: RecordResponse, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "response",
        "Response",
        lambda tl: ResponseRecorded.from_data(checks.check_response(tl, cmd.cycle, cmd.response, cmd.mrd, cmd.assessed_on)),
    )


# -- d, L, D: the prescriber's decisions ------------------------------------------------------------


@frozen
class DecideProposal(ScheduleCommand):
    """Timeline, d: confirm or decline an open proposal with a reason.

    Only its named role may (a prescriber; a pharmacist verifies a CONV-MOD-5 split; CONV-OVR-1)."""

    proposal_id: str
    decision: str
    reason: str
    on_date: date | None = None
    emits = (ProposalDecided,)


@decider(DecideProposal)
def decide_proposal(state: State, cmd: DecideProposal, now: datetime, actor: Actor) -> Decision:
    if not actor.known:
        return refuse(f"Proposal {cmd.proposal_id}: '{actor.username}' is not an active user.", "CONV-OVR-1")
    if cmd.pid not in state.patients:
        return refuse(f"Proposal {cmd.proposal_id}: no patient {cmd.pid!r}.")
    tl = state.view(cmd.pid).timeline  # the role must be the proposal's (check_decide, CONV-OVR-1)
    return refused_unless(
        lambda: [
            ProposalDecided.from_data(
                prescriber_checks.check_decide(tl, cmd.proposal_id, cmd.decision, cmd.reason, actor.role, cmd.on_date)
            )
        ]
    )  # type: ignore[arg-type]


@frozen
class ConfirmLevels(ScheduleCommand):
    """Timeline, L: a prescriber confirms a cycle's levels (CONV-MOD-3).

    The proposed levels, or a Table 1 row when the response is not assessed (CONV-RESP-4)."""

    cycle: int
    basis: str
    row: str | None = None
    levels: Mapping[int, Any] | None = None  # a custom reduced split (CONV-MOD-5); None: the proposed levels
    emits = (LevelsConfirmed,)


def _levels_wanted(tl: Timeline, cmd: ConfirmLevels) -> Mapping[int, Any]:
    if cmd.levels is not None:
        return cmd.levels
    if cmd.row is not None:
        return prescriber_checks.proposed_levels(tl, cmd.cycle, cmd.row)
    return dict(levels_for(tl, cmd.cycle).levels)


@decider(ConfirmLevels)
def decide_levels(state: State, cmd: ConfirmLevels, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "levels",
        f"Cycle {cmd.cycle} levels",
        lambda tl: LevelsConfirmed.from_data(
            prescriber_checks.check_levels(tl, cmd.cycle, _levels_wanted(tl, cmd), cmd.basis, cmd.row)
        ),
    )


@frozen
class DiscontinueTreatment(ScheduleCommand):
    """Timeline, D: a prescriber discontinues treatment permanently, with the reason (no override, §16.1)."""

    reason: str
    note: str = ""
    on_date: date | None = None  # None: today (the site's local date)
    emits = (TreatmentDiscontinued,)


@decider(DiscontinueTreatment)
def decide_discontinue(state: State, cmd: DiscontinueTreatment, now: datetime, actor: Actor) -> Decision:
    return _decide(
        state,
        cmd,
        actor,
        "discontinue",
        "Discontinue",
        lambda tl: TreatmentDiscontinued.from_data(
            checks.check_discontinue(tl, cmd.reason, cmd.note, cmd.on_date or state.today)
        ),
    )


# -- E: the latest entry recorded in error ----------------------------------------------------------


@frozen
class VoidLatestEntry(ScheduleCommand):
    """Timeline, E: mark the latest schedule entry as recorded in error, with what was wrong.

    The user who recorded it may, or a prescriber; the entry stays in the record, marked."""

    reason: str
    expected_version: int | None = None  # the entry the user saw: refused if another came since
    emits = (ScheduleVoided,)


@decider(VoidLatestEntry)
def decide_void(state: State, cmd: VoidLatestEntry, now: datetime, actor: Actor) -> Decision:
    if not actor.known:
        return refuse(f"In error: '{actor.username}' is not an active user.")
    if cmd.pid not in state.patients:
        return refuse(f"In error: no patient {cmd.pid!r}.")
    events = state.events(cmd.stream)  # who may: check_void, with the role from the users log
    return refused_unless(
        lambda: [ScheduleVoided.from_data(check_void(events, actor.username, actor.role, cmd.reason, cmd.expected_version))]
    )

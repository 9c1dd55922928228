"""The schedule's events: one typed payload class per kind (the kind strings live only here).

Each class's fields are exactly the JSON keys the schedule has always stored (dates as ISO
strings, levels and doses as exact decimal strings, CONV-CALC-6), so no database is migrated.
A field has a default where older events may lack it. Keys that older writers left out when
they had no value (``unverified_rule``, a decision's ``date``) are still left out (``OPTIONAL``).

``cycle`` is an int ≥ 1, ``day`` one of 1, 8, 15 (SCHED-1); dose days are the site's local
calendar dates (CONV-TIME-1).
"""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import frozen

from ..events import Payload, event_type
from ..intake.events import EntryCorrected, HsctPlanRecorded


class _Payload(Payload):
    """A schedule payload: keys named in ``OPTIONAL`` are not stored when None (as before)."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ()

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        for key in self.OPTIONAL:
            if data.get(key) is None:
                data.pop(key, None)
        return data


@event_type("cycle.started")
@frozen
class CycleStarted(_Payload):
    """The chosen start date of cycle 1; re-recording it before C1 D1 is given moves the start
    (latest wins). Later cycles start when their Day 1 dose is given (SCHED-6)."""

    day1: str
    cycle: int = 1


@event_type("dose.given")
@frozen
class DoseGiven(_Payload):
    """A dose given on ``date`` at ``level_mg_m2`` (the dose in mg with it); who = the actor.

    Recorded from the timeline (g) or by starting the infusion (core/infusion, with
    ``infusion.started``), both built by :func:`bedside.core.schedule.check_give`."""

    cycle: int
    day: int
    date: str
    level_mg_m2: str
    dose_mg: str | None = None


@event_type("dose.held")
@frozen
class DoseHeld(_Payload):
    """A dose held; the interruption is counted from the planned date of the first hold of that
    dose (CONV-SCHED-5). ``toxicity``: hematologic | non_hematologic | other."""

    cycle: int
    day: int
    planned_date: str
    reason: str = ""
    toxicity: str = "other"


@event_type("dose.recovered")
@frozen
class DoseRecovered(_Payload):
    """Recovery from the hold on ``date`` (the date counts, CONV-SCHED-5)."""

    cycle: int
    day: int
    date: str


@event_type("dose.omitted")
@frozen
class DoseOmitted(_Payload):
    """A Day 8 or 15 omitted (a Day 1 is never omitted, SCHED-6)."""

    cycle: int
    day: int
    reason: str = ""


@event_type("dose.moved")
@frozen
class DoseMoved(_Payload):
    """A new planned date: Day 8/15 inside the effective window; Day 1 only later, as a recorded
    deviation (CONV-SCHED-1/3)."""

    cycle: int
    day: int
    date: str
    reason: str = ""


@event_type("cycle.extended")
@frozen
class CycleExtended(_Payload):
    """Cycle 1 extended to 22..28 days (SCHED-4; latest wins); ``reason``: cr_cri |
    toxicity_recovery | other (with a note, CONV-SCHED-3)."""

    length_days: int
    reason: str
    cycle: int = 1
    note: str = ""


@event_type("response.recorded")
@frozen
class ResponseRecorded(_Payload):
    """The response (RESP-4) assessed during or after ``cycle``; cycle *n* follows the latest
    response of cycles < *n* (DOSE-4). ``response``: cr | cri | neither | not_assessed; ``mrd``:
    negative | positive | unknown."""

    cycle: int
    response: str
    assessed_on: str
    mrd: str = "unknown"


@event_type("levels.confirmed")
@frozen
class LevelsConfirmed(_Payload):
    """A prescriber's confirmation of a cycle's levels: ``levels`` {"1": str, "8": str | None,
    "15": str | None}; ``row`` cr_cri | no_cr_cri | None (CONV-RESP-4 row choice, CONV-MOD-1/2/3,
    or a CONV-MOD-5 split, which a pharmacist then verifies)."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ("unverified_rule",)

    cycle: int
    levels: dict[str, Any]
    basis: str = ""
    row: str | None = None
    custom: bool = False
    unverified_rule: str | None = None


@event_type("proposal.decided")
@frozen
class ProposalDecided(_Payload):
    """The named role confirms or declines a proposal, with a reason. ``date`` is the chosen date
    of a date proposal (SCHED-7, CONV-SCHED-3, CONV-SCHED-7) or the discontinuation date of a
    confirmed discontinuation proposal."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ("unverified_rule", "date")

    proposal_id: str
    rule: str
    decision: str
    reason: str = ""
    role: str = ""
    unverified_rule: str | None = None
    date: str | None = None


@event_type("treatment.discontinued")
@frozen
class TreatmentDiscontinued(_Payload):
    """Permanent discontinuation; no override (§16.1)."""

    reason: str
    note: str = ""
    date: str | None = None


@event_type("schedule.voided")
@frozen
class ScheduleVoided(_Payload):
    """The schedule entry at version ``voids`` was recorded in error (a correction event: nothing
    is overwritten); ``entry`` says it in words, ``recorded_by`` who recorded it."""

    voids: int
    kind: str = ""
    entry: str = ""
    recorded_by: str = ""
    reason: str = ""


CYCLE_STARTED = CycleStarted.KIND
DOSE_GIVEN = DoseGiven.KIND
DOSE_HELD = DoseHeld.KIND
DOSE_RECOVERED = DoseRecovered.KIND
DOSE_OMITTED = DoseOmitted.KIND
DOSE_MOVED = DoseMoved.KIND
CYCLE_EXTENDED = CycleExtended.KIND
RESPONSE_RECORDED = ResponseRecorded.KIND
LEVELS_CONFIRMED = LevelsConfirmed.KIND
PROPOSAL_DECIDED = ProposalDecided.KIND
TREATMENT_DISCONTINUED = TreatmentDiscontinued.KIND
SCHEDULE_VOIDED = ScheduleVoided.KIND
# Kinds of other jobs the timeline reads (not imported: the timeline needs none of their code).
INTAKE_HSCT = HsctPlanRecorded.KIND  # the intake's HSCT plan (the timeline reads it)
INTAKE_CORRECTED = EntryCorrected.KIND
INFUSION_STARTED_KIND = "infusion.started"  # core/infusion imports this package: tests check it is InfusionStarted.KIND

KINDS = frozenset(
    {
        CYCLE_STARTED,
        DOSE_GIVEN,
        DOSE_HELD,
        DOSE_RECOVERED,
        DOSE_OMITTED,
        DOSE_MOVED,
        CYCLE_EXTENDED,
        RESPONSE_RECORDED,
        LEVELS_CONFIRMED,
        PROPOSAL_DECIDED,
        TREATMENT_DISCONTINUED,
    }
)
PAYLOADS = (
    CycleStarted,
    DoseGiven,
    DoseHeld,
    DoseRecovered,
    DoseOmitted,
    DoseMoved,
    CycleExtended,
    ResponseRecorded,
    LevelsConfirmed,
    ProposalDecided,
    TreatmentDiscontinued,
    ScheduleVoided,
)

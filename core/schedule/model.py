"""The schedule's value types: windows, doses, cycles, proposals, levels, and the folded
:class:`Timeline` with the facts it was folded from (nothing here is stored: cycle and day
numbers are derived, SCHED-8)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from attrs import field, frozen

from .vocab import RESOLVED_STATES, SCOPE_NONE


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


# --- Facts read from the events (by core/schedule/parse.py) ---------------------------------------


@frozen
class Given:
    on: date
    level: Decimal
    dose_mg: Decimal | None
    actor: str
    version: int


@frozen
class Interruption:
    start: date  # planned date of the first hold (CONV-SCHED-5)
    reason: str
    toxicity: str
    recovered: date | None
    first_version: int

    def days(self, today: date) -> int:
        return max(0, ((self.recovered or today) - self.start).days)


@frozen
class ResponseFact:
    cycle: int
    response: str
    mrd: str
    assessed_on: date
    version: int


@frozen
class LevelsRecord:
    cycle: int
    levels: Mapping[int, Decimal | None]
    basis: str
    row: str | None
    custom: bool
    version: int


@frozen
class DecisionFact:
    proposal_id: str
    rule: str
    decision: str
    reason: str
    on: date | None
    version: int


@frozen
class Facts:
    start: date | None = None
    given: Mapping[tuple[int, int], Given] = field(factory=dict)
    interruptions: Mapping[tuple[int, int], Interruption] = field(factory=dict)
    omitted: Mapping[tuple[int, int], str] = field(factory=dict)
    moved: Mapping[tuple[int, int], tuple[date, str, int]] = field(factory=dict)
    extension: tuple[int, str, str] | None = None
    responses: tuple[ResponseFact, ...] = ()
    levels: Mapping[int, LevelsRecord] = field(factory=dict)
    decisions: Mapping[str, DecisionFact] = field(factory=dict)
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
    facts: Facts = field(repr=False)
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

"""The monitor's vocabulary and value types: phases, settings, alerts, reactions, the state.

Pure values (attrs, frozen) and a few small formatting helpers; the fold that builds them is
core/infusion/fold.py (rule IDs: shared/clinical-reference.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from attrs import field, frozen

from .. import rules
from ..clock import as_utc, fmt_minutes, fmt_near, parse_aware
from ..preparation.state import dose_label  # noqa: F401  (a dose as users read it; re-exported here)

_UTC = UTC

# --- phases -----------------------------------------------------------------------------------------
NOT_STARTED = "NOT STARTED"
INFUSING = "INFUSING"
PAUSED = "PAUSED"
OBSERVING = "OBSERVING"
OBSERVATION_COMPLETE = "OBSERVATION COMPLETE"
OBSERVATION_INCOMPLETE_PHASE = "OBSERVATION INCOMPLETE"  # the patient left early (MON-2 deviation)
STOPPED = "STOPPED"
PHASES = (NOT_STARTED, INFUSING, PAUSED, OBSERVING, OBSERVATION_COMPLETE, OBSERVATION_INCOMPLETE_PHASE, STOPPED)
ACTIVE_PHASES = frozenset({INFUSING, PAUSED, OBSERVING})

ROUTES = ("bag", "syringe")
OUTCOMES = ("resume", "stop")
REACTION_STEPS = ("vitals", "grade", "notified", "treatment", "outcome")
SEVERITIES = ("critical", "warning", "info")
VITALS_ANCHORS = ("before_start", "start", "end", "observation_end")

# --- small helpers ----------------------------------------------------------------------------------


_utc = as_utc


_parse_time = parse_aware  # an aware time (datetime or ISO 8601 string) in UTC, else None


def _text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch == " " or ch.isprintable()).strip()


def _dur(delta: timedelta) -> str:
    """A duration in whole minutes, rounded down (e.g. ``1 h 05 min``, ``25 min``)."""
    return fmt_minutes(delta)


def _grade_text(grade: int | str | None) -> str:
    if grade is None:
        return "not graded"
    if grade == rules.IRR_ANAPHYLAXIS:
        return "anaphylaxis"
    return f"Grade {grade}"


def _grade_rank(grade: int | str) -> int:
    # Anaphylaxis (CTCAE v5 grades 3–5) ranks above Grade 4 for "the worst grade stands".
    return 5 if grade == rules.IRR_ANAPHYLAXIS else int(grade)


def is_severe(grade: int | str | None) -> bool:
    """Grade 3 or 4, or anaphylaxis: severe or life-threatening (CONV-IRR-1)."""
    if grade is None:
        return False
    return grade == rules.IRR_ANAPHYLAXIS or int(grade) >= rules.IRR_DISCONTINUE_MIN_GRADE


def _parse_grade(value: object) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        v = value.strip().lower()
        if v == rules.IRR_ANAPHYLAXIS:
            return rules.IRR_ANAPHYLAXIS
        if v.isdigit():
            value = int(v)
        else:
            return None
    if isinstance(value, int) and value in rules.IRR_GRADES:
        return value
    return None


# --- settings and value types -----------------------------------------------------------------------


@frozen
class VitalsPoint:
    """One scheduled vital-signs point (MON-4): ``offset_min`` minutes after ``anchor``."""

    anchor: str
    offset_min: int = 0

    def __attrs_post_init__(self) -> None:
        if self.anchor not in VITALS_ANCHORS:
            raise ValueError(f"vitals anchor must be one of {', '.join(VITALS_ANCHORS)}, not {self.anchor!r}")
        if isinstance(self.offset_min, bool) or not isinstance(self.offset_min, int):
            raise TypeError("offset_min must be whole minutes (int)")
        if self.anchor == "before_start" and self.offset_min != 0:
            raise ValueError("the before_start point has no offset")
        if self.anchor == "start" and self.offset_min < 0:
            raise ValueError("a start offset cannot be negative (use before_start)")

    @property
    def key(self) -> str:
        if self.anchor == "before_start" or self.offset_min == 0:
            return self.anchor
        return f"{self.anchor}{self.offset_min:+d}"

    @property
    def label(self) -> str:
        names = {
            "before_start": "before start",
            "start": "start",
            "end": "end of infusion",
            "observation_end": "end of observation",
        }
        name = names[self.anchor]
        if self.offset_min == 0:
            return name
        where = "after" if self.offset_min > 0 else "before"
        return f"{abs(self.offset_min)} min {where} {name}"


def _schedule(value: Iterable[object]) -> tuple[VitalsPoint, ...]:
    out: list[VitalsPoint] = []
    for item in value:
        if isinstance(item, VitalsPoint):
            out.append(item)
        else:
            anchor, offset = item  # type: ignore[misc]
            out.append(VitalsPoint(anchor, offset))
    keys = [p.key for p in out]
    if len(set(keys)) != len(keys):
        raise ValueError("the vitals schedule lists a point twice")
    return tuple(out)


def _minutes(name: str) -> Any:
    def check(_instance: Any, _attribute: Any, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be whole minutes ≥ 0")

    return check


@frozen(kw_only=True)
class MonitorSettings:
    """Site settings for the monitor ([SITE], CONV-SITE-1). ``tz``: the zone clock times are shown in."""

    vitals_schedule: tuple[VitalsPoint, ...] = field(default=rules.VITALS_SCHEDULE_DEFAULT, converter=_schedule)  # MON-4
    vitals_at_reactions: bool = rules.VITALS_AT_REACTIONS  # MON-4
    vitals_grace_min: int = field(
        default=rules.VITALS_OVERDUE_GRACE_MINUTES, validator=_minutes("vitals_grace_min")
    )  # MON-4 [SITE]
    stability_alert_min: int = field(
        default=rules.STABILITY_ALERT_LEAD_MINUTES, validator=_minutes("stability_alert_min")
    )  # CONV-STAB-3 [SITE]
    tz: tzinfo = _UTC


@frozen
class Alert:
    """An alert that says what to do (WARN-ALERT-1): ``id`` is derived from its fact."""

    id: str
    severity: str  # critical | warning | info
    text: str  # the fact, with this patient's times
    action: str  # what to do
    rule: str  # the rule ID(s)


@frozen
class Permission:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


@frozen
class Pause:
    started_at: datetime
    ended_at: datetime | None
    reason: str
    reaction: int | None = None  # the reaction that paused it, if any

    def length(self, now: datetime) -> timedelta:
        return (self.ended_at or now) - self.started_at


@frozen
class VitalsRecord:
    at: datetime
    values: dict[str, Any]
    point: str | None
    actor: str
    ref: str


@frozen
class VitalsDue:
    """One vital-signs point: ``status`` is pending, due, overdue, done, missed or skipped (MON-4).

    ``missed``: its window closed without a set (the next point became due, the infusion started
    without a set before it, or observation was closed); ``skipped``: it fell after observation closed.
    """

    key: str
    label: str
    due_at: datetime | None
    status: str
    done_at: datetime | None = None
    window_end: datetime | None = None
    rule: str = "MON-4"


@frozen
class Reaction:
    """An infusion reaction and its guided sequence (MOD-NH-3, CTCAE-1, CONV-IRR-1 to 3)."""

    number: int
    started_at: datetime
    symptoms: str
    during: str  # infusion | pause | observation | after stop | before start | after observation
    grade: int | str | None
    graded_at: datetime | None
    ctcae_version: str | None
    grade_history: tuple[tuple[datetime, int | str, str], ...]  # (at, grade, correction reason or "")
    vitals_at: datetime | None
    notified: tuple[tuple[datetime, str], ...]
    treatments: tuple[tuple[datetime, str], ...]
    resolved_at: datetime | None
    outcome: str | None

    @property
    def severe(self) -> bool:
        return is_severe(self.grade)

    @property
    def state(self) -> str:
        return "open" if self.resolved_at is None else "resolved"

    @property
    def missing_steps(self) -> tuple[str, ...]:
        done = {
            "vitals": self.vitals_at is not None,
            "grade": self.grade is not None,
            "notified": bool(self.notified),
            "treatment": bool(self.treatments),
            "outcome": self.outcome is not None,
        }
        return tuple(step for step in REACTION_STEPS if not done[step])

    @property
    def next_step(self) -> str | None:
        missing = self.missing_steps
        return missing[0] if missing else None


@frozen
class Deviation:
    kind: str  # observation_incomplete | infusion_short | resumed_past_deadline | resumed_with_reaction
    at: datetime
    who: str
    reason: str
    rule: str
    recorded_by: str = ""


@frozen
class Problem:
    """An event that does not fit the sequence; listed (and alerted), never applied silently."""

    ref: str
    kind: str
    at: datetime | None
    text: str
    rule: str


@frozen
class Proposal:
    """A proposal a named user must confirm (here: permanent discontinuation, CONV-IRR-1)."""

    rule: str
    text: str
    requires: str  # role: prescriber
    reaction: int


@frozen
class Timer:
    """A counter pair: ``counted`` of ``target`` with ``left`` to go (see :attr:`MonitorState.timer`)."""

    kind: str  # "infusion" (running time, MON-3) | "observation" (MON-2)
    counted: timedelta
    target: timedelta | None  # None: open-ended (a reaction is not resolved, CONV-IRR-3)
    left: timedelta | None
    started_at: datetime | None  # wall clock: the infusion start, or the start of observation
    expected_end: datetime | None  # wall clock: the projected end of this phase
    rule: str


@frozen(kw_only=True)
class MonitorState:
    dose_id: str
    now: datetime
    phase: str
    started_at: datetime | None
    route: str | None
    flush_min: int
    target_running: timedelta  # 60 min + flush (MON-3, PREP-9)
    running: timedelta  # infusion time counted
    paused: timedelta  # total paused time
    elapsed: timedelta  # start → end, stop or now
    pauses: tuple[Pause, ...]
    phase_started_at: datetime | None
    phase_elapsed: timedelta | None
    phase_left: timedelta | None  # None when open-ended
    phase_ends_at: datetime | None
    infusion_end_at: datetime | None  # projected while running/paused; actual when ended; stop time
    ended_at: datetime | None
    stopped_at: datetime | None
    stop_reason: str | None
    observation_min_end: datetime | None  # end + 60 min (MON-2)
    observation_earliest_end: datetime | None  # later of that and reactions resolved; None while one is open
    observation_closed_at: datetime | None
    observation_outcome: str | None  # completed | incomplete
    stability_deadline: datetime | None
    deadline_warning: str | None
    resume_warning: str | None
    vitals: tuple[VitalsRecord, ...]
    vitals_due: tuple[VitalsDue, ...]
    reactions: tuple[Reaction, ...]
    discontinuation: Proposal | None
    can_pause: Permission
    can_resume: Permission
    can_stop: Permission
    can_complete_observation: Permission
    alerts: tuple[Alert, ...]  # not yet acknowledged
    acknowledged: tuple[Alert, ...]
    deviations: tuple[Deviation, ...]
    problems: tuple[Problem, ...]
    settings: MonitorSettings

    @property
    def running_seconds(self) -> int:
        return int(self.running.total_seconds())

    @property
    def paused_seconds(self) -> int:
        return int(self.paused.total_seconds())

    @property
    def running_left(self) -> timedelta:
        return max(self.target_running - self.running, timedelta(0))

    @property
    def observation_open(self) -> bool:
        return self.phase in (OBSERVING, STOPPED) and self.observation_closed_at is None

    @property
    def active(self) -> bool:
        """On the active-infusions board: infusing, paused, observing, or stopped and still observed."""
        return self.phase in ACTIVE_PHASES or (self.phase == STOPPED and self.observation_closed_at is None)

    @property
    def timer(self) -> Timer | None:
        """The one counter pair the monitor shows (MON-3, MON-2), consistent by construction:
        ``counted + left == target`` whenever ``left`` is known.

        * Infusing or paused: running time (pauses excluded) of the 60 min (+ flush, PREP-9) and the
          running time left; a pause stops both (MON-3). The wall-clock start and the expected end
          (start + 60 min + pauses + flush) are ``started_at`` and ``expected_end``.
        * Observing (or stopped and still observed): time since the end (or stop) and the time left
          to the earliest end; ``left`` None while a reaction is open (CONV-IRR-3).
        * Not started, or observation closed: None (no counter of an earlier phase stays).
        """
        if self.phase in (INFUSING, PAUSED):
            return Timer(
                "infusion",
                self.running,
                self.target_running,
                self.running_left,
                self.started_at,
                self.infusion_end_at,
                "MON-3",
            )
        if self.observation_open:
            anchor = self.phase_started_at
            if anchor is None:
                return None
            counted = max(self.now - anchor, timedelta(0))
            end = self.observation_earliest_end
            if end is None:
                return Timer("observation", counted, None, None, anchor, None, "MON-2, CONV-IRR-3")
            target = max(end - anchor, timedelta(0))
            return Timer("observation", min(counted, target), target, max(target - counted, timedelta(0)), anchor, end, "MON-2")
        return None


def _fmt(when: datetime | None, tz: tzinfo, now: datetime) -> str:
    return fmt_near(when, now, tz)

"""The infusion monitor (issue 7): phases, timers, vital signs, reactions and alerts, as a pure fold.

Sections 8–10, 15 (CTCAE-1), 16 (CONV-IRR-1 to 3, CONV-STAB-*, 16.1) and 11 (WARN-ALERT-1) of
``shared/clinical-reference.md``; worked examples T1, T3, T5 and T7 of §18.4. Pure functions: no
I/O, no clock (``now`` is passed in), no printing. Everything the screen shows is derived from the
events and ``now``, so a restarted terminal or a dropped SSH link shows the same phase to the second.

Phases
------
``NOT STARTED`` → ``INFUSING`` ⇄ ``PAUSED`` → ``OBSERVING`` → ``OBSERVATION COMPLETE`` (or
``OBSERVATION INCOMPLETE`` when the patient left early: never shown as complete), or
``INFUSING``/``PAUSED`` → ``STOPPED``.

* The infusion phase is 60 min of **running** time (+ the syringe flush, PREP-9); paused time does
  not count, so the end moves by every pause (MON-3, ADM-8): end = start + 60 min + pauses + flush.
* When the running time is reached the infusion ends by itself and observation starts (MON-2);
  an explicit ``infusion.ended`` records the actual end (a later actual end moves observation later).
* Observation lasts until the later of end + 60 min and the last reaction recorded as resolved
  (MON-2, CONV-IRR-3); it cannot be completed earlier. If the patient leaves earlier, an
  "observation incomplete" deviation is recorded (who, when, why).
* ``STOPPED``: the infusion was stopped before its running time was reached (by a user, by a
  reaction outcome "stop", or by a Grade 3/4/anaphylaxis grade, CONV-IRR-1). Bedside still requires
  observation after a stop: ≥ 60 min from the stop and until every reaction is resolved (MON-1); a
  stopped dose stays on the active-infusions board until that observation is closed.

Event vocabulary
----------------
All on the patient stream (``patient:<id>``). Every ``data`` has ``dose_id`` (e.g. ``"c1d8"``) and
``at``: the time the fact happened, as entered by the user (ISO 8601 UTC, ``events.iso_utc``), which
may be earlier than the event's own ``at`` (when it was written), so a late entry is possible. The
phase is computed from the data times, in time order (ties: log order).

``infusion.started``
    ``{dose_id, at, route: "bag"|"syringe", flush_min: int ≥ 0, stability_deadline: ISO UTC | null}``
    ``stability_deadline`` is the bag's infusion-end deadline (``stability.deadlines(...).end_deadline``,
    CONV-STAB-1); null = unknown (alerted).
``infusion.paused``      ``{dose_id, at, reason}``
``infusion.resumed``     ``{dose_id, at}``
``infusion.ended``       ``{dose_id, at}`` (optional: the actual end; without it the end is derived)
``infusion.stopped``     ``{dose_id, at, reason}``
``observation.completed``  ``{dose_id, at}``
``observation.incomplete`` ``{dose_id, at, reason, who?}`` (``who`` defaults to the event's actor)
``vitals.recorded``
    ``{dose_id, at, temp_c: "37.2", hr: int, sys: int, dia: int, rr: int, spo2: int, point?}``
    (values as returned by :func:`validate_vitals`; ``point`` optionally names the schedule point,
    e.g. ``"end"`` or ``"reaction:1"``; without it the set counts for the point whose window it is in)
``reaction.started``     ``{dose_id, at, symptoms}`` (pauses a running infusion at ``at``)
``reaction.graded``
    ``{dose_id, at, grade: 1|2|3|4|"anaphylaxis", ctcae_version: "5.0", reaction?, correction_reason?}``
    A later grade without ``correction_reason`` can only raise the grade (the worst stands); with a
    ``correction_reason`` it replaces it (a recorded grade correction, CONV-IRR-1, §16.1).
``reaction.notified``    ``{dose_id, at, who, reaction?}``
``reaction.treated``     ``{dose_id, at, treatment, reaction?}`` (``"none"`` is a treatment entry)
``reaction.resolved``    ``{dose_id, at, outcome: "resume"|"stop", reaction?}``
``alert.acknowledged``   ``{alert_id, at, dose_id?}``

``reaction`` is the reaction's number within the dose (1, 2, …, in time order); without it an event
belongs to the latest reaction started at or before it. Use :func:`event_data` to build valid
``data``.

Safety choices where the reference is silent (see each rule ID in the code): grade ≥ 3 or
anaphylaxis stops the infusion at once and proposes permanent discontinuation (CONV-IRR-1); resume
needs every reaction fully recorded (vitals, grade, notified, treatment) and resolved with outcome
"resume" (CONV-IRR-2); events that do not fit the sequence are not applied silently: they are listed
as problems and raise an alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import field, frozen

from .. import rules
from ..clock import as_utc, parse_aware
from ..events import Event, iso_utc
from ..text import unsafe_message
from ..stability import infusion_end, observation_earliest_end
from .reactions import reaction_numbers

__all__ = [
    "ACTIVE_PHASES",
    "Alert",
    "Deviation",
    "MonitorSettings",
    "MonitorState",
    "Permission",
    "Problem",
    "Proposal",
    "Reaction",
    "Timer",
    "VitalsDue",
    "VitalsPoint",
    "VitalsRecord",
    "acknowledgement_data",
    "active_infusions",
    "check_resume",
    "dose_ids",
    "event_data",
    "grade_correction_data",
    "is_severe",
    "monitor",
    "unusual_vitals",
    "validate_vitals",
]

_UTC = timezone.utc

# --- event kinds ----------------------------------------------------------------------------------
INFUSION_STARTED = "infusion.started"
INFUSION_PAUSED = "infusion.paused"
INFUSION_RESUMED = "infusion.resumed"
INFUSION_ENDED = "infusion.ended"
INFUSION_STOPPED = "infusion.stopped"
OBSERVATION_COMPLETED = "observation.completed"
OBSERVATION_INCOMPLETE = "observation.incomplete"
VITALS_RECORDED = "vitals.recorded"
REACTION_STARTED = "reaction.started"
REACTION_GRADED = "reaction.graded"
REACTION_NOTIFIED = "reaction.notified"
REACTION_TREATED = "reaction.treated"
REACTION_RESOLVED = "reaction.resolved"
ALERT_ACKNOWLEDGED = "alert.acknowledged"

DOSE_KINDS = frozenset(
    {
        INFUSION_STARTED,
        INFUSION_PAUSED,
        INFUSION_RESUMED,
        INFUSION_ENDED,
        INFUSION_STOPPED,
        OBSERVATION_COMPLETED,
        OBSERVATION_INCOMPLETE,
        VITALS_RECORDED,
        REACTION_STARTED,
        REACTION_GRADED,
        REACTION_NOTIFIED,
        REACTION_TREATED,
        REACTION_RESOLVED,
    }
)
KINDS = DOSE_KINDS | {ALERT_ACKNOWLEDGED}

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

# Vital signs: (data field, label, INPUT_LIMITS key, decimals allowed). CONV-INPUT-1.
VITALS_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("temp_c", "Temperature (°C)", "temp_c", True),
    ("hr", "Heart rate (/min)", "heart_rate", False),
    ("sys", "Systolic BP (mmHg)", "systolic_bp", False),
    ("dia", "Diastolic BP (mmHg)", "diastolic_bp", False),
    ("rr", "Respiratory rate (/min)", "resp_rate", False),
    ("spo2", "SpO2 (%)", "spo2", False),
)
_DECIMAL_RE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
_INT_RE = re.compile(r"^[0-9]{1,3}$")
_MAX_TEXT = 500


# --- small helpers ----------------------------------------------------------------------------------


_utc = as_utc


_parse_time = parse_aware  # an aware time (datetime or ISO 8601 string) in UTC, else None


def _text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch == " " or ch.isprintable()).strip()


def _dur(delta: timedelta) -> str:
    """A duration in whole minutes, rounded down (e.g. ``1 h 05 min``, ``25 min``)."""
    total = int(delta.total_seconds() // 60)
    sign = "−" if total < 0 else ""
    h, m = divmod(abs(total), 60)
    return f"{sign}{h} h {m:02d} min" if h else f"{sign}{m} min"


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

    vitals_schedule: tuple[VitalsPoint, ...] = field(
        default=rules.VITALS_SCHEDULE_DEFAULT, converter=_schedule
    )  # MON-4
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
                "infusion", self.running, self.target_running, self.running_left, self.started_at,
                self.infusion_end_at, "MON-3",
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


# --- the fold ---------------------------------------------------------------------------------------


class _R:
    """A reaction while folding (mutable, private)."""

    def __init__(self, number: int, at: datetime, symptoms: str, during: str):
        self.number = number
        self.started_at = at
        self.symptoms = symptoms
        self.during = during
        self.grade: int | str | None = None
        self.graded_at: datetime | None = None
        self.version: str | None = None
        self.history: list[tuple[datetime, int | str, str]] = []
        self.notified: list[tuple[datetime, str]] = []
        self.treatments: list[tuple[datetime, str]] = []
        self.resolved_at: datetime | None = None
        self.outcome: str | None = None

    def apply_grade(self, at: datetime, grade: int | str, correction: str, version: str) -> None:
        self.history.append((at, grade, correction))
        if correction or self.grade is None or _grade_rank(grade) >= _grade_rank(self.grade):
            self.grade = grade
            self.graded_at = at
            self.version = version


class _Fold:
    def __init__(self, dose_id: str, settings: MonitorSettings):
        self.dose_id = dose_id
        self.settings = settings
        self.status = "not_started"  # not_started | running | paused | ended | stopped
        self.started_at: datetime | None = None
        self.route: str | None = None
        self.flush_min = 0
        self.deadline: datetime | None = None
        self.label_deadline: datetime | None = None  # STAB-2 (label): no override reaches past it
        self.target = timedelta(minutes=rules.INFUSION_MINUTES)  # MON-3
        self.run = timedelta(0)
        self.seg_start: datetime | None = None
        self.pauses: list[list[Any]] = []  # [start, end|None, reason, reaction]
        self.ended_at: datetime | None = None
        self.end_explicit = False
        self.stopped_at: datetime | None = None
        self.stop_reason: str | None = None
        self.closed_at: datetime | None = None
        self.close_kind: str | None = None
        self.reactions: dict[int, _R] = {}
        self.vitals: list[VitalsRecord] = []
        self.deviations: list[Deviation] = []
        self.problems: list[Problem] = []

    # -- helpers --
    def problem(self, ev: Event, at: datetime | None, text: str, rule: str) -> None:
        self.problems.append(Problem(ev.ref, ev.kind, at, text, rule))

    def t(self, when: datetime | None) -> str:
        return "?" if when is None else when.astimezone(self.settings.tz).strftime("%Y-%m-%d %H:%M")

    def advance(self, t: datetime) -> None:
        """The infusion ends by itself when its running time is reached (MON-2, MON-3)."""
        if self.status == "running":
            assert self.seg_start is not None
            reach = self.seg_start + (self.target - self.run)
            if reach <= t:
                self.run = self.target
                self.ended_at = reach
                self.seg_start = None
                self.status = "ended"

    def close_segment(self, t: datetime) -> None:
        assert self.seg_start is not None
        self.run += t - self.seg_start
        self.seg_start = None

    def open_pause(self) -> list[Any] | None:
        return self.pauses[-1] if self.pauses and self.pauses[-1][1] is None else None

    def stop(self, t: datetime, reason: str) -> None:
        if self.status == "running":
            self.close_segment(t)
        elif self.status == "paused":
            p = self.open_pause()
            if p is not None:
                p[1] = t
        self.status = "stopped"
        self.stopped_at = t
        self.stop_reason = reason

    def vitals_for(
        self, point: str, start: datetime | None, end: datetime | None, *, end_inclusive: bool = False
    ) -> datetime | None:
        """The first set recorded for ``point``: one labelled with it, else an unlabelled set taken in
        the point's window ``[start, end)`` (``start`` None: open to the past; ``end`` None: open)."""
        for v in self.vitals:
            if v.point == point:
                return v.at
        for v in self.vitals:
            if v.point is not None:
                continue
            if start is not None and v.at < start:
                continue
            if end is not None and (v.at > end if end_inclusive else v.at >= end):
                continue
            return v.at
        return None

    def reaction_vitals(self, r: _R) -> datetime | None:
        # Any set from the reaction's start to its resolution (inclusive) counts (MON-4, IRR-1).
        return self.vitals_for(f"reaction:{r.number}", r.started_at, r.resolved_at, end_inclusive=True)

    def resume_blockers(self) -> list[str]:
        """Why the infusion may not resume now (CONV-IRR-1, CONV-IRR-2)."""
        out: list[str] = []
        for r in self.reactions.values():
            if is_severe(r.grade):
                out.append(
                    f"reaction {r.number} is {_grade_text(r.grade)}: the infusion cannot resume (CONV-IRR-1)"
                )
                continue
            missing = [s for s in self.missing_steps(r) if s != "outcome"]
            if missing:
                out.append(f"reaction {r.number}: record {', '.join(missing)} first (CONV-IRR-2)")
            if r.resolved_at is None:
                out.append(f"reaction {r.number} is not yet recorded as resolved with outcome resume (CONV-IRR-2)")
            elif r.outcome != "resume":
                out.append(f"reaction {r.number} outcome was {r.outcome} (CONV-IRR-2)")
        return out

    def missing_steps(self, r: _R) -> list[str]:
        done = {
            "vitals": self.reaction_vitals(r) is not None,
            "grade": r.grade is not None,
            "notified": bool(r.notified),
            "treatment": bool(r.treatments),
            "outcome": r.outcome is not None,
        }
        return [s for s in REACTION_STEPS if not done[s]]

    def open_reactions(self) -> list[_R]:
        return [r for r in self.reactions.values() if r.resolved_at is None]

    def obs_anchor(self) -> datetime | None:
        if self.status == "ended":
            return self.ended_at
        if self.status == "stopped":
            return self.stopped_at
        return None

    def obs_end(self, anchor: datetime | None) -> datetime | None:
        """Later of anchor + 60 min and the last reaction resolved; None while one is open (MON-2, CONV-IRR-3)."""
        if anchor is None or self.open_reactions():
            return None
        end = observation_earliest_end(anchor)
        for r in self.reactions.values():
            if r.resolved_at is not None and r.resolved_at > end:
                end = r.resolved_at
        return end

    def during(self) -> str:
        return {
            "not_started": "before start",
            "running": "infusion",
            "paused": "pause",
            "ended": "observation" if self.closed_at is None else "after observation",
            "stopped": "after stop" if self.closed_at is None else "after observation",
        }[self.status]


def _data_time(ev: Event) -> datetime | None:
    if "at" in ev.data:
        return _parse_time(ev.data.get("at"))
    return _parse_time(ev.at)


def dose_ids(events: Iterable[Event]) -> list[str]:
    """The dose ids with an ``infusion.started`` event, in log order."""
    out: dict[str, None] = {}
    for ev in events:
        if ev.kind == INFUSION_STARTED and isinstance(ev.data.get("dose_id"), str):
            out.setdefault(ev.data["dose_id"], None)
    return list(out)


def monitor(
    events: Sequence[Event], dose_id: str, now: datetime, settings: MonitorSettings = MonitorSettings()
) -> MonitorState:
    """The monitor state of dose ``dose_id`` at ``now``: a pure fold over the patient's events."""
    now = _utc("now", now)
    f = _Fold(dose_id, settings)
    acks: set[str] = set()
    items: list[tuple[datetime, int, Event]] = []
    for ev in events:
        if ev.kind == ALERT_ACKNOWLEDGED:
            aid = ev.data.get("alert_id")
            if isinstance(aid, str):
                acks.add(aid)
            continue
        if ev.kind not in DOSE_KINDS or ev.data.get("dose_id") != dose_id:
            continue
        t = _data_time(ev)
        if t is None:
            f.problem(ev, None, f"{ev.kind} ({ev.ref}) has no readable time: not applied.", "CONV-TIME-1")
            continue
        if t > now:
            f.problem(
                ev, t, f"{ev.kind} ({ev.ref}) is recorded for {f.t(t)}, later than now: not applied; check the time.",
                "CONV-TIME-1",
            )
            continue
        items.append((t, ev.seq, ev))
    items.sort(key=lambda item: (item[0], item[1]))

    # Reaction numbers by start order, and each reaction's final grade (so that a later recorded
    # grade correction undoes the stop it would otherwise have caused, CONV-IRR-1).
    number_of = reaction_numbers(ev for _t, _seq, ev in items)  # the one numbering (core/infusion/reactions.py)
    starts = [(t, seq) for t, seq, _ev in items if seq in number_of]

    def reaction_for(ev: Event, t: datetime, seq: int) -> int | None:
        explicit = ev.data.get("reaction")
        if explicit is not None:
            if isinstance(explicit, int) and not isinstance(explicit, bool) and 1 <= explicit <= len(starts):
                return explicit if starts[explicit - 1] <= (t, seq) else None
            return None
        found = None
        for i, key in enumerate(starts):
            if key <= (t, seq):
                found = i + 1
        return found

    final_grade: dict[int, int | str] = {}
    for t, seq, ev in items:
        if ev.kind == REACTION_GRADED:
            n = reaction_for(ev, t, seq)
            grade = _parse_grade(ev.data.get("grade"))
            if n is None or grade is None:
                continue
            correction = _text(ev.data.get("correction_reason"))
            old = final_grade.get(n)
            if correction or old is None or _grade_rank(grade) >= _grade_rank(old):
                final_grade[n] = grade

    for t, seq, ev in items:
        f.advance(t)
        _apply(f, ev, t, seq, reaction_for, number_of, final_grade)
    f.advance(now)
    return _state(f, now, acks)


def _apply(
    f: _Fold,
    ev: Event,
    t: datetime,
    seq: int,
    reaction_for: Any,
    number_of: dict[int, int],
    final_grade: dict[int, int | str],
) -> None:
    d = ev.data
    kind = ev.kind
    status = f.status
    when = f.t(t)

    if kind == INFUSION_STARTED:
        if status != "not_started":
            f.problem(ev, t, f"A second start at {when}: the infusion started at {f.t(f.started_at)}; not applied.", "MON-3")
            return
        f.started_at = t
        route = d.get("route", "bag")
        if route not in ROUTES:
            f.problem(ev, t, f"Unknown route {route!r}; treated as a bag.", "PREP-7")
            route = "bag"
        f.route = route
        flush = d.get("flush_min", 0) or 0
        if isinstance(flush, bool) or not isinstance(flush, int) or flush < 0:
            f.problem(ev, t, f"Flush time {flush!r} is not whole minutes ≥ 0; counted as 0.", "PREP-9")
            flush = 0
        f.flush_min = flush
        f.target = timedelta(minutes=rules.INFUSION_MINUTES + flush)  # MON-3, PREP-9
        raw_label = d.get("label_deadline")
        if raw_label is not None:
            f.label_deadline = _parse_time(raw_label)
            if f.label_deadline is None:
                f.problem(ev, t, f"Label stability limit {raw_label!r} is not a readable UTC time.", "STAB-2")
        raw_deadline = d.get("stability_deadline")
        if raw_deadline is not None:
            f.deadline = _parse_time(raw_deadline)
            if f.deadline is None:
                f.problem(ev, t, f"Stability deadline {raw_deadline!r} is not a readable UTC time.", "CONV-STAB-1")
        f.status = "running"
        f.seg_start = t
        return

    if kind == INFUSION_PAUSED:
        if status == "running":
            f.close_segment(t)
            f.pauses.append([t, None, _text(d.get("reason")), None])
            f.status = "paused"
        elif status != "paused":  # a second pause while paused changes nothing
            f.problem(ev, t, f"Pause at {when}, but the infusion is not running ({f.during()}); not applied.", "MON-3")
        return

    if kind == INFUSION_RESUMED:
        if status != "paused":
            f.problem(ev, t, f"Resume at {when}, but the infusion is not paused ({f.during()}); not applied.", "MON-3")
            return
        blockers = f.resume_blockers()
        if blockers:
            # It happened: apply it, and record the deviation.
            f.deviations.append(
                Deviation("resumed_with_reaction", t, ev.actor, "; ".join(blockers), "CONV-IRR-2", ev.actor)
            )
        p = f.open_pause()
        if p is not None:
            p[1] = t
        f.status = "running"
        f.seg_start = t
        projected = t + (f.target - f.run)
        if f.deadline is not None and projected > f.deadline:
            f.deviations.append(
                Deviation(
                    "resumed_past_deadline", t, ev.actor,
                    f"resumed at {when}; projected end {f.t(projected)} is after the stability deadline {f.t(f.deadline)}",
                    "CONV-STAB-3", ev.actor,
                )
            )
        return

    if kind == INFUSION_ENDED:
        if status == "running":
            f.close_segment(t)
            f.ended_at = t
            f.end_explicit = True
            f.status = "ended"
            if f.run < f.target:
                f.deviations.append(
                    Deviation(
                        "infusion_short", t, ev.actor,
                        f"ended at {when} after {_dur(f.run)} of running time; planned {_dur(f.target)}",
                        "ADM-1", ev.actor,
                    )
                )
        elif status == "ended" and not f.end_explicit and f.closed_at is None:
            assert f.ended_at is not None
            f.run += t - f.ended_at  # the actual end is later than the derived one
            f.ended_at = t
            f.end_explicit = True
        else:
            f.problem(ev, t, f"End at {when}, but the infusion is not running ({f.during()}); not applied.", "MON-3")
        return

    if kind == INFUSION_STOPPED:
        if status in ("running", "paused"):
            f.stop(t, _text(d.get("reason")) or "stopped")
        elif status != "stopped":  # already stopped (e.g. by a Grade 3 reaction): nothing changes
            f.problem(ev, t, f"Stop at {when}, but the infusion is not running or paused ({f.during()}); not applied.", "MON-3")
        return

    if kind == OBSERVATION_COMPLETED:
        if f.closed_at is not None:
            f.problem(ev, t, f"Observation was already closed at {f.t(f.closed_at)}; not applied.", "MON-2")
            return
        if status not in ("ended", "stopped"):
            f.problem(ev, t, f"Observation completed at {when}, but the infusion has not ended; not applied.", "MON-2")
            return
        open_r = f.open_reactions()
        if open_r:
            f.problem(
                ev, t,
                f"Observation completed at {when} while reaction {open_r[0].number} was not resolved; not applied: "
                "observation lasts until it is (CONV-IRR-3).",
                "CONV-IRR-3",
            )
            return
        end = f.obs_end(f.obs_anchor())
        assert end is not None
        if t < end:
            f.problem(
                ev, t,
                f"Observation completed at {when}, before it may end at {f.t(end)}; not applied. If the patient "
                "left, record 'observation incomplete' (MON-2).",
                "MON-2",
            )
            return
        f.closed_at = t
        f.close_kind = "completed"
        return

    if kind == OBSERVATION_INCOMPLETE:
        who = _text(d.get("who")) or ev.actor
        reason = _text(d.get("reason"))
        f.deviations.append(Deviation("observation_incomplete", t, who, reason, "MON-2", ev.actor))
        if f.closed_at is not None:
            f.problem(ev, t, f"Observation was already closed at {f.t(f.closed_at)}.", "MON-2")
        elif status in ("ended", "stopped"):
            f.closed_at = t
            f.close_kind = "incomplete"
        else:
            f.problem(
                ev, t,
                f"'Observation incomplete' at {when} while the infusion is {f.during()}: record the stop of the infusion.",
                "MON-2",
            )
        return

    if kind == VITALS_RECORDED:
        values = {name: d.get(name) for name, *_ in VITALS_FIELDS if name in d}
        point = d.get("point") if isinstance(d.get("point"), str) else None
        f.vitals.append(VitalsRecord(t, values, point, ev.actor, ev.ref))
        return

    if kind == REACTION_STARTED:
        n = number_of[seq]
        symptoms = _text(d.get("symptoms"))
        f.reactions[n] = _R(n, t, symptoms, f.during())
        if status == "running":  # paused at once (MOD-NH-3)
            f.close_segment(t)
            f.pauses.append([t, None, f"infusion reaction {n}: {symptoms}".rstrip(": "), n])
            f.status = "paused"
        return

    # reaction.graded / notified / treated / resolved
    n = reaction_for(ev, t, seq)
    if n is None or n not in f.reactions:
        f.problem(ev, t, f"{kind} at {when} names no reaction started before it; not applied.", "IRR-1")
        return
    r = f.reactions[n]
    if kind == REACTION_GRADED:
        grade = _parse_grade(d.get("grade"))
        if grade is None:
            f.problem(
                ev, t,
                f"Grade {d.get('grade')!r} for reaction {n} is not 1–4 or anaphylaxis (CTCAE-1); not applied.",
                "CTCAE-1",
            )
            return
        version = str(d.get("ctcae_version") or rules.CTCAE_VERSION)
        if version != rules.CTCAE_VERSION:
            f.problem(ev, t, f"Reaction {n} graded with CTCAE v{version}; Bedside grades with v{rules.CTCAE_VERSION}.", "CTCAE-5")
        r.apply_grade(t, grade, _text(d.get("correction_reason")), version)
        if is_severe(r.grade) and is_severe(final_grade.get(n)) and f.status in ("running", "paused"):
            # CONV-IRR-1: severe or life-threatening → stop the infusion; it cannot resume.
            f.stop(t, f"reaction {n}: {_grade_text(r.grade)}, CONV-IRR-1")
        return
    if kind == REACTION_NOTIFIED:
        r.notified.append((t, _text(d.get("who"))))
        return
    if kind == REACTION_TREATED:
        r.treatments.append((t, _text(d.get("treatment"))))
        return
    if kind == REACTION_RESOLVED:
        if r.resolved_at is not None:
            f.problem(ev, t, f"Reaction {n} was already resolved at {f.t(r.resolved_at)}; not applied.", "IRR-1")
            return
        outcome = d.get("outcome")
        if outcome not in OUTCOMES:
            f.problem(ev, t, f"Outcome {outcome!r} for reaction {n} is not resume or stop; not applied.", "IRR-1")
            return
        if outcome == "resume" and is_severe(final_grade.get(n)):
            f.problem(
                ev, t,
                f"Reaction {n} ({_grade_text(final_grade.get(n))}) recorded with outcome resume: a severe reaction "
                "cannot resume (CONV-IRR-1); treated as stop.",
                "CONV-IRR-1",
            )
            outcome = "stop"
        r.resolved_at = t
        r.outcome = outcome
        if outcome == "stop" and f.status in ("running", "paused"):
            f.stop(t, f"reaction {n}: outcome stop")
        return


# --- the state ----------------------------------------------------------------------------------------


def _fmt(when: datetime | None, tz: tzinfo, now: datetime) -> str:
    if when is None:
        return "unknown"
    local = when.astimezone(tz)
    text = local.strftime("%H:%M")
    if local.date() != now.astimezone(tz).date():
        text += local.strftime(" on %Y-%m-%d")
    return text


def _state(f: _Fold, now: datetime, acks: set[str]) -> MonitorState:
    s = f.settings
    tz = s.tz

    def hm(when: datetime | None) -> str:
        return _fmt(when, tz, now)

    # Timers.
    running = f.run + (now - f.seg_start if f.status == "running" and f.seg_start is not None else timedelta(0))
    pauses = tuple(Pause(p[0], p[1], p[2], p[3]) for p in f.pauses)
    paused = sum((p.length(now) for p in pauses), timedelta(0))
    finish = f.ended_at if f.status == "ended" else f.stopped_at if f.status == "stopped" else now
    elapsed = (finish - f.started_at) if f.started_at is not None else timedelta(0)

    if f.status in ("running", "paused"):
        assert f.started_at is not None
        # MON-3: end = start + 60 min + total pauses (+ flush, PREP-9); a running pause counts up to now.
        infusion_end_at: datetime | None = infusion_end(f.started_at, flush_min=f.flush_min) + paused
    elif f.status == "ended":
        infusion_end_at = f.ended_at
    elif f.status == "stopped":
        infusion_end_at = f.stopped_at
    else:
        infusion_end_at = None

    anchor = f.obs_anchor() if f.status in ("ended", "stopped") else infusion_end_at
    obs_min_end = observation_earliest_end(anchor) if anchor is not None else None
    obs_end = f.obs_end(anchor)
    open_reactions = f.open_reactions()

    # Phase.
    if f.status == "not_started":
        phase = NOT_STARTED
    elif f.status == "running":
        phase = INFUSING
    elif f.status == "paused":
        phase = PAUSED
    elif f.status == "ended":
        if f.closed_at is None:
            phase = OBSERVING
        else:
            phase = OBSERVATION_COMPLETE if f.close_kind == "completed" else OBSERVATION_INCOMPLETE_PHASE
    else:
        phase = STOPPED
    observation_open = f.status in ("ended", "stopped") and f.closed_at is None

    phase_started_at: datetime | None = None
    phase_left: timedelta | None = None
    phase_ends_at: datetime | None = None
    if phase == INFUSING:
        phase_started_at = f.started_at
        phase_ends_at = infusion_end_at
    elif phase == PAUSED:
        phase_started_at = pauses[-1].started_at
    elif phase == OBSERVING:
        phase_started_at = f.ended_at
        phase_ends_at = obs_end
    elif phase in (OBSERVATION_COMPLETE, OBSERVATION_INCOMPLETE_PHASE):
        phase_started_at = f.closed_at
    elif phase == STOPPED:
        phase_started_at = f.stopped_at
        phase_ends_at = obs_end if observation_open else None
    if phase_ends_at is not None:
        phase_left = max(phase_ends_at - now, timedelta(0))
    phase_elapsed = now - phase_started_at if phase_started_at is not None else None

    # Reactions (with the vitals step resolved against the recorded sets).
    reactions = tuple(
        Reaction(
            number=r.number,
            started_at=r.started_at,
            symptoms=r.symptoms,
            during=r.during,
            grade=r.grade,
            graded_at=r.graded_at,
            ctcae_version=r.version,
            grade_history=tuple(r.history),
            vitals_at=f.reaction_vitals(r),
            notified=tuple(r.notified),
            treatments=tuple(r.treatments),
            resolved_at=r.resolved_at,
            outcome=r.outcome,
        )
        for r in sorted(f.reactions.values(), key=lambda r: r.number)
    )
    severe = [r for r in reactions if r.severe]
    discontinuation = None
    if severe:
        r0 = severe[0]
        discontinuation = Proposal(
            "CONV-IRR-1",
            f"Permanent discontinuation of BESPONSA: reaction {r0.number} was {_grade_text(r0.grade)} "
            f"(CTCAE v{r0.ctcae_version}) at {hm(r0.graded_at)} (CONV-IRR-1, MOD-NH-3). No further dose can "
            "be scheduled until a prescriber records it; only a recorded grade correction changes this.",
            "prescriber",
            r0.number,
        )

    # Stability (CONV-STAB-1/3).
    deadline = f.deadline
    deadline_warning: str | None = None
    stability_alert: Alert | None = None
    dkey = iso_utc(deadline) if deadline is not None else ""
    lead = timedelta(minutes=s.stability_alert_min)
    if phase in (INFUSING, PAUSED):
        assert infusion_end_at is not None
        if deadline is None:
            deadline_warning = "No stability deadline is recorded for this bag: check the preparation record (CONV-STAB-1)."
            stability_alert = Alert(
                f"stability-unknown:{f.dose_id}", "warning",
                f"Dose {f.dose_id}: the bag's stability deadline is not recorded.",
                "Ask the pharmacist for the deadline (Table 6) before the infusion continues past it.",
                "CONV-STAB-1",
            )
        elif now > deadline:
            deadline_warning = (
                f"The bag's stability deadline {hm(deadline)} has passed: stop the infusion and discard the rest "
                "(CONV-STAB-3)."
            )
            stability_alert = Alert(
                f"stability-passed:{f.dose_id}:{dkey}", "critical",
                f"Dose {f.dose_id}: the bag's stability deadline {hm(deadline)} has passed "
                f"({_dur(now - deadline)} ago) and the infusion is not finished.",
                "Stop the infusion and discard the rest: product beyond stability is unusable (CONV-STAB-3, "
                "Table 6). Tell the pharmacist.",
                "CONV-STAB-3",
            )
        elif infusion_end_at > deadline:
            deadline_warning = (
                f"At this rate the infusion ends at {hm(infusion_end_at)}, after the bag's stability deadline "
                f"{hm(deadline)} (CONV-STAB-3)."
            )
            stability_alert = Alert(
                f"stability-over:{f.dose_id}:{dkey}", "critical",
                f"Dose {f.dose_id}: the infusion cannot end by the bag's stability deadline {hm(deadline)} "
                f"(projected end {hm(infusion_end_at)}).",
                "Do not continue past the deadline: ask the pharmacist; if the deadline stands, stop and discard "
                "the rest (CONV-STAB-3). A pharmacist may override an UNVERIFIED STAB-4 limit with a reason.",
                "CONV-STAB-3",
            )
        elif deadline - now <= lead:
            deadline_warning = (
                f"The bag's stability deadline is {hm(deadline)}, in {_dur(deadline - now)}: the infusion must end "
                "by then (CONV-STAB-3)."
            )
            stability_alert = Alert(
                f"stability-near:{f.dose_id}:{dkey}", "warning",
                f"Dose {f.dose_id}: the bag's stability deadline {hm(deadline)} is within "
                f"{s.stability_alert_min} min (projected end {hm(infusion_end_at)}).",
                "Avoid further pauses; the infusion must end by the deadline, otherwise stop and discard the "
                "rest (CONV-STAB-3).",
                "CONV-STAB-3",
            )

    # Permissions.
    if phase == INFUSING:
        can_pause = Permission(True)
    else:
        can_pause = Permission(False, f"The infusion is not running ({phase}).")
    if phase == PAUSED:
        blockers = f.resume_blockers()
        label_end = f.label_deadline
        if label_end is not None and now + max(f.target - f.run, timedelta(0)) > label_end:
            # Issue 15: no override reaches past a label limit (STAB-2); only UNVERIFIED ones are confirmed.
            blockers.append(
                f"resuming now would end the infusion at {hm(now + (f.target - f.run))}, after the label limit "
                f"{hm(label_end)} (STAB-2, no override): stop the infusion and discard the rest (CONV-STAB-3)"
            )
        can_resume = Permission(not blockers, "; ".join(blockers))
    elif phase == STOPPED and severe:
        can_resume = Permission(
            False, f"Reaction {severe[0].number} is {_grade_text(severe[0].grade)}: the infusion cannot resume (CONV-IRR-1)."
        )
    else:
        can_resume = Permission(False, f"The infusion is not paused ({phase}).")
    can_stop = Permission(True) if phase in (INFUSING, PAUSED) else Permission(False, f"The infusion is not running or paused ({phase}).")
    if not observation_open:
        if f.closed_at is not None:
            why = f"Observation was closed at {hm(f.closed_at)}."
        else:
            why = f"Observation starts when the infusion ends ({phase})."
        can_complete = Permission(False, why)
    elif open_reactions:
        can_complete = Permission(
            False,
            f"Reaction {open_reactions[0].number} is not resolved: observation continues until it is (CONV-IRR-3).",
        )
    elif obs_end is not None and now < obs_end:
        can_complete = Permission(
            False, f"Observation may end at {hm(obs_end)} ({_dur(obs_end - now)} left; MON-2). If the patient "
            "leaves earlier, record 'observation incomplete'."
        )
    else:
        can_complete = Permission(True)

    state_wo_alerts = dict(
        dose_id=f.dose_id,
        now=now,
        phase=phase,
        started_at=f.started_at,
        route=f.route,
        flush_min=f.flush_min,
        target_running=f.target,
        running=running,
        paused=paused,
        elapsed=elapsed,
        pauses=pauses,
        phase_started_at=phase_started_at,
        phase_elapsed=phase_elapsed,
        phase_left=phase_left,
        phase_ends_at=phase_ends_at,
        infusion_end_at=infusion_end_at,
        ended_at=f.ended_at if f.status == "ended" else None,
        stopped_at=f.stopped_at,
        stop_reason=f.stop_reason,
        observation_min_end=obs_min_end,
        observation_earliest_end=obs_end,
        observation_closed_at=f.closed_at,
        observation_outcome=f.close_kind,
        stability_deadline=deadline,
        deadline_warning=deadline_warning,
        resume_warning=None,
        vitals=tuple(f.vitals),
        vitals_due=_vitals_due(f, now, infusion_end_at, obs_end),
        reactions=reactions,
        discontinuation=discontinuation,
        can_pause=can_pause,
        can_resume=can_resume,
        can_stop=can_stop,
        can_complete_observation=can_complete,
        alerts=(),
        acknowledged=(),
        deviations=tuple(f.deviations),
        problems=tuple(f.problems),
        settings=s,
    )
    state = MonitorState(**state_wo_alerts)
    resume_warning = check_resume(state, now) if phase == PAUSED else None
    alerts = _alerts(f, state, stability_alert, hm)
    return MonitorState(
        **{
            **state_wo_alerts,
            "resume_warning": resume_warning,
            "alerts": tuple(a for a in alerts if a.id not in acks),
            "acknowledged": tuple(a for a in alerts if a.id in acks),
        }
    )


def _vitals_due(
    f: _Fold, now: datetime, infusion_end_at: datetime | None, obs_end: datetime | None
) -> tuple[VitalsDue, ...]:
    """The MON-4 schedule with each point's status."""
    s = f.settings
    grace = timedelta(minutes=s.vitals_grace_min)
    end_anchor = infusion_end_at
    obs_anchor = obs_end
    if obs_anchor is None and f.status in ("running", "paused") and end_anchor is not None and not f.open_reactions():
        obs_anchor = observation_earliest_end(end_anchor)
    anchors = {"start": f.started_at, "end": end_anchor, "observation_end": obs_anchor}
    closed = f.closed_at

    scheduled: list[tuple[VitalsPoint, datetime | None]] = []
    for point in s.vitals_schedule:
        if point.anchor == "before_start":
            scheduled.append((point, None))
        else:
            base = anchors[point.anchor]
            scheduled.append((point, None if base is None else base + timedelta(minutes=point.offset_min)))
    known = sorted({due for p, due in scheduled if due is not None and p.anchor != "before_start"})

    def status_for(due: datetime | None, window_end: datetime | None) -> str:
        if closed is not None and (due is None or due > closed):
            return "skipped"
        if due is None or now < due:
            return "pending"
        if window_end is not None and now >= window_end:
            return "missed"
        if closed is not None:
            return "missed"
        return "due" if now <= due + grace else "overdue"

    out: list[VitalsDue] = []
    for point, due in scheduled:
        key = point.key
        if point.anchor == "before_start":
            # Any set at or before the start (before it has started: any set so far).
            done = f.vitals_for(key, None, f.started_at, end_inclusive=True)
            if done is not None:
                status = "done"
            elif f.started_at is None:
                status = "due"
            else:
                status = "missed"
            out.append(VitalsDue(key, point.label, f.started_at, status, done, f.started_at))
            continue
        # The window runs from the point's due time to the next scheduled point's due time.
        window_end = next((k for k in known if due is not None and k > due), None)
        if due is not None:
            done = f.vitals_for(key, due, window_end)
        else:  # not yet known: only a set labelled for it counts
            done = next((v.at for v in f.vitals if v.point == key), None)
        if done is not None:
            out.append(VitalsDue(key, point.label, due, "done", done, window_end))
        else:
            out.append(VitalsDue(key, point.label, due, status_for(due, window_end), None, window_end))

    if s.vitals_at_reactions:  # MON-4: "and at any reaction"
        for r in sorted(f.reactions.values(), key=lambda r: r.number):
            key = f"reaction:{r.number}"
            done = f.reaction_vitals(r)
            label = f"reaction {r.number}"
            if done is not None:
                out.append(VitalsDue(key, label, r.started_at, "done", done, r.resolved_at))
            elif r.resolved_at is not None:
                out.append(VitalsDue(key, label, r.started_at, "missed", None, r.resolved_at))
            else:
                status = "due" if now <= r.started_at + grace else "overdue"
                out.append(VitalsDue(key, label, r.started_at, status, None, None))
    return tuple(out)


def _alerts(f: _Fold, st: MonitorState, stability_alert: Alert | None, hm: Any) -> list[Alert]:
    dose = f.dose_id
    out: list[Alert] = []
    if stability_alert is not None:
        out.append(stability_alert)

    # Reactions (CONV-IRR-1 to 3).
    for r in st.reactions:
        if r.severe:
            out.append(
                Alert(
                    f"reaction-severe:{dose}:{r.number}:{r.grade}", "critical",
                    f"Dose {dose}: infusion reaction {r.number} (started {hm(r.started_at)}) is {_grade_text(r.grade)} "
                    f"(CTCAE v{r.ctcae_version}).",
                    "Stop the infusion; it cannot resume. Permanent discontinuation of BESPONSA is proposed: a "
                    "prescriber must record it before any further dose (CONV-IRR-1, MOD-NH-3).",
                    "CONV-IRR-1",
                )
            )
        if r.state == "open":
            nxt = r.next_step or "outcome"
            held = " The infusion stays paused until then (CONV-IRR-2)." if st.phase == PAUSED else ""
            out.append(
                Alert(
                    f"reaction-open:{dose}:{r.number}", "warning",
                    f"Dose {dose}: infusion reaction {r.number} started at {hm(r.started_at)}"
                    + (f" ({r.symptoms})" if r.symptoms else "") + "; not yet resolved.",
                    f"Next step: record the {nxt}.{held} Observation continues until the reaction is recorded "
                    "as resolved (CONV-IRR-3).",
                    "IRR-1",
                )
            )
        elif r.missing_steps:
            out.append(
                Alert(
                    f"reaction-record:{dose}:{r.number}", "warning",
                    f"Dose {dose}: the record of reaction {r.number} (started {hm(r.started_at)}) lacks "
                    f"{', '.join(r.missing_steps)}.",
                    f"Record the {', '.join(r.missing_steps)} of reaction {r.number} (IRR-1, CTCAE-1).",
                    "IRR-1",
                )
            )

    # Phase ended (MON-2) and observation may end (MON-2, CONV-IRR-3).
    if st.phase == OBSERVING and st.ended_at is not None:
        out.append(
            Alert(
                f"infusion-ended:{dose}:{iso_utc(st.ended_at)}", "info",
                f"Dose {dose}: the infusion ended at {hm(st.ended_at)} after {_dur(st.running)} of running time"
                + (f" and {_dur(st.paused)} paused" if st.paused else "") + ". Observation has started.",
                f"Record end-of-infusion vital signs; observe the patient until at least {hm(st.observation_min_end)} "
                "(MON-1, MON-2).",
                "MON-2",
            )
        )
    if st.phase == STOPPED and st.stopped_at is not None and st.observation_closed_at is None:
        out.append(
            Alert(
                f"infusion-stopped:{dose}:{iso_utc(st.stopped_at)}", "warning",
                f"Dose {dose}: the infusion was stopped at {hm(st.stopped_at)} after {_dur(st.running)} of running "
                f"time ({st.stop_reason}).",
                f"Observe the patient until at least {hm(st.observation_min_end)} and until every reaction is "
                "resolved (MON-1, CONV-IRR-3); record vital signs.",
                "MON-1",
            )
        )
    if st.observation_open and st.observation_earliest_end is not None and st.now >= st.observation_earliest_end:
        out.append(
            Alert(
                f"observation-may-end:{dose}:{iso_utc(st.observation_earliest_end)}", "info",
                f"Dose {dose}: observation may end (since {hm(st.observation_earliest_end)}; the infusion ended at "
                f"{hm(st.infusion_end_at)}).",
                "Record end-of-observation vital signs, then complete the observation (MON-2, MON-4).",
                "MON-2",
            )
        )

    # Vital signs (MON-4).
    for v in st.vitals_due:
        due = iso_utc(v.due_at) if v.due_at is not None else "-"
        if v.status in ("due", "overdue"):
            when = f"at {hm(v.due_at)}" if v.due_at is not None else "now"
            out.append(
                Alert(
                    f"vitals-{v.status}:{dose}:{v.key}:{due}",
                    "warning",
                    f"Dose {dose}: vital signs ({v.label}) {'are due' if v.status == 'due' else 'were due'} {when}"
                    + (" and are not recorded" if v.status == "overdue" else "") + ".",
                    "Record temperature, heart rate, blood pressure, respiratory rate and SpO2 now (MON-4).",
                    "MON-4",
                )
            )
        elif v.status == "missed":
            out.append(
                Alert(
                    f"vitals-missed:{dose}:{v.key}:{due}", "warning",
                    f"Dose {dose}: no vital signs were recorded for '{v.label}'"
                    + (f" (due {hm(v.due_at)})" if v.due_at is not None else "") + ".",
                    "Record a set now if the patient is still here; enter a late set with its real time if one was "
                    "taken (MON-4).",
                    "MON-4",
                )
            )

    # Events that did not fit.
    for p in f.problems:
        out.append(
            Alert(
                f"event-problem:{p.ref}", "warning", f"Dose {dose}: {p.text}",
                "Check the record; if it is wrong, record a correction.", p.rule,
            )
        )
    order = {sev: i for i, sev in enumerate(SEVERITIES)}
    return sorted(out, key=lambda a: (order.get(a.severity, 9), a.id))


# --- resume check -----------------------------------------------------------------------------------


def check_resume(state: MonitorState, now: datetime) -> str | None:
    """A warning if resuming at ``now`` would end the infusion after the bag's deadline (CONV-STAB-3).

    ``None`` when there is nothing to say (not paused, or the projected end is within the deadline;
    ending exactly at the deadline is allowed, as ``Deadlines.allows_end``).
    """
    now = _utc("now", now)
    if state.phase != PAUSED:
        return None
    tz = state.settings.tz
    end = now + state.running_left
    if state.stability_deadline is None:
        return (
            f"The bag's stability deadline is not recorded: resuming now would end the infusion at "
            f"{_fmt(end, tz, now)}. Check the deadline with the pharmacist before resuming (CONV-STAB-1)."
        )
    if end > state.stability_deadline:
        return (
            f"Resuming now would end the infusion at {_fmt(end, tz, now)}, after the bag's stability deadline "
            f"{_fmt(state.stability_deadline, tz, now)} (CONV-STAB-3): do not resume; discard and prepare again, "
            "unless a pharmacist overrides an UNVERIFIED STAB-4 limit with a reason."
        )
    return None


# --- the active-infusions board -----------------------------------------------------------------------


def active_infusions(
    events_by_patient: Mapping[str, Sequence[Event]], now: datetime, settings: MonitorSettings = MonitorSettings()
) -> list[tuple[str, str, MonitorState]]:
    """Every dose now INFUSING, PAUSED or OBSERVING (and STOPPED doses still under observation).

    Sorted by when the phase ends (soonest first; open-ended last), then patient and dose.
    """
    now = _utc("now", now)
    out: list[tuple[str, str, MonitorState]] = []
    for patient_id, events in events_by_patient.items():
        for dose in dose_ids(events):
            st = monitor(events, dose, now, settings)
            if st.active:
                out.append((patient_id, dose, st))
    far = datetime.max.replace(tzinfo=_UTC)
    out.sort(key=lambda item: (item[2].phase_ends_at or far, item[0], item[1]))
    return out


# --- vital signs input (CONV-INPUT-1) ---------------------------------------------------------------


def _vitals_parse(raw: Mapping[str, Any]) -> tuple[dict[str, Decimal], dict[str, str]]:
    values: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for name, label, limit, decimals in VITALS_FIELDS:
        lo, hi, _ulo, _uhi, unit = rules.INPUT_LIMITS[limit]
        rng = f"{lo} to {hi} {unit}"
        value = raw.get(name)
        text = "" if value is None else str(value).strip()
        if decimals and text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not text:
            errors[name] = f"{label}: required ({rng})."
            continue
        pattern = _DECIMAL_RE if decimals else _INT_RE
        if not pattern.match(text):
            kind = "a number (up to 2 decimals)" if decimals else "a whole number"
            errors[name] = f"{label}: enter {kind} from {rng}."
            continue
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex guards this
            errors[name] = f"{label}: not a number ({rng})."
            continue
        if not lo <= number <= hi:
            errors[name] = f"{label}: {text} is outside the allowed range {rng}."
            continue
        values[name] = number
    if "sys" in values and "dia" in values:
        sys_, dia = values["sys"], values["dia"]
        if dia > sys_ or (dia == sys_ and sys_ > 0):
            lo, hi, *_r, unit = rules.INPUT_LIMITS["diastolic_bp"]
            errors["dia"] = f"Diastolic BP (mmHg): {dia} must be lower than the systolic {sys_} mmHg ({lo} to {hi} {unit})."
            del values["dia"]
    return values, errors


def unusual_vitals(raw: Mapping[str, Any]) -> dict[str, str]:
    """Valid values outside the usual band: each needs an explicit confirmation (CONV-INPUT-1)."""
    values, _errors = _vitals_parse(raw)
    out: dict[str, str] = {}
    for name, label, limit, _dec in VITALS_FIELDS:
        if name not in values:
            continue
        _lo, _hi, ulo, uhi, unit = rules.INPUT_LIMITS[limit]
        if not ulo <= values[name] <= uhi:
            out[name] = f"{label}: {values[name]} {unit} is unusual (usual {ulo} to {uhi}): confirm it is right (CONV-INPUT-1)."
    return out


def validate_vitals(
    raw: Mapping[str, Any], *, confirmed: Iterable[str] = ()
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Validate one set of vital signs typed as strings.

    Returns ``(data, {})`` with ``temp_c`` as an exact decimal string and the others as ints, or
    ``(None, errors)`` with a message per field naming the field and its allowed range. A value
    outside the usual band (:func:`unusual_vitals`) is an error until its field is in ``confirmed``;
    confirmed unusual fields are listed in ``data["confirmed_unusual"]``.
    """
    values, errors = _vitals_parse(raw)
    unusual = unusual_vitals(raw)
    confirmed = set(confirmed)
    for name, message in unusual.items():
        if name not in confirmed and name not in errors:
            errors[name] = message
    if errors:
        return None, errors
    data: dict[str, Any] = {}
    for name, _label, _limit, decimals in VITALS_FIELDS:
        number = values[name]
        data[name] = format(number, "f") if decimals else int(number)
    if unusual:
        data["confirmed_unusual"] = sorted(unusual)
    return data, {}


# --- event data builders ----------------------------------------------------------------------------


def _refuse_controls(fields: Mapping[str, Any], name: str, label: str) -> None:
    """Typed text with C0/C1, DEL or bidi controls is refused, naming the field (core/text.py)."""
    value = fields.get(name)
    if isinstance(value, str) and unsafe_message(label, value):
        raise ValueError(unsafe_message(label, value))


def _need_text(fields: Mapping[str, Any], name: str, label: str) -> str:
    _refuse_controls(fields, name, label)
    text = _text(fields.get(name))
    if not text:
        raise ValueError(f"{label}: required.")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{label}: at most {_MAX_TEXT} characters.")
    return text


def event_data(kind: str, dose_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """Valid ``data`` for an event of ``kind`` (see the module docstring); raises ValueError naming the field."""
    if kind not in DOSE_KINDS:
        raise ValueError(f"unknown infusion event kind {kind!r}")
    if not isinstance(dose_id, str) or not dose_id.strip():
        raise ValueError("dose_id: required.")
    data: dict[str, Any] = {"dose_id": dose_id, "at": iso_utc(_utc("at", at))}
    reaction = fields.get("reaction")
    if reaction is not None:
        if isinstance(reaction, bool) or not isinstance(reaction, int) or reaction < 1:
            raise ValueError("reaction: the reaction's number (1, 2, …).")
    if kind == INFUSION_STARTED:
        route = fields.get("route", "bag")
        if route not in ROUTES:
            raise ValueError("route: bag or syringe.")
        flush = fields.get("flush_min", 0)
        if isinstance(flush, bool) or not isinstance(flush, int) or flush < 0:
            raise ValueError("flush_min: whole minutes ≥ 0 (PREP-9).")
        deadline = fields.get("stability_deadline")
        data.update(
            route=route,
            flush_min=flush,
            stability_deadline=None if deadline is None else iso_utc(_utc("stability_deadline", deadline)),
        )
        label = fields.get("label_deadline")
        if label is not None:
            data["label_deadline"] = iso_utc(_utc("label_deadline", label))
    elif kind in (INFUSION_PAUSED, INFUSION_STOPPED):
        data["reason"] = _need_text(fields, "reason", "Reason")
    elif kind == OBSERVATION_INCOMPLETE:
        data["reason"] = _need_text(fields, "reason", "Reason")
        _refuse_controls(fields, "who", "Who")
        who = _text(fields.get("who"))
        if who:
            data["who"] = who
    elif kind == VITALS_RECORDED:
        for name, label, *_r in VITALS_FIELDS:
            if name not in fields:
                raise ValueError(f"{label}: required (validate with validate_vitals first).")
            data[name] = fields[name]
        if fields.get("confirmed_unusual"):
            data["confirmed_unusual"] = list(fields["confirmed_unusual"])
        if fields.get("point"):
            data["point"] = str(fields["point"])
    elif kind == REACTION_STARTED:
        data["symptoms"] = _need_text(fields, "symptoms", "Symptoms")
    elif kind == REACTION_GRADED:
        grade = _parse_grade(fields.get("grade"))
        if grade is None:
            raise ValueError("Grade: CTCAE Grade 1, 2, 3 or 4, or anaphylaxis (CTCAE-1).")
        data.update(grade=grade, ctcae_version=rules.CTCAE_VERSION)
        _refuse_controls(fields, "correction_reason", "Reason")
        correction = _text(fields.get("correction_reason"))
        if correction:
            data["correction_reason"] = correction
    elif kind == REACTION_NOTIFIED:
        data["who"] = _need_text(fields, "who", "Who was notified")
    elif kind == REACTION_TREATED:
        data["treatment"] = _need_text(fields, "treatment", "Treatment (or 'none')")
    elif kind == REACTION_RESOLVED:
        outcome = fields.get("outcome")
        if outcome not in OUTCOMES:
            raise ValueError("Outcome: resume or stop.")
        data["outcome"] = outcome
    if reaction is not None and kind in (REACTION_GRADED, REACTION_NOTIFIED, REACTION_TREATED, REACTION_RESOLVED):
        data["reaction"] = reaction
    return data


def grade_correction_data(state: MonitorState, reaction: int, grade: object, reason: object, role: str,
                          at: datetime) -> dict[str, Any]:
    """``reaction.graded`` data correcting a reaction's grade (CONV-IRR-1, CONV-OVR-1, §16.1).

    The worst grade otherwise stands; only this recorded correction, by a prescriber, with a reason,
    replaces it, and so lifts (or imposes) the permanent-discontinuation block of a severe grade.
    Raises ValueError naming the field: a role other than prescriber, an empty reason, an unknown or
    ungraded reaction, or the grade it already has."""
    if role != "prescriber":
        raise ValueError("Grade correction: only a prescriber may correct a reaction's grade (CONV-IRR-1, CONV-OVR-1).")
    why = _text(reason)
    if not why:
        raise ValueError("Reason: required (why the recorded grade was wrong; CONV-IRR-1).")
    r = next((x for x in state.reactions if x.number == reaction), None)
    if r is None:
        raise ValueError(f"Reaction: there is no reaction {reaction} on dose {state.dose_id}.")
    if r.grade is None:
        raise ValueError(f"Reaction {reaction} is not graded yet: grade it (e) rather than correct it.")
    new = _parse_grade(grade)
    if new is None:
        raise ValueError("Grade: CTCAE Grade 1, 2, 3 or 4, or anaphylaxis (CTCAE-1).")
    if new == r.grade:
        raise ValueError(f"Grade: reaction {reaction} is already {_grade_text(new)}.")
    data = event_data(REACTION_GRADED, state.dose_id, at, grade=new, correction_reason=why, reaction=reaction)
    data["corrected_by_role"] = "prescriber"
    return data


def acknowledgement_data(alert: Alert | str, at: datetime, dose_id: str | None = None) -> dict[str, Any]:
    """``data`` of an ``alert.acknowledged`` event (WARN-ALERT-1)."""
    alert_id = alert.id if isinstance(alert, Alert) else alert
    if not isinstance(alert_id, str) or not alert_id:
        raise ValueError("alert_id: required.")
    data: dict[str, Any] = {"alert_id": alert_id, "at": iso_utc(_utc("at", at))}
    if dose_id:
        data["dose_id"] = dose_id
    return data

"""The monitor fold: a dose's events, in fact-time order, applied to a small mutable fold.

``monitor(events, dose_id, now)`` is the pure entry point (core/infusion/__init__.py describes the
phases and the event vocabulary); core/infusion/state.py turns the fold into a MonitorState.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from .. import rules
from ..events import Event
from ..facts import strict_fact_time
from .course import _R, _Fold
from .events import (
    ALERT_ACKNOWLEDGED,
    DOSE_KINDS,
    INFUSION_ENDED,
    INFUSION_PAUSED,
    INFUSION_RESUMED,
    INFUSION_STARTED,
    INFUSION_STOPPED,
    OBSERVATION_COMPLETED,
    OBSERVATION_INCOMPLETE,
    REACTION_GRADED,
    REACTION_NOTIFIED,
    REACTION_RESOLVED,
    REACTION_STARTED,
    REACTION_TREATED,
    VITALS_RECORDED,
)
from .model import (
    _UTC,
    OUTCOMES,
    ROUTES,
    Deviation,
    MonitorSettings,
    MonitorState,
    VitalsRecord,
    _dur,
    _grade_rank,
    _grade_text,
    _parse_grade,
    _parse_time,
    _text,
    _utc,
    is_severe,
)
from .reactions import reaction_numbers
from .vitals import VITALS_FIELDS


def _data_time(ev: Event) -> datetime | None:
    """The fact time the user entered (``at``), None when it does not read (CONV-TIME-1: such an
    event is listed, not placed at a time nobody entered); when it was written if it names none."""
    return strict_fact_time(ev, ("at",))


def dose_ids(events: Iterable[Event]) -> list[str]:
    """The dose ids with an ``infusion.started`` event, in log order."""
    out: dict[str, None] = {}
    for ev in events:
        if ev.kind == INFUSION_STARTED and isinstance(ev.data.get("dose_id"), str):
            out.setdefault(ev.data["dose_id"], None)
    return list(out)


def monitor(events: Sequence[Event], dose_id: str, now: datetime, settings: MonitorSettings = MonitorSettings()) -> MonitorState:
    """The monitor state of dose ``dose_id`` at ``now``: a pure fold over the patient's events."""
    now = _utc("now", now)
    return fold_dose(events, dose_id, now, settings).at(now)


class Folded:
    """A dose's events applied in order (not yet advanced to a clock): :meth:`at` gives the state at
    any ``now`` not earlier than :attr:`latest`, the latest fact time applied (the timers are the
    only part that moves with the clock, MON-2, MON-3)."""

    def __init__(self, fold: _Fold, acks: set[str], latest: datetime | None):
        self.fold, self.acks, self.latest = fold, acks, latest

    def at(self, now: datetime) -> MonitorState:
        from .state import build_state

        f = copy.copy(self.fold)  # advance() only rebinds the fold's attributes: a shallow copy suffices
        f.advance(now)
        return build_state(f, now, self.acks)


def fold_dose(events: Sequence[Event], dose_id: str, now: datetime, settings: MonitorSettings = MonitorSettings()) -> Folded:
    """Apply dose ``dose_id``'s events with a fact time not later than ``now`` (the later ones are
    listed as problems, CONV-TIME-1)."""
    f = _Fold(dose_id, settings)
    acks, items = _dose_items(f, events, dose_id, now)
    ctx = _Context(items)
    for t, seq, ev in items:
        f.advance(t)
        _HANDLERS[ev.kind](f, ev, t, seq, ctx)
    return Folded(f, acks, items[-1][0] if items else None)


def _dose_items(
    f: _Fold, events: Sequence[Event], dose_id: str, now: datetime
) -> tuple[set[str], list[tuple[datetime, int, Event]]]:
    """The acknowledged alert ids, and the dose's events with a readable time not later than now,
    in fact-time order (ties: log order); the others are listed as problems (CONV-TIME-1)."""
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
                ev,
                t,
                f"{ev.kind} ({ev.ref}) is recorded for {f.t(t)}, later than now: not applied; check the time.",
                "CONV-TIME-1",
            )
            continue
        items.append((t, ev.seq, ev))
    items.sort(key=lambda item: (item[0], item[1]))
    return acks, items


class _Context:
    """Reaction numbers by start order, and each reaction's final grade (so that a later recorded
    grade correction undoes the stop it would otherwise have caused, CONV-IRR-1)."""

    def __init__(self, items: list[tuple[datetime, int, Event]]):
        self.number_of = reaction_numbers(ev for _t, _seq, ev in items)  # the one numbering (reactions.py)
        self.starts = [(t, seq) for t, seq, _ev in items if seq in self.number_of]
        self.final_grade: dict[int, int | str] = {}
        for t, seq, ev in items:
            if ev.kind == REACTION_GRADED:
                self._grade(ev, t, seq)

    def _grade(self, ev: Event, t: datetime, seq: int) -> None:
        n = self.reaction_for(ev, t, seq)
        grade = _parse_grade(ev.data.get("grade"))
        if n is None or grade is None:
            return
        correction = _text(ev.data.get("correction_reason"))
        old = self.final_grade.get(n)
        if correction or old is None or _grade_rank(grade) >= _grade_rank(old):
            self.final_grade[n] = grade

    def reaction_for(self, ev: Event, t: datetime, seq: int) -> int | None:
        """The reaction an event belongs to: the one it names, else the latest started at or before it."""
        starts = self.starts
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


# --- one handler per event kind (each: the fold, the event, its fact time, its seq, the context) ----


def _on_started(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    d = ev.data
    if f.status != "not_started":
        f.problem(ev, t, f"A second start at {f.t(t)}: the infusion started at {f.t(f.started_at)}; not applied.", "MON-3")
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


def _on_paused(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    if f.status == "running":
        f.close_segment(t)
        f.pauses.append([t, None, _text(ev.data.get("reason")), None])
        f.status = "paused"
    elif f.status != "paused":  # a second pause while paused changes nothing
        f.problem(ev, t, f"Pause at {f.t(t)}, but the infusion is not running ({f.during()}); not applied.", "MON-3")


def _on_resumed(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    if f.status != "paused":
        f.problem(ev, t, f"Resume at {f.t(t)}, but the infusion is not paused ({f.during()}); not applied.", "MON-3")
        return
    blockers = f.resume_blockers()
    if blockers:
        # It happened: apply it, and record the deviation.
        f.deviations.append(Deviation("resumed_with_reaction", t, ev.actor, "; ".join(blockers), "CONV-IRR-2", ev.actor))
    p = f.open_pause()
    if p is not None:
        p[1] = t
    f.status = "running"
    f.seg_start = t
    projected = t + (f.target - f.run)
    if f.deadline is not None and projected > f.deadline:
        f.deviations.append(
            Deviation(
                "resumed_past_deadline",
                t,
                ev.actor,
                f"resumed at {f.t(t)}; projected end {f.t(projected)} is after the stability deadline {f.t(f.deadline)}",
                "CONV-STAB-3",
                ev.actor,
            )
        )


def _on_ended(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    if f.status == "running":
        f.close_segment(t)
        f.ended_at = t
        f.end_explicit = True
        f.status = "ended"
        if f.run < f.target:
            f.deviations.append(
                Deviation(
                    "infusion_short",
                    t,
                    ev.actor,
                    f"ended at {f.t(t)} after {_dur(f.run)} of running time; planned {_dur(f.target)}",
                    "ADM-1",
                    ev.actor,
                )
            )
    elif f.status == "ended" and not f.end_explicit and f.closed_at is None:
        assert f.ended_at is not None
        f.run += t - f.ended_at  # the actual end is later than the derived one
        f.ended_at = t
        f.end_explicit = True
    else:
        f.problem(ev, t, f"End at {f.t(t)}, but the infusion is not running ({f.during()}); not applied.", "MON-3")


def _on_stopped(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    if f.status in ("running", "paused"):
        f.stop(t, _text(ev.data.get("reason")) or "stopped")
    elif f.status != "stopped":  # already stopped (e.g. by a Grade 3 reaction): nothing changes
        f.problem(ev, t, f"Stop at {f.t(t)}, but the infusion is not running or paused ({f.during()}); not applied.", "MON-3")


def _on_completed(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    why = f.cannot_complete(t)
    if why is not None:
        f.problem(ev, t, *why)
        return
    f.closed_at = t
    f.close_kind = "completed"


def _on_incomplete(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    d = ev.data
    who = _text(d.get("who")) or ev.actor
    reason = _text(d.get("reason"))
    f.deviations.append(Deviation("observation_incomplete", t, who, reason, "MON-2", ev.actor))
    if f.closed_at is not None:
        f.problem(ev, t, f"Observation was already closed at {f.t(f.closed_at)}.", "MON-2")
    elif f.status in ("ended", "stopped"):
        f.closed_at = t
        f.close_kind = "incomplete"
    else:
        f.problem(
            ev,
            t,
            f"'Observation incomplete' at {f.t(t)} while the infusion is {f.during()}: record the stop of the infusion.",
            "MON-2",
        )


def _on_vitals(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    d = ev.data
    values = {name: d.get(name) for name, *_ in VITALS_FIELDS if name in d}
    point = d.get("point") if isinstance(d.get("point"), str) else None
    f.vitals.append(VitalsRecord(t, values, point, ev.actor, ev.ref))


def _on_reaction_started(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    n = ctx.number_of[seq]
    symptoms = _text(ev.data.get("symptoms"))
    f.reactions[n] = _R(n, t, symptoms, f.during())
    if f.status == "running":  # paused at once (MOD-NH-3)
        f.close_segment(t)
        f.pauses.append([t, None, f"infusion reaction {n}: {symptoms}".rstrip(": "), n])
        f.status = "paused"


def _reaction_of(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> _R | None:
    """The started reaction a reaction step belongs to; else a problem (IRR-1) and None."""
    n = ctx.reaction_for(ev, t, seq)
    if n is None or n not in f.reactions:
        f.problem(ev, t, f"{ev.kind} at {f.t(t)} names no reaction started before it; not applied.", "IRR-1")
        return None
    return f.reactions[n]


def _on_graded(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    r = _reaction_of(f, ev, t, seq, ctx)
    if r is None:
        return
    d, n = ev.data, r.number
    grade = _parse_grade(d.get("grade"))
    if grade is None:
        f.problem(
            ev,
            t,
            f"Grade {d.get('grade')!r} for reaction {n} is not 1–4 or anaphylaxis (CTCAE-1); not applied.",
            "CTCAE-1",
        )
        return
    version = str(d.get("ctcae_version") or rules.CTCAE_VERSION)
    if version != rules.CTCAE_VERSION:
        f.problem(ev, t, f"Reaction {n} graded with CTCAE v{version}; Bedside grades with v{rules.CTCAE_VERSION}.", "CTCAE-5")
    r.apply_grade(t, grade, _text(d.get("correction_reason")), version)
    if is_severe(r.grade) and is_severe(ctx.final_grade.get(n)) and f.status in ("running", "paused"):
        # CONV-IRR-1: severe or life-threatening → stop the infusion; it cannot resume.
        f.stop(t, f"reaction {n}: {_grade_text(r.grade)}, CONV-IRR-1")


def _on_notified(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    r = _reaction_of(f, ev, t, seq, ctx)
    if r is not None:
        r.notified.append((t, _text(ev.data.get("who"))))


def _on_treated(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    r = _reaction_of(f, ev, t, seq, ctx)
    if r is not None:
        r.treatments.append((t, _text(ev.data.get("treatment"))))


def _on_resolved(f: _Fold, ev: Event, t: datetime, seq: int, ctx: _Context) -> None:
    r = _reaction_of(f, ev, t, seq, ctx)
    if r is None:
        return
    n = r.number
    if r.resolved_at is not None:
        f.problem(ev, t, f"Reaction {n} was already resolved at {f.t(r.resolved_at)}; not applied.", "IRR-1")
        return
    outcome = ev.data.get("outcome")
    if outcome not in OUTCOMES:
        f.problem(ev, t, f"Outcome {outcome!r} for reaction {n} is not resume or stop; not applied.", "IRR-1")
        return
    if outcome == "resume" and is_severe(ctx.final_grade.get(n)):
        f.problem(
            ev,
            t,
            f"Reaction {n} ({_grade_text(ctx.final_grade.get(n))}) recorded with outcome resume: a severe reaction "
            "cannot resume (CONV-IRR-1); treated as stop.",
            "CONV-IRR-1",
        )
        outcome = "stop"
    r.resolved_at = t
    r.outcome = outcome
    if outcome == "stop" and f.status in ("running", "paused"):
        f.stop(t, f"reaction {n}: outcome stop")


_HANDLERS = {
    INFUSION_STARTED: _on_started,
    INFUSION_PAUSED: _on_paused,
    INFUSION_RESUMED: _on_resumed,
    INFUSION_ENDED: _on_ended,
    INFUSION_STOPPED: _on_stopped,
    OBSERVATION_COMPLETED: _on_completed,
    OBSERVATION_INCOMPLETE: _on_incomplete,
    VITALS_RECORDED: _on_vitals,
    REACTION_STARTED: _on_reaction_started,
    REACTION_GRADED: _on_graded,
    REACTION_NOTIFIED: _on_notified,
    REACTION_TREATED: _on_treated,
    REACTION_RESOLVED: _on_resolved,
}


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

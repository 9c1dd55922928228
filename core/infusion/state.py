"""From the fold to the MonitorState: timers, phase, reactions, stability, permissions, vitals due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from attrs import frozen

from ..events import iso_utc
from ..stability import infusion_end, observation_earliest_end
from .alerts import _alerts, check_resume
from .model import (
    INFUSING,
    NOT_STARTED,
    OBSERVATION_COMPLETE,
    OBSERVATION_INCOMPLETE_PHASE,
    OBSERVING,
    PAUSED,
    STOPPED,
    Alert,
    MonitorState,
    Pause,
    Permission,
    Proposal,
    Reaction,
    VitalsDue,
    VitalsPoint,
    _dur,
    _fmt,
    _grade_text,
    dose_label,
)

if TYPE_CHECKING:
    from .course import _R, _Fold

Hm = Callable[[datetime | None], str]


@frozen
class _Times:
    """The timers at ``now`` (MON-3, MON-2)."""

    running: timedelta
    pauses: tuple[Pause, ...]
    paused: timedelta
    elapsed: timedelta
    infusion_end_at: datetime | None
    obs_min_end: datetime | None
    obs_end: datetime | None


def _times(f: _Fold, now: datetime) -> _Times:
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
    return _Times(running, pauses, paused, elapsed, infusion_end_at, obs_min_end, f.obs_end(anchor))


def _phase(f: _Fold) -> str:
    if f.status == "ended":
        if f.closed_at is None:
            return OBSERVING
        return OBSERVATION_COMPLETE if f.close_kind == "completed" else OBSERVATION_INCOMPLETE_PHASE
    return {"not_started": NOT_STARTED, "running": INFUSING, "paused": PAUSED}.get(f.status, STOPPED)


def _phase_span(f: _Fold, phase: str, tm: _Times, now: datetime) -> dict[str, Any]:
    """When the phase started, how long it has run, when it ends and how long is left."""
    observation_open = f.status in ("ended", "stopped") and f.closed_at is None
    started: datetime | None = None
    ends: datetime | None = None
    if phase == INFUSING:
        started, ends = f.started_at, tm.infusion_end_at
    elif phase == PAUSED:
        started = tm.pauses[-1].started_at
    elif phase == OBSERVING:
        started, ends = f.ended_at, tm.obs_end
    elif phase in (OBSERVATION_COMPLETE, OBSERVATION_INCOMPLETE_PHASE):
        started = f.closed_at
    elif phase == STOPPED:
        started, ends = f.stopped_at, (tm.obs_end if observation_open else None)
    return dict(
        phase_started_at=started,
        phase_elapsed=now - started if started is not None else None,
        phase_left=max(ends - now, timedelta(0)) if ends is not None else None,
        phase_ends_at=ends,
    )


def _reaction(f: _Fold, r: _R) -> Reaction:
    """A reaction, with the vitals step resolved against the recorded sets."""
    return Reaction(
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


def _discontinuation(reactions: tuple[Reaction, ...], hm: Hm) -> Proposal | None:
    severe = [r for r in reactions if r.severe]
    if not severe:
        return None
    r0 = severe[0]
    return Proposal(
        "CONV-IRR-1",
        f"Permanent discontinuation of BESPONSA: reaction {r0.number} was {_grade_text(r0.grade)} "
        f"(CTCAE v{r0.ctcae_version}) at {hm(r0.graded_at)} (CONV-IRR-1, MOD-NH-3). No further dose can "
        "be scheduled until a prescriber records it; only a recorded grade correction changes this.",
        "prescriber",
        r0.number,
    )


def _stability(f: _Fold, phase: str, end: datetime | None, now: datetime, hm: Hm) -> tuple[str | None, Alert | None]:
    """The bag's deadline warning and alert while infusing or paused (CONV-STAB-1/3)."""
    if phase not in (INFUSING, PAUSED):
        return None, None
    assert end is not None
    deadline, dose = f.deadline, f.dose_id
    if deadline is None:
        return (
            "No stability deadline is recorded for this bag: check the preparation record (CONV-STAB-1).",
            Alert(
                f"stability-unknown:{dose}",
                "warning",
                f"{dose_label(dose)}: the bag's stability deadline is not recorded.",
                "Ask the pharmacist for the deadline (Table 6) before the infusion continues past it.",
                "CONV-STAB-1",
            ),
        )
    if now > deadline:
        return _deadline_passed(dose, deadline, now, hm)
    if end > deadline:
        return _deadline_over(dose, deadline, end, hm)
    if deadline - now <= timedelta(minutes=f.settings.stability_alert_min):
        return _deadline_near(dose, deadline, end, now, f.settings.stability_alert_min, hm)
    return None, None


def _deadline_passed(dose: str, deadline: datetime, now: datetime, hm: Hm) -> tuple[str, Alert]:
    return (
        f"The bag's stability deadline {hm(deadline)} has passed: stop the infusion and discard the rest (CONV-STAB-3).",
        Alert(
            f"stability-passed:{dose}:{iso_utc(deadline)}",
            "critical",
            f"{dose_label(dose)}: the bag's stability deadline {hm(deadline)} has passed "
            f"({_dur(now - deadline)} ago) and the infusion is not finished.",
            "Stop the infusion and discard the rest: product beyond stability is unusable (CONV-STAB-3, "
            "Table 6). Tell the pharmacist.",
            "CONV-STAB-3",
        ),
    )


def _deadline_over(dose: str, deadline: datetime, end: datetime, hm: Hm) -> tuple[str, Alert]:
    return (
        f"At this rate the infusion ends at {hm(end)}, after the bag's stability deadline {hm(deadline)} (CONV-STAB-3).",
        Alert(
            f"stability-over:{dose}:{iso_utc(deadline)}",
            "critical",
            f"{dose_label(dose)}: the infusion cannot end by the bag's stability deadline {hm(deadline)} "
            f"(projected end {hm(end)}).",
            "Do not continue past the deadline: ask the pharmacist; if the deadline stands, stop and discard "
            "the rest (CONV-STAB-3). A pharmacist may override an UNVERIFIED STAB-4 limit with a reason.",
            "CONV-STAB-3",
        ),
    )


def _deadline_near(dose: str, deadline: datetime, end: datetime, now: datetime, lead_min: int, hm: Hm) -> tuple[str, Alert]:
    return (
        f"The bag's stability deadline is {hm(deadline)}, in {_dur(deadline - now)}: the infusion must end "
        "by then (CONV-STAB-3).",
        Alert(
            f"stability-near:{dose}:{iso_utc(deadline)}",
            "warning",
            f"{dose_label(dose)}: the bag's stability deadline {hm(deadline)} is within {lead_min} min "
            f"(projected end {hm(end)}).",
            "Avoid further pauses; the infusion must end by the deadline, otherwise stop and discard the rest (CONV-STAB-3).",
            "CONV-STAB-3",
        ),
    )


def _can_resume(f: _Fold, phase: str, reactions: tuple[Reaction, ...], now: datetime, hm: Hm) -> Permission:
    severe = [r for r in reactions if r.severe]
    if phase == PAUSED:
        blockers = f.resume_blockers()
        label_end = f.label_deadline
        if label_end is not None and now + max(f.target - f.run, timedelta(0)) > label_end:
            # Issue 15: no override reaches past a label limit (STAB-2); only UNVERIFIED ones are confirmed.
            blockers.append(
                f"resuming now would end the infusion at {hm(now + (f.target - f.run))}, after the label limit "
                f"{hm(label_end)} (STAB-2, no override): stop the infusion and discard the rest (CONV-STAB-3)"
            )
        return Permission(not blockers, "; ".join(blockers))
    if phase == STOPPED and severe:
        return Permission(
            False, f"Reaction {severe[0].number} is {_grade_text(severe[0].grade)}: the infusion cannot resume (CONV-IRR-1)."
        )
    return Permission(False, f"The infusion is not paused ({phase}).")


def _can_complete(f: _Fold, phase: str, obs_end: datetime | None, now: datetime, hm: Hm) -> Permission:
    observation_open = f.status in ("ended", "stopped") and f.closed_at is None
    open_reactions = f.open_reactions()
    if not observation_open:
        if f.closed_at is not None:
            return Permission(False, f"Observation was closed at {hm(f.closed_at)}.")
        return Permission(False, f"Observation starts when the infusion ends ({phase}).")
    if open_reactions:
        return Permission(
            False,
            f"Reaction {open_reactions[0].number} is not resolved: observation continues until it is (CONV-IRR-3).",
        )
    if obs_end is not None and now < obs_end:
        return Permission(
            False,
            f"Observation may end at {hm(obs_end)} ({_dur(obs_end - now)} left; MON-2). If the patient "
            "leaves earlier, record 'observation incomplete'.",
        )
    return Permission(True)


def _permissions(
    f: _Fold, phase: str, tm: _Times, reactions: tuple[Reaction, ...], now: datetime, hm: Hm
) -> dict[str, Permission]:
    return dict(
        can_pause=Permission(True) if phase == INFUSING else Permission(False, f"The infusion is not running ({phase})."),
        can_resume=_can_resume(f, phase, reactions, now, hm),
        can_stop=Permission(True)
        if phase in (INFUSING, PAUSED)
        else Permission(False, f"The infusion is not running or paused ({phase})."),
        can_complete_observation=_can_complete(f, phase, tm.obs_end, now, hm),
    )


def _fields(f: _Fold, now: datetime, tm: _Times, phase: str, reactions: tuple[Reaction, ...], hm: Hm) -> dict[str, Any]:
    """Every MonitorState field but the alerts (and the two warnings, filled in by build_state)."""
    return dict(
        dose_id=f.dose_id,
        now=now,
        phase=phase,
        started_at=f.started_at,
        route=f.route,
        flush_min=f.flush_min,
        target_running=f.target,
        running=tm.running,
        paused=tm.paused,
        elapsed=tm.elapsed,
        pauses=tm.pauses,
        **_phase_span(f, phase, tm, now),
        infusion_end_at=tm.infusion_end_at,
        ended_at=f.ended_at if f.status == "ended" else None,
        stopped_at=f.stopped_at,
        stop_reason=f.stop_reason,
        observation_min_end=tm.obs_min_end,
        observation_earliest_end=tm.obs_end,
        observation_closed_at=f.closed_at,
        observation_outcome=f.close_kind,
        stability_deadline=f.deadline,
        deadline_warning=None,
        resume_warning=None,
        vitals=tuple(f.vitals),
        vitals_due=_vitals_due(f, now, tm.infusion_end_at, tm.obs_end),
        reactions=reactions,
        discontinuation=_discontinuation(reactions, hm),
        **_permissions(f, phase, tm, reactions, now, hm),
        alerts=(),
        acknowledged=(),
        deviations=tuple(f.deviations),
        problems=tuple(f.problems),
        settings=f.settings,
    )


def build_state(f: _Fold, now: datetime, acks: set[str]) -> MonitorState:
    """The MonitorState of a finished fold at ``now``; alerts whose id is in ``acks`` are acknowledged."""

    def hm(when: datetime | None) -> str:
        return _fmt(when, f.settings.tz, now)

    tm = _times(f, now)
    phase = _phase(f)
    reactions = tuple(_reaction(f, r) for r in sorted(f.reactions.values(), key=lambda r: r.number))
    deadline_warning, stability_alert = _stability(f, phase, tm.infusion_end_at, now, hm)
    fields = _fields(f, now, tm, phase, reactions, hm)
    fields["deadline_warning"] = deadline_warning
    state = MonitorState(**fields)
    alerts = _alerts(f, state, stability_alert, hm)
    return MonitorState(
        **{
            **fields,
            "resume_warning": check_resume(state, now) if phase == PAUSED else None,
            "alerts": tuple(a for a in alerts if a.id not in acks),
            "acknowledged": tuple(a for a in alerts if a.id in acks),
        }
    )


# --- vital signs due (MON-4) ------------------------------------------------------------------------


def _scheduled(f: _Fold, infusion_end_at: datetime | None, obs_end: datetime | None) -> list[tuple[VitalsPoint, datetime | None]]:
    """Each scheduled point with its due time (None: not yet known, or before the start)."""
    obs_anchor = obs_end
    if obs_anchor is None and f.status in ("running", "paused") and infusion_end_at is not None and not f.open_reactions():
        obs_anchor = observation_earliest_end(infusion_end_at)
    anchors = {"start": f.started_at, "end": infusion_end_at, "observation_end": obs_anchor}
    out: list[tuple[VitalsPoint, datetime | None]] = []
    for point in f.settings.vitals_schedule:
        if point.anchor == "before_start":
            out.append((point, None))
        else:
            base = anchors[point.anchor]
            out.append((point, None if base is None else base + timedelta(minutes=point.offset_min)))
    return out


def _status_for(f: _Fold, now: datetime, due: datetime | None, window_end: datetime | None) -> str:
    closed = f.closed_at
    if closed is not None and (due is None or due > closed):
        return "skipped"
    if due is None or now < due:
        return "pending"
    if window_end is not None and now >= window_end:
        return "missed"
    if closed is not None:
        return "missed"
    return "due" if now <= due + timedelta(minutes=f.settings.vitals_grace_min) else "overdue"


def _point_due(f: _Fold, now: datetime, point: VitalsPoint, due: datetime | None, known: list[datetime]) -> VitalsDue:
    key = point.key
    if point.anchor == "before_start":
        # Any set at or before the start (before it has started: any set so far).
        done = f.vitals_for(key, None, f.started_at, end_inclusive=True)
        status = "done" if done is not None else "due" if f.started_at is None else "missed"
        return VitalsDue(key, point.label, f.started_at, status, done, f.started_at)
    # The window runs from the point's due time to the next scheduled point's due time.
    window_end = next((k for k in known if due is not None and k > due), None)
    # A point not yet known: only a set labelled for it counts.
    done = f.vitals_for(key, due, window_end) if due is not None else next((v.at for v in f.vitals if v.point == key), None)
    if done is not None:
        return VitalsDue(key, point.label, due, "done", done, window_end)
    return VitalsDue(key, point.label, due, _status_for(f, now, due, window_end), None, window_end)


def _reaction_due(f: _Fold, now: datetime, r: _R) -> VitalsDue:
    key, label = f"reaction:{r.number}", f"reaction {r.number}"
    done = f.reaction_vitals(r)
    if done is not None:
        return VitalsDue(key, label, r.started_at, "done", done, r.resolved_at)
    if r.resolved_at is not None:
        return VitalsDue(key, label, r.started_at, "missed", None, r.resolved_at)
    status = "due" if now <= r.started_at + timedelta(minutes=f.settings.vitals_grace_min) else "overdue"
    return VitalsDue(key, label, r.started_at, status, None, None)


def _vitals_due(f: _Fold, now: datetime, infusion_end_at: datetime | None, obs_end: datetime | None) -> tuple[VitalsDue, ...]:
    """The MON-4 schedule with each point's status."""
    scheduled = _scheduled(f, infusion_end_at, obs_end)
    known = sorted({due for p, due in scheduled if due is not None and p.anchor != "before_start"})
    out = [_point_due(f, now, point, due, known) for point, due in scheduled]
    if f.settings.vitals_at_reactions:  # MON-4: "and at any reaction"
        out += [_reaction_due(f, now, r) for r in sorted(f.reactions.values(), key=lambda r: r.number)]
    return tuple(out)

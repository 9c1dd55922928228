"""The infusion monitor's commands, each with its one decision (core/commands.py, issue 16).

Every decision reads the actor's role from the users log (``actor``), the dose's monitor state
from the patient's projection at ``now`` (core/infusion/projection.py) and checks what the
monitor allows (the phase, the permissions, the reaction sequence) before it returns the typed
events to record: a screen sends only what its user chose. Starting an infusion runs the whole
start gate inside the decision, so when two terminals press ``s`` at once the ledger decides the
second again on the record the first wrote, and it is refused (already started).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import field, frozen

from ..clock import fmt_local, local_tz
from ..commands import Actor, Command, Decision, Refusal, State, decider, refuse, refused_unless, require_role
from ..intake import PATIENT_PREFIX
from ..preparation import baglabel
from ..schedule.events import DoseGiven  # recorded with the start (the schedule's payload)
from .alerts import check_resume
from .data import grade_correction_data, payload
from .events import (
    AlertAcknowledged,
    InfusionPaused,
    InfusionResumed,
    InfusionStarted,
    InfusionStopped,
    ObservationCompleted,
    ObservationIncomplete,
    ReactionGraded,
    ReactionNotified,
    ReactionResolved,
    ReactionStarted,
    ReactionTreated,
    VitalsRecorded,
)
from .model import (
    NOT_STARTED,
    MonitorSettings,
    MonitorState,
    Reaction,
    _grade_rank,
    _grade_text,
    _parse_grade,
    dose_label,
    is_severe,
)
from .projection import monitor_at, monitor_dose_ids
from .vitals import validate_vitals, vitals_taken_at

#: Who acts on the monitor: the clinical staff (an admin manages users and settings, not infusions).
CLINICIANS = ("nurse", "pharmacist", "prescriber")
PRESCRIBER = "prescriber"


@frozen
class MonitorCommand(Command):
    """Base of the monitor's commands: one patient's dose (not a command itself)."""

    pid: str
    dose_id: str

    @property
    def stream(self) -> str:  # type: ignore[override]
        return PATIENT_PREFIX + self.pid


def _settings() -> MonitorSettings:
    return MonitorSettings(tz=local_tz())  # CONV-TIME-1: messages in the site's local time


def _monitor(state: State, cmd: MonitorCommand, now: datetime, actor: Actor, what: str) -> MonitorState | Refusal:
    """The dose's monitor state now, after the checks every monitor command shares."""
    refused = require_role(actor, CLINICIANS, what)
    if refused:
        return refused
    if cmd.pid not in state.patients:
        return refuse(f"{what}: no patient {cmd.pid!r}.")
    return monitor_at(state.view(cmd.pid), cmd.dose_id, now, _settings())


def _event(kind: str, cmd: MonitorCommand, now: datetime, **fields: Any) -> Decision:
    """The typed event, its fields checked by ``event_data`` (a ValueError names the field)."""
    return refused_unless(lambda: [payload(kind, cmd.dose_id, now, **fields)])


# -- s: start ------------------------------------------------------------------------------------


@frozen
class StartInfusion(MonitorCommand):
    """Monitor, s: start the infusion of a verified, prepared, checked dose (records the dose as given).

    ``bag_code``: the bag label scanned (or typed) at the bedside; it must be this dose's current
    bag (core/preparation/baglabel.py). Left empty, a start the gate allows is refused with
    ``ask=ASK_BAG_CODE``: the screen asks for the scan and sends the command again."""

    bag_code: str = ""
    emits = (InfusionStarted, DoseGiven)


#: What a start without its bag label asks for (``Refusal.ask``): the screen asks for the scan.
ASK_BAG_CODE = "bag_code"


def start_refusal(state: State, cmd: StartInfusion, now: datetime, actor: Actor) -> MonitorState | Refusal:
    st = _monitor(state, cmd, now, actor, "Start the infusion")
    if isinstance(st, Refusal):
        return st
    # Any recorded start counts, even one whose entered time is later than now (listed as a problem).
    if st.phase != NOT_STARTED or st.started_at is not None or cmd.dose_id in monitor_dose_ids(state.view(cmd.pid)):
        when = fmt_local(st.started_at, day=False, missing="?")
        return refuse(f"Already started: the infusion of {dose_label(cmd.dose_id)} started at {when} ({st.phase}).", "MON-3")
    return st


@decider(StartInfusion)
def decide_start(state: State, cmd: StartInfusion, now: datetime, actor: Actor) -> Decision:
    """The start gate on the record as it stands (issue 7, issue 15), then both events together:
    the dose counts as given when its infusion starts (SCHED-6: a cycle's Day 1 is the date given)."""
    from .gate import gate

    st = start_refusal(state, cmd, now, actor)
    if isinstance(st, Refusal):
        return st
    view = state.view(cmd.pid)
    g = gate(view.patient, view.events, cmd.dose_id, now, state.today, state.roles(), state.site.bsa_formula, tl=view.timeline)
    if g.blockers or g.given is None:
        blockers = g.blockers or ("Schedule: the dose cannot be recorded as given.",)
        return refuse("Cannot start:\n" + "\n".join("✗ " + b for b in blockers))  # each blocker names its rules
    wrong_bag = bag_refusal(view, cmd)
    if wrong_bag is not None:
        return wrong_bag
    started = _event(
        InfusionStarted.KIND,
        cmd,
        now,
        route=g.route,
        flush_min=g.flush_min,
        stability_deadline=g.stability_deadline,
        label_deadline=g.label_deadline,
        bag_code=baglabel.normalise(cmd.bag_code),
    )
    if isinstance(started, Refusal):
        return started
    return [*started, DoseGiven.from_data(g.given)]


def bag_refusal(view: Any, cmd: StartInfusion) -> Refusal | None:
    """The bag scanned at the bedside is this dose's current bag, or the start is refused (issue 20)."""
    others = (view.prep(d) for d in view.prep_dose_ids())  # folded only when the code is no bag of this dose
    why = baglabel.refusal(cmd.pid, view.prep(cmd.dose_id), cmd.bag_code, others)
    if why is None:
        return None
    return Refusal(why, (), ASK_BAG_CODE if not cmd.bag_code.strip() else "")


# -- p, r, t: pause, resume, stop ------------------------------------------------------------------


@frozen
class PauseInfusion(MonitorCommand):
    """Monitor, p: pause the running infusion, with a reason (MON-3: paused time does not count)."""

    reason: str = ""
    emits = (InfusionPaused,)


@decider(PauseInfusion)
def decide_pause(state: State, cmd: PauseInfusion, now: datetime, actor: Actor) -> Decision:
    st = _monitor(state, cmd, now, actor, "Pause the infusion")
    if isinstance(st, Refusal):
        return st
    if not st.can_pause:
        return refuse(st.can_pause.reason, "MON-3")
    return _event(InfusionPaused.KIND, cmd, now, reason=cmd.reason)


@frozen
class ResumeInfusion(MonitorCommand):
    """Monitor, r: resume the paused infusion (past the bag's stability deadline only when confirmed)."""

    confirmed: bool = False  # the user saw resume_warning and chose to resume anyway (CONV-STAB-3)
    emits = (InfusionResumed,)


def resume_warning(state: State, cmd: MonitorCommand, now: datetime) -> str | None:
    """The CONV-STAB-3 warning a user must confirm before resuming now (None: nothing to confirm)."""
    if cmd.pid not in state.patients:
        return None
    return check_resume(monitor_at(state.view(cmd.pid), cmd.dose_id, now, _settings()), now)


@decider(ResumeInfusion)
def decide_resume(state: State, cmd: ResumeInfusion, now: datetime, actor: Actor) -> Decision:
    st = _monitor(state, cmd, now, actor, "Resume the infusion")
    if isinstance(st, Refusal):
        return st
    if not st.can_resume:
        return refuse(st.can_resume.reason, "CONV-IRR-2")
    warning = check_resume(st, now)
    if warning and not cmd.confirmed:
        return refuse(warning + " Resuming needs a confirmation.", "CONV-STAB-3")
    return _event(InfusionResumed.KIND, cmd, now)


@frozen
class StopInfusion(MonitorCommand):
    """Monitor, t: stop the infusion before its running time is reached, with a reason (MON-1)."""

    reason: str = ""
    emits = (InfusionStopped,)


@decider(StopInfusion)
def decide_stop(state: State, cmd: StopInfusion, now: datetime, actor: Actor) -> Decision:
    st = _monitor(state, cmd, now, actor, "Stop the infusion")
    if isinstance(st, Refusal):
        return st
    if not st.can_stop:
        return refuse(st.can_stop.reason, "MON-1")
    return _event(InfusionStopped.KIND, cmd, now, reason=cmd.reason)


# -- o, l: close the observation -------------------------------------------------------------------


@frozen
class CompleteObservation(MonitorCommand):
    """Monitor, o: complete the observation, no earlier than it may end (MON-2, CONV-IRR-3)."""

    emits = (ObservationCompleted,)


@decider(CompleteObservation)
def decide_complete(state: State, cmd: CompleteObservation, now: datetime, actor: Actor) -> Decision:
    st = _monitor(state, cmd, now, actor, "Complete the observation")
    if isinstance(st, Refusal):
        return st
    if not st.can_complete_observation:
        return refuse(st.can_complete_observation.reason, "MON-2")
    return _event(ObservationCompleted.KIND, cmd, now)


@frozen
class RecordLeftEarly(MonitorCommand):
    """Monitor, l: the patient left before observation ended (a MON-2 deviation, with why)."""

    reason: str = ""
    who: str = ""
    emits = (ObservationIncomplete,)


@decider(RecordLeftEarly)
def decide_left_early(state: State, cmd: RecordLeftEarly, now: datetime, actor: Actor) -> Decision:
    st = _monitor(state, cmd, now, actor, "Patient left early")
    if isinstance(st, Refusal):
        return st
    if not st.observation_open:
        return refuse("Observation is not open.", "MON-2")
    return _event(ObservationIncomplete.KIND, cmd, now, reason=cmd.reason, who=cmd.who)


# -- v: vital signs --------------------------------------------------------------------------------


def _pairs(values: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    items = values.items() if isinstance(values, Mapping) else values
    return tuple(sorted((str(k), v) for k, v in items))


@frozen
class RecordVitals(MonitorCommand):
    """Monitor, v: record a set of vital signs as typed, taken now or at a typed time (unusual values only when confirmed)."""

    values: tuple[tuple[str, Any], ...] = field(default=(), converter=_pairs)  # field name → the typed text
    confirmed: tuple[str, ...] = field(default=(), converter=lambda c: tuple(sorted(c)))  # unusual fields confirmed
    point: str | None = None  # the schedule point, e.g. "reaction:1" (MON-4)
    time: str = ""  # when the set was taken, HH:MM as typed (the site's time, today); "" = now
    emits = (VitalsRecorded,)


@decider(RecordVitals)
def decide_vitals(state: State, cmd: RecordVitals, now: datetime, actor: Actor) -> Decision:
    st = _monitor(state, cmd, now, actor, "Vital signs")
    if isinstance(st, Refusal):
        return st
    data, errors = validate_vitals(dict(cmd.values), confirmed=cmd.confirmed)
    if data is None:
        return refuse(" ".join(errors.values()), "CONV-INPUT-1")
    try:
        taken = vitals_taken_at(cmd.time, now)
    except ValueError as exc:
        return refuse(str(exc), "MON-4", "CONV-TIME-1")
    if cmd.point:
        data["point"] = cmd.point
    return _event(VitalsRecorded.KIND, cmd, taken, **data)


# -- e, G: the reaction sequence -------------------------------------------------------------------


def _reaction(st: MonitorState, number: int) -> Reaction | Refusal:
    r = next((x for x in st.reactions if x.number == number), None)
    if r is None:
        return refuse(f"Reaction: there is no reaction {number} on {dose_label(st.dose_id)}.", "IRR-1")
    return r


@frozen
class StartReaction(MonitorCommand):
    """Monitor, e: an infusion reaction started, with its symptoms (a running infusion pauses at once)."""

    symptoms: str = ""
    emits = (ReactionStarted,)


@decider(StartReaction)
def decide_reaction_start(state: State, cmd: StartReaction, now: datetime, actor: Actor) -> Decision:
    st = _monitor(state, cmd, now, actor, "Infusion reaction")
    if isinstance(st, Refusal):
        return st
    open_r = next((r for r in st.reactions if r.resolved_at is None), None)
    if open_r is not None:
        return refuse(f"Reaction {open_r.number} is still open: record its {open_r.next_step or 'outcome'} first.", "IRR-1")
    return _event(ReactionStarted.KIND, cmd, now, symptoms=cmd.symptoms)


@frozen
class ReactionStep(MonitorCommand):
    """Base of the steps of one reaction (not a command itself)."""

    reaction: int = 0


def _open_step(
    state: State, cmd: ReactionStep, now: datetime, actor: Actor, what: str
) -> tuple[MonitorState, Reaction] | Refusal:
    st = _monitor(state, cmd, now, actor, what)
    if isinstance(st, Refusal):
        return st
    r = _reaction(st, cmd.reaction)
    if isinstance(r, Refusal):
        return r
    if r.resolved_at is not None:
        return refuse(f"Reaction {r.number} was resolved at {fmt_local(r.resolved_at, day=False)}.", "IRR-1")
    return st, r


@frozen
class GradeReaction(ReactionStep):
    """Monitor, e: grade the open reaction (CTCAE v5; a later grade only raises it: the worst stands)."""

    grade: int | str | None = None
    emits = (ReactionGraded,)


@decider(GradeReaction)
def decide_grade(state: State, cmd: GradeReaction, now: datetime, actor: Actor) -> Decision:
    found = _open_step(state, cmd, now, actor, "Grade")
    if isinstance(found, Refusal):
        return found
    _st, r = found
    new = _parse_grade(cmd.grade)
    if new is not None and r.grade is not None and _grade_rank(new) <= _grade_rank(r.grade):
        return refuse(
            f"Grade: reaction {r.number} is {_grade_text(r.grade)} already; a lower grade is a prescriber's "
            "correction with a reason (G).",
            "CONV-IRR-1",
        )
    return _event(ReactionGraded.KIND, cmd, now, grade=new if new is not None else cmd.grade, reaction=r.number)


@frozen
class NotifyReaction(ReactionStep):
    """Monitor, e: who was notified of the open reaction (IRR-1)."""

    who: str = ""
    emits = (ReactionNotified,)


@decider(NotifyReaction)
def decide_notified(state: State, cmd: NotifyReaction, now: datetime, actor: Actor) -> Decision:
    found = _open_step(state, cmd, now, actor, "Who was notified")
    if isinstance(found, Refusal):
        return found
    return _event(ReactionNotified.KIND, cmd, now, who=cmd.who, reaction=found[1].number)


@frozen
class TreatReaction(ReactionStep):
    """Monitor, e: the treatment given for the open reaction ("none" is an entry, IRR-1)."""

    treatment: str = ""
    emits = (ReactionTreated,)


@decider(TreatReaction)
def decide_treated(state: State, cmd: TreatReaction, now: datetime, actor: Actor) -> Decision:
    found = _open_step(state, cmd, now, actor, "Treatment")
    if isinstance(found, Refusal):
        return found
    return _event(ReactionTreated.KIND, cmd, now, treatment=cmd.treatment, reaction=found[1].number)


@frozen
class ResolveReaction(ReactionStep):
    """Monitor, e: the open reaction resolved, with outcome resume or stop (a severe one only stops, CONV-IRR-1)."""

    outcome: str = ""
    emits = (ReactionResolved,)


@decider(ResolveReaction)
def decide_resolved(state: State, cmd: ResolveReaction, now: datetime, actor: Actor) -> Decision:
    found = _open_step(state, cmd, now, actor, "Outcome")
    if isinstance(found, Refusal):
        return found
    r = found[1]
    if cmd.outcome == "resume" and is_severe(r.grade):
        return refuse(
            f"Outcome: reaction {r.number} is {_grade_text(r.grade)}: the infusion cannot resume (CONV-IRR-1).", "CONV-IRR-1"
        )
    return _event(ReactionResolved.KIND, cmd, now, outcome=cmd.outcome, reaction=r.number)


@frozen
class CorrectGrade(ReactionStep):
    """Monitor, G: a prescriber corrects a reaction's grade, with a reason (CONV-IRR-1, §16.1)."""

    grade: int | str | None = None
    reason: str = ""
    emits = (ReactionGraded,)


def grade_correction_signer(actor: Actor) -> tuple[str, ...]:
    """The roles whose sign-in a grade correction needs when ``actor`` may not make it (empty: they may)."""
    return () if require_role(actor, (PRESCRIBER,), "Grade correction") is None else (PRESCRIBER,)


@decider(CorrectGrade)
def decide_correct_grade(state: State, cmd: CorrectGrade, now: datetime, actor: Actor) -> Decision:
    """Only a prescriber (the role read from the users log) lifts or imposes a severe grade's block."""
    refused = require_role(actor, (PRESCRIBER,), "Grade correction", "CONV-IRR-1", "CONV-OVR-1")
    if refused:
        return refused
    st = _monitor(state, cmd, now, actor, "Grade correction")
    if isinstance(st, Refusal):
        return st
    return refused_unless(
        lambda: [ReactionGraded.from_data(grade_correction_data(st, cmd.reaction, cmd.grade, cmd.reason, actor.role or "", now))],
        "CONV-IRR-1",
    )


# -- k: acknowledge an alert -----------------------------------------------------------------------


@frozen
class AcknowledgeAlert(MonitorCommand):
    """Monitor, k: acknowledge an alert of this dose (WARN-ALERT-1: it stays until acknowledged)."""

    alert_id: str = ""
    emits = (AlertAcknowledged,)


@decider(AcknowledgeAlert)
def decide_acknowledge(state: State, cmd: AcknowledgeAlert, now: datetime, actor: Actor) -> Decision:
    from .data import acknowledgement_data

    st = _monitor(state, cmd, now, actor, "Acknowledge an alert")
    if isinstance(st, Refusal):
        return st
    if not any(a.id == cmd.alert_id for a in st.alerts):
        known = any(a.id == cmd.alert_id for a in st.acknowledged)
        return refuse("That alert was acknowledged already." if known else "No such alert to acknowledge.", "WARN-ALERT-1")
    return refused_unless(lambda: [AlertAcknowledged.from_data(acknowledgement_data(cmd.alert_id, now, cmd.dose_id))])

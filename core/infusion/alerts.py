"""The monitor's alerts (WARN-ALERT-1: each says what to do) and the resume warning (CONV-STAB-3)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..events import iso_utc
from .model import OBSERVING, PAUSED, SEVERITIES, STOPPED, Alert, MonitorState, _dur, _fmt, _grade_text, _utc, dose_label

if TYPE_CHECKING:
    from .course import _Fold


#: What each reaction step records, as the next-step advice says it (IRR-1).
_STEP_WORDS = {"vitals": "vital signs", "grade": "grade", "notified": "person notified", "treatment": "treatment",
               "outcome": "outcome"}  # fmt: skip


def _steps_words(steps: tuple[str, ...]) -> str:
    """Reaction steps in words: "the grade, the person notified and the treatment"."""
    words = [f"the {_STEP_WORDS.get(s, s)}" for s in steps]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _reaction_alerts(dose: str, st: MonitorState, hm: Any) -> list[Alert]:
    """Reactions (CONV-IRR-1 to 3)."""
    label = dose_label(dose)
    out: list[Alert] = []
    for r in st.reactions:
        if r.severe:
            out.append(
                Alert(
                    f"reaction-severe:{dose}:{r.number}:{r.grade}",
                    "critical",
                    f"{label}: infusion reaction {r.number} (started {hm(r.started_at)}) is {_grade_text(r.grade)} "
                    f"(CTCAE v{r.ctcae_version}).",
                    "Stop the infusion; it cannot resume: a severe or life-threatening reaction means permanent "
                    "discontinuation of BESPONSA (MOD-NH-3, CONV-IRR-1). A prescriber must record it before any "
                    "further dose.",
                    "CONV-IRR-1",
                )
            )
        if r.state == "open":
            nxt = _STEP_WORDS.get(r.next_step or "outcome", r.next_step or "outcome")
            held = " The infusion stays paused until then (CONV-IRR-2)." if st.phase == PAUSED else ""
            out.append(
                Alert(
                    f"reaction-open:{dose}:{r.number}",
                    "warning",
                    f"{label}: infusion reaction {r.number} started at {hm(r.started_at)}"
                    + (f" ({r.symptoms})" if r.symptoms else "")
                    + "; not yet resolved.",
                    f"Next step: record the {nxt}; each step goes on the reaction's record (IRR-1).{held} "
                    "Observation continues until the reaction is recorded as resolved (CONV-IRR-3).",
                    "IRR-1",
                )
            )
        elif r.missing_steps:
            out.append(
                Alert(
                    f"reaction-record:{dose}:{r.number}",
                    "warning",
                    f"{label}: the record of reaction {r.number} (started {hm(r.started_at)}) lacks "
                    f"{_steps_words(r.missing_steps)}.",
                    f"Record {_steps_words(r.missing_steps)} of reaction {r.number}: a reaction's record needs "
                    "every step (IRR-1, CTCAE-1).",
                    "IRR-1",
                )
            )
    return out


def _phase_alerts(dose: str, st: MonitorState, hm: Any) -> list[Alert]:
    """Phase ended (MON-2) and observation may end (MON-2, CONV-IRR-3)."""
    label = dose_label(dose)
    out: list[Alert] = []
    if st.phase == OBSERVING and st.ended_at is not None:
        out.append(
            Alert(
                f"infusion-ended:{dose}:{iso_utc(st.ended_at)}",
                "info",
                f"{label}: the infusion ended at {hm(st.ended_at)} after {_dur(st.running)} of running time"
                + (f" and {_dur(st.paused)} paused" if st.paused else "")
                + ". Observation has started.",
                f"Record end-of-infusion vital signs; observe the patient until at least {hm(st.observation_min_end)}: "
                "reactions are watched for during and for at least 1 hour after the infusion (MON-1, MON-2).",
                "MON-2",
            )
        )
    if st.phase == STOPPED and st.stopped_at is not None and st.observation_closed_at is None:
        out.append(
            Alert(
                f"infusion-stopped:{dose}:{iso_utc(st.stopped_at)}",
                "warning",
                f"{label}: the infusion was stopped at {hm(st.stopped_at)} after {_dur(st.running)} of running "
                f"time ({st.stop_reason}).",
                f"Record vital signs; observe the patient until at least {hm(st.observation_min_end)} and until "
                "every reaction is resolved: reactions are watched for for at least 1 hour after the infusion "
                "(MON-1, CONV-IRR-3).",
                "MON-1",
            )
        )
    if st.observation_open and st.observation_earliest_end is not None and st.now >= st.observation_earliest_end:
        out.append(
            Alert(
                f"observation-may-end:{dose}:{iso_utc(st.observation_earliest_end)}",
                "info",
                f"{label}: observation may end (since {hm(st.observation_earliest_end)}; the infusion ended at "
                f"{hm(st.infusion_end_at)}).",
                "Record end-of-observation vital signs, then complete the observation: the patient may leave once "
                "it is recorded (MON-2, MON-4).",
                "MON-2",
            )
        )
    return out


def _vitals_alerts(dose: str, st: MonitorState, hm: Any) -> list[Alert]:
    """Vital signs (MON-4)."""
    label = dose_label(dose)
    out: list[Alert] = []
    for v in st.vitals_due:
        due = iso_utc(v.due_at) if v.due_at is not None else "-"
        if v.status in ("due", "overdue"):
            when = f"at {hm(v.due_at)}" if v.due_at is not None else "now"
            out.append(
                Alert(
                    f"vitals-{v.status}:{dose}:{v.key}:{due}",
                    "warning",
                    f"{label}: vital signs ({v.label}) {'are due' if v.status == 'due' else 'were due'} {when}"
                    + (" and are not recorded" if v.status == "overdue" else "")
                    + ".",
                    "Record temperature, heart rate, blood pressure, respiratory rate and SpO2 now: the site's "
                    "schedule asks for a set at this point (MON-4).",
                    "MON-4",
                )
            )
        elif v.status == "missed":
            out.append(
                Alert(
                    f"vitals-missed:{dose}:{v.key}:{due}",
                    "warning",
                    f"{label}: no vital signs were recorded for '{v.label}'"
                    + (f" (due {hm(v.due_at)})" if v.due_at is not None else "")
                    + ".",
                    "Record a set now if the patient is still here; if one was taken, enter it late with the time it "
                    "was taken: the site's schedule asks for a set at this point (MON-4).",
                    "MON-4",
                )
            )
    return out


def _problem_alerts(dose: str, f: _Fold) -> list[Alert]:
    """Events that did not fit."""
    label = dose_label(dose)
    out: list[Alert] = []
    for p in f.problems:
        out.append(
            Alert(
                f"event-problem:{p.ref}",
                "warning",
                f"{label}: {p.text}",
                "Check this entry with whoever made it: the monitor shows the infusion without it.",
                p.rule,
            )
        )
    return out


def _alerts(f: _Fold, st: MonitorState, stability_alert: Alert | None, hm: Any) -> list[Alert]:
    """Every alert of the dose now, most severe first (WARN-ALERT-1)."""
    dose = f.dose_id
    out: list[Alert] = [stability_alert] if stability_alert is not None else []
    out += _reaction_alerts(dose, st, hm) + _phase_alerts(dose, st, hm) + _vitals_alerts(dose, st, hm)
    out += _problem_alerts(dose, f)
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

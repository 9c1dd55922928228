"""core/infusion.py: the infusion monitor against MON-1 to 4, CONV-IRR-1 to 3, CONV-STAB-3,
WARN-ALERT-1 and the timelines T1, T5 and T7 of §18.4 (fake times throughout)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedside.core import infusion as inf
from bedside.core import rules
from bedside.core.events import Event
from bedside.core.stability import PrepTimes, deadlines, infusion_end, observation_earliest_end

UTC = UTC
DOSE = "c1d8"


def at(hh: int, mm: int, day: int = 10, ss: int = 0) -> datetime:
    return datetime(2025, 3, day, hh, mm, ss, tzinfo=UTC)


class Log:
    """A patient stream built through ``infusion.event_data`` (the shapes the UI writes)."""

    def __init__(self, stream: str = "patient:p1") -> None:
        self.stream = stream
        self.events: list[Event] = []

    def add(
        self, kind: str, when: datetime, *, dose: str = DOSE, written: datetime | None = None, actor: str = "nina", **fields: Any
    ) -> Event:
        data = inf.event_data(kind, dose, when, **fields)
        return self._append(kind, data, written or when, actor)

    def ack(self, alert: inf.Alert | str, when: datetime) -> Event:
        return self._append(inf.ALERT_ACKNOWLEDGED, inf.acknowledgement_data(alert, when, DOSE), when, "nina")

    def _append(self, kind: str, data: dict[str, Any], written: datetime, actor: str) -> Event:
        n = len(self.events) + 1
        ev = Event(n, self.stream, n, kind, actor, written, data, "0" * 64, f"{n:064x}")
        self.events.append(ev)
        return ev

    def start(self, when: datetime, **fields: Any) -> Event:
        fields.setdefault("route", "bag")
        return self.add(inf.INFUSION_STARTED, when, **fields)

    def vitals(self, when: datetime, **fields: Any) -> Event:
        data, errors = inf.validate_vitals({"temp_c": "37.0", "hr": "80", "sys": "120", "dia": "75", "rr": "16", "spo2": "98"})
        assert data is not None and not errors
        return self.add(inf.VITALS_RECORDED, when, **{**data, **fields})

    def state(self, now: datetime, **kw: Any) -> inf.MonitorState:
        return inf.monitor(self.events, DOSE, now, **kw)


def ids(state: inf.MonitorState) -> set[str]:
    return {a.id for a in state.alerts}


def alert(state: inf.MonitorState, prefix: str) -> inf.Alert:
    found = [a for a in state.alerts if a.id.startswith(prefix)]
    assert len(found) == 1, [a.id for a in state.alerts]
    return found[0]


# --- phases -----------------------------------------------------------------------------------------


def test_not_started() -> None:
    s = Log().state(at(12, 0))
    assert s.phase == inf.NOT_STARTED
    assert s.started_at is None and s.phase_left is None and s.infusion_end_at is None
    assert not s.can_pause and not s.can_resume and not s.can_complete_observation
    before = next(v for v in s.vitals_due if v.key == "before_start")
    assert before.status == "due"
    assert any(a.id.startswith("vitals-due:c1d8:before_start") and a.rule == "MON-4" for a in s.alerts)


def test_t1_phases_and_observation() -> None:
    # T1: reconstituted 08:00, diluted 11:30 → deadline 15:30; started 12:10 → ends 13:10 → observe ≥ 14:10.
    d = deadlines(PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(11, 30)))
    log = Log()
    log.vitals(at(12, 5))
    log.start(at(12, 10), stability_deadline=d.end_deadline)

    s = log.state(at(12, 40))
    assert s.phase == inf.INFUSING
    assert s.stability_deadline == at(15, 30)
    assert s.running == timedelta(minutes=30) and s.paused == timedelta(0)
    assert s.phase_elapsed == timedelta(minutes=30)
    assert s.phase_left == timedelta(minutes=30)
    assert s.phase_ends_at == s.infusion_end_at == at(13, 10) == infusion_end(at(12, 10))
    assert s.observation_min_end == at(14, 10)
    assert s.deadline_warning is None and s.can_pause and s.can_stop and not s.can_resume
    assert {v.key: v.status for v in s.vitals_due} == {"before_start": "done", "end": "pending", "observation_end": "pending"}

    # The infusion ends by itself when 60 min have run (MON-2): observation starts.
    s = log.state(at(13, 10))
    assert s.phase == inf.OBSERVING
    assert s.ended_at == at(13, 10) and s.running == timedelta(minutes=60)
    assert s.observation_earliest_end == s.phase_ends_at == at(14, 10) == observation_earliest_end(at(13, 10))
    assert s.phase_left == timedelta(minutes=60) and s.phase_elapsed == timedelta(0)
    ended = alert(s, "infusion-ended:c1d8:")
    assert ended.rule == "MON-2" and "13:10" in ended.text and "14:10" in ended.action
    assert not s.can_pause

    s = log.state(at(13, 40))
    assert not s.can_complete_observation
    assert "14:10" in s.can_complete_observation.reason and "MON-2" in s.can_complete_observation.reason
    assert s.phase_left == timedelta(minutes=30)

    # Completing before the hour is up is not applied: a problem, still OBSERVING.
    log.add(inf.OBSERVATION_COMPLETED, at(13, 50))
    s = log.state(at(13, 55))
    assert s.phase == inf.OBSERVING
    assert s.problems and s.problems[0].rule == "MON-2"
    assert any(a.id.startswith("event-problem:") for a in s.alerts)

    s = log.state(at(14, 10))
    assert s.can_complete_observation
    may_end = alert(s, "observation-may-end:c1d8:")
    assert "MON-2" in may_end.rule and may_end.action

    log.vitals(at(14, 11))
    log.add(inf.OBSERVATION_COMPLETED, at(14, 12))
    s = log.state(at(14, 30))
    assert s.phase == inf.OBSERVATION_COMPLETE
    assert s.observation_closed_at == at(14, 12) and s.observation_outcome == "completed"
    assert not s.can_complete_observation and not s.active
    statuses = {v.key: v.status for v in s.vitals_due}
    assert statuses["observation_end"] == "done" and statuses["end"] == "missed"


def test_t5_pause_and_resume() -> None:
    d = deadlines(PrepTimes(reconstituted_at=at(6, 30), diluted_at=at(9, 30)))
    log = Log()
    log.start(at(10, 0), stability_deadline=d.end_deadline)
    log.add(inf.INFUSION_PAUSED, at(10, 20), reason="patient to the bathroom")

    s = log.state(at(10, 35))
    assert s.phase == inf.PAUSED
    assert s.running == timedelta(minutes=20) and s.paused == timedelta(minutes=15)
    assert s.elapsed == timedelta(minutes=35)
    assert s.phase_elapsed == timedelta(minutes=15) and s.phase_left is None and s.phase_ends_at is None
    assert s.infusion_end_at == at(11, 15)  # the end moves with the pause (MON-3)
    assert s.can_resume and s.resume_warning is None
    assert s.pauses[0].reason == "patient to the bathroom"

    log.add(inf.INFUSION_RESUMED, at(10, 50))
    s = log.state(at(11, 0))
    assert s.phase == inf.INFUSING
    assert s.infusion_end_at == at(11, 30) == infusion_end(at(10, 0), paused_min=30)
    assert s.phase_left == timedelta(minutes=30)

    s = log.state(at(11, 45))
    assert s.phase == inf.OBSERVING
    assert s.ended_at == at(11, 30)
    assert s.elapsed == timedelta(minutes=90)
    assert s.running == timedelta(minutes=60) and s.paused == timedelta(minutes=30)
    assert s.running_seconds == 3600 and s.paused_seconds == 1800
    assert s.observation_earliest_end == at(12, 30)
    assert d.allows_end(s.ended_at)  # before 13:30


def test_t5_with_a_grade_2_reaction_guided_sequence() -> None:
    log = Log()
    log.start(at(10, 0), stability_deadline=at(13, 30))
    log.add(inf.REACTION_STARTED, at(10, 20), symptoms="chills, fever 38.4")

    s = log.state(at(10, 21))
    assert s.phase == inf.PAUSED  # paused at once
    assert s.pauses[0].reaction == 1 and s.running == timedelta(minutes=20)
    r = s.reactions[0]
    assert r.during == "infusion" and r.state == "open" and r.next_step == "vitals"
    assert not s.can_resume and "reaction 1" in s.can_resume.reason
    assert any(a.id == "reaction-open:c1d8:1" for a in s.alerts)
    assert any(v.key == "reaction:1" and v.status == "overdue" for v in s.vitals_due)

    log.vitals(at(10, 22))
    log.add(inf.REACTION_GRADED, at(10, 24), grade=2, reaction=1)
    log.add(inf.REACTION_NOTIFIED, at(10, 25), who="Dr Phil (prescriber)")
    log.add(inf.REACTION_TREATED, at(10, 26), treatment="paracetamol 1 g PO")
    s = log.state(at(10, 30))
    assert s.reactions[0].missing_steps == ("outcome",)
    assert s.reactions[0].grade == 2 and s.reactions[0].ctcae_version == "5.0"
    assert not s.can_resume  # not yet resolved with outcome resume
    assert s.discontinuation is None

    log.add(inf.REACTION_RESOLVED, at(10, 48), outcome="resume")
    s = log.state(at(10, 49))
    assert s.can_resume, s.can_resume.reason
    log.add(inf.INFUSION_RESUMED, at(10, 50))  # same rate (CONV-IRR-2): 40 min left
    s = log.state(at(11, 45))
    assert s.phase == inf.OBSERVING
    assert s.ended_at == at(11, 30) and s.observation_earliest_end == at(12, 30)
    assert s.elapsed == timedelta(minutes=90) and s.running == timedelta(minutes=60)
    assert not s.deviations


def test_late_entry_uses_the_recorded_time() -> None:
    # The pause is entered at 10:40 for 10:20, the resume at 10:55 for 10:50: same result as T5.
    log = Log()
    log.start(at(10, 0))
    log.add(inf.INFUSION_PAUSED, at(10, 20), written=at(10, 40), reason="line occluded")
    log.add(inf.INFUSION_RESUMED, at(10, 50), written=at(10, 55))
    s = log.state(at(11, 0))
    assert s.infusion_end_at == at(11, 30)
    assert s.running == timedelta(minutes=30) and s.paused == timedelta(minutes=30)
    # A restart or a second terminal computes the same state from the same events and time.
    assert log.state(at(11, 0)) == s


def test_t7_reaction_during_observation() -> None:
    log = Log()
    log.start(at(12, 10), stability_deadline=at(15, 30))
    rx = log.add(inf.REACTION_STARTED, at(13, 40), symptoms="rigors and fever")

    s = log.state(at(14, 15))
    assert s.phase == inf.OBSERVING  # recorded against the same dose; the phase stays observation
    assert s.reactions[0].during == "observation"
    assert s.observation_min_end == at(14, 10)
    assert s.observation_earliest_end is None and s.phase_left is None  # until resolved (CONV-IRR-3)
    assert not s.can_complete_observation and "CONV-IRR-3" in s.can_complete_observation.reason
    assert not any(a.id.startswith("observation-may-end") for a in s.alerts)

    # Resolved before 14:10: observation still lasts until 14:10.
    early = Log()
    early.events = list(log.events)
    early.add(inf.REACTION_RESOLVED, at(13, 55), outcome="stop")
    s = early.state(at(14, 0))
    assert s.observation_earliest_end == at(14, 10) and not s.can_complete_observation
    assert s.phase == inf.OBSERVING and s.stopped_at is None  # "stop" after the end stops nothing

    # Resolved after 14:10: observation lasts until the resolution.
    log.add(inf.REACTION_RESOLVED, at(14, 30), outcome="resume")
    s = log.state(at(14, 20))
    assert s.observation_earliest_end is None  # the resolution at 14:30 is not yet known at 14:20
    s = log.state(at(14, 31))
    assert s.observation_earliest_end == at(14, 30) and s.can_complete_observation
    log.add(inf.OBSERVATION_COMPLETED, at(14, 25))
    s = log.state(at(14, 40))
    assert s.phase == inf.OBSERVING and s.problems  # 14:25 was before the reaction resolved
    assert rx.ref  # the reaction event is on the same stream as the dose


def test_midnight_crossing() -> None:
    log = Log()
    log.start(at(23, 30), stability_deadline=at(2, 0, day=11))
    s = log.state(at(0, 0, day=11))
    assert s.phase == inf.INFUSING
    assert s.running == timedelta(minutes=30)
    assert s.infusion_end_at == at(0, 30, day=11)
    # Clock times on the next calendar day name their date (stability alert 60 min ahead here).
    s = log.state(at(23, 45), settings=inf.MonitorSettings(stability_alert_min=180))
    near = alert(s, "stability-near:")
    assert "02:00 on 2025-03-11" in near.text and "00:30 on 2025-03-11" in near.text
    s = log.state(at(0, 31, day=11))
    assert s.phase == inf.OBSERVING
    assert s.ended_at == at(0, 30, day=11)
    assert s.observation_earliest_end == at(1, 30, day=11)
    assert s.elapsed == timedelta(minutes=60)
    assert "00:30" in alert(s, "infusion-ended").text


def test_midnight_times_name_the_date_when_it_differs() -> None:
    log = Log()
    log.vitals(at(23, 20))
    log.start(at(23, 30))
    log.add(inf.INFUSION_PAUSED, at(23, 40), reason="pump alarm")
    s = log.state(at(23, 50))
    warning = inf.check_resume(s, at(23, 50))
    assert warning is not None and "00:40 on 2025-03-11" in warning  # no deadline recorded: asks


def test_syringe_flush_extends_the_running_time() -> None:
    log = Log()
    log.start(at(9, 0), route="syringe", flush_min=10, stability_deadline=at(14, 0))
    s = log.state(at(9, 30))
    assert s.target_running == timedelta(minutes=70)
    assert s.infusion_end_at == at(10, 10) == infusion_end(at(9, 0), flush_min=10)
    s = log.state(at(10, 10))
    assert s.phase == inf.OBSERVING and s.observation_earliest_end == at(11, 10)


def test_explicit_end_later_moves_observation_and_short_end_is_a_deviation() -> None:
    log = Log()
    log.start(at(12, 10))
    log.add(inf.INFUSION_ENDED, at(13, 14))  # the pump finished 4 min after the derived end
    s = log.state(at(13, 20))
    assert s.ended_at == at(13, 14) and s.observation_earliest_end == at(14, 14)
    assert s.running + s.paused == s.elapsed

    short = Log()
    short.start(at(12, 10))
    short.add(inf.INFUSION_ENDED, at(13, 0))
    s = short.state(at(13, 5))
    assert s.phase == inf.OBSERVING and s.running == timedelta(minutes=50)
    assert [d.kind for d in s.deviations] == ["infusion_short"]
    assert s.observation_earliest_end == at(14, 0)


def test_stop_then_observation() -> None:
    log = Log()
    log.start(at(10, 0))
    log.add(inf.INFUSION_PAUSED, at(10, 10), reason="extravasation suspected")
    log.add(inf.INFUSION_STOPPED, at(10, 20), reason="extravasation")
    s = log.state(at(10, 30))
    assert s.phase == inf.STOPPED and s.stop_reason == "extravasation"
    assert s.running == timedelta(minutes=10) and s.paused == timedelta(minutes=10)
    assert s.elapsed == timedelta(minutes=20)
    assert s.observation_earliest_end == at(11, 20)  # MON-1: ≥ 60 min after the stop
    assert s.active and not s.can_resume and not s.can_complete_observation
    assert any(a.id.startswith("infusion-stopped:") for a in s.alerts)
    log.add(inf.INFUSION_RESUMED, at(10, 40))
    s = log.state(at(10, 45))
    assert s.phase == inf.STOPPED and any("not paused" in p.text for p in s.problems)
    log.add(inf.OBSERVATION_COMPLETED, at(11, 25))
    s = log.state(at(11, 30))
    assert s.phase == inf.STOPPED and s.observation_outcome == "completed" and not s.active


def test_observation_incomplete_is_a_deviation() -> None:
    log = Log()
    log.start(at(12, 10))
    log.add(inf.OBSERVATION_INCOMPLETE, at(13, 40), actor="noah", reason="patient discharged himself", who="noah")
    s = log.state(at(13, 45))
    assert s.phase == inf.OBSERVATION_INCOMPLETE_PHASE  # never shown as complete
    assert s.observation_outcome == "incomplete" and not s.active
    (dev,) = s.deviations
    assert (dev.kind, dev.at, dev.who, dev.reason, dev.rule) == (
        "observation_incomplete",
        at(13, 40),
        "noah",
        "patient discharged himself",
        "MON-2",
    )


# --- reactions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("grade", [3, 4, "anaphylaxis"])
def test_severe_reaction_blocks_resume_and_proposes_discontinuation(grade: int | str) -> None:
    log = Log()
    log.start(at(10, 0), stability_deadline=at(13, 30))
    log.add(inf.REACTION_STARTED, at(10, 20), symptoms="dyspnea, hypotension")
    log.add(inf.REACTION_GRADED, at(10, 25), grade=grade)
    s = log.state(at(10, 30))
    assert s.phase == inf.STOPPED and s.stopped_at == at(10, 25)
    assert not s.can_resume and "CONV-IRR-1" in s.can_resume.reason
    assert s.discontinuation is not None
    assert s.discontinuation.requires == "prescriber" and s.discontinuation.rule == "CONV-IRR-1"
    severe = alert(s, "reaction-severe:c1d8:1:")
    assert severe.severity == "critical" and "prescriber" in severe.action and severe.rule == "CONV-IRR-1"
    assert s.running == timedelta(minutes=20)

    # A resume is not applied; an outcome "resume" is treated as "stop".
    log.add(inf.REACTION_RESOLVED, at(10, 40), outcome="resume")
    log.add(inf.INFUSION_RESUMED, at(10, 45))
    s = log.state(at(10, 50))
    assert s.phase == inf.STOPPED and s.running == timedelta(minutes=20)
    assert s.reactions[0].outcome == "stop"
    assert {p.rule for p in s.problems} >= {"CONV-IRR-1", "MON-3"}
    # Observation after the stop: ≥ 60 min and until resolved.
    assert s.observation_earliest_end == at(11, 25)
    assert s.active


def test_grade_cannot_silently_drop_but_a_recorded_correction_can() -> None:
    log = Log()
    log.start(at(10, 0))
    log.add(inf.REACTION_STARTED, at(10, 20), symptoms="rash")
    log.add(inf.REACTION_GRADED, at(10, 25), grade=3)
    log.add(inf.REACTION_GRADED, at(10, 26), grade=2)  # no correction reason: the worst grade stands
    s = log.state(at(10, 30))
    assert s.reactions[0].grade == 3 and s.phase == inf.STOPPED and s.discontinuation is not None

    log.add(inf.REACTION_GRADED, at(10, 27), grade=2, correction_reason="rash only, responded at once: grade entered wrongly")
    s = log.state(at(10, 30))
    assert s.reactions[0].grade == 2 and s.discontinuation is None
    assert s.phase == inf.PAUSED  # the correction undoes the stop
    assert len(s.reactions[0].grade_history) == 3


def test_resume_before_reaction_resolved_is_recorded_as_deviation() -> None:
    log = Log()
    log.start(at(10, 0))
    log.add(inf.REACTION_STARTED, at(10, 20), symptoms="flushing")
    log.add(inf.INFUSION_RESUMED, at(10, 30))
    s = log.state(at(10, 35))
    assert s.phase == inf.INFUSING  # it happened
    assert s.deviations[0].kind == "resumed_with_reaction" and s.deviations[0].rule == "CONV-IRR-2"


def test_reaction_event_without_a_started_reaction_is_a_problem() -> None:
    log = Log()
    log.start(at(10, 0))
    log.add(inf.REACTION_GRADED, at(10, 5), grade=2)
    s = log.state(at(10, 10))
    assert s.phase == inf.INFUSING and s.problems[0].rule == "IRR-1"


def test_two_reactions_are_numbered_and_addressed() -> None:
    log = Log()
    log.start(at(10, 0))
    log.add(inf.REACTION_STARTED, at(10, 10), symptoms="itch")
    log.vitals(at(10, 11))
    log.add(inf.REACTION_GRADED, at(10, 12), grade=1, reaction=1)
    log.add(inf.REACTION_NOTIFIED, at(10, 12), who="charge nurse", reaction=1)
    log.add(inf.REACTION_TREATED, at(10, 13), treatment="none", reaction=1)
    log.add(inf.REACTION_RESOLVED, at(10, 14), outcome="resume", reaction=1)
    log.add(inf.INFUSION_RESUMED, at(10, 15))
    log.add(inf.REACTION_STARTED, at(10, 30), symptoms="chills")
    log.add(inf.REACTION_GRADED, at(10, 31), grade=2)  # the latest reaction
    s = log.state(at(10, 35))
    assert [r.grade for r in s.reactions] == [1, 2]
    assert s.phase == inf.PAUSED and s.running == timedelta(minutes=25)
    assert s.reactions[1].missing_steps == ("vitals", "notified", "treatment", "outcome")


# --- stability ------------------------------------------------------------------------------------------


def test_stability_deadline_alert_within_30_minutes() -> None:
    log = Log()
    log.start(at(12, 10), stability_deadline=at(13, 30))
    s = log.state(at(12, 59))
    assert s.deadline_warning is None and not any(a.id.startswith("stability") for a in s.alerts)
    s = log.state(at(13, 0))
    near = alert(s, "stability-near:c1d8:")
    assert near.rule == "CONV-STAB-3" and "13:30" in near.text and near.severity == "warning"
    assert s.deadline_warning and "13:30" in s.deadline_warning
    # Configurable lead.
    s = log.state(at(12, 40), settings=inf.MonitorSettings(stability_alert_min=60))
    assert any(a.id.startswith("stability-near") for a in s.alerts)
    assert rules.STABILITY_ALERT_LEAD_MINUTES == 30


def test_unknown_deadline_is_alerted() -> None:
    log = Log()
    log.start(at(12, 10))
    s = log.state(at(12, 20))
    assert alert(s, "stability-unknown:").rule == "CONV-STAB-1"


def test_resume_after_the_deadline_is_flagged_before_resuming() -> None:
    log = Log()
    log.start(at(12, 10), stability_deadline=at(13, 30))
    log.add(inf.INFUSION_PAUSED, at(12, 40), reason="pump alarm")  # 30 min run, 30 min left
    s = log.state(at(12, 55))
    assert inf.check_resume(s, at(12, 55)) is None  # would end 13:25
    assert inf.check_resume(s, at(13, 0)) is None  # would end exactly at 13:30: allowed
    warning = inf.check_resume(s, at(13, 5))
    assert warning is not None and "13:35" in warning and "13:30" in warning and "CONV-STAB-3" in warning
    s = log.state(at(13, 5))
    assert s.resume_warning == warning
    assert s.can_resume  # flagged, not refused (CONV-STAB-3); the screen must show the warning first
    over = alert(s, "stability-over:c1d8:")
    assert over.severity == "critical"
    log.add(inf.INFUSION_RESUMED, at(13, 5))
    s = log.state(at(13, 10))
    assert [d.kind for d in s.deviations] == ["resumed_past_deadline"]
    s = log.state(at(13, 31))
    assert alert(s, "stability-passed:").severity == "critical"


# --- alerts (WARN-ALERT-1) -------------------------------------------------------------------------------


def test_alerts_do_not_repeat_after_acknowledgement_but_a_new_fact_raises_one() -> None:
    log = Log()
    log.vitals(at(12, 5))
    log.start(at(12, 10), stability_deadline=at(15, 30))
    s = log.state(at(13, 11))
    ended = alert(s, "infusion-ended:")
    vitals_end = alert(s, "vitals-overdue:c1d8:end:")
    for a in s.alerts:
        assert a.text and a.action and a.rule
    log.ack(ended, at(13, 12))
    log.ack(vitals_end, at(13, 12))
    s = log.state(at(13, 13))
    assert ended.id not in ids(s) and vitals_end.id not in ids(s)
    assert ended in s.acknowledged
    s = log.state(at(13, 30))
    assert ended.id not in ids(s)
    # A new fact: the actual end was recorded later, at 13:14 → a new end, new alerts.
    log.add(inf.INFUSION_ENDED, at(13, 14))
    s = log.state(at(13, 30))
    new_ended = alert(s, "infusion-ended:")
    assert new_ended.id != ended.id and "13:14" in new_ended.text
    assert any(a.id.startswith("vitals-overdue:c1d8:end:") and a.id != vitals_end.id for a in s.alerts)


def test_alert_ids_are_stable_over_time() -> None:
    log = Log()
    log.start(at(12, 10), stability_deadline=at(13, 30))
    a1 = ids(log.state(at(13, 0)))
    a2 = ids(log.state(at(13, 5)))
    assert a1 == a2


# --- vital signs -------------------------------------------------------------------------------------------


def test_vitals_schedule_statuses() -> None:
    log = Log()
    log.start(at(12, 10))
    s = log.state(at(12, 11))
    assert {v.key: v.status for v in s.vitals_due}["before_start"] == "missed"
    assert any(a.id.startswith("vitals-missed:c1d8:before_start") for a in s.alerts)
    # A late entry of a set taken before the start fixes it.
    log.vitals(at(12, 0), written=at(12, 15))
    s = log.state(at(12, 16))
    assert {v.key: v.status for v in s.vitals_due}["before_start"] == "done"

    grace = inf.MonitorSettings(vitals_grace_min=10)
    s = log.state(at(13, 10), settings=grace)
    end = next(v for v in s.vitals_due if v.key == "end")
    assert (end.due_at, end.status, end.window_end) == (at(13, 10), "due", at(14, 10))
    assert next(v for v in log.state(at(13, 21), settings=grace).vitals_due if v.key == "end").status == "overdue"
    assert next(v for v in log.state(at(13, 11)).vitals_due if v.key == "end").status == "overdue"  # default grace 0
    # Missed when the next point becomes due without a set.
    s = log.state(at(14, 10))
    assert {v.key: v.status for v in s.vitals_due} == {"before_start": "done", "end": "missed", "observation_end": "due"}
    log.vitals(at(13, 12))
    s = log.state(at(14, 10))
    assert {v.key: v.status for v in s.vitals_due}["end"] == "done"


def test_site_schedule_offsets() -> None:
    site = inf.MonitorSettings(
        vitals_schedule=[("before_start", 0), ("start", 15), ("end", 0), ("end", 30), ("observation_end", 0)]
    )
    log = Log()
    log.vitals(at(12, 0))
    log.start(at(12, 10))
    s = log.state(at(12, 26), settings=site)
    due = {v.key: v for v in s.vitals_due}
    assert due["start+15"].due_at == at(12, 25) and due["start+15"].status == "overdue"
    assert due["start+15"].label == "15 min after start"
    assert due["end+30"].due_at == at(13, 40)
    log.vitals(at(12, 27))
    s = log.state(at(12, 28), settings=site)
    assert {v.key: v.status for v in s.vitals_due}["start+15"] == "done"
    with pytest.raises(ValueError):
        inf.MonitorSettings(vitals_schedule=[("lunch", 0)])
    with pytest.raises(ValueError):
        inf.MonitorSettings(vitals_schedule=[("end", 0), ("end", 0)])


def test_validate_vitals() -> None:
    good = {"temp_c": "37,2", "hr": "88", "sys": "118", "dia": "72", "rr": "18", "spo2": "97"}
    data, errors = inf.validate_vitals(good)
    assert errors == {} and data == {"temp_c": "37.2", "hr": 88, "sys": 118, "dia": 72, "rr": 18, "spo2": 97}

    data, errors = inf.validate_vitals({**good, "temp_c": "98.6", "hr": "", "spo2": "101", "rr": "16.5"})
    assert data is None
    assert "Temperature (°C)" in errors["temp_c"] and "10 to 46 °C" in errors["temp_c"]
    assert "Heart rate" in errors["hr"] and "required" in errors["hr"]
    assert "SpO2" in errors["spo2"] and "0 to 100 %" in errors["spo2"]
    assert "whole number" in errors["rr"]

    data, errors = inf.validate_vitals({**good, "dia": "130", "sys": "120"})
    assert data is None and "Diastolic" in errors["dia"] and "lower than the systolic" in errors["dia"]

    # Unusual but possible: needs confirmation, never a silent accept (CONV-INPUT-1).
    fever = {**good, "temp_c": "41.5", "hr": "190"}
    assert set(inf.unusual_vitals(fever)) == {"temp_c", "hr"}
    data, errors = inf.validate_vitals(fever)
    assert data is None and "confirm" in errors["temp_c"]
    data, errors = inf.validate_vitals(fever, confirmed=["temp_c", "hr"])
    assert errors == {} and data is not None and data["confirmed_unusual"] == ["hr", "temp_c"]

    # A small child's values are not refused.
    child = {"temp_c": "36.8", "hr": "150", "sys": "85", "dia": "50", "rr": "40", "spo2": "99"}
    assert inf.validate_vitals(child) == (inf.validate_vitals(child)[0], {})
    assert inf.validate_vitals(child)[0] is not None
    for key in ("temp_c", "heart_rate", "systolic_bp", "diastolic_bp", "resp_rate", "spo2"):
        assert key in rules.INPUT_LIMITS


# --- event data, robustness ----------------------------------------------------------------------------


def test_event_data_validation() -> None:
    data = inf.event_data(inf.INFUSION_STARTED, DOSE, at(12, 10), route="bag", stability_deadline=at(15, 30))
    assert data == {
        "dose_id": DOSE,
        "at": "2025-03-10T12:10:00.000000Z",
        "route": "bag",
        "flush_min": 0,
        "stability_deadline": "2025-03-10T15:30:00.000000Z",
    }
    with pytest.raises(ValueError, match="Reason"):
        inf.event_data(inf.INFUSION_PAUSED, DOSE, at(12, 20), reason="  ")
    with pytest.raises(ValueError, match="Grade"):
        inf.event_data(inf.REACTION_GRADED, DOSE, at(12, 20), grade=5)
    with pytest.raises(ValueError, match="Outcome"):
        inf.event_data(inf.REACTION_RESOLVED, DOSE, at(12, 20), outcome="later")
    with pytest.raises(ValueError):
        inf.event_data(inf.INFUSION_RESUMED, DOSE, datetime(2025, 3, 10, 12, 0))  # naive
    graded = inf.event_data(inf.REACTION_GRADED, DOSE, at(12, 20), grade="Anaphylaxis", reaction=1)
    assert graded["grade"] == "anaphylaxis" and graded["ctcae_version"] == "5.0" and graded["reaction"] == 1


def test_future_and_foreign_events_are_not_applied() -> None:
    log = Log()
    log.start(at(12, 10))
    log.add(inf.INFUSION_PAUSED, at(12, 50), reason="typed the wrong hour")
    log.add(inf.INFUSION_PAUSED, at(12, 15), dose="c1d15", reason="other dose")
    s = log.state(at(12, 30))
    assert s.phase == inf.INFUSING and s.running == timedelta(minutes=20)
    assert s.problems[0].rule == "CONV-TIME-1"
    with pytest.raises(ValueError):
        inf.monitor(log.events, DOSE, datetime(2025, 3, 10, 12, 30))


def test_active_infusions_board() -> None:
    a = Log("patient:a")
    a.start(at(12, 10))  # observing at 13:30
    a.add(inf.INFUSION_STARTED, at(13, 0), dose="c1d15", route="bag")  # a second dose id, infusing
    b = Log("patient:b")
    b.start(at(9, 0))
    b.add(inf.OBSERVATION_COMPLETED, at(11, 5))  # complete: not on the board
    c = Log("patient:c")
    c.start(at(13, 0))
    c.add(inf.INFUSION_PAUSED, at(13, 20), reason="bathroom")
    d = Log("patient:d")
    d.start(at(13, 0))
    d.add(inf.INFUSION_STOPPED, at(13, 10), reason="line lost")  # stopped, still observed
    board = inf.active_infusions({"a": a.events, "b": b.events, "c": c.events, "d": d.events}, at(13, 30))
    rows = {(pid, dose): st.phase for pid, dose, st in board}
    assert rows == {
        ("a", "c1d8"): inf.OBSERVING,
        ("a", "c1d15"): inf.INFUSING,
        ("c", "c1d8"): inf.PAUSED,
        ("d", "c1d8"): inf.STOPPED,
    }
    ends = [st.phase_ends_at for _p, _d, st in board]
    known = [e for e in ends if e is not None]
    assert known == sorted(known) and ends[-1] is None  # the paused dose (open-ended) last


# --- property ---------------------------------------------------------------------------------------------


@st.composite
def pause_sequences(draw: st.DrawFn) -> tuple[datetime, list[tuple[int, int]], int]:
    """Start, then (run seconds, pause seconds) pairs that pause before 60 min have run, then a tail."""
    start = at(0, 0) + timedelta(seconds=draw(st.integers(0, 86_400 * 3)))
    target = rules.INFUSION_MINUTES * 60
    pairs: list[tuple[int, int]] = []
    ran = 0
    for _ in range(draw(st.integers(0, 6))):
        room = target - ran - 1
        if room < 1:
            break
        run = draw(st.integers(1, room))
        pause = draw(st.integers(1, 4 * 3600))
        pairs.append((run, pause))
        ran += run
    tail = draw(st.integers(0, 3 * 3600))
    return start, pairs, tail


@settings(max_examples=300, deadline=None)
@given(pause_sequences(), st.booleans())
def test_property_running_plus_paused_is_elapsed(seq: tuple[datetime, list[tuple[int, int]], int], end_paused: bool) -> None:
    start, pairs, tail = seq
    log = Log()
    log.start(start)
    t = start
    total_pause = timedelta(0)
    for i, (run, pause) in enumerate(pairs):
        t += timedelta(seconds=run)
        log.add(inf.INFUSION_PAUSED, t, reason="test")
        last = i == len(pairs) - 1
        if last and end_paused:
            now = t + timedelta(seconds=pause)
            total_pause += timedelta(seconds=pause)
            break
        t += timedelta(seconds=pause)
        total_pause += timedelta(seconds=pause)
        log.add(inf.INFUSION_RESUMED, t)
    else:
        now = t + timedelta(seconds=tail)
    s = log.state(now)
    assert s.running + s.paused == s.elapsed
    assert s.paused == total_pause
    assert s.infusion_end_at == start + timedelta(minutes=rules.INFUSION_MINUTES) + total_pause
    if s.phase == inf.OBSERVING:
        assert s.running == timedelta(minutes=rules.INFUSION_MINUTES)
        assert s.elapsed == s.infusion_end_at - start
        assert s.observation_min_end == s.infusion_end_at + timedelta(minutes=rules.OBSERVATION_MIN_MINUTES)
    else:
        assert s.phase in (inf.INFUSING, inf.PAUSED)
        assert s.elapsed == now - start
        assert s.running < timedelta(minutes=rules.INFUSION_MINUTES)


# --- issue 15, defect 5: one consistent counter pair (MON-3, MON-2) ----------------------------------


@pytest.mark.parametrize(
    "now, counted, left",
    [
        (at(10, 20), 20, 40),  # at the pause
        (at(10, 49), 20, 40),  # paused: neither moves (MON-3: paused time excluded)
        (at(11, 1), 31, 29),  # T5: resumed 10:50 at the same rate
        (at(11, 29), 59, 1),
    ],
)
def test_timer_pair_after_a_pause_is_running_time_of_60_and_time_left(now, counted, left) -> None:
    """T5: the pair is running time of the 60 minutes and what is left; they always add up to 60,
    while the wall-clock start and the expected end (start + 60 min + pauses) are given apart."""
    log = Log()
    log.start(at(10, 0))
    log.add(inf.INFUSION_PAUSED, at(10, 20), reason="Grade 2 reaction")
    if now > at(10, 50):
        log.add(inf.INFUSION_RESUMED, at(10, 50))
    s = log.state(now)
    tm = s.timer
    assert tm is not None and tm.kind == "infusion" and tm.rule == "MON-3"
    assert tm.counted == timedelta(minutes=counted) and tm.left == timedelta(minutes=left)
    assert tm.counted + tm.left == tm.target == timedelta(minutes=60)
    assert tm.started_at == at(10, 0)
    if now > at(10, 50):
        assert tm.expected_end == at(11, 30)  # T5: 40 min left from 10:50
    # The wall-clock elapsed time is not the counter: after the pause they differ.
    if now >= at(11, 1):
        assert s.elapsed != tm.counted


def test_timer_pair_in_observation_and_none_once_complete() -> None:
    log = Log()
    log.start(at(12, 10))
    s = log.state(at(13, 40))  # T1: ended 13:10, observation until 14:10
    tm = s.timer
    assert s.phase == inf.OBSERVING and tm is not None and tm.kind == "observation"
    assert (tm.counted, tm.left, tm.target) == (timedelta(minutes=30), timedelta(minutes=30), timedelta(minutes=60))
    assert tm.expected_end == at(14, 10)
    log.add(inf.OBSERVATION_COMPLETED, at(14, 10))
    s = log.state(at(14, 30))
    assert s.phase == inf.OBSERVATION_COMPLETE and s.timer is None
    # A reaction open during observation: the time left is unknown (CONV-IRR-3), not a number.
    log2 = Log()
    log2.start(at(12, 10))
    log2.add(inf.REACTION_STARTED, at(13, 40), symptoms="rigors, fever")  # T7
    tm = log2.state(at(13, 50)).timer
    assert tm is not None and tm.left is None and tm.target is None


# --- issue 15: a grade correction is a prescriber's, with a reason (CONV-IRR-1, CONV-OVR-1) ------------


@pytest.mark.parametrize(
    "role, reason, grade, error",
    [
        ("nurse", "rash only", 2, "only a prescriber"),
        ("pharmacist", "rash only", 2, "only a prescriber"),
        ("prescriber", "   ", 2, "Reason: required"),
        ("prescriber", "", 2, "Reason: required"),
        ("prescriber", "rash only", 3, "already Grade 3"),
        ("prescriber", "rash only", 7, "Grade: CTCAE"),
        ("prescriber", "rash only", 2, None),
    ],
)
def test_grade_correction_needs_a_prescriber_and_a_reason(role, reason, grade, error) -> None:
    log = Log()
    log.start(at(10, 0))
    log.add(inf.REACTION_STARTED, at(10, 20), symptoms="rash")
    log.add(inf.REACTION_GRADED, at(10, 25), grade=3)
    s = log.state(at(10, 30))
    if error:
        with pytest.raises(ValueError, match=error):
            inf.grade_correction_data(s, 1, grade, reason, role, at(10, 30))
        return
    data = inf.grade_correction_data(s, 1, grade, reason, role, at(10, 30))
    assert data["correction_reason"] == "rash only" and data["corrected_by_role"] == "prescriber" and data["reaction"] == 1
    log._append(inf.REACTION_GRADED, data, at(10, 30), "priya")
    assert log.state(at(10, 31)).reactions[0].grade == 2


def test_grade_correction_of_an_unknown_reaction_is_refused() -> None:
    log = Log()
    log.start(at(10, 0))
    s = log.state(at(10, 5))
    with pytest.raises(ValueError, match="no reaction 1"):
        inf.grade_correction_data(s, 1, 2, "x", "prescriber", at(10, 5))

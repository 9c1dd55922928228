"""Every monitor command: refused for the wrong role (and an unknown user), refused in a state that
forbids it, accepted in a good state (core/infusion/commands.py; roles read from the users log)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bedside.core import infusion as inf
from bedside.core.commands import Refusal, Refused, decide
from bedside.core.events import NewEvent
from bedside.core.schedule.events import DoseGiven

from ...tui.conftest import bag_code, make_ready

DOSE = "c1d1"
NORMAL = {"temp_c": "37.0", "hr": "80", "sys": "120", "dia": "75", "rr": "16", "spo2": "98"}


@pytest.fixture
def started(ready):
    ledger, pid = ready
    ledger.execute(inf.StartInfusion(pid, DOSE, bag_code(ledger, pid)), "nina")
    return ledger, pid


def dry(ledger, cmd, who="nina"):
    return decide(ledger.state(), cmd, ledger.clock.now(), ledger.actor(who))


def refused(ledger, cmd, who="nina") -> str:
    result = dry(ledger, cmd, who)
    assert isinstance(result, Refusal), result
    return result.text


def kinds(ledger, cmd, who="nina") -> list[str]:
    result = dry(ledger, cmd, who)
    assert not isinstance(result, Refusal), result.text
    return [type(p).KIND for p in result]


def wrong_roles(ledger, cmd) -> None:
    assert "only a nurse, pharmacist or prescriber" in refused(ledger, cmd, "adam")  # an admin
    assert "not an active user" in refused(ledger, cmd, "zed")  # no such user


def phase(ledger, pid):
    return inf.monitor(ledger.stream_events(ledger.patient(pid).stream), DOSE, ledger.clock.now()).phase


# -- s ---------------------------------------------------------------------------------------------


def test_start(ready, demo):
    ledger, pid = ready
    cmd = inf.StartInfusion(pid, DOSE, bag_code(ledger, pid))
    wrong_roles(ledger, cmd)
    assert kinds(ledger, cmd) == [inf.INFUSION_STARTED, DoseGiven.KIND]
    stored = ledger.execute(cmd, "nina")
    assert [e.kind for e in stored] == [inf.INFUSION_STARTED, DoseGiven.KIND]
    assert phase(ledger, pid) == inf.INFUSING
    assert refused(ledger, cmd).startswith("Already started")  # a second start is refused
    with pytest.raises(Refused, match="Already started"):
        ledger.execute(cmd, "noah")


def test_start_is_refused_for_a_dose_that_is_not_ready(demo, clock):
    ledger, pid = demo
    text = refused(ledger, inf.StartInfusion(pid, DOSE))
    assert text.startswith("Cannot start:\n✗ ")
    make_ready(ledger, clock, pid, verified=False)
    assert "✗ Not verified" in refused(ledger, inf.StartInfusion(pid, DOSE))
    assert refused(ledger, inf.StartInfusion("nobody", DOSE)).startswith("Start the infusion: no patient")


# -- p, r, t ----------------------------------------------------------------------------------------


def test_pause(ready, clock):
    ledger, pid = ready
    cmd = inf.PauseInfusion(pid, DOSE, reason="bathroom")
    assert "not running" in refused(ledger, cmd)  # not started
    ledger.execute(inf.StartInfusion(pid, DOSE, bag_code(ledger, pid)), "nina")
    wrong_roles(ledger, cmd)
    assert "Reason: required" in refused(ledger, inf.PauseInfusion(pid, DOSE, reason=" "))
    assert kinds(ledger, cmd) == [inf.INFUSION_PAUSED]
    ledger.execute(cmd, "nina")
    assert "not running" in refused(ledger, cmd)  # paused already


def test_resume(started, clock):
    ledger, pid = started
    cmd = inf.ResumeInfusion(pid, DOSE)
    assert "not paused" in refused(ledger, cmd)
    clock.advance(minutes=10)
    ledger.execute(inf.PauseInfusion(pid, DOSE, reason="bathroom"), "nina")
    wrong_roles(ledger, cmd)
    assert kinds(ledger, cmd) == [inf.INFUSION_RESUMED]


def test_resume_with_an_open_reaction_is_refused(started, clock):
    ledger, pid = started
    clock.advance(minutes=10)
    ledger.execute(inf.StartReaction(pid, DOSE, symptoms="rash"), "nina")  # pauses the infusion
    assert "CONV-IRR-2" in refused(ledger, inf.ResumeInfusion(pid, DOSE))


def test_resume_past_the_stability_deadline_needs_a_confirmation(demo, clock):
    """CONV-STAB-3: the warning the screen shows is the decision's; only a confirmed command resumes."""
    ledger, pid = demo
    stream = ledger.patient(pid).stream
    now = clock.now()
    data = inf.event_data(inf.INFUSION_STARTED, DOSE, now, stability_deadline=now + timedelta(minutes=70))
    ledger.append(stream, lambda: [NewEvent(stream, inf.INFUSION_STARTED, "nina", now, data)])
    clock.advance(minutes=10)
    ledger.execute(inf.PauseInfusion(pid, DOSE, reason="pump"), "nina")
    clock.advance(minutes=25)  # resuming now ends at +85 min, after the deadline at +70
    warning = inf.resume_warning(ledger.state(), inf.ResumeInfusion(pid, DOSE), clock.now())
    assert warning and "CONV-STAB-3" in warning
    text = refused(ledger, inf.ResumeInfusion(pid, DOSE))
    assert warning in text and "confirmation" in text
    assert kinds(ledger, inf.ResumeInfusion(pid, DOSE, confirmed=True)) == [inf.INFUSION_RESUMED]


def test_stop(ready):
    ledger, pid = ready
    cmd = inf.StopInfusion(pid, DOSE, reason="asked to stop")
    assert "not running or paused" in refused(ledger, cmd)
    ledger.execute(inf.StartInfusion(pid, DOSE, bag_code(ledger, pid)), "nina")
    wrong_roles(ledger, cmd)
    assert kinds(ledger, cmd) == [inf.INFUSION_STOPPED]
    ledger.execute(cmd, "nina")
    assert phase(ledger, pid) == inf.STOPPED
    assert "not running or paused" in refused(ledger, cmd)


# -- o, l -------------------------------------------------------------------------------------------


def test_complete_observation(started, clock):
    ledger, pid = started
    cmd = inf.CompleteObservation(pid, DOSE)
    assert "Observation starts when the infusion ends" in refused(ledger, cmd)
    clock.advance(minutes=61)
    assert "Observation may end at" in refused(ledger, cmd)  # MON-2: not before end + 60 min
    clock.advance(minutes=60)
    wrong_roles(ledger, cmd)
    assert kinds(ledger, cmd) == [inf.OBSERVATION_COMPLETED]
    ledger.execute(cmd, "nina")
    assert "Observation was closed" in refused(ledger, cmd)


def test_left_early(started, clock):
    ledger, pid = started
    cmd = inf.RecordLeftEarly(pid, DOSE, reason="family emergency")
    assert "Observation is not open" in refused(ledger, cmd)  # still infusing
    clock.advance(minutes=70)
    wrong_roles(ledger, cmd)
    assert "Reason: required" in refused(ledger, inf.RecordLeftEarly(pid, DOSE))
    assert kinds(ledger, cmd) == [inf.OBSERVATION_INCOMPLETE]
    ledger.execute(cmd, "nina")
    assert phase(ledger, pid) == inf.OBSERVATION_INCOMPLETE_PHASE
    assert "Observation is not open" in refused(ledger, cmd)


# -- v ----------------------------------------------------------------------------------------------


def test_vitals(started):
    ledger, pid = started
    cmd = inf.RecordVitals(pid, DOSE, values=NORMAL)
    wrong_roles(ledger, cmd)
    assert "Heart rate (/min)" in refused(ledger, inf.RecordVitals(pid, DOSE, values={**NORMAL, "hr": "800"}))
    unusual = {**NORMAL, "temp_c": "42.0"}  # valid, outside the usual band (CONV-INPUT-1)
    assert "CONV-INPUT-1" in refused(ledger, inf.RecordVitals(pid, DOSE, values=unusual))  # not confirmed
    assert kinds(ledger, inf.RecordVitals(pid, DOSE, values=unusual, confirmed=("temp_c",))) == [inf.VITALS_RECORDED]
    (ev,) = ledger.execute(cmd, "nina")
    assert ev.data["hr"] == 80 and ev.data["temp_c"] == "37.0" and "point" not in ev.data


def test_vitals_taken_at_a_typed_time(started, clock):
    """A late entry keeps the time the set was taken (MON-4); the minute it is now, or nothing, is now
    itself; a time later than now, or not HH:MM, is refused naming the field."""
    ledger, pid = started
    clock.advance(minutes=20, seconds=30)  # 08:30:30 (UTC site zone in the tests)
    now = clock.now()
    assert inf.vitals_taken_at("", now) == now and inf.vitals_taken_at(now.strftime("%H:%M"), now) == now
    assert inf.vitals_taken_at("8:05", now) == now.replace(minute=5, second=0)
    for bad, words in (("08:31", "later than now"), ("8.05", "HH:MM"), ("24:00", "HH:MM"), ("x", "HH:MM")):
        with pytest.raises(ValueError, match=words):
            inf.vitals_taken_at(bad, now)
        assert "Taken at" in refused(ledger, inf.RecordVitals(pid, DOSE, values=NORMAL, time=bad))
    (ev,) = ledger.execute(inf.RecordVitals(pid, DOSE, values=NORMAL, time="08:15"), "nina")
    assert ev.data["at"] == "2025-03-03T08:15:00.000000Z" and ev.at == now  # the fact's time; written now
    (ev,) = ledger.execute(inf.RecordVitals(pid, DOSE, values=NORMAL), "nina")
    assert ev.data["at"] == "2025-03-03T08:30:30.000000Z"


def test_a_dose_is_shown_as_users_read_it(started):
    ledger, pid = started
    assert inf.dose_label("c1d8") == "C1 D8" and inf.dose_label("c12d15") == "C12 D15" and inf.dose_label("odd") == "odd"
    assert "the infusion of C1 D1 started at" in refused(ledger, inf.StartInfusion(pid, DOSE))
    assert "no reaction 3 on C1 D1" in refused(ledger, inf.GradeReaction(pid, DOSE, reaction=3, grade=2))


# -- e: the reaction sequence -------------------------------------------------------------------------


def test_reaction_sequence(started, clock):
    ledger, pid = started
    start = inf.StartReaction(pid, DOSE, symptoms="rigors")
    wrong_roles(ledger, start)
    assert "Symptoms: required" in refused(ledger, inf.StartReaction(pid, DOSE))
    assert "there is no reaction 1" in refused(ledger, inf.GradeReaction(pid, DOSE, reaction=1, grade=2))
    ledger.execute(start, "nina")
    assert "Reaction 1 is still open" in refused(ledger, start)  # one open reaction at a time
    steps = [
        inf.GradeReaction(pid, DOSE, reaction=1, grade="2"),
        inf.NotifyReaction(pid, DOSE, reaction=1, who="Dr Raman"),
        inf.TreatReaction(pid, DOSE, reaction=1, treatment="none"),
        inf.ResolveReaction(pid, DOSE, reaction=1, outcome="resume"),
    ]
    for cmd in steps:
        wrong_roles(ledger, cmd)
        assert "there is no reaction 2" in refused(ledger, type(cmd)(pid, DOSE, **{**_fields(cmd), "reaction": 2}))
    assert "Grade: CTCAE" in refused(ledger, inf.GradeReaction(pid, DOSE, reaction=1, grade="5"))
    ledger.execute(inf.RecordVitals(pid, DOSE, values=NORMAL, point="reaction:1"), "nina")
    for cmd in steps:
        clock.advance(minutes=1)
        (ev,) = ledger.execute(cmd, "nina")
        assert ev.data["reaction"] == 1
    for cmd in steps:  # a resolved reaction takes no further step
        assert "was resolved" in refused(ledger, cmd)
    assert phase(ledger, pid) == inf.PAUSED
    assert kinds(ledger, inf.ResumeInfusion(pid, DOSE)) == [inf.INFUSION_RESUMED]  # every step recorded (CONV-IRR-2)


def _fields(cmd) -> dict:
    import attrs

    return {a.name: getattr(cmd, a.name) for a in attrs.fields(type(cmd)) if a.name not in ("pid", "dose_id")}


def test_a_lower_grade_is_a_correction_and_a_severe_reaction_cannot_resume(started, clock):
    ledger, pid = started
    ledger.execute(inf.StartReaction(pid, DOSE, symptoms="stridor"), "nina")
    ledger.execute(inf.GradeReaction(pid, DOSE, reaction=1, grade=3), "nina")
    assert phase(ledger, pid) == inf.STOPPED  # CONV-IRR-1
    assert "a lower grade is a prescriber's correction" in refused(ledger, inf.GradeReaction(pid, DOSE, reaction=1, grade=2))
    assert kinds(ledger, inf.GradeReaction(pid, DOSE, reaction=1, grade=4)) == [inf.REACTION_GRADED]  # worse: allowed
    assert "cannot resume" in refused(ledger, inf.ResolveReaction(pid, DOSE, reaction=1, outcome="resume"))
    assert kinds(ledger, inf.ResolveReaction(pid, DOSE, reaction=1, outcome="stop")) == [inf.REACTION_RESOLVED]


# -- G: the prescriber's grade correction ---------------------------------------------------------------


def test_grade_correction_is_a_prescribers(started, clock):
    ledger, pid = started
    ledger.execute(inf.StartReaction(pid, DOSE, symptoms="stridor"), "nina")
    ledger.execute(inf.GradeReaction(pid, DOSE, reaction=1, grade=3), "nina")
    cmd = inf.CorrectGrade(pid, DOSE, reaction=1, grade="1", reason="it was a vasovagal episode")
    for who in ("nina", "phil", "adam"):  # the role is read from the users log, never passed in
        assert "Grade correction: only a prescriber" in refused(ledger, cmd, who)
    assert "not an active user" in refused(ledger, cmd, "zed")
    assert inf.grade_correction_signer(ledger.actor("nina")) == ("prescriber",)
    assert inf.grade_correction_signer(ledger.actor("priya")) == ()
    assert "Reason: required" in refused(ledger, inf.CorrectGrade(pid, DOSE, reaction=1, grade="1"), "priya")
    assert "already Grade 3" in refused(ledger, inf.CorrectGrade(pid, DOSE, reaction=1, grade=3, reason="x"), "priya")
    assert "no reaction 2" in refused(ledger, inf.CorrectGrade(pid, DOSE, reaction=2, grade=1, reason="x"), "priya")
    (ev,) = ledger.execute(cmd, "priya")
    assert ev.data["correction_reason"] and ev.data["corrected_by_role"] == "prescriber" and ev.actor == "priya"


# -- k ----------------------------------------------------------------------------------------------


def test_acknowledge_alert(started, clock):
    ledger, pid = started
    clock.advance(minutes=61)  # the infusion ended: an alert says so
    st = inf.monitor(ledger.stream_events(ledger.patient(pid).stream), DOSE, clock.now())
    alert = next(a for a in st.alerts if a.id.startswith("infusion-ended:"))
    cmd = inf.AcknowledgeAlert(pid, DOSE, alert_id=alert.id)
    wrong_roles(ledger, cmd)
    assert "No such alert" in refused(ledger, inf.AcknowledgeAlert(pid, DOSE, alert_id="nothing:here"))
    assert kinds(ledger, cmd) == [inf.ALERT_ACKNOWLEDGED]
    (ev,) = ledger.execute(cmd, "nina")
    assert ev.data == {"alert_id": alert.id, "at": ev.data["at"], "dose_id": DOSE}
    assert "acknowledged already" in refused(ledger, cmd)


def test_a_start_recorded_for_a_later_time_still_refuses_a_second_start(ready, clock):
    """The fold lists a start entered for a time later than now as a problem (CONV-TIME-1), but it
    was recorded: the dose may not be started again."""
    ledger, pid = ready
    stream = ledger.patient(pid).stream
    later = clock.now() + timedelta(hours=2)
    data = inf.event_data(inf.INFUSION_STARTED, DOSE, later)
    ledger.append(stream, lambda: [NewEvent(stream, inf.INFUSION_STARTED, "nina", clock.now(), data)])
    assert phase(ledger, pid) == inf.NOT_STARTED
    assert refused(ledger, inf.StartInfusion(pid, DOSE)).startswith("Already started")


# -- the alerts' words (WARN-ALERT-1) ----------------------------------------------------------------

STORED_ID = re.compile(r"\bc\d+d\d+\b")


def alerts_now(ledger, pid) -> list[inf.Alert]:
    return list(inf.monitor(ledger.stream_events(ledger.patient(pid).stream), DOSE, ledger.clock.now()).alerts)


def check(alert: inf.Alert) -> None:
    words = f"{alert.text} {alert.action}"
    assert not STORED_ID.search(words), words
    assert alert.text.startswith("C1 D1: "), alert.text
    assert alert.action and alert.action[0].isupper(), alert  # what to do, as a sentence
    assert alert.rule and re.fullmatch(r"[A-Z][A-Z0-9-]+(, [A-Z][A-Z0-9-]+)*", alert.rule), alert.rule
    assert re.search(r"\([A-Z]+-[A-Z0-9-]+", alert.action) or "Table 6" in alert.action or alert.rule, alert


def test_every_alert_of_a_whole_dose_says_what_to_do_and_cites_its_rule(started, clock):
    ledger, pid = started
    seen: dict[str, inf.Alert] = {}

    def collect() -> None:
        for a in alerts_now(ledger, pid):
            check(a)
            seen.setdefault(a.id.split(":", 1)[0], a)

    collect()
    clock.advance(minutes=10)
    ledger.execute(inf.StartReaction(pid, DOSE, symptoms="rigors"), "nina")
    collect()  # reaction-open: the next step in words
    assert "record the vital signs" in seen["reaction-open"].action
    for cmd in (
        inf.RecordVitals(pid, DOSE, values=NORMAL, point="reaction:1"),
        inf.GradeReaction(pid, DOSE, reaction=1, grade=3),
    ):
        result = decide(ledger.state(), cmd, clock.now(), ledger.actor("nina"))
        assert not isinstance(result, Refusal), result.text
        ledger.execute(cmd, "nina")
    collect()  # reaction-severe and the stop it caused
    ledger.execute(inf.ResolveReaction(pid, DOSE, reaction=1, outcome="stop"), "nina")
    collect()  # reaction-record: what its record lacks, in words
    assert "lacks the person notified and the treatment." in seen["reaction-record"].text
    clock.advance(minutes=70)
    collect()  # observation may end, vitals missed or overdue
    assert {"reaction-severe", "reaction-open", "reaction-record", "infusion-stopped"} <= set(seen), sorted(seen)
    assert "permanent discontinuation" in seen["reaction-severe"].action

"""Every timeline command: refused for the wrong role or an unknown or deactivated user, refused
in a state that forbids it, accepted in a good one (the role is read from the users log)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest

from bedside.core import schedule as sch
from bedside.core.commands import Actor, Refusal, Refused, decide

D1 = date(2025, 3, 3)  # the clock fixture's date (a Monday)


@pytest.fixture
def pid(ledger):
    p = ledger.register_patient("nina", {"name": "TEST, Schedule", "dob": "1970-01-01", "mrn": "MRN-SCH-1", "sex": "female"})
    ledger.record("nina", p.id, "measurement", {"height_cm": "170", "weight_kg": "70", "measured_on": "2025-03-03"})
    return p.id


def run(ledger, cmd, who: str | Actor):
    actor = who if isinstance(who, Actor) else ledger.actor(who)
    return decide(ledger.state(), cmd, ledger.clock.now(), actor)


def accepted(result, cls):
    assert not isinstance(result, Refusal), result.text
    (p,) = result
    assert type(p) is cls
    return p


def refused(result, pattern: str) -> None:
    assert isinstance(result, Refusal), result
    assert re.search(pattern, result.text), result.text


def started(ledger, pid, who="priya"):
    ledger.execute(sch.StartCycle(pid, D1), who)


def give(ledger, pid, cycle, day, on, who="nina"):
    ledger.execute(sch.RecordDoseGiven(pid, cycle, day, on), who)


NOT_ACTIVE = r"not an active user"
GHOST = "ghost"  # no such user
GONE = Actor("nina", "nurse", active=False)  # deactivated


def test_start_cycle(ledger, pid):
    cmd = sch.StartCycle(pid, D1)
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, GONE), NOT_ACTIVE)
    refused(run(ledger, cmd, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.StartCycle("nobody", D1), "nina"), r"no patient")
    p = accepted(run(ledger, cmd, "nina"), sch.CycleStarted)
    assert p.to_data() == {"cycle": 1, "day1": "2025-03-03"}
    started(ledger, pid)
    give(ledger, pid, 1, 1, D1)
    refused(run(ledger, cmd, "nina"), r"cycle 1 has started \(SCHED-6\)")


def test_record_dose_given_uses_core_s_dose_in_mg(ledger, pid):
    cmd = sch.RecordDoseGiven(pid, 1, 1, D1)
    refused(run(ledger, cmd, "nina"), r"not started")
    started(ledger, pid)
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.RecordDoseGiven(pid, 1, 8, D1), "nina"), r"earlier doses|SCHED-3|outside")
    view = ledger.view(pid)
    amount = sch.dose_amount(view, view.timeline.dose(1, 1))
    assert amount.source == "estimate" and "estimate from the current BSA" in amount.text and amount.mg > 0
    p = accepted(run(ledger, cmd, "nina"), sch.DoseGiven)
    assert (p.level_mg_m2, p.dose_mg, p.date) == ("0.8", str(amount.mg), "2025-03-03")
    give(ledger, pid, 1, 1, D1)
    refused(run(ledger, cmd, "nina"), r"already given")


def test_record_dose_given_without_height_and_weight_is_refused(ledger):
    p = ledger.register_patient("nina", {"name": "TEST, Nomeasure", "dob": "1970-01-01", "mrn": "MRN-SCH-2", "sex": "male"})
    started(ledger, p.id)
    refused(run(ledger, sch.RecordDoseGiven(p.id, 1, 1, D1), "nina"), r"height and weight")


def test_the_dose_in_mg_is_the_preparation_s_when_there_is_one(ledger, pid):
    from bedside.core.preparation import CalculateDose

    started(ledger, pid)
    ledger.execute(CalculateDose(pid, 1, 1), "phil")
    view = ledger.view(pid)
    calc = view.prep("c1d1").calculation
    amount = sch.dose_amount(view, view.timeline.dose(1, 1))
    assert amount.source == "preparation" and amount.mg == Decimal(calc.data["dose_mg"])
    p = accepted(run(ledger, sch.RecordDoseGiven(pid, 1, 1, D1), "nina"), sch.DoseGiven)
    assert p.dose_mg == calc.data["dose_mg"]


def test_hold_and_recover(ledger, pid):
    started(ledger, pid)
    give(ledger, pid, 1, 1, D1)
    hold = sch.HoldDose(pid, 1, 8, "Grade 2 nausea", "non_hematologic")
    refused(run(ledger, hold, GHOST), NOT_ACTIVE)
    refused(run(ledger, hold, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.HoldDose(pid, 1, 8, "ANC low", "hematologic"), "nina"), r"MOD-GEN-1")
    recover = sch.RecordRecovery(pid, 1, 8, D1)
    refused(run(ledger, recover, "nina"), r"is not held")
    accepted(run(ledger, hold, "nina"), sch.DoseHeld)
    ledger.execute(hold, "nina")
    refused(run(ledger, hold, "nina"), r"already held")
    refused(run(ledger, recover, GONE), NOT_ACTIVE)
    refused(run(ledger, recover, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.RecordRecovery(pid, 1, 8, D1 + timedelta(days=1)), "nina"), r"not after today")
    assert accepted(run(ledger, recover, "nina"), sch.DoseRecovered).date == "2025-03-03"


def test_move_and_omit(ledger, pid):
    started(ledger, pid)
    give(ledger, pid, 1, 1, D1)
    move = sch.MoveDose(pid, 1, 8, date(2025, 3, 11), "clinic closed")
    refused(run(ledger, move, GHOST), NOT_ACTIVE)
    refused(run(ledger, move, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.MoveDose(pid, 1, 8, date(2025, 3, 13), "clinic closed"), "nina"), r"nearest allowed date 2025-03-12")
    assert accepted(run(ledger, move, "nina"), sch.DoseMoved).date == "2025-03-11"
    omit = sch.OmitDose(pid, 1, 15, "patient choice")
    refused(run(ledger, omit, GONE), NOT_ACTIVE)
    refused(run(ledger, omit, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.OmitDose(pid, 3, 8, "x"), "nina"), r"Cycle 3 is not allowed")
    refused(run(ledger, sch.OmitDose(pid, 2, 1, "x"), "nina"), r"never omitted \(SCHED-6")
    refused(run(ledger, sch.OmitDose(pid, 1, 1, "x"), "nina"), r"already given")
    accepted(run(ledger, omit, "priya"), sch.DoseOmitted)


def test_extend_cycle_one(ledger, pid):
    cmd = sch.ExtendCycle(pid, 28, "toxicity_recovery")
    refused(run(ledger, cmd, "nina"), r"not started")
    started(ledger, pid)
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.ExtendCycle(pid, 30, "toxicity_recovery"), "priya"), r"SCHED-4")
    assert accepted(run(ledger, cmd, "priya"), sch.CycleExtended).to_data() == {
        "cycle": 1,
        "length_days": 28,
        "reason": "toxicity_recovery",
        "note": "",
    }


def test_record_response(ledger, pid):
    cmd = sch.RecordResponse(pid, 1, "cr", "negative", D1)
    refused(run(ledger, cmd, "nina"), r"not started")
    started(ledger, pid)
    refused(run(ledger, cmd, "nina"), r"Cycle 1 has not started")  # its Day 1 is not given
    give(ledger, pid, 1, 1, D1)
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, "adam"), r"nurse, pharmacist or prescriber")
    refused(run(ledger, sch.RecordResponse(pid, 1, "cr", "negative", D1 + timedelta(days=1)), "nina"), r"between")
    accepted(run(ledger, cmd, "nina"), sch.ResponseRecorded)


def _with_mod_int_1(ledger, pid, clock) -> str:
    """C1 D8 held 03-10 and recovered 03-14 (4 days): a MOD-INT-1 proposal for a prescriber."""
    started(ledger, pid)
    give(ledger, pid, 1, 1, D1)
    clock.set(clock.now() + timedelta(days=7))
    ledger.execute(sch.HoldDose(pid, 1, 8, "Grade 2 nausea", "non_hematologic"), "nina")
    clock.set(clock.now() + timedelta(days=4))
    ledger.execute(sch.RecordRecovery(pid, 1, 8, date(2025, 3, 14)), "nina")
    (p,) = [p for p in ledger.view(pid).timeline.proposals if p.rule == "MOD-INT-1"]
    return p.id


def test_decide_a_proposal_needs_its_role(ledger, pid, clock):
    refused(run(ledger, sch.DecideProposal(pid, "MOD-INT-1:c1d8", "confirmed", "ok"), "priya"), r"not started")
    proposal = _with_mod_int_1(ledger, pid, clock)
    cmd = sch.DecideProposal(pid, proposal, "confirmed", "recovered to grade 1")
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, GONE), NOT_ACTIVE)
    refused(run(ledger, cmd, "nina"), r"needs a prescriber \(CONV-OVR-1")
    refused(run(ledger, cmd, "phil"), r"needs a prescriber")
    refused(run(ledger, sch.DecideProposal(pid, "MOD-INT-9:c1d8", "confirmed", "x"), "priya"), r"No open proposal")
    p = accepted(run(ledger, cmd, "priya"), sch.ProposalDecided)
    assert (p.role, p.unverified_rule, p.date) == ("prescriber", "MOD-INT-1", None)


def test_confirm_levels_is_a_prescriber_s(ledger, pid):
    cmd = sch.ConfirmLevels(pid, 1, "Table 1, cycle 1")
    refused(run(ledger, cmd, "priya"), r"not started")
    started(ledger, pid)
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, "nina"), r"prescriber")
    refused(run(ledger, cmd, "phil"), r"prescriber")
    refused(run(ledger, sch.ConfirmLevels(pid, 1, "   "), "priya"), r"basis")
    p = accepted(run(ledger, cmd, "priya"), sch.LevelsConfirmed)
    assert p.levels == {"1": "0.8", "8": "0.5", "15": "0.5"} and "unverified_rule" not in p.to_data()


def test_discontinue_is_a_prescriber_s(ledger, pid):
    cmd = sch.DiscontinueTreatment(pid, "patient_choice", "moving abroad")
    refused(run(ledger, cmd, "priya"), r"not started")
    started(ledger, pid)
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, "nina"), r"prescriber")
    refused(run(ledger, sch.DiscontinueTreatment(pid, "other"), "priya"), r"needs a note")
    p = accepted(run(ledger, cmd, "priya"), sch.TreatmentDiscontinued)
    assert p.date == "2025-03-03"  # today, the site's local date
    ledger.execute(cmd, "priya")
    refused(run(ledger, cmd, "priya"), r"already discontinued")
    refused(run(ledger, sch.StartCycle(pid, D1), "priya"), r"discontinued")


def test_void_the_latest_entry(ledger, pid):
    cmd = sch.VoidLatestEntry(pid, "entered on the wrong patient")
    refused(run(ledger, cmd, "nina"), r"no schedule entry")
    started(ledger, pid, who="nina")
    refused(run(ledger, cmd, GHOST), NOT_ACTIVE)
    refused(run(ledger, cmd, GONE), NOT_ACTIVE)
    refused(run(ledger, cmd, "noah"), r"recorded by nina: only nina or a prescriber")
    accepted(run(ledger, cmd, "nina"), sch.ScheduleVoided)
    p = accepted(run(ledger, cmd, "priya"), sch.ScheduleVoided)
    assert (p.kind, p.recorded_by, p.entry) == ("cycle.started", "nina", "Cycle 1 started, Day 1 2025-03-03")
    seen = ledger.view(pid).version
    started(ledger, pid, who="nina")  # another entry meanwhile
    refused(run(ledger, sch.VoidLatestEntry(pid, "typo", expected_version=seen), "nina"), r"changed while you were answering")


def test_a_nurse_cannot_void_a_prescriber_s_entry_whatever_the_caller_claims(ledger, pid):
    """The role is read from the users log: the command has no role to claim."""
    started(ledger, pid, who="priya")
    assert "role" not in {f.name for f in attrs.fields(sch.VoidLatestEntry)}
    with pytest.raises(Refused, match=r"recorded by priya: only priya or a prescriber"):
        ledger.execute(sch.VoidLatestEntry(pid, "wrong date"), "nina")
    assert ledger.view(pid).timeline.started
    (ev,) = ledger.execute(sch.VoidLatestEntry(pid, "wrong date"), "priya")
    assert ev.kind == sch.SCHEDULE_VOIDED and ev.actor == "priya"
    assert not ledger.view(pid).timeline.started


def test_every_timeline_command_is_here():
    from bedside.core.commands import DECIDERS

    mine = {t for t in DECIDERS if t.__module__ == "bedside.core.schedule.commands"}
    assert mine == {
        sch.StartCycle,
        sch.RecordDoseGiven,
        sch.HoldDose,
        sch.RecordRecovery,
        sch.MoveDose,
        sch.OmitDose,
        sch.ExtendCycle,
        sch.RecordResponse,
        sch.DecideProposal,
        sch.ConfirmLevels,
        sch.DiscontinueTreatment,
        sch.VoidLatestEntry,
    }


def test_access_says_who_may_act_and_why(ledger, pid):
    nina, priya, adam = ledger.actor("nina"), ledger.actor("priya"), ledger.actor("adam")
    assert sch.access("hold", nina).allowed and not sch.access("hold", adam).allowed
    lv = sch.access("levels", nina)
    assert (lv.allowed, lv.needs_role) == (False, "prescriber") and "CONV-MOD-3" in lv.why
    assert sch.access("discontinue", priya).allowed
    assert not sch.access("give", ledger.actor(GHOST)).allowed
    started(ledger, pid, who="priya")
    entry = sch.latest_entry(ledger.view(pid).events)
    assert sch.access("in_error", priya, entry=entry).allowed
    a = sch.access("in_error", nina, entry=entry)
    assert (a.allowed, a.needs_role) == (False, "prescriber") and "recorded by priya" in a.why


def test_confirm_levels_with_a_chosen_row_records_that_row(ledger, pid, clock):
    """CONV-RESP-4: cycle 2 with no response assessed has no level until a prescriber picks the
    Table 1 row; choosing it (L, a row, no levels typed) records the row's levels."""
    started(ledger, pid)
    for day, on in ((1, D1), (8, D1 + timedelta(days=7)), (15, D1 + timedelta(days=14))):
        clock.set(clock.now().replace(year=on.year, month=on.month, day=on.day))
        give(ledger, pid, 1, day, on)
    assert ledger.view(pid).timeline.dose(2, 1).level is None
    refused(run(ledger, sch.ConfirmLevels(pid, 2, "no marrow yet"), "priya"), r"choose the Table 1 row \(CONV-RESP-4\)")
    p = accepted(run(ledger, sch.ConfirmLevels(pid, 2, "no marrow yet", row="cr_cri"), "priya"), sch.LevelsConfirmed)
    assert (p.row, p.levels, p.custom) == ("cr_cri", {"1": "0.5", "8": "0.5", "15": "0.5"}, False)
    ledger.execute(sch.ConfirmLevels(pid, 2, "no marrow yet", row="cr_cri"), "priya")
    assert ledger.view(pid).timeline.dose(2, 1).level == Decimal("0.5")

"""Every preparation command through the one command path (Ledger.execute): refused for the wrong
role and for an unknown user, refused in a state that forbids it, accepted in a good one. The role
is the users log's (never the caller's); the double-check's actor is the second person, who may not
be the preparer (CONV-VERIFY-1)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bedside.core import preparation as prep
from bedside.core.commands import Refusal, Refused, decide
from bedside.core.demo import seed
from bedside.core.service import Ledger
from bedside.core.site import SetSiteSetting

ADULT = "MRN-100231"  # HARTMAN: 170 cm / 70 kg (W1): C1 D1 1.45 mg, the bag
CHILD = "MRN-200518"  # LINDQVIST: 120 cm / 22 kg: C1 D8 0.43 mg, below the bag range → the syringe


@pytest.fixture
def ward(store, clock, key) -> Ledger:
    seed(store, clock)
    return Ledger(store, clock, key)


def pid_of(ledger: Ledger, mrn: str) -> str:
    return next(p.id for p in ledger.patients() if p.mrn == mrn)


def refused(ledger: Ledger, cmd, actor: str, match: str) -> Refusal:
    """The dry run refuses (its words), and so does execute, recording nothing."""
    before = ledger.last_seq
    answer = decide(ledger.state(), cmd, ledger.clock.now(), ledger.actor(actor))
    assert isinstance(answer, Refusal), answer
    with pytest.raises(Refused, match=match):
        ledger.execute(cmd, actor)
    assert ledger.last_seq == before
    return answer


def st(ledger: Ledger, pid: str, dose: str = "c1d1") -> prep.PrepState:
    return ledger.view(pid).prep(dose)


def calculated(ledger: Ledger, mrn: str = ADULT, day: int = 1, actor: str = "phil") -> str:
    pid = pid_of(ledger, mrn)
    ledger.execute(prep.CalculateDose(pid, 1, day), actor)
    return pid


def reconstituted(ledger: Ledger, actor: str = "phil") -> str:
    pid = calculated(ledger)
    ledger.execute(prep.Reconstitute(pid, "c1d1", ledger.clock.now()), actor)
    return pid


def diluted(ledger: Ledger, clock) -> str:
    pid = reconstituted(ledger)
    clock.advance(minutes=10)
    ledger.execute(prep.Dilute(pid, "c1d1", clock.now(), "refrigerated"), "phil")
    return pid


# -- c: the calculation --------------------------------------------------------------------------


def test_calculate_reads_its_inputs_from_the_record(ward):
    pid = pid_of(ward, ADULT)
    cmd = prep.CalculateDose(pid, 1, 1)
    refused(ward, cmd, "priya", "only a pharmacist or nurse")
    refused(ward, cmd, "adam", "only a pharmacist or nurse")
    refused(ward, cmd, "ghost", "'ghost' is not an active user")
    (ev,) = ward.execute(cmd, "nina")
    p = ev.payload
    assert isinstance(p, prep.PrepCalculated) and ev.actor == "nina"
    assert (p.dose_mg, p.withdraw_ml, p.level_mg_m2, p.formula, p.route) == ("1.45", "5.80", "0.8", "mosteller", "bag")  # W1
    assert p.level_basis == "Table 1, cycle 1 Day 1 (DOSE-1)" and p.height_cm == "170" and p.weight_kg == "70"
    refused(ward, cmd, "phil", "already matches the current inputs")


def test_a_new_weight_or_formula_lets_the_dose_be_calculated_again(ward):
    pid = calculated(ward)
    m = dict(ward.patient(pid).current("measurement"))
    m["weight_kg"] = "77"
    ward.record("nina", pid, "measurement", m)
    assert prep.stale(ward.view(pid), 1, 1) == ["weight changed (70 → 77 kg)"]
    (ev,) = ward.execute(prep.CalculateDose(pid, 1, 1), "phil")
    assert ev.payload.weight_kg == "77"
    ward.execute(SetSiteSetting("bsa_formula", "dubois"), "adam")  # CONV-BSA-2: the site's formula
    (ev,) = ward.execute(prep.CalculateDose(pid, 1, 1), "phil")
    assert ev.payload.formula == "dubois"


def test_no_level_no_calculation(ward):
    """Cycle 2 is not on the timeline: no level, so nothing to calculate (CONV-RESP-4)."""
    refused(ward, prep.CalculateDose(pid_of(ward, ADULT), 2, 1), "phil", "no level yet")


# -- r, d, f, o, x: the steps ------------------------------------------------------------------


def test_reconstitute(ward, clock):
    pid = pid_of(ward, ADULT)
    cmd = lambda: prep.Reconstitute(pid, "c1d1", clock.now())  # noqa: E731
    refused(ward, cmd(), "phil", "Calculate the dose first")
    ward.execute(prep.CalculateDose(pid, 1, 1), "phil")
    refused(ward, cmd(), "priya", "only a pharmacist or nurse")
    refused(ward, cmd(), "ghost", "not an active user")
    refused(ward, prep.Reconstitute(pid, "c1d1", clock.now() + timedelta(minutes=1)), "nina", "in the future")
    (ev,) = ward.execute(cmd(), "nina")
    assert ev.payload == prep.PrepStep("c1d1", "reconstituted", ev.data["at"], None, None) and ev.actor == "nina"
    refused(ward, cmd(), "nina", "Already reconstituted")


def test_dilute(ward, clock):
    pid = calculated(ward)
    refused(ward, prep.Dilute(pid, "c1d1", clock.now(), "refrigerated"), "phil", "reconstitution first")
    ward.execute(prep.Reconstitute(pid, "c1d1", clock.now()), "phil")
    clock.advance(minutes=5)
    refused(ward, prep.Dilute(pid, "c1d1", clock.now(), "refrigerated"), "priya", "only a pharmacist or nurse")
    refused(ward, prep.Dilute(pid, "c1d1", clock.now(), None), "nina", "Vials: say how")
    # CONV-STAB-4: vials kept at room temperature need a pharmacist, with a reason (the users log's role).
    refused(
        ward, prep.Dilute(pid, "c1d1", clock.now(), "room_temperature", "kept on the bench"), "nina", "a pharmacist must confirm"
    )
    refused(ward, prep.Dilute(pid, "c1d1", clock.now(), "room_temperature"), "phil", "a pharmacist must confirm")
    (ev,) = ward.execute(prep.Dilute(pid, "c1d1", clock.now(), "room_temperature", "kept on the bench"), "phil")
    assert ev.payload.vials_kept == "room_temperature" and ev.payload.reason == "kept on the bench"
    refused(ward, prep.Dilute(pid, "c1d1", clock.now(), "refrigerated"), "phil", "Already diluted")


def test_a_late_dilution_is_refused(ward, clock):
    pid = reconstituted(ward)
    clock.advance(hours=4, minutes=10)
    answer = refused(ward, prep.Dilute(pid, "c1d1", clock.now(), "refrigerated"), "phil", "over the 4 h 00 min limit")
    assert "STAB-1" in answer.text


def test_bag_into_and_out_of_the_refrigerator(ward, clock):
    pid = reconstituted(ward)
    refused(ward, prep.RefrigerateBag(pid, "c1d1", clock.now()), "phil", "dilution first")
    clock.advance(minutes=10)
    ward.execute(prep.Dilute(pid, "c1d1", clock.now(), "refrigerated"), "phil")
    refused(ward, prep.RemoveBag(pid, "c1d1", clock.now()), "nina", "not in the refrigerator")
    refused(ward, prep.RefrigerateBag(pid, "c1d1", clock.now()), "priya", "only a pharmacist or nurse")
    refused(ward, prep.RefrigerateBag(pid, "c1d1", clock.now()), "ghost", "not an active user")
    ward.execute(prep.RefrigerateBag(pid, "c1d1", clock.now()), "nina")
    refused(ward, prep.RefrigerateBag(pid, "c1d1", clock.now()), "nina", "already in the refrigerator")
    clock.advance(minutes=30)
    refused(ward, prep.RemoveBag(pid, "c1d1", clock.now()), "adam", "only a pharmacist or nurse")
    ward.execute(prep.RemoveBag(pid, "c1d1", clock.now()), "nina")
    assert not st(ward, pid).in_refrigerator()
    # CONV-STAB-3: a step past the stability limits is refused (3 h refrigerated in all, STAB-4).
    ward.execute(prep.RefrigerateBag(pid, "c1d1", clock.now()), "nina")
    clock.advance(hours=3)
    refused(ward, prep.RemoveBag(pid, "c1d1", clock.now()), "nina", "refrigerated over 3 h 00 min")


def test_discard(ward, clock):
    pid = calculated(ward)
    refused(ward, prep.DiscardPreparation(pid, "c1d1", clock.now(), reason="dropped"), "phil", "Nothing prepared to discard")
    ward.execute(prep.Reconstitute(pid, "c1d1", clock.now()), "phil")
    refused(ward, prep.DiscardPreparation(pid, "c1d1", clock.now()), "phil", "Reason: required to discard")
    refused(ward, prep.DiscardPreparation(pid, "c1d1", clock.now(), reason="dropped"), "priya", "only a pharmacist or nurse")
    refused(ward, prep.DiscardPreparation(pid, "c1d1", clock.now(), reason="drop\x1bped"), "phil", "Reason")
    ward.execute(prep.DiscardPreparation(pid, "c1d1", clock.now(), reason="dropped"), "nina")
    s = st(ward, pid)
    assert s.steps == () and len(s.discarded) == 1
    assert prep.step_command(pid, "c1d1", "discarded", clock.now(), reason="x") == prep.DiscardPreparation(
        pid, "c1d1", clock.now(), None, "x"
    )


# -- V and s: the syringe route (PREP-9) ---------------------------------------------------------


def test_set_syringe_volume(ward):
    adult = calculated(ward)
    refused(ward, prep.SetSyringeVolume(adult, "c1d1", "20"), "phil", "only a dose calculated for the syringe route")
    child = calculated(ward, CHILD, day=8)
    assert st(ward, child, "c1d8").calculation.data["route"] == "syringe"
    lo, hi = prep.syringe_volume_range(st(ward, child, "c1d8"))
    refused(ward, prep.SetSyringeVolume(child, "c1d8", str(lo)), "nina", "a pharmacist confirms or edits it")
    refused(ward, prep.SetSyringeVolume(child, "c1d8", str(lo)), "ghost", "not an active user")
    refused(ward, prep.SetSyringeVolume(child, "c1d8", str(hi + Decimal("0.01"))), "phil", r"Final volume \(mL\): from")
    (ev,) = ward.execute(prep.SetSyringeVolume(child, "c1d8", str(hi)), "phil")
    assert isinstance(ev.payload, prep.PrepCalculated) and ev.payload.syringe_volume_ml == str(hi) and ev.actor == "phil"
    ward.execute(prep.Reconstitute(child, "c1d8", ward.clock.now()), "phil")
    ward.execute(prep.Dilute(child, "c1d8", ward.clock.now(), "refrigerated"), "phil")
    refused(ward, prep.SetSyringeVolume(child, "c1d8", str(lo)), "phil", "already made up")


def test_record_syringe(ward):
    adult = calculated(ward)
    refused(
        ward, prep.RecordSyringe(adult, "c1d1", "pump set", True, "2"), "phil", "only to a dose calculated for the syringe route"
    )
    child = calculated(ward, CHILD, day=8)
    cmd = prep.RecordSyringe(child, "c1d8", "pump set", True, "2")
    refused(ward, cmd, "nina", "a pharmacist records the set")
    refused(ward, cmd, "ghost", "not an active user")
    refused(ward, prep.RecordSyringe(child, "c1d8", "pump set", False, "2"), "phil", "Priming")
    refused(ward, prep.RecordSyringe(child, "c1d8", " ", True, "2"), "phil", "Set: name the administration set")
    refused(ward, prep.RecordSyringe(child, "c1d8", "pump set", True, "lots"), "phil", r"Flush \(mL\)")
    (ev,) = ward.execute(cmd, "phil")
    assert ev.payload == prep.PrepSyringe(
        "c1d8", st(ward, child, "c1d8").calculation.version, "pump set", True, "2", 28, "PREP-9"
    )
    # Before the form: the screen asks core whether this user may record it at all.
    assert "pharmacist" in prep.syringe_refusal(st(ward, child, "c1d8"), ward.actor("nina"))
    assert prep.syringe_refusal(st(ward, child, "c1d8"), ward.actor("phil")) is None


# -- O: a pharmacist's override ----------------------------------------------------------------


def test_override_stability(ward, clock):
    pid = calculated(ward)
    refused(ward, prep.OverrideStability(pid, "c1d1", "STAB-4", "in-house data"), "phil", "Nothing prepared")
    ward.execute(prep.Reconstitute(pid, "c1d1", clock.now()), "phil")
    cmd = prep.OverrideStability(pid, "c1d1", "STAB-4", "in-house data")
    refused(ward, cmd, "nina", "Only a pharmacist may override STAB-4")  # §16.1: a nurse cannot override
    refused(ward, cmd, "priya", "Only a pharmacist")
    refused(ward, cmd, "ghost", "not an active user")
    refused(ward, prep.OverrideStability(pid, "c1d1", "STAB-2", "no"), "phil", "cannot be overridden")
    refused(ward, prep.OverrideStability(pid, "c1d1", "STAB-5", "early"), "phil", "not equilibrating")
    (ev,) = ward.execute(cmd, "phil")
    assert ev.payload == prep.PrepOverride("c1d1", "STAB-4", "in-house data", ev.data["reconstituted_at"], "STAB-4")
    assert "bag_removed_at" not in ev.data  # the stored keys of a STAB-4 override, as always
    refused(ward, cmd, "phil", "already overridden")


def test_an_early_start_names_its_equilibration(ward, clock):
    pid = diluted(ward, clock)
    ward.execute(prep.RefrigerateBag(pid, "c1d1", clock.now()), "nina")
    refused(ward, prep.OverrideStability(pid, "c1d1", "STAB-5", "early"), "phil", "still in the refrigerator")
    clock.advance(minutes=30)
    ward.execute(prep.RemoveBag(pid, "c1d1", clock.now()), "nina")
    (ev,) = ward.execute(prep.OverrideStability(pid, "c1d1", "STAB-5", "transport booked"), "phil")
    assert ev.data["bag_removed_at"] == ev.payload.bag_removed_at and ev.payload.unverified_rule is None


# -- v: the blind double-check (CONV-VERIFY-1) -------------------------------------------------------


def check(pid: str, **values: str) -> prep.DoubleCheck:
    entered = {"bsa_m2": "1.82", "level_mg_m2": "0.8", "dose_mg": "1.45", "withdraw_ml": "5.80", **values}
    return prep.DoubleCheck(pid, "c1d1", **entered)


def test_double_check(ward):
    pid = pid_of(ward, ADULT)
    refused(ward, check(pid), "nina", "Nothing calculated")
    ward.execute(prep.CalculateDose(pid, 1, 1), "phil")
    refused(ward, check(pid), "phil", "second person, not the preparer")  # the preparer is the users log's phil
    refused(ward, check(pid), "priya", "a pharmacist or nurse must verify")
    refused(ward, check(pid), "adam", "a pharmacist or nurse must verify")
    refused(ward, check(pid), "ghost", "not an active user")
    refused(ward, check(pid, dose_mg="abc"), "nina", "Dose \\(mg\\): enter a positive number")
    (ev,) = ward.execute(check(pid), "nina")
    assert ev.actor == "nina" and ev.payload.matched and ev.payload.mismatches == []
    assert st(ward, pid).verified and st(ward, pid).last_verification.actor == "nina"
    (ev,) = ward.execute(check(pid, dose_mg="1.46"), "noah")
    assert not ev.payload.matched and ev.payload.mismatches == ["dose_mg"] and st(ward, pid).mismatch


def test_a_calculation_whose_inputs_changed_cannot_be_checked(ward):
    pid = calculated(ward)
    m = dict(ward.patient(pid).current("measurement"))
    m["height_cm"] = "171"
    ward.record("nina", pid, "measurement", m)
    answer = refused(ward, check(pid), "nina", "Calculate \\(c\\) before the double-check: height changed")
    assert "CONV-VERIFY-1" in answer.text
    assert prep.verify_refusal(ward.view(pid), "c1d1") == answer.message


def test_the_verifier_role_comes_from_the_users_log(ward):
    """Whoever the caller says they are, the decision reads the role itself: a prescriber's name
    is refused even when a screen would have passed 'nurse'."""
    pid = calculated(ward)
    state = ward.state()
    assert isinstance(decide(state, check(pid), ward.clock.now(), ward.actor("priya")), Refusal)
    assert not isinstance(decide(state, check(pid), ward.clock.now(), ward.actor("noah")), Refusal)


def test_every_preparation_command_is_registered():
    from bedside.core.commands import DECIDERS

    mine = {c for c in DECIDERS if c.__module__ == prep.commands.__name__}
    assert mine == {
        prep.CalculateDose,
        prep.Reconstitute,
        prep.Dilute,
        prep.RefrigerateBag,
        prep.RemoveBag,
        prep.DiscardPreparation,
        prep.SetSyringeVolume,
        prep.RecordSyringe,
        prep.OverrideStability,
        prep.DoubleCheck,
        prep.ScanCarton,
    }

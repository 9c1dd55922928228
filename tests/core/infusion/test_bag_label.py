"""Issue 20, the bag label (core/preparation/baglabel.py and the start's decision): the code made
for one preparation, scanned at the start. The right bag starts (its code recorded with the
start); no label, a misread, another patient's bag, a discarded bag, another dose's bag, and a
bag from before a recalculation are refused, each saying what to do; no text, however malformed,
crashes the decision or starts an infusion with a bag that is not this dose's."""

from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import infusion as inf
from bedside.core import preparation as prep
from bedside.core.commands import Refusal, Refused, decide
from bedside.core.preparation import baglabel
from bedside.core.records import record_for
from bedside.core.scan import gs1_check_digit_ok

from ...tui.conftest import bag_code

DOSE = "c1d1"


@pytest.fixture
def ward(ready):
    return ready


def answer(ledger, pid, code: str, who="nina"):
    return decide(ledger.state(), inf.StartInfusion(pid, DOSE, code), ledger.clock.now(), ledger.actor(who))


def refusal(ledger, pid, code: str) -> Refusal:
    result = answer(ledger, pid, code)
    assert isinstance(result, Refusal), "started with a wrong bag"
    return result


def test_the_code_is_b_and_twelve_digits_with_a_gs1_check_digit_shown_grouped(ward):
    ledger, pid = ward
    label = baglabel.current(pid, ledger.view(pid).prep(DOSE))
    assert baglabel.CODE_RE.match(label.code) and gs1_check_digit_ok(label.code[1:])
    assert baglabel.shown(label.code) == f"B-{label.code[1:5]}-{label.code[5:9]}-{label.code[9:]}"
    # The same record gives the same code (a fold, no randomness): a reprinted label matches.
    assert baglabel.current(pid, ledger.view(pid).prep(DOSE)).code == label.code


def test_the_right_bag_starts_and_its_code_is_recorded_with_the_start(ward):
    ledger, pid = ward
    code = bag_code(ledger, pid)
    for typed in (code, code.lower(), code.replace("-", ""), "]C0" + code.replace("-", ""), f" {code.replace('-', ' ')} "):
        assert not isinstance(answer(ledger, pid, typed), Refusal), typed
    stored = ledger.execute(inf.StartInfusion(pid, DOSE, "]C0" + code), "nina")
    assert stored[0].kind == inf.INFUSION_STARTED and stored[0].data["bag_code"] == code.replace("-", "")
    printed = record_for(ledger.view(pid), tz=UTC, now=ledger.clock.now())
    assert f"bag label {code.replace('-', '')} scanned" in printed


def test_no_label_is_refused_asking_for_the_scan(ward):
    ledger, pid = ward
    r = refusal(ledger, pid, "")
    assert r.ask == "bag_code" and "Scan the label on the bag" in r.text
    with pytest.raises(Refused, match="Bag label: required"):
        ledger.execute(inf.StartInfusion(pid, DOSE), "nina")


def test_a_misread_code_is_refused_by_its_check_digit(ward):
    ledger, pid = ward
    code = bag_code(ledger, pid).replace("-", "")
    last = str((int(code[-1]) + 1) % 10)
    r = refusal(ledger, pid, code[:-1] + last)
    assert "not a Bedside bag code" in r.text and "check digit" in r.text and r.ask == ""
    assert "not a Bedside bag code" in refusal(ledger, pid, "0008-0100-01").text  # the vial's NDC, not the bag


def _dilution(ledger, pid):
    return next(s for s in ledger.view(pid).prep(DOSE).steps if s.step == "diluted")


def test_another_patients_bag_is_refused(ward):
    ledger, pid = ward
    other = next(p.id for p in ledger.patients() if p.id != pid)
    theirs = baglabel.code_of(other, DOSE, _dilution(ledger, pid))  # their C1 D1, diluted at the same minute
    r = refusal(ledger, pid, theirs)
    assert r.text.startswith("Wrong bag: this label is not this patient's C1 D1 bag") and "wristband" in r.text


def test_a_discarded_bag_is_refused_and_the_current_one_named(ward, clock):
    ledger, pid = ward
    old = bag_code(ledger, pid)
    clock.advance(minutes=5)
    ledger.execute(prep.DiscardPreparation(pid, DOSE, clock.now(), reason="bag leaked"), "phil")
    ledger.execute(prep.Reconstitute(pid, DOSE, clock.now()), "phil")
    clock.advance(minutes=10)
    ledger.execute(prep.Dilute(pid, DOSE, clock.now(), "refrigerated"), "phil")
    new = bag_code(ledger, pid)
    assert new != old
    r = refusal(ledger, pid, old)
    assert "discarded" in r.text and "Do not give it" in r.text
    assert not isinstance(answer(ledger, pid, new), Refusal)


def test_a_bag_made_before_a_recalculation_blocks_the_start_whatever_is_scanned(ward):
    ledger, pid = ward
    code = bag_code(ledger, pid)
    assert baglabel.recalculated_since(ledger.view(pid).prep(DOSE)) is None
    # The weight changes after the dilution; the pharmacist recalculates and the dose is
    # double-checked again: the bag in hand was made for the earlier calculation.
    m = dict(ledger.patient(pid).current("measurement"))
    m["weight_kg"] = str(float(m["weight_kg"]) + 7)
    ledger.record("nina", pid, "measurement", m)
    ledger.execute(prep.CalculateDose(pid, 1, 1), "phil")
    ledger.execute(prep.DoubleCheck(pid, DOSE, **ledger.view(pid).prep(DOSE).calculation.expected()), "nina")
    r = refusal(ledger, pid, code)
    assert "recalculated since" in r.text and "discard it" in r.text and "CONV-VERIFY-1" in r.text
    assert bag_code(ledger, pid) == code  # the label stays the bag's: reprinting it does not help


def test_another_dose_of_the_same_patient_is_named(ward):
    ledger, pid = ward
    st = ledger.view(pid).prep(DOSE)
    step = _dilution(ledger, pid)
    other = baglabel.code_of(pid, "c1d8", step)
    c1d8 = prep.PrepState("c1d8", calculation=st.calculation, steps=(step,))
    text = baglabel.refusal(pid, st, other, [c1d8])
    assert text == "Wrong bag: this label is of this patient's C1 D8 bag, not C1 D1. Do not give it."


def test_the_label_names_the_patient_the_dose_the_deadline_and_the_code(ward):
    ledger, pid = ward
    view = ledger.view(pid)
    lines = baglabel.label_lines(view.patient, view.prep(DOSE), ledger.clock.now())
    text = "\n".join(lines)
    assert lines[0] == view.patient.name and f"MRN {view.patient.mrn}" in lines[1]
    assert "BESPONSA (inotuzumab ozogamicin) C1 D1" in text and "mg in 50" in text and "End by" in text
    assert "VERIFIED by nina" in text and lines[-1] == bag_code(ledger, pid)
    assert all(len(line) <= 40 for line in lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40) | st.from_regex(r"\A(\]C0)?B[0-9\- ]{10,16}\Z"))
def test_no_text_crashes_the_start_or_starts_with_a_wrong_bag(ward, text):
    ledger, pid = ward
    right = bag_code(ledger, pid).replace("-", "")
    result = answer(ledger, pid, text)
    if baglabel.normalise(text) == right:
        assert not isinstance(result, Refusal)
    else:
        assert isinstance(result, Refusal) and result.text

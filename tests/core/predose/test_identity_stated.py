"""Identity at the dose: the wristband's MRN and the name and date of birth as the patient states
them, compared by the nurse with the record (ConfirmIdentity.stated)."""

from __future__ import annotations

from bedside.core import predose as pr
from bedside.core import schedule as sch
from bedside.core.commands import Refusal


def _patient(ledger, mrn):
    p = ledger.register_patient("nina", {"name": "SCAN, Three", "dob": "1970-01-01", "mrn": mrn, "sex": "other"})
    ledger.execute(sch.StartCycle(p.id, ledger.today()), "priya")
    return p


def test_scanned_mrn_and_stated_match_pass_with_two_identifiers(ledger):
    p = _patient(ledger, "MRN-4341")
    ledger.execute(pr.ConfirmIdentity(p.id, 1, 1, mrn="MRN-4341", stated="match"), "nina")
    check = ledger.predose_verdict(p.id, 1, 1).check("identity")
    assert check.result == "pass", check
    assert "MRN" in check.value and "name (stated)" in check.value and "date of birth (stated)" in check.value


def test_stated_match_with_a_wrong_mrn_still_holds(ledger):
    p = _patient(ledger, "MRN-4342")
    ledger.execute(pr.ConfirmIdentity(p.id, 1, 1, mrn="MRN-9999", stated="match"), "nina")
    check = ledger.predose_verdict(p.id, 1, 1).check("identity")
    assert check.result == "hold" and "MISMATCH MRN" in check.value, check


def test_a_stated_mismatch_holds_the_dose(ledger):
    p = _patient(ledger, "MRN-4343")
    ledger.execute(pr.ConfirmIdentity(p.id, 1, 1, mrn="MRN-4343", stated="mismatch"), "nina")
    check = ledger.predose_verdict(p.id, 1, 1).check("identity")
    assert check.result == "hold" and "MISMATCH name (stated), date of birth (stated)" in check.value, check


def test_an_unknown_answer_and_a_missing_mrn_are_refused(ledger):
    p = _patient(ledger, "MRN-4344")
    refusal = ledger.decide(pr.ConfirmIdentity(p.id, 1, 1, mrn="MRN-4344", stated="perhaps"), "nina")
    assert isinstance(refusal, Refusal) and "match or do not match" in refusal.text
    refusal = ledger.decide(pr.ConfirmIdentity(p.id, 1, 1, stated="match"), "nina")
    assert isinstance(refusal, Refusal) and "Wristband: required" in refusal.text


def test_typed_identifiers_still_need_name_and_dob(ledger):
    p = _patient(ledger, "MRN-4345")
    refusal = ledger.decide(pr.ConfirmIdentity(p.id, 1, 1, mrn="MRN-4345"), "nina")
    assert isinstance(refusal, Refusal) and "Full name: required" in refusal.text

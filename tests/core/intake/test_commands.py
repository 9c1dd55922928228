"""Every intake command: refused for an unknown or deactivated user and for a state that forbids
it, accepted in a good one; the form is checked again in the decision, and the BSA is derived there
with the site's formula (CONV-BSA-2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bedside.core import auth, intake
from bedside.core.commands import Refused
from bedside.core.intake import CorrectEntry, RecordSection, RegisterPatient

from ..auth.helpers import refused
from .test_intake import GOOD


@pytest.fixture
def patient(ledger):
    cmd = RegisterPatient(GOOD["identity"])
    ledger.execute(cmd, "nina")
    return ledger.patient(cmd.pid)


@pytest.fixture
def deactivated(ledger):
    ledger.execute(auth.AddUser("gone", "Gone User", "nurse", "4821"), "adam")
    ledger.execute(auth.DeactivateUser("gone"), "adam")
    return "gone"


# -- RegisterPatient ----------------------------------------------------------------------------
def test_register_is_refused_for_an_unknown_or_deactivated_user(ledger, deactivated):
    for who in ("ghost", deactivated):
        assert f"Register a patient: '{who}' is not an active user." in refused(ledger, RegisterPatient(GOOD["identity"]), who)


def test_register_is_refused_for_a_taken_mrn_and_an_existing_record(ledger, patient):
    text = refused(ledger, RegisterPatient({**GOOD["identity"], "mrn": "mrn-1"}), "priya")
    assert text == "MRN: mrn-1 belongs to another patient already."
    again = RegisterPatient({**GOOD["identity"], "mrn": "MRN-9"}, pid=patient.id)
    assert "exists already" in refused(ledger, again, "nina")
    assert "Full name: required" in refused(ledger, RegisterPatient({**GOOD["identity"], "name": ""}), "nina")


def test_register_is_accepted_and_stores_the_checked_record(ledger):
    cmd = RegisterPatient({**GOOD["identity"], "name": "  DOE, Jane  "})
    (ev,) = ledger.execute(cmd, "phil")
    assert ev.stream == intake.PATIENT_PREFIX + cmd.pid and ev.kind == "patient.registered" and ev.actor == "phil"
    assert ev.data == {**GOOD["identity"], "name": "DOE, Jane"}
    assert ledger.patient(cmd.pid).mrn == "MRN-1"


def test_a_wristband_id_is_stored_as_scanned_checked_and_never_shared(ledger, patient):
    """Issue 20: the wristband's own identifier, apart from the MRN: a GS1 scan stores its AI 8018
    GSRN (check digit verified) under the default scheme; another patient's is refused; the ward's
    index carries it (a registration elsewhere sees it without folding every patient)."""
    gsrn = "735005385000000011"
    bad = refused(ledger, RegisterPatient({**GOOD["identity"], "mrn": "MRN-2", "wristband": "735005385000000012"}), "nina")
    assert bad.startswith("Wristband ID: a GS1 GSRN, 18 digits whose last is the check digit")
    assert "Wristband ID:" in refused(ledger, RegisterPatient({**GOOD["identity"], "mrn": "MRN-2", "wristband": "WB-1"}), "nina")
    cmd = RegisterPatient({**GOOD["identity"], "mrn": "MRN-2", "wristband": f"]d28018{gsrn}"})
    (ev,) = ledger.execute(cmd, "nina")
    assert ev.data["wristband"] == gsrn and ledger.patient(cmd.pid).wristband == gsrn
    assert next(p for p in ledger.patients() if p.id == cmd.pid).wristband == gsrn
    taken = refused(ledger, RegisterPatient({**GOOD["identity"], "mrn": "MRN-3", "wristband": gsrn}), "nina")
    assert taken == f"Wristband ID: {gsrn} belongs to another patient already."
    # the site's own scheme: any code as printed (an AIM prefix dropped)
    from bedside.core.site import SetSiteSetting

    ledger.execute(SetSiteSetting("wristband_scheme", "site"), "adam")
    (ev,) = ledger.execute(RegisterPatient({**GOOD["identity"], "mrn": "MRN-4", "wristband": "]C0WB-0042"}), "nina")
    assert ev.data["wristband"] == "WB-0042"
    with pytest.raises(Refused, match="Wristband IDs: one of gsrn, site"):
        ledger.execute(SetSiteSetting("wristband_scheme", "barcode"), "adam")


# -- RecordSection ------------------------------------------------------------------------------
def test_record_is_refused_for_an_unknown_or_deactivated_user(ledger, patient, deactivated):
    for who in ("ghost", deactivated):
        assert "is not an active user" in refused(ledger, RecordSection(patient.id, "labs", GOOD["labs"]), who)


def test_record_is_refused_for_identity_an_unknown_patient_or_form_and_a_bad_form(ledger, patient):
    assert refused(ledger, RecordSection(patient.id, "identity", GOOD["identity"]), "nina").startswith(
        "Identity is set at registration"
    )
    assert "no such patient" in refused(ledger, RecordSection("nobody", "labs", GOOD["labs"]), "nina")
    assert "no form named 'menu'" in refused(ledger, RecordSection(patient.id, "menu", {}), "nina")
    text = refused(ledger, RecordSection(patient.id, "labs", {**GOOD["labs"], "anc": "abc"}), "nina")
    assert text.startswith("ANC (×10⁹/L): enter a plain number")
    future = refused(ledger, RecordSection(patient.id, "labs", {**GOOD["labs"], "collected_on": "2025-03-04"}), "nina")
    assert "is in the future (today is 2025-03-03)" in future
    before_birth = refused(ledger, RecordSection(patient.id, "labs", {**GOOD["labs"], "collected_on": "1969-12-31"}), "nina")
    assert "before the date of birth" in before_birth


def test_an_unusual_value_needs_its_confirmation_in_the_command(ledger, patient):
    heavy = {**GOOD["measurement"], "weight_kg": "250"}
    text = refused(ledger, RecordSection(patient.id, "measurement", heavy), "nina")
    assert "is unusual" in text and "CONV-INPUT-1" in text
    (ev,) = ledger.execute(RecordSection(patient.id, "measurement", heavy, {"weight_kg"}), "nina")
    assert ev.data["confirmed_unusual"] == ["weight_kg"]


def test_record_derives_the_bsa_with_the_sites_formula(ledger, patient):
    (ev,) = ledger.execute(RecordSection(patient.id, "measurement", GOOD["measurement"]), "nina")
    assert ev.data["bsa_formula"] == "mosteller"
    assert Decimal(ev.data["bsa_m2"]).quantize(Decimal("0.0001")) == Decimal("1.8181")  # W1
    ledger.set_site("adam", "bsa_formula", "dubois")
    (ev,) = ledger.execute(RecordSection(patient.id, "measurement", {**GOOD["measurement"], "bsa_m2": "9"}), "nina")
    assert ev.data["bsa_formula"] == "dubois" and ev.data["bsa_m2"] != "9", "core derives it; a typed one is ignored"


def test_record_is_accepted_for_every_form(ledger, patient):
    for section in intake.INTAKE_ORDER:
        values = GOOD.get(section, {})
        (ev,) = ledger.execute(RecordSection(patient.id, section, values), "priya")
        assert ev.kind == intake.SECTIONS[section].kind
    assert ledger.patient(patient.id).missing_sections() == ()
    blasts = ledger.patient(patient.id).current("blasts")
    assert blasts["derived_from"] == "wbc_pct" and blasts["blasts_per_mm3"] == "12000"  # PRE-3: 30 × 40 % × 1,000


# -- CorrectEntry -------------------------------------------------------------------------------
def test_correct_is_refused_for_an_unknown_or_deactivated_user(ledger, patient, deactivated):
    for who in ("ghost", deactivated):
        assert "is not an active user" in refused(ledger, CorrectEntry(patient.id, 1, GOOD["identity"], "typo"), who)


def test_correct_is_refused_without_an_entry_a_reason_or_a_valid_form(ledger, patient):
    assert refused(ledger, CorrectEntry(patient.id, 9, GOOD["identity"], "typo"), "nina") == "no entry 9 to correct"
    assert refused(ledger, CorrectEntry(patient.id, 1, GOOD["identity"], "   "), "nina") == "Reason: a correction needs a reason."
    assert refused(ledger, CorrectEntry(patient.id, 1, GOOD["identity"], "typo\x1b[2J"), "nina").startswith(
        "Reason: control characters are not allowed"
    )
    assert "Date of birth" in refused(
        ledger, CorrectEntry(patient.id, 1, {**GOOD["identity"], "dob": "2030-01-01"}, "typo"), "nina"
    )
    other = RegisterPatient({**GOOD["identity"], "mrn": "MRN-2"})
    ledger.execute(other, "nina")
    text = refused(ledger, CorrectEntry(patient.id, 1, {**GOOD["identity"], "mrn": "MRN-2"}, "typo"), "nina")
    assert text == "MRN: MRN-2 belongs to another patient already."


def test_correct_is_accepted_and_keeps_the_old_values(ledger, patient):
    (ev,) = ledger.execute(CorrectEntry(patient.id, 1, {**GOOD["identity"], "name": "DOE, Janet"}, " typo "), "priya")
    assert ev.kind == "intake.corrected" and ev.data == {
        "corrects": 1,
        "section": "identity",
        "reason": "typo",
        "data": {**GOOD["identity"], "name": "DOE, Janet"},
    }
    entry = ledger.patient(patient.id).entry(1)
    assert entry.data["name"] == "DOE, Janet" and entry.corrections[0].old["name"] == "DOE, Jane"


def test_a_measurement_correction_derives_its_bsa_again(ledger, patient):
    (m,) = ledger.execute(RecordSection(patient.id, "measurement", GOOD["measurement"]), "nina")
    (ev,) = ledger.execute(CorrectEntry(patient.id, m.version, {**GOOD["measurement"], "weight_kg": "80"}, "scale"), "nina")
    assert ev.data["data"]["bsa_formula"] == "mosteller" and ev.data["data"]["bsa_m2"] != m.data["bsa_m2"]


def test_a_derived_blast_count_prefills_a_correction_that_saves_unchanged(ledger, patient):
    (b,) = ledger.execute(RecordSection(patient.id, "blasts", GOOD["blasts"]), "nina")
    p = ledger.patient(patient.id)
    (ev,) = ledger.execute(CorrectEntry.of_record(p, b.version, b.data, "re-checked"), "nina")
    assert ev.data["data"] == b.data


def test_the_ledgers_convenience_methods_refuse_as_the_commands_do(ledger, patient):
    with pytest.raises(Refused, match="belongs to another patient already"):
        ledger.register_patient("nina", GOOD["identity"])
    with pytest.raises(Refused, match="is not an active user"):
        ledger.record("ghost", patient.id, "labs", GOOD["labs"])

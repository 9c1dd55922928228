"""Every pre-dose command: refused for the wrong role or an unknown user, refused in a state that
forbids it, accepted in a good one (decided through ``bedside.core.commands.decide`` and
carried out through ``Ledger.execute``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bedside.core import predose as pd
from bedside.core import schedule as sch
from bedside.core.clock import to_local
from bedside.core.commands import Refusal, Refused, decide

HARTMAN = "demo0001" + "0" * 24  # MRN-100231: everything ready for C1 D1 but the pre-dose records
OSEI = "demo0002" + "0" * 24  # MRN-100377: blasts 12,000/mm³ (PRE-3 hold, a prescriber may override)


def started(ledger, pid: str = HARTMAN):
    """Cycle 1 started today (C1 D1 on the timeline)."""
    ledger.execute(sch.StartCycle(pid, ledger.today()), "priya")
    return ledger


def dry(ledger, cmd, who: str):
    return decide(ledger.state(), cmd, ledger.clock.now(), ledger.actor(who))


def refused(ledger, cmd, who: str, *words: str) -> Refusal:
    answer = dry(ledger, cmd, who)
    assert isinstance(answer, Refusal), answer
    for w in words:
        assert w in answer.text, answer.text
    return answer


def accepted(ledger, cmd, who: str):
    answer = dry(ledger, cmd, who)
    assert not isinstance(answer, Refusal), answer.text
    (ev,) = ledger.execute(cmd, who)
    assert ev.actor == who and ev.stream == cmd.stream
    return ev


def premed_time(ledger, minutes_ago: int = 30) -> str:
    return to_local(ledger.clock.now() - timedelta(minutes=minutes_ago)).strftime("%H:%M")


def identity(pid: str = HARTMAN, **kw) -> pd.ConfirmIdentity:
    values = {"name": "HARTMAN, Lena", "dob": "1968-04-12", "mrn": "MRN-100231", "method": "typed", **kw}
    return pd.ConfirmIdentity(pid, 1, 1, **values)


# -- n: identity ---------------------------------------------------------------------------------


def test_identity(demo):
    refused(demo, identity(), "nina", "not on the timeline", "SCHED-6")  # before cycle 1 starts
    started(demo)
    refused(demo, identity(), "adam", "only a nurse, pharmacist or prescriber")
    refused(demo, identity(), "ghost", "not an active user")
    refused(demo, identity(pid="nobody"), "nina", "no patient")
    refused(demo, identity(dob="12.04.1968"), "nina", "Date of birth: a date as YYYY-MM-DD")
    refused(demo, identity(mrn=""), "nina", "Wristband: required")
    refused(demo, identity(name="  "), "nina", "Full name: required")
    refused(demo, identity(method="guessed"), "nina", "How:")
    ev = accepted(demo, identity(), "nina")
    assert ev.kind == pd.IDENTITY and ev.data == {
        "cycle": 1,
        "day": 1,
        "name": "HARTMAN, Lena",
        "dob": "1968-04-12",
        "mrn": "MRN-100231",
        "method": "typed",
    }
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("identity").result == "pass"


def wristband_on_record(ledger, wristband: str, pid: str = HARTMAN) -> None:
    """The patient's identity corrected to carry a wristband identifier (issue 20)."""
    from bedside.core import intake

    p = ledger.patient(pid)
    entry = p.history("identity")[0]
    ledger.execute(
        intake.CorrectEntry.of_record(p, entry.version, {**entry.data, "wristband": wristband}, "wristband issued"), "nina"
    )


def test_a_scanned_gs1_wristband_is_matched_with_the_stored_gsrn_not_the_mrn(demo):
    started(demo)
    gsrn = "735005385000000011"
    refused(demo, identity(mrn=f"]C18018{gsrn}\x1d10ABC"), "nina", "no wristband ID on record", "type the MRN")
    refused(demo, identity(mrn="]C1010950110153000310ABC"), "nina", "Wristband:")  # a drug label: no AI 8018
    refused(demo, identity(mrn="]d28018735005385000000012"), "nina", "Wristband: The wristband's GSRN (AI 8018)")  # check digit
    refused(
        demo, identity(mrn="\x1d]"), "nina", "Wristband: Not a readable GS1 code"
    )  # biip itself fails on it: refused, no crash
    wristband_on_record(demo, f"]d28018{gsrn}")  # scanned at registration: stored as its GSRN
    assert demo.patient(HARTMAN).wristband == gsrn
    ev = accepted(demo, identity(mrn=f"]C18018{gsrn}\x1d10ABC"), "nina")  # AI 8018, a GS, AI 10
    assert ev.data["wristband"] == gsrn and ev.data["mrn"] is None and ev.data["method"] == "scanned"
    check = pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("identity")
    assert check.result == "pass" and "wristband GSRN" in check.value and "MRN" not in check.value.split("matched")[1]
    # another patient's GSRN (valid check digit): recorded, and the check holds with no override
    accepted(demo, identity(mrn="]d28018735005385000000028"), "nina")
    check = pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("identity")
    assert check.result == "hold" and "MISMATCH wristband GSRN" in check.value
    ev = accepted(demo, identity(mrn="]C0MRN-100231"), "nina")  # a plain Code 128 with its AIM prefix: the MRN
    assert ev.data["mrn"] == "MRN-100231" and ev.data["method"] == "typed"
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("identity").result == "pass"


def test_a_site_scheme_wristband_is_read_as_its_own_identifier(demo):
    from bedside.core.site import SetSiteSetting

    started(demo)
    demo.execute(SetSiteSetting("wristband_scheme", "site"), "adam")
    wristband_on_record(demo, "]C0WB-0042")
    assert demo.patient(HARTMAN).wristband == "WB-0042"
    accepted(demo, identity(mrn="]C0WB-0042"), "nina")
    check = pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("identity")
    assert check.result == "pass" and "wristband ID" in check.value


# -- m: premedication ----------------------------------------------------------------------------


def premed(ledger, **kw) -> pd.RecordPremed:
    values = {"drug_class": "corticosteroid", "drug": "dexamethasone", "dose": "12 mg IV", "time": premed_time(ledger), **kw}
    return pd.RecordPremed(HARTMAN, 1, 1, **values)


def test_premedication(demo):
    refused(demo, premed(demo), "nina", "not on the timeline")
    started(demo)
    refused(demo, premed(demo), "adam", "only a nurse")
    refused(demo, premed(demo), "ghost", "not an active user")
    refused(demo, premed(demo, time=premed_time(demo, -30)), "nina", "Time: not in the future", "PRE-1")
    refused(demo, premed(demo, time="8h30"), "nina", "Time: HH:MM")
    refused(demo, premed(demo, drug_class="antiemetic"), "nina", "Class:", "PRE-1")
    refused(demo, premed(demo, drug=""), "nina", "Drug: required")
    ev = accepted(demo, premed(demo), "nina")
    assert ev.kind == pd.PREMED and set(ev.data) == {"cycle", "day", "drug_class", "drug", "dose", "given_at"}
    assert ev.payload.given_at.endswith("Z")
    v = pd.predose_verdict(demo.view(HARTMAN), 1, 1)
    assert v.check("premed.corticosteroid").result == "pass" and v.check("premed.antipyretic").result == "hold"


def test_a_premedication_time_is_today_in_the_site_zone(demo):
    at, note = pd.premed_given_at(premed_time(demo, 45), demo.clock.now())
    assert demo.clock.now() - at < timedelta(minutes=46) and note == ""
    with pytest.raises(ValueError, match="Time: not in the future"):
        pd.premed_given_at(premed_time(demo, -5), demo.clock.now())


# -- k: checklist --------------------------------------------------------------------------------


def test_checklist(demo):
    cmd = pd.RecordChecklist(HARTMAN, 1, 1, True)
    refused(demo, cmd, "nina", "not on the timeline")
    started(demo)
    refused(demo, cmd, "adam", "only a nurse")
    refused(demo, cmd, "ghost", "not an active user")
    refused(demo, pd.RecordChecklist(HARTMAN, 1, 1, "yes"), "nina", "Ready: yes or no")
    ev = accepted(demo, cmd, "phil")
    assert ev.data == {"cycle": 1, "day": 1, "emergency_ready": True}
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("emergency").value == "yes"


# -- o: override ---------------------------------------------------------------------------------


def test_override_is_for_the_role_the_check_names_never_a_nurse(demo):
    started(demo, OSEI)
    cmd = pd.OverrideCheck(OSEI, 1, 1, "pre3.blasts", "hydroxyurea started; count falling")
    v = pd.predose_verdict(demo.view(OSEI), 1, 1)
    assert v.check("pre3.blasts").result == "hold" and v.check("pre3.blasts").overridable_by == "prescriber"
    refused(demo, cmd, "nina", "CONV-OVR-1", "only a prescriber or pharmacist")  # a nurse can never override
    refused(demo, cmd, "phil", "only a prescriber may override", "CONV-OVR-1")  # this check names a prescriber
    refused(demo, cmd, "ghost", "not an active user")
    refused(demo, pd.OverrideCheck(OSEI, 1, 1, "pre3.blasts", "  "), "priya", "Reason: required")
    refused(demo, pd.OverrideCheck(OSEI, 1, 1, "no.such.check", "why"), "priya", "no check 'no.such.check'")
    refused(demo, pd.OverrideCheck(OSEI, 1, 1, "identity", "why"), "priya", "cannot be overridden (§16.1)")  # a missing value
    refused(demo, pd.OverrideCheck(OSEI, 2, 1, "pre3.blasts", "why"), "priya", "C2 D1 is not on the timeline")
    ev = accepted(demo, cmd, "priya")
    assert ev.data == {
        "cycle": 1,
        "day": 1,
        "rule_id": "PRE-3",
        "check": "pre3.blasts",
        "reason": "hydroxyurea started; count falling",
        "role": "prescriber",
        "decision": "proceed",
    }
    c = pd.predose_verdict(demo.view(OSEI), 1, 1).check("pre3.blasts")
    assert c.overridden and c.override.user == "priya" and c.result == "pass"
    refused(demo, cmd, "priya", "cannot be overridden")  # it passes now: nothing left to override


# -- v: the verdict ------------------------------------------------------------------------------


def test_record_verdict(demo):
    cmd = pd.RecordVerdict(HARTMAN, 1, 1)
    refused(demo, cmd, "nina", "not on the timeline")
    started(demo)
    refused(demo, cmd, "adam", "only a nurse")
    refused(demo, cmd, "ghost", "not an active user")
    v = pd.predose_verdict(demo.view(HARTMAN), 1, 1)
    ev = accepted(demo, cmd, "nina")
    assert ev.data == {"cycle": 1, "day": 1, "overall": v.overall, "deciding": [c.key for c in v.checks if c.blocking]}
    assert v.overall == "HOLD" and "identity" in ev.data["deciding"]


# -- t: toxicities -------------------------------------------------------------------------------


def toxicity(pid: str = HARTMAN, **kw) -> pd.RecordToxicity:
    values = {
        "term": "Alanine aminotransferase increased",
        "grade": 3,
        "onset": "2025-03-01",
        "hematologic": False,
        "attribution": "possibly related",
        **kw,
    }
    return pd.RecordToxicity(pid, **values)


def test_record_toxicity(demo):
    refused(demo, toxicity(), "adam", "only a nurse")
    refused(demo, toxicity(), "ghost", "not an active user")
    refused(demo, toxicity(pid="nobody"), "nina", "no patient")
    refused(demo, toxicity(grade=0), "nina", "Grade: 1 to 5")
    refused(demo, toxicity(grade=True), "nina", "Grade:")
    refused(demo, toxicity(onset="March"), "nina", "Onset: a date as YYYY-MM-DD", "MOD-NH-6")
    refused(demo, toxicity(term=""), "nina", "CTCAE term: required")
    ev = accepted(demo, toxicity(), "nina")
    assert ev.data == {
        "term": "Alanine aminotransferase increased",
        "grade": 3,
        "onset": "2025-03-01",
        "attribution": "possibly related",
        "hematologic": False,
        "ctcae_version": "5.0",
    }
    started(demo)
    c = pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("tox.alanine aminotransferase increased")
    assert c.result == "info" and "G3" in c.value  # before the first dose: the pre-treatment grade (MOD-NH-4)


def test_resolve_toxicity(demo):
    tox = accepted(demo, toxicity(), "nina")
    cmd = pd.ResolveToxicity(HARTMAN, tox.version, "2025-03-02")
    refused(demo, cmd, "adam", "only a nurse")
    refused(demo, cmd, "ghost", "not an active user")
    refused(demo, pd.ResolveToxicity(HARTMAN, tox.version - 1, "2025-03-02"), "nina", "no toxicity recorded as entry", "MOD-NH-4")
    refused(demo, pd.ResolveToxicity(HARTMAN, tox.version, "2025-02-27"), "nina", "before the onset")
    refused(demo, pd.ResolveToxicity(HARTMAN, tox.version, "soon"), "nina", "Resolved on: a date")
    ev = accepted(demo, cmd, "priya")
    assert ev.data == {"toxicity": tox.version, "resolved": "2025-03-02"}
    started(demo)
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("tox.alanine aminotransferase increased") is None


# -- e: ECG and electrolytes; QT-prolonging drug -------------------------------------------------


@pytest.mark.parametrize(("command", "kind"), [(pd.RecordEcg, pd.ECG), (pd.RecordElectrolytes, pd.ELECTROLYTES)])
def test_ecg_and_electrolytes(demo, command, kind):
    cmd = command(HARTMAN, "2025-03-03")
    refused(demo, cmd, "adam", "only a nurse", "PRE-6")
    refused(demo, cmd, "ghost", "not an active user")
    refused(demo, command("nobody", "2025-03-03"), "nina", "no patient")
    refused(demo, command(HARTMAN, "3/3/2025"), "nina", "Date: a date as YYYY-MM-DD", "PRE-6")
    ev = accepted(demo, cmd, "nina")
    assert ev.kind == kind and ev.data == {"date": "2025-03-03"}


def test_baseline_ecg_and_electrolytes_release_the_first_dose_gate(demo):
    started(demo)
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("gate.ecg").result == "hold"
    demo.execute(pd.RecordEcg(HARTMAN, "2025-03-03"), "nina")
    demo.execute(pd.RecordElectrolytes(HARTMAN, "2025-03-03"), "nina")
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("gate.ecg").result == "pass"


def test_qt_drug(demo):
    cmd = pd.RecordQtDrug(HARTMAN, "ondansetron", "2025-03-02")
    refused(demo, cmd, "adam", "only a nurse")
    refused(demo, cmd, "ghost", "not an active user")
    refused(demo, pd.RecordQtDrug("nobody", "ondansetron", "2025-03-02"), "nina", "no patient")
    refused(demo, pd.RecordQtDrug(HARTMAN, "", "2025-03-02"), "nina", "Drug: required")
    refused(demo, pd.RecordQtDrug(HARTMAN, "ondansetron", "yesterday"), "nina", "Started on: a date", "PRE-6")
    ev = accepted(demo, cmd, "nina")
    assert ev.data == {"drug": "ondansetron", "started_on": "2025-03-02"}
    started(demo)
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("qt.recheck").result == "needs_confirmation"


# -- B: bilirubin cause --------------------------------------------------------------------------


def test_bilirubin_cause_is_a_prescribers(demo):
    cmd = pd.RecordBilirubinCause(HARTMAN, "gilbert")
    refused(demo, cmd, "nina", "only a prescriber", "CONV-LAB-2")
    refused(demo, cmd, "phil", "only a prescriber")
    refused(demo, cmd, "ghost", "not an active user")
    refused(demo, pd.RecordBilirubinCause("nobody", "gilbert"), "priya", "no patient")
    refused(demo, pd.RecordBilirubinCause(HARTMAN, "alcohol"), "priya", "Cause: one of gilbert, hemolysis")
    ev = accepted(demo, cmd, "priya")
    assert ev.data == {"cause": "gilbert"}
    started(demo)
    c = pd.predose_verdict(demo.view(HARTMAN), 1, 1).check("table3.bilirubin_cause")
    assert "confirmed by priya (prescriber)" in c.value


def test_a_refusal_through_the_ledger_is_a_value_error_naming_the_rule(demo):
    started(demo)
    with pytest.raises(Refused, match="CONV-LAB-2"):
        demo.execute(pd.RecordBilirubinCause(HARTMAN, "gilbert"), "nina")
    with pytest.raises(ValueError, match="not in the future"):
        demo.execute(premed(demo, time=premed_time(demo, -30)), "nina")

"""Premedication in one form (issue 17): RecordPremeds records every class given together, one
event per class filled, and is refused as a whole for any bad row; what the form offers comes from
the previous dose, else the site protocol, never from nowhere (PRE-1, PRE-2)."""

from __future__ import annotations

from datetime import timedelta

from bedside.core import predose as pd
from bedside.core.events import parse_utc
from bedside.core.site import SetSiteSetting

from .test_commands import HARTMAN, premed_time, refused, started

NAKAMURA = "demo0004" + "0" * 24  # MRN-100590: C1 D1 and C1 D8 given, premedicated at C1 D8

ALL_THREE = (
    pd.PremedRow("corticosteroid", "dexamethasone", "8 mg IV"),
    pd.PremedRow("antipyretic", "paracetamol", "1 g PO"),
    pd.PremedRow("antihistamine", "cetirizine", "10 mg PO"),
)


def premeds(ledger, rows=ALL_THREE, time=None, pid=HARTMAN, cycle=1, day=1) -> pd.RecordPremeds:
    return pd.RecordPremeds(pid, cycle, day, rows, premed_time(ledger) if time is None else time)


def test_three_classes_in_one_command_are_three_events_at_one_time(demo):
    started(demo)
    events = demo.execute(premeds(demo), "nina")
    assert [ev.kind for ev in events] == [pd.PREMED] * 3
    assert [ev.payload.drug_class for ev in events] == ["corticosteroid", "antipyretic", "antihistamine"]
    assert [(ev.payload.drug, ev.payload.dose) for ev in events] == [(r.drug, r.dose) for r in ALL_THREE]
    assert len({ev.payload.given_at for ev in events}) == 1
    assert demo.clock.now() - parse_utc(events[0].payload.given_at) < timedelta(minutes=31)
    v = pd.predose_verdict(demo.view(HARTMAN), 1, 1)
    assert all(v.check(f"premed.{c}").result == "pass" for c in ("corticosteroid", "antipyretic", "antihistamine"))
    assert "PRE-1" in v.check("premed.antipyretic").rule_ids


def test_an_empty_row_records_nothing_for_its_class(demo):
    started(demo)
    rows = (ALL_THREE[0], pd.PremedRow("antipyretic", " ", ""), pd.PremedRow("antihistamine"))
    (ev,) = demo.execute(premeds(demo, rows), "nina")
    assert ev.payload.drug_class == "corticosteroid"
    v = pd.predose_verdict(demo.view(HARTMAN), 1, 1)
    assert v.check("premed.corticosteroid").result == "pass" and v.check("premed.antihistamine").result == "hold"


def test_refusals_name_the_row_and_record_nothing(demo):
    refused(demo, premeds(demo), "nina", "not on the timeline", "SCHED-6")  # before cycle 1 starts
    started(demo)
    refused(demo, premeds(demo), "adam", "only a nurse", "PRE-1")
    refused(demo, premeds(demo), "ghost", "not an active user")
    half = (ALL_THREE[0], pd.PremedRow("antipyretic", "paracetamol", ""))
    refused(demo, premeds(demo, half), "nina", "Antipyretic: the dose and route of paracetamol", "PRE-1")
    refused(demo, premeds(demo, (pd.PremedRow("antihistamine", "", "10 mg PO"),)), "nina", "Antihistamine: the drug given")
    refused(demo, premeds(demo, (ALL_THREE[0], ALL_THREE[0])), "nina", "Corticosteroid: one row per class")
    refused(demo, premeds(demo, (pd.PremedRow("antiemetic", "ondansetron", "4 mg IV"),)), "nina", "Class: one of")
    refused(demo, premeds(demo, (pd.PremedRow("antipyretic", "para\x1b[2Jcetamol", "1 g PO"),)), "nina", "Antipyretic, drug")
    refused(demo, premeds(demo, (pd.PremedRow("antipyretic"),)), "nina", "fill in at least one class")
    refused(demo, premeds(demo, time=premed_time(demo, -30)), "nina", "Time: not in the future")
    refused(demo, premeds(demo, time="8h30"), "nina", "Time: HH:MM")
    v = pd.predose_verdict(demo.view(HARTMAN), 1, 1)
    assert all(v.check(f"premed.{c}").result == "hold" for c in ("corticosteroid", "antipyretic", "antihistamine"))


def test_the_old_one_class_command_still_records(demo):
    started(demo)
    (ev,) = demo.execute(pd.RecordPremed(HARTMAN, 1, 1, "antipyretic", "paracetamol", "1 g PO", premed_time(demo)), "nina")
    assert ev.kind == pd.PREMED and ev.payload.drug_class == "antipyretic"


# -- what the form offers ------------------------------------------------------------------------


def set_protocol(ledger, *rows):
    ledger.execute(SetSiteSetting("premed_protocol", [{"drug_class": c, "drug": d, "dose": q} for c, d, q in rows]), "adam")


def test_nothing_is_offered_without_a_previous_dose_or_a_protocol(demo):
    started(demo)
    offers = pd.premed_offer(demo.view(HARTMAN), 1, 1)
    assert [o.drug_class for o in offers] == ["corticosteroid", "antipyretic", "antihistamine"]
    assert all(o.drug == o.dose == o.source == "" for o in offers)


def test_the_site_protocol_is_offered_and_says_so(demo):
    started(demo)
    set_protocol(demo, ("antihistamine", "cetirizine", "10 mg PO"), ("corticosteroid", "dexamethasone", "8 mg IV"))
    offers = {o.drug_class: o for o in pd.premed_offer(demo.view(HARTMAN), 1, 1)}
    assert (offers["corticosteroid"].drug, offers["corticosteroid"].dose) == ("dexamethasone", "8 mg IV")
    assert offers["antihistamine"].source == offers["corticosteroid"].source == pd.SITE_PROTOCOL == "site protocol"
    assert offers["antipyretic"].source == ""  # the protocol names none: nothing is made up


def test_the_previous_dose_is_offered_before_the_protocol(demo):
    set_protocol(demo, ("antipyretic", "ibuprofen", "400 mg PO"))
    offers = pd.premed_offer(demo.view(NAKAMURA), 1, 15)
    assert [(o.drug, o.dose, o.source) for o in offers] == [
        ("dexamethasone", "12 mg IV", "as at C1 D8"),
        ("paracetamol", "1000 mg PO", "as at C1 D8"),
        ("loratadine", "10 mg PO", "as at C1 D8"),
    ]
    # an earlier dose's own offer comes from before it: C1 D8's from nothing but the protocol
    before = {o.drug_class: o for o in pd.premed_offer(demo.view(NAKAMURA), 1, 8)}
    assert before["antipyretic"].source == "site protocol" and before["corticosteroid"].source == ""


def test_what_is_recorded_at_this_dose_already_is_said(demo):
    started(demo)
    demo.execute(premeds(demo, (ALL_THREE[1],)), "nina")
    offers = {o.drug_class: o for o in pd.premed_offer(demo.view(HARTMAN), 1, 1)}
    assert offers["antipyretic"].recorded.startswith("paracetamol 1 g PO at ")
    assert offers["corticosteroid"].recorded == ""

"""The projection's accessors: a dose's verdict and the warnings, folded once per view and
refolded only when the patient's record changes."""

from __future__ import annotations

import pytest

from bedside.core import predose as pd
from bedside.core import schedule as sch
from bedside.core.warnings import applicable, patient_warnings

HARTMAN = "demo0001" + "0" * 24


def test_the_verdict_is_read_once_per_view_and_again_after_a_new_event(demo):
    demo.execute(sch.StartCycle(HARTMAN, demo.today()), "priya")
    view = demo.view(HARTMAN)
    v = pd.predose_verdict(view, 1, 1)
    assert pd.predose_verdict(demo.view(HARTMAN), 1, 1) is v  # the same view, the same fold
    p = demo.patient(HARTMAN)
    same = pd.verdict(p, demo.stream_events(p.stream), demo.timeline(HARTMAN), 1, 1, demo.today(), demo.roles())
    assert same == v  # what the ledger's own fold says
    demo.execute(pd.RecordChecklist(HARTMAN, 1, 1, True), "nina")
    after = pd.predose_verdict(demo.view(HARTMAN), 1, 1)
    assert after is not v and after.check("emergency").value == "yes"


def test_a_dose_not_on_the_timeline_has_no_verdict(demo):
    with pytest.raises(ValueError, match="C1 D1 is not on the timeline"):
        pd.predose_verdict(demo.view(HARTMAN), 1, 1)


def test_the_warnings_of_a_view_are_those_of_its_patient_now(demo):
    view = demo.view(HARTMAN)
    ws = patient_warnings(view)
    assert patient_warnings(view) is ws
    tl = view.timeline
    c1 = tl.dose(1, 1)
    assert ws == applicable(
        view.patient,
        view.today,
        first_dose=c1.given_on if c1 else None,
        last_dose=tl.last_given,
        cycles_given=tl.cycles_given,
        discontinued=tl.discontinued,
        vod_review=None,
    )
    assert ws[0].id == "BOX-1"

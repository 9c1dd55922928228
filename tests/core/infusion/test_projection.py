"""The monitor's reading of the patient's projection (core/infusion/projection.py): a dose is folded
once per PatientView, and at every ``now`` it says what the pure fold says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bedside.core import infusion as inf
from bedside.core.events import NewEvent

from ...tui.conftest import bag_code

DOSE = "c1d1"


@pytest.fixture
def running(ready, clock):
    ledger, pid = ready
    ledger.execute(inf.StartInfusion(pid, DOSE, bag_code(ledger, pid)), "nina")
    clock.advance(minutes=12)
    ledger.execute(inf.StartReaction(pid, DOSE, symptoms="flushing"), "nina")
    return ledger, pid


def test_monitor_at_is_the_fold_at_every_second(running, clock):
    ledger, pid = running
    view = ledger.view(pid)
    settings = inf.MonitorSettings()
    start = clock.now()
    for minutes in (0, 1, 30, 59, 61, 125, 600):
        now = start + timedelta(minutes=minutes, seconds=7)
        assert inf.monitor_at(view, DOSE, now, settings) == inf.monitor(view.events, DOSE, now, settings)
    assert inf.monitor_facts(view, DOSE, settings) is inf.monitor_facts(view, DOSE, settings)  # folded once
    assert inf.monitor_dose_ids(view) == [DOSE]


def test_a_fact_recorded_for_a_later_time_is_still_a_problem(running, clock):
    ledger, pid = running
    stream = ledger.patient(pid).stream
    later = clock.now() + timedelta(hours=2)
    data = inf.event_data(inf.INFUSION_STOPPED, DOSE, later, reason="typed the wrong hour")
    ledger.append(stream, lambda: [NewEvent(stream, inf.INFUSION_STOPPED, "nina", clock.now(), data)])
    view = ledger.view(pid)
    now = clock.now()
    st = inf.monitor_at(view, DOSE, now)
    assert st == inf.monitor(view.events, DOSE, now)
    assert st.phase == inf.PAUSED and any("later than now" in p.text for p in st.problems)


def test_the_board_reads_the_projections(running, clock):
    ledger, pid = running
    now = clock.now()
    views = [ledger.view(p.id) for p in ledger.patients()]
    by = {p.id: ledger.stream_events(p.stream) for p in ledger.patients()}
    assert inf.active_doses(views, now) == inf.active_infusions(by, now)
    assert (pid, DOSE) in [(p, d) for p, d, _st in inf.active_doses(views, now)]

"""Issue 15, defect 3: a bag that cannot be given within its limits says so at once, in the
preparation and at the start gate, and no override (STAB-5's early start included) reaches past a
label (L) limit; only UNVERIFIED limits can be overridden (STAB-4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bedside.core import infusion as inf
from bedside.core import preparation as prep
from bedside.core.demo import seed
from bedside.core.events import Event
from bedside.core.infusion.gate import start_gate
from bedside.core.service import Ledger

from ...tui.conftest import make_ready

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def hm(h: int, m: int) -> datetime:
    return T0.replace(hour=h, minute=m)


@pytest.fixture
def bag(store, clock, key):
    """Reconstituted 08:00, diluted 08:10 (make_ready), 2 h 50 min at room temperature, refrigerated
    11:00–14:00 (3 h), out at 14:00: 1 h 10 min of room temperature left → the UNVERIFIED STAB-4
    limit ends the infusion by 15:10 (latest start 14:10); STAB-2's cap is 16:00 (latest start
    15:00); equilibration ends 15:00 (STAB-5)."""
    seed(store, clock)
    ledger = Ledger(store, clock, key)
    p = next(q for q in ledger.patients() if q.mrn == "MRN-100231")
    make_ready(ledger, clock, p.id)

    def step(name, when):
        clock.set(when)
        ledger.execute(prep.step_command(p.id, "c1d1", name, when), "phil")

    step("bag_refrigerated", hm(11, 0))
    step("bag_removed", hm(14, 0))
    return ledger, p


def stability_blockers(gate) -> list[str]:
    return [b for b in gate.blockers if "STAB" in b]


def override(ledger, p, rule, when):
    ledger.clock.set(when)
    ledger.execute(prep.OverrideStability(p.id, "c1d1", rule, "checked with the ward"), "phil")


def test_the_preparation_and_the_gate_say_it_at_once(bag):
    ledger, p = bag
    st = prep.fold(ledger.stream_events(p.stream), "c1d1")
    ((rule, text),) = st.cannot_give(hm(14, 0))
    assert "STAB-5" in rule and "STAB-4" in rule
    assert "14:10" in text and "15:00" in text and "Discard the bag and prepare again" in text
    gate = start_gate(ledger, p.id, "c1d1")
    assert any("Cannot be given as planned" in b for b in gate.blockers)


@pytest.mark.parametrize("now, can", [(hm(14, 10), True), (hm(14, 11), False)])
def test_an_early_start_helps_only_until_the_latest_start(bag, now, can):
    ledger, p = bag
    override(ledger, p, "STAB-5", hm(14, 5))
    ledger.clock.set(now)
    gate = start_gate(ledger, p.id, "c1d1")
    assert (not stability_blockers(gate)) is can, gate.blockers


@pytest.mark.parametrize("now, can", [(hm(15, 0), True), (hm(15, 1), False)])
def test_overriding_the_unverified_limit_never_passes_the_label_cap(bag, now, can):
    """STAB-4 overridden and STAB-5 confirmed: STAB-2 (L) still needs a start by 15:00."""
    ledger, p = bag
    override(ledger, p, "STAB-4", hm(14, 1))
    override(ledger, p, "STAB-5", hm(14, 2))
    ledger.clock.set(now)
    gate = start_gate(ledger, p.id, "c1d1")
    assert (not stability_blockers(gate)) is can, gate.blockers
    assert gate.label_deadline == hm(16, 0)
    if not can:
        assert any("STAB-2" in b for b in gate.blockers)


def _started(label_deadline, deadline):
    data = inf.event_data(
        inf.INFUSION_STARTED, "c1d1", hm(14, 0), route="bag", stability_deadline=deadline, label_deadline=label_deadline
    )
    pause = inf.event_data(inf.INFUSION_PAUSED, "c1d1", hm(14, 20), reason="Grade 2 reaction")
    return [
        Event(1, "patient:p", 1, inf.INFUSION_STARTED, "nina", hm(14, 0), data, "0" * 64, "1" * 64),
        Event(2, "patient:p", 2, inf.INFUSION_PAUSED, "nina", hm(14, 20), pause, "0" * 64, "2" * 64),
    ]


@pytest.mark.parametrize("now, allowed", [(hm(15, 20), True), (hm(15, 21), False)])
def test_no_resume_past_the_label_limit(now, allowed):
    """20 min run, 40 min left: resuming at 15:20 ends at 16:00 (the STAB-2 cap: allowed), at 15:21 after it."""
    st = inf.monitor(_started(hm(16, 0), hm(16, 0)), "c1d1", now)
    assert st.can_resume.allowed is allowed
    if not allowed:
        assert "STAB-2" in st.can_resume.reason and "no override" in st.can_resume.reason


def test_an_unverified_deadline_is_warned_not_refused():
    """Past the UNVERIFIED STAB-4 deadline (15:10) but within STAB-2: a warning to confirm, as before."""
    st = inf.monitor(_started(hm(16, 0), hm(15, 10)), "c1d1", hm(14, 40))
    assert st.can_resume.allowed
    assert inf.check_resume(st, hm(14, 40)) is not None

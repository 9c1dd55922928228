"""A severe infusion reaction forbids every later dose on every path (MOD-NH-3, CONV-IRR-1):
the timeline, the pre-dose verdict and the start gate agree, at and beside Grade 3."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bedside.core import infusion as inf
from bedside.core import schedule as sch
from bedside.core.demo import seed
from bedside.core.eligibility import severe_reactions
from bedside.core.events import NewEvent
from bedside.core.infusion.gate import start_gate

from ...tui.conftest import make_ready


@pytest.fixture
def given_c1d1(store, clock, key):
    """A demo patient whose C1 D1 was started and given (with an infusion record), as the monitor does."""
    from bedside.core.service import Ledger

    seed(store, clock)
    ledger = Ledger(store, clock, key)
    p = next(q for q in ledger.patients() if q.mrn == "MRN-100231")
    make_ready(ledger, clock, p.id)
    gate = start_gate(ledger, p.id, "c1d1")
    assert not gate.blockers, gate.blockers
    now = clock.now()
    stream = p.stream
    ledger.append(
        stream,
        lambda: [
            NewEvent(stream, inf.INFUSION_STARTED, "nina", now, inf.event_data(inf.INFUSION_STARTED, "c1d1", now)),
            NewEvent(stream, sch.DOSE_GIVEN, "nina", now, gate.given),
        ],
    )
    return ledger, p


def react(ledger, clock, p, grade, actor="nina", correction: str | None = None):
    stream = p.stream
    clock.advance(minutes=5)
    now = clock.now()
    events = []
    if correction is None:
        events.append(
            NewEvent(
                stream, inf.REACTION_STARTED, actor, now, inf.event_data(inf.REACTION_STARTED, "c1d1", now, symptoms="rigors")
            )
        )
    extra = {"correction_reason": correction} if correction else {}
    events.append(
        NewEvent(stream, inf.REACTION_GRADED, actor, now, inf.event_data(inf.REACTION_GRADED, "c1d1", now, grade=grade, **extra))
    )
    ledger.append(stream, lambda: events)


def paths(ledger, p):
    """What each path says about C1 D8 on its planned day: (timeline refuses, pre-dose verdict, start gate blocks)."""
    from datetime import UTC, datetime, time

    planned = ledger.timeline(p.id).dose(1, 8).planned
    if ledger.today() < planned:
        ledger.clock.set(datetime.combine(planned, time(9, 0), tzinfo=UTC))
    tl = ledger.timeline(p.id)
    try:
        sch.check_give(tl, 1, 8, tl.today, tl.dose(1, 8).level or "0.5", "1.00")
        refused = ""
    except ValueError as exc:
        refused = str(exc)
    verdict = ledger.predose_verdict(p.id, 1, 8)
    gate = start_gate(ledger, p.id, "c1d8")
    return tl, refused, verdict, gate


@pytest.mark.parametrize("grade, blocked", [(1, False), (2, False), (3, True), (4, True), ("anaphylaxis", True)])
def test_grade_three_or_more_blocks_the_next_dose_everywhere(given_c1d1, clock, grade, blocked):
    ledger, p = given_c1d1
    react(ledger, clock, p, grade)
    tl, refused, verdict, gate = paths(ledger, p)
    irr = [x for x in tl.proposals if x.rule == "CONV-IRR-1"]
    assert bool(irr) is blocked
    assert ("CONV-IRR-1" in refused) is blocked
    assert (verdict.overall == "DISCONTINUE") is blocked
    assert any("DISCONTINUE" in b for b in gate.blockers) is blocked
    if blocked:
        assert irr[0].scope == sch.SCOPE_ALL and irr[0].needs_role == "prescriber"
        assert "prescriber records the permanent discontinuation" in tl.status
        check = next(c for c in verdict.checks if c.key == "irr.severe")
        assert set(check.rule_ids) >= {"MOD-NH-3", "CONV-IRR-1"} and "prescriber" in check.action
        with pytest.raises(ValueError, match="not a proposal to decline"):
            sch.check_decide(tl, irr[0].id, "declined", "looked fine", "prescriber")


def test_a_later_lower_grade_without_a_correction_does_not_lift_it(given_c1d1, clock):
    ledger, p = given_c1d1
    react(ledger, clock, p, 3)
    stream = p.stream
    clock.advance(minutes=1)
    now = clock.now()
    ledger.append(
        stream,
        lambda: [
            NewEvent(
                stream, inf.REACTION_GRADED, "nina", now, inf.event_data(inf.REACTION_GRADED, "c1d1", now, grade=2, reaction=1)
            )
        ],
    )
    _tl, refused, verdict, _gate = paths(ledger, p)
    assert "CONV-IRR-1" in refused and verdict.overall == "DISCONTINUE"


def test_only_a_prescribers_recorded_correction_lifts_the_block(given_c1d1, clock):
    ledger, p = given_c1d1
    react(ledger, clock, p, 3)
    react(ledger, clock, p, 2, actor="nina", correction="graded the wrong reaction")  # a nurse may not lift it
    (still,) = severe_reactions(ledger.stream_events(p.stream), ledger.roles())
    assert still.corrected_by_other == "nina"
    _tl, refused, verdict, _gate = paths(ledger, p)
    assert "CONV-IRR-1" in refused and verdict.overall == "DISCONTINUE"
    assert "does not lift it" in refused

    react(ledger, clock, p, 2, actor="priya", correction="rigors only: CTCAE Grade 2 on review")
    assert severe_reactions(ledger.stream_events(p.stream), ledger.roles()) == ()
    tl, refused, verdict, _gate = paths(ledger, p)
    assert not [x for x in tl.proposals if x.rule == "CONV-IRR-1"]
    assert "CONV-IRR-1" not in refused and verdict.overall != "DISCONTINUE"


def test_without_roles_no_correction_is_trusted(given_c1d1, clock):
    ledger, p = given_c1d1
    react(ledger, clock, p, 4)
    react(ledger, clock, p, 1, actor="priya", correction="review")
    events = ledger.stream_events(p.stream)
    assert len(severe_reactions(events)) == 1, "no roles: the block stands (safest)"
    assert severe_reactions(events, ledger.roles()) == ()


def test_the_discontinuation_record_answers_it(given_c1d1, clock):
    ledger, p = given_c1d1
    react(ledger, clock, p, 3)
    ledger.execute(sch.DiscontinueTreatment(p.id, "severe_infusion_reaction"), "priya")
    tl = ledger.timeline(p.id)
    assert tl.discontinued and not [x for x in tl.proposals if x.rule == "CONV-IRR-1"]
    assert any("discontinued" in b.lower() for b in start_gate(ledger, p.id, "c1d8").blockers)
    clock.advance(days=7)
    assert tl.dose(1, 8) is not None
    _ = timedelta

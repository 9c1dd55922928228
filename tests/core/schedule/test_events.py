"""The schedule's typed events: every stored event of a schedule kind in the database written by
main at 5f43dfd decodes to its class, with no key the class does not declare, and writes back the
same JSON (no migration)."""

from __future__ import annotations

from pathlib import Path

from bedside.core import schedule as sch
from bedside.core.events import EVENT_TYPES, decode, unknown_keys
from tests.fixtures.main_db import fixture_events as _fixture_events

DB = Path(__file__).resolve().parents[2] / "fixtures" / "main-5f43dfd.db"


def test_every_schedule_kind_has_one_class():
    for cls in sch.PAYLOADS:
        assert EVENT_TYPES[cls.KIND] is cls
    assert {c.KIND for c in sch.PAYLOADS} == set(sch.KINDS) | {sch.SCHEDULE_VOIDED}


def test_the_fixture_database_decodes_and_round_trips(tmp_path):
    kinds = {c.KIND for c in sch.PAYLOADS}
    seen = set()
    for ev in _fixture_events(tmp_path):
        if ev.kind not in kinds:
            continue
        seen.add(ev.kind)
        p = decode(ev)
        assert ev.kind == type(p).KIND
        assert unknown_keys(ev) == set(), (ev.kind, ev.data)
        assert p.to_data() == ev.data, (ev.kind, ev.data)
    assert seen == kinds  # the fixture holds every kind


def test_optional_keys_are_left_out_when_empty():
    p = sch.ProposalDecided("SCHED-7:c1d8:2025-03-12", "SCHED-7", "confirmed", "ok", "prescriber")
    assert set(p.to_data()) == {"proposal_id", "rule", "decision", "reason", "role"}
    assert "unverified_rule" not in sch.LevelsConfirmed(2, {"1": "0.5", "8": "0.5", "15": "0.5"}, "x").to_data()

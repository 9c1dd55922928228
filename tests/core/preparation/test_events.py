"""The preparation's typed events read every stored event of main at 5f43dfd (tests/fixtures) with no
unknown key, and write back exactly the JSON they were read from (no database is migrated)."""

from __future__ import annotations

from bedside.core import preparation as prep
from bedside.core.events import EVENT_TYPES, unknown_keys
from tests.fixtures.main_db import fixture_events


def test_every_stored_preparation_event_decodes_with_no_unknown_key(tmp_path):
    events = [ev for ev in fixture_events(tmp_path) if ev.kind in prep.KINDS]
    assert {ev.kind for ev in events} == set(prep.KINDS) - {prep.CARTON}  # prep.carton came later (issue 20)
    for ev in events:
        p = ev.payload
        assert type(p) is EVENT_TYPES[ev.kind] and unknown_keys(ev) == set(), ev.kind
        assert p.to_data() == ev.data, (ev.kind, ev.data)


def test_the_old_names_are_the_event_classes_kinds():
    assert (prep.CALCULATED, prep.STEP, prep.VERIFICATION, prep.SYRINGE, prep.OVERRIDE) == (
        "prep.calculated",
        "prep.step",
        "prep.verification",
        "prep.syringe",
        "prep.override",
    )
    assert prep.PrepCalculated.KIND == prep.CALCULATED and prep.PrepOverride.KIND == prep.OVERRIDE

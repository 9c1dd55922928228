"""The printed record and the FHIR export read the patient's projection (``ledger.view(pid)``,
core/records/source.py): the same bytes as from the patient's events, on the demo, through a whole
infusion, and on the database written by main 5f43dfd."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bedside.core import clock as clock_mod
from bedside.core import fhir, records
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from tests.fixtures.main_db import copy_fixture, fixture_key

from .scenario import users_of, walk_full_infusion

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FIXTURE_NOW = datetime(2025, 4, 2, 9, 30, tzinfo=UTC)  # make_main_fixture.NOW


class _Fixed:
    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now


def _same_from_view_and_events(ledger: Ledger, now: datetime, tz) -> int:
    users = users_of(ledger)
    n = 0
    for p in [ledger.patient(e.id) for e in ledger.patients()]:
        events = ledger.stream_events(p.stream)
        view = ledger.view(p.id)
        assert records.record_for(view, tz=tz, now=now) == records.administration_record(p, events, users, tz=tz, now=now)
        assert fhir.to_json(fhir.bundle_for(view, now=now, tz=tz)) == fhir.to_json(fhir.bundle(p, events, users, now=now, tz=tz))
        for cy in view.timeline.cycles:
            one = records.record_for(view, cycle=cy.number, tz=tz, now=now)
            assert one == records.administration_record(p, events, users, cycle=cy.number, tz=tz, now=now)
        n += 1
    return n


@pytest.mark.parametrize("tz", [UTC, ZoneInfo("Europe/Oslo")])
def test_the_demo_prints_and_exports_the_same_from_the_view(demo_db, tz):
    ledger, clock = demo_db
    walk_full_infusion(ledger, clock)
    assert _same_from_view_and_events(ledger, clock.now(), tz) >= 3


def test_the_main_fixture_prints_and_exports_the_same_from_the_view(tmp_path, monkeypatch):
    monkeypatch.setattr(clock_mod, "_current", None)
    db = copy_fixture(tmp_path, "main.db")
    store = SqliteStore(db)
    try:
        ledger = Ledger(store, _Fixed(FIXTURE_NOW), fixture_key(db))
        assert _same_from_view_and_events(ledger, FIXTURE_NOW, ledger.zone.zone) == 6
    finally:
        store.close()


def test_a_view_of_another_date_is_not_used_for_the_timeline(demo_db):
    """The record's date is ``now`` in ``tz``; a view of another day (a zone far from the site's)
    gives its events and users, and the timeline is folded for the record's own date."""
    ledger, clock = demo_db
    p = ledger.patient(next(q.id for q in ledger.patients() if q.mrn == "MRN-100590"))
    far = ZoneInfo("Pacific/Kiritimati")  # UTC+14 all year
    late = clock.now().replace(hour=11)  # 2026-03-02 11:00 UTC is 01:00 on 2026-03-03 there
    view = ledger.view(p.id)
    assert late.astimezone(far).date() != view.today
    events = ledger.stream_events(p.stream)
    assert records.record_for(view, tz=far, now=late) == records.administration_record(
        p, events, users_of(ledger), tz=far, now=late
    )

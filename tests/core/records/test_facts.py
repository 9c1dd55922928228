"""An event's fact time (core/facts.py): the time the user entered, else when it was recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bedside.core.events import Event, iso_utc
from bedside.core.facts import by_fact_time, fact_time, stated_time, strict_fact_time
from bedside.core.infusion.reactions import reaction_numbers

WRITTEN = datetime(2026, 3, 2, 10, 20, tzinfo=UTC)


def ev(data: dict, seq: int = 1, kind: str = "vitals.recorded", at: datetime = WRITTEN) -> Event:
    return Event(seq, "patient-x", seq, kind, "nina", at, data, "0" * 64, "0" * 64)


def test_the_entered_time_wins_over_the_written_one():
    taken = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    assert fact_time(ev({"at": iso_utc(taken)})) == taken
    assert fact_time(ev({"at": "2026-03-02T11:05:00+01:00"})) == taken  # any aware ISO time, in UTC
    assert fact_time(ev({"at": "2026-03-02T11:05:00+01:00"})).tzinfo == UTC


def test_a_premedication_is_at_its_given_at():
    given = WRITTEN - timedelta(minutes=30)
    assert fact_time(ev({"given_at": iso_utc(given)}, kind="predose.premed")) == given
    assert fact_time(ev({"at": iso_utc(WRITTEN - timedelta(minutes=1)), "given_at": iso_utc(given)})) == WRITTEN - timedelta(
        minutes=1
    )


def test_no_readable_time_is_the_written_time():
    for data in ({}, {"at": None}, {"at": "2026-03-02T10:05:00"}, {"at": "yesterday"}, {"at": 5}, {"given_at": ""}):
        assert stated_time(ev(data)) is None
        assert fact_time(ev(data)) == WRITTEN


def test_facts_sort_by_fact_time_then_log_order():
    a = ev({"at": iso_utc(WRITTEN - timedelta(minutes=9))}, seq=3)
    b = ev({}, seq=1, at=WRITTEN - timedelta(minutes=9))
    c = ev({"at": iso_utc(WRITTEN - timedelta(minutes=20))}, seq=2)
    assert [e.seq for e in sorted([a, b, c], key=by_fact_time)] == [2, 1, 3]


def test_reactions_are_numbered_in_fact_time_order():
    first = ev({"dose_id": "c1d1", "at": iso_utc(WRITTEN - timedelta(minutes=10))}, seq=7, kind="reaction.started")
    second = ev({"dose_id": "c1d1"}, seq=5, kind="reaction.started")
    other = ev({"dose_id": "c1d8"}, seq=6, kind="reaction.started")
    assert reaction_numbers([second, first, other], "c1d1") == {7: 1, 5: 2}
    assert reaction_numbers([second, first]) == {7: 1, 5: 2}


def test_a_strict_fact_time_refuses_an_unreadable_entered_time():
    """The monitor's reading: no ``at`` is the written time; an ``at`` that does not read is None."""
    taken = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    assert strict_fact_time(ev({"at": iso_utc(taken)}), ("at",)) == taken
    assert strict_fact_time(ev({}), ("at",)) == WRITTEN
    for bad in (None, "2026-03-02T10:05:00", "soon", 5):
        assert strict_fact_time(ev({"at": bad}), ("at",)) is None
    assert strict_fact_time(ev({"given_at": "soon"})) is None and strict_fact_time(ev({"given_at": "soon"}), ("at",)) == WRITTEN

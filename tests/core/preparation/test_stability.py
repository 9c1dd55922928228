"""core/stability.py against §9, CONV-STAB-1/2 and the infusion timelines T1, T3, T5 of §18.4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedside.core import rules
from bedside.core.stability import (
    PrepTimes,
    check_dilution,
    deadlines,
    infusion_end,
    observation_earliest_end,
)

UTC = UTC


def at(hh: int, mm: int, day: int = 10) -> datetime:
    return datetime(2025, 3, day, hh, mm, tzinfo=UTC)


def test_t1_room_temperature_binds() -> None:
    # Reconstituted 08:00, vials refrigerated 08:05–11:25, diluted 11:30 (3 h 30 min ≤ 4 h).
    assert check_dilution(at(8, 0), at(11, 30)) is None
    d = deadlines(PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(11, 30)))
    assert d.dilution_deadline == at(12, 0)
    caps = {lim.rule_id: lim.at for lim in d.limits}
    assert caps["STAB-2"] == at(16, 0)
    assert d.end_deadline == at(15, 30)
    assert d.binding.rule_id == "STAB-4" and d.binding.unverified
    assert d.latest_start == at(14, 30)
    # With the 8-h cap alone it would be 15:00.
    assert caps["STAB-2"] - timedelta(minutes=60) == at(15, 0)
    assert "STAB-4" in d.unverified_rules
    assert d.usable
    end = infusion_end(at(12, 10))
    assert end == at(13, 10) and d.allows_end(end)
    assert observation_earliest_end(end) == at(14, 10)
    assert any("UNVERIFIED" in line for line in d.explain())


def test_t3_refrigerated_diluted_solution() -> None:
    # Diluted 09:00, refrigerated 09:00–12:00 (3 h, at the limit), equilibrated 12:00–13:00.
    times = PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(9, 0), refrigerated=[(at(9, 0), at(12, 0))])
    d = deadlines(times)
    assert d.usable
    assert d.refrigerated_used == timedelta(hours=3)
    assert d.earliest_start == at(13, 0)  # STAB-5
    assert d.end_deadline == at(16, 0)  # 8-h cap and 4 h room temperature from 12:00 coincide
    assert d.binding.rule_id == "STAB-2" and not d.binding.unverified
    end = infusion_end(at(13, 0))
    assert end == at(14, 0)  # 6 h after reconstitution
    assert d.allows_end(end)
    assert observation_earliest_end(end) == at(15, 0)


def test_t3_one_minute_over_refrigeration_is_refused() -> None:
    d = deadlines(PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(9, 0), refrigerated=[(at(9, 0), at(12, 1))]))
    assert not d.usable
    assert d.problems[0][0] == "STAB-4"
    assert d.end_deadline == at(12, 0)


def test_t5_interrupted_infusion() -> None:
    assert check_dilution(at(6, 30), at(9, 30)) is None  # 3 h ≤ 4 h
    d = deadlines(PrepTimes(reconstituted_at=at(6, 30), diluted_at=at(9, 30)))
    caps = {lim.rule_id: lim.at for lim in d.limits}
    assert caps["STAB-2"] == at(14, 30)
    assert d.end_deadline == at(13, 30) and d.binding.rule_id == "STAB-4"
    # Started 10:00, paused 10:20–10:50 (30 min), resumed at the same rate: 40 min left.
    end = infusion_end(at(10, 0), paused_min=30)
    assert end == at(11, 30)
    assert d.allows_end(end)
    assert observation_earliest_end(end) == at(12, 30)
    assert end - at(10, 0) == timedelta(minutes=90)  # elapsed; running time 60 min
    # Allowing for the 30-min pause moves the latest start back by 30 min.
    d2 = deadlines(PrepTimes(reconstituted_at=at(6, 30), diluted_at=at(9, 30), planned_pause_min=30))
    assert d2.latest_start == at(12, 0)


def test_dilution_window() -> None:
    assert check_dilution(at(8, 0), at(12, 0)) is None  # exactly 4 h is allowed
    message = check_dilution(at(8, 0), at(12, 1))
    assert message is not None
    assert "STAB-1" in message and "discard and prepare again" in message
    assert check_dilution(at(8, 0), at(7, 59)) is not None
    d = deadlines(PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(12, 1)))
    assert not d.usable and d.problems[0][0] == "STAB-1"


def test_midnight_and_flush() -> None:
    d = deadlines(PrepTimes(reconstituted_at=at(22, 0), diluted_at=at(23, 0), flush_min=10))
    assert d.end_deadline == at(3, 0, day=11)
    assert d.latest_start == at(1, 50, day=11)
    assert "PREP-9" in d.unverified_rules


def test_open_refrigeration_needs_now() -> None:
    times = PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(9, 0), refrigerated=[(at(9, 30), None)])
    with pytest.raises(ValueError):
        deadlines(times)
    d = deadlines(times, now=at(10, 0))
    assert d.remove_from_refrigerator_by == at(12, 30)
    assert d.end_deadline == at(13, 30)  # 30 min used before refrigeration; taken out now at the earliest
    assert d.earliest_start == at(11, 0)
    late = deadlines(times, now=at(12, 31))
    assert not late.usable


def test_input_validation() -> None:
    with pytest.raises(ValueError):
        PrepTimes(reconstituted_at=datetime(2025, 3, 10, 8, 0))  # naive
    with pytest.raises(ValueError):
        PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(7, 0))
    with pytest.raises(ValueError):
        PrepTimes(reconstituted_at=at(8, 0), refrigerated=[(at(9, 0), at(10, 0))])
    with pytest.raises(ValueError):
        PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(9, 0), refrigerated=[(at(9, 0), None), (at(10, 0), at(11, 0))])
    with pytest.raises(ValueError):
        PrepTimes(reconstituted_at=at(8, 0), planned_pause_min=-1)
    # Other time zones are converted to UTC.
    cet = timezone(timedelta(hours=1))
    t = PrepTimes(reconstituted_at=datetime(2025, 3, 10, 9, 0, tzinfo=cet))
    assert t.reconstituted_at == at(8, 0)


@st.composite
def prep_times(draw: st.DrawFn) -> PrepTimes:
    recon = at(0, 0) + timedelta(minutes=draw(st.integers(0, 60 * 24 * 300)))
    if not draw(st.booleans()):
        return PrepTimes(reconstituted_at=recon, planned_pause_min=draw(st.integers(0, 120)))
    diluted = recon + timedelta(minutes=draw(st.integers(0, rules.RECON_TO_DILUTION_MAX_MIN + 30)))
    intervals = []
    t = diluted
    for _ in range(draw(st.integers(0, 3))):
        start = t + timedelta(minutes=draw(st.integers(0, 120)))
        end = start + timedelta(minutes=draw(st.integers(0, 200)))
        intervals.append((start, end))
        t = end
    return PrepTimes(
        reconstituted_at=recon,
        diluted_at=diluted,
        refrigerated=intervals,
        planned_pause_min=draw(st.integers(0, 120)),
        flush_min=draw(st.integers(0, 30)),
    )


@settings(max_examples=400, deadline=None)
@given(prep_times())
def test_property_latest_start_leaves_an_hour(times: PrepTimes) -> None:
    d = deadlines(times)
    assert d.latest_start + timedelta(minutes=rules.INFUSION_MINUTES) <= d.end_deadline
    assert d.end_deadline <= times.reconstituted_at + timedelta(minutes=rules.RECON_TO_END_MAX_MIN)
    assert d.end_deadline == min(lim.at for lim in d.limits)
    assert d.binding.at == d.end_deadline
    if times.diluted_at is not None:
        fridge = sum(((e - s) for s, e in times.refrigerated if e is not None), timedelta(0))
        assert d.end_deadline <= times.diluted_at + timedelta(minutes=rules.DILUTED_ROOM_TEMP_MAX_MIN) + fridge
    assert d.end_deadline.tzinfo is not None and d.end_deadline.utcoffset() == timedelta(0)


def test_deadline_texts_are_in_local_time(monkeypatch):
    from zoneinfo import ZoneInfo

    from bedside.core import clock, stability

    monkeypatch.setattr(clock, "local_tz", lambda: ZoneInfo("Europe/Berlin"))
    times = stability.PrepTimes(reconstituted_at=datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    text = "\n".join(stability.deadlines(times).explain())
    assert "Dilute by 2025-03-03 13:00 CET [STAB-1, Table 6]" in text  # 08:00 UTC + 4 h, shown in Berlin


# --- issue 15, defect 3: a bag that cannot be given within its limits says so at once ----------------

from bedside.core.stability import cannot_give  # noqa: E402


def _fridge_bag(removed: datetime | None, *, stab4_overridden: bool = False) -> PrepTimes:
    # Reconstituted 08:00, diluted 11:30 (STAB-1: 3 h 30 min), into the refrigerator at once.
    # STAB-2's 8-h cap binds: end by 16:00, latest start 15:00.
    return PrepTimes(
        reconstituted_at=at(8, 0), diluted_at=at(11, 30), refrigerated=((at(11, 30), removed),), stab4_overridden=stab4_overridden
    )


@pytest.mark.parametrize(
    "removed, can",
    [
        (at(13, 59), True),  # equilibrated 14:59: the latest start 15:00 is one minute after
        (at(14, 0), True),  # equilibrated 15:00 = the latest start: ends exactly at 16:00 (allowed)
        (at(14, 1), False),  # equilibrated 15:01: the latest start is one minute before
    ],
)
def test_latest_start_beside_the_end_of_equilibration(removed: datetime, can: bool) -> None:
    d = deadlines(_fridge_bag(removed))
    assert d.binding.rule_id == "STAB-2" and d.latest_start == at(15, 0)
    assert d.earliest_start == removed + timedelta(minutes=rules.EQUILIBRATE_MIN)
    out = cannot_give(d, removed)
    assert (not out) is can
    if not can:
        ((rule, text),) = out
        assert "STAB-5" in rule and "STAB-2" in rule and "CONV-STAB-3" in rule
        assert text.startswith("Cannot be given as planned")
        assert "15:00" in text and "15:01" in text and "16:00" in text  # the numbers
        assert "Discard the bag and prepare again" in text  # what to do


@pytest.mark.parametrize("now, can", [(at(13, 59), True), (at(14, 1), False)])
def test_known_while_still_in_the_refrigerator(now: datetime, can: bool) -> None:
    """In the refrigerator at ``now``: even taken out at once it equilibrates until now + 1 h."""
    d = deadlines(_fridge_bag(None), now=now)
    assert (not cannot_give(d, now, in_refrigerator=True)) is can


@pytest.mark.parametrize("now, can", [(at(15, 0), True), (at(15, 1), False)])
def test_latest_start_passed(now: datetime, can: bool) -> None:
    d = deadlines(_fridge_bag(at(13, 0)))
    out = cannot_give(d, now)
    assert (not out) is can
    if not can:
        assert "the latest start was" in out[0][1] and "CONV-STAB-3" in out[0][0]


def test_early_start_confirmed_never_reaches_past_the_label_cap() -> None:
    """STAB-5's early start removes the wait, never a deadline: the latest start still holds."""
    d = deadlines(_fridge_bag(at(14, 1), stab4_overridden=True))
    assert d.label_limit.rule_id == "STAB-2" and d.label_latest_start == at(15, 0)
    assert cannot_give(d, at(14, 1), early_start_confirmed=True) == ()
    assert cannot_give(d, at(15, 1), early_start_confirmed=True)  # past 15:00: no override helps


def test_unverified_binding_names_the_pharmacist_override_and_the_label_limit() -> None:
    # T1: room temperature binds (15:30, STAB-4, UNVERIFIED), latest start 14:30; label cap 16:00.
    d = deadlines(PrepTimes(reconstituted_at=at(8, 0), diluted_at=at(11, 30)))
    ((rule, text),) = cannot_give(d, at(14, 31))
    assert "STAB-4" in rule and "UNVERIFIED" in text and "pharmacist" in text and "STAB-2" in text
    ((rule, text),) = cannot_give(d, at(15, 1))
    assert "pharmacist" not in text  # past the label latest start too: only discarding is left

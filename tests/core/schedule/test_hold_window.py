"""Issue 15, defect 2: a dose whose window opens or passes during another dose's toxicity hold is
never silently due; Table 4 (MOD-INT, UNVERIFIED, CONV-MOD-4) proposes and a prescriber decides.

C1 D1 Mon 2025-03-03, D8 03-10 held for toxicity; D15 planned 03-17 (window 03-15 to 03-19). The
Day 15's own interruption is counted from its planned date to the recovery (CONV-SCHED-5): a Day 8
hold of 13 days is 6 days for Day 15 (< 7: MOD-INT-1, delay), 14 days is 7 (≥ 7: MOD-INT-2, omit)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bedside.core import schedule as s

from .test_schedule import Stream, d, ids

RESOLVED_OR_WAITING = {s.BLOCKED, s.DELAYED, s.OMITTED}


def held_d8() -> Stream:
    st_ = Stream()
    st_.plan("not_planned")
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    st_.hold(1, 8, "2025-03-10")
    return st_


@pytest.mark.parametrize("today", ["2025-03-14", "2025-03-15", "2025-03-17", "2025-03-19", "2025-03-20"])
def test_while_the_hold_is_open_the_day15_is_blocked_never_due(today):
    tl = held_d8().tl(today)
    d15 = tl.dose(1, 15)
    assert d15 is not None
    if d(today) < d("2025-03-15"):
        assert d15.state == s.PLANNED  # its window has not opened yet
    else:
        assert d15.state == s.BLOCKED, d15
        assert "C1 D8" in d15.note and "MOD-INT" in d15.note
        with pytest.raises(ValueError, match="blocked"):
            s.check_give(tl, 1, 15, d(today), "0.5", "1.00")
    assert d15.state not in (s.DUE_TODAY, s.IN_WINDOW, s.OVERDUE)
    assert not any(p.rule == "CONV-SCHED-7" for p in tl.proposals)


@pytest.mark.parametrize("hold_days, rule, other", [(13, "MOD-INT-1", "MOD-INT-2"), (14, "MOD-INT-2", "MOD-INT-1")])
def test_after_recovery_table4_decides_the_day15(hold_days, rule, other):
    st_ = held_d8()
    recovery = (d("2025-03-10") + timedelta(days=hold_days)).isoformat()
    tl = st_.recover(1, 8, recovery)
    assert f"{rule}:c1d15" in ids(tl) and f"{other}:c1d15" not in ids(tl)
    p = tl.proposal(f"{rule}:c1d15")
    assert p.unverified and p.needs_role == "prescriber" and p.scope == s.SCOPE_DOSE
    assert f"{hold_days - 7} days" in p.text  # counted from the Day 15's planned date (CONV-SCHED-5)
    # The held Day 8 itself: ≥ 7 days → omit (MOD-INT-2); ≥ 14 also proposes the 25% cut (MOD-INT-3).
    assert "MOD-INT-2:c1d8" in ids(tl)
    assert ("MOD-INT-3:c1d8" in ids(tl)) is (hold_days >= 14)
    assert not any(x.rule == "CONV-SCHED-7" for x in tl.proposals)  # toxicity, not a non-toxicity miss
    tl = st_.decide(recovery, "MOD-INT-2:c1d8")
    d15 = tl.dose(1, 15)
    assert d15.state == s.DELAYED and f"{rule}:c1d15" in d15.note
    # Never given at the full level on the recovery day without the decision.
    with pytest.raises(ValueError, match=f"{rule}:c1d15"):
        s.check_give(tl, 1, 15, d(recovery), "0.5", "1.00")
    assert not any(x.rule == "CONV-SCHED-7" for x in st_.tl((d(recovery) + timedelta(days=3)).isoformat()).proposals)


def test_fourteen_days_confirmed_omits_the_day15_and_declined_lets_it_be_given():
    st_ = held_d8()
    st_.recover(1, 8, "2025-03-24")
    st_.decide("2025-03-24", "MOD-INT-2:c1d8")
    tl = st_.decide("2025-03-24", "MOD-INT-2:c1d15")
    assert tl.dose(1, 15).state == s.OMITTED and "MOD-INT-2" in tl.dose(1, 15).omit_reason

    st2 = held_d8()
    st2.recover(1, 8, "2025-03-24")
    st2.decide("2025-03-24", "MOD-INT-2:c1d8")
    tl = st2.decide("2025-03-24", "MOD-INT-2:c1d15", decision="declined")
    d15 = tl.dose(1, 15)
    assert d15.state == s.IN_WINDOW and d15.effective.start == d("2025-03-24")  # CONV-SCHED-6, a prescriber's choice
    s.check_give(tl, 1, 15, d("2025-03-24"), d15.level, "1.00")


def test_thirteen_days_confirmed_delay_is_given_from_recovery_with_spacing():
    st_ = held_d8()
    st_.recover(1, 8, "2025-03-23")
    st_.decide("2025-03-23", "MOD-INT-2:c1d8")
    tl = st_.decide("2025-03-23", "MOD-INT-1:c1d15")
    d15 = tl.dose(1, 15)
    assert d15.effective.start == d("2025-03-23")
    s.check_give(tl, 1, 15, d("2025-03-23"), d15.level, "1.00")


def test_a_short_hold_that_ends_before_the_day15_window_leaves_it_alone():
    """Held 03-10, recovered 03-13: Day 15's window (03-15) opens after the hold: ordinary rules."""
    st_ = held_d8()
    tl = st_.recover(1, 8, "2025-03-13")
    assert not any(p.id.endswith(":c1d15") for p in tl.proposals)
    assert tl.dose(1, 15).state != s.BLOCKED


def test_the_next_day1_inside_the_hold_is_blocked_then_delayed_never_omitted():
    st_ = Stream()
    st_.plan("not_planned")
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    st_.give(1, 8, "2025-03-10")
    st_.hold(1, 15, "2025-03-17")
    tl = st_.tl("2025-03-24")  # C2 D1 planned 03-24, the hold still open
    assert tl.dose(2, 1).state == s.BLOCKED
    tl = st_.recover(1, 15, "2025-03-26")  # 9 days for D15 → omit it (MOD-INT-2)
    assert "MOD-INT-2:c1d15" in ids(tl) and tl.dose(2, 1).state != s.DUE_TODAY
    # Once D15 is decided, C2 D1 (2 days inside the hold) is delayed, never omitted (MOD-INT-1).
    tl = st_.decide("2025-03-26", "MOD-INT-2:c1d15")
    assert "MOD-INT-1:c2d1" in ids(tl) and not any(p.id == "MOD-INT-2:c2d1" for p in tl.proposals)
    assert tl.dose(2, 1).effective.start == d("2025-03-26") and tl.dose(2, 1).effective.end is None
    with pytest.raises(ValueError, match="MOD-INT-1:c2d1"):
        s.check_give(tl, 2, 1, d("2025-03-26"), tl.dose(2, 1).level, "1.00")

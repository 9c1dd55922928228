"""core/schedule.py against §2–§4, §6, §16 and the worked examples of §18.2–§18.3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import rules
from bedside.core import schedule as s
from bedside.core.events import Event

STREAM = "patient:p1"
AT = datetime(2025, 1, 1, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


class Stream:
    """A patient stream built from checked actions; events get increasing seq/version, dummy hashes."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: str, data: dict[str, Any], actor: str = "dr.house") -> Event:
        n = len(self.events) + 1
        ev = Event(n, STREAM, n, kind, actor, AT, data, "0" * 64, f"{n:064x}")
        self.events.append(ev)
        return ev

    def tl(self, today: str | date) -> s.Timeline:
        return s.timeline(self.events, today if isinstance(today, date) else d(today))

    def do(self, today: str, kind: str, check: Callable[..., dict[str, Any]], *args: Any, **kw: Any) -> s.Timeline:
        self.add(kind, check(self.tl(today), *args, **kw))
        return self.tl(today)

    # shortcuts
    def start(self, day1: str) -> s.Timeline:
        return self.do(day1, s.CYCLE_STARTED, s.check_start, d(day1))

    def give(self, cycle: int, day: int, on: str, today: str | None = None) -> s.Timeline:
        tl = self.tl(today or on)
        dose = tl.dose(cycle, day)
        assert dose is not None and dose.level is not None, (cycle, day, dose)
        self.add(s.DOSE_GIVEN, s.check_give(tl, cycle, day, d(on), dose.level, "1.00"))
        return self.tl(today or on)

    def hold(self, cycle: int, day: int, today: str, toxicity: str = "non_hematologic") -> s.Timeline:
        return self.do(today, s.DOSE_HELD, s.check_hold, cycle, day, "Grade 2 toxicity", toxicity)

    def recover(self, cycle: int, day: int, on: str) -> s.Timeline:
        return self.do(on, s.DOSE_RECOVERED, s.check_recover, cycle, day, d(on))

    def decide(self, today: str, pid: str, decision: str = "confirmed", role: str = "prescriber", **kw: Any) -> s.Timeline:
        return self.do(today, s.PROPOSAL_DECIDED, s.check_decide, pid, decision, "clinical judgement", role, **kw)

    def respond(self, cycle: int, response: str, on: str, mrd: str = "unknown") -> s.Timeline:
        return self.do(on, s.RESPONSE_RECORDED, s.check_response, cycle, response, mrd, d(on))

    def plan(self, plan: str) -> Event:
        return self.add(s.INTAKE_HSCT, {"plan": plan})

    def run_cycle(self, cycle: int) -> s.Timeline:
        """Give Day 1, 8 and 15 of ``cycle`` on their planned dates."""
        for day in rules.DAYS:
            dose = self.tl(AT.date()).dose(cycle, day)
            assert dose is not None
            tl = self.tl(dose.planned)
            dose = tl.dose(cycle, day)
            assert dose is not None and dose.effective is not None, dose
            self.add(s.DOSE_GIVEN, s.check_give(tl, cycle, day, dose.effective.start, dose.level, "1.00"))
        return self.tl(dose.planned)


def window(dose: s.Dose | None) -> tuple[str, str | None] | None:
    assert dose is not None
    if dose.effective is None:
        return None
    return dose.effective.start.isoformat(), dose.effective.end.isoformat() if dose.effective.end else None


def ids(tl: s.Timeline) -> set[str]:
    return {p.id for p in tl.proposals}


# --- §18.2 Schedule and cycle count ----------------------------------------------------------------


def test_s1_windows_and_next_day1() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    tl = st_.give(1, 1, "2025-03-03")
    d8, d15 = tl.dose(1, 8), tl.dose(1, 15)
    assert d8 is not None and d15 is not None
    assert (d8.nominal, d15.nominal) == (d("2025-03-10"), d("2025-03-17"))
    assert (d8.window.start, d8.window.end) == (d("2025-03-08"), d("2025-03-12"))  # nominal ± 2
    assert window(d8) == ("2025-03-09", "2025-03-12")  # 03-08 removed by the 6-day rule
    assert (d15.window.start, d15.window.end) == (d("2025-03-15"), d("2025-03-19"))
    with pytest.raises(ValueError, match=r"SCHED-3.*earliest 2025-03-09"):
        s.check_give(st_.tl("2025-03-08"), 1, 8, d("2025-03-08"), "0.5", "0.91")
    tl = st_.give(1, 8, "2025-03-10")
    assert window(tl.dose(1, 15)) == ("2025-03-16", "2025-03-19")  # Sun 03-16 (Day 14) to Wed 03-19
    tl = st_.give(1, 15, "2025-03-17")
    c2 = tl.dose(2, 1)
    assert c2 is not None and c2.planned == d("2025-03-24") and window(c2) == ("2025-03-24", "2025-03-24")
    c1 = tl.cycle(1)
    assert c1 is not None and c1.end == d("2025-03-23") and c1.length_days == 21
    assert tl.current_cycle == 1 and tl.current_day == 15
    assert s.timeline(st_.events, d("2025-03-23")).current_day == 21


def test_s1_levels_and_states() -> None:
    st_ = Stream()
    tl = st_.start("2025-03-03")
    assert tl.dose(1, 1).state == s.DUE_TODAY  # type: ignore[union-attr]
    assert [tl.dose(1, x).level for x in rules.DAYS] == [D("0.8"), D("0.5"), D("0.5")]  # type: ignore[union-attr]
    st_.give(1, 1, "2025-03-03")
    assert st_.tl("2025-03-05").dose(1, 8).state == s.PLANNED  # type: ignore[union-attr]
    assert st_.tl("2025-03-09").dose(1, 8).state == s.IN_WINDOW  # type: ignore[union-attr]
    assert st_.tl("2025-03-10").dose(1, 8).state == s.DUE_TODAY  # type: ignore[union-attr]
    assert st_.tl("2025-03-13").dose(1, 8).state == s.OVERDUE  # type: ignore[union-attr]
    tl = st_.tl("2025-03-10")
    assert tl.next_dose is not None and tl.next_dose.label == "C1 D8"
    with pytest.raises(ValueError, match=r"above the allowed 0.5"):
        s.check_give(tl, 1, 8, d("2025-03-10"), "0.8", "1.45")
    with pytest.raises(ValueError, match=r"earlier doses"):
        s.check_give(tl, 1, 15, d("2025-03-10"), "0.5", "1")


def test_s1_move_inside_the_effective_window_only() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    tl = st_.give(1, 1, "2025-03-03", today="2025-03-04")
    with pytest.raises(ValueError, match=r"nearest allowed date 2025-03-12"):
        s.check_move(tl, 1, 8, d("2025-03-13"), "clinic closed")
    with pytest.raises(ValueError, match=r"SCHED-3.*nearest allowed date 2025-03-09"):
        s.check_move(tl, 1, 8, d("2025-03-08"), "clinic closed")
    data = s.check_move(tl, 1, 8, d("2025-03-11"), "clinic closed")
    st_.add(s.DOSE_MOVED, data)
    tl = st_.tl("2025-03-11")
    assert tl.dose(1, 8).planned == d("2025-03-11") and tl.dose(1, 8).state == s.DUE_TODAY  # type: ignore[union-attr]
    assert tl.dose(1, 15).nominal == d("2025-03-17")  # later nominal dates never move
    with pytest.raises(ValueError, match=r"CONV-SCHED-1.*nearest allowed date 2025-03-24"):
        s.check_move(st_.tl("2025-03-04"), 2, 1, d("2025-03-20"), "x")
    with pytest.raises(ValueError, match=r"extend cycle 1 instead.*length 24"):
        s.check_move(st_.tl("2025-03-04"), 2, 1, d("2025-03-27"), "x")


def test_s3_late_day8_limits_day15() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    tl = st_.give(1, 8, "2025-03-12")  # Day 10
    assert window(tl.dose(1, 15)) == ("2025-03-18", "2025-03-19")
    with pytest.raises(ValueError, match=r"SCHED-3.*earliest 2025-03-18"):
        s.check_give(st_.tl("2025-03-17"), 1, 15, d("2025-03-17"), "0.5", "1")


def test_s5_next_day1_needs_six_days_and_extension() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    st_.give(1, 8, "2025-03-12")
    tl = st_.give(1, 15, "2025-03-19")
    c2 = tl.dose(2, 1)
    assert c2 is not None and c2.state == s.DELAYED and c2.effective is None and c2.earliest == d("2025-03-25")
    p = tl.proposal("CONV-SCHED-3:c2d1:2025-03-25")
    assert p is not None and p.date == d("2025-03-25") and "2025-03-31" in p.text and p.needs_role == "prescriber"
    with pytest.raises(ValueError, match=r"earliest 2025-03-25"):
        s.check_give(st_.tl("2025-03-24"), 2, 1, d("2025-03-24"), "0.8", "1")
    with pytest.raises(ValueError, match=r"record the extension"):
        s.check_decide(tl, p.id, "confirmed", "ok", "prescriber")
    with pytest.raises(ValueError, match=r"SCHED-4"):
        s.check_extend(tl, 21, "other", "spacing")
    with pytest.raises(ValueError, match=r"29"):
        s.check_extend(tl, 29, "other", "spacing")
    with pytest.raises(ValueError, match=r"records why"):
        s.check_extend(tl, 22, "other", "")
    tl = st_.do("2025-03-20", s.CYCLE_EXTENDED, s.check_extend, 22, "other", "6-day spacing (CONV-SCHED-3)")
    c1 = tl.cycle(1)
    assert c1 is not None and c1.extended_length == 22 and c1.end == d("2025-03-24")
    assert window(tl.dose(2, 1)) == ("2025-03-25", "2025-03-25") and ids(tl) == {"CONV-RESP-4:c2"}
    tl = st_.do("2025-03-20", s.CYCLE_EXTENDED, s.check_extend, 28, "toxicity_recovery")
    assert window(tl.dose(2, 1)) == ("2025-03-31", "2025-03-31")


def test_s7_year_end() -> None:
    st_ = Stream()
    st_.start("2025-12-22")
    tl = st_.give(1, 1, "2025-12-22")
    assert [tl.dose(1, x).nominal for x in (8, 15)] == [d("2025-12-29"), d("2026-01-05")]  # type: ignore[union-attr]
    assert tl.dose(2, 1).nominal == d("2026-01-12")  # type: ignore[union-attr]
    st_.respond(1, "cr", "2025-12-30")
    tl = st_.do("2025-12-30", s.CYCLE_EXTENDED, s.check_extend, 28, "cr_cri")
    assert tl.dose(2, 1).nominal == d("2026-01-19")  # type: ignore[union-attr]
    assert tl.cycle(1).end == d("2026-01-18")  # type: ignore[union-attr]


def _two_cycles(plan: str | None) -> Stream:
    st_ = Stream()
    if plan:
        st_.plan(plan)
    st_.start("2025-03-03")
    st_.run_cycle(1)
    st_.respond(1, "cr", "2025-03-21", "positive")
    st_.run_cycle(2)
    return st_


@pytest.mark.parametrize(
    ("mrd", "third"),
    [("positive", True), ("unknown", True), ("negative", False)],
)
def test_s9_hsct_third_cycle_is_a_proposal(mrd: str, third: bool) -> None:
    st_ = _two_cycles("planned")
    tl = st_.respond(2, "cr", "2025-04-18", mrd)
    assert tl.cycles_given == 2 and tl.cycles_allowed == 2 and tl.cycles_remaining == 0
    assert tl.cycle(3) is None and tl.next_dose is None  # never automatic
    assert ("CYC-1:c3" in ids(tl)) is third
    if not third:
        assert "CYC-1" in tl.status
        return
    if mrd == "unknown":
        assert "MRD first" in tl.proposal("CYC-1:c3").text  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"needs a prescriber"):
        s.check_decide(tl, "CYC-1:c3", "confirmed", "ok", "pharmacist")
    tl = st_.decide("2025-04-18", "CYC-1:c3")
    assert tl.cycles_allowed == 3 and tl.cycle(3) is not None
    tl = st_.run_cycle(3)
    assert tl.cycles_given == 3 and tl.cycles_remaining == 0 and tl.cycle(4) is None  # no 4th cycle
    with pytest.raises(ValueError, match=r"Cycle 4 is not allowed.*CYC-1"):
        s.check_give(tl, 4, 1, tl.today, "0.5", "1")


def test_s11_non_hsct_cri_six_cycles_at_half() -> None:
    st_ = _two_cycles("not_planned")
    tl = st_.respond(2, "cri", "2025-04-18", "negative")
    assert tl.cycles_allowed == rules.NON_HSCT_MAX_CYCLES
    for n in range(3, 7):
        tl = st_.tl(AT.date())
        assert [tl.dose(n, x).level for x in rules.DAYS] == [D("0.5")] * 3  # type: ignore[union-attr]
        tl = st_.run_cycle(n)
    assert tl.cycles_given == 6 and tl.cycles_remaining == 0 and tl.cycle(7) is None
    assert "CYC-2" in tl.status
    with pytest.raises(ValueError, match=r"Cycle 7 is not allowed.*CYC-2"):
        s.check_give(tl, 7, 1, tl.today, "0.5", "1")


def test_cyc3_no_response_within_three_cycles() -> None:
    st_ = Stream()
    st_.plan("not_planned")
    st_.start("2025-03-03")
    st_.run_cycle(1)
    st_.respond(1, "neither", "2025-03-21")
    st_.run_cycle(2)
    st_.respond(2, "neither", "2025-04-18")
    tl = st_.run_cycle(3)
    assert tl.cycles_allowed == 3 and tl.cycle(4) is None and "CYC-3" not in ids(tl)
    tl = st_.respond(3, "neither", "2025-05-16")
    assert "CYC-3" in ids(tl)
    tl = st_.decide("2025-05-16", "CYC-3", on_date=d("2025-05-16"))
    assert tl.discontinued and "CYC-3" in (tl.discontinued_reason or "") and tl.next_dose is None


def test_conv_cyc1_undecided_plan_asks_after_cycle2() -> None:
    st_ = _two_cycles(None)
    tl = st_.respond(2, "neither", "2025-04-18")
    assert tl.hsct_plan == "undecided" and tl.cycles_allowed == 2 and "CONV-CYC-1:c3" in ids(tl)
    with pytest.raises(ValueError, match=r"HSCT decision"):
        s.check_decide(tl, "CONV-CYC-1:c3", "confirmed", "ok", "prescriber")
    v = st_.plan("planned").version
    tl = st_.tl("2025-04-18")
    assert tl.hsct_plan == "planned" and "CYC-1:c3" in ids(tl) and tl.cycles_allowed == 2
    st_.add(s.INTAKE_CORRECTED, {"corrects": v, "section": "hsct", "reason": "typo", "data": {"plan": "not_planned"}})
    tl = st_.tl("2025-04-18")
    assert tl.hsct_plan == "not_planned" and tl.cycles_allowed == 6  # CR after cycle 1: CYC-3 does not bind
    assert [x.rule for x in tl.limits] == ["CYC-2"] and tl.cycle(3) is not None


def test_hsct_plan_latest_wins_and_corrections_of_older_entries() -> None:
    st_ = Stream()
    first = st_.plan("planned").version
    st_.plan("not_planned")
    st_.add(s.INTAKE_CORRECTED, {"corrects": first, "section": "hsct", "reason": "x", "data": {"plan": "undecided"}})
    st_.start("2025-03-03")
    assert st_.tl("2025-03-03").hsct_plan == "not_planned"


# --- §18.3 Dose modification -------------------------------------------------------------------------


def test_m1_short_interruption_then_spacing() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    tl = st_.hold(1, 8, "2025-03-10")
    assert tl.dose(1, 8).state == s.HELD  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"held"):
        s.check_give(tl, 1, 8, d("2025-03-10"), "0.5", "1")
    tl = st_.recover(1, 8, "2025-03-14")
    assert tl.dose(1, 8).interruption_days == 4 and "MOD-INT-1:c1d8" in ids(tl)  # type: ignore[union-attr]
    p = tl.proposal("MOD-INT-1:c1d8")
    assert p is not None and p.unverified
    with pytest.raises(ValueError, match=r"MOD-INT-1:c1d8"):
        s.check_give(tl, 1, 8, d("2025-03-14"), "0.5", "1")
    st_.add(s.PROPOSAL_DECIDED, s.check_decide(tl, p.id, "confirmed", "as proposed", "prescriber"))
    assert st_.events[-1].data["unverified_rule"] == "MOD-INT-1"
    tl = st_.give(1, 8, "2025-03-14")  # Day 12, outside the ±2 window (CONV-SCHED-6)
    d15 = tl.dose(1, 15)
    assert d15 is not None and d15.effective is None and d15.earliest == d("2025-03-20")
    pid = "SCHED-7:c1d15:2025-03-20"
    assert pid in ids(tl)
    with pytest.raises(ValueError, match=r"SCHED-3.*earliest 2025-03-20"):
        s.check_give(st_.tl("2025-03-19"), 1, 15, d("2025-03-19"), "0.5", "1")
    with pytest.raises(ValueError, match=r"SCHED-7.*2025-03-20"):
        s.check_give(st_.tl("2025-03-21"), 1, 15, d("2025-03-21"), "0.5", "1")
    with pytest.raises(ValueError, match=r"nearest allowed date 2025-03-20"):
        s.check_decide(tl, pid, "confirmed", "ok", "prescriber", on_date=d("2025-03-19"))
    tl = st_.decide("2025-03-14", pid)
    assert window(tl.dose(1, 15)) == ("2025-03-20", "2025-03-20")
    tl = st_.give(1, 15, "2025-03-20")
    assert "CONV-SCHED-3:c2d1:2025-03-26" in ids(tl)
    with pytest.raises(ValueError, match=r"nearest allowed: 23 days \(C2 D1 2025-03-26\)"):
        s.check_extend(tl, 22, "toxicity_recovery")
    tl = st_.do("2025-03-20", s.CYCLE_EXTENDED, s.check_extend, 23, "toxicity_recovery")
    assert window(tl.dose(2, 1)) == ("2025-03-26", "2025-03-26") and not ids(tl) - {"CONV-RESP-4:c2"}
    tl = st_.do("2025-03-20", s.CYCLE_EXTENDED, s.check_extend, 28, "toxicity_recovery")
    assert window(tl.dose(2, 1)) == ("2025-03-31", "2025-03-31")


def test_m3_ten_day_interruption_omits_day15() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    st_.give(1, 8, "2025-03-10")
    st_.hold(1, 15, "2025-03-17")
    tl = st_.recover(1, 15, "2025-03-27")
    assert tl.dose(1, 15).interruption_days == 10  # type: ignore[union-attr]
    assert {p.rule for p in tl.proposals} == {"MOD-INT-2"}  # no 25% cut below 14 days
    tl = st_.decide("2025-03-27", "MOD-INT-2:c1d15")
    assert tl.dose(1, 15).state == s.OMITTED  # type: ignore[union-attr]
    tl = st_.do("2025-03-27", s.CYCLE_EXTENDED, s.check_extend, 28, "toxicity_recovery")
    assert tl.dose(2, 1).planned == d("2025-03-31") and tl.reduced_from_cycle is None  # type: ignore[union-attr]
    tl = st_.respond(1, "neither", "2025-03-28")
    c2d1 = tl.dose(2, 1)
    assert c2d1 is not None and c2d1.level == D("0.8") and not c2d1.reduced  # full level for the response
    st_.give(2, 1, "2025-03-31")


def test_day1_never_omitted_and_day8_never_held_for_counts() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    tl = st_.give(1, 1, "2025-03-03")
    with pytest.raises(ValueError, match=r"never omitted"):
        s.check_omit(tl, 2, 1, "x")
    with pytest.raises(ValueError, match=r"MOD-GEN-1"):
        s.check_hold(tl, 1, 8, "ANC 0.4", "hematologic")
    with pytest.raises(ValueError, match=r"MOD-GEN-1"):
        s.check_hold(tl, 1, 15, "platelets 20", "hematologic")


def _m5_reduced_c2(resp: str) -> Stream:
    """C1 D15 held 14 days → omit + 25% cut of cycle 2 (both confirmed)."""
    st_ = Stream()
    st_.plan("not_planned")
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    st_.give(1, 8, "2025-03-10")
    st_.hold(1, 15, "2025-03-17")
    tl = st_.recover(1, 15, "2025-03-31")
    assert {"MOD-INT-2:c1d15", "MOD-INT-3:c1d15"} <= ids(tl)
    p = tl.proposal("MOD-INT-3:c1d15")
    assert p is not None and p.scope == s.SCOPE_CYCLE and p.cycle == 2 and p.unverified
    st_.decide("2025-03-31", "MOD-INT-2:c1d15")
    st_.decide("2025-03-31", "MOD-INT-3:c1d15")
    st_.respond(1, resp, "2025-03-31")
    return st_


def test_m5_cut_then_two_doses_then_discontinue() -> None:
    st_ = _m5_reduced_c2("neither")
    tl = st_.tl("2025-03-31")
    assert tl.reduced_from_cycle == 2 and "CONV-MOD-1:c2" in ids(tl)
    lv = s.levels_for(tl, 2)
    assert lv.reduced and lv.needs_confirmation and dict(lv.levels) == {1: D("0.6"), 8: D("0.375"), 15: D("0.375")}
    # C2 D1 was planned 03-24, inside C1 D15's hold (to 03-31): it is delayed to the recovery date
    # (issue 15: MOD-INT, CONV-MOD-4), where the reduced levels still wait for a prescriber.
    with pytest.raises(ValueError, match=r"outside 2025-03-31 or later"):
        s.check_give(st_.tl("2025-03-24"), 2, 1, d("2025-03-24"), "0.6", "1")
    with pytest.raises(ValueError, match=r"CONV-MOD-1:c2"):
        s.check_give(st_.tl("2025-03-31"), 2, 1, d("2025-03-31"), "0.6", "1")
    with pytest.raises(ValueError, match=r"above the allowed 0.6"):
        s.check_levels(tl, 2, {1: "0.8", 8: "0.375", 15: "0.375"}, "x")
    data = s.check_levels(tl, 2, {1: "0.6", 8: "0.375", 15: "0.375"}, "CONV-MOD-1 default")
    assert data["unverified_rule"] == "MOD-INT-3" and data["custom"] is False
    st_.add(s.LEVELS_CONFIRMED, data)
    tl = st_.tl("2025-03-31")
    assert "CONV-MOD-1:c2" not in ids(tl)
    # planned C2 D1 (03-24) passed while D15 was held: the delay is recorded with its cause
    with pytest.raises(ValueError, match=r"extend cycle 1 instead.*length 28"):
        s.check_move(st_.tl("2025-03-31"), 2, 1, d("2025-03-31"), "delayed by the C1 D15 hold")
    st_.do("2025-03-31", s.CYCLE_EXTENDED, s.check_extend, 28, "toxicity_recovery")
    st_.give(2, 1, "2025-03-31")
    st_.give(2, 8, "2025-04-07")
    st_.hold(2, 15, "2025-04-14")
    tl = st_.recover(2, 15, "2025-04-28")
    assert "MOD-INT-4:c2d15" in ids(tl)
    st_.decide("2025-04-28", "MOD-INT-2:c2d15")
    tl = st_.decide("2025-04-28", "MOD-INT-4:c2d15")
    assert tl.two_doses_from_cycle == 3
    lv = s.levels_for(tl, 3)  # no CR/CRi: 0.6 + 0.375 (0.975)
    assert dict(lv.maximum) == {1: D("0.6"), 8: D("0.375"), 15: None} and lv.two_doses
    assert tl.dose(3, 15).state == s.NOT_APPLICABLE  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"2 doses per cycle"):
        s.check_levels(tl, 3, {1: "0.6", 8: "0.375", 15: "0.375"}, "x")
    st_.do("2025-04-28", s.LEVELS_CONFIRMED, s.check_levels, 3, {1: "0.6", 8: "0.375", 15: None}, "CONV-MOD-2 default")
    tl = st_.tl("2025-04-28")
    start3 = tl.dose(3, 1).planned  # type: ignore[union-attr]
    st_.give(3, 1, start3.isoformat())
    st_.hold(3, 8, (start3 + timedelta(days=7)).isoformat())
    tl = st_.recover(3, 8, (start3 + timedelta(days=21)).isoformat())
    assert "MOD-INT-5:c3d8" in ids(tl)
    tl = st_.decide(tl.today.isoformat(), "MOD-INT-5:c3d8")
    assert tl.discontinued and tl.next_dose is None and all(x.state != s.PLANNED for x in tl.doses())
    with pytest.raises(ValueError, match=r"discontinued"):
        s.check_give(tl, 3, 8, tl.today, "0.375", "1")


def test_m5_two_doses_in_cr_is_375_375() -> None:
    st_ = _m5_reduced_c2("cr")
    tl = st_.tl("2025-03-31")
    assert dict(s.levels_for(tl, 2).maximum) == {1: D("0.375"), 8: D("0.375"), 15: D("0.375")}
    st_.do("2025-03-31", s.LEVELS_CONFIRMED, s.check_levels, 2, {1: "0.375", 8: "0.375", 15: "0.375"}, "CONV-MOD-1")
    st_.do("2025-03-31", s.CYCLE_EXTENDED, s.check_extend, 28, "toxicity_recovery")
    st_.give(2, 1, "2025-03-31")
    st_.give(2, 8, "2025-04-07")
    st_.hold(2, 15, "2025-04-14")
    st_.recover(2, 15, "2025-04-28")
    st_.decide("2025-04-28", "MOD-INT-2:c2d15")
    tl = st_.decide("2025-04-28", "MOD-INT-4:c2d15")
    assert dict(s.levels_for(tl, 3).maximum) == {1: D("0.375"), 8: D("0.375"), 15: None}  # 0.75 total


def test_conv_mod3_never_raised_after_reduction() -> None:
    st_ = _m5_reduced_c2("cr")  # C2: 0.375 × 3
    st_.do("2025-03-31", s.LEVELS_CONFIRMED, s.check_levels, 2, {1: "0.375", 8: "0.375", 15: "0.375"}, "CONV-MOD-1")
    st_.do("2025-03-31", s.CYCLE_EXTENDED, s.check_extend, 28, "toxicity_recovery")
    st_.give(2, 1, "2025-03-31")
    st_.give(2, 8, "2025-04-07")
    st_.give(2, 15, "2025-04-14")
    tl = st_.respond(2, "neither", "2025-04-20")  # CR lost: reduced row would be 0.6 on Day 1
    lv = s.levels_for(tl, 3)
    assert lv.maximum[1] == D("0.375") and "CONV-MOD-3" in lv.basis and "CONV-MOD-3:c3" in ids(tl)
    with pytest.raises(ValueError, match=r"above the allowed 0.375"):
        s.check_levels(tl, 3, {1: "0.6", 8: "0.375", 15: "0.375"}, "x")
    data = s.check_levels(tl, 3, {1: "0.3", 8: "0.375", 15: "0.3"}, "custom split, pharmacist to verify")
    assert data["custom"] is True
    st_.add(s.LEVELS_CONFIRMED, data)
    tl = st_.tl("2025-04-20")
    pharm = [p for p in tl.proposals if p.rule == "CONV-MOD-5"]
    assert len(pharm) == 1 and pharm[0].needs_role == "pharmacist"
    with pytest.raises(ValueError, match=r"CONV-MOD-5"):
        s.check_give(st_.tl("2025-04-28"), 3, 1, d("2025-04-28"), "0.3", "1")
    st_.decide("2025-04-20", pharm[0].id, role="pharmacist")
    tl = st_.give(3, 1, "2025-04-28")
    assert tl.dose(3, 1).level == D("0.3")  # type: ignore[union-attr]


def test_m7_hematologic_day1_hold_and_28_days() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.run_cycle(1)
    st_.respond(1, "neither", "2025-03-21")
    tl = st_.hold(2, 1, "2025-03-24", toxicity="hematologic")
    assert tl.dose(2, 1).held_from == d("2025-03-24")  # type: ignore[union-attr]
    assert not {p.rule for p in st_.tl("2025-04-21").proposals} & {"MOD-HEM-4", "MOD-INT-6"}  # 28 days
    tl = st_.tl("2025-04-22")  # 29 days (CONV-SCHED-5, CONV-HEM-4)
    rules_now = {p.rule for p in tl.proposals}
    assert {"MOD-HEM-4", "MOD-INT-6"} <= rules_now
    assert all(p.unverified and p.scope == s.SCOPE_ALL for p in tl.proposals if p.rule in {"MOD-HEM-4", "MOD-INT-6"})
    tl = st_.decide("2025-04-22", "MOD-HEM-4:c2d1", on_date=d("2025-04-22"))
    assert tl.discontinued and tl.discontinued_on == d("2025-04-22")


def test_m7_recovery_delays_day1() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.run_cycle(1)
    st_.respond(1, "neither", "2025-03-21")
    st_.hold(2, 1, "2025-03-24", toxicity="hematologic")
    tl = st_.recover(2, 1, "2025-03-31")  # 7 days: no Table 4 row for a Day 1 (never omitted)
    assert not ids(tl)
    c2d1 = tl.dose(2, 1)
    assert c2d1 is not None and c2d1.state == s.DELAYED and window(c2d1) == ("2025-03-31", None)
    tl = st_.give(2, 1, "2025-04-01")
    assert tl.cycle(1).end == d("2025-03-31") and tl.dose(2, 8).nominal == d("2025-04-08")  # type: ignore[union-attr]


def test_mod_int_3_for_held_day1_reduces_the_cycle_it_starts() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.run_cycle(1)
    st_.respond(1, "neither", "2025-03-21")
    st_.hold(2, 1, "2025-03-24", toxicity="non_hematologic")
    tl = st_.recover(2, 1, "2025-04-08")  # 15 days
    p = tl.proposal("MOD-INT-3:c2d1")
    assert p is not None and p.cycle == 2 and "MOD-INT-2:c2d1" not in ids(tl)
    tl = st_.decide("2025-04-08", p.id)
    assert s.levels_for(tl, 2).maximum[1] == D("0.6")


def test_conv_resp4_not_assessed_has_no_level() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.run_cycle(1)
    tl = st_.respond(1, "not_assessed", "2025-03-21")
    c2 = tl.dose(2, 1)
    assert c2 is not None and c2.level is None and "CONV-RESP-4:c2" in ids(tl)
    with pytest.raises(ValueError, match=r"CONV-RESP-4"):
        s.check_give(st_.tl("2025-03-24"), 2, 1, d("2025-03-24"), "0.8", "1")
    with pytest.raises(ValueError, match=r"choose the Table 1 row"):
        s.check_levels(tl, 2, {1: "0.8", 8: "0.5", 15: "0.5"}, "x")
    with pytest.raises(ValueError, match=r"Table 1 0.5"):
        s.check_levels(tl, 2, {1: "0.8", 8: "0.5", 15: "0.5"}, "x", row="cr_cri")
    st_.do(
        "2025-03-21", s.LEVELS_CONFIRMED, s.check_levels, 2, {1: "0.8", 8: "0.5", 15: "0.5"}, "clinically no CR", row="no_cr_cri"
    )
    tl = st_.tl("2025-03-24")
    assert tl.dose(2, 1).level == D("0.8") and "CONV-RESP-4:c2" not in ids(tl)  # type: ignore[union-attr]
    st_.give(2, 1, "2025-03-24")


def test_conv_sched7_missed_window_asks_the_prescriber() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    tl = st_.tl("2025-03-13")
    pid = "CONV-SCHED-7:c1d8:2025-03-12"
    assert tl.dose(1, 8).state == s.OVERDUE and pid in ids(tl)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"nearest allowed date 2025-03-12"):
        s.check_give(tl, 1, 8, d("2025-03-13"), "0.5", "1")
    st_.give(1, 8, "2025-03-12", today="2025-03-13")  # given on time, recorded a day late: allowed
    st_2 = Stream()
    st_2.start("2025-03-03")
    st_2.give(1, 1, "2025-03-03")
    tl = st_2.decide("2025-03-13", pid, on_date=d("2025-03-14"))
    assert window(tl.dose(1, 8)) == ("2025-03-14", "2025-03-14")
    tl = st_2.give(1, 8, "2025-03-14")
    assert tl.dose(1, 15).effective is None and "SCHED-7:c1d15:2025-03-20" in ids(tl)  # type: ignore[union-attr]
    st_3 = Stream()
    st_3.start("2025-03-03")
    st_3.give(1, 1, "2025-03-03")
    tl = st_3.do("2025-03-13", s.DOSE_OMITTED, s.check_omit, 1, 8, "patient absent (CONV-SCHED-7)")
    assert tl.dose(1, 8).state == s.OMITTED and window(tl.dose(1, 15)) == ("2025-03-15", "2025-03-19")  # type: ignore[union-attr]


def test_discontinuation_blocks_everything() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    tl = st_.do("2025-03-05", s.TREATMENT_DISCONTINUED, s.check_discontinue, "vod", "VOD (MOD-NH-1)", d("2025-03-05"))
    assert tl.discontinued and tl.discontinued_on == d("2025-03-05") and tl.cycles_remaining == 0
    assert tl.dose(1, 8).state == s.NOT_APPLICABLE and tl.cycle(2) is None and not tl.proposals  # type: ignore[union-attr]
    for check, args in (
        (s.check_give, (1, 8, d("2025-03-10"), "0.5", "1")),
        (s.check_move, (1, 8, d("2025-03-10"), "x")),
        (s.check_extend, (28, "toxicity_recovery")),
        (s.check_hold, (1, 8, "x", "other")),
    ):
        with pytest.raises(ValueError, match=r"discontinued"):
            check(tl, *args)
    with pytest.raises(ValueError, match=r"already discontinued"):
        s.check_discontinue(tl, "other", "again", d("2025-03-05"))


def test_not_started_and_restart_before_first_dose() -> None:
    tl = s.timeline([], d("2025-03-01"))
    assert not tl.started and tl.cycles == () and tl.next_dose is None and "Not started" in tl.status
    with pytest.raises(ValueError, match=r"not started"):
        s.check_give(tl, 1, 1, d("2025-03-01"), "0.8", "1")
    st_ = Stream()
    st_.start("2025-03-03")
    tl = st_.start("2025-03-05")
    assert tl.dose(1, 1).planned == d("2025-03-05")  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"outside 2025-03-05.*CONV-SCHED-1.*nearest allowed date 2025-03-05"):
        s.check_give(st_.tl("2025-03-06"), 1, 1, d("2025-03-04"), "0.8", "1")
    st_.give(1, 1, "2025-03-05")
    with pytest.raises(ValueError, match=r"has started"):
        s.check_start(st_.tl("2025-03-05"), d("2025-03-07"))


def test_decided_proposals_are_not_shown_again_and_ids_are_deterministic() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    st_.hold(1, 8, "2025-03-10")
    tl = st_.recover(1, 8, "2025-03-12")
    assert ids(tl) == ids(s.timeline(st_.events, d("2025-03-12"))) == {"MOD-INT-1:c1d8"}
    tl = st_.decide("2025-03-12", "MOD-INT-1:c1d8", decision="declined")
    assert "MOD-INT-1:c1d8" not in ids(tl)
    with pytest.raises(ValueError, match=r"No open proposal"):
        s.check_decide(tl, "MOD-INT-1:c1d8", "confirmed", "x", "prescriber")


# --- Month ends and leap years ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "d8", "d15", "c2", "c2_28", "w8"),
    [
        ("2028-02-15", "2028-02-22", "2028-02-29", "2028-03-07", "2028-03-14", ("2028-02-21", "2028-02-24")),
        ("2028-02-22", "2028-02-29", "2028-03-07", "2028-03-14", "2028-03-21", ("2028-02-28", "2028-03-02")),
        ("2025-01-31", "2025-02-07", "2025-02-14", "2025-02-21", "2025-02-28", ("2025-02-06", "2025-02-09")),
        ("2025-04-24", "2025-05-01", "2025-05-08", "2025-05-15", "2025-05-22", ("2025-04-30", "2025-05-03")),
        ("2026-02-10", "2026-02-17", "2026-02-24", "2026-03-03", "2026-03-10", ("2026-02-16", "2026-02-19")),
    ],
)
def test_dates_across_month_ends_and_leap_years(start: str, d8: str, d15: str, c2: str, c2_28: str, w8: tuple[str, str]) -> None:
    st_ = Stream()
    st_.start(start)
    tl = st_.give(1, 1, start)
    assert tl.dose(1, 8).nominal == d(d8) and tl.dose(1, 15).nominal == d(d15)  # type: ignore[union-attr]
    assert window(tl.dose(1, 8)) == w8 and tl.dose(2, 1).nominal == d(c2)  # type: ignore[union-attr]
    tl = st_.do(start, s.CYCLE_EXTENDED, s.check_extend, 28, "toxicity_recovery")
    assert tl.dose(2, 1).nominal == d(c2_28)  # type: ignore[union-attr]


# --- Properties over random sequences of valid actions ------------------------------------------------

ROW = {"cycle1": rules.LEVELS_CYCLE1, "cr_cri": rules.LEVELS_CR_CRI, "no_cr_cri": rules.LEVELS_NO_CR}


def audit(events: list[Event]) -> None:
    """Check the safety properties on the raw events, independently of the engine."""
    given: dict[tuple[int, int], tuple[date, D]] = {}
    responses: list[tuple[int, str, date, int]] = []
    decisions: dict[str, str] = {}
    plan = "undecided"
    plans: dict[int, str] = {}
    stopped = False
    voided = {e.data["voids"] for e in events if e.kind == s.SCHEDULE_VOIDED}  # entered in error: never counts
    for ev in events:
        if ev.version in voided:
            continue
        k, data = ev.kind, ev.data
        if k == s.INTAKE_HSCT:
            plans[ev.version] = data["plan"]
        elif k == s.INTAKE_CORRECTED and data["corrects"] in plans:
            plans[data["corrects"]] = data["data"]["plan"]
        plan = plans[max(plans)] if plans else "undecided"
        if k == s.RESPONSE_RECORDED:
            responses.append((data["cycle"], data["response"], d(data["assessed_on"]), ev.version))
        elif k == s.PROPOSAL_DECIDED:
            decisions[data["proposal_id"]] = data["decision"]
            if data["decision"] == "confirmed" and data["rule"] in s.DISCONTINUE_RULES:
                stopped = True
        elif k == s.TREATMENT_DISCONTINUED:
            stopped = True
        elif k == s.DOSE_GIVEN:
            assert not stopped, "dose given after discontinuation"
            c, day, on, lv = data["cycle"], data["day"], d(data["date"]), D(data["level_mg_m2"])
            for (c2, d2), (on2, _lv) in given.items():
                assert abs((on - on2).days) >= rules.MIN_DAYS_BETWEEN_DOSES, (c, day, on, c2, d2, on2)
            # Table 1 for the cycle and its latest response (not assessed: the higher row)
            prior = [r for r in responses if r[0] < c]
            if c == 1:
                top = ROW["cycle1"][day]
            elif prior:
                latest = max(prior, key=lambda r: (r[2], r[3]))
                top = ROW["cr_cri" if latest[1] in s.IN_CR_CRI else "no_cr_cri"][day]
                if latest[1] == "not_assessed":
                    top = max(ROW["cr_cri"][day], ROW["no_cr_cri"][day])
            else:
                top = max(ROW["cr_cri"][day], ROW["no_cr_cri"][day])
            assert lv <= top, (c, day, lv, top)
            # never raised after a reduction
            cuts = [
                int(pid.split(":c")[1].split("d")[0]) + (0 if pid.endswith("d1") else 1)
                for pid, dec in decisions.items()
                if pid.startswith("MOD-INT-3:") and dec == "confirmed"
            ]
            if cuts and c >= min(cuts):
                assert lv <= rules.REDUCED_LEVEL[top] if top in rules.REDUCED_LEVEL else True
                earlier = [g[1] for (c2, d2), g in given.items() if d2 == day and c2 >= min(cuts)]
                if earlier:
                    assert lv <= earlier[-1], ("raised after reduction", c, day, lv, earlier)
            # cycle limits
            if day == 1:
                assert c <= rules.NON_HSCT_MAX_CYCLES
                if not any(r[1] in s.IN_CR_CRI and r[0] <= rules.NO_RESPONSE_STOP_CYCLES for r in responses):
                    assert c <= rules.NO_RESPONSE_STOP_CYCLES
                if plan == "planned":
                    assert c <= rules.HSCT_CYCLES or (c == 3 and decisions.get("CYC-1:c3") == "confirmed")
                elif plan == "undecided":
                    assert c <= rules.HSCT_DECISION_AFTER_CYCLES
            given[(c, day)] = (on, lv)


def _try(st_: Stream, kind: str, fn: Callable[[], dict[str, Any]]) -> bool:
    try:
        data = fn()
    except ValueError:
        return False
    st_.add(kind, data)
    audit(st_.events)
    return True


@given(st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_random_valid_action_sequences_keep_the_safety_rules(data: st.DataObject) -> None:
    st_ = Stream()
    today = data.draw(st.dates(date(2024, 1, 1), date(2029, 12, 31)), label="start")
    if data.draw(st.booleans(), label="plan first"):
        st_.plan(data.draw(st.sampled_from(s.HSCT_PLANS)))
    st_.add(s.CYCLE_STARTED, s.check_start(st_.tl(today), today))
    actions = ["next"] * 10 + [
        "advance",
        "wild",
        "hold",
        "recover",
        "omit",
        "extend",
        "respond",
        "respond",
        "decide",
        "decide",
        "decide",
        "levels",
        "levels",
        "plan",
        "move",
        "stop",
        "void",
        "void",
    ]
    for _ in range(data.draw(st.integers(10, 160), label="steps")):
        tl = st_.tl(today)
        act = data.draw(st.sampled_from(actions))
        nd = tl.next_dose
        if act == "advance":
            today += timedelta(days=data.draw(st.integers(0, 9)))
        elif act == "next" and nd is not None:
            if nd.effective is not None and nd.effective.start > today:
                today = nd.effective.start
            on = today - timedelta(days=data.draw(st.integers(0, 2)))
            if nd.effective is not None and data.draw(st.integers(0, 4)):  # mostly a date inside the window
                last = min(today, nd.effective.end or today)
                if last >= nd.effective.start:
                    on = nd.effective.start + timedelta(days=data.draw(st.integers(0, (last - nd.effective.start).days)))
            level = nd.level if data.draw(st.integers(0, 5)) else data.draw(st.sampled_from(sorted(rules.ALLOWED_LEVELS)))
            _try(st_, s.DOSE_GIVEN, lambda: s.check_give(st_.tl(today), nd.cycle, nd.day, on, level or D("0.8"), "1.00"))
        elif act == "wild":  # arbitrary attempts: must be refused unless valid
            c = data.draw(st.integers(1, 8))
            day = data.draw(st.sampled_from(rules.DAYS))
            on = today - timedelta(days=data.draw(st.integers(0, 30)))
            level = data.draw(st.sampled_from(sorted(rules.ALLOWED_LEVELS)))
            _try(st_, s.DOSE_GIVEN, lambda: s.check_give(tl, c, day, on, level, "1.00"))
        elif act == "hold" and nd is not None and data.draw(st.booleans()):
            tox = data.draw(st.sampled_from(s.TOXICITIES))
            _try(st_, s.DOSE_HELD, lambda: s.check_hold(tl, nd.cycle, nd.day, "toxicity", tox))
        elif act == "recover" and nd is not None:
            today += timedelta(
                days=data.draw(st.integers(0, 35)) if data.draw(st.integers(0, 4)) == 0 else data.draw(st.integers(0, 16))
            )
            _try(st_, s.DOSE_RECOVERED, lambda: s.check_recover(st_.tl(today), nd.cycle, nd.day, today))
        elif act == "omit" and nd is not None:
            _try(st_, s.DOSE_OMITTED, lambda: s.check_omit(tl, nd.cycle, nd.day, "prescriber"))
        elif act == "extend" and data.draw(st.booleans()):
            length = data.draw(st.integers(20, 30))
            reason = data.draw(st.sampled_from(s.EXTENSION_REASONS))
            _try(st_, s.CYCLE_EXTENDED, lambda: s.check_extend(tl, length, reason, "note"))
        elif act == "respond" and tl.current_cycle:
            resp = data.draw(st.sampled_from(s.RESPONSES))
            mrd = data.draw(st.sampled_from(s.MRD_VALUES))
            c = tl.current_cycle
            _try(st_, s.RESPONSE_RECORDED, lambda: s.check_response(tl, c, resp, mrd, today))
        elif act == "decide" and tl.proposals:
            p = data.draw(st.sampled_from(tl.proposals))
            dec = data.draw(st.sampled_from(s.DECISIONS))
            _try(st_, s.PROPOSAL_DECIDED, lambda: s.check_decide(tl, p.id, dec, "reason", p.needs_role))
        elif act == "levels" and tl.cycles:
            c = tl.cycles[-1].number
            lv = s.levels_for(tl, c)
            row = data.draw(st.sampled_from(s.ROWS))
            chosen = {x: lv.maximum[x] for x in rules.DAYS}
            if lv.reduced and data.draw(st.booleans()):
                chosen = {
                    x: (None if x != 1 and data.draw(st.booleans()) else data.draw(st.sampled_from(sorted(rules.ALLOWED_LEVELS))))
                    for x in rules.DAYS
                }
            if lv.row is None:
                chosen = dict(ROW[row])
            _try(
                st_, s.LEVELS_CONFIRMED, lambda: s.check_levels(tl, c, chosen, "prescriber", row=row if lv.row is None else None)
            )
        elif act == "plan" and data.draw(st.integers(0, 2)) == 0:
            st_.plan(data.draw(st.sampled_from(s.HSCT_PLANS)))
        elif act == "move" and nd is not None:
            on = today + timedelta(days=data.draw(st.integers(0, 40)))
            _try(st_, s.DOSE_MOVED, lambda: s.check_move(tl, nd.cycle, nd.day, on, "reason"))
        elif act == "stop" and data.draw(st.integers(0, 9)) == 0:
            _try(st_, s.TREATMENT_DISCONTINUED, lambda: s.check_discontinue(tl, "patient_choice", "", today))
        elif act == "void":
            # Entered in error: the timeline is exactly what it was without that entry.
            latest = s.latest_entry(st_.events)
            if latest is not None and latest.kind in s.VOIDABLE_KINDS:
                before = s.timeline([e for e in st_.events if e is not latest], today)
                st_.add(s.SCHEDULE_VOIDED, s.check_void(st_.events, latest.actor, "nurse", "entered in error"))
                assert st_.tl(today) == before
        # the engine's own view agrees with the rules
        tl = st_.tl(today)
        assert tl.cycles_remaining == max(0, tl.cycles_allowed - tl.cycles_given)
        if tl.next_dose is not None:
            assert tl.next_dose.cycle <= tl.cycles_allowed
        assert tl.cycles_allowed <= rules.NON_HSCT_MAX_CYCLES
        for x in tl.doses():
            if x.level is not None and x.state != s.GIVEN:
                table_top = max(ROW[r][x.day] for r in ROW)
                assert x.level <= table_top
        if tl.discontinued:
            assert tl.next_dose is None and tl.cycles_remaining == 0
    audit(st_.events)


@given(
    st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    st.integers(-3, 3),
)
def test_effective_windows_respect_spacing(start: date, d8_shift: int) -> None:
    """Every date in an effective window is ≥ 6 days after the last dose and within ± 2 of nominal."""
    st_ = Stream()
    st_.add(s.CYCLE_STARTED, s.check_start(st_.tl(start), start))
    st_.add(s.DOSE_GIVEN, s.check_give(st_.tl(start), 1, 1, start, "0.8", "1"))
    tl = st_.tl(start)
    d8 = tl.dose(1, 8)
    assert d8 is not None and d8.effective is not None
    on8 = d8.nominal + timedelta(days=d8_shift)
    if on8 in d8.effective:
        st_.add(s.DOSE_GIVEN, s.check_give(st_.tl(on8), 1, 8, on8, "0.5", "1"))
        d15 = st_.tl(on8).dose(1, 15)
        assert d15 is not None
        if d15.effective is not None:
            assert d15.effective.start >= on8 + timedelta(days=6)
            assert d15.effective.start >= d15.nominal - timedelta(days=2)
            assert d15.effective.end == d15.nominal + timedelta(days=2)
        else:
            assert on8 + timedelta(days=6) > d15.nominal + timedelta(days=2)
    else:
        with pytest.raises(ValueError, match=r"nearest allowed date|SCHED-3"):
            s.check_give(st_.tl(max(on8, start)), 1, 8, on8, "0.5", "1")


# --- Entries recorded in error -----------------------------------------------------------------------


def test_a_given_entered_in_error_is_skipped_and_kept() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    st_.give(1, 1, "2025-03-03")
    tl = st_.give(1, 8, "2025-03-10")
    assert tl.dose(1, 8).state == s.GIVEN  # type: ignore[union-attr]
    data = s.check_void(st_.events, "dr.house", "nurse", "recorded on the wrong patient")
    assert data["entry"] == "C1 D8 given 2025-03-10 (0.5 mg/m²)" and data["voids"] == 3
    st_.add(s.SCHEDULE_VOIDED, data, actor="dr.house")
    tl = st_.tl("2025-03-10")
    assert tl.dose(1, 8).state == s.DUE_TODAY  # type: ignore[union-attr]  # as before the entry
    assert tl.status.startswith("Next: C1 D8 (due today).")  # words, not the state's code
    assert tl.dose(1, 1).state == s.GIVEN  # type: ignore[union-attr]
    assert len(st_.events) == 4  # nothing removed
    (v,) = s.voided_entries(st_.events)
    assert (v.entry, v.recorded_by, v.voided_by, v.reason) == (
        "C1 D8 given 2025-03-10 (0.5 mg/m²)",
        "dr.house",
        "dr.house",
        "recorded on the wrong patient",
    )
    # The next one back is C1 D1: the chain goes on, one entry at a time.
    assert s.check_void(st_.events, "dr.house", "nurse", "x")["voids"] == 2


def test_void_rules_who_and_what() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    with pytest.raises(ValueError, match=r"Reason: required"):
        s.check_void(st_.events, "dr.house", "nurse", "  ")
    with pytest.raises(ValueError, match=r"recorded by dr.house: only dr.house or a prescriber"):
        s.check_void(st_.events, "nina", "nurse", "typo")
    assert s.check_void(st_.events, "priya", "prescriber", "typo")["kind"] == s.CYCLE_STARTED
    with pytest.raises(ValueError, match=r"no schedule entry"):
        s.check_void([], "nina", "nurse", "typo")
    # A dose recorded by starting its infusion: the infusion record governs it.
    st_.give(1, 1, "2025-03-03")
    st_.add(s.INFUSION_STARTED_KIND, {"dose_id": "c1d1", "at": "2025-03-03T09:00:00Z"})
    with pytest.raises(ValueError, match=r"starting its infusion"):
        s.check_void(st_.events, "dr.house", "prescriber", "wrong")
    # A prescriber's decision ends the chain (CONV-OVR-1).
    st_.add(s.TREATMENT_DISCONTINUED, {"reason": "vod", "date": "2025-03-04"})
    with pytest.raises(ValueError, match=r"CONV-OVR-1"):
        s.check_void(st_.events, "dr.house", "prescriber", "wrong")


def test_infusion_kind_matches_the_monitor() -> None:
    from bedside.core import infusion

    assert s.INFUSION_STARTED_KIND == infusion.INFUSION_STARTED


def test_void_names_the_entry_the_user_saw() -> None:
    st_ = Stream()
    st_.start("2025-03-03")
    seen = s.latest_entry(st_.events)
    st_.give(1, 1, "2025-03-03")  # another terminal records meanwhile
    with pytest.raises(ValueError, match="changed while you were answering"):
        s.check_void(st_.events, "dr.house", "nurse", "typo", expected_version=seen.version)

"""Preparation events: a pharmacist's overrides of STAB-4 (UNVERIFIED) and STAB-5, for the current
preparation only, with a reason; the verified STAB-1/2 limits always stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bedside.core import preparation as prep
from bedside.core.events import Event
from tests.core.preparation import builders

STREAM = "patient:p1"
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
MEASUREMENT = {"height_cm": "170", "weight_kg": "70", "measured_on": "2025-03-02"}


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, new) -> None:
        n = len(self.events) + 1
        self.events.append(Event(n, new.stream, n, new.kind, new.actor, new.at, new.data, "0" * 64, f"{n:064x}"))

    @property
    def st(self) -> prep.PrepState:
        return prep.fold(self.events, "c1d1")

    def step(self, step: str, at: datetime, now: datetime | None = None, **kw) -> None:
        self.add(builders.step_event(self.st, STREAM, "phil", "pharmacist", now or at, step, at, **kw))


def prepared() -> Log:
    log = Log()
    log.add(builders.calculation_event(STREAM, "phil", T0, "c1d1", 1, 1, Decimal("0.8"), "Table 1", MEASUREMENT, "mosteller"))
    log.step("reconstituted", T0)
    log.step("diluted", T0 + timedelta(minutes=10), vials_kept="refrigerated")
    return log


def test_stab4_override_lifts_only_the_unverified_limits():
    log = prepared()
    before = log.st.deadlines(T0 + timedelta(minutes=20))
    assert before.binding.rule_id == "STAB-4" and before.end_deadline == T0 + timedelta(hours=4, minutes=10)
    with pytest.raises(ValueError, match="Only a pharmacist"):
        builders.override_event(log.st, STREAM, "nina", "nurse", T0, "STAB-4", "bag kept cool")
    with pytest.raises(ValueError, match="Reason: required"):
        builders.override_event(log.st, STREAM, "phil", "pharmacist", T0, "STAB-4", " ")
    log.add(
        builders.override_event(
            log.st, STREAM, "phil", "pharmacist", T0 + timedelta(minutes=20), "STAB-4", "validated in-house stability data"
        )
    )
    after = log.st.deadlines(T0 + timedelta(minutes=20))
    assert after.binding.rule_id == "STAB-2" and after.end_deadline == T0 + timedelta(hours=8)  # the label's cap stays
    assert "STAB-4" not in after.unverified_rules and not after.problems
    with pytest.raises(ValueError, match="already overridden"):
        builders.override_event(log.st, STREAM, "phil", "pharmacist", T0, "STAB-4", "again")
    # A step that STAB-4 alone would refuse is now accepted: 5 h at room temperature.
    log.step("bag_refrigerated", T0 + timedelta(hours=5, minutes=10))
    # The override belongs to that preparation: after a discard, a new one has the limits again.
    log.step("discarded", T0 + timedelta(hours=5, minutes=20), reason="dropped")
    log.step("reconstituted", T0 + timedelta(hours=6))
    assert log.st.override("STAB-4") is None
    assert log.st.deadlines(T0 + timedelta(hours=6)).binding.rule_id == "STAB-4"


def test_stab5_confirmation_only_while_equilibrating():
    log = prepared()
    with pytest.raises(ValueError, match="not equilibrating"):
        builders.override_event(log.st, STREAM, "phil", "pharmacist", T0 + timedelta(minutes=15), "STAB-5", "urgent")
    log.step("bag_refrigerated", T0 + timedelta(minutes=20))
    log.step("bag_removed", T0 + timedelta(minutes=50))
    now = T0 + timedelta(minutes=70)
    assert log.st.deadlines(now).earliest_start == T0 + timedelta(minutes=110)  # STAB-5: about 1 h
    log.add(builders.override_event(log.st, STREAM, "phil", "pharmacist", now, "STAB-5", "bag at room temperature, checked"))
    o = log.st.override("STAB-5")
    assert o is not None and o["actor"] == "phil" and o["unverified_rule"] is None
    with pytest.raises(ValueError, match="cannot be overridden"):
        builders.override_event(log.st, STREAM, "phil", "pharmacist", now, "STAB-2", "no")


def child_syringe() -> Log:
    """W9-like small dose: 0.43 mg is below the bag range, so the syringe route (PREP-8/9)."""
    log = Log()
    m = {"height_cm": "86", "weight_kg": "11.5", "measured_on": "2025-03-02"}
    log.add(builders.calculation_event(STREAM, "phil", T0, "c1d1", 1, 1, Decimal("0.8"), "Table 1", m, "mosteller"))
    return log


def test_the_pharmacist_sets_the_syringe_volume_within_the_range():
    log = child_syringe()
    c = log.st.calculation
    assert c.data["route"] == "syringe"
    dose = Decimal(c.data["dose_mg"])
    lo, hi = prep.syringe_volume_range(log.st)
    assert lo == (dose / Decimal("0.1")).quantize(Decimal("0.01")) and lo == Decimal(c.data["final_volume_ml"])  # the proposal
    with pytest.raises(ValueError, match="a pharmacist"):
        builders.syringe_volume_event(log.st, STREAM, "nina", "nurse", T0, str(lo))
    for bad in ("abc", "0", str(hi + Decimal("0.01")), str(lo - Decimal("0.01")), f"{lo}5"):
        with pytest.raises(ValueError, match=r"Final volume \(mL\): from"):
            builders.syringe_volume_event(log.st, STREAM, "phil", "pharmacist", T0, bad)
    # A verified calculation is voided by the new volume: the double-check must cover it.
    log.add(builders.verification_event(log.st, STREAM, "nina", "nurse", T0, log.st.calculation.expected()))
    assert log.st.verified
    log.add(builders.syringe_volume_event(log.st, STREAM, "phil", "pharmacist", T0, str(hi)))
    st = log.st
    assert st.calculation.data["final_volume_ml"] == str(hi) and st.calculation.data["syringe_volume_ml"] == str(hi)
    assert not st.verified
    assert st.calculation.prep.rate_ml_per_h == hi  # over 1 hour (ADM-8)


def test_a_stab5_confirmation_covers_one_equilibration_only():
    log = prepared()
    log.step("bag_refrigerated", T0 + timedelta(minutes=20))
    with pytest.raises(ValueError, match="still in the refrigerator"):
        builders.override_event(log.st, STREAM, "phil", "pharmacist", T0 + timedelta(minutes=30), "STAB-5", "early")
    log.step("bag_removed", T0 + timedelta(minutes=50))
    log.add(builders.override_event(log.st, STREAM, "phil", "pharmacist", T0 + timedelta(minutes=60), "STAB-5", "early"))
    assert log.st.override("STAB-5") is not None
    log.step("bag_refrigerated", T0 + timedelta(minutes=70))
    log.step("bag_removed", T0 + timedelta(minutes=90))
    assert log.st.override("STAB-5") is None  # a new equilibration needs its own confirmation
    log.add(builders.override_event(log.st, STREAM, "phil", "pharmacist", T0 + timedelta(minutes=95), "STAB-5", "early again"))
    assert log.st.override("STAB-5")["reason"] == "early again"


def test_the_syringe_volume_is_fixed_once_diluted():
    log = child_syringe()
    log.step("reconstituted", T0)
    log.step("diluted", T0 + timedelta(minutes=5), vials_kept="refrigerated")
    lo, _hi = prep.syringe_volume_range(log.st)
    with pytest.raises(ValueError, match="already made up"):
        builders.syringe_volume_event(log.st, STREAM, "phil", "pharmacist", T0, str(lo))

"""The demo database is realistic and consistent with every engine (its kinds are plain strings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bedside.core import infusion as inf
from bedside.core import preparation as prep
from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore, verify_log


def test_demo_patient_mid_infusion_is_consistent(tmp_path):
    clock = FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    store = SqliteStore(tmp_path / "d.db")
    seed(store, clock)
    ledger = Ledger(store, clock, DEMO_KEY)
    assert verify_log(store, store.anchor.read()).ok
    assert len(ledger.patients()) == 5 and len(ledger.users()) == 5
    pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100590")
    events = ledger.stream_events(ledger.patient(pid).stream)
    st = prep.fold(events, "c1d8")
    assert st.verified and st.calculation.data["dose_mg"] == "0.94"
    mon = inf.monitor(events, "c1d8", clock.now())
    assert mon.phase == inf.INFUSING and mon.running == timedelta(minutes=20) and not mon.problems
    tl = ledger.timeline(pid)
    assert tl.dose(1, 1).given_on and tl.dose(1, 8).given_on == clock.now().date()
    assert ledger.predose_verdict(pid, 1, 8).overall == "PROCEED"

from __future__ import annotations

import pytest

from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from bedside.tui.app import BedsideApp


class FakeIdle:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def demo_ledger(tmp_path, clock):
    store = SqliteStore(tmp_path / "demo.db")
    seed(store, clock)
    yield Ledger(store, clock, DEMO_KEY)
    store.close()


@pytest.fixture
def idle() -> FakeIdle:
    return FakeIdle()


@pytest.fixture
def app(demo_ledger, idle) -> BedsideApp:
    return BedsideApp(demo_ledger, demo=True, idle_clock=idle)


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def sign_in(pilot, user: str = "nina", pin: str = "1234") -> None:
    await type_text(pilot, user)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await pilot.pause()


def make_ready(ledger, clock, pid, verified=True):
    """Walk a demo patient to a dose that may start: cycle 1 started today, pre-dose records,
    a calculated, prepared and (optionally) verified bag."""
    from datetime import timedelta
    from decimal import Decimal

    from bedside.core import predose_records as pr
    from bedside.core import preparation as prep
    from bedside.core import schedule as sch
    from bedside.core.events import NewEvent, iso_utc

    p = ledger.patient(pid)
    stream = p.stream
    today = ledger.today()

    def put(kind, data, actor="nina"):
        ledger.append(stream, lambda: [NewEvent(stream, kind, actor, clock.now(), data)])

    ledger.schedule_event("priya", pid, sch.CYCLE_STARTED, lambda tl: sch.check_start(tl, today))
    put(pr.IDENTITY, {"cycle": 1, "day": 1, "method": "typed", "name": p.name, "dob": p.identity["dob"], "mrn": p.mrn})
    for cls, drug in (("corticosteroid", "dexamethasone"), ("antipyretic", "paracetamol"), ("antihistamine", "loratadine")):
        put(pr.PREMED, {"cycle": 1, "day": 1, "drug_class": cls, "drug": drug, "dose": "std", "given_at": iso_utc(clock.now() - timedelta(minutes=30))})
    put(pr.ECG, {"date": today.isoformat()})
    put(pr.ELECTROLYTES, {"date": today.isoformat()})
    put(pr.CHECKLIST, {"cycle": 1, "day": 1, "emergency_ready": True})
    m = p.current("measurement")
    ledger.append(stream, lambda: [prep.calculation_event(stream, "phil", clock.now(), "c1d1", 1, 1, Decimal("0.8"), "Table 1", m, "mosteller")])
    st = lambda: prep.fold(ledger.stream_events(stream), "c1d1")  # noqa: E731
    ledger.append(stream, lambda: [prep.step_event(st(), stream, "phil", "pharmacist", clock.now(), "reconstituted", clock.now())])
    clock.advance(minutes=10)
    ledger.append(stream, lambda: [prep.step_event(st(), stream, "phil", "pharmacist", clock.now(), "diluted", clock.now(), "refrigerated")])
    if verified:
        ledger.append(stream, lambda: [prep.verification_event(st(), stream, "nina", "nurse", clock.now(), st().calculation.expected())])


async def open_ready_monitor(app, pilot, clock, mrn: str = "MRN-100231"):
    """Sign in as the nurse, walk the demo patient's C1 D1 to a dose that may start (make_ready)
    and open its infusion monitor; returns (pid, monitor screen)."""
    from bedside.tui.screens.monitor import MonitorScreen

    await sign_in(pilot)
    pid = next(p.id for p in app.ledger.patients() if p.mrn == mrn)
    make_ready(app.ledger, clock, pid)
    app.push_screen(MonitorScreen(pid, "c1d1", "Cycle 1 Day 1"))
    await pilot.pause()
    return pid, app.screen

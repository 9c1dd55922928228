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
    a calculated, prepared and (optionally) verified bag — each step a command, as the screens
    send them (core/commands.py)."""
    from datetime import timedelta

    from bedside.core import predose as pd
    from bedside.core import preparation as prep
    from bedside.core.clock import fmt_local
    from bedside.core.schedule.commands import StartCycle

    p = ledger.patient(pid)
    today = ledger.today()
    ledger.execute(StartCycle(pid, today), "priya")
    ledger.execute(pd.ConfirmIdentity(pid, 1, 1, p.name, p.identity["dob"], p.mrn, "typed"), "nina")
    given = fmt_local(clock.now() - timedelta(minutes=30), day=False)
    for cls, drug in (("corticosteroid", "dexamethasone"), ("antipyretic", "paracetamol"), ("antihistamine", "loratadine")):
        ledger.execute(pd.RecordPremed(pid, 1, 1, cls, drug, "std", given), "nina")
    ledger.execute(pd.RecordEcg(pid, today.isoformat()), "nina")
    ledger.execute(pd.RecordElectrolytes(pid, today.isoformat()), "nina")
    ledger.execute(pd.RecordChecklist(pid, 1, 1, True), "nina")
    ledger.execute(prep.CalculateDose(pid, 1, 1), "phil")
    ledger.execute(prep.Reconstitute(pid, "c1d1", clock.now()), "phil")
    clock.advance(minutes=10)
    ledger.execute(prep.Dilute(pid, "c1d1", clock.now(), "refrigerated"), "phil")
    if verified:
        ledger.execute(prep.DoubleCheck(pid, "c1d1", **ledger.view(pid).prep("c1d1").calculation.expected()), "nina")


def bag_code(ledger, pid, dose="c1d1") -> str:
    """The code on the dose's bag label, as the preparation screen shows it (core/preparation/baglabel.py)."""
    from bedside.core.preparation import baglabel

    return baglabel.shown(baglabel.current(pid, ledger.view(pid).prep(dose)).code)


async def press_start(pilot, pid, dose="c1d1", code: str | None = None):
    """s on the monitor, then the bag label scanned into the dialog (a scanner ends with Enter)."""
    await pilot.press("s")
    await pilot.pause()
    await pilot.press(*(code if code is not None else bag_code(pilot.app.ledger, pid, dose)).lower(), "enter")
    await pilot.pause()


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

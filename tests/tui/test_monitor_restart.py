"""Nothing is kept only in memory: kill the app mid-infusion, start again, same phase and time;
a second terminal on the same database sees a pause made in the first."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from bedside.core import infusion as inf
from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from bedside.tui.app import BedsideApp
from bedside.tui.screens.monitor import MonitorScreen

from .conftest import bag_code, make_ready, press_start, sign_in

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)

RUN_APP = textwrap.dedent(
    """
    import asyncio, os, sys, time
    os.environ["TZ"] = "UTC"; time.tzset()
    from datetime import UTC, datetime
    from bedside.core.clock import FakeClock
    from bedside.core.demo import DEMO_KEY
    from bedside.core.service import Ledger
    from bedside.core.store import SqliteStore
    from bedside.tui.app import BedsideApp
    from bedside.tui.screens.monitor import MonitorScreen

    async def main():
        clock = FakeClock(datetime.fromisoformat(sys.argv[2]))
        ledger = Ledger(SqliteStore(sys.argv[1]), clock, DEMO_KEY)
        app = BedsideApp(ledger, idle_clock=lambda: 0.0)
        async with app.run_test() as pilot:
            for ch in "nina":
                await pilot.press(ch)
            await pilot.press("enter", "1", "2", "3", "4", "enter")
            await pilot.pause()
            app.push_screen(MonitorScreen(sys.argv[3], "c1d1"))
            await pilot.pause()
            await pilot.press("s")
            await pilot.pause()
            await pilot.press(*sys.argv[4], "enter")  # the bag label scanned
            await pilot.pause()
            print(app.screen.state().phase, flush=True)
            await asyncio.sleep(3600)  # killed here, mid-infusion

    asyncio.run(main())
    """
)


async def test_killed_mid_infusion_comes_back_at_the_same_time(tmp_path):
    path = tmp_path / "ward.db"
    clock = FakeClock(T0)
    store = SqliteStore(path)
    seed(store, clock)
    ledger = Ledger(store, clock, DEMO_KEY)
    pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100231")
    make_ready(ledger, clock, pid)
    started_at = clock.now()
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_APP, str(path), started_at.isoformat(), pid, bag_code(ledger, pid).lower()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == inf.INFUSING
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # A new app on the same database, 17 min 5 s later.
    clock2 = FakeClock(started_at + timedelta(minutes=17, seconds=5))
    app = BedsideApp(Ledger(SqliteStore(path), clock2, DEMO_KEY), idle_clock=lambda: 0.0)
    async with app.run_test() as pilot:
        await sign_in(pilot)
        app.push_screen(MonitorScreen(pid, "c1d1"))
        await pilot.pause()
        st = app.screen.state()
        assert st.phase == inf.INFUSING
        assert st.started_at == started_at
        assert st.phase_elapsed == timedelta(minutes=17, seconds=5)
        assert "0:17:05" in app.screen.timer_text()


async def test_a_pause_in_one_terminal_shows_in_the_other(tmp_path):
    path = tmp_path / "ward.db"
    clock = FakeClock(T0)
    store_a = SqliteStore(path)
    seed(store_a, clock)
    a = Ledger(store_a, clock, DEMO_KEY)
    pid = next(p.id for p in a.patients() if p.mrn == "MRN-100231")
    make_ready(a, clock, pid)
    app = BedsideApp(Ledger(SqliteStore(path), clock, DEMO_KEY), idle_clock=lambda: 0.0)
    async with app.run_test() as pilot:
        await sign_in(pilot)
        app.push_screen(MonitorScreen(pid, "c1d1"))
        await pilot.pause()
        await press_start(pilot, pid)
        await pilot.pause()
        assert app.screen.state().phase == inf.INFUSING
        # Terminal A (another process's ledger) pauses the infusion.
        a.refresh()
        clock.advance(minutes=5)
        a.execute(inf.PauseInfusion(pid, "c1d1", reason="patient to the bathroom"), "noah")
        app.poll_store()  # what the 1-second watcher does (PRAGMA data_version)
        await pilot.pause()
        assert app.screen.state().phase == inf.PAUSED
        assert "PAUSED" in str(app.screen.query_one("#mon-phase").render())
        assert "bathroom" in str(app.screen.query_one("#mon-detail").render())  # the reason, under the phase

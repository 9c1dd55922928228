"""Make ``screenshots/*.svg``: every screen of the app, driven by keyboard on the demo database.

Run: ``.venv/bin/python -m bedside.tui.screenshots [OUTDIR]`` (default: ./screenshots).
A fixed clock and time zone make the pictures repeatable.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()

from bedside.core.clock import FakeClock  # noqa: E402
from bedside.core.demo import DEMO_KEY, seed  # noqa: E402
from bedside.core.service import Ledger  # noqa: E402
from bedside.core.store import SqliteStore  # noqa: E402

SHOT_TIME = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def _sign_in(pilot, user: str = "nina") -> None:
    await _type(pilot, user)
    await pilot.press("enter")
    await _type(pilot, "1234")
    await pilot.press("enter")
    await pilot.pause()


Step = Callable[[object, object], Awaitable[None]]


async def _sign_in_as_prescriber(app, pilot) -> None:
    """The AuthScreen a nurse meets for a prescriber's step: priya signs in on the same terminal."""
    dlg = app.screen
    dlg.query_one("#f-user").value = "priya"
    dlg.query_one("#f-pin").value = "1234"
    await pilot.press("ctrl+s")
    await pilot.pause()


async def shoot(outdir: Path, name: str, steps: Step, *, no_color: bool = False, size=(80, 24), empty: bool = False) -> Path:
    from bedside.tui.app import BedsideApp

    if no_color:
        os.environ["NO_COLOR"] = "1"
    else:
        os.environ.pop("NO_COLOR", None)
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(SHOT_TIME)
        store = SqliteStore(Path(tmp) / "demo.db")
        if not empty:
            seed(store, clock)
        app = BedsideApp(Ledger(store, clock, DEMO_KEY), demo=not empty, idle_clock=lambda: 0.0)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(app, pilot)
            await pilot.pause()
            path = outdir / f"{name}.svg"
            app.save_screenshot(filename=path.name, path=str(outdir))
        store.close()
    return path


async def main(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)

    async def nothing(app, pilot):
        return None

    async def patients(app, pilot):
        await _sign_in(pilot)

    async def patient(app, pilot):
        await _sign_in(pilot)
        await pilot.press("down", "enter")

    async def patient_measure(app, pilot):
        await patient(app, pilot)
        await pilot.press("down", "down")

    async def form_error(app, pilot):
        await _sign_in(pilot)
        await pilot.press("enter", "down", "down", "enter")
        form = app.screen
        form.query_one("#f-height_cm").value = "172"
        form.query_one("#f-weight_kg").value = "7000"
        form.query_one("#f-measured_on").value = "2026-03-01"
        await pilot.press("ctrl+s")

    async def register(app, pilot):
        await _sign_in(pilot)
        await pilot.press("n")
        await _type(pilot, "NGUYEN, An")

    async def correction(app, pilot):
        await patient_measure(app, pilot)
        await pilot.press("x")

    async def audit_patient(app, pilot):
        await patient(app, pilot)
        await pilot.press("a")

    async def audit_all(app, pilot):
        await _sign_in(pilot)
        await pilot.press("a")

    async def boxed(app, pilot):
        await patient(app, pilot)
        await pilot.press("w")

    async def lock(app, pilot):
        await patient(app, pilot)
        app.action_lock()

    async def users(app, pilot):
        await _sign_in(pilot, "adam")
        await pilot.press("u")

    async def add_user(app, pilot):
        await users(app, pilot)
        await pilot.press("n")

    async def settings(app, pilot):
        await _sign_in(pilot, "adam")
        await pilot.press("s")

    async def nakamura(app, pilot):
        await _sign_in(pilot)
        await pilot.press("slash")
        await _type(pilot, "naka")
        await pilot.press("enter", "enter")

    async def timeline(app, pilot):
        await nakamura(app, pilot)
        await pilot.press("t")
        await pilot.press("right")

    async def timeline_c1d15(app, pilot):
        await timeline(app, pilot)
        await pilot.press("right")

    async def timeline_held(app, pilot):
        from datetime import timedelta

        from bedside.core import schedule as sch

        await _sign_in(pilot)
        ledger = app.ledger
        pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100231")
        today = ledger.today()
        d1 = today - timedelta(days=8)
        ledger.execute(sch.StartCycle(pid, d1), "priya")
        ledger.execute(sch.RecordDoseGiven(pid, 1, 1, d1), "nina")
        ledger.execute(sch.HoldDose(pid, 1, 8, "Grade 2 ALT increase", "non_hematologic"), "priya")
        await pilot.press("down", "enter", "t", "right")

    async def timeline_in_error(app, pilot):
        await timeline_held(app, pilot)
        await pilot.press("E")

    async def timeline_marked(app, pilot):
        await timeline_in_error(app, pilot)
        app.screen.query_one("#f-value").value = "held on the wrong day's labs"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await _sign_in_as_prescriber(app, pilot)

    async def predose(app, pilot):
        await timeline(app, pilot)
        await pilot.press("c")

    async def predose_hold(app, pilot):
        await _sign_in(pilot)
        from bedside.core import schedule as sch

        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100377")
        app.ledger.execute(sch.StartCycle(pid, app.ledger.today()), "priya")
        await pilot.press("slash")
        await _type(pilot, "osei")
        await pilot.press("enter", "enter", "t", "c")

    async def preparation(app, pilot):
        await timeline(app, pilot)
        await pilot.press("p")

    async def syringe_volume(app, pilot):
        from bedside.core import schedule as sch

        await _sign_in(pilot, "phil")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-200518")  # the child: syringe route
        app.ledger.execute(sch.StartCycle(pid, app.ledger.today()), "priya")
        await pilot.press("slash")
        await _type(pilot, "lind")
        await pilot.press("enter", "enter", "t", "right", "p")  # Day 8: 0.43 mg, below the bag range
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("V")

    async def monitor(app, pilot):
        await timeline(app, pilot)
        await pilot.press("i")

    async def board(app, pilot):
        await _sign_in(pilot)
        await pilot.press("i")

    async def warnings(app, pilot):
        await nakamura(app, pilot)
        await pilot.press("v")

    async def warnings_renal(app, pilot):
        await _sign_in(pilot)
        await pilot.press("slash")
        await _type(pilot, "osei")
        await pilot.press("enter", "enter", "v")
        await pilot.pause()
        await pilot.press("end", "up", "up")  # the renal warning is listed after the boxed warning and VOD factors

    async def store_busy(app, pilot):
        import apsw

        await register(app, pilot)
        form = app.screen
        form.query_one("#f-dob").value = "1980-05-17"
        form.query_one("#f-mrn").value = "MRN-9001"
        form.query_one("#f-sex").value = "male"
        app.ledger.store.conn.set_busy_timeout(50)
        other = apsw.Connection(app.ledger.store.path)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            await pilot.press("ctrl+s")
            await pilot.pause()
        finally:
            other.execute("ROLLBACK")
            other.close()

    shots = [
        ("01-sign-in", nothing, {}),
        ("02-first-admin", nothing, {"empty": True}),
        ("03-patient-list", patients, {}),
        ("04-register-patient", register, {}),
        ("05-patient", patient, {}),
        ("06-patient-bsa-detail", patient_measure, {}),
        ("07-intake-form-error", form_error, {}),
        ("08-correction", correction, {}),
        ("09-audit-patient", audit_patient, {}),
        ("10-audit-all", audit_all, {}),
        ("11-boxed-warning", boxed, {}),
        ("12-idle-lock", lock, {}),
        ("13-users", users, {}),
        ("14-add-user", add_user, {}),
        ("15-settings", settings, {}),
        ("16-patient-no-color", patient_measure, {"no_color": True}),
        ("18-timeline", timeline, {}),
        ("19-timeline-next-dose", timeline_c1d15, {}),
        ("19b-timeline-held", timeline_held, {}),
        ("19c-timeline-entry-in-error", timeline_in_error, {}),
        ("19d-timeline-entry-marked", timeline_marked, {}),
        ("20-predose-proceed", predose, {}),
        ("21-predose-hold", predose_hold, {}),
        ("22-preparation", preparation, {}),
        ("22b-preparation-syringe-volume", syringe_volume, {}),
        ("23-monitor-infusing", monitor, {}),
        ("24-monitor-no-color", monitor, {"no_color": True}),
        ("25-active-infusions", board, {}),
        ("26-warnings", warnings, {}),
        ("26b-warnings-renal", warnings_renal, {}),
        ("17-intake-form-error-no-color", form_error, {"no_color": True}),
        ("27-store-busy", store_busy, {}),
    ]
    return [await shoot(outdir, name, fn, **kw) for name, fn, kw in shots]


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("screenshots")
    for p in asyncio.run(main(out)):
        print(p)

"""Issue 15, defect 5: the monitor shows one consistent counter pair (running time of the 60 min and
time left, MON-3), the wall-clock start and expected end apart, and after OBSERVATION COMPLETE no
counter or key of an earlier phase."""

from __future__ import annotations

from datetime import UTC, datetime

from bedside.core import infusion as inf
from bedside.tui.screens.monitor import MonitorScreen, clock_hm

from .conftest import open_ready_monitor, press_start

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def footer_keys(screen) -> set[str]:
    return {k.description for k in screen.query("FooterKey")}


async def test_pair_after_a_pause_and_nothing_of_an_earlier_phase_after_observation(app, clock):
    clock.set(T0)
    async with app.run_test() as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        assert "Start" in footer_keys(screen) and "Pause" not in footer_keys(screen)
        await press_start(pilot, pid)
        await pilot.pause()
        started = screen.state().started_at
        assert screen.state().phase == inf.INFUSING
        await pilot.pause()
        assert "Pause" in footer_keys(screen) and "Start" not in footer_keys(screen)

        clock.advance(minutes=20)
        assert screen._execute(inf.PauseInfusion(pid, "c1d1", reason="to the bathroom"))
        clock.advance(minutes=44, seconds=47)  # a long pause: wall clock 1:04:47 since the start
        screen.refresh_all()
        await pilot.pause()
        assert screen.timer_text() == "Running 0:20:00 of 1:00:00   Left 0:40:00"
        detail = str(screen.query_one("#mon-detail").render())
        st = screen.state()
        assert f"Started {clock_hm(started, st.now)}" in detail
        assert f"expected end {clock_hm(st.infusion_end_at, st.now)}" in detail
        assert "running" not in detail.lower()  # no second, disagreeing counter
        assert "Resume" in footer_keys(screen) and "Pause" not in footer_keys(screen)

        assert screen._execute(inf.ResumeInfusion(pid, "c1d1"))
        clock.advance(minutes=40)  # the 60 min of running time are reached: observation
        screen.refresh_all()
        await pilot.pause()
        assert screen.state().phase == inf.OBSERVING
        assert screen.timer_text().startswith("Observing 0:00:00 of 1:00:00   Left 1:00:00")
        clock.advance(minutes=60)
        await pilot.press("o", "y")  # o asks; y records (a stray o alone records nothing)
        await pilot.pause()
        assert screen.state().phase == inf.OBSERVATION_COMPLETE
        timer = screen.timer_text()
        assert ":" not in timer and "Left" not in timer and "Running" not in timer
        detail = str(screen.query_one("#mon-detail").render())
        assert "Observation complete at" in detail
        assert "Next vitals" not in detail and "More keys" not in detail and "stable until" not in detail
        keys = footer_keys(screen)
        assert not keys & {"Start", "Pause", "Resume", "Obs. done", "Stop", "Left early"}, keys
        assert "Reaction" in keys  # a late reaction can still be recorded (CONV-IRR-3)


async def test_a_prescriber_corrects_a_grade_3_on_the_monitor_and_the_block_lifts(app, clock):
    """CONV-IRR-1: the nurse records Grade 3 (the next dose is blocked); G asks for a prescriber's
    sign-in and a reason; the recorded correction to Grade 2 lifts the block."""
    from bedside.core.eligibility import DISCONTINUE, may_give
    from bedside.tui.screens.dialogs import AuthScreen

    from .test_monitor import fill_dialog

    clock.set(T0)
    async with app.run_test() as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        await press_start(pilot, pid)
        await pilot.pause()
        clock.advance(minutes=20)
        await pilot.press("e")
        await pilot.pause()
        await fill_dialog(pilot, app, {"symptoms": "rigors"})
        await fill_dialog(pilot, app, {"temp_c": "38.9", "hr": "124", "sys": "84", "dia": "50", "rr": "24", "spo2": "92"})
        await fill_dialog(pilot, app, {"grade": "3"})
        ledger = app.ledger
        events = lambda: ledger.stream_events(ledger.patient(pid).stream)  # noqa: E731
        assert may_give(events(), "c1d8", clock.now(), ledger.today(), ledger.roles()).verdict == DISCONTINUE
        await pilot.press("escape")  # leave the rest of the guided sequence
        await pilot.pause()
        while app.screen is not screen:
            await pilot.press("escape")
            await pilot.pause()

        await pilot.press("G")
        await pilot.pause()
        await fill_dialog(pilot, app, {"grade": "2", "reason": ""})  # a reason is required
        assert not isinstance(app.screen, MonitorScreen)
        await fill_dialog(pilot, app, {"grade": "2", "reason": "responded at once to antihistamine: entered wrongly"})
        assert isinstance(app.screen, AuthScreen)  # nina is a nurse: a prescriber signs in
        app.screen.query_one("#f-user").value = "priya"
        app.screen.query_one("#f-pin").value = "1234"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.state().reactions[0].grade == 2
        last = events()[-1]
        assert last.kind == inf.REACTION_GRADED and last.actor == "priya" and last.data["corrected_by_role"] == "prescriber"
        assert may_give(events(), "c1d8", clock.now(), ledger.today(), ledger.roles()).verdict != DISCONTINUE

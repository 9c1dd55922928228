"""Issue 15, defect 1: a Grade 3 reaction recorded on the monitor blocks the next dose on the
timeline and in the pre-dose check, with the rule and the prescriber's next step."""

from __future__ import annotations

from textual.widgets import Static

from bedside.core import infusion as inf
from bedside.tui.screens.predose import PredoseScreen
from bedside.tui.screens.timeline import TimelineScreen

from .conftest import open_ready_monitor, press_start
from .test_monitor import T0, fill_dialog


def screen_text(screen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static))


async def test_a_grade_3_reaction_on_the_monitor_blocks_the_next_dose(app, clock):
    clock.set(T0)
    async with app.run_test(size=(100, 40)) as pilot:
        pid, monitor = await open_ready_monitor(app, pilot, clock)
        await pilot.press("v")
        await pilot.pause()
        await fill_dialog(pilot, app, {"temp_c": "36.8", "hr": "80", "sys": "120", "dia": "75", "rr": "16", "spo2": "98"})
        await press_start(pilot, pid)
        await pilot.pause()
        assert monitor.state().phase == inf.INFUSING
        clock.advance(minutes=20)
        await pilot.press("e")
        await pilot.pause()
        await fill_dialog(pilot, app, {"symptoms": "rigors, hypotension"})
        await fill_dialog(pilot, app, {"temp_c": "38.9", "hr": "124", "sys": "84", "dia": "50", "rr": "24", "spo2": "92"})
        await fill_dialog(pilot, app, {"grade": "3"})
        assert monitor.state().phase == inf.STOPPED  # CONV-IRR-1

        # The next dose, on its day: blocked on the timeline and in the pre-dose check.
        clock.advance(days=7)
        app.pop_screen()
        await pilot.pause()
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        timeline = app.screen
        shown = screen_text(timeline)
        assert "Grade 3 infusion reaction at C1 D1" in shown and "CONV-IRR-1" in shown
        assert "prescriber records the permanent discontinuation" in shown
        app.push_screen(PredoseScreen(pid, 1, 8))
        await pilot.pause()
        predose = app.screen
        assert predose.verdict().overall == "DISCONTINUE"
        from textual.widgets import DataTable

        rows = []
        for table in predose.query(DataTable):
            rows += [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        shown = screen_text(predose) + "\n" + "\n".join(rows)
        assert "DISCONTINUE" in shown and "Severe infusion reaction" in shown and "CONV-IRR-1" in shown, shown

"""A whole infusion and observation in fake time: start gate, vitals, a reaction, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bedside.core import infusion as inf
from bedside.tui.screens.dialogs import ConfirmScreen, FieldsDialog, MessageScreen
from bedside.tui.screens.monitor import MonitorScreen

from .conftest import make_ready, press_start, sign_in

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


async def fill_dialog(pilot, app, values):
    dlg = app.screen
    assert isinstance(dlg, FieldsDialog), dlg
    for k, v in values.items():
        dlg.query_one(f"#f-{k}").value = v
    await pilot.press("ctrl+s")
    await pilot.pause()


async def test_whole_infusion_with_a_reaction_and_alerts(app, clock):
    clock.set(T0)
    async with app.run_test() as pilot:
        await sign_in(pilot)
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.push_screen(MonitorScreen(pid, "c1d1", "Cycle 1 Day 1"))
        await pilot.pause()
        screen = app.screen

        # Not prepared: the start is refused and says why.
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, MessageScreen)  # a refusal: one key closes it, nothing to answer
        assert "[SCHED-6]" in app.screen.text and "issue" not in app.screen.text  # each reason cites its rule
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.state().phase == inf.NOT_STARTED

        make_ready(app.ledger, clock, pid)
        await pilot.press("v")
        await pilot.pause()
        await fill_dialog(pilot, app, {"temp_c": "36.8", "hr": "80", "sys": "120", "dia": "75", "rr": "16", "spo2": "98"})
        await press_start(pilot, pid)
        await pilot.pause()
        st = screen.state()
        assert st.phase == inf.INFUSING and st.started_at == clock.now()
        tl = app.ledger.timeline(pid)
        assert tl.dose(1, 1).given_on == clock.now().date() and tl.dose(1, 1).dose_mg == Decimal("1.45")  # W1, SCHED-6
        assert "INFUSING" in str(screen.query_one("#mon-phase").render())

        clock.advance(minutes=20)
        screen.refresh_all()
        assert "0:20:00" in screen.timer_text()

        # Reaction: the guided sequence pauses the infusion at once.
        await pilot.press("e")
        await pilot.pause()
        await fill_dialog(pilot, app, {"symptoms": "rigors, [red]fever[/red]"})
        assert screen.state().phase == inf.PAUSED
        await fill_dialog(pilot, app, {"temp_c": "38.4", "hr": "104", "sys": "118", "dia": "70", "rr": "20", "spo2": "96"})
        await fill_dialog(pilot, app, {"grade": "2"})
        await fill_dialog(pilot, app, {"who": "Dr Raman (prescriber)"})
        await fill_dialog(pilot, app, {"treatment": "paracetamol 1 g PO"})
        clock.advance(minutes=30)
        await fill_dialog(pilot, app, {"outcome": "resume"})
        st = screen.state()
        assert st.reactions[0].grade == 2 and st.reactions[0].outcome == "resume"
        assert "[red]fever[/red]" in str(screen.query_one("#mon-detail").render())
        await pilot.press("r")
        await pilot.pause()
        assert screen.state().phase == inf.INFUSING
        # T5-style arithmetic: 20 min run, 30 min paused → ends 60 + 30 min after the start.
        assert screen.state().infusion_end_at == T0 + timedelta(minutes=10 + 90)  # prep took 10 min

        clock.advance(minutes=41)
        screen.refresh_all()
        st = screen.state()
        assert st.phase == inf.OBSERVING
        assert st.alerts, "the end of the infusion raises an alert"
        n = len(st.alerts)
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and st.alerts[0].text in app.screen.text  # names it
        assert len(screen.state().alerts) == n  # nothing recorded before the y
        await pilot.press("y")
        await pilot.pause()
        assert len(screen.state().alerts) == n - 1
        assert any(
            e.kind == inf.ALERT_ACKNOWLEDGED and e.actor == "nina"
            for e in app.ledger.stream_events(app.ledger.patient(pid).stream)
        )

        await pilot.press("o")
        await pilot.pause()
        assert screen.state().phase == inf.OBSERVING, "observation cannot end before the hour (MON-2)"
        clock.advance(minutes=60)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "completed the observation of C1 D1" in app.screen.text
        await pilot.press("y")
        await pilot.pause()
        assert screen.state().phase == inf.OBSERVATION_COMPLETE


async def test_active_infusions_board_lists_the_running_dose_and_opens_its_monitor(app, clock):
    from bedside.tui.screens.board import BoardScreen

    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.press("i")
        await pilot.pause()
        board = app.screen
        assert isinstance(board, BoardScreen)
        (row,) = board.rows.values()
        assert row[0] == "NAKAMURA, Ren MRN-100590" and row[1] == "C1 D8" and row[2] == inf.INFUSING and row[3] == "0:40"
        (key,) = board.rows
        clock.advance(seconds=30)
        board.tick()
        assert board.rows[key][3] == "0:40", "a part-minute left counts as a whole one"
        clock.advance(seconds=31)
        board.tick()
        assert board.rows[key][3] == "0:39"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen) and app.screen.dose_id == "c1d8"


async def test_the_start_asks_for_the_bag_label_and_refuses_a_wrong_bag(app, clock):
    """Issue 20: s asks for the bag label; a wrong or misread label is refused under the field,
    what was scanned kept, nothing recorded; this dose's bag starts it. The preparation shows the
    code and l the label."""
    from bedside.core.preparation import baglabel
    from bedside.tui.screens.preparation import DoseRef, PreparationScreen

    from .conftest import bag_code, open_ready_monitor

    clock.set(T0)
    async with app.run_test(size=(80, 24)) as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        code = bag_code(app.ledger, pid)
        await pilot.press("s")
        await pilot.pause()
        dlg = app.screen
        assert isinstance(dlg, FieldsDialog) and "Scan the bag label: C1 D1" in str(dlg.query_one(".box-title").render())
        other = next(p.id for p in app.ledger.patients() if p.id != pid)
        step = next(s for s in app.ledger.view(pid).prep("c1d1").steps if s.step == "diluted")
        wrong = baglabel.code_of(other, "c1d1", step)
        await pilot.press(*wrong.lower(), "enter")
        await pilot.pause()
        assert app.screen is dlg and dlg.query_one("#f-bag").value == wrong.lower()
        assert "Wrong bag" in str(dlg.query_one("#e-bag").render())
        assert screen.state().phase == inf.NOT_STARTED
        await pilot.press(*code.lower(), "enter")  # the refused code was selected: this scan replaces it
        await pilot.pause()
        assert app.screen is screen and screen.state().phase == inf.INFUSING
        started = next(e for e in app.ledger.stream_events(app.ledger.patient(pid).stream) if e.kind == inf.INFUSION_STARTED)
        assert started.data["bag_code"] == code.replace("-", "")

        app.push_screen(PreparationScreen(pid, DoseRef(1, 1, Decimal("0.8"), "Table 1", "Table 1")))
        await pilot.pause()
        assert f"Bag label: {code}" in str(app.screen.query_one("#prep-status").render())
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, MessageScreen) and code in app.screen.text and "HARTMAN" in app.screen.text

"""Issue 17: the monitor readable from a step away (the phase in words, the minutes left in large
digits, the end's clock time, a progress bar) at 80x24, keys that cannot misfire (a burst of keys
records nothing without its confirmation), and a set of vital signs in ≤ 12 keys plus the digits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console
from textual import events
from textual.widgets import Digits, Footer, Static

from bedside.core import infusion as inf
from bedside.tui.app import BedsideApp
from bedside.tui.screens.dialogs import ConfirmScreen, FieldsDialog
from bedside.tui.screens.monitor import MonitorScreen, PhaseBar, PlainBar, clock_hm

from .conftest import open_ready_monitor, press_start, type_text

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
RECORDED_BY_KEYS = (
    inf.ALERT_ACKNOWLEDGED,
    inf.OBSERVATION_COMPLETED,
    inf.OBSERVATION_INCOMPLETE,
    inf.INFUSION_STOPPED,
)


def kinds(app, pid) -> list[str]:
    return [e.kind for e in app.ledger.stream_events(app.ledger.patient(pid).stream)]


def big(screen) -> tuple[str, str, str, float, float]:
    """What the monitor shows in large: (phase box, digits, label beside them, bar progress, bar total)."""
    bar = screen.query_one("#mon-progress", PhaseBar)
    return (
        str(screen.query_one("#mon-phase", Static).render()),
        screen.query_one("#mon-left", Digits).value,
        str(screen.query_one("#mon-left-label", Static).render()),
        bar.progress,
        bar.total,
    )


async def burst(pilot, keys: str) -> None:
    """Keys as a slow SSH link or a leaning elbow delivers them: all queued before any is handled."""
    for key in keys:
        pilot.app.post_message(events.Key(key, key))
    await pilot.pause()
    await pilot.pause()


async def test_large_digits_bar_and_end_time_follow_the_fake_clock(app, clock):
    clock.set(T0)
    async with app.run_test(size=(80, 24)) as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        phase, _digits, _label, _p, _t = big(screen)
        assert "NOT STARTED" in phase
        assert not screen.query_one("#mon-left").display and not screen.query_one("#mon-bar").display  # no counter yet
        await press_start(pilot, pid)
        await pilot.pause()
        started = screen.state().started_at

        clock.advance(minutes=20)
        screen.refresh_all()
        await pilot.pause()
        phase, digits, label, progress, total = big(screen)
        assert "INFUSING" in phase and digits == "40" and "minutes left" in label
        assert f"ends at {clock_hm(started + timedelta(minutes=60), clock.now())}" in label and "MON-3" in label
        assert (progress, total) == (20, 60)
        assert screen.timer_text() == "Running 0:20:00 of 1:00:00   Left 0:40:00"  # the seconds stay on this line

        clock.advance(minutes=19, seconds=30)  # 20 min 30 s left: the digits round up
        screen.refresh_all()
        assert big(screen)[1] == "21" and big(screen)[3] == 39

        # A pause: the running time and the minutes left stand still; the end moves (MON-3).
        assert screen._execute(inf.PauseInfusion(pid, "c1d1", reason="to the bathroom"))
        clock.advance(minutes=15)
        screen.refresh_all()
        await pilot.pause()
        phase, digits, label, progress, _t = big(screen)
        end = started + timedelta(minutes=60 + 15)
        assert "PAUSED" in phase and digits == "21" and progress == 39
        assert f"ends at {clock_hm(end, clock.now())}" in label
        assert "to the bathroom" in str(screen.query_one("#mon-detail").render())

        assert screen._execute(inf.ResumeInfusion(pid, "c1d1"))
        clock.advance(minutes=20, seconds=30)  # the hour of running time is reached: observation
        screen.refresh_all()
        await pilot.pause()
        phase, digits, label, progress, total = big(screen)
        assert "OBSERVING" in phase and digits == "60" and "MON-2" in label
        assert str(screen.query_one("#mon-bar-label", Static).render()) == "Observation" and (progress, total) == (0, 60)
        clock.advance(minutes=61)
        screen.refresh_all()
        await pilot.press("o", "y")
        await pilot.pause()
        assert "OBSERVATION COMPLETE" in big(screen)[0]
        assert not screen.query_one("#mon-left").display and not screen.query_one("#mon-bar").display


async def test_at_80x24_the_alerts_and_the_keys_stay_on_screen(app, clock):
    clock.set(T0)
    async with app.run_test(size=(80, 24)) as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        await press_start(pilot, pid)
        clock.advance(minutes=75)  # ended, end-of-infusion vitals overdue: two alerts or more
        screen.refresh_all()
        await pilot.pause()
        assert len(screen.state().alerts) >= 2
        alerts, footer = screen.query_one("#mon-alerts"), screen.query_one(Footer)
        bottom, details = screen.query_one("#mon-bottom"), screen.query_one("#mon-big")
        assert footer.region.y == 23 and alerts.region.bottom <= 23
        assert details.region.y < bottom.region.y and bottom.region.bottom <= alerts.region.y  # nothing overlaps
        text = str(alerts.render())
        first = screen.state().alerts[0]
        assert first.text in text.replace("\n", " ") or first.text[:30] in text  # the first one in full
        assert "Key v." in text and "k acknowledges the first alert" in text
        assert "c1d1" not in text and "C1 D1:" in text


async def test_a_burst_of_keys_records_no_acknowledgement_stop_or_end_of_observation(app, clock):
    clock.set(T0)
    async with app.run_test(size=(80, 24)) as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        await press_start(pilot, pid)
        await pilot.pause()
        before = kinds(app, pid)

        # Infusing: t asks for a reason first; the rest of the burst lands in that field.
        await burst(pilot, "tttssskkk")
        assert isinstance(app.screen, FieldsDialog) and "stopped the infusion of C1 D1" in app.screen.note
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and kinds(app, pid) == before

        clock.advance(minutes=125)  # ended, observed for an hour: alerts up, observation may end
        screen.refresh_all()
        await pilot.pause()
        assert screen.state().alerts and screen.state().can_complete_observation.allowed
        for keys in ("aaa", "kkk", "ooo", "kokoko", "sss", "kok"):
            await burst(pilot, keys)
            confirms = [s for s in app.screen_stack if isinstance(s, ConfirmScreen)]
            assert len(confirms) == (1 if set(keys) & {"k", "o"} else 0), app.screen_stack  # one question at a time
            assert not set(kinds(app, pid)) - set(before) & set(RECORDED_BY_KEYS), keys
            while app.screen is not screen:
                await pilot.press("n")
                await pilot.pause()
        assert kinds(app, pid) == before  # nothing at all was recorded

        # The question names what y records; only y records it.
        await pilot.press("k")
        await pilot.pause()
        first = screen.state().alerts[0]
        assert isinstance(app.screen, ConfirmScreen) and first.text in app.screen.text and "Nina" in app.screen.text
        await pilot.press("k", "o", "escape")  # other keys do not answer it; escape is no
        await pilot.pause()
        assert app.screen is screen and inf.ALERT_ACKNOWLEDGED not in kinds(app, pid)
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert kinds(app, pid)[-1] == inf.ALERT_ACKNOWLEDGED
        assert first.id not in {a.id for a in screen.state().alerts}


async def test_a_set_of_vital_signs_costs_at_most_12_keys_plus_the_digits(app, clock):
    clock.set(T0)
    async with app.run_test(size=(80, 24)) as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        values = ("36.8", "78", "122", "76", "16", "98")
        keys = ["v"]
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, FieldsDialog)
        assert app.screen.query_one("#f-time").value == clock_hm(clock.now(), clock.now())  # taken now, editable
        for value in values:
            await type_text(pilot, value)
            await pilot.press("enter")
            keys.append("enter")
        await pilot.press("enter")  # Enter on the last field (the time) records the set
        keys.append("enter")
        await pilot.pause()
        assert app.screen is screen
        (ev,) = [e for e in app.ledger.stream_events(app.ledger.patient(pid).stream) if e.kind == inf.VITALS_RECORDED]
        assert ev.data["hr"] == 78 and ev.data["temp_c"] == "36.8" and ev.data["spo2"] == 98
        assert ev.data["at"] == clock.now().strftime("%Y-%m-%dT%H:%M:%S.000000Z")  # the prefilled time: now itself
        assert len(keys) <= 12, keys  # the budget (issue 17)
        assert keys == ["v"] + ["enter"] * 7  # today: v, one Enter per value, one more on the time

        # A late entry: the time it was taken, typed over the prefilled one.
        clock.advance(minutes=7)
        await pilot.press("v")
        await pilot.pause()
        for name, value in zip(("temp_c", "hr", "sys", "dia", "rr", "spo2"), values, strict=True):
            app.screen.query_one(f"#f-{name}").value = value
        app.screen.query_one("#f-time").value = "08:12"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        late = [e for e in app.ledger.stream_events(app.ledger.patient(pid).stream) if e.kind == inf.VITALS_RECORDED][-1]
        assert late.data["at"] == "2025-03-03T08:12:00.000000Z"

        await pilot.press("v")
        await pilot.pause()
        for name, value in zip(("temp_c", "hr", "sys", "dia", "rr", "spo2"), values, strict=True):
            app.screen.query_one(f"#f-{name}").value = value
        app.screen.query_one("#f-time").value = "23:59"  # later than now: said under the field, nothing recorded
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FieldsDialog) and "later than now" in str(app.screen.query_one("#e-time").render())


def test_the_bar_is_readable_without_colour():
    console = Console(no_color=True, width=20, record=True)
    console.print(PlainBar(highlight_range=(0, 5), highlight_style="green", background_style="grey37", width=20))
    assert console.export_text().strip() == "━" * 5 + "─" * 15


async def test_without_colour_the_phase_is_written_in_words(monkeypatch, demo_ledger, idle, clock):
    monkeypatch.setenv("NO_COLOR", "1")
    app = BedsideApp(demo_ledger, demo=True, idle_clock=idle)
    clock.set(T0)
    async with app.run_test(size=(80, 24)) as pilot:
        pid, screen = await open_ready_monitor(app, pilot, clock)
        await press_start(pilot, pid)
        await pilot.pause()
        assert isinstance(screen, MonitorScreen) and app.has_class("-no-color")
        block = screen.query_one("#mon-phase", Static).content  # the rich Text the screen gave it
        assert [line.strip() for line in block.plain.split("\n")] == ["", "INFUSING", ""]  # the word, in a block
        assert "reverse" in str(block.style) and len(set(map(len, block.plain.split("\n")))) == 1  # all of it reversed

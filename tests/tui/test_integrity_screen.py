"""Issue 18 in the shell: while the log holds findings no admin has seen, every screen (the sign-in
included) says so on its top line, in words, at 80x24, with and without colour; a forged admin
cannot sign in; an admin opens the report (r, the palette, help), reads every finding literally
and acknowledges it (y, then y), and the line goes, until a new finding brings it back."""

from __future__ import annotations

import pytest
from textual.command import CommandList

from bedside.tui.app import BedsideApp
from bedside.tui.scenes import forge_admin
from bedside.tui.screens.help import help_groups
from bedside.tui.screens.integrity import IntegrityBanner, IntegrityScreen
from bedside.tui.screens.patient import PatientScreen
from bedside.tui.screens.patients import PatientListScreen
from bedside.tui.screens.signin import SignInScreen
from bedside.tui.screens.timeline import TimelineScreen

from .conftest import sign_in, type_text


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def banner_line(app) -> str:
    return lines(app)[1]


@pytest.fixture(params=[False, True], ids=["colour", "no-color"])
def tampered(request, demo_ledger, idle, monkeypatch):
    if request.param:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    return BedsideApp(demo_ledger, demo=True, idle_clock=idle)


async def test_the_warning_is_on_every_screen_and_the_forged_admin_cannot_sign_in(tampered):
    app = tampered
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "TAMPERING" not in "\n".join(lines(app))  # a clean log: no line at all
        seq = forge_admin(app)
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        top = banner_line(app)
        assert f"⚠ TAMPERING: event {seq} forged, ignored. Tell an admin (report: r)" in top, top
        assert len(top.rstrip()) <= 80
        await sign_in(pilot, "mallory", "1234")
        assert isinstance(app.screen, SignInScreen) and app.user is None  # not a user at all
        assert "TAMPERING" in banner_line(app)
        app.switch_screen(SignInScreen())  # a fresh form
        await pilot.pause()
        await sign_in(pilot, "nina")
        assert isinstance(app.screen, PatientListScreen)
        pid = app.ledger.patients()[0].id
        for screen in (PatientScreen(pid), TimelineScreen(pid)):
            app.push_screen(screen)
            await pilot.pause()
            await pilot.pause()
            shown = lines(app)
            assert "TAMPERING" in shown[1], shown[:3]
            assert shown[-1].strip(), "the footer is still on the last line"
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("r")  # a nurse: not theirs
        await pilot.pause()
        assert not isinstance(app.screen, IntegrityScreen)
        assert not app.check_action("integrity", ())
        assert not any("integrity" in what for _g, items in help_groups(app.screen) for _k, what, _on in items)


async def test_an_admin_reads_the_report_and_acknowledges_it(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.check_action("integrity", ())  # nothing to report: no key, no palette entry
        seq = forge_admin(app, "[bold]mallory")  # markup in the stored text stays literal
        await sign_in(pilot, "adam")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, IntegrityScreen)
        text = "\n".join(lines(app))
        assert f"first bad event {seq}" in text and "NOT acknowledged" in text
        assert f"event {seq} (users#" in text and "not authenticated" in text
        await pilot.press("y")
        await pilot.pause()
        assert "Acknowledge the integrity report" in "\n".join(lines(app))
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, IntegrityScreen)
        assert "· acknowledged" in lines(app)[1] and "Last acknowledged by adam" in "\n".join(lines(app))
        assert not app.screen.query(IntegrityBanner)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PatientListScreen) and not app.screen.query(IntegrityBanner)
        assert app.check_action("integrity", ())  # the report stays open to admins
        forge_admin(app, "eve")  # a new finding brings the line back
        await pilot.pause()
        assert "TAMPERING" in banner_line(app) and "(+1 more)" in banner_line(app)


async def test_the_report_is_in_the_palette_and_help_for_an_admin_only(app):
    async with app.run_test(size=(80, 24)) as pilot:
        forge_admin(app)
        await sign_in(pilot, "adam")
        rows = [(keys, what) for _group, items in help_groups(app.screen) for keys, what, _on in items]
        assert ("r", "the integrity report: what is wrong with the record (admins)") in rows
        await pilot.press("ctrl+p")
        await type_text(pilot, "integrity")
        for _ in range(50):
            found = app.screen.query(CommandList)
            if found and found.first().option_count:
                break
            await pilot.pause(0.02)
        assert "Integrity report" in "\n".join(lines(app))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, IntegrityScreen)


async def test_the_warning_line_does_not_keep_the_terminal_busy(demo_ledger, idle):
    """The app's empty default screen under the stack has no place for the line: it once asked
    again after every refresh, for ever (a tampered or owner-role log then redrew the terminal
    all the time and every key took a second)."""
    app = BedsideApp(demo_ledger, demo=True, idle_clock=idle)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        forge_admin(app)
        await sign_in(pilot, "nina")
        assert "TAMPERING" in banner_line(app)
        calls = 0
        shown = app.show_integrity

        def counting() -> None:
            nonlocal calls
            calls += 1
            shown()

        app.show_integrity = counting
        for _ in range(10):
            await pilot.pause(0.02)
        assert calls <= 1, f"show_integrity ran {calls} times on an idle app"

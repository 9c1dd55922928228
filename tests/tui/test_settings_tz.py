"""The site's time zone on screen (CONV-TIME-1): Settings validates it; a typed time in a DST gap
is refused naming the field; one in a fold is the earlier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bedside.core import clock
from bedside.core.site import SITE_STREAM
from bedside.tui.screens.admin import SettingsScreen
from bedside.tui.widgets.field import ErrorLine, Field

from .conftest import sign_in


@pytest.fixture(autouse=True)
def _own_zone(monkeypatch):
    monkeypatch.setattr(clock, "_current", None)
    monkeypatch.delenv(clock.ENV_ZONE, raising=False)


async def open_settings(app, pilot):
    await sign_in(pilot, "adam")
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(app.screen, SettingsScreen)
    return app.screen


async def test_an_unknown_zone_is_refused_naming_the_field_and_nothing_is_saved(app):
    async with app.run_test() as pilot:
        screen = await open_settings(app, pilot)
        before = app.ledger.version(SITE_STREAM)
        screen.query_one("#site_name", Field).value = "Ward 7"  # would be saved with a valid zone
        screen.query_one("#time_zone", Field).value = "Europe/Atlantis"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(screen.query_one("#e-time_zone", ErrorLine).render())
        assert error.startswith("Time zone: 'Europe/Atlantis' is not a known time zone")
        assert app.ledger.version(SITE_STREAM) == before and app.ledger.site().site_name == ""


async def test_a_valid_zone_is_saved_and_applied_at_once(app):
    async with app.run_test() as pilot:
        screen = await open_settings(app, pilot)
        assert "from TZ" in str(screen.query_one("#zone-hint").render())  # the tests run with TZ=UTC
        screen.query_one("#time_zone", Field).value = "America/New_York"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.ledger.site().time_zone == "America/New_York"
        assert app.ledger.zone.source == "site setting" and clock.local_tz().key == "America/New_York"
        assert "America/New_York (from site setting)" in str(screen.query_one("#zone-hint").render())
        # 2025-03-03 08:00 UTC (the test clock) is 03:00 EST
        assert clock.fmt_local(app.ledger.clock.now()) == "2025-03-03 03:00"


async def test_a_preparation_time_in_the_spring_gap_is_refused_and_one_in_the_fold_is_the_earlier(app):
    from bedside.tui.screens.preparation import StepScreen

    answers = []
    async with app.run_test() as pilot:
        await sign_in(pilot, "phil")
        app.ledger.set_site("adam", "time_zone", "Europe/Berlin")
        app.push_screen(StepScreen("reconstituted", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)), answers.append)  # 03:30 CEST
        await pilot.pause()
        dlg = app.screen
        dlg.query_one("#f-time", Field).value = "02:30"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dlg and answers == []
        error = str(dlg.query_one("#e-time", ErrorLine).render())
        assert error.startswith("Time: 02:30 does not exist on 2026-03-29 in Europe/Berlin")
        dlg.query_one("#f-time", Field).value = "01:50"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert answers == [{"at": datetime(2026, 3, 29, 0, 50, tzinfo=UTC)}]

        app.push_screen(StepScreen("reconstituted", datetime(2026, 10, 25, 1, 45, tzinfo=UTC)), answers.append)  # 02:45 CET
        await pilot.pause()
        app.screen.query_one("#f-time", Field).value = "02:30"  # 00:30 UTC (CEST) or 01:30 UTC (CET)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert answers[-1] == {"at": datetime(2026, 10, 25, 0, 30, tzinfo=UTC)}

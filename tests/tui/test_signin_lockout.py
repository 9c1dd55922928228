"""Sign-in lockout on the screens: one message for everyone, a lock that lifts by itself, the
idle lock's notice, the admin's unlock and a co-signer's sign-in."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from bedside.core import auth
from bedside.tui.screens.dialogs import AuthScreen
from bedside.tui.screens.patients import PatientListScreen
from bedside.tui.screens.signin import LockScreen, SignInScreen
from bedside.tui.widgets.field import ErrorLine, Field

from .conftest import sign_in, type_text


def text_of(widget) -> str:
    return str(widget.render())


async def retry(pilot, app, user: str, pin: str) -> None:
    app.screen.query_one("#username", Field).value = ""
    app.screen.query_one("#username", Field).focus()
    await sign_in(pilot, user, pin)


def lock(ledger, user: str) -> None:
    for _ in range(auth.MAX_FAILED_ATTEMPTS):
        ledger.sign_in(user, "0000")
    assert ledger.lock_ends(user) is not None


async def test_unknown_name_and_wrong_pin_read_the_same_and_the_lock_lifts_by_itself(app, clock):
    async with app.run_test() as pilot:
        await sign_in(pilot, "nobody", "1234")
        unknown = text_of(app.screen.query_one("#signin-message", Static))
        await retry(pilot, app, "phil", "0000")
        wrong = text_of(app.screen.query_one("#signin-message", Static))
        assert unknown == wrong == auth.SIGNIN_REFUSED
        assert "left" not in wrong, "no 'tries left' that would tell a real account"
        for _ in range(auth.MAX_FAILED_ATTEMPTS - 1):
            await retry(pilot, app, "phil", "0000")
        await retry(pilot, app, "phil", "1234")
        assert isinstance(app.screen, SignInScreen), "locked: the right PIN does not sign in"
        clock.advance(seconds=auth.LOCKOUT_FIRST_DELAY.total_seconds())
        await retry(pilot, app, "phil", "1234")
        assert isinstance(app.screen, PatientListScreen), "the lock has lifted by itself"


async def test_the_idle_lock_says_until_when_the_account_is_locked(app, idle):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        idle.t += 15 * 60
        app.lock_if_idle()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await type_text(pilot, "9999")
        await pilot.press("enter")
        await pilot.pause()
        assert text_of(app.screen.query_one("#lock-message", Static)) == "Wrong PIN."
        for _ in range(auth.MAX_FAILED_ATTEMPTS - 1):
            await type_text(pilot, "9999")
            await pilot.press("enter")
            await pilot.pause()
        # 08:00 (the test clock, UTC) + the first delay: this screen already names the user
        assert "until 08:01:00" in text_of(app.screen.query_one("#lock-message", Static))
        await type_text(pilot, "1234")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen), "the right PIN does not lift a lock"


async def test_admin_unlocks_a_locked_user_on_the_users_screen(app):
    from bedside.tui.screens.admin import UsersScreen

    lock(app.ledger, "phil")
    async with app.run_test() as pilot:
        await sign_in(pilot, "adam")
        await pilot.press("u")
        assert isinstance(app.screen, UsersScreen)
        table = app.screen.query_one("#users", DataTable)
        row = [str(k.value) for k in table.rows].index("phil")
        assert str(table.get_row_at(row)[3]).startswith("LOCKED to 08:01")
        table.move_cursor(row=row)
        await pilot.press("u")
        await pilot.pause()
        assert app.ledger.lock_ends("phil") is None
        assert app.ledger.stream_events(auth.USERS_STREAM)[-1].kind == "user.unlocked"
        assert app.ledger.stream_events(auth.USERS_STREAM)[-1].actor == "adam"
        assert str(table.get_row_at(row)[3]) == "active"


async def test_a_co_signer_sign_in_shows_the_same_refusal(app):
    lock(app.ledger, "phil")
    answers = []
    async with app.run_test() as pilot:
        await sign_in(pilot)
        app.push_screen(AuthScreen(("pharmacist",), "A pharmacist confirms."), answers.append)
        await pilot.pause()
        for user in ("phil", "nobody"):  # locked (right PIN), then unknown: the same words
            dlg = app.screen
            dlg.query_one("#f-user", Field).value = user
            dlg.query_one("#f-pin", Field).value = "1234"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert text_of(dlg.query_one("#e-user", ErrorLine)) == auth.SIGNIN_REFUSED
        assert answers == [] and isinstance(app.screen, AuthScreen)

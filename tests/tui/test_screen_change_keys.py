"""Keys never land on the wrong screen (issue 17): a key typed while the screen is changing (after
the PIN's Enter, while the sign-in is checked and the patient list appears) is not delivered to the
next screen as a command; text typed into a field that has the focus is kept.

A terminal's key event carries the time it was read (textual Message.time); a key read before the
screen now in front was drawn could not have been meant for it. Here such keys are made as the
driver makes them, at the moment they are typed, and delivered as the event loop gets to them.
"""

from __future__ import annotations

import time

from textual import events

from bedside.tui.screens.audit import AuditScreen
from bedside.tui.screens.board import BoardScreen
from bedside.tui.screens.intake_form import FormScreen
from bedside.tui.screens.patient import PatientScreen
from bedside.tui.screens.patients import PatientListScreen
from bedside.tui.screens.signin import SignInScreen
from bedside.tui.widgets.field import ErrorLine, Field

from .conftest import sign_in, type_text

NAMES = {"\r": "enter", "/": "slash", " ": "space"}


def key(ch: str) -> events.Key:
    return events.Key(NAMES.get(ch, ch), ch if len(ch) == 1 else None)


async def until(pilot, ready, timeout: float = 10.0) -> None:
    """Wait (a loaded machine: the PIN's check takes a while) until ``ready()`` and the screen in
    front has been drawn (keys a user types after that are meant for it)."""
    deadline = time.monotonic() + timeout
    while not ready() or pilot.app._settling:
        assert time.monotonic() < deadline, pilot.app.screen
        await pilot.pause(0.05)
    await pilot.pause()


def burst(app, text: str) -> None:
    """Keys as a terminal delivers them over a slow link: all queued at once."""
    for ch in text:
        app.post_message(key(ch))


async def test_a_key_typed_while_the_sign_in_is_checked_does_not_open_the_audit(app, monkeypatch):
    """ "1234⏎" and, at once, "a": the "a" is read while the PIN is being checked (the event loop
    is busy with the check) and handled once the patient list is up; it must not open the audit."""
    ledger = app.ledger
    real = ledger.sign_in

    def sign_in_while_typing(username, pin):
        app.post_message(key("a"))  # typed now, during the check
        return real(username, pin)

    monkeypatch.setattr(ledger, "sign_in", sign_in_while_typing)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "nina")
        await pilot.press("enter")
        burst(app, "1234\r")
        await until(pilot, lambda: app.user is not None)
        await pilot.pause(0.2)
        assert isinstance(app.screen, PatientListScreen), app.screen
        await pilot.press("a")  # typed once the list is drawn: a command as usual
        assert isinstance(app.screen, AuditScreen)


async def test_keys_typed_at_once_after_the_pin_are_not_commands_on_the_patient_list(app):
    async with app.run_test(size=(80, 24)) as pilot:
        burst(app, "nina\r1234\ra")
        late = [key("i"), key("\r")]  # read with the burst, handled after the patient list is up
        await until(pilot, lambda: isinstance(app.screen, PatientListScreen))
        for k in late:
            app.post_message(k)
        await pilot.pause(0.3)
        assert isinstance(app.screen, PatientListScreen), app.screen  # not the audit, board or a patient


async def test_a_key_typed_before_a_screen_opened_is_dropped_but_not_one_typed_after(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        early = key("\r")  # typed on the list, before "i" opened the board
        await pilot.press("i")
        assert isinstance(app.screen, BoardScreen)
        app.post_message(early)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen), "the Enter typed before did not open a monitor or go anywhere"
        early = key("escape")
        await pilot.press("escape")  # back to the list: a change of screen too
        assert isinstance(app.screen, PatientListScreen)
        app.post_message(early)
        await pilot.pause()
        assert isinstance(app.screen, PatientListScreen)
        await pilot.press("enter")  # typed after: as usual
        assert isinstance(app.screen, PatientScreen)


async def test_text_typed_into_the_field_that_has_the_focus_is_kept_during_a_change(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        typed = [key(ch) for ch in "DOE"] + [key("ctrl+s")]  # typed while "n" opened the form
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, FormScreen)
        focused = form.focused
        assert isinstance(focused, Field)
        for k in typed:
            app.post_message(k)
        await pilot.pause()
        assert focused.value == "DOE", "typed into the field that has the focus: kept"
        assert app.screen is form
        shown = [str(e.render()) for e in form.query(ErrorLine) if e.display]
        assert not shown, f"ctrl+s, typed before the form was drawn, was not taken as a save: {shown}"
        await pilot.press("escape")
        assert isinstance(app.screen, PatientListScreen)


async def test_a_sign_in_typed_during_the_change_to_the_sign_in_screen_lands_in_its_fields(app):
    async with app.run_test(size=(80, 24)) as pilot:
        burst(app, "nina\r1234\r")
        await until(pilot, lambda: isinstance(app.screen, PatientListScreen))
        typed = [key(ch) for ch in "noah\r1234\r"]  # typed while f5 brings the sign-in screen back
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and app.screen.focused.id == "username"
        for k in typed:  # the text goes into the fields; Enter is the fields' own (moves on, signs in)
            app.post_message(k)
        await until(pilot, lambda: app.user is not None)
        assert isinstance(app.screen, PatientListScreen) and app.user.username == "noah"

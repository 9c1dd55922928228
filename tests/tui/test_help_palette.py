"""The conventions of a Textual app (issue 17): help on F1 and ?, the command palette with the
app's own commands (only once signed in), and themes remembered per user."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time

from textual.command import CommandList, CommandPalette
from textual.screen import Screen
from textual.widgets import Header, Static

from bedside.core import auth, intake
from bedside.tui import screens
from bedside.tui.app import THEMES, BedsideApp
from bedside.tui.palette import HEADER_ICON, BedsideCommands
from bedside.tui.screens.audit import AuditScreen
from bedside.tui.screens.board import BoardScreen
from bedside.tui.screens.help import PURPOSES, HelpScreen, purpose_of
from bedside.tui.screens.patient import PatientScreen
from bedside.tui.screens.patients import PatientListScreen
from bedside.tui.screens.signin import LockScreen, SignInScreen
from bedside.tui.widgets.field import Field

from .conftest import sign_in, type_text


def help_text(app) -> str:
    assert isinstance(app.screen, HelpScreen), app.screen
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


# -- help -------------------------------------------------------------------------------------
async def test_f1_lists_the_keys_of_the_screen_with_what_it_is_for_and_escape_closes_it(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        await pilot.press("f1")
        text = help_text(app)
        assert text.startswith("Keys of this screen") and "Every patient: search by name or MRN" in text
        for words in ("This screen", "Search", "Audit", "Infusions", "Sign out", "Everywhere", "In the table", "move"):
            assert words in text, words
        assert "Users (not available now)" in text  # a nurse: shown disabled, as in the footer
        assert "ctrl+p" in text  # signed in: the palette is offered
        await pilot.press("escape")
        assert isinstance(app.screen, PatientListScreen)
        await pilot.press("f1")
        await pilot.press("f1")  # F1 again closes it too
        assert isinstance(app.screen, PatientListScreen)


async def test_help_is_made_from_the_screen_it_was_opened_on(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "adam")
        await pilot.press("f1")
        assert "Users (not available now)" not in help_text(app) and "Users" in help_text(app)  # an admin
        await pilot.press("escape", "enter")  # the first patient
        assert isinstance(app.screen, PatientScreen)
        await pilot.press("question_mark")
        text = help_text(app)
        for words in ("Record", "Correct", "Timeline", "Boxed warning", "Back"):
            assert words in text, words
        assert "Search" not in text, "the patient list's keys are not this screen's"


async def test_question_mark_is_typed_into_a_text_field_not_taken_for_help(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "ni?")  # the sign-in screen: the user name field has the focus
        assert isinstance(app.screen, SignInScreen)
        assert app.screen.query_one("#username", Field).value == "ni?"
        await pilot.press("f1")  # F1 works in a field, and before the sign-in
        assert "Sign in with your user name and PIN" in help_text(app)
        assert "ctrl+p" not in help_text(app), "no palette before the sign-in"
        await pilot.press("escape")
        app.screen.query_one("#username", Field).value = ""
        await sign_in(pilot)
        await pilot.press("slash")
        await type_text(pilot, "?")
        assert isinstance(app.screen, PatientListScreen)
        assert app.screen.query_one("#search", Field).value == "?"


def test_every_screen_says_what_it_is_for():
    """A new screen needs a line of help: a HELP attribute, or an entry in help.PURPOSES."""
    missing = []
    for info in pkgutil.iter_modules(screens.__path__):
        module = importlib.import_module(f"bedside.tui.screens.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            ours = issubclass(cls, Screen) and cls.__module__ == module.__name__ and "compose" in cls.__dict__
            if ours and not (getattr(cls, "HELP", None) or PURPOSES.get(name)):
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"screens without a line of help (tui/screens/help.py PURPOSES): {missing}"
    stale = sorted(set(PURPOSES) - {n for m in _screen_modules() for n, _c in inspect.getmembers(m, inspect.isclass)})
    assert not stale, f"PURPOSES names screens that are gone: {stale}"


def _screen_modules():
    return [importlib.import_module(f"bedside.tui.screens.{i.name}") for i in pkgutil.iter_modules(screens.__path__)]


def test_a_screen_may_say_its_purpose_itself():
    class Odd(Screen):
        HELP = "Something odd, for a test."

    assert purpose_of(Odd()) == "Something odd, for a test."


# -- the command palette -----------------------------------------------------------------------
async def palette(pilot, query: str, expect: str) -> None:
    """ctrl+p, ``query`` typed, and wait (the palette gathers its hits in the background) until a
    hit shows ``expect``."""
    await pilot.press("ctrl+p")
    assert CommandPalette.is_open(pilot.app)
    await type_text(pilot, query)
    deadline = time.monotonic() + 10
    while not any(expect in str(o.prompt) for o in pilot.app.screen.query_one(CommandList).options):
        assert time.monotonic() < deadline, f"no hit {expect!r} for {query!r}"
        await pilot.pause(0.05)
    await pilot.pause(0.1)


async def choose_first(pilot) -> None:
    await pilot.press("down", "enter")
    await pilot.pause()


async def test_the_palette_opens_a_patient_by_mrn_or_name(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        await palette(pilot, "100590", "NAKAMURA, Ren")
        await choose_first(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert app.ledger.patient(app.screen.pid).mrn == "MRN-100590"
        await pilot.press("escape")
        await palette(pilot, "hartman", "HARTMAN, Lena")
        await choose_first(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert app.ledger.patient(app.screen.pid).name == "HARTMAN, Lena"


async def test_the_palette_signs_out_and_opens_the_board_the_audit_and_help(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        for query, screen in (("active infusions", BoardScreen), ("audit", AuditScreen), ("help", HelpScreen)):
            await palette(pilot, query, query.capitalize())
            await choose_first(pilot)
            assert isinstance(app.screen, screen), (query, app.screen)
            await pilot.press("escape")
            await pilot.pause()
        await palette(pilot, "sign out", "Sign out")
        await choose_first(pilot)
        assert isinstance(app.screen, SignInScreen) and app.user is None


async def test_the_palette_offers_nothing_before_the_sign_in_or_over_the_lock(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        assert not CommandPalette.is_open(app) and isinstance(app.screen, SignInScreen)
        app.action_command_palette()  # a click on the header's icon runs this action
        await pilot.pause()
        assert not CommandPalette.is_open(app)
        provider = BedsideCommands(app.screen)
        assert [hit async for hit in provider.search("naka")] == []
        assert [hit async for hit in provider.discover()] == []
        await sign_in(pilot)
        app.action_lock()
        await pilot.pause()
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, LockScreen) and not CommandPalette.is_open(app)


async def test_a_name_in_the_palette_is_shown_as_typed_never_as_markup(app):
    data = {"name": "[bold red]DOE[/], Jane", "dob": "1970-01-01", "mrn": "MRN-9001", "sex": "female"}
    app.ledger.register_patient("nina", intake.validate("identity", data, today=app.ledger.today()).data)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        provider = BedsideCommands(app.screen)
        hits = [hit async for hit in provider.search("9001")]
        assert [h.match_display.plain for h in hits] == ["Open [bold red]DOE[/], Jane · MRN-9001"]
        assert not hits[0].match_display.spans


async def test_the_header_icon_is_a_plain_character(app):
    async with app.run_test(size=(80, 24)) as pilot:
        assert {h.icon for h in app.screen.query(Header)} == {HEADER_ICON}
        await sign_in(pilot)
        assert {h.icon for h in app.screen.query(Header)} == {HEADER_ICON} and HEADER_ICON.isascii()


# -- themes ---------------------------------------------------------------------------------------
async def test_a_theme_is_remembered_per_user_across_sign_out_and_sign_in(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        assert app.theme == THEMES["dark"]
        await pilot.press("ctrl+t")  # the next theme: light
        assert app.theme == THEMES["light"]
        assert app.ledger.users()["nina"].preference("theme") == "light"
        assert app.ledger.stream_events(auth.USERS_STREAM)[-1].kind == auth.USER_PREFERENCE_SET
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and app.theme == THEMES["dark"], "sign-in in the default"
        await sign_in(pilot, "noah")
        assert app.theme == THEMES["dark"], "noah never chose one"
        await pilot.press("f5")
        await pilot.pause()
        await sign_in(pilot, "nina")
        assert app.theme == THEMES["light"], "nina's choice, from the users log"
        await palette(pilot, "high contrast", "Theme: high contrast")
        await choose_first(pilot)
        assert app.theme == THEMES["high-contrast"] == "bedside-high-contrast"
        assert app.ledger.users()["nina"].preference("theme") == "high-contrast"


async def test_no_color_keeps_the_terminals_colours_whatever_the_user_chose(demo_ledger, idle, monkeypatch):
    demo_ledger.execute(auth.SetPreference("nina", "theme", "light"), "nina")
    monkeypatch.setenv("NO_COLOR", "1")
    app = BedsideApp(demo_ledger, demo=True, idle_clock=idle)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        assert app.theme == "ansi-dark"
        before = demo_ledger.version(auth.USERS_STREAM)
        await pilot.press("ctrl+t")
        assert app.theme == "ansi-dark" and demo_ledger.version(auth.USERS_STREAM) == before
        provider = BedsideCommands(app.screen)
        assert not [hit async for hit in provider.search("theme")], "no theme offered without colour"


async def test_the_palette_offers_patients_whose_mrn_or_name_holds_every_word_and_at_most_a_screenful(app):
    from bedside.tui.palette import PALETTE_PATIENTS

    for i in range(PALETTE_PATIENTS + 5):
        data = {"name": f"TESTER, Pat{i}", "dob": "1970-01-01", "mrn": f"MRN-77{i:03d}", "sex": "female"}
        app.ledger.register_patient("nina", intake.validate("identity", data, today=app.ledger.today()).data)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        provider = BedsideCommands(app.screen)
        hits = [hit async for hit in provider.search("tester")]
        assert len(hits) == PALETTE_PATIENTS, "at most a screenful of patients: type more to narrow"
        exact = [hit.text async for hit in provider.search("tester pat7")]
        assert exact == ["Open TESTER, Pat7 · MRN-77007"]
        assert [hit async for hit in provider.search("nkmr")] == [], "no near name is guessed"

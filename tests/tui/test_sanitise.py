"""Stored text never drives the terminal (issue 14): a patient name that reached the log without
passing the intake form (another host, an import, an older version) is shown literally on the
patient list and the patient screen, in the printed record, and nothing typed can put a control
character into a form."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
from rich.text import Text

from bedside.core import intake
from bedside.core.events import NewEvent
from bedside.core.text import printable
from bedside.tui.screens.patient import PatientScreen
from bedside.tui.screens.patients import PatientListScreen
from bedside.tui.text import literal, shown
from bedside.tui.widgets.field import Field

from .conftest import sign_in, type_text

HOSTILE_NAME = "EVIL\x1b]0;pwned\x07\x1b[2J, \u202eJane\u2066x\x9b1m"
HOSTILE_MRN = "MRN-\x1b[31m666"


def put_hostile_patient(ledger, clock) -> str:
    """Bypass every UI and validator: straight into the store."""
    pid = intake.new_patient_id()
    stream = intake.PATIENT_PREFIX + pid
    data = {"name": HOSTILE_NAME, "dob": "1970-01-01", "mrn": HOSTILE_MRN, "sex": "female"}
    ledger.store.append(stream, 0, [NewEvent(stream, "patient.registered", "nina", clock.now(), data)])
    ledger.refresh(force=True)  # as a running app's poll would pick it up
    return pid


def rendered(app) -> str:
    """What the screen would send to the terminal now (styles as escape sequences included)."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def assert_inert(app) -> None:
    out = rendered(app)
    # Style sequences (ESC [ ... m) are Textual's own; the stored ones must not be there.
    assert "\x1b]0;" not in out and "\x07" not in out, "a title-setting sequence reached the terminal"
    assert "\x1b[2J" not in out and "\x1b[31m666" not in out
    assert "\u202e" not in out and "\u2066" not in out and "\x9b" not in out
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\u202e" not in svg


async def test_hostile_name_shows_literally_on_list_and_patient_screen(app, demo_ledger, clock):
    pid = put_hostile_patient(demo_ledger, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot)
        await pilot.pause()
        assert isinstance(app.screen, PatientListScreen)
        await pilot.press("slash")
        await type_text(pilot, "evil")
        await pilot.pause()
        assert "1 of" in str(app.screen.query_one("#patients-count").render())
        assert_inert(app)
        svg = app.export_screenshot()
        assert "pwned" in svg  # shown, as text
        await app.push_screen(PatientScreen(pid))
        await pilot.pause()
        assert_inert(app)
        ident = str(app.screen.query_one("#identity").render())
        assert "EVIL␛]0;pwned␇␛[2J" in ident and "MRN-␛[31m666" in ident
        assert "\ufffdJane" in ident


def test_print_record_of_a_hostile_name_has_no_escape_byte(tmp_path, monkeypatch):
    from bedside.core.auth import SiteKey
    from bedside.core.clock import FakeClock
    from bedside.core.demo import DEMO_KEY, seed
    from bedside.core.service import Ledger
    from bedside.core.store import SqliteStore
    from bedside.tui.cli import main

    db = tmp_path / "h.db"
    SiteKey(tmp_path / "h.db.key").replace(DEMO_KEY.keyring())  # the key the demo's events are signed with
    store = SqliteStore(db)
    clock = FakeClock()
    seed(store, clock)
    ledger = Ledger(store, clock, SiteKey(tmp_path / "h.db.key"))
    put_hostile_patient(ledger, clock)
    store.close()
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["print", "record", "MRN-\x1b[31m666", "--db", str(db)])
    assert code == 0, err.getvalue()
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\x9b" not in text
    assert "EVIL\\x1b]0;pwned\\x07\\x1b[2J" in text


def test_export_fhir_of_a_hostile_name_is_inert_json(tmp_path):
    import json

    from bedside.core.auth import SiteKey
    from bedside.core.clock import FakeClock
    from bedside.core.demo import DEMO_KEY, seed
    from bedside.core.service import Ledger
    from bedside.core.store import SqliteStore
    from bedside.tui.cli import main

    db = tmp_path / "h.db"
    SiteKey(tmp_path / "h.db.key").replace(DEMO_KEY.keyring())  # the key the demo's events are signed with
    store = SqliteStore(db)
    clock = FakeClock()
    seed(store, clock)
    put_hostile_patient(Ledger(store, clock, SiteKey(tmp_path / "h.db.key")), clock)
    store.close()
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["export", "fhir", HOSTILE_MRN, "--db", str(db)])
    assert code == 0, err.getvalue()
    text = out.getvalue()
    assert not any(ch in text for ch in "\x1b\x07\x9b\u202e\u2066")
    bundle = json.loads(text)

    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict | list):
            for x in v.values() if isinstance(v, dict) else v:
                yield from strings(x)

    # The data itself is unchanged, only escaped: the family name arrives as stored.
    assert any(x.startswith("EVIL\x1b]0;pwned\x07\x1b[2J") for x in strings(bundle))


def test_shown_keeps_styles_and_newlines():
    t = Text()
    t.append("Name: ", style="bold")
    t.append("A\x1b[2JB\nC")
    out = shown(t)
    assert out.plain == "Name: A␛[2JB\nC"
    assert out.spans[0].start == 0 and out.spans[0].end == 6
    assert literal("[red]x[/]").plain == "[red]x[/]"  # never markup
    assert literal("a\nb").plain == "a␊b" and literal("a\nb", multiline=True).plain == "a\nb"


@pytest.mark.parametrize("bad", ["\x1b[2J", "x\x00y", "\u202eevil", "a\x7f", "\x9b1m", "\u2066"])
async def test_field_refuses_control_characters(bad):
    from textual.app import App

    class One(App):
        def compose(self):
            yield Field(id="f")

    app = One()
    async with app.run_test() as pilot:
        f = app.query_one(Field)
        f.focus()
        f.insert_text_at_cursor("ok")
        f.insert_text_at_cursor(bad)  # typed or scanned in one go: refused whole
        await pilot.pause()
        assert f.value == "ok"
        from textual import events

        f._on_paste(events.Paste(bad))
        assert f.value == "ok"
        f._on_paste(events.Paste("a\tb\r\nc"))  # a spreadsheet cell, a line copied with its end
        assert f.value == "oka b c"
        f.insert_text_at_cursor("\x1d")  # a GS1 scanner's group separator is kept for the parser
        assert f.value.endswith("\x1d")


async def test_field_prefill_from_stored_text_is_shown_not_obeyed():
    from textual.app import App

    class One(App):
        def compose(self):
            yield Field(value="DOE\x1b[2J", id="f")

    app = One()
    async with app.run_test():
        assert app.query_one(Field).value == "DOE␛[2J"


def test_intake_and_reason_refuse_controls_naming_the_field(ledger):
    from datetime import date

    good = {"name": "DOE, Jane", "dob": "1970-01-01", "mrn": "MRN-1", "sex": "female"}
    for bad in ("DOE\u202e, Jane", "DOE\x9b, Jane", "DOE\t Jane"):
        r = intake.validate("identity", {**good, "name": bad}, today=date(2025, 3, 1))
        assert r.errors["name"].startswith("Full name: control characters are not allowed")
    p = ledger.register_patient("nina", intake.validate("identity", good, today=ledger.today()).data)
    with pytest.raises(ValueError, match=r"^Reason: control characters are not allowed"):
        ledger.correct("nina", p.id, 1, {**good, "name": "DOE, Janet"}, "typo\x1b[2J")
    assert ledger.patient(p.id).name == "DOE, Jane"  # nothing saved


def test_new_user_full_name_refuses_bidi_override():
    from bedside.core.auth import validate_new_user

    errors = validate_new_user("ann", "Ann \u202eSmith", "nurse", "1234", "1234", {})
    assert errors["full_name"].startswith("Full name: control characters are not allowed")
    assert validate_new_user("ann", "Ann Smith", "nurse", "1234", "1234", {}) == {}


async def test_a_toast_quoting_stored_text_is_literal(app, demo_ledger, clock):
    """notify() (every screen's toasts go through BedsideApp.notify): no control sequence, and a
    name that looks like markup is shown as typed instead of breaking the toast."""
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot)
        app.screen.notify(f"{HOSTILE_NAME} [/b] unlocked.", title=HOSTILE_MRN)
        await pilot.pause()
        await pilot.pause()
        assert_inert(app)
        (note,) = [n for n in app._notifications if "unlocked." in n.message]  # (a time-zone note may be there too)
        assert note.message == f"{printable(HOSTILE_NAME)} [/b] unlocked." and note.title == printable(HOSTILE_MRN)
        assert note.markup is False


def test_site_name_refuses_controls_and_saves_nothing(demo_ledger):
    ledger = demo_ledger  # an admin (adam) sets it: SetSiteSetting is admins' only
    before = ledger.last_seq
    with pytest.raises(ValueError, match=r"^Site name: control characters are not allowed"):
        ledger.set_site("adam", "site_name", "Ward 7\x1b]0;pwned\x07")
    assert ledger.last_seq == before
    ledger.set_site("adam", "site_name", " Ward 7 ")
    assert ledger.site().site_name == "Ward 7"

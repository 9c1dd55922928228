"""Forms that cost few keys (issue 17): Enter on a closed drop-down moves on, typing chooses,
dates start as today in the site's zone, the patient screen's cursor goes to the next section
still to do, labels are never cut off, inputs show without colour, the record viewer is 80 wide."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.geometry import Region
from textual.widgets import DataTable, Static

from bedside.core import clock, intake
from bedside.core.site import SetSiteSetting
from bedside.tui.screens.dialogs import FieldsDialog, TextScreen
from bedside.tui.screens.intake_form import FormScreen
from bedside.tui.screens.patient import PatientScreen
from bedside.tui.widgets.field import Choice, Field, Tick

from .conftest import sign_in, type_text
from .test_foundation_flow import burst


@pytest.fixture(autouse=True)
def _own_zone(monkeypatch):
    """Each test starts from the machine's zone (the tests run with TZ=UTC); a site zone set here
    does not leak into other tests."""
    monkeypatch.setattr(clock, "_current", None)
    monkeypatch.delenv(clock.ENV_ZONE, raising=False)


def pid_of(app, mrn: str) -> str:
    return next(p.id for p in app.ledger.patients() if p.mrn == mrn)


async def open_form(app, pilot, section: str, mrn: str = "MRN-100412") -> FormScreen:
    """Signed in as the nurse, the intake form of ``section`` for a demo patient (DUBOIS, Marc:
    labs to consent still to do)."""
    await sign_in(pilot)
    app.push_screen(FormScreen(section, pid_of(app, mrn)))
    await pilot.pause()
    assert isinstance(app.screen, FormScreen)
    return app.screen


async def typed(pilot, text: str) -> None:
    """Text as typed, a line break as Enter."""
    for part in text.split("\r")[:-1]:
        await type_text(pilot, part)
        await pilot.press("enter")
    await type_text(pilot, text.split("\r")[-1])


def value(screen, name: str):
    w = screen.query_one(f"#f-{name}")
    return None if isinstance(w, Choice) and w.is_blank() else w.value


# -- drop-downs -------------------------------------------------------------------------------
async def test_enter_on_a_closed_drop_down_moves_on_and_space_opens_it(app):
    async with app.run_test() as pilot:
        form = await open_form(app, pilot, "diagnosis", "MRN-100590")
        status = form.query_one("#f-disease_status", Choice)
        assert form.focused is status
        await pilot.press("enter")
        assert form.focused is form.query_one("#f-cd22") and not status.expanded
        assert status.is_blank(), "Enter chose nothing"
        await pilot.press("shift+tab", "space")
        assert status.expanded
        await pilot.press("down", "down", "enter")  # past the blank prompt: Relapsed, Refractory
        assert value(form, "disease_status") == "refractory" and not status.expanded
        assert form.focused is status  # chosen: the focus stays until Enter moves on
        await pilot.press("enter")
        assert form.focused is form.query_one("#f-cd22")


async def test_enter_opens_a_drop_down_that_is_the_last_field(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        fields = [("ready", "Ready", "choice", [("Yes", "yes"), ("No", "no")])]
        app.push_screen(FieldsDialog("Equipment available?", fields, lambda raw: (raw, {})))
        await pilot.pause()
        sel = app.screen.query_one("#f-ready", Choice)
        await pilot.press("enter")  # nowhere to move on to
        assert sel.expanded
        await pilot.press("down", "down", "enter")
        assert sel.value == "no" and not sel.expanded


async def test_typing_chooses_the_option_it_starts(app):
    async with app.run_test() as pilot:
        form = await open_form(app, pilot, "reproductive")
        assert form.focused is form.query_one("#f-potential")
        await pilot.press("y")
        assert value(form, "potential") == "yes"
        await pilot.press("enter", "n")
        assert value(form, "pregnancy_test") == "negative"
        sel = form.query_one("#f-pregnancy_test", Choice)
        sel.SEARCH_PAUSE = 0  # each letter a new search: the same letter steps to the next "n…"
        await pilot.press("n")
        assert value(form, "pregnancy_test") == "not_done"
        await pilot.press("n")
        assert value(form, "pregnancy_test") == "not_applicable"
        await pilot.press("n")
        assert value(form, "pregnancy_test") == "negative"  # and round again
        sel.SEARCH_PAUSE = 60  # letters typed together add up: "po" is Positive, "not a" … "nota"
        sel._typed = ""
        await pilot.press("p", "o")
        assert value(form, "pregnancy_test") == "positive"
        sel._typed = ""
        await pilot.press("z")  # nothing starts with z: the bell, and the choice stays
        assert value(form, "pregnancy_test") == "positive"


async def test_typing_in_the_open_list_chooses_and_closes_it(app):
    async with app.run_test() as pilot:
        form = await open_form(app, pilot, "consent")
        sel = form.query_one("#f-consent", Choice)
        await pilot.press("space")
        assert sel.expanded
        await pilot.press("d")
        assert value(form, "consent") == "declined" and not sel.expanded and form.focused is sel


async def test_a_letter_may_pick_a_word_inside_a_label_or_stand_for_mu(app):
    async with app.run_test() as pilot:
        form = await open_form(app, pilot, "labs")
        form.query_one("#f-bilirubin_unit").focus()
        await pilot.press("u")  # no key for µ on most keyboards
        assert value(form, "bilirubin_unit") == "µmol/L"
        app.push_screen(FormScreen("identity"))
        await pilot.pause()
        app.screen.query_one("#f-sex").focus()
        await pilot.press("u")  # "Other/unknown": a word inside the label
        assert value(app.screen, "sex") == "other"


async def test_the_letters_a_screen_binds_are_typed_into_a_drop_down(app):
    """On the patient list "n" registers a patient; in a drop-down it chooses an option."""
    async with app.run_test() as pilot:
        await sign_in(pilot, "adam")
        await pilot.press("u", "n")
        dlg = app.screen
        assert dlg.query_one("#role", Choice)
        dlg.query_one("#role").focus()
        await pilot.press("n")  # Nurse, not a second Add-user dialog
        assert dlg.query_one("#role").value == "nurse" and app.screen is dlg


async def test_a_diagnosis_typed_in_one_burst_lands_field_by_field(app):
    async with app.run_test() as pilot:
        form = await open_form(app, pilot, "diagnosis", "MRN-100590")
        burst(app, "r\rp\rnone known")
        await pilot.pause(0.3)
        assert (value(form, "disease_status"), value(form, "cd22")) == ("relapsed", "positive")
        assert value(form, "allergies") == "none known"


async def test_a_tick_box_shows_its_state_in_characters_and_enter_moves_on(app):
    async with app.run_test() as pilot:
        form = await open_form(app, pilot, "vod_risk")
        first, second = list(form.query(Tick))[:2]
        assert form.focused is first and "[ ]" in first.render().plain
        await pilot.press("space")
        assert first.value and "[X]" in first.render().plain
        await pilot.press("enter")
        assert form.focused is second and first.value, "Enter moved on without toggling"


# -- dates and times start as today and now -----------------------------------------------------
async def test_dates_start_as_today_in_the_sites_zone_and_typing_starts_after_them(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        # 2025-03-03 08:00 UTC (the test clock) is still 2025-03-02 in Pago Pago (UTC−11)
        app.ledger.execute(SetSiteSetting("time_zone", "Pacific/Pago_Pago"), "adam")
        assert app.ledger.today().isoformat() == "2025-03-02" != app.ledger.clock.now().date().isoformat()
        for section, date_field, first_empty in (
            ("measurement", "measured_on", "height_cm"),
            ("labs", "collected_on", "anc"),
            ("blasts", "collected_on", "wbc"),
            ("consent", "consent_date", "consent"),
        ):
            app.push_screen(FormScreen(section, pid_of(app, "MRN-100412")))
            await pilot.pause()
            form = app.screen
            assert value(form, date_field) == "2025-03-02", section
            assert form.focused is form.query_one(f"#f-{first_empty}"), section
            form.dismiss(None)
            await pilot.pause()


async def test_a_pregnancy_test_result_dates_the_test_today(app):
    async with app.run_test() as pilot:
        form = await open_form(app, pilot, "reproductive")
        assert value(form, "test_date") == ""  # no test, no date
        form.query_one("#f-pregnancy_test").focus()
        await pilot.press("n")  # Negative: a result, which needs its date (PRE-7)
        await pilot.pause()
        assert value(form, "test_date") == app.ledger.today().isoformat()


async def test_a_correction_keeps_the_recorded_date(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        pid = pid_of(app, "MRN-100412")
        entry = app.ledger.patient(pid).history("measurement")[-1]
        app.push_screen(FormScreen("measurement", pid, correcting=entry))
        await pilot.pause()
        assert value(app.screen, "measured_on") == entry.data["measured_on"] != app.ledger.today().isoformat()


async def test_a_dialogs_date_and_time_fields_start_as_today_and_now(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        app.ledger.execute(SetSiteSetting("time_zone", "Pacific/Pago_Pago"), "adam")
        fields = [("what", "What", "text"), ("on", "Date", "date"), ("at", "Time", "time")]
        app.push_screen(FieldsDialog("When", fields, lambda raw: (raw, {})))
        await pilot.pause()
        dlg = app.screen
        assert (value(dlg, "on"), value(dlg, "at")) == ("2025-03-02", "21:00")  # 08:00 UTC in UTC−11
        assert dlg.focused is dlg.query_one("#f-what")


# -- the patient screen: on to the next section still to do -------------------------------------
async def test_after_a_section_is_saved_the_cursor_is_on_the_next_one_to_do(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        pid = pid_of(app, "MRN-100412")  # labs, blasts, VOD risks, HSCT, reproductive, consent to do
        app.push_screen(PatientScreen(pid))
        await pilot.pause()
        screen = app.screen
        assert screen.current_section() == "labs"
        await pilot.press("enter")
        form = app.screen
        assert isinstance(form, FormScreen) and form.section.name == "labs"
        await typed(pilot, "1.5\r100\rn\rm\r0.8\r1.2\r30\r40\r30\r40")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and app.ledger.patient(pid).history("labs")
        assert screen.current_section() == "blasts"
        await pilot.press("enter")
        assert app.screen.section.name == "blasts"
        await pilot.press("escape")  # cancelled: the cursor stays
        await pilot.pause()
        assert screen.current_section() == "blasts"
        screen.query_one("#sections", DataTable).move_cursor(row=screen.ROWS.index("consent"))
        await pilot.press("enter")
        await type_text(pilot, "g")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.current_section() == "blasts"  # none after consent: the first still to do


async def test_a_new_patient_opens_on_the_first_section_to_do(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.press("n")
        await typed(pilot, "ZED, Amy\r1980-01-02\rMRN-555\rf")
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PatientScreen) and screen.current_section() == "diagnosis"
        assert app.ledger.patient(screen.pid).identity["sex"] == "female"


async def test_the_whole_intake_by_keyboard_within_the_budget(app):
    """Registration and the eight sections, each opened by Enter from the patient screen; counted
    as the e2e walk counts (named keys, not the characters of the values)."""
    steps = [
        "n", "ZED, Amy", "\r", "1980-01-02", "\r", "MRN-555", "\r", "f", "ctrl+s",
        "\r", "r", "\r", "p", "\r", "none known", "ctrl+s",
        "\r", "165", "\r", "62", "ctrl+s",
        "\r", "1.5", "\r", "100", "\r", "n", "\r", "m", "\r", "0.8", "\r", "1.2", "\r", "30", "\r", "40", "\r", "30",
        "\r", "40", "ctrl+s",
        "\r", "5", "\r", "10", "ctrl+s",
        "\r", "ctrl+s",
        "\r", "n", "ctrl+s",
        "\r", "n", "\r", "\r", "\r", "n", "ctrl+s",
        "\r", "g", "ctrl+s",
    ]  # fmt: skip
    async with app.run_test() as pilot:
        await sign_in(pilot)
        for step in steps:
            if step in ("\r", "ctrl+s"):
                await pilot.press("enter" if step == "\r" else step)
            else:
                await type_text(pilot, step)
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        p = app.ledger.patient(screen.pid)
        assert not p.missing_sections(), p.missing_sections()
        assert p.current("labs")["bilirubin_unit"] == "mg/dL" and p.current("hsct")["plan"] == "not_planned"
        assert p.current("consent")["consent_date"] == app.ledger.today().isoformat()
        # Enter, ctrl+s, "n" for a new patient and the one letter that chooses each drop-down
        keys = [s for s in steps if s in ("\r", "ctrl+s") or (len(s) == 1 and s.isalpha())]
        assert len(keys) <= 90  # the budget of issue 17 (46 today)


# -- fitting the width ------------------------------------------------------------------------
async def test_no_label_is_cut_off_at_80_columns(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        pid = pid_of(app, "MRN-100412")
        for name in ("identity", *intake.INTAKE_ORDER):
            app.push_screen(FormScreen(name, None if name == "identity" else pid))
            await pilot.pause()
            form = app.screen
            for spec in form.section.fields:
                label = form.query_one(f"#f-{spec.name}").parent.query_one(".flabel", Static)
                text = FormScreen._label(spec)
                assert label.region.width * label.region.height >= cell_len(text), (name, text, label.region)
                assert label.region.height == 1 or cell_len(text) > 42, (name, text)  # wraps only when very long
            form.dismiss(None)
            await pilot.pause()
        long = "Primed with 0.9% NaCl (not drug), and a label longer than any"
        app.push_screen(FieldsDialog("Long labels", [("a", long, "text"), ("b", "Short", "text")], lambda r: (r, {})))
        await pilot.pause()
        label = app.screen.query_one("#f-a").parent.query_one(".flabel", Static)
        assert label.region.height >= 2 and label.region.width * label.region.height >= cell_len(long)


async def _open_record(app, pilot) -> TextScreen:
    """Signed in, the patient screen, P: the printed-record viewer."""
    await sign_in(pilot)
    app.push_screen(PatientScreen(pid_of(app, "MRN-100590")))
    await pilot.pause()
    await pilot.press("P")
    await pilot.pause()
    viewer = app.screen
    assert isinstance(viewer, TextScreen)
    return viewer


async def test_the_record_viewer_is_80_columns_wide_in_an_80_column_terminal(app):
    async with app.run_test(size=(80, 24)) as pilot:
        viewer = await _open_record(app, pilot)
        body = viewer.query_one("VerticalScroll Static", Static)
        assert body.content_region.width >= 80
        lines = [strip.text for strip in body.render_lines(Region(0, 0, body.size.width, 4))]
        assert lines[0] == "=" * 80 and lines[2] == "=" * 80, lines  # a rule of 80 "=" is one line, not two
        assert "of" in str(viewer.query_one("#reader-position").render())  # where you are, in words


async def test_the_record_viewer_is_a_box_where_the_terminal_is_wide(app):
    async with app.run_test(size=(120, 40)) as pilot:
        viewer = await _open_record(app, pilot)
        box = viewer.query_one(".reader")
        assert not box.has_class("-full") and box.region.width < 120
        assert viewer.query_one("VerticalScroll Static", Static).content_region.width >= 80


@pytest.mark.parametrize("width", [80, 200])
async def test_the_patient_screen_shows_bsa_at_display_precision_and_fits_its_width(app, width):
    async with app.run_test(size=(width, 30)) as pilot:
        await sign_in(pilot)
        app.push_screen(PatientScreen(pid_of(app, "MRN-100590")))
        await pilot.pause()
        table = app.screen.query_one("#sections", DataTable)
        assert "BSA 1.88 m² (Mosteller)" in str(table.get_row("measurement")[2])
        columns = list(table.columns.values())
        assert sum(c.get_render_width(table) for c in columns) <= width
        assert columns[0].width >= cell_len("Reproductive status") and columns[1].width >= cell_len("✓ recorded")
        if width == 200:  # a wide terminal: the Latest column shows the labs' whole line
            labs = str(table.get_row("labs")[2])
            assert columns[2].width >= cell_len(labs) > 60


async def test_without_colour_every_input_is_visible(demo_ledger, idle, monkeypatch):
    from bedside.tui.app import BedsideApp

    monkeypatch.setenv("NO_COLOR", "1")
    app = BedsideApp(demo_ledger, demo=True, idle_clock=idle)
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.press("n")
        form = app.screen
        assert app.has_class("-no-color")
        name, dob = form.query_one("#f-name", Field), form.query_one("#f-dob", Field)
        assert form.focused is name and name.styles.text_style.reverse
        assert dob.styles.text_style.underline, "an unfocused field is underlined, like a blank on a form"
        assert form.query_one("#f-sex", Choice).query_one("SelectCurrent").styles.text_style.underline

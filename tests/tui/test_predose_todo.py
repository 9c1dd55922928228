"""The pre-dose check says what is left to do (issue 17): each to-do key opens its form from the
check, and saving (or cancelling) lands back on the check, redrawn, with the item gone; the
premedication of three classes is one form within 10 keys; the findings fit the terminal."""

from __future__ import annotations

from datetime import date

import pytest

from bedside.core import predose as pd
from bedside.core import schedule as sch
from bedside.core.predose import TodoKind as K
from bedside.core.site import SetSiteSetting
from bedside.tui.screens.dialogs import FieldsDialog
from bedside.tui.screens.intake_form import FormScreen
from bedside.tui.screens.predose import TASK_KEYS, PredoseScreen, PremedsDialog
from bedside.tui.screens.preparation import PreparationScreen

from .conftest import sign_in, type_text

HARTMAN = "MRN-100231"  # everything ready for C1 D1 but the pre-dose records and the calculation
OSEI = "MRN-100377"  # blasts 12,000/mm³: a prescriber confirms (PRE-3)
DUBOIS = "MRN-100412"  # no labs, blasts or consent yet
NAKAMURA = "MRN-100590"  # C1 D1 and C1 D8 given, premedicated at C1 D8


def pid_of(app, mrn: str) -> str:
    return next(p.id for p in app.ledger.patients() if p.mrn == mrn)


async def open_check(app, pilot, mrn: str, user: str = "nina", cycle: int = 1, day: int = 1, start: bool = True):
    """Signed in as ``user``, the pre-dose check of one dose (cycle 1 started today if asked)."""
    await sign_in(pilot, user)
    pid = pid_of(app, mrn)
    if start:
        app.ledger.execute(sch.StartCycle(pid, app.ledger.today()), "priya")
    app.push_screen(PredoseScreen(pid, cycle, day))
    await pilot.pause()
    assert isinstance(app.screen, PredoseScreen)
    return app.screen


def todo_kinds(screen: PredoseScreen) -> list[str]:
    return [i.kind for i in screen.todo().items]


def shown_todo(screen: PredoseScreen) -> str:
    return str(screen.query_one("#pd-todo").render())


async def press_item(app, pilot, screen: PredoseScreen, kind: str):
    """The item is on the list with its key; the key opens its form."""
    assert kind in todo_kinds(screen)
    key = TASK_KEYS[kind]
    assert f" {key} " in shown_todo(screen), shown_todo(screen)
    await pilot.press(key)
    await pilot.pause()
    return app.screen


async def save(pilot, form, values: dict) -> None:
    for name, value in values.items():
        form.query_one(f"#f-{name}").value = value
    await pilot.press("ctrl+s")
    await pilot.pause()


async def back_on_the_check_without(app, pilot, screen: PredoseScreen, kind: str) -> None:
    await pilot.pause()
    assert app.screen is screen, app.screen
    assert kind not in todo_kinds(screen)
    assert screen._todo.item(kind) is None  # what the screen drew, not only what core says now


def test_every_kind_of_item_has_a_key_that_is_a_binding_of_the_check():
    keys = {b.key for b in PredoseScreen.BINDINGS}
    assert set(pd.TASK_ORDER) | {K.SCHEDULE} <= set(TASK_KEYS)
    assert set(TASK_KEYS.values()) <= keys


async def test_n_e_k_m_p_from_the_list_each_land_back_on_the_check_with_the_item_gone(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, HARTMAN, user="phil")  # a pharmacist records and calculates
        assert todo_kinds(screen) == [K.IDENTITY, K.ECG, K.PREPARATION, K.CHECKLIST, K.PREMED]

        form = await press_item(app, pilot, screen, K.IDENTITY)
        assert isinstance(form, FieldsDialog)
        await save(pilot, form, {"name": "HARTMAN, Lena", "dob": "1968-04-12", "mrn": HARTMAN, "stated": "typed"})
        await back_on_the_check_without(app, pilot, screen, K.IDENTITY)

        for test in ("ecg", "electrolytes"):
            form = await press_item(app, pilot, screen, K.ECG)
            await save(pilot, form, {"test": test})  # the date is today already
        await back_on_the_check_without(app, pilot, screen, K.ECG)

        prep = await press_item(app, pilot, screen, K.PREPARATION)
        assert isinstance(prep, PreparationScreen)
        await pilot.press("c")  # calculate
        await pilot.pause()
        await pilot.press("escape")
        await back_on_the_check_without(app, pilot, screen, K.PREPARATION)

        form = await press_item(app, pilot, screen, K.CHECKLIST)
        await save(pilot, form, {"ready": "yes"})
        await back_on_the_check_without(app, pilot, screen, K.CHECKLIST)

        form = await press_item(app, pilot, screen, K.PREMED)
        assert isinstance(form, PremedsDialog)
        for cls, drug, dose in (("corticosteroid", "dexamethasone", "8 mg IV"), ("antipyretic", "paracetamol", "1 g PO")):
            form.query_one(f"#f-{cls}-drug").value, form.query_one(f"#f-{cls}-dose").value = drug, dose
        form.query_one("#f-antihistamine-drug").value, form.query_one("#f-antihistamine-dose").value = "cetirizine", "10 mg PO"
        await pilot.press("ctrl+s")
        await back_on_the_check_without(app, pilot, screen, K.PREMED)

        assert screen.todo().done and screen.verdict().overall == "PROCEED"
        assert "Nothing left to do" in shown_todo(screen) and " v " in shown_todo(screen)
        await pilot.press("v")
        await pilot.pause()
        assert any(e.kind == pd.VERDICT for e in app.ledger.stream_events("patient:" + screen.pid))
        assert "verdict PROCEED recorded at" in shown_todo(screen) and " i " in shown_todo(screen)


async def test_labs_blasts_and_consent_open_the_intake_forms_and_come_back(app, clock):
    today = date(2025, 3, 3).isoformat()  # the clock's day
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, DUBOIS)
        assert todo_kinds(screen)[:4] == [K.IDENTITY, K.CONSENT, K.LABS, K.BLASTS]

        form = await press_item(app, pilot, screen, K.LABS)
        assert isinstance(form, FormScreen) and form.section.name == "labs"
        labs = {"collected_on": today, "anc": "1.5", "platelets": "120", "platelet_transfusion": "no",
                "bilirubin_unit": "mg/dL", "bilirubin": "0.8", "bilirubin_uln": "1.2", "ast": "30", "ast_uln": "40",
                "alt": "28", "alt_uln": "40"}  # fmt: skip
        await save(pilot, form, labs)
        await back_on_the_check_without(app, pilot, screen, K.LABS)

        form = await press_item(app, pilot, screen, K.BLASTS)
        assert isinstance(form, FormScreen) and form.section.name == "blasts"
        await save(pilot, form, {"collected_on": today, "blasts_per_mm3": "3000"})
        await back_on_the_check_without(app, pilot, screen, K.BLASTS)

        form = await press_item(app, pilot, screen, K.CONSENT)
        assert isinstance(form, FormScreen) and form.section.name == "consent"
        await save(pilot, form, {"consent": "given", "consent_date": today})
        await back_on_the_check_without(app, pilot, screen, K.CONSENT)


async def test_reproductive_status_opens_its_intake_form_and_comes_back(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "nina")
        p = app.ledger.register_patient("nina", {"name": "TEST, Anna", "dob": "1990-01-01", "mrn": "MRN-900001", "sex": "female"})
        app.ledger.execute(sch.StartCycle(p.id, app.ledger.today()), "priya")
        app.push_screen(PredoseScreen(p.id, 1, 1))
        await pilot.pause()
        screen = app.screen
        form = await press_item(app, pilot, screen, K.REPRODUCTIVE)
        assert isinstance(form, FormScreen) and form.section.name == "reproductive"
        await save(pilot, form, {"potential": "no", "breastfeeding": "no"})
        await back_on_the_check_without(app, pilot, screen, K.REPRODUCTIVE)


async def test_the_weight_for_this_dose_opens_height_and_weight_and_comes_back(app, clock):
    from bedside.core import preparation as prep

    async with app.run_test(size=(80, 24)) as pilot:
        pid = pid_of(app, NAKAMURA)
        app.ledger.execute(prep.CalculateDose(pid, 1, 15), "phil")  # from the C1 D8 measurement
        screen = await open_check(app, pilot, NAKAMURA, cycle=1, day=15, start=False)
        clock.advance(days=7)  # a new day: the measurement is from before the previous dose
        screen.refill()
        await pilot.pause()
        form = await press_item(app, pilot, screen, K.WEIGHT)
        assert isinstance(form, FormScreen) and form.section.name == "measurement"
        m = app.ledger.patient(pid).current("measurement")
        await save(pilot, form, {"height_cm": str(m["height_cm"]), "weight_kg": str(m["weight_kg"]),
                                 "measured_on": app.ledger.today().isoformat()})  # fmt: skip
        await back_on_the_check_without(app, pilot, screen, K.WEIGHT)


async def test_o_opens_the_confirmation_the_list_asks_a_prescriber_for(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, OSEI, user="priya")
        item = screen.todo().item(K.CONFIRM)
        assert "pre3.blasts" in item.checks
        screen.query_one("#checks").move_cursor(row=0)  # the first finding: not the one to confirm
        while item is not None and item.checks:
            form = await press_item(app, pilot, screen, K.CONFIRM)
            assert isinstance(form, FieldsDialog) and screen._v.check(item.checks[0]).name in form.title_text
            await save(pilot, form, {"reason": "reviewed with the team"})
            await pilot.pause()
            assert screen.verdict().check(item.checks[0]).overridden
            item = screen.todo().item(K.CONFIRM)
        await back_on_the_check_without(app, pilot, screen, K.CONFIRM)


async def test_a_form_cancelled_lands_back_on_the_check_with_the_item_still_there(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, DUBOIS)
        for kind in (K.LABS, K.PREMED, K.IDENTITY):
            form = await press_item(app, pilot, screen, kind)
            assert form is not screen
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and kind in todo_kinds(screen)


# -- premedication in one form, within 10 keys -----------------------------------------------------


async def test_premedication_as_at_the_previous_dose_in_three_keys(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, NAKAMURA, cycle=1, day=15, start=False)
        assert K.PREMED in todo_kinds(screen)
        keys = ["m", "ctrl+o", "ctrl+s"]
        await pilot.press(keys[0])
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PremedsDialog)
        assert "as at C1 D8" in str(form.query_one("#o-corticosteroid").render())
        assert form.query_one("#f-corticosteroid-drug").value == ""  # offered, not filled in (PRE-2)
        assert form.query_one("#f-time").value == app.ledger.clock.now().strftime("%H:%M")  # now, in UTC here
        for key in keys[1:]:
            await pilot.press(key)
            await pilot.pause()
        assert len(keys) <= 10
        await back_on_the_check_without(app, pilot, screen, K.PREMED)
        given = [e.payload for e in app.ledger.stream_events("patient:" + screen.pid) if e.kind == pd.PREMED]
        assert [(p.drug, p.dose) for p in given if (p.cycle, p.day) == (1, 15)] == [
            ("dexamethasone", "12 mg IV"),
            ("paracetamol", "1000 mg PO"),
            ("loratadine", "10 mg PO"),
        ]


async def test_premedication_from_the_site_protocol_typed_where_it_names_none(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        protocol = [
            {"drug_class": "corticosteroid", "drug": "dexamethasone", "dose": "8 mg IV"},
            {"drug_class": "antihistamine", "drug": "cetirizine", "dose": "10 mg PO"},
        ]
        app.ledger.execute(SetSiteSetting("premed_protocol", protocol), "adam")
        screen = await open_check(app, pilot, HARTMAN)
        await pilot.press("m")
        await pilot.pause()
        form = app.screen
        assert "site protocol" in str(form.query_one("#o-corticosteroid").render())
        assert not form.query_one("#o-antipyretic").display  # the protocol names none: nothing is made up
        keys = ["m"]  # pressed above; the characters of the values are not counted

        async def press(*these: str) -> None:
            keys.extend(these)
            for key in these:
                await pilot.press(key)
            await pilot.pause()

        await press("ctrl+o", "enter", "enter")  # the offer taken; from the corticosteroid's drug to the antipyretic's
        assert form.focused is form.query_one("#f-antipyretic-drug")
        await type_text(pilot, "paracetamol")
        await press("enter")
        await type_text(pilot, "1 g PO")
        await press("ctrl+s")
        assert len(keys) <= 10
        await back_on_the_check_without(app, pilot, screen, K.PREMED)


async def test_a_bad_row_is_said_under_it_and_nothing_is_recorded(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, HARTMAN)
        await pilot.press("m")
        await pilot.pause()
        form = app.screen
        form.query_one("#f-antipyretic-drug").value = "paracetamol"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "Antipyretic: the dose and route of paracetamol" in str(form.query_one("#e-antipyretic").render())
        assert form.focused is form.query_one("#f-antipyretic-drug")
        form.query_one("#f-time").value = "25:00"
        form.query_one("#f-antipyretic-dose").value = "1 g PO"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "Time" in str(form.query_one("#e-time").render())
        assert not [e for e in app.ledger.stream_events("patient:" + screen.pid) if e.kind == pd.PREMED]


# -- the findings fit the terminal ---------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_findings_value_and_rule_are_readable(app, clock, size):
    async with app.run_test(size=size) as pilot:
        screen = await open_check(app, pilot, HARTMAN)
        table = screen.query_one("#checks")
        widths = [c.width for c in table.ordered_columns]
        assert sum(w + 2 for w in widths) <= size[0]
        cells = {table.coordinate_to_cell_key((i, 0)).row_key.value: table.get_row_at(i) for i in range(table.row_count)}
        for key in ("identity", "premed.antipyretic", "emergency"):
            _result, _name, value, rule = (str(x) for x in cells[key])
            assert len(value) <= widths[2], (key, value)  # "not recorded", "not answered": never cut
            assert len(rule) <= widths[3]
        assert widths[3] >= len("CONV-WT-1 +2")
        if size[0] >= 200:
            assert widths[1] >= max(len(c.name) for c in screen.verdict().checks)  # every name whole


# -- the site's premedication protocol, recorded on the Settings screen ----------------------------


async def test_an_admin_records_the_premedication_protocol_on_the_settings_screen(app, clock):
    from bedside.core.site import PremedTemplate
    from bedside.tui.screens.admin import SettingsScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "adam")
        app.push_screen(SettingsScreen())
        await pilot.pause()
        screen = app.screen
        screen.query_one("#pm-antipyretic-drug").value = "paracetamol"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Antipyretic: both the drug" in str(screen.query_one("#e-premed_protocol").render())
        assert app.ledger.site().premed_protocol == ()  # nothing saved, not even the other settings
        screen.query_one("#pm-antipyretic-dose").value = "1 g PO"
        screen.query_one("#pm-corticosteroid-drug").value = "dexamethasone"
        screen.query_one("#pm-corticosteroid-dose").value = "8 mg IV"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.ledger.site().premed_protocol == (
            PremedTemplate("corticosteroid", "dexamethasone", "8 mg IV"),
            PremedTemplate("antipyretic", "paracetamol", "1 g PO"),
        )
        (ev,) = [e for e in app.ledger.stream_events("site") if e.data.get("name") == "premed_protocol"]
        assert ev.actor == "adam"
        await pilot.press("ctrl+s")  # again, unchanged: nothing new is recorded
        await pilot.pause()
        assert len([e for e in app.ledger.stream_events("site") if e.data.get("name") == "premed_protocol"]) == 1


async def test_T_answers_the_transfusion_question_of_a_laboratory_platelet_count(app, clock):
    """CONV-HEM-3 in the shell: T lists the laboratory's platelet counts, the unanswered one first
    chosen; "n" answers No, ctrl+s records it as the signed-in nurse and the check shows it answered."""
    from bedside.core import labfeed
    from bedside.core.labs.sample import sample_oru

    async with app.run_test(size=(80, 24)) as pilot:
        pid = pid_of(app, HARTMAN)
        p = app.ledger.patient(pid)
        out = labfeed.import_text(app.ledger, sample_oru(p.identity, p.current("labs"), clock.now(), "T-TX"), "a", "os:lab")
        assert [o.what for o in out] == ["applied"]
        screen = await open_check(app, pilot, HARTMAN)
        assert "transfusion before it: not answered, T" in screen.verdict().check("lab.platelets").value
        await pilot.press("T")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FieldsDialog) and "CONV-HEM-3" in dialog.title_text
        entry = next(e for e in app.ledger.patient(pid).history("labs") if e.data.get("message_id") == "T-TX")
        assert dialog.query_one("#f-entry").value == str(entry.version)
        await pilot.press("ctrl+s")  # no answer yet: refused next to the field
        await pilot.pause()
        assert app.screen is dialog
        dialog.set_focus(dialog.query_one("#f-answer"))
        await pilot.press("n", "ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        answered = app.ledger.patient(pid).entry(entry.version)
        assert answered.data["platelet_transfusion"] == "no" and answered.corrections[-1].actor == "nina"
        assert "not answered" not in screen.verdict().check("lab.platelets").value

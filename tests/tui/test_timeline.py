"""The timeline by keyboard: start, give, hold and recover, omit, extend, response, cycles remaining."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from bedside.core import schedule as sch
from bedside.tui.screens.dialogs import AuthScreen, FieldsDialog
from bedside.tui.screens.predose import PredoseScreen
from bedside.tui.screens.timeline import TimelineScreen

from .conftest import sign_in


async def answer(pilot, app, values):
    dlg = app.screen
    assert isinstance(dlg, FieldsDialog | AuthScreen), dlg
    for k, v in values.items():
        dlg.query_one(f"#f-{k}").value = v
    await pilot.press("ctrl+s")
    await pilot.pause()


async def test_walk_a_patient_through_cycle_one(app, clock):
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))  # S1: Monday 2025-03-03
    async with app.run_test() as pilot:
        await sign_in(pilot, "priya")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        screen = app.screen
        await pilot.press("b")
        await pilot.pause()
        await answer(pilot, app, {"day1": "2025-03-03"})
        tl = screen.tl
        assert tl.started and tl.dose(1, 8).planned == date(2025, 3, 10)
        assert tl.dose(1, 8).effective.start == date(2025, 3, 9)  # S1: 6-day rule removes 03-08

        await pilot.press("g")  # C1 D1 (cursor starts on Day 1)
        await pilot.pause()
        await answer(pilot, app, {"date": "2025-03-03"})
        assert screen.tl.dose(1, 1).state == sch.GIVEN and screen.tl.dose(1, 1).given_by == "priya"

        # Move to Day 8 and try to give it too early: refused with the rule and nearest date.
        await pilot.press("right")
        clock.set(datetime(2025, 3, 8, 9, 0, tzinfo=UTC))
        await pilot.press("g")
        await pilot.pause()
        await answer(pilot, app, {"date": "2025-03-08"})
        assert screen.tl.dose(1, 8).state != sch.GIVEN

        # Hold Day 8 for a Grade 2 toxicity, recover 4 days later (M1), give on the recovery date.
        clock.set(datetime(2025, 3, 10, 9, 0, tzinfo=UTC))
        await pilot.press("h")
        await pilot.pause()
        await answer(pilot, app, {"reason": "Grade 2 nausea", "toxicity": "non_hematologic"})
        assert screen.tl.dose(1, 8).state == sch.HELD
        clock.set(datetime(2025, 3, 14, 9, 0, tzinfo=UTC))
        await pilot.press("y")
        await pilot.pause()
        await answer(pilot, app, {"date": "2025-03-14"})
        tl = screen.tl
        props = [p for p in tl.proposals if p.rule == "MOD-INT-1"]
        if props:  # the < 7-day interruption is a proposal a prescriber confirms (UNVERIFIED Table 4)
            await pilot.press("d")
            await pilot.pause()
            await answer(pilot, app, {"proposal": props[0].id, "decision": "confirmed", "reason": "recovered to G1"})
        await pilot.press("g")
        await pilot.pause()
        await answer(pilot, app, {"date": "2025-03-14"})
        tl = screen.tl
        assert tl.dose(1, 8).given_on == date(2025, 3, 14)
        assert tl.dose(1, 15).earliest == date(2025, 3, 20)  # M1: Day 15 ≥ 03-20

        # Response after cycle 1 and the cycles-remaining rule.
        await pilot.press("R")
        await pilot.pause()
        await answer(pilot, app, {"cycle": "1", "response": "cr", "mrd": "negative", "assessed_on": "2025-03-14"})
        tl = screen.tl
        assert tl.hsct_plan == "planned" and tl.cycles_allowed == 2  # CYC-1
        assert any(lim.rule == "CYC-1" for lim in tl.limits)
        assert "CYC-1" in str(screen.query_one("#tl-detail").render())

        # Discontinue: needs a prescriber; afterwards nothing can be given.
        await pilot.press("D")
        await pilot.pause()
        await answer(pilot, app, {"reason": "patient_choice", "note": "moving abroad"})
        assert screen.tl.discontinued
        await pilot.press("right")
        await pilot.press("g")
        await pilot.pause()
        if isinstance(app.screen, FieldsDialog):
            await answer(pilot, app, {"date": "2025-03-20"})
        assert screen.tl.dose(1, 15).given_on is None


async def test_predose_screen_records_and_refuses_a_nurse_override(app, clock):
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "nina")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100377")  # OSEI: blasts 12,000/mm³
        app.ledger.execute(sch.StartCycle(pid, date(2025, 3, 3)), "priya")
        app.push_screen(PredoseScreen(pid, 1, 1))
        await pilot.pause()
        screen = app.screen
        v = screen.verdict()
        assert v.overall == "HOLD"
        pre3 = next(c for c in v.checks if c.key == "pre3.blasts")
        assert pre3.result == "hold" and "PRE-3" in pre3.rule_ids  # WBC 30 × 40% = 12,000 > 10,000
        assert "HOLD" in str(screen.query_one("#pd-verdict").render())

        await pilot.press("n")
        await pilot.pause()
        await answer(pilot, app, {"name": "OSEI, Kwame", "dob": "1991-09-30", "mrn": "MRN-100377", "stated": "typed"})
        assert screen.verdict().check("identity").result == "pass"

        # A nurse cannot override the PRE-3 hold: a prescriber must sign in.
        table = screen.query_one("#checks")
        row = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)].index("pre3.blasts")
        table.move_cursor(row=row)
        await pilot.press("o")
        await pilot.pause()
        await answer(pilot, app, {"reason": "hydroxyurea started; count falling"})
        assert isinstance(app.screen, AuthScreen)
        await answer(pilot, app, {"user": "noah", "pin": "1234"})
        assert isinstance(app.screen, AuthScreen), "a nurse is refused"
        await answer(pilot, app, {"user": "priya", "pin": "1234"})
        c = screen.verdict().check("pre3.blasts")
        assert c.overridden and c.override.user == "priya"


async def test_scanned_gs1_wristband_confirms_the_identifier(app, clock):
    from bedside.core import predose as pr

    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "nina")
        p = app.ledger.register_patient(
            "nina",
            {"name": "SCAN, Test", "dob": "1970-01-01", "mrn": "MRN-7350", "sex": "other", "wristband": "735005385000000011"},
        )
        app.ledger.execute(sch.StartCycle(p.id, date(2025, 3, 3)), "priya")
        app.push_screen(PredoseScreen(p.id, 1, 1))
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        dlg = app.screen
        dlg.query_one("#f-name").value = "SCAN, Test"
        dlg.query_one("#f-dob").value = "1970-01-01"
        dlg.query_one("#f-stated").value = "typed"
        dlg.query_one("#f-mrn").focus()
        await pilot.pause()
        # What a keyboard-wedge scanner types: symbology prefix, AI 8018, GS separator, AI 10.
        for key in [*"]C18018735005385000000011", "ctrl+right_square_bracket", *"10ABC"]:
            await pilot.press(key)
        await pilot.press("ctrl+s")
        await pilot.pause()
        ev = [e for e in app.ledger.stream_events(p.stream) if e.kind == pr.IDENTITY][-1]
        assert ev.data["wristband"] == "735005385000000011" and ev.data["method"] == "scanned"  # the stored GSRN, not the MRN
        assert app.screen.verdict().check("identity").result == "pass"


async def test_a_wristband_scan_and_the_stated_name_and_dob_confirm_identity_in_four_keys(app, clock):
    """n, the scan (the scanner's Enter moves on), the stated name and DOB compared with the record
    ("match"), ctrl+s: two identifiers, the MRN scanned and the name and DOB stated (issue 17)."""
    from bedside.core import predose as pr

    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "nina")
        p = app.ledger.register_patient("nina", {"name": "SCAN, Two", "dob": "1970-01-01", "mrn": "MRN-4242", "sex": "other"})
        app.ledger.execute(sch.StartCycle(p.id, date(2025, 3, 3)), "priya")
        app.push_screen(PredoseScreen(p.id, 1, 1))
        await pilot.pause()
        assert app.screen.verdict().check("identity").result == "missing"
        await pilot.press("n")
        await pilot.pause()
        assert "SCAN, Two · 1970-01-01" in " ".join(str(s.render()) for s in app.screen.query("Static"))
        await pilot.press(*"MRN-4242", "enter")  # the wedge scanner's burst
        await pilot.pause()
        app.screen.query_one("#f-stated").value = "match"
        await pilot.press("ctrl+s")
        await pilot.pause()
        ev = [e for e in app.ledger.stream_events(p.stream) if e.kind == pr.IDENTITY][-1]
        assert ev.data["mrn"] == "MRN-4242" and ev.data["method"] == "typed+stated" and ev.data["name"] is None
        check = app.screen.verdict().check("identity")
        assert check.result == "pass" and "name (stated)" in check.value, check


async def test_print_the_calendar(app, clock):
    from bedside.tui.screens.dialogs import TextScreen

    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "priya")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.ledger.execute(sch.StartCycle(pid, date(2025, 3, 3)), "priya")
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        text = str(app.screen.body)
        assert "C1 D8   2025-03-10  03-08..03-12 (eff 03-09..03-12)" in text  # S1
        assert all(len(line) <= 80 for line in text.splitlines())


async def test_omit_and_extend_cycle_one(app, clock):
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "priya")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        screen = app.screen
        await pilot.press("b")
        await pilot.pause()
        await answer(pilot, app, {"day1": "2025-03-03"})
        await pilot.press("g")
        await pilot.pause()
        await answer(pilot, app, {"date": "2025-03-03"})
        await pilot.press("right", "o")  # omit C1 D8 (a prescriber's decision, CONV-SCHED-7)
        await pilot.pause()
        await answer(pilot, app, {"value": "patient admitted elsewhere"})
        assert screen.tl.dose(1, 8).state == sch.OMITTED
        await pilot.press("x")
        await pilot.pause()
        await answer(pilot, app, {"length": "30", "reason": "toxicity_recovery", "note": ""})
        assert isinstance(app.screen, FieldsDialog) or screen.tl.cycle(1).extended_length is None  # 30 > 28 refused
        if isinstance(app.screen, FieldsDialog):
            await answer(pilot, app, {"length": "28"})
        else:
            await pilot.press("x")
            await pilot.pause()
            await answer(pilot, app, {"length": "28", "reason": "toxicity_recovery", "note": ""})
        c1 = screen.tl.cycle(1)
        assert c1.extended_length == 28 and screen.tl.dose(2, 1).planned == date(2025, 3, 31)  # SCHED-4: 28 days


async def test_a_dose_recorded_given_by_mistake_is_marked_in_error(app, clock):
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "nina")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.ledger.execute(sch.StartCycle(pid, date(2025, 3, 3)), "priya")
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        screen = app.screen
        await pilot.press("g")
        await pilot.pause()
        await answer(pilot, app, {"date": "2025-03-03"})
        assert screen.tl.dose(1, 1).state == sch.GIVEN

        # nina recorded it: she marks it in error with what was wrong (shown literally).
        await pilot.press("E")
        await pilot.pause()
        assert "C1 D1 given 2025-03-03" in str(app.screen.query_one(".box-title").render())
        await answer(pilot, app, {"value": "wrong patient [b]chart[/b]"})
        assert app.screen is screen
        assert screen.tl.dose(1, 1).state == sch.DUE_TODAY
        detail = str(screen.query_one("#tl-detail").render())
        assert "In error: C1 D1 given 2025-03-03 (0.8 mg/m²) (recorded by nina); marked by nina" in detail
        assert "wrong patient [b]chart[/b]" in detail
        kinds = [e.kind for e in app.ledger.stream_events(app.ledger.patient(pid).stream)]
        assert sch.DOSE_GIVEN in kinds and kinds[-1] == sch.SCHEDULE_VOIDED  # nothing removed

        # The cycle start was priya's: a nurse is asked for a prescriber; cancelling changes nothing.
        await pilot.press("E")
        await pilot.pause()
        await answer(pilot, app, {"value": "wrong date"})
        assert isinstance(app.screen, AuthScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert screen.tl.started


async def warnings_text(app, pilot, pid: str) -> str:
    """Sign in as a nurse, open the patient's warnings screen, and return all it shows."""
    from bedside.tui.screens.warnings import WarningsScreen

    await sign_in(pilot, "nina")
    app.push_screen(WarningsScreen(pid))
    await pilot.pause()
    return " ".join(str(w.render()) for w in app.screen.query("Static"))


async def test_a_weight_gain_after_the_first_dose_prompts_a_vod_review(app, clock):
    """MON-8: the warnings screen lists the next dose's VOD review prompt with its values."""

    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    ledger = app.ledger
    pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100231")  # 70 kg before treatment
    ledger.record("nina", pid, "measurement", {"height_cm": "170", "weight_kg": "70", "measured_on": "2025-03-03"})
    ledger.execute(sch.StartCycle(pid, date(2025, 3, 3)), "priya")
    ledger.execute(sch.RecordDoseGiven(pid, 1, 1, date(2025, 3, 3)), "nina")
    clock.set(datetime(2025, 3, 10, 9, 0, tzinfo=UTC))
    ledger.record("nina", pid, "measurement", {"height_cm": "170", "weight_kg": "74", "measured_on": "2025-03-10"})
    async with app.run_test() as pilot:
        text = await warnings_text(app, pilot, pid)
        assert "VOD review prompted [MON-8]" in text and "+5.71% over the pre-treatment 70 kg" in text


async def test_the_demo_patient_with_low_creatinine_clearance_gets_the_renal_warning(app):
    pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100377")  # CrCl 28 mL/min in the demo
    async with app.run_test() as pilot:
        text = await warnings_text(app, pilot, pid)
        assert "Severe renal impairment (CrCl < 30 mL/min) [CONV-RENAL-1]" in text and "CrCl 28 mL/min on" in text


async def test_a_dose_given_by_starting_its_infusion_is_not_offered_for_marking(app, clock):
    from bedside.core.events import NewEvent

    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test(notifications=True) as pilot:
        await sign_in(pilot, "nina")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        ledger = app.ledger
        stream = ledger.patient(pid).stream
        ledger.execute(sch.StartCycle(pid, date(2025, 3, 3)), "priya")
        ledger.append(
            stream,
            lambda: [
                NewEvent(
                    stream, sch.INFUSION_STARTED_KIND, "nina", clock.now(), {"dose_id": "c1d1", "at": "2025-03-03T09:00:00Z"}
                ),
                NewEvent(
                    stream,
                    sch.DOSE_GIVEN,
                    "nina",
                    clock.now(),
                    {"cycle": 1, "day": 1, "date": "2025-03-03", "level_mg_m2": "0.8", "dose_mg": "1.45"},
                ),
            ],
        )
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, TimelineScreen)  # no dialog: the refusal is said at once
        assert any("starting its infusion" in n.message for n in app._notifications)


async def test_the_dose_in_mg_comes_from_core_and_says_where_from(app, clock):
    """g shows core's number: an estimate from the current BSA (so labelled) before any preparation."""
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "nina")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.ledger.execute(sch.StartCycle(pid, date(2025, 3, 3)), "priya")
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        screen = app.screen
        view = app.ledger.view(pid)
        amount = sch.dose_amount(view, view.timeline.dose(1, 1))
        assert amount.source == "estimate"
        await pilot.press("g")
        await pilot.pause()
        title = str(app.screen.query_one(".box-title").render())
        assert f"{amount.mg} mg" in title and "estimate from the current BSA" in title
        await answer(pilot, app, {"date": "2025-03-03"})
        assert screen.tl.dose(1, 1).dose_mg == amount.mg


async def test_a_nurse_is_asked_for_a_prescriber_where_core_says_so(app, clock):
    """L and D are a prescriber's (core/schedule/access.py): a nurse gets the sign-in, and a nurse
    who signs in there is refused; nothing is recorded until a prescriber does."""
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test() as pilot:
        await sign_in(pilot, "nina")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.ledger.execute(sch.StartCycle(pid, date(2025, 3, 3)), "priya")
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        screen = app.screen
        await pilot.press("D")
        await pilot.pause()
        await answer(pilot, app, {"reason": "patient_choice", "note": "moving abroad"})
        assert isinstance(app.screen, AuthScreen)
        await answer(pilot, app, {"user": "noah", "pin": "1234"})
        assert isinstance(app.screen, AuthScreen), "a nurse is refused"
        await answer(pilot, app, {"user": "priya", "pin": "1234"})
        assert app.screen is screen and screen.tl.discontinued
        last = app.ledger.stream_events(app.ledger.patient(pid).stream)[-1]
        assert (last.kind, last.actor) == (sch.TREATMENT_DISCONTINUED, "priya")


def screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_the_header_lines_up_with_its_columns_right_after_cycle_one_starts(app, clock):
    """Issue 17: after b and ctrl+s the header row used to keep the widths of the empty table."""
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "priya")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("ctrl+s")  # the date offered: today
        await pilot.pause()
        await pilot.pause()
        assert app.screen.tl.started
        lines = screen_lines(app)
        header = next(line for line in lines if line.lstrip().startswith("Cycle "))
        row = next(line for line in lines if line.lstrip().startswith("C1 "))
        for label, cell_start in (("Day 1", "◉ 03-03"), ("Day 8", "○ 03-10"), ("Day 15", "○ 03-17"), ("Ends", "03-23")):
            assert header.index(label) == row.index(cell_start), (label, header, row)
        assert "…" not in header + row  # nothing cut at 80 columns


@pytest.mark.parametrize("width", [80, 200])
async def test_the_table_fits_and_grows_and_the_keys_stay_whole(app, clock, width):
    from bedside.tui.screens.timeline import MORE_KEYS

    async with app.run_test(size=(width, 40)) as pilot:
        await sign_in(pilot, "nina")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100590")  # two cycles in the demo
        app.push_screen(TimelineScreen(pid))
        await pilot.pause()
        lines = screen_lines(app)
        assert app.screen.query_one("#cycles").row_count == 2
        rows = [line for line in lines if re.match(r" C[12] +[✓○◉]", line)]
        assert len(rows) == 2 and not any("…" in r for r in rows)
        assert all(len(r.rstrip()) <= width for r in rows)
        if width == 200:
            assert "given" in rows[0] and "planned" in rows[1]  # the states in words where they fit
        text = "\n".join(lines)
        assert all(item in text for item in MORE_KEYS)  # each key and its words on one line
        assert not re.search(r"\bc\d+d\d+\b", text)
        assert "esc Back" in lines[-1]  # the footer is not cut at 80 columns

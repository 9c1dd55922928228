"""Preparation by keyboard: calculate, record steps, a refused late dilution, the blind double-check."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bedside.core import preparation as prep
from bedside.tui.screens.preparation import DoseRef, PreparationScreen, StepScreen, VerifyScreen

from .conftest import sign_in


def dose() -> DoseRef:
    return DoseRef(1, 1, Decimal("0.8"), "Table 1, cycle 1 (DOSE-1)", "cycle 1 day 1, no reduction")


async def open_prep(app, pilot, user="phil"):
    await sign_in(pilot, user)
    pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")  # 170 cm / 70 kg (W1)
    app.push_screen(PreparationScreen(pid, dose()))
    await pilot.pause()
    return app.screen, pid


async def record_step(pilot, app, key, hhmm, vials=None, reason=None):
    await pilot.press(key)
    await pilot.pause()
    dlg = app.screen
    assert isinstance(dlg, StepScreen)
    dlg.query_one("#f-time").value = hhmm
    if vials:
        dlg.query_one("#f-vials").value = vials
    if reason:
        dlg.query_one("#f-reason").value = reason
    await pilot.press("ctrl+s")
    await pilot.pause()


async def test_prepare_refuse_late_dilution_and_double_check(app, clock):
    clock.set(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    async with app.run_test(notifications=True) as pilot:
        screen, _pid = await open_prep(app, pilot)
        await pilot.press("c")
        st = screen.state()
        assert st.calculation.data["dose_mg"] == "1.45" and st.calculation.actor == "phil"  # W1
        assert "5.80 mL" in str(screen.query_one("#trail").render())

        await record_step(pilot, app, "r", "08:00")
        assert screen.state().step_at("reconstituted") == datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
        clock.set(datetime(2025, 3, 3, 12, 30, tzinfo=UTC))
        await record_step(pilot, app, "d", "12:10", vials="refrigerated")
        assert screen.state().step_at("diluted") is None, "dilution 4 h 10 min after reconstitution is refused (STAB-1)"

        await record_step(pilot, app, "x", "12:15", reason="dilution window passed")
        assert screen.state().steps == () and len(screen.state().discarded) == 1

        await record_step(pilot, app, "r", "12:20")
        await record_step(pilot, app, "d", "12:25", vials="refrigerated")
        st = screen.state()
        assert st.step_at("diluted") is not None
        dl = st.deadlines(clock.now())
        assert dl.latest_start == datetime(2025, 3, 3, 15, 25, tzinfo=UTC)  # 12:25 + 4 h − 60 min (CONV-STAB-1)
        assert "LATEST START 15:25" in str(screen.query_one("#prep-deadlines").render())

        # A mismatching second person: the dose stays unverified and both derivations are shown.
        await pilot.press("v")
        await pilot.pause()
        v = app.screen
        assert isinstance(v, VerifyScreen)
        for f, value in (
            ("user", "nina"),
            ("pin", "1234"),
            ("bsa_m2", "1.82"),
            ("level_mg_m2", "0.8"),
            ("dose_mg", "1.46"),
            ("withdraw_ml", "5.84"),
        ):
            v.query_one(f"#f-{f}").value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        st = screen.state()
        assert st.mismatch and not st.verified
        assert st.last_verification.mismatches == ("dose_mg", "withdraw_ml")
        await pilot.press("escape")

        # The preparer cannot verify their own calculation.
        await pilot.press("v")
        await pilot.pause()
        v = app.screen
        for f, value in (
            ("user", "phil"),
            ("pin", "1234"),
            ("bsa_m2", "1.82"),
            ("level_mg_m2", "0.8"),
            ("dose_mg", "1.45"),
            ("withdraw_ml", "5.80"),
        ):
            v.query_one(f"#f-{f}").value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is v
        v.query_one("#f-user").value = "nina"
        v.query_one("#f-pin").value = "1234"
        await pilot.press("ctrl+s")
        await pilot.pause()
        st = screen.state()
        assert st.verified and st.last_verification.actor == "nina"
        assert "VERIFIED by nina (prepared by phil)" in str(screen.query_one("#prep-status").render())


async def test_new_weight_voids_the_verification(app, clock):
    async with app.run_test() as pilot:
        screen, pid = await open_prep(app, pilot)
        await pilot.press("c")
        ledger = app.ledger
        st = screen.state()
        ledger.execute(prep.DoubleCheck(pid, "c1d1", **st.calculation.expected()), "nina")
        assert screen.state().verified
        m = dict(ledger.patient(pid).current("measurement"))
        m["weight_kg"] = "77"
        ledger.record("phil", pid, "measurement", m)
        screen.fill()
        assert prep.stale_reasons(screen.state(), ledger.patient(pid).current("measurement"), "mosteller", Decimal("0.8"))
        assert "VOID" in str(screen.query_one("#prep-status").render())
        await pilot.press("c")
        st = screen.state()
        assert st.calculation.data["weight_kg"] == "77" and not st.verified


async def test_syringe_route_needs_the_pharmacists_flush_record(app, clock):
    """W9/W15-like small dose: the bag would be too dilute (PREP-8), so the syringe route is
    proposed; the start stays blocked until a pharmacist records set, priming and flush (PREP-9)."""
    from bedside.core.infusion import gate as workflow
    from bedside.tui.screens.dialogs import FieldsDialog

    async with app.run_test() as pilot:
        await sign_in(pilot, "phil")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-200518")  # 120 cm / 22 kg child
        from bedside.core import schedule as sch

        app.ledger.execute(sch.StartCycle(pid, app.ledger.today()), "priya")
        app.push_screen(PreparationScreen(pid, DoseRef(1, 8, Decimal("0.5"), "Table 1, cycle 1 Day 8 (DOSE-1)", "cycle 1 day 8")))
        await pilot.pause()
        screen = app.screen
        await pilot.press("c")
        st = screen.state()
        assert st.calculation.data["route"] == "syringe" and st.calculation.data["dose_mg"] == "0.43"  # 0.8563 m² × 0.5
        assert st.calculation.data["final_volume_ml"] == "4.30"  # the proposal: 0.43 mg ÷ 0.1 mg/mL

        # The pharmacist confirms or edits the volume within 0.025–0.1 mg/mL: 4.30 to 17.20 mL.
        await pilot.press("V")
        await pilot.pause()
        dlg = app.screen
        assert isinstance(dlg, FieldsDialog) and "4.30–17.20" in str(dlg.query_one(".flabel").render())
        dlg.query_one("#f-volume").value = "20"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dlg  # refused, the range named under the field
        dlg.query_one("#f-volume").value = "4.30"
        await pilot.press("ctrl+s")
        await pilot.pause()
        st = screen.state()
        assert st.calculation.data["syringe_volume_ml"] == "4.30" and st.calculation.actor == "phil"
        assert "Final volume 4.30 mL (set by phil)" in str(screen.query_one("#prep-status").render())
        gate = workflow.start_gate(app.ledger, pid, "c1d8")
        assert any("PREP-9" in b for b in gate.blockers)
        await pilot.press("s")
        await pilot.pause()
        dlg = app.screen
        assert isinstance(dlg, FieldsDialog)
        dlg.query_one("#f-set").value = "syringe pump set, PES filter"
        dlg.query_one("#f-primed").value = "yes"
        dlg.query_one("#f-flush_ml").value = "2"
        await pilot.press("ctrl+s")
        await pilot.pause()
        st = screen.state()
        # Final volume 4.30 mL at 4.30 mL/h: a 2 mL flush takes 27.9 → 28 min (rounded up).
        assert st.syringe["flush_min"] == 28 and st.flush_min == 28
        assert not any("PREP-9" in b for b in workflow.start_gate(app.ledger, pid, "c1d8").blockers)
        assert "flush 2 mL = 28 min" in str(screen.query_one("#prep-status").render())


async def test_a_nurse_asks_a_pharmacist_to_override_stab4(app, clock):
    from bedside.tui.screens.dialogs import AuthScreen, FieldsDialog

    clock.set(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    async with app.run_test(notifications=True) as pilot:
        screen, _pid = await open_prep(app, pilot, user="nina")
        await pilot.press("c")
        await record_step(pilot, app, "r", "08:00")
        await record_step(pilot, app, "d", "08:10", vials="refrigerated")
        assert screen.state().deadlines(clock.now()).binding.rule_id == "STAB-4"  # 4 h at room temperature

        await pilot.press("O")
        await pilot.pause()
        dlg = app.screen
        assert isinstance(dlg, FieldsDialog)
        dlg.query_one("#f-rule").value = "STAB-4"
        dlg.query_one("#f-reason").value = "in-house data [b]validated[/b]"
        await pilot.press("ctrl+s")
        await pilot.pause()
        auth = app.screen
        assert isinstance(auth, AuthScreen)  # nina is a nurse: a pharmacist signs in here
        auth.query_one("#f-user").value = "phil"
        auth.query_one("#f-pin").value = "1234"
        await pilot.press("ctrl+s")
        await pilot.pause()
        st = screen.state()
        o = st.override("STAB-4")
        assert o is not None and o["actor"] == "phil" and o["unverified_rule"] == "STAB-4"
        assert st.deadlines(clock.now()).binding.rule_id == "STAB-2"  # the label's 8 h stays
        status = str(screen.query_one("#prep-status").render())
        assert "STAB-4 overridden by phil" in status and "in-house data [b]validated[/b]" in status


def test_stab5_early_start_waits_for_a_pharmacists_confirmation(demo_ledger, clock):
    from bedside.core.infusion import gate as workflow

    from .conftest import make_ready

    clock.set(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    ledger = demo_ledger
    pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100231")
    make_ready(ledger, clock, pid)
    ledger.execute(prep.RefrigerateBag(pid, "c1d1", clock.now()), "phil")
    clock.advance(minutes=30)
    ledger.execute(prep.RemoveBag(pid, "c1d1", clock.now()), "phil")
    clock.advance(minutes=20)
    assert any("STAB-5" in b for b in workflow.start_gate(ledger, pid, "c1d1").blockers)
    ledger.execute(prep.OverrideStability(pid, "c1d1", "STAB-5", "urgent start, bag at 21 °C"), "phil")
    assert not any("STAB-5" in b for b in workflow.start_gate(ledger, pid, "c1d1").blockers)


async def test_the_screen_shows_the_decisions_refusals(app, clock):
    """The screen decides nothing itself: a prescriber's calculation, a prescriber as the second
    person and a nurse's syringe record are refused by core, and the screen shows its words."""
    async with app.run_test(notifications=True) as pilot:
        await sign_in(pilot, "priya")
        pid = next(p.id for p in app.ledger.patients() if p.mrn == "MRN-100231")
        app.push_screen(PreparationScreen(pid, dose()))
        await pilot.pause()
        screen = app.screen
        await pilot.press("c")
        await pilot.pause()
        assert screen.state().calculation is None
        assert any("only a pharmacist or nurse" in n.message for n in app._notifications)

        app.ledger.execute(prep.CalculateDose(pid, 1, 1), "phil")
        screen.refill()
        await pilot.press("v")
        await pilot.pause()
        v = app.screen
        assert isinstance(v, VerifyScreen)
        for f, value in (
            ("user", "priya"),
            ("pin", "1234"),
            ("bsa_m2", "1.82"),
            ("level_mg_m2", "0.8"),
            ("dose_mg", "1.45"),
            ("withdraw_ml", "5.80"),
        ):
            v.query_one(f"#f-{f}").value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is v  # refused by the decision's dry run: priya is a prescriber in the users log
        assert "a pharmacist or nurse must verify" in str(v.query_one("#e-user").render())
        assert not screen.state().verifications


async def test_the_screen_fits_80_columns_and_its_keys_stay_whole(app, clock):
    from bedside.tui.screens.preparation import MORE_KEYS

    async with app.run_test(size=(80, 24)) as pilot:
        screen, _pid = await open_prep(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        text = "\n".join(lines)
        assert "Preparation · C1 D1 · 0.8 mg/m²" in text
        assert all(item in text for item in MORE_KEYS)  # no key and its words broken over two lines
        assert "→ 1.82 m²" in screen.query_one("#trail").render().plain  # W1 at display precision


async def test_b_scans_each_carton_and_refuses_a_wrong_product(app, clock):
    """Issue 20: b asks for each vial carton in turn; a wrong product stays in the dialog with the
    decision's reason; a good scan records lot and expiry; the dialog closes when all are scanned."""
    from bedside.core.scan import GS
    from bedside.tui.screens.dialogs import FieldsDialog

    clock.set(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    async with app.run_test(notifications=True) as pilot:
        screen, _pid = await open_prep(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        vials = int(screen.state().calculation.data["vials"])
        await pilot.press("b")
        await pilot.pause()
        dlg = app.screen
        assert isinstance(dlg, FieldsDialog) and "(PREP-1)" in dlg.title_text
        dlg.query_one("#f-code").value = "]d201003000801000281727123110LOT-X"  # NDC 0008-0100-02
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dlg and screen.state().cartons == ()
        assert "PREP-1" in str(dlg.query_one("#e-code").render())
        for n in range(vials):
            app.screen.query_one("#f-code").value = f"]d201003000801000111727123110LOT-{n}{GS}21SER{n}"
            await pilot.press("enter")  # a wedge scanner ends the code with Enter: it records
            await pilot.pause()
        st = screen.state()
        assert len(st.cartons) == vials and not isinstance(app.screen, FieldsDialog)
        assert st.cartons[0].lot == "LOT-0" and st.cartons[0].expiry == "2027-12-31"
        assert f"{vials} of {vials} scanned" in str(screen.query_one("#prep-status").render())

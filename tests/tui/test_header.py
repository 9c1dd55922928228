"""The patient header on every patient screen: labels and values apart, a long name cut, the MRN
and the DOB always on the line (80 and 200 columns, with and without colour)."""

from __future__ import annotations

from datetime import date

import pytest

from bedside.core.intake import RegisterPatient
from bedside.tui.screens.base import identity_line
from bedside.tui.screens.patient import PatientScreen
from bedside.tui.screens.timeline import TimelineScreen

from .conftest import sign_in

LONG = "VAN DER BERGH-ASANTE-OYELARAN, Maximiliana Josephine Anastasia Kwabena Oluwaseun"


def screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def long_named(ledger) -> str:
    ledger.execute(RegisterPatient({"name": LONG, "dob": "1961-02-03", "mrn": "MRN-20202020202", "sex": "female"}), "nina")
    return next(p.id for p in ledger.patients() if p.mrn == "MRN-20202020202")


def test_labels_and_values_are_apart_and_the_name_gives_way_first(demo_ledger):
    p = demo_ledger.patient(next(p.id for p in demo_ledger.patients() if p.mrn == "MRN-100590"))
    today = date(2026, 12, 3)
    assert str(identity_line(p, today)) == "NAKAMURA, Ren │ MRN MRN-100590 │ DOB 1979-07-08 (47 y) │ Male"
    q = demo_ledger.patient(long_named(demo_ledger))
    for width in (78, 60, 40):
        line = identity_line(q, today, width).plain
        assert len(line) <= width or width == 40, (width, line)  # 40: too narrow even for 12 cells of name, it wraps
        assert "MRN MRN-20202020202" in line and "DOB 1961-02-03" in line
        assert line.startswith("VAN DER BER") and "…" in line
    assert "Female" in identity_line(q, today, 78).plain  # room for the sex at 80 columns
    assert "Female" not in identity_line(q, today, 40).plain  # it gives way before the name goes under 12 cells
    assert identity_line(q, today, 198).plain.startswith(LONG)  # whole at 200 columns


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
@pytest.mark.parametrize("no_color", [False, True])
async def test_the_header_shows_the_mrn_with_a_long_name(demo_ledger, idle, monkeypatch, size, no_color):
    from bedside.tui.app import BedsideApp

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    pid = long_named(demo_ledger)
    app = BedsideApp(demo_ledger, demo=True, idle_clock=idle)
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot)
        for screen in (PatientScreen(pid), TimelineScreen(pid)):
            app.push_screen(screen)
            await pilot.pause()
            header = screen_lines(app)[1]  # under the title bar
            assert "│ MRN MRN-20202020202 │ DOB 1961-02-03 (" in header, header
            assert header.rstrip().endswith("Female"), header
            if size[0] == 80:
                assert "…" in header
            else:
                assert LONG in header
            app.pop_screen()
            await pilot.pause()


async def test_the_header_fits_again_after_a_resize(app):
    async with app.run_test(size=(200, 50)) as pilot:
        await sign_in(pilot)
        pid = long_named(app.ledger)
        app.push_screen(PatientScreen(pid))
        await pilot.pause()
        assert LONG in screen_lines(app)[1]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        header = screen_lines(app)[1]
        assert "…" in header and "MRN MRN-20202020202" in header and "DOB 1961-02-03" in header

"""The audit screen: fields in words (not JSON), numbers at display precision in the table and
whole in the detail, rows in time order, columns sized to content and width."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import DataTable, Static

from bedside.core.records import audit as words
from bedside.tui.screens.audit import AuditScreen
from bedside.tui.screens.dialogs import TextScreen

from .conftest import sign_in


def column_widths(table: DataTable) -> dict[str, int]:
    return {str(c.label): c.width for c in table.ordered_columns}


def cells(table: DataTable) -> list[dict[str, str]]:
    names = [str(c.label) for c in table.ordered_columns]
    return [dict(zip(names, (str(v) for v in table.get_row_at(i)), strict=True)) for i in range(table.row_count)]


def pid_of(ledger, mrn: str) -> str:
    return next(p.id for p in ledger.patients() if p.mrn == mrn)


def test_core_says_each_field_in_words_at_display_precision(demo_ledger):
    view = demo_ledger.view(pid_of(demo_ledger, "MRN-100590"))
    calc = next(e for e in view.events if e.kind == "prep.calculated")
    stored = calc.data["bsa_m2"]
    assert len(stored) > 10  # the whole value, as dosing used it
    fields = {f.name: f for f in words.event_fields(calc)}
    assert fields["bsa_m2"].short == f"{Decimal(stored).quantize(Decimal('0.01'))} m²"  # CONV-CALC-2
    assert fields["bsa_m2"].full == f"{stored} m²"
    assert fields["dose"].short == "C1 D8" and "dose_id" not in fields and "cycle" not in fields
    assert fields["dose_mg"].label == "Amount" and fields["formula"].short == "Mosteller"
    line = words.summary(calc)
    assert "Dose: C1 D8" in line and "BSA: 1.88 m²" in line and "{" not in line and '"' not in line
    created = next(e for e in demo_ledger.events if e.kind == "user.created")
    assert "pin_hash" not in {f.name for f in words.event_fields(created)}  # a secret, even here
    assert words.what(created) == "created user"


async def test_the_detail_shows_words_not_json(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        pid = pid_of(app.ledger, "MRN-100590")
        app.push_screen(AuditScreen(pid))
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#audit", DataTable)
        whats = [r["What"] for r in cells(table)]
        table.move_cursor(row=whats.index("calculated dose"))
        await pilot.pause()
        detail = str(screen.query_one("#audit-detail", Static).render())
        stored = next(e for e in app.ledger.view(pid).events if e.kind == "prep.calculated").data["bsa_m2"]
        assert f"BSA: {stored} m²" in detail  # the whole stored value, here only
        assert "Withdraw: 3.76 mL" in detail and "Dose: C1 D8" in detail
        assert "{" not in detail and '"' not in detail and "c1d8" not in detail
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        full = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "Hash: " in full and "Kind: prep.calculated" in full and "{" not in full


async def test_rows_are_in_time_order_both_ways(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.press("a")  # the whole database (the demo's events are not stored in time order)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        table = screen.query_one("#audit", DataTable)

        def times():
            by_seq = {e.seq: e.at for e in app.ledger.events}
            return [by_seq[int(table.coordinate_to_cell_key((i, 0)).row_key.value)] for i in range(table.row_count)]

        stored = [e.at for e in app.ledger.events]
        assert stored != sorted(stored)  # else this test could not fail
        assert times() == sorted(times(), reverse=True)
        await pilot.press("o")
        await pilot.pause()
        assert times() == sorted(times())


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)])
async def test_columns_fit_their_content_and_the_width(app, size):
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot)
        await pilot.press("a")
        await pilot.pause()
        table = app.screen.query_one("#audit", DataTable)
        widths = column_widths(table)
        rows = cells(table)
        for name in ("When (local)", "Who", "What", "Patient"):  # never cut
            assert all(len(r[name]) <= widths[name] for r in rows), name
        total = sum(w + 2 for w in widths.values())
        assert total <= size[0] - table.styles.scrollbar_size_vertical
        if size[0] == 80:
            assert len(rows[0]["When (local)"]) == 16  # minutes at 80; the pane has the seconds
        else:
            assert len(rows[0]["When (local)"]) == 19
            assert widths["Details"] >= size[0] - 80  # the rest of the width goes to the fields
            assert any("·" in r["Details"] and "{" not in r["Details"] for r in rows)

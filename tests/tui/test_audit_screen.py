"""The audit screen: fields in words (not JSON), numbers at display precision in the table and
whole in the detail, rows in time order, columns sized to content and width."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import DataTable, Static

from bedside.core.records import audit as words
from bedside.tui.screens.audit import AuditScreen
from bedside.tui.screens.dialogs import TextScreen

from .conftest import sign_in, type_text


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
    created = next(e for e in demo_ledger.store.audit_page(kinds=["user.created"], limit=1))
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


def seqs(table: DataTable) -> list[int]:
    return [int(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


async def test_rows_are_in_the_order_stored_both_ways(app):
    """Seq order (the log's), not time order: the demo's events are not stored in time order."""
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.press("a")  # the whole database
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        table = screen.query_one("#audit", DataTable)
        last = app.ledger.store.last_seq()
        shown = seqs(table)
        assert shown == list(range(last, last - len(shown), -1))  # newest first, none left out
        stored = [e.at for e in app.ledger.store.audit_page(before=last + 1, limit=len(shown))]
        assert stored != sorted(stored, reverse=True)  # else "by seq" could not be told from "by time"
        await pilot.press("o")
        await pilot.pause()
        shown = seqs(table)
        assert shown == list(range(1, len(shown) + 1))  # oldest first


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


def add_filler(ledger, n: int) -> None:
    from datetime import timedelta

    from bedside.core.events import NewEvent

    store, at = ledger.store, ledger.clock.now()
    for i in range(0, n, 500):
        version = store.stream_version("filler")
        store.append(
            "filler",
            version,
            [NewEvent("filler", "test.filler", "tester", at + timedelta(seconds=j), {"n": j}) for j in range(i, i + 500)],
        )
    ledger.refresh()


class CountingStore:
    """The ledger's store, counting the events each read returns."""

    def __init__(self, store):
        self.store, self.events_read = store, 0

    def __getattr__(self, name):
        attr = getattr(self.store, name)
        if name not in ("audit_page", "read", "iter_events"):
            return attr

        def counted(*args, **kwargs):
            got = list(attr(*args, **kwargs))
            self.events_read += len(got)
            return got

        return counted


async def test_opening_the_audit_reads_a_page_not_the_log(app, monkeypatch):
    from bedside.tui.screens import audit

    add_filler(app.ledger, 3000)
    async with app.run_test() as pilot:
        await sign_in(pilot)
        counting = CountingStore(app.ledger.store)
        monkeypatch.setattr(app.ledger, "store", counting)
        app.push_screen(AuditScreen())
        await pilot.pause()
        table = app.screen.query_one("#audit", DataTable)
        assert table.row_count == audit.PAGE
        assert counting.events_read <= 2 * audit.PAGE
        title = str(app.screen.query_one("#audit-title", Static).render())
        assert f"{audit.PAGE} of {counting.store.last_seq()} events, newest first" in title
        for _ in range(6):  # near the end of what is loaded: the next page
            await pilot.press("pagedown")
        await pilot.pause()
        assert table.row_count == 2 * audit.PAGE and counting.events_read <= 3 * audit.PAGE


async def test_a_filter_searches_the_log_a_window_at_a_time(app, monkeypatch):
    from bedside.tui.screens import audit

    monkeypatch.setattr(audit, "WINDOW", 400)
    monkeypatch.setattr(audit, "STEP_SECONDS", 0.2)  # slower than keys: the search is under way after the last
    add_filler(app.ledger, 3000)  # the demo's own events are all older than these
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.press("a", "slash")
        await type_text(pilot, "MRN-100590")
        screen = app.screen
        title = lambda: str(screen.query_one("#audit-title", Static).render())  # noqa: E731
        assert "searching" in title()  # the first key's window holds only filler: still searching
        for _ in range(100):
            if "match," in title():
                break
            await pilot.pause(0.05)
        rows = cells(screen.query_one("#audit", DataTable))
        assert rows and all(r["Patient"] == "MRN-100590" for r in rows)
        assert f"{len(rows)} of {app.ledger.store.last_seq()} events match" in title()


async def test_a_change_from_another_terminal_adds_only_the_new_rows(app, tmp_path):
    from datetime import timedelta

    from bedside.core.demo import DEMO_KEY
    from bedside.core.events import NewEvent
    from bedside.core.store import SqliteStore

    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#audit", DataTable)
        before = seqs(table)
        kept = table.get_row_at(3)
        other = SqliteStore(tmp_path / "demo.db")  # another terminal
        other.set_keys(DEMO_KEY)
        (ev,) = other.append(
            "filler", 0, [NewEvent("filler", "test.filler", "other", app.ledger.clock.now() + timedelta(seconds=1), {})]
        )
        other.close()
        app.poll_store()
        await pilot.pause()
        assert seqs(table) == [ev.seq, *before]
        assert table.get_row_at(4) is not None and [str(c) for c in table.get_row_at(4)] == [str(c) for c in kept]


async def test_a_refused_event_is_marked_not_worded(app, tmp_path):
    """A forged event (a correct hash, no MAC) appended by another connection: the audit says
    it was refused rather than what it claims."""
    from tests.core.test_tamper import forged_append

    seq = forged_append(tmp_path / "demo.db")
    async with app.run_test() as pilot:
        await sign_in(pilot)
        app.ledger.refresh(force=True)
        assert app.ledger.is_rejected(seq)
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#audit", DataTable)
        row = seqs(table).index(seq)  # below the sign-in that came after it
        assert [r["What"] for r in cells(table)][row - 1 : row + 1] == ["signed in", "REFUSED (not authentic)"]
        table.move_cursor(row=row)
        await pilot.pause()
        assert "REFUSED (not authentic)" in str(screen.query_one("#audit-detail", Static).render())

"""On PostgreSQL the app waits for the appends' NOTIFY (issue 19): another terminal's change shows
on the patient list at once with the timed polls switched off, and an idle terminal sends no
query a second. Needs ``BEDSIDE_TEST_PG`` (skipped without it)."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.widgets import DataTable

from bedside.core.demo import DEMO_KEY, seed
from bedside.core.intake import RegisterPatient
from bedside.core.service import Ledger
from bedside.tui import app as app_module
from bedside.tui.app import BedsideApp

from ..core.test_store_contract import PgDatabase, require_pg
from .conftest import FakeIdle, sign_in


@pytest.fixture
def pg_db():
    db = PgDatabase(require_pg())
    yield db
    db.drop()


async def wait_until(pilot, cond, seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
        await pilot.pause()


def names_listed(app) -> set[str]:
    table = app.screen.query_one("#patients", DataTable)
    return {str(table.get_row(key)[1]) for key in table.rows}


async def test_another_terminals_patient_shows_at_once_without_a_timed_poll(pg_db, clock, monkeypatch):
    from bedside.core.pgstore import PgStore

    # Only a notification can wake the watcher once it listens: its safety poll is an hour away.
    monkeypatch.setattr(app_module, "SAFETY_POLL_SECONDS", 3600.0)
    mine, theirs = PgStore(pg_db.url), PgStore(pg_db.url)
    seed(mine, clock)
    ledger = Ledger(mine, clock, DEMO_KEY)
    other = Ledger(theirs, clock, DEMO_KEY)
    app = BedsideApp(ledger, demo=True, idle_clock=FakeIdle())
    try:
        async with app.run_test() as pilot:
            await sign_in(pilot)
            await wait_until(pilot, lambda: app._listener is not None and app._listener.connected)
            listener = app._listener
            await wait_until(pilot, lambda: ledger.last_seq == mine.last_seq())  # its own sign-in, folded

            polls = []
            real = mine.change_token
            quiet = listener.notified
            monkeypatch.setattr(mine, "change_token", lambda: polls.append(1) or real())
            await asyncio.sleep(2.5)
            # Another test's log in the same database (the suite runs in parallel) notifies on the
            # same channel: each such wake-up may ask once; nothing else may (no timed poll).
            woken = listener.notified - quiet
            assert len(polls) <= woken, "an idle terminal on PostgreSQL sends no query a second"

            heard = listener.notified
            other.execute(
                RegisterPatient({"name": "NOTIFY, Nell", "dob": "1969-04-05", "mrn": "MRN-NTFY-1", "sex": "female"}), "noah"
            )
            await wait_until(pilot, lambda: "NOTIFY, Nell" in names_listed(app))
            assert listener.notified > heard and polls, "shown because the NOTIFY woke the watcher"
    finally:
        mine.close()
        theirs.close()
    assert listener.wait(1) is False and not listener.connected, "the listener is closed with the app"

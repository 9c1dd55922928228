"""Issue 19, as a user drives the app on a realistic ward of a few thousand events: counting the
store's reads, signing in and reaching the patient list reads no patient's events; opening the
active-infusions board reads only the patients it shows; opening a patient reads only theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedside.core import intake
from bedside.core.clock import FakeClock
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from bedside.tui.app import BedsideApp
from bedside.tui.screens.board import BoardScreen
from bedside.tui.screens.patient import PatientScreen
from bedside.tui.screens.patients import PatientListScreen
from tests.core.ward import NOW, Counting, copy_ward, key_of, module_ward

from .conftest import sign_in
from .test_screen_change_keys import until


@pytest.fixture(scope="module")
def ward(tmp_path_factory) -> Path:
    return module_ward(tmp_path_factory)


@pytest.fixture
def counted(ward, tmp_path):
    db = copy_ward(ward, tmp_path / "ward.db")
    store = SqliteStore(db)
    clock = FakeClock(NOW.replace(minute=20))
    Ledger(store, clock, key_of(db), checkpoint=True)  # an earlier terminal left its checkpoint
    counting = Counting(store)
    yield counting, Ledger(counting, clock, key_of(db), checkpoint=True)
    store.close()


async def test_the_board_and_a_patient_read_only_the_patients_on_screen(counted):
    counting, ledger = counted
    app = BedsideApp(ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "nina", "1234")
        await until(pilot, lambda: isinstance(app.screen, PatientListScreen))
        assert counting.patients_read() == set(), "signing in read patients' events"

        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        board = app.screen
        shown = {key.split("|")[0] for key in board.rows}
        assert shown, "the ward has infusions running now"
        assert counting.patients_read() == {intake.PATIENT_PREFIX + pid for pid in shown}, counting.by_stream
        board.tick()
        board.tick()
        assert counting.patients_read() == {intake.PATIENT_PREFIX + pid for pid in shown}

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PatientListScreen))
        counting.by_stream.clear()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))
        opened = intake.PATIENT_PREFIX + app.screen.pid
        assert counting.patients_read() <= {opened}, counting.by_stream
        assert app.screen.pid in {e.id for e in ledger.patients()}

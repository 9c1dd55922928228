"""Fixtures shared by the infusion tests: the demo ward and HARTMAN's C1 D1 made ready to start."""

from __future__ import annotations

import pytest

from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore

from ...tui.conftest import make_ready


@pytest.fixture
def demo(tmp_path, clock):
    """A ledger on the demo database, and HARTMAN's patient id."""
    store = SqliteStore(tmp_path / "demo.db")
    seed(store, clock)
    ledger = Ledger(store, clock, DEMO_KEY)
    pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100231")
    yield ledger, pid
    store.close()


@pytest.fixture
def ready(demo, clock):
    """HARTMAN's C1 D1 prepared, verified and checked: it may start (make_ready)."""
    ledger, pid = demo
    make_ready(ledger, clock, pid)
    return ledger, pid

from __future__ import annotations

import pytest

from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore


@pytest.fixture
def demo(tmp_path, clock):
    """A ledger on the demo database (the demo staff, PIN 1234, and the demo patients)."""
    store = SqliteStore(tmp_path / "demo.db")
    seed(store, clock)
    yield Ledger(store, clock, DEMO_KEY)
    store.close()

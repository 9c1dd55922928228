from __future__ import annotations

import os
import time

# Local time in tests is UTC, so expected local dates and clock times are fixed.
os.environ["TZ"] = "UTC"
time.tzset()
# A fault in Bedside fails the test that caused it (tui/faults.py); the fault log stays out of HOME.
os.environ["BEDSIDE_RAISE_FAULTS"] = "1"
os.environ.setdefault("BEDSIDE_LOG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bedside-test-faults-{os.getpid()}"))

from datetime import UTC, datetime

import pytest

from bedside.core.auth import SiteKey
from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "test.db")
    yield s
    s.close()


@pytest.fixture
def key() -> SiteKey:
    return DEMO_KEY


@pytest.fixture
def ledger(store, clock, key) -> Ledger:
    """A ledger on an empty store but for the demo staff (PIN 1234): every command's role is read
    from the users log (core/commands.py), so the actors the tests name must be users."""
    from bedside.core.demo import seed_users

    seed_users(store, clock)
    return Ledger(store, clock, key)


@pytest.fixture
def empty_ledger(store, clock, key) -> Ledger:
    """A ledger on a store with nothing in it, not even a user (the first start)."""
    return Ledger(store, clock, key)


def pytest_terminal_summary(terminalreporter):
    """The key budgets the e2e walks measured (tests/e2e/budgets.py), printed with every run. Here,
    not in tests/e2e/conftest.py: under pytest-xdist the main process collects nothing and loads
    only this conftest; the lines come in each test's report (tests/e2e/conftest.py)."""
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for r in reports
        for key, value in getattr(r, "user_properties", ())
        if key == "key budget"
    ]
    if lines:
        terminalreporter.section("key budgets (issue 17)")
        for line in dict.fromkeys(lines):  # a report per phase of a test: each line once
            terminalreporter.write_line(line)

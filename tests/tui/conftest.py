from __future__ import annotations

import pytest

from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from bedside.tui.app import BedsideApp


class FakeIdle:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def demo_ledger(tmp_path, clock):
    store = SqliteStore(tmp_path / "demo.db")
    seed(store, clock)
    yield Ledger(store, clock, DEMO_KEY)
    store.close()


@pytest.fixture
def idle() -> FakeIdle:
    return FakeIdle()


@pytest.fixture
def app(demo_ledger, idle) -> BedsideApp:
    return BedsideApp(demo_ledger, demo=True, idle_clock=idle)


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def sign_in(pilot, user: str = "nina", pin: str = "1234") -> None:
    await type_text(pilot, user)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await pilot.pause()

"""What the command tests of core/auth and core/intake share: a decision on the ledger's record as
it stands, its refusal's words, and the events of the database written by main at 5f43dfd."""

from __future__ import annotations

import shutil
from pathlib import Path

from bedside.core.commands import Refusal, decide
from bedside.core.store import SqliteStore

DB = Path(__file__).resolve().parents[2] / "fixtures" / "main-5f43dfd.db"


def decided(ledger, cmd, actor):
    """The decision of ``cmd`` for ``actor`` (their role read from the users log), appending nothing."""
    return decide(ledger.state(), cmd, ledger.clock.now(), ledger.actor(actor))


def refused(ledger, cmd, actor) -> str:
    """The words of the refusal (the test fails if the command is accepted)."""
    result = decided(ledger, cmd, actor)
    assert isinstance(result, Refusal), result
    return result.text


def fixture_events(tmp_path, stream: str | None = None):
    """The fixture database's events (read from a copy: opening a store may write to it)."""
    copy = tmp_path / DB.name
    shutil.copyfile(DB, copy)
    shutil.copyfile(DB.with_name(DB.name + ".head"), copy.with_name(copy.name + ".head"))
    store = SqliteStore(copy)
    try:
        return store.read(stream)
    finally:
        store.close()

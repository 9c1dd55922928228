"""What the command tests of core/auth and core/intake share: a decision on the ledger's record as
it stands, its refusal's words, and the events of the database written by main at 5f43dfd."""

from __future__ import annotations

from bedside.core.commands import Refusal, decide
from tests.fixtures.main_db import fixture_events  # noqa: F401  (the auth and intake tests read it here)


def decided(ledger, cmd, actor):
    """The decision of ``cmd`` for ``actor`` (their role read from the users log), appending nothing."""
    return decide(ledger.state(), cmd, ledger.clock.now(), ledger.actor(actor))


def refused(ledger, cmd, actor) -> str:
    """The words of the refusal (the test fails if the command is accepted)."""
    result = decided(ledger, cmd, actor)
    assert isinstance(result, Refusal), result
    return result.text

"""What a store can fail with: the errors every backend raises and the ledger and the screens catch.

They live apart from the adapters (:mod:`bedside.core.store` for SQLite,
:mod:`bedside.core.pgstore` for PostgreSQL), so a screen can tell the user "the database is busy"
without importing a store (the import-linter contracts in ``pyproject.toml``). Both adapter
modules re-export them, so ``from bedside.core.store import StoreError`` keeps working.
"""

from __future__ import annotations


class StoreError(Exception):
    """The store could not do what was asked."""


class StoreUnavailable(StoreError):
    """The store cannot be used just now (locked, full, read-only, unreachable); nothing was saved.

    ``str(exc)`` is one sentence a user can act on: what happened and what to do. ``retry``: whether
    trying again can help without someone changing something first (a lock, a lost server).
    """

    def __init__(self, message: str, retry: bool = True, detail: str = ""):
        super().__init__(message)
        self.retry = retry
        self.detail = detail


class StoreUncertain(StoreError):
    """The connection was lost during a commit: the append may or may not be in the log.

    The ledger re-reads and looks for the events before it tells the user anything.
    """


class ConcurrencyError(StoreError):
    """Another writer appended to the stream first: re-read, decide again, retry."""

    def __init__(self, stream: str, expected: int, actual: int):
        super().__init__(f"{stream}: expected version {expected}, found {actual}")
        self.stream, self.expected, self.actual = stream, expected, actual

"""What a user is told when something fails underneath, and where the details go.

A store that is locked, full, read-only or unreachable is a condition of the ward, not a bug: the
user is told what happened and what to do, the screen and its form stay as they were, and a key
retries. Anything else is a fault in Bedside: the traceback goes to a log file (never to the
terminal) and the user is told that nothing was half-saved, because every record is appended
whole or not at all.

Tests set ``BEDSIDE_RAISE_FAULTS=1`` so that a fault in Bedside fails the test that caused it
instead of being shown in a dialog; store conditions are always handled.
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from attrs import frozen

RAISE_ENV = "BEDSIDE_RAISE_FAULTS"


@frozen
class Fault:
    title: str
    text: str
    can_retry: bool = True
    detail: str = ""


def raise_faults() -> bool:
    return bool(os.environ.get(RAISE_ENV))


def log_path() -> Path:
    from platformdirs import user_log_dir

    return Path(os.environ.get("BEDSIDE_LOG_DIR") or user_log_dir("bedside", appauthor=False)) / "faults.log"


def log_fault(exc: BaseException) -> Path | None:
    """Append the traceback, with the time in UTC, to the fault log (mode 0600). None if it cannot."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now(UTC).isoformat()} pid {os.getpid()}\n")
            fh.write("".join(traceback.format_exception(exc)))
        return path
    except OSError:
        return None


def describe(exc: BaseException) -> Fault | None:
    """The user's view of an exception; None for a fault in Bedside that tests must see raised."""
    from bedside.core.store_errors import ConcurrencyError, StoreError, StoreUnavailable

    if isinstance(exc, StoreUnavailable):
        return Fault("The database cannot be used just now", str(exc), exc.retry)
    if isinstance(exc, ConcurrencyError):
        return Fault(
            "Another terminal is changing this record",
            "Another terminal saved to this patient at the same moment, several times over. "
            "Nothing of yours was saved. Try again.",
        )
    if isinstance(exc, StoreError):
        return Fault("The database refused this", f"{exc}. Nothing was saved.", True)
    if raise_faults():
        return None
    where = log_fault(exc)
    logged = f"The details were written to {where}." if where else "The details could not be written to the fault log."
    return Fault(
        "Something went wrong in Bedside",
        "This action stopped before it finished. Nothing was half-saved: every record is saved whole or "
        f"not at all. {logged} Tell IT, and check the screen before trying again.",
        True,
    )

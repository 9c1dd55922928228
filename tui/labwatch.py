"""The app's own drop-folder watcher: ``bedside --watch-labs DIR``, and in the demo a folder of its
own (issue 20). The work is core/labfeed.py's :func:`watch_once`, the same as ``bedside import
labs --watch``; here it runs in a thread with a ledger (and store connection) of its own, so a
slow store never freezes the screen. What each pass did goes to the app (``report``), which folds
the new records in at once and tells the signed-in user in one line.

A file is read once it has not changed for :data:`SETTLE_SECONDS` (a file still being copied is
not read half-written); a feed that writes elsewhere and renames into the folder is read at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

INTERVAL_SECONDS = 2.0  # a pass of the folder this often
SETTLE_SECONDS = 1.0  # a file unchanged this long is complete


class LabWatcher:
    def __init__(
        self,
        folder: Path,
        open_ledger: Callable[[], object],
        actor: str,
        report: Callable[[list], None],
        interval: float = INTERVAL_SECONDS,
    ):
        self.folder = Path(folder)
        self._open_ledger = open_ledger
        self._actor = actor
        self._report = report
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ledger = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bedside-labs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        store = getattr(self._ledger, "store", None)
        if store is not None:
            store.close()

    def _run(self) -> None:
        from bedside.core import labfeed

        from .faults import log_fault

        while not self._stop.is_set():
            try:
                if self._ledger is None:
                    self._ledger = self._open_ledger()
                done = labfeed.watch_once(self._ledger, self.folder, self._actor, settled_before=time.time() - SETTLE_SECONDS)
                if done:
                    self._report(done)
            except Exception as exc:  # noqa: BLE001 - a store or folder fault: logged; the next pass tries again
                log_fault(exc)
            self._stop.wait(self._interval)


def summary(done: list[tuple[str, list]]) -> tuple[str, bool]:
    """One line for the user: which patients' results were applied, how many were already
    recorded, kept in the quarantine or not read; True when any was quarantined or not read."""
    counts: dict[str, int] = {}
    mrns: list[str] = []
    for _name, outcomes in done:
        for o in outcomes:
            counts[o.what] = counts.get(o.what, 0) + 1
            if o.what == "applied" and o.detail not in mrns:
                mrns.append(o.detail)
    parts = []
    if counts.get("applied"):
        parts.append(f"{counts['applied']} applied ({', '.join(mrns)})")
    if counts.get("unchanged"):
        parts.append(f"{counts['unchanged']} already recorded")
    if counts.get("quarantined"):
        parts.append(f"{counts['quarantined']} quarantined: an admin assigns or rejects it in the Lab inbox (l)")
    if counts.get("failed"):
        parts.append(f"{counts['failed']} file(s) not read (the database failed): tried again in a moment")
    return "Laboratory: " + "; ".join(parts or ["nothing new"]) + ".", bool(counts.get("quarantined") or counts.get("failed"))

"""Reaction numbering: the one helper every reader of a dose's reactions uses (issue 16).

A reaction's number is its place (1, 2, …) among the dose's ``reaction.started`` events ordered by
fact time (core/facts.py: the ``at`` the user entered; when it was written if the data holds
none, or an unreadable one), ties by log order (``seq``). The monitor fold (core/infusion/fold.py), the printed
record (core/records.py) and the FHIR export (core/fhir.py) all number reactions this way.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..events import Event
from ..facts import fact_time
from .events import REACTION_STARTED

__all__ = ["fact_time", "reaction_numbers"]


def reaction_numbers(events: Iterable[Event], dose_id: str | None = None) -> dict[int, int]:
    """``{seq of a reaction.started event: its reaction number}``, numbered 1, 2, … by fact time
    then seq; only dose ``dose_id``'s reactions when it is given (pass one dose's events otherwise)."""
    starts = [ev for ev in events if ev.kind == REACTION_STARTED and (dose_id is None or ev.data.get("dose_id") == dose_id)]
    starts.sort(key=lambda ev: (fact_time(ev), ev.seq))
    return {ev.seq: i for i, ev in enumerate(starts, 1)}

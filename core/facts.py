"""An event's fact time: when what it records happened, as against when it was recorded (issue 16).

A user may record a fact after it happened (the vital signs taken at 10:05, entered at 10:20; the
premedication given 30 minutes before the start). The time they typed is stored in the event's
data, as an aware ISO 8601 time in UTC (``events.iso_utc``): under ``at`` for the infusion and
preparation facts, under ``given_at`` for a premedication. ``Event.at`` is when it was written.
Every reader that orders or shows facts in time (the printed record, the FHIR export, the monitor
fold, the reaction numbering) reads them here.
"""

from __future__ import annotations

from datetime import datetime

from .clock import parse_aware
from .events import Event, NewEvent

__all__ = ["FACT_TIME_KEYS", "by_fact_time", "fact_time", "stated_time", "strict_fact_time"]

#: The data keys that hold a fact's own time, the first present and readable one wins.
FACT_TIME_KEYS = ("at", "given_at")


def stated_time(ev: Event | NewEvent, keys: tuple[str, ...] = FACT_TIME_KEYS) -> datetime | None:
    """The fact's own time from the event's data (UTC), or None when it states none that reads as an
    aware time (a missing key, a naive or damaged value)."""
    for name in keys:
        t = parse_aware(ev.data.get(name))
        if t is not None:
            return t
    return None


def fact_time(ev: Event | NewEvent, keys: tuple[str, ...] = FACT_TIME_KEYS) -> datetime:
    """When the fact happened: the time the user entered (:func:`stated_time`), else when the
    event was written (``ev.at``)."""
    t = stated_time(ev, keys)
    return ev.at if t is None else t


def strict_fact_time(ev: Event | NewEvent, keys: tuple[str, ...] = FACT_TIME_KEYS) -> datetime | None:
    """As :func:`fact_time`, but None when the event names a fact time (one of ``keys`` is in its
    data, the first such is read) that does not read as an aware time: a fold that must not place
    a fact at a time the user did not enter refuses such an event instead (CONV-TIME-1)."""
    for name in keys:
        if name in ev.data:
            return parse_aware(ev.data[name])
    return parse_aware(ev.at)


def by_fact_time(ev: Event) -> tuple[datetime, int]:
    """A sort key: fact time, then log order (``seq``) for facts at the same moment."""
    return fact_time(ev), ev.seq

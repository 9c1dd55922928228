"""Injected clocks (CONV-TIME-1): real, scaled for demos, fake for tests.

Everything that needs "now" takes a clock; nothing in ``core`` calls ``datetime.now()``.
All clocks return timezone-aware UTC datetimes.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:  # aware, UTC
        ...


class RealClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Time that runs ``factor`` times faster than the wall clock, from an anchor.

    Used by ``--demo`` so that a 1-hour infusion passes in about a minute. It is derived from
    the wall clock at every call, so two terminals with the same anchor and factor agree.
    """

    def __init__(self, factor: float, anchor: datetime | None = None, real_anchor: float | None = None):
        self.factor = factor
        self.anchor = anchor or datetime.now(UTC)
        self.real_anchor = time.time() if real_anchor is None else real_anchor

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=(time.time() - self.real_anchor) * self.factor)


class FakeClock:
    """A settable clock for tests."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, **kwargs: float) -> None:
        self._now += timedelta(**kwargs)


def local_tz() -> tzinfo:
    """The site's local time zone (the system's)."""
    return datetime.now().astimezone().tzinfo  # type: ignore[return-value]


def to_local(when: datetime, tz: tzinfo | None = None) -> datetime:
    return when.astimezone(tz or local_tz())


def local_date(when: datetime, tz: tzinfo | None = None) -> date:
    """The site's local calendar date of an instant (CONV-TIME-1: dose days are local dates)."""
    return to_local(when, tz).date()


def fmt_local(when: datetime, tz: tzinfo | None = None, seconds: bool = False) -> str:
    return to_local(when, tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def as_utc(name: str, value: object) -> datetime:
    """An aware datetime in UTC; a naive one or a non-datetime is refused, naming the field."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got a naive datetime")
    return value.astimezone(UTC)


def parse_aware(value: object) -> datetime | None:
    """An aware datetime, or an aware ISO 8601 string (``events.iso_utc`` included), in UTC; else None."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None and value.utcoffset() is not None else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed.astimezone(UTC)

"""Injected clocks (CONV-TIME-1): real, scaled for demos, fake for tests.

Everything that needs "now" takes a clock; nothing in ``core`` calls ``datetime.now()``.
All clocks return timezone-aware UTC datetimes.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as time_of_day
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import evolve, frozen


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


# -- the site's time zone (CONV-TIME-1: store UTC, show local; dose days are local dates) -----
#
# The zone is an IANA name resolved per instant with ``zoneinfo`` (never a fixed offset taken at
# start-up), so summer and winter time are both right, and a terminal started before a DST change
# stays right after it. Where it comes from, first that is set: the site setting ``time_zone``
# (an admin, Settings), else ``$BEDSIDE_TZ``, else the system's zone (``$TZ`` if it names an IANA
# zone, else the target of the /etc/localtime link, else /etc/timezone), else UTC, said so.

ENV_ZONE = "BEDSIDE_TZ"
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")


@frozen
class ZoneChoice:
    """The zone in use, its IANA name, where it came from and, when it is a fallback, why."""

    zone: ZoneInfo
    name: str
    source: str  # "site setting", "BEDSIDE_TZ", "TZ", "/etc/localtime", "/etc/timezone", "fallback"
    note: str = ""  # non-empty when the zone is not what was asked for (shown to the user)

    def describe(self) -> str:
        text = f"{self.name} (from {self.source})"
        return f"{text}: {self.note}" if self.note else text


def zone(name: object, field: str = "Time zone") -> ZoneInfo:
    """The IANA zone called ``name``; anything else is refused with a message naming the field."""
    text = name.strip() if isinstance(name, str) else ""
    hint = "an IANA time zone name such as Europe/Berlin, America/New_York or UTC"
    if not text:
        raise ValueError(f"{field}: empty; {hint}.")
    if len(text) > 64 or not _ZONE_NAME.fullmatch(text) or text in ("localtime", "posixrules", "Factory"):
        raise ValueError(f"{field}: '{text[:64]}' is not {hint}.")
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{field}: '{text}' is not a known time zone; {hint}.") from None


def system_zone(env: Mapping[str, str] | None = None, etc: Path = Path("/etc")) -> ZoneChoice:
    """The system's zone by name: ``$TZ`` if it names an IANA zone, else the /etc/localtime link's
    target under zoneinfo, else /etc/timezone; else UTC, with a note saying so."""
    env = os.environ if env is None else env
    tz = env.get("TZ", "").strip().removeprefix(":")
    if tz:
        try:
            return ZoneChoice(zone(tz), tz, "TZ")
        except ValueError:
            pass  # a POSIX rule such as "CET-1CEST" or a file path: look further
    try:
        target = os.readlink(etc / "localtime")
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        name = target.split("zoneinfo/", 1)[1]
        try:
            return ZoneChoice(zone(name), name, "/etc/localtime")
        except ValueError:
            pass
    try:
        name = (etc / "timezone").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if name:
        try:
            return ZoneChoice(zone(name), name, "/etc/timezone")
        except ValueError:
            pass
    return ZoneChoice(
        ZoneInfo("UTC"),
        "UTC",
        "fallback",
        "the system's time zone could not be found; times are shown in UTC (set it in Settings or BEDSIDE_TZ)",
    )


def env_zone(env: Mapping[str, str] | None = None) -> ZoneChoice | None:
    """``$BEDSIDE_TZ`` as a zone, None when unset; an invalid one raises ValueError (one line)."""
    env = os.environ if env is None else env
    raw = env.get(ENV_ZONE)
    if raw is None or not raw.strip():
        return None
    return ZoneChoice(zone(raw, ENV_ZONE), raw.strip(), ENV_ZONE)


def resolve_zone(setting: str | None, env: Mapping[str, str] | None = None, etc: Path = Path("/etc")) -> ZoneChoice:
    """The zone to use: the site setting, else ``$BEDSIDE_TZ``, else the system's.

    A site setting this host cannot load (a zone missing from its tz database) falls back to the
    next source with a note; an invalid ``$BEDSIDE_TZ`` raises ValueError (checked at start)."""
    note = ""
    if setting and setting.strip():
        try:
            return ZoneChoice(zone(setting, "Time zone"), setting.strip(), "site setting")
        except ValueError as exc:
            note = f"the site setting is unusable here ({exc})"
    choice = env_zone(env) or system_zone(env, etc)
    if note:
        choice = evolve(choice, note="; ".join(n for n in (note, choice.note) if n))
    return choice


def site_zone(setting: str | None) -> ZoneInfo:
    """The ZoneInfo for a site setting (empty or None: ``$BEDSIDE_TZ``, else the system's)."""
    return resolve_zone(setting).zone


_current: ZoneChoice | None = None


def set_site_zone(setting: str | None) -> ZoneChoice:
    """Make the site's zone (from its setting) the one every local time uses; returns it.

    Never raises: an invalid ``$BEDSIDE_TZ`` (refused at start by the command line) falls back
    to the system's zone here, with a note."""
    global _current
    try:
        _current = resolve_zone(setting)
    except ValueError as exc:
        fallback = system_zone()
        _current = evolve(fallback, note="; ".join(n for n in (str(exc), fallback.note) if n))
    return _current


def current_zone() -> ZoneChoice:
    """The zone in use (before the ledger applies the site setting: ``$BEDSIDE_TZ`` or the system's)."""
    return _current if _current is not None else set_site_zone(None)


def local_tz() -> ZoneInfo:
    """The site's time zone (a ZoneInfo: each instant gets its own offset, summer or winter)."""
    return current_zone().zone


def to_local(when: datetime, tz: tzinfo | None = None) -> datetime:
    return when.astimezone(tz or local_tz())


def local_date(when: datetime, tz: tzinfo | None = None) -> date:
    """The site's local calendar date of an instant (CONV-TIME-1: dose days are local dates)."""
    return to_local(when, tz).date()


# -- showing times and durations: the one set of formatters (issue 16) ---------------------------
# Every time shown to a user is local (CONV-TIME-1): the site's zone unless ``tz`` says otherwise.


def fmt_local(
    when: datetime | None,
    tz: tzinfo | None = None,
    seconds: bool = False,
    *,
    zone: bool = False,
    day: bool = True,
    missing: str = "—",
) -> str:
    """A local time as shown everywhere: ``YYYY-MM-DD HH:MM``; ``seconds`` adds ``:SS``, ``zone``
    the zone's abbreviation (`` CET``), ``day=False`` leaves the date out; None is ``missing``."""
    if when is None:
        return missing
    pattern = ("%Y-%m-%d " if day else "") + ("%H:%M:%S" if seconds else "%H:%M") + (" %Z" if zone else "")
    return to_local(when, tz).strftime(pattern)


def fmt_near(
    when: datetime | None,
    now: datetime,
    tz: tzinfo | None = None,
    *,
    missing: str = "unknown",
    other_day: str = "%H:%M on %Y-%m-%d",
) -> str:
    """The local time of day (``HH:MM``) of an instant near ``now``, with its date (the strftime
    pattern ``other_day``) when it falls on another local day than ``now``; None is ``missing``."""
    if when is None:
        return missing
    local = to_local(when, tz)
    return local.strftime("%H:%M" if local.date() == to_local(now, tz).date() else other_day)


def fmt_minutes(delta: timedelta, *, hours: bool = False, clamp: bool = False) -> str:
    """A duration in whole minutes, rounded down: ``1 h 05 min``, ``25 min`` (``hours``: always
    ``0 h 25 min``); a negative one with a minus sign (``−5 min``), or 0 when ``clamp``."""
    total = int(delta.total_seconds() // 60)
    if clamp:
        total = max(total, 0)
    sign = "−" if total < 0 else ""
    h, m = divmod(abs(total), 60)
    return f"{sign}{h} h {m:02d} min" if h or hours else f"{sign}{m} min"


def fmt_clock(delta: timedelta | None, seconds: bool = True, missing: str = "—") -> str:
    """A duration as a stopwatch shows it, ``H:MM:SS`` (or ``H:MM``), never negative; None is ``missing``."""
    if delta is None:
        return missing
    s = max(int(delta.total_seconds()), 0)
    if not seconds:
        return f"{s // 3600}:{s % 3600 // 60:02d}"
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def local_instant(day: date, wall: time_of_day, field: str = "Time", tz: tzinfo | None = None) -> tuple[datetime, str]:
    """The instant (UTC) of a local wall time typed by a user, and a note to show ("" if none).

    A time that does not exist that day (the clocks go forward over it) is refused with a
    message naming the field. A time that occurs twice (the clocks go back) is taken as the
    **earlier** of the two, and the note says so: in this app the earlier reading is the safe
    one (a stability deadline counted from it comes sooner; a premedication seems given longer
    before the start, never after it)."""
    tz = tz or local_tz()
    naive = datetime.combine(day, wall)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    hhmm = wall.strftime("%H:%M")
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        jump = abs((second.utcoffset() or timedelta(0)) - (first.utcoffset() or timedelta(0)))
        raise ValueError(
            f"{field}: {hhmm} does not exist on {day.isoformat()} in {_zone_name(tz)}: the clocks went "
            f"forward {int(jump.total_seconds() // 60)} minutes then. Enter the time the clock showed."
        )
    if first.utcoffset() != second.utcoffset():
        a, b = sorted((first, second), key=lambda d: d.astimezone(UTC))
        return a.astimezone(UTC), (
            f"{field}: {hhmm} happened twice on {day.isoformat()} (the clocks went back); "
            f"recorded the earlier, {a:%H:%M %Z} (not {b:%H:%M %Z})."
        )
    return first.astimezone(UTC), ""


def _zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


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

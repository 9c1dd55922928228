"""The site's time zone (CONV-TIME-1: store UTC, show local; dose days are local calendar dates).

Expected local times below are written out by hand from the zones' published rules, not computed
with the code under test: Europe/Berlin CET +01:00 / CEST +02:00 (changes at 01:00 UTC on the last
Sundays of March and October), America/New_York EST -05:00 / EDT -04:00 (02:00 local on the second
Sunday of March, the first Sunday of November), Australia/Lord_Howe +10:30 / +11:00 (a 30-minute
shift at 02:00 local on the first Sundays of October and April).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bedside.core import clock, stability
from bedside.core import schedule as sch
from bedside.core.clock import FakeClock
from bedside.core.demo import seed_users
from bedside.core.events import NewEvent
from bedside.core.service import Ledger
from bedside.core.site import SITE_STREAM


@pytest.fixture(autouse=True)
def _own_zone(monkeypatch):
    """Each test starts from an unresolved zone and leaves the process's zone as it found it."""
    monkeypatch.setattr(clock, "_current", None)
    monkeypatch.delenv(clock.ENV_ZONE, raising=False)
    monkeypatch.setenv("TZ", "UTC")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- instants shown in local time: both sides of every change ---------------------------------
SHOWN = [
    # zone, instant (UTC), local wall time with the zone's abbreviation
    ("Europe/Berlin", utc(2026, 3, 29, 0, 59), "2026-03-29 01:59 CET"),
    ("Europe/Berlin", utc(2026, 3, 29, 1, 0), "2026-03-29 03:00 CEST"),
    ("Europe/Berlin", utc(2026, 3, 29, 22, 30), "2026-03-30 00:30 CEST"),  # next local day
    ("Europe/Berlin", utc(2026, 7, 15, 12, 0), "2026-07-15 14:00 CEST"),
    ("Europe/Berlin", utc(2026, 10, 25, 0, 30), "2026-10-25 02:30 CEST"),  # the first 02:30
    ("Europe/Berlin", utc(2026, 10, 25, 1, 30), "2026-10-25 02:30 CET"),  # the second 02:30
    ("Europe/Berlin", utc(2026, 12, 15, 12, 0), "2026-12-15 13:00 CET"),
    ("America/New_York", utc(2026, 3, 8, 6, 59), "2026-03-08 01:59 EST"),
    ("America/New_York", utc(2026, 3, 8, 7, 0), "2026-03-08 03:00 EDT"),
    ("America/New_York", utc(2026, 3, 9, 3, 30), "2026-03-08 23:30 EDT"),  # previous local day
    ("America/New_York", utc(2026, 11, 1, 5, 30), "2026-11-01 01:30 EDT"),
    ("America/New_York", utc(2026, 11, 1, 6, 30), "2026-11-01 01:30 EST"),
    ("Australia/Lord_Howe", utc(2026, 10, 3, 15, 15), "2026-10-04 01:45 +1030"),
    ("Australia/Lord_Howe", utc(2026, 10, 3, 15, 45), "2026-10-04 02:45 +11"),
    ("Australia/Lord_Howe", utc(2026, 4, 4, 14, 45), "2026-04-05 01:45 +11"),
    ("Australia/Lord_Howe", utc(2026, 4, 4, 15, 15), "2026-04-05 01:45 +1030"),
    ("Australia/Lord_Howe", utc(2026, 3, 31, 13, 0), "2026-04-01 00:00 +11"),  # local midnight
]


@pytest.mark.parametrize(("name", "instant", "shown"), SHOWN)
def test_each_instant_gets_its_own_offset(name, instant, shown):
    clock.set_site_zone(name)
    assert f"{clock.to_local(instant):%Y-%m-%d %H:%M %Z}" == shown
    assert clock.local_date(instant) == date.fromisoformat(shown[:10])
    assert clock.fmt_local(instant) == shown[:16]


def test_a_july_time_shown_in_december_is_in_summer_time():
    clock.set_site_zone("Europe/Berlin")
    now = utc(2026, 12, 10, 9, 0)  # a terminal running in winter
    july = utc(2026, 7, 1, 8, 0)
    assert clock.fmt_local(july) == "2026-07-01 10:00"  # CEST, not 09:00 (CET, the offset "now")
    assert f"{clock.to_local(now):%H:%M %Z}" == "10:00 CET"
    text = "\n".join(stability.deadlines(stability.PrepTimes(reconstituted_at=july)).explain())
    assert "2026-07-01 14:00 CEST" in text  # STAB-1 +4 h, with the zone's abbreviation, not +02:00


def test_a_terminal_started_before_the_change_is_right_after_it():
    clock.set_site_zone("Europe/Berlin")
    tz = clock.local_tz()  # taken once at start (as a monitor screen keeps its settings), in winter
    assert isinstance(tz, ZoneInfo)
    before, after = utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)
    assert before.astimezone(tz).utcoffset() == timedelta(hours=1)
    assert after.astimezone(tz).strftime("%H:%M %Z") == "03:30 CEST"
    assert clock.to_local(after).utcoffset() == timedelta(hours=2)  # still one zone, not a frozen offset


# -- typed local times: gaps refused, folds taken as the earlier ------------------------------
GAPS = [
    ("Europe/Berlin", date(2026, 3, 29), time(2, 30), "60 minutes"),
    ("America/New_York", date(2026, 3, 8), time(2, 0), "60 minutes"),
    ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), "30 minutes"),
]


@pytest.mark.parametrize(("name", "day", "wall", "jump"), GAPS)
def test_a_time_the_clocks_skipped_is_refused_naming_the_field(name, day, wall, jump):
    with pytest.raises(ValueError) as err:
        clock.local_instant(day, wall, "Given at", clock.zone(name))
    text = str(err.value)
    assert text.startswith(f"Given at: {wall:%H:%M} does not exist on {day.isoformat()} in {name}")
    assert jump in text


FOLDS = [
    # zone, day, typed, the earlier instant, its abbreviation, the later one's
    ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30), "CEST", "CET"),
    ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30), "EDT", "EST"),
    ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), utc(2026, 4, 4, 14, 45), "+11", "+1030"),
]


@pytest.mark.parametrize(("name", "day", "wall", "earlier", "first", "second"), FOLDS)
def test_a_time_that_happened_twice_is_the_earlier_and_says_so(name, day, wall, earlier, first, second):
    at, note = clock.local_instant(day, wall, "Time", clock.zone(name))
    assert at == earlier and at.tzinfo is UTC
    assert f"recorded the earlier, {wall:%H:%M} {first} (not {wall:%H:%M} {second})" in note


@pytest.mark.parametrize(
    ("name", "day", "wall", "expected"),
    [
        ("Europe/Berlin", date(2026, 3, 29), time(3, 0), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 30), time(0, 30), utc(2026, 3, 29, 22, 30)),
        ("America/New_York", date(2026, 7, 4), time(9, 0), utc(2026, 7, 4, 13, 0)),
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 15, 30)),
    ],
)
def test_an_ordinary_typed_time_is_one_instant(name, day, wall, expected):
    assert clock.local_instant(day, wall, "Time", clock.zone(name)) == (expected, "")


def test_a_typed_time_uses_the_configured_zone_by_default():
    clock.set_site_zone("America/New_York")
    assert clock.local_instant(date(2026, 1, 5), time(8, 0))[0] == utc(2026, 1, 5, 13, 0)


# -- where the zone comes from ----------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "Mars/Olympus",
        "Europe/Berlin/",
        "../etc/passwd",
        "/etc/localtime",
        "localtime",
        "CET-1CEST",
        "Europe/Berlin x",
        42,
        None,
    ],
)
def test_a_bad_zone_name_is_refused_naming_the_field(bad):
    with pytest.raises(ValueError, match=r"^Time zone: "):
        clock.zone(bad)


def etc_with(tmp_path, link: str | None = None, timezone: str | None = None):
    etc = tmp_path / "etc"
    etc.mkdir()
    if link is not None:
        (etc / "localtime").symlink_to(link)
    if timezone is not None:
        (etc / "timezone").write_text(timezone + "\n")
    return etc


def test_the_site_setting_wins_then_bedside_tz_then_the_system(tmp_path):
    etc = etc_with(tmp_path, "/usr/share/zoneinfo/America/New_York")
    env = {"BEDSIDE_TZ": "Australia/Lord_Howe", "TZ": "Europe/Berlin"}
    assert (clock.resolve_zone("Europe/Berlin", env, etc).name, clock.resolve_zone("Europe/Berlin", env, etc).source) == (
        "Europe/Berlin",
        "site setting",
    )
    got = clock.resolve_zone("", env, etc)
    assert (got.name, got.source, got.note) == ("Australia/Lord_Howe", "BEDSIDE_TZ", "")
    got = clock.resolve_zone(None, {"TZ": ":Europe/Berlin"}, etc)
    assert (got.name, got.source) == ("Europe/Berlin", "TZ")
    got = clock.resolve_zone(None, {"TZ": "CET-1CEST,M3.5.0,M10.5.0/3"}, etc)  # a POSIX rule: not a name
    assert (got.name, got.source) == ("America/New_York", "/etc/localtime")


def test_the_system_zone_from_etc_timezone_else_utc_made_visible(tmp_path):
    etc = etc_with(tmp_path, link="/nowhere/at/all", timezone="Australia/Lord_Howe")
    got = clock.system_zone({}, etc)
    assert (got.name, got.source, got.note) == ("Australia/Lord_Howe", "/etc/timezone", "")
    bare = tmp_path / "bare"
    bare.mkdir()
    got = clock.system_zone({}, bare)
    assert (got.name, got.source) == ("UTC", "fallback")
    assert "could not be found" in got.note and "UTC" in got.describe()


def test_an_invalid_bedside_tz_is_one_clear_error(monkeypatch):
    with pytest.raises(ValueError, match=r"^BEDSIDE_TZ: 'Mars/Olympus' is not a known time zone"):
        clock.env_zone({"BEDSIDE_TZ": "Mars/Olympus"})
    monkeypatch.setenv("BEDSIDE_TZ", "Mars/Olympus")
    got = clock.set_site_zone(None)  # never raises under the app: falls back, and says why
    assert got.source == "TZ" and "BEDSIDE_TZ" in got.note


def test_an_invalid_bedside_tz_stops_the_command_line_in_one_line(monkeypatch, capsys):
    from bedside.tui.cli import main

    monkeypatch.setenv("BEDSIDE_TZ", "Europe/Atlantis")
    assert main(["calc", "--height-cm", "170", "--weight-kg", "70", "--cycle", "1", "--day", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bedside: BEDSIDE_TZ: 'Europe/Atlantis' is not a known time zone")
    assert "Traceback" not in err


def test_an_unusable_site_setting_falls_back_with_a_note():
    got = clock.resolve_zone("Nowhere/Special", {"TZ": "UTC"})
    assert got.source == "TZ" and "site setting is unusable" in got.note


# -- the ledger applies the site's zone: at boot, on a change, in Ledger.today() --------------
def test_a_dose_day_at_local_midnight_is_the_local_date(store, key):
    fake = FakeClock(utc(2026, 3, 29, 22, 30))  # 00:30 CEST on 30 March in Berlin
    seed_users(store, fake)  # adam (admin) sets the zone, priya (prescriber) starts the cycle
    ledger = Ledger(store, fake, key)
    assert ledger.today() == date(2026, 3, 29)  # UTC (TZ=UTC) until the site says otherwise
    ledger.set_site("adam", "time_zone", "Europe/Berlin")
    assert ledger.zone.name == "Europe/Berlin" and ledger.zone.source == "site setting"
    assert ledger.today() == date(2026, 3, 30)
    assert clock.local_tz().key == "Europe/Berlin"  # and every screen's local time follows

    p1 = ledger.register_patient("nina", {"name": "ZONE, Test", "dob": "1970-01-01", "mrn": "MRN-TZ1", "sex": "other"}).id
    ledger.execute(sch.StartCycle(p1, ledger.today()), "priya")
    tl = ledger.timeline(p1)
    assert tl.today == date(2026, 3, 30)
    d1 = tl.dose(1, 1)
    assert d1 is not None and d1.planned == date(2026, 3, 30)
    d8 = tl.dose(1, 8)
    assert d8 is not None and d8.nominal == date(2026, 4, 6)  # Day 1 + 7, from the local Day 1 (SCHED-2)
    assert (d8.window.start, d8.window.end) == (date(2026, 4, 4), date(2026, 4, 8))  # ± 2 days
    # C1 D1 may be recorded on the local date; in UTC that date would still be "in the future"
    given = sch.check_give(tl, 1, 1, ledger.today(), d1.level, Decimal("1.00"))
    assert given["date"] == "2026-03-30"
    ledger.set_site("adam", "time_zone", "")
    with pytest.raises(ValueError, match="in the future"):
        sch.check_give(ledger.timeline(p1), 1, 1, date(2026, 3, 30), d1.level, Decimal("1.00"))


def test_another_terminal_boots_with_the_site_zone_and_follows_a_change(tmp_path, key):
    from bedside.core.store import SqliteStore

    fake = FakeClock(utc(2026, 11, 1, 4, 30))  # 00:30 EDT on 1 November in New York; 05:30 in Berlin
    one = SqliteStore(tmp_path / "one.db")
    seed_users(one, fake)
    first = Ledger(one, fake, key)
    first.set_site("adam", "time_zone", "America/New_York")
    two = SqliteStore(tmp_path / "one.db")
    try:
        clock.set_site_zone(None)
        second = Ledger(two, fake, key)  # boots: applies the site's setting
        assert second.zone.name == "America/New_York" and second.today() == date(2026, 11, 1)
        assert clock.fmt_local(utc(2026, 11, 1, 6, 30)) == "2026-11-01 01:30"  # after the change (EST)
        first.set_site("adam", "time_zone", "Australia/Lord_Howe")
        assert second.refresh()
        assert second.zone.name == "Australia/Lord_Howe" and second.today() == date(2026, 11, 1)
        assert f"{clock.to_local(fake.now()):%H:%M %Z}" == "15:30 +11"
    finally:
        two.close()
        one.close()


def test_an_invalid_zone_setting_is_refused_and_nothing_is_recorded(ledger):
    before = ledger.version(SITE_STREAM)
    with pytest.raises(ValueError, match=r"^Time zone: 'Europe/Atlantis' is not a known time zone"):
        ledger.set_site("adam", "time_zone", "Europe/Atlantis")
    assert ledger.version(SITE_STREAM) == before and ledger.site().time_zone == ""
    ledger.set_site("adam", "time_zone", "  Europe/Berlin ")
    assert ledger.site().time_zone == "Europe/Berlin"


def test_a_recorded_site_zone_this_host_cannot_load_falls_back_visibly(ledger):
    # e.g. written by a host with a newer tz database: the fold keeps it, the zone says so
    ledger.append(
        SITE_STREAM,
        lambda: [
            NewEvent(SITE_STREAM, "site.setting", "adam", ledger.clock.now(), {"name": "time_zone", "value": "Nowhere/Special"})
        ],
    )
    assert ledger.zone.source == "TZ" and "unusable" in ledger.zone.note
    assert os.environ["TZ"] == "UTC"


# -- the one set of formatters (issue 16): every time shown is local, every duration in one style --


def test_fmt_local_shows_the_local_time_in_each_style():
    berlin = ZoneInfo("Europe/Berlin")
    summer = utc(2026, 7, 1, 8, 5, 9)  # CEST +02:00: 10:05:09 local
    assert clock.fmt_local(summer, berlin) == "2026-07-01 10:05"
    assert clock.fmt_local(summer, berlin, seconds=True) == "2026-07-01 10:05:09"
    assert clock.fmt_local(summer, berlin, zone=True) == "2026-07-01 10:05 CEST"
    assert clock.fmt_local(summer, berlin, day=False) == "10:05"
    assert clock.fmt_local(summer, berlin, day=False, seconds=True) == "10:05:09"
    assert clock.fmt_local(summer, berlin, day=False, zone=True) == "10:05 CEST"
    assert clock.fmt_local(utc(2026, 1, 1, 8, 5), berlin, zone=True) == "2026-01-01 09:05 CET"
    assert clock.fmt_local(None, berlin) == "—" and clock.fmt_local(None, missing="?") == "?"
    clock.set_site_zone("America/New_York")  # no tz: the site's zone (EDT -04:00 in July)
    assert clock.fmt_local(summer) == "2026-07-01 04:05"


def test_fmt_near_adds_the_date_only_on_another_local_day():
    ny = ZoneInfo("America/New_York")
    now = utc(2026, 3, 3, 3, 0)  # 22:00 on 2 March in New York (EST)
    assert clock.fmt_near(utc(2026, 3, 3, 2, 15), now, ny) == "21:15"  # the same local day, though not in UTC
    assert clock.fmt_near(utc(2026, 3, 3, 5, 30), now, ny) == "00:30 on 2026-03-03"
    assert clock.fmt_near(utc(2026, 3, 3, 5, 30), now, ny, other_day="%d %b %H:%M") == "03 Mar 00:30"
    assert clock.fmt_near(None, now, ny) == "unknown" and clock.fmt_near(None, now, ny, missing="—") == "—"


def test_durations_in_whole_minutes_and_as_a_stopwatch():
    assert clock.fmt_minutes(timedelta(minutes=65, seconds=59)) == "1 h 05 min"
    assert clock.fmt_minutes(timedelta(minutes=25)) == "25 min"
    assert clock.fmt_minutes(timedelta(minutes=25), hours=True) == "0 h 25 min"
    assert clock.fmt_minutes(timedelta(minutes=-5)) == "−5 min"
    assert clock.fmt_minutes(timedelta(minutes=-5), clamp=True) == "0 min"
    assert clock.fmt_clock(timedelta(hours=1, minutes=2, seconds=3)) == "1:02:03"
    assert clock.fmt_clock(timedelta(hours=1, minutes=2, seconds=3), seconds=False) == "1:02"
    assert clock.fmt_clock(timedelta(seconds=-4)) == "0:00:00" and clock.fmt_clock(None) == "—"

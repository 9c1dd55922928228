"""Site settings ([SITE] in the reference): recorded as events by an admin, folded here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from attrs import evolve, frozen

from . import rules
from .clock import zone
from .commands import Actor, Command, Decision, State, decider, refuse, require_role
from .events import Event, Payload, decode, event_type
from .text import unsafe_message

SITE_STREAM = "site"
DEFAULT_LOCK_MINUTES = 15


@frozen
class SiteSettings:
    bsa_formula: str = rules.BSA_DEFAULT_FORMULA  # CONV-BSA-2
    lock_minutes: int = DEFAULT_LOCK_MINUTES
    site_name: str = ""
    bell: bool = True  # ring the terminal bell on a new alert (issue 7: a site can switch it off)
    # CONV-TIME-1: the IANA zone of the site's local time and dose days; "" = $BEDSIDE_TZ, else the system's
    time_zone: str = ""


SETTING_NAMES = ("bsa_formula", "lock_minutes", "site_name", "bell", "time_zone")


def check_setting(name: str, value: object) -> object:
    """The value to record for a setting; a bad one raises ValueError naming the field."""
    if name == "time_zone":
        text = value.strip() if isinstance(value, str) else ""
        return zone(text, "Time zone").key if text else ""
    if name == "site_name" and isinstance(value, str):
        refused = unsafe_message("Site name", value)  # shown on screens and print-outs (core/text.py)
        if refused:
            raise ValueError(refused)
        return value.strip()
    return value


@event_type("site.setting")
@frozen
class SettingRecorded(Payload):
    """An admin set one site setting (the latest of each name stands)."""

    name: str
    value: Any


@frozen
class SetSiteSetting(Command):
    """Settings screen, ctrl+s: set one site setting (admins only)."""

    name: str
    value: Any
    stream: ClassVar[str] = SITE_STREAM
    emits = (SettingRecorded,)


@decider(SetSiteSetting)
def decide_setting(state: State, cmd: SetSiteSetting, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ("admin",), "Site settings")
    if refused:
        return refused
    if cmd.name not in SETTING_NAMES:
        return refuse(f"Site settings: no setting named {cmd.name!r}.")
    try:
        value = check_setting(cmd.name, cmd.value)  # a bad value (an unknown time zone) is refused, naming the field
    except ValueError as exc:
        return refuse(str(exc))
    return [SettingRecorded(cmd.name, value)]


def fold_site(events: Iterable[Event]) -> SiteSettings:
    s = SiteSettings()
    for ev in events:
        if ev.stream == SITE_STREAM and ev.kind == SettingRecorded.KIND:
            p = decode(ev)
            if p.name in SETTING_NAMES:
                s = evolve(s, **{p.name: p.value})
    return s

"""Site settings ([SITE] in the reference): recorded as events by an admin, folded here."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import evolve, frozen

from . import rules
from .events import Event

SITE_STREAM = "site"
DEFAULT_LOCK_MINUTES = 15


@frozen
class SiteSettings:
    bsa_formula: str = rules.BSA_DEFAULT_FORMULA  # CONV-BSA-2
    lock_minutes: int = DEFAULT_LOCK_MINUTES
    site_name: str = ""
    bell: bool = True  # ring the terminal bell on a new alert (issue 7: a site can switch it off)


SETTING_NAMES = ("bsa_formula", "lock_minutes", "site_name", "bell")


def fold_site(events: Iterable[Event]) -> SiteSettings:
    s = SiteSettings()
    for ev in events:
        if ev.stream == SITE_STREAM and ev.kind == "site.setting" and ev.data.get("name") in SETTING_NAMES:
            s = evolve(s, **{ev.data["name"]: ev.data["value"]})
    return s

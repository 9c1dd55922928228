"""The words and values of the printed record: labels for stored codes, levels, grades, people."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import preparation as prep
from .. import schedule as sch
from .page import clean

MEDICATION = "inotuzumab ozogamicin (BESPONSA)"

SEX_LABELS = {"female": "Female", "male": "Male", "other": "Other/unknown"}
STATE_WORDS = {
    sch.PLANNED: "PLANNED",
    sch.DUE_TODAY: "DUE TODAY",
    sch.IN_WINDOW: "IN WINDOW",
    sch.GIVEN: "GIVEN",
    sch.HELD: "HELD",
    sch.OMITTED: "OMITTED",
    sch.DELAYED: "DELAYED",
    sch.NOT_APPLICABLE: "NOT APPLICABLE",
    sch.OVERDUE: "OVERDUE",
}
TOXICITY_WORDS = {"hematologic": "hematologic", "non_hematologic": "non-hematologic", "other": "other"}
DISCONTINUE_WORDS = {
    "vod": "VOD/SOS",
    "severe_infusion_reaction": "severe infusion reaction",
    "no_response_3_cycles": "no response after 3 cycles",
    "prescriber_decision": "prescriber decision",
    "patient_choice": "patient choice",
    "other": "other",
}
RESPONSE_WORDS = {"cr": "CR", "cri": "CRi", "neither": "neither CR nor CRi", "not_assessed": "not assessed"}
EXTENSION_WORDS = {"cr_cri": "CR/CRi", "toxicity_recovery": "recovery from toxicity", "other": "other"}
STEP_WORDS = dict(prep.STEP_LABELS)
POINT_LABELS = {
    "before_start": "before start",
    "start": "start",
    "end": "end of infusion",
    "observation_end": "end of observation",
}


def word(words: Mapping[str, str], value: Any) -> str:
    """The label of a stored code, else the value as stored."""
    return words.get(str(value), clean(value))


def plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return clean(value)


def level(value: Decimal | str | None) -> str:
    if value in (None, ""):
        return "level to be confirmed"
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        return f"{format(d.normalize(), 'f')} mg/m²"
    except (ArithmeticError, ValueError):
        return f"{clean(value)} mg/m²"  # printed as stored


def grade(value: Any) -> str:
    if value is None:
        return "not graded"
    if value == "anaphylaxis":
        return "anaphylaxis"
    return f"Grade {clean(value)}"


class Who:
    """How a user is named on the record, from ``{user name: (full name, role)}``."""

    def __init__(self, users: Mapping[str, tuple[str, str]]):
        self.users = users

    def __call__(self, username: str) -> str:
        entry = self.users.get(username)
        if entry is None:
            return f"{clean(username)} (unknown user)"
        full, role = entry
        return f"{clean(full)}, {clean(role)}"

    def named(self, username: str) -> str:
        entry = self.users.get(username)
        if entry is None:
            return f"{clean(username)} (unknown user)"
        return f"{clean(entry[0])} ({clean(entry[1])})"

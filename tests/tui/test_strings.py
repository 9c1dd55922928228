"""Proof-reading: the text of every scene's screen (tui/scenes.py) at 80x24, and of the toasts the
scene raised, read for the slips a user should never see (issue 17): a dose's internal id ("c1d8"
instead of "C1 D8"), a note meant for developers ("issue 7"), "a" before a vowel ("a antipyretic"),
a literal "None", markup that was not rendered ("[b]", "[/"), an internal name ("non_hematologic")
and "1 days".

The text comes from the snapshot tests when they ran first in the same session (test_snapshots.py
keeps it); alone, this module drives each scene itself.

A screen known to fail is marked xfail(strict=True) below, naming the screen and the string: when it
is fixed the mark turns into XPASS (a failure), and the mark is to be removed.
"""

from __future__ import annotations

import re

import pytest

from bedside.tui.scenes import SCENES, SIZE, Scene, available, screen_text
from bedside.tui.screenshots import scene_app

from .test_snapshots import TEXTS, quiet_env, record_toasts

#: Words where "a" before a vowel letter is right: the vowel sounds as "you" or "w".
A_IS_RIGHT = r"(?i:uni|us[eu]|ur[aeio]|ut[eiu]|eu|one\b|once)"

CHECKS: dict[str, re.Pattern[str]] = {
    "a dose id (say C1 D8)": re.compile(r"\b[cC]\d+[dD]\d+\b"),
    "a note for developers": re.compile(r"\bissue \d", re.IGNORECASE),
    # "a" and a word that starts with a vowel; not "a Audit" (a footer's key a and its label) and
    # not a proper name after "a": a capital after a small "a" is passed.
    "'a' before a vowel": re.compile(r"(?<![\w'\u2019(-])(?:a (?=[aeiou])|A (?=[aeiouAEIOU]))(?!" + A_IS_RIGHT + r")\w+"),
    "a literal None": re.compile(r"\bNone\b"),
    "an internal name (snake_case)": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "one with a plural": re.compile(r"(?<![\d.,])1 (?:days|hours|minutes|weeks|months|vials|cycles|doses|events|fields)\b"),
    "markup not rendered": re.compile(
        r"\[/|\[(?:b|i|u|s|bold|dim|italic|underline|reverse|strike|blink|link|red|green|yellow|blue|magenta|cyan"
        r"|white|black|on|@click)\b[^\]\n]*\]"
    ),
}

#: Stored text the demo holds on purpose, shown literally (tui/text.py): not the app's own words.
STORED = ("[bold]with family[/bold]",)  # core/demo.py: a consent note that looks like markup


def without_stored(text: str) -> str:
    for stored in STORED:
        text = re.sub(r"\s+".join(map(re.escape, stored.split(" "))), "", text)
        for n in range(len(stored) - 1, 3, -1):  # cut to a column: "[bold]with fa…"
            text = text.replace(stored[:n] + "…", "")
    return text


def proofread(text: str) -> list[str]:
    """Each slip found: what it is and the line it is on."""
    found = []
    for line in without_stored(text).splitlines():
        for what, pattern in CHECKS.items():
            for m in pattern.finditer(line):
                found.append(f"{what}: {m.group(0)!r} in {line.strip()!r}")
    return found


def test_the_checks_find_what_they_are_for():
    """Each check catches its slip and passes the right words (so a clean screen means something)."""
    bad = [
        "Dose c1d8 is due",
        "Board: C1D8 INFUSING",
        "see issue 7",
        "give a antipyretic first",
        "A opioid",
        "An infusion, then a infusion",
        "Allergies: None",
        "[b]Held[/b]",
        "[bold red]stop",
        "Grade 2 ALT increase (non_hematologic)",
        "interruption 1 days",
    ]
    good = [
        "C1 D8 is due",
        "an antipyretic, a user, a unit, a one-key answer, a usual dose",
        "Pipeline A, CONV-CALC-3",
        "(a) prior HSCT",
        "A unit, A One-key answer",
        "i Infusions a Audit u Users",
        "Bag stable [CONV-STAB-1] [STAB-4 UNVERIFIED]",
        "Nonexistent, none known",
        "Note: Discussed VOD risk and HSCT plan [bold]with family[/bold]",
        "Consent: [bold]with fa…",
        "interruption 1 day; 11 days; 2.1 days; 1 day 3 hours",
        "Pfizer Oncology Together: 1-877-744-5675",
    ]
    assert [line for line in bad if not proofread(line)] == []
    assert [p for line in good for p in proofread(line)] == []


#: Known slips, by scene: (the string, and what shows it). Remove a mark when its XPASS shows.
KNOWN: dict[str, str] = {}


def _cases():
    for scene in SCENES:
        marks = []
        if not available(scene):
            marks.append(pytest.mark.skipif(True, reason=f"{scene.name}: {scene.needs} not in the app yet"))
        if scene.name in KNOWN:
            marks.append(pytest.mark.xfail(strict=True, reason=f"{scene.name}: {KNOWN[scene.name]}"))
        yield pytest.param(scene, id=scene.name, marks=marks)


async def read_scene(scene: Scene, folder) -> str:
    with scene_app(scene, folder) as app:
        toasts = record_toasts(app)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await scene.steps(app, pilot)
            await pilot.pause()
            return "\n".join([screen_text(app), *toasts])


@pytest.mark.parametrize("scene", list(_cases()))
async def test_screen_reads_right(scene: Scene, monkeypatch, tmp_path):
    quiet_env(monkeypatch)
    text = TEXTS.get(scene.name) or await read_scene(scene, tmp_path)
    assert scene.name in TEXTS or text.strip(), "the scene drew nothing"
    problems = proofread(text)
    assert not problems, f"{scene.name}:\n" + "\n".join(problems)

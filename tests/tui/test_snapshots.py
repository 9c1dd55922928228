"""Snapshot tests of every screen (pytest-textual-snapshot): each scene of tui/scenes.py at 80x24
in colour and with NO_COLOR, and the main screens also at 120x40, compared with the SVGs in
tests/tui/__snapshots__/test_snapshots/. The same scenes make screenshots/ (tui/screenshots.py).

A changed screen fails here, with an HTML report of old and new side by side (snapshot_report.html);
when the change is meant: ``.venv/bin/pytest tests/tui/test_snapshots.py --snapshot-update``, look at
the new SVGs, and commit them with the change.

The clock stands at SHOT_TIME, times are in UTC, toasts are off (they vanish after a few seconds of
wall time: the proof-reading reads them instead, tests/tui/test_strings.py), so every run draws the
same pictures.
"""

from __future__ import annotations

import os
import time

import pytest

from bedside.tui.scenes import SCENES, SIZE, WIDE, Scene, available, screen_text
from bedside.tui.screenshots import scene_app

#: The text of each scene's screen at 80x24 in colour, with its toasts, kept as the snapshots are
#: taken, so that the proof-reading (test_strings.py) need not drive the same scenes again.
TEXTS: dict[str, str] = {}
NO_COLOR_AT_IMPORT = os.environ.get("NO_COLOR")


def _cases():
    for scene in SCENES:
        marks = [] if available(scene) else [pytest.mark.skipif(True, reason=f"{scene.name}: {scene.needs} not in the app yet")]
        yield pytest.param(scene, True, SIZE, id=f"{scene.name}-80x24", marks=marks)
        if scene.no_color:
            yield pytest.param(scene, False, SIZE, id=f"{scene.name}-80x24-no-color", marks=marks)
        if scene.wide:
            yield pytest.param(scene, True, WIDE, id=f"{scene.name}-120x40", marks=marks)


def record_toasts(app) -> list[str]:
    """Every toast the app raises from now on (title and message), whether or not it is drawn."""
    toasts: list[str] = []
    notify = app.notify

    def recording(message, *, title="", **kwargs):
        toasts.append(f"{title}: {message}" if title else str(message))
        return notify(message, title=title, **kwargs)

    app.notify = recording
    return toasts


def quiet_env(monkeypatch) -> None:
    """UTC, no site zone from the environment, NO_COLOR unset: for this test only (monkeypatch
    puts them back after it)."""
    monkeypatch.setenv("TZ", "UTC")  # as tests/conftest.py: the same value, so no tzset is undone
    time.tzset()
    monkeypatch.delenv("BEDSIDE_TZ", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize(("scene", "colour", "size"), list(_cases()))
def test_scene(scene: Scene, colour: bool, size, snap_compare, monkeypatch, tmp_path):
    quiet_env(monkeypatch)
    if not colour:
        monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made (BedsideApp.__init__)
    with scene_app(scene, tmp_path) as app:
        app._disable_notifications = True  # as App.run_test does: a toast's life is wall time
        toasts = record_toasts(app)

        async def run_before(pilot) -> None:
            await scene.steps(app, pilot)
            await pilot.pause()
            if colour and size == SIZE:
                TEXTS[scene.name] = "\n".join([screen_text(app), *toasts])

        assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_no_color_is_as_it_was_before_the_scenes():
    """A no-colour scene sets NO_COLOR through monkeypatch: after the scenes (above) it is as it was
    when this module was imported, so no later test draws without colour by accident."""
    assert os.environ.get("NO_COLOR") == NO_COLOR_AT_IMPORT

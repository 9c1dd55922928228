"""Make ``screenshots/*.svg`` from the scenes of tui/scenes.py (the same scenes the snapshot tests
take): every screen of the app, driven by keyboard on the demo database.

Run: ``.venv/bin/python -m bedside.tui.screenshots [OUTDIR]`` (default: ./screenshots).
A fixed clock and time zone make the pictures repeatable.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore

from .scenes import SCENES, SHOT_TIME, SIZE, WIDE, Scene, available


@contextmanager
def scene_app(scene: Scene, folder: Path) -> Iterator[object]:
    """The app a scene starts from: a fresh demo database in ``folder`` (or an empty one), its
    clock standing at SHOT_TIME. NO_COLOR is read when the app is made: set it before."""
    from .app import BedsideApp

    clock = FakeClock(SHOT_TIME)
    store = SqliteStore(folder / "demo.db")
    try:
        if not scene.empty:
            seed(store, clock)
        yield BedsideApp(Ledger(store, clock, DEMO_KEY), demo=not scene.empty, idle_clock=lambda: 0.0)
    finally:
        store.close()


@contextmanager
def no_color(on: bool) -> Iterator[None]:
    """NO_COLOR set (or unset) while the block runs, as it was afterwards."""
    before = os.environ.get("NO_COLOR")
    if on:
        os.environ["NO_COLOR"] = "1"
    else:
        os.environ.pop("NO_COLOR", None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("NO_COLOR", None)
        else:
            os.environ["NO_COLOR"] = before


async def shoot(outdir: Path, name: str, scene: Scene, *, colour: bool = True, size: tuple[int, int] = SIZE) -> Path:
    path = outdir / f"{name}.svg"
    with no_color(not colour), tempfile.TemporaryDirectory() as tmp, scene_app(scene, Path(tmp)) as app:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await scene.steps(app, pilot)
            await pilot.pause()
            app.save_screenshot(filename=path.name, path=str(outdir))
    return path


async def main(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    made = []
    for scene in SCENES:
        if not available(scene):
            continue
        made.append(await shoot(outdir, scene.shot, scene))
        if scene.no_color_shot:
            made.append(await shoot(outdir, scene.no_color_shot, scene, colour=False))
        if scene.wide:
            made.append(await shoot(outdir, f"{scene.shot}-{WIDE[0]}x{WIDE[1]}", scene, size=WIDE))
    return made


if __name__ == "__main__":
    os.environ["TZ"] = "UTC"  # every time shown, and the dose days, in UTC
    os.environ.pop("BEDSIDE_TZ", None)
    time.tzset()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("screenshots")
    for p in asyncio.run(main(out)):
        print(p)

"""A small realistic ward for the tests of issue 19: bench/ward.py (the benchmarks' generator) at a
few thousand events, with fewer courses recorded by commands so that it is made in seconds.

Each patient replays one of the courses (registration, intake, cycles of full dose records,
reactions, holds, discontinuations), the staff sign in and come and go, and one to three
infusions are running at ``NOW``: what the board, the patient list and the checkpoint meet on a
ward, not a hand-made sample."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bedside.core import intake
from bedside.core.auth import SiteKey
from bedside.core.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
#: Courses recorded by commands (the bench records 120; a score covers every stage in seconds).
TEMPLATES = 24


def _generator():
    name = "bedside_bench_ward"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "ward.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def module_ward(tmp_path_factory) -> Path:
    """The ward the ward-read tests share (a module fixture's body): about 3,000 events, one infusing now."""
    path = tmp_path_factory.mktemp("ward") / "ward.db"
    made = make_ward(path, 3000)
    assert made["events"] > 2500 and made["running"] >= 1
    return path


def make_ward(path: Path, events: int, seed: int = 7) -> dict:
    """Write a ward of about ``events`` events to the new database ``path`` (its key file beside it)."""
    gen = _generator()
    kept, gen.TEMPLATES = gen.TEMPLATES, TEMPLATES
    try:
        return gen.write_ward(path, events, seed, NOW)
    finally:
        gen.TEMPLATES = kept


def copy_ward(source: Path, target: Path) -> Path:
    """A copy of the ward's database, key file and anchor (each test may change its own)."""
    for suffix in ("", ".key", ".head"):
        if Path(str(source) + suffix).exists():
            shutil.copy2(str(source) + suffix, str(target) + suffix)
    return target


def key_of(path: Path) -> SiteKey:
    return SiteKey(Path(str(path) + ".key"))


class Counting:
    """A store that counts the events each read returns, by stream; ``upto`` hides the events
    after it (the log as it was then: what a terminal saw before the rest was written)."""

    def __init__(self, store: SqliteStore, upto: int | None = None):
        self.store, self.upto = store, upto
        self.by_stream: Counter[str] = Counter()
        self.lookups = 0
        self.anchors = [] if upto is not None else store.anchors

    def _seen(self, events):
        out = [e for e in events if self.upto is None or e.seq <= self.upto]
        self.by_stream.update(e.stream for e in out)
        return out

    def read(self, stream=None, after_seq=0):
        return self._seen(self.store.read(stream, after_seq))

    def iter_events(self, after_seq=0, batch=5000):
        for ev in self.store.iter_events(after_seq, batch):
            if self.upto is not None and ev.seq > self.upto:
                return
            if batch == 1:  # one event looked up by its seq (the checkpoint's, an anchor's): not a stream read
                self.lookups += 1
                yield ev
                return
            yield from self._seen([ev])

    def change_token(self):
        return (self.upto, self.store.change_token())

    def last_seq(self):
        last = self.store.last_seq()
        return last if self.upto is None else min(last, self.upto)

    def __getattr__(self, name):
        return getattr(self.store, name)

    def patients_read(self) -> set[str]:
        return {s for s in self.by_stream if s.startswith(intake.PATIENT_PREFIX)}

"""Core on a big patient: fold 10,000 events, then timeline, pre-dose verdict and preparation.

Run by hand: ``.venv/bin/python bench/core_bench.py`` (prints medians of 7 runs, in ms).
Also: appends per second to the embedded SQLite store with synchronous=FULL.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bedside.core import infusion as inf
from bedside.core import intake
from bedside.core import preparation as prep
from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.events import NewEvent
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore

N = 10_000
RUNS = 7


def median_ms(fn) -> float:
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    clock = FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    store = SqliteStore(tmp / "big.db")
    seed(store, clock)
    ledger = Ledger(store, clock, DEMO_KEY)
    pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100590")
    stream = ledger.patient(pid).stream
    have = len(ledger.stream_events(stream))
    batch = []
    at = clock.now()
    for _i in range(N - have):
        at += timedelta(seconds=1)
        data = inf.event_data(inf.VITALS_RECORDED, "c1d8", at, temp_c="36.8", hr=80, sys=120, dia=75, rr=16, spo2=98)
        batch.append(NewEvent(stream, inf.VITALS_RECORDED, "nina", at, data))
    store.append(stream, ledger.version(stream), batch)
    events = store.read(stream)
    assert len(events) == N
    results = {
        "read 10,000 events from SQLite": median_ms(lambda: store.read(stream)),
        "fold the patient (intake)": median_ms(lambda: intake.fold_patient(pid, events)),
        "open the ledger (read + fold all)": median_ms(lambda: Ledger(store, clock, DEMO_KEY)),
    }
    big = Ledger(store, clock, DEMO_KEY)
    results["timeline"] = median_ms(lambda: big.timeline(pid))
    results["pre-dose verdict"] = median_ms(lambda: big.predose_verdict(pid, 1, 8))
    results["preparation (fold + deadlines)"] = median_ms(lambda: prep.fold(events, "c1d8").deadlines(clock.now()))
    results["infusion monitor state"] = median_ms(lambda: inf.monitor(events, "c1d8", clock.now()))
    for name, ms in results.items():
        print(f"{name:40s} {ms:8.1f} ms")

    s2 = SqliteStore(tmp / "appends.db")
    n = 300
    t = time.perf_counter()
    for i in range(n):
        s2.append("patient:x", i, [NewEvent("patient:x", "bench", "u", clock.now(), {"i": i})])
    dt = time.perf_counter() - t
    print(f"{'appends/s (synchronous=FULL, one per commit)':40s} {n / dt:8.0f}")


if __name__ == "__main__":
    main()

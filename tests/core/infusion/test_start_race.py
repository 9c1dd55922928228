"""Issue 16: two terminals press ``s`` for the same ready dose at once — exactly one start.

Two Ledgers on one database (SQLite; PostgreSQL where ``BEDSIDE_TEST_PG`` is set), in two threads
and in two processes (spawned, each opening its own store and Ledger), both execute
:class:`~bedside.core.infusion.StartInfusion` for the same ready dose at the same moment, 200
times (200 ready patients in one database, prepared once): each time exactly one
``infusion.started`` and one ``dose.given`` are recorded, and the other terminal is refused with
"Already started" (the ledger decided it again on the record the winner wrote). A deterministic
test forces the lost race: the second terminal decides on the record as it stood before the first
terminal's start.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections import Counter
from datetime import UTC, datetime

import pytest

from bedside.core import infusion as inf
from bedside.core.clock import FakeClock
from bedside.core.commands import Refused
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.events import NewEvent
from bedside.core.intake import PATIENT_PREFIX
from bedside.core.schedule.events import DoseGiven
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore, verify_log

from ...tui.conftest import bag_code, make_ready

ROUNDS = 200
DOSE = "c1d1"
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
USERS = ("nina", "noah")  # two nurses, one at each terminal


def _open(backend: str, target: str):
    if backend == "postgres":
        from bedside.core.pgstore import PgStore

        return PgStore(target)
    return SqliteStore(target)


def _ready_patients(backend: str, target: str, n: int) -> tuple[list[str], datetime]:
    """The demo, one patient's C1 D1 made ready (tests/tui/conftest.py make_ready), and n - 1 more
    patients with a copy of that patient's record: n doses that may start now."""
    store = _open(backend, target)
    try:
        clock = FakeClock(T0)
        seed(store, clock)
        ledger = Ledger(store, clock, DEMO_KEY)
        pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100231")
        make_ready(ledger, clock, pid)
        record = ledger.stream_events(PATIENT_PREFIX + pid)
        pids = [pid]
        for i in range(1, n):
            copy = f"race{i:04d}".ljust(len(pid), "0")
            stream = PATIENT_PREFIX + copy
            store.append(stream, 0, [NewEvent(stream, e.kind, e.actor, e.at, e.data) for e in record])
            pids.append(copy)
        return pids, clock.now()
    finally:
        store.close()


def _counting(ledger: Ledger) -> list[float]:
    """Each back-off of the ledger is one lost race that it decided again."""
    lost: list[float] = []
    sleep = ledger.sleep
    ledger.sleep = lambda s: (lost.append(s), sleep(s))  # type: ignore[method-assign]
    return lost


def _start(ledger: Ledger, pid: str, user: str) -> tuple[str, str]:
    try:
        return "ok", ",".join(e.kind for e in ledger.execute(inf.StartInfusion(pid, DOSE, bag_code(ledger, pid)), user))
    except Refused as exc:
        return "refused", str(exc)
    except Exception:  # noqa: BLE001 - reported by the test
        return "error", traceback.format_exc()


def _check(backend: str, target: str, pids: list[str], outcomes: list[list[tuple[str, str]]]) -> None:
    """Each round: one terminal started (both events), the other was refused 'Already started';
    the store holds one start and one dose.given per dose, and its chain is intact."""
    errors = [o[1] for side in outcomes for o in side if o[0] == "error"]
    assert not errors, errors[0]
    for i in range(len(pids)):
        got = sorted(side[i][0] for side in outcomes)
        assert got == ["ok", "refused"], (i, [side[i] for side in outcomes])
        won = next(side[i][1] for side in outcomes if side[i][0] == "ok")
        lost = next(side[i][1] for side in outcomes if side[i][0] == "refused")
        assert won == f"{inf.INFUSION_STARTED},{DoseGiven.KIND}"
        assert lost.startswith("Already started: the infusion of C1 D1 started at"), lost
    store = _open(backend, target)
    try:
        for pid in pids:
            kinds = Counter(e.kind for e in store.read(PATIENT_PREFIX + pid))
            assert kinds[inf.INFUSION_STARTED] == 1 and kinds[DoseGiven.KIND] == 1, (pid, kinds)
        report = verify_log(
            store, store.anchor.read() if store.anchor is not None else None, anchor_expected=store.anchor is not None
        )
        assert report.ok, report.problems
    finally:
        store.close()


# -- two threads -------------------------------------------------------------------------------


def _race_threads(backend: str, target: str) -> None:
    pids, now = _ready_patients(backend, target, ROUNDS)
    stores = [_open(backend, target) for _ in USERS]
    try:
        ledgers = [Ledger(s, FakeClock(now), DEMO_KEY) for s in stores]
        lost = [_counting(ledger) for ledger in ledgers]
        together = threading.Barrier(len(USERS))
        outcomes: list[list[tuple[str, str]]] = [[] for _ in USERS]

        def terminal(k: int) -> None:
            for pid in pids:
                together.wait(timeout=30)
                outcomes[k].append(_start(ledgers[k], pid, USERS[k]))

        threads = [threading.Thread(target=terminal, args=(k,)) for k in range(len(USERS))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for s in stores:
            s.close()
    print(f"{backend}, threads: {sum(map(len, lost))} of {ROUNDS} rounds lost a race and were decided again")
    _check(backend, target, pids, outcomes)


def test_two_threads_start_the_same_dose_at_once_sqlite(tmp_path):
    _race_threads("sqlite", str(tmp_path / "race.db"))


def test_two_threads_start_the_same_dose_at_once_postgres():
    from tests.core.test_store_contract import PgDatabase, require_pg

    db = PgDatabase(require_pg())
    try:
        _race_threads("postgres", db.url)
    finally:
        db.drop()


# -- two processes -----------------------------------------------------------------------------


def _terminal_process(backend: str, target: str, user: str, pids: list[str], now: str, together, results) -> None:
    """One terminal in its own process: its own store and Ledger; each round starts with the other."""
    try:
        store = _open(backend, target)
        try:
            ledger = Ledger(store, FakeClock(datetime.fromisoformat(now)), DEMO_KEY)
            lost = _counting(ledger)
            out = []
            for pid in pids:
                together.wait(timeout=60)
                out.append(_start(ledger, pid, user))
        finally:
            store.close()
        results.put((user, out, len(lost)))
    except BaseException:  # noqa: BLE001 - the parent reports it
        results.put((user, [("error", traceback.format_exc())] * len(pids), 0))


def _race_processes(backend: str, target: str) -> None:
    pids, now = _ready_patients(backend, target, ROUNDS)
    ctx = multiprocessing.get_context("spawn")
    together, results = ctx.Barrier(len(USERS)), ctx.Queue()
    procs = [
        ctx.Process(target=_terminal_process, args=(backend, target, u, pids, now.isoformat(), together, results)) for u in USERS
    ]
    for p in procs:
        p.start()
    got = {user: (out, lost) for user, out, lost in (results.get(timeout=180) for _ in procs)}
    for p in procs:
        p.join(timeout=60)
    print(f"{backend}, processes: {sum(v[1] for v in got.values())} of {ROUNDS} rounds lost a race and were decided again")
    _check(backend, target, pids, [got[u][0] for u in USERS])


def test_two_processes_start_the_same_dose_at_once_sqlite(tmp_path):
    _race_processes("sqlite", str(tmp_path / "race.db"))


def test_two_processes_start_the_same_dose_at_once_postgres():
    from tests.core.test_store_contract import PgDatabase, require_pg

    db = PgDatabase(require_pg())
    try:
        _race_processes("postgres", db.url)
    finally:
        db.drop()


# -- the lost race, forced -----------------------------------------------------------------------


def test_the_terminal_that_decided_on_a_stale_record_decides_again_and_is_refused(tmp_path):
    """B decides "may start" on the record before A's start (its refresh sees nothing new once);
    its append fails on the stream's version, the ledger folds A's start in and decides again:
    refused. Before issue 16 the screen appended the events it had decided, and both started."""
    target = str(tmp_path / "race.db")
    (pid,), now = _ready_patients("sqlite", target, 1)
    a_store, b_store = SqliteStore(target), SqliteStore(target)
    try:
        a, b = Ledger(a_store, FakeClock(now), DEMO_KEY), Ledger(b_store, FakeClock(now), DEMO_KEY)
        a.execute(inf.StartInfusion(pid, DOSE, bag_code(a, pid)), "nina")
        stale = b_store.change_token
        b_store.change_token = lambda: b._token  # B's first refresh sees no change: it decides on the old record
        appends: list[int] = []
        real = b_store.append
        b_store.append = lambda stream, expected, events: (appends.append(expected), real(stream, expected, events))[1]
        with pytest.raises(Refused, match="Already started"):
            b.execute(inf.StartInfusion(pid, DOSE, bag_code(b, pid)), "noah")
        b_store.change_token = stale
        assert len(appends) == 1, "B tried once, on the stale version, and lost"
        kinds = Counter(e.kind for e in a_store.read(PATIENT_PREFIX + pid))
        assert kinds[inf.INFUSION_STARTED] == 1 and kinds[DoseGiven.KIND] == 1
    finally:
        a_store.close()
        b_store.close()

"""The PostgreSQL listener (core/pgnotify.py): another terminal's append wakes it at once, a quiet
timeout says so, and a lost connection means "poll" until it is listening again (issue 19).

Needs the test server named by ``BEDSIDE_TEST_PG`` (skipped without it, as the other PostgreSQL
tests are); each test gets a fresh schema. The times asserted are loose (seconds, not ms): what
they tell apart is "woken by the notification" from "ran into its 30 s timeout".
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from bedside.core.pgnotify import Listener, listener_for
from bedside.core.store import SqliteStore

from .test_store_contract import PgDatabase, ev, require_pg

LONG = 30.0  # a wait that runs into this timeout has missed what it was meant to see
SOON = 5.0  # "at once", allowing for a busy two-core machine


@pytest.fixture
def pg_db():
    db = PgDatabase(require_pg())
    yield db
    db.drop()


@pytest.fixture
def stores(pg_db):
    from bedside.core.pgstore import PgStore

    made: list[PgStore] = []

    def open_store() -> PgStore:
        made.append(PgStore(pg_db.url))
        return made[-1]

    yield open_store
    for s in made:
        s.close()


@pytest.fixture
def listening(stores):
    """A listener for a fresh store, already connected (its first wait: True, poll)."""
    listener = listener_for(stores())
    assert listener is not None
    started = time.monotonic()
    assert listener.wait(LONG) is True, "just connected: the caller must poll"
    assert time.monotonic() - started < SOON and listener.connected
    yield listener
    listener.close()


def timed_wait(listener: Listener, timeout: float = LONG) -> tuple[bool, float]:
    started = time.monotonic()
    return listener.wait(timeout), time.monotonic() - started


def append_later(store, stream: str, delay: float = 0.3) -> threading.Thread:
    t = threading.Thread(target=lambda: (time.sleep(delay), store.append(stream, 0, [ev(stream)])))
    t.start()
    return t


def test_another_terminals_append_wakes_the_wait_at_once(listening, stores):
    other = stores()  # another terminal: its own connection
    writer = append_later(other, "patient-1")
    woke, took = timed_wait(listening)
    writer.join()
    assert woke is True and took < SOON, f"woken after {took:.1f} s: the NOTIFY did not wake it"
    assert listening.notified >= 1

    # An append made while nobody was waiting is not lost: the next wait returns at once.
    other.append("patient-2", 0, [ev("patient-2")])
    woke, took = timed_wait(listening)
    assert woke is True and took < SOON


def test_no_notification_is_false_after_the_timeout(listening):
    woke, took = timed_wait(listening, 0.5)
    assert woke is False
    assert 0.45 <= took < SOON


def test_a_killed_connection_means_poll_then_it_listens_again(listening, stores, pg_db):
    first_pid = listening.backend_pid
    # bedside_test may end its own sessions (pg_signal_backend is not needed for one's own role).
    (ended,) = pg_db.admin.execute("SELECT pg_terminate_backend(%s)", (first_pid,)).fetchone()
    assert ended is True

    woke, took = timed_wait(listening)
    assert woke is True and took < SOON, "a lost connection must make the caller poll, not wait it out"
    assert not listening.connected and listening.problem is not None

    woke, took = timed_wait(listening)  # the first attempt after a loss is at once
    assert woke is True and took < SOON
    assert listening.connected and listening.connects == 2 and listening.backend_pid != first_pid

    writer = append_later(stores(), "patient-3")
    woke, took = timed_wait(listening)
    writer.join()
    assert woke is True and took < SOON and listening.notified >= 1


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_while_the_server_is_unreachable_it_says_poll_every_interval_and_never_raises():
    dsn = f"postgresql://bedside_test:sekrit-pw@127.0.0.1:{unused_port()}/nowhere"
    listener = Listener(dsn, poll_interval=0.2)
    try:
        results = []
        started = time.monotonic()
        for _ in range(5):
            results.append(listener.wait(LONG))
        took = time.monotonic() - started
        assert results == [True] * 5 and not listener.connected
        assert 0.8 <= took < SOON, f"five polls took {took:.2f} s: one poll interval each, no busy loop"
        assert listener.problem is not None and "sekrit-pw" not in listener.problem
    finally:
        listener.close()


def test_close_from_another_thread_wakes_a_wait_in_progress(listening):
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(listening.wait(LONG)))
    waiter.start()
    time.sleep(0.3)
    started = time.monotonic()
    listening.close()
    waiter.join(SOON)
    assert not waiter.is_alive() and time.monotonic() - started < SOON
    assert result == [False] and not listening.connected
    assert listening.wait(LONG) is False  # closed: never blocks again


def test_sqlite_has_no_listener(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        assert listener_for(store) is None
    finally:
        store.close()

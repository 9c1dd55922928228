"""The event store: append-only, optimistic concurrency, hash chain, anchor, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import apsw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedside.core.events import NewEvent
from bedside.core.store import ConcurrencyError, SqliteStore, verify_log

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def ev(stream: str, n: int = 0, **data) -> NewEvent:
    return NewEvent(stream, "test.event", "tester", T0 + timedelta(seconds=n), {"n": n, **data})


def test_append_and_read_in_order(store):
    store.append("a", 0, [ev("a", 1), ev("a", 2)])
    store.append("b", 0, [ev("b", 3)])
    got = store.read()
    assert [(e.seq, e.stream, e.version) for e in got] == [(1, "a", 1), (2, "a", 2), (3, "b", 1)]
    assert [e.data["n"] for e in store.read("a")] == [1, 2]
    assert [e.seq for e in store.read(after_seq=2)] == [3]
    assert got[0].at == T0 + timedelta(seconds=1)


def test_stale_writer_gets_a_conflict_and_overwrites_nothing(store):
    store.append("a", 0, [ev("a", 1)])
    with pytest.raises(ConcurrencyError) as exc:
        store.append("a", 0, [ev("a", 2)])
    assert exc.value.actual == 1
    assert [e.data["n"] for e in store.read("a")] == [1]


@pytest.mark.parametrize("sql", ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"])
def test_schema_refuses_update_and_delete(store, sql):
    store.append("a", 0, [ev("a", 1)])
    with pytest.raises(apsw.ConstraintError, match="append-only"):
        store.conn.execute(sql)
    assert verify_log(store, store.anchor.read()).ok


def _tamper(path, sql):
    """What an attacker with the file could do: drop the triggers, then change rows."""
    conn = apsw.Connection(str(path))
    conn.execute("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
    conn.execute(sql)
    conn.close()


@pytest.mark.parametrize(
    "sql, words",
    [
        ("UPDATE events SET data = '{\"n\":99}' WHERE seq = 2", "altered"),
        ("DELETE FROM events WHERE seq = 2", "missing"),
        ("DELETE FROM events WHERE seq = 3", "truncated"),
    ],
)
def test_verify_detects_edit_delete_truncate(tmp_path, sql, words):
    path = tmp_path / "t.db"
    s = SqliteStore(path)
    s.append("a", 0, [ev("a", 1), ev("a", 2), ev("a", 3)])
    assert verify_log(s, s.anchor.read()).ok
    s.close()
    _tamper(path, sql)
    s = SqliteStore(path)
    report = verify_log(s, s.anchor.read())
    assert not report.ok
    assert words in " ".join(report.problems)


def test_verify_detects_a_wholly_rewritten_log(tmp_path):
    path = tmp_path / "t.db"
    s = SqliteStore(path)
    s.append("a", 0, [ev("a", 1), ev("a", 2)])
    anchor = s.anchor.read()
    s.close()
    # Rewrite the whole log consistently (a valid chain of different content).
    os.remove(path)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(path) + suffix):
            os.remove(str(path) + suffix)
    s = SqliteStore(path, anchor=False)
    s.append("a", 0, [ev("a", 1), ev("a", 7)])
    report = verify_log(s, anchor)
    assert not report.ok and "rewritten" in " ".join(report.problems)


def test_missing_anchor_is_reported(tmp_path):
    s = SqliteStore(tmp_path / "t.db")
    s.append("a", 0, [ev("a", 1)])
    os.remove(s.anchor.path)
    assert "anchor" in " ".join(verify_log(s, s.anchor.read()).problems)


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(1, 3)), max_size=15))
@settings(max_examples=30, deadline=None)
def test_chain_verifies_after_any_sequence_of_appends(batches):
    s = SqliteStore(":memory:")
    total = 0
    for stream, n in batches:
        s.append(stream, s.stream_version(stream), [ev(stream, i) for i in range(n)])
        total += n
    report = verify_log(s, None, anchor_expected=False)
    assert report.ok and report.events == total
    for stream in "abc":
        versions = [e.version for e in s.read(stream)]
        assert versions == list(range(1, len(versions) + 1))


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from bedside.core.events import NewEvent
    from bedside.core.store import ConcurrencyError, SqliteStore
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = SqliteStore(path)
    done = 0
    print("ready", flush=True)
    sys.stdin.readline()
    while done < count:
        v = s.stream_version("patient:x")
        try:
            s.append("patient:x", v, [NewEvent("patient:x", "t", name, datetime.now(UTC), {"w": name, "i": done})])
        except ConcurrencyError:
            continue
        print(done, flush=True)
        done += 1
    """
)


def test_two_processes_appending_to_one_patient(tmp_path):
    path = tmp_path / "shared.db"
    SqliteStore(path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "200"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for name in ("p1", "p2")
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:  # start both at once
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    s = SqliteStore(path)
    events = s.read("patient:x")
    assert len(events) == 400
    assert sorted(e.version for e in events) == list(range(1, 401))
    for name in ("p1", "p2"):
        assert sorted(e.data["i"] for e in events if e.data["w"] == name) == list(range(200))
    assert verify_log(s, s.anchor.read()).ok


def test_killed_mid_write_keeps_every_acknowledged_event(tmp_path):
    path = tmp_path / "crash.db"
    SqliteStore(path).close()
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "k", "100000"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    p.stdin.write("go\n")
    p.stdin.flush()
    acked = -1
    deadline = time.monotonic() + 30
    while acked < 50 and time.monotonic() < deadline:
        acked = int(p.stdout.readline())
    p.send_signal(signal.SIGKILL)
    p.wait()
    s = SqliteStore(path)
    got = {e.data["i"] for e in s.read("patient:x")}
    assert set(range(acked + 1)) <= got, "an acknowledged event was lost"
    report = verify_log(s, s.anchor.read())
    assert report.ok, report.summary()

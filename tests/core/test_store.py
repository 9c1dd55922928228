"""SQLite specifics of the event store: the anchor file against truncation and rewriting, and the
chain over random appends. The contract every backend meets (order, conflicts, append-only,
two processes, SIGKILL) is tests/core/test_store_contract.py, run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import apsw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedside.core.events import NewEvent
from bedside.core.store import SqliteStore, verify_log

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def ev(stream: str, n: int = 0, **data) -> NewEvent:
    return NewEvent(stream, "test.event", "tester", T0 + timedelta(seconds=n), {"n": n, **data})


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


def test_a_new_database_and_its_anchor_are_the_owners_only_whatever_the_umask(tmp_path):
    """Under the usual umask 022 a new database, its -wal/-shm and its anchor are 0600 (issue 18:
    before, the database was world-readable)."""
    old = os.umask(0o022)
    try:
        s = SqliteStore(tmp_path / "u.db")
        s.append("site", 0, [ev("site", 1)])
        modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()}
        s.close()
    finally:
        os.umask(old)
    assert modes["u.db"] == modes["u.db.head"] == "0o600", modes
    assert all(m == "0o600" for name, m in modes.items() if name.startswith("u.db")), modes

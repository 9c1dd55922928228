"""The store fails, the record stays whole: locked, full, read-only, and a commit whose outcome
is unknown (a lost PostgreSQL connection). Each is a StoreUnavailable a user can act on."""

from __future__ import annotations

from datetime import UTC, datetime

import apsw
import pytest

from bedside.core.events import NewEvent
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore, StoreUnavailable, StoreUncertain, verify_log

AT = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def ev(n: int, stream: str = "site") -> NewEvent:
    return NewEvent(stream, "site.setting", "adam", AT, {"name": "site_name", "value": f"Ward {n}"})


def test_a_write_lock_held_by_another_process_is_busy_not_a_crash(tmp_path):
    path = tmp_path / "w.db"
    store = SqliteStore(path, busy_ms=200)
    store.append("site", 0, [ev(1)])
    other = apsw.Connection(str(path))
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="busy") as info:
            store.append("site", 1, [ev(2)])
        assert info.value.retry
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.append("site", 1, [ev(2)])  # the retry, once the lock is gone
    assert [e.data["value"] for e in store.read()] == ["Ward 1", "Ward 2"]
    store.close()


def test_a_full_database_saves_nothing_and_says_so(tmp_path):
    store = SqliteStore(tmp_path / "f.db")
    store.append("site", 0, [ev(1)])
    (pages,) = store.conn.execute("PRAGMA page_count").fetchone()
    store.conn.execute(f"PRAGMA max_page_count={pages}")  # SQLite's own "database or disk is full"
    big = NewEvent("site", "site.setting", "adam", AT, {"name": "site_name", "value": "x" * 200_000})
    with pytest.raises(StoreUnavailable, match="full"):
        store.append("site", 1, [big])
    assert len(store.read()) == 1, "nothing half-saved"
    assert verify_log(store, store.anchor.read()).ok
    store.close()


def test_a_read_only_database_says_it_cannot_be_written(tmp_path):
    store = SqliteStore(tmp_path / "r.db")
    store.conn.execute("PRAGMA query_only=1")
    with pytest.raises(StoreUnavailable, match="cannot be written"):
        store.append("site", 0, [ev(1)])
    assert store.read() == []
    store.close()


def test_a_missing_directory_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        SqliteStore(blocker / "sub" / "x.db")


def test_an_anchor_that_cannot_be_written_does_not_turn_a_saved_event_into_an_error(tmp_path, monkeypatch):
    store = SqliteStore(tmp_path / "a.db")

    def broken(_anchor, **_how):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.anchor, "advance", broken)
    (saved,) = store.append("site", 0, [ev(1)])
    assert saved.seq == 1 and "No space" in (store.anchor_error or "")
    monkeypatch.undo()
    store.append("site", 1, [ev(2)])
    assert store.anchor_error is None and store.anchor.read().seq == 2
    store.close()


class _LosesTheAnswer:
    """A store whose connection breaks during COMMIT: the append did (or did not) reach the log."""

    def __init__(self, inner: SqliteStore, commits: bool):
        self.inner, self.commits, self.armed = inner, commits, True

    def append(self, stream, expected_version, events):
        if self.armed:
            self.armed = False
            if self.commits:
                self.inner.append(stream, expected_version, events)
            raise StoreUncertain("connection lost during COMMIT")
        return self.inner.append(stream, expected_version, events)

    def read(self, stream=None, after_seq=0):
        return self.inner.read(stream, after_seq)

    def iter_events(self, after_seq=0, batch=5000):
        return self.inner.iter_events(after_seq, batch)

    def change_token(self):
        return self.inner.change_token()

    def set_keys(self, keys):
        self.inner.set_keys(keys)


@pytest.mark.parametrize("commits", [True, False])
def test_a_commit_with_an_unknown_outcome_is_looked_up_never_doubled(tmp_path, clock, key, commits):
    inner = SqliteStore(tmp_path / "u.db")
    ledger = Ledger(_LosesTheAnswer(inner, commits), clock, key)
    if commits:
        (got,) = ledger.append("site", lambda: [ev(1)])
        assert got.seq == 1 and got.data["value"] == "Ward 1"
    else:
        with pytest.raises(StoreUnavailable, match="Nothing was saved"):
            ledger.append("site", lambda: [ev(1)])
    assert len(inner.read()) == (1 if commits else 0), "saved exactly once, or not at all"
    ledger.append("site", lambda: [ev(2)])
    assert [e.data["value"] for e in inner.read()] == (["Ward 1", "Ward 2"] if commits else ["Ward 2"])
    inner.close()


def test_events_read_twice_by_two_threads_are_folded_once(tmp_path, clock, key):
    store = SqliteStore(tmp_path / "t.db")
    ledger = Ledger(store, clock, key)
    other = Ledger(SqliteStore(tmp_path / "t.db"), clock, key)
    other.append("site", lambda: [ev(1)])
    fetched = ledger.fetch_new()
    assert fetched is not None
    assert ledger.refresh(force=True)  # the screens' thread reads the same events first
    assert not ledger.ingest(*fetched), "the watcher's copy adds nothing"
    assert [e.seq for e in ledger.stream_events("site")] == [1], "folded once"
    store.close()

"""The event store's whole contract, on SQLite and on PostgreSQL alike.

The PostgreSQL half needs a throw-away server named by ``BEDSIDE_TEST_PG``
(``postgresql://user:password@127.0.0.1:54329/db``; ``.ci/run`` starts one). Without it those
tests are skipped (and fail under CI=true, where they must run). Each test gets a fresh schema
(PostgreSQL) or a fresh file (SQLite).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bedside.core.events import NewEvent
from bedside.core.store import ConcurrencyError, SqliteStore, StoreError, verify_log

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
PG_ENV = "BEDSIDE_TEST_PG"


def ev(stream: str, n: int = 0, **data) -> NewEvent:
    return NewEvent(stream, "test.event", "tester", T0 + timedelta(seconds=n), {"n": n, **data})


def require_pg() -> str:
    """The PostgreSQL server for tests, or skip (fail under CI, where these tests must run)."""
    url = os.environ.get(PG_ENV)
    if not url:
        reason = f"PostgreSQL tests need {PG_ENV}=postgresql://user:password@host:port/db (.ci/run starts a throw-away server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the PostgreSQL tests: psycopg is not installed (pip install -e '.[test]')")
        pytest.skip("PostgreSQL tests need psycopg (pip install -e '.[test]')")
    return url


def with_schema(url: str, schema: str) -> str:
    """The URL with ``search_path`` set to ``schema`` (libpq ``options``), for a fresh log per test."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


class PgDatabase:
    """A fresh schema in the test server, dropped afterwards."""

    def __init__(self, url: str):
        import psycopg

        self.admin = psycopg.connect(url, autocommit=True)
        self.schema = f"t_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f"CREATE SCHEMA {self.schema}")
        self.url = with_schema(url, self.schema)

    def drop(self) -> None:
        self.admin.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.admin.close()


@pytest.fixture
def pg_db():
    db = PgDatabase(require_pg())
    yield db
    db.drop()


class Backend:
    """What a test needs to know about one backend: how to open it, and how to reach under it."""

    def __init__(self, name: str, target: str, pg: PgDatabase | None = None):
        self.name, self.target, self.pg = name, target, pg
        self.stores: list = []

    def open(self):
        if self.name == "postgres":
            from bedside.core.pgstore import PgStore

            store = PgStore(self.target)
        else:
            store = SqliteStore(self.target)
        self.stores.append(store)
        return store

    def raw(self, sql: str) -> None:
        """Run SQL on a connection of its own, as the database's owner would."""
        if self.name == "postgres":
            import psycopg

            with psycopg.connect(self.target, autocommit=True) as conn:
                conn.execute(sql)
        else:
            import apsw

            conn = apsw.Connection(self.target)
            try:
                conn.execute(sql)
            finally:
                conn.close()

    def tamper(self, sql: str) -> None:
        """What someone with the owner's rights could do: switch the triggers off, then change rows."""
        if self.name == "postgres":
            self.raw(f"ALTER TABLE events DISABLE TRIGGER USER; {sql}; ALTER TABLE events ENABLE TRIGGER USER")
        else:
            self.raw(f"DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; {sql}")

    def close(self) -> None:
        for s in self.stores:
            s.close()


def verify(store):
    anchor = store.anchor
    return verify_log(store, anchor.read() if anchor is not None else None, anchor_expected=anchor is not None)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    if request.param == "postgres":
        db = PgDatabase(require_pg())
        b = Backend("postgres", db.url, db)
    else:
        db = None
        b = Backend("sqlite", str(tmp_path / "contract.db"))
    yield b
    b.close()
    if db is not None:
        db.drop()


@pytest.fixture
def any_store(backend):
    return backend.open()


# -- appending and reading ---------------------------------------------------------------------


def test_append_and_read_in_order(any_store):
    s = any_store
    assert s.change_token() is not None and s.last_seq() == 0 and s.read() == []
    first = s.append("a", 0, [ev("a", 1), ev("a", 2)])
    s.append("b", 0, [ev("b", 3, text="é ✓ 中")])
    got = s.read()
    assert [(e.seq, e.stream, e.version) for e in got] == [(1, "a", 1), (2, "a", 2), (3, "b", 1)]
    assert [e.data["n"] for e in s.read("a")] == [1, 2]
    assert [e.seq for e in s.read(after_seq=2)] == [3]
    assert [e.seq for e in s.read("a", after_seq=1)] == [2]
    assert got[0].at == T0 + timedelta(seconds=1)
    assert got[2].data == {"n": 3, "text": "é ✓ 中"}
    assert [e.hash for e in first] == [e.hash for e in got[:2]]
    assert got[1].prev_hash == got[0].hash
    assert (s.stream_version("a"), s.stream_version("b"), s.stream_version("c"), s.last_seq()) == (2, 1, 0, 3)
    assert s.append("a", 2, []) == []


def test_a_watcher_thread_reading_during_appends_never_sees_half_a_write(any_store):
    """The app's watcher thread reads the one connection while the screens' thread appends: each
    append's transaction is whole to it (no read lands inside it, none fails)."""
    import threading

    s = any_store
    stop, seen, errors = threading.Event(), [], []

    def watch():
        while not stop.is_set():
            try:
                s.change_token()
                got = s.read(after_seq=0)
                seen.append(len(got))
                assert len(got) % 2 == 0, f"{len(got)} events: an append of two was seen half-done"
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)
                return

    t = threading.Thread(target=watch)
    t.start()
    try:
        for n in range(40):
            s.append("a", 2 * n, [ev("a", 2 * n), ev("a", 2 * n + 1)])
    finally:
        stop.set()
        t.join(10)
    assert errors == []
    assert seen and s.last_seq() == 80


def test_stale_writer_gets_a_conflict_and_overwrites_nothing(any_store):
    s = any_store
    s.append("a", 0, [ev("a", 1)])
    with pytest.raises(ConcurrencyError) as exc:
        s.append("a", 0, [ev("a", 2)])
    assert (exc.value.expected, exc.value.actual) == (0, 1)
    with pytest.raises(ConcurrencyError):
        s.append("a", 5, [ev("a", 3)])
    assert [e.data["n"] for e in s.read("a")] == [1]
    assert s.last_seq() == 1


def test_an_event_for_another_stream_is_refused_whole(any_store):
    s = any_store
    with pytest.raises(StoreError):
        s.append("a", 0, [ev("a", 1), ev("b", 2)])
    assert s.read() == []


def test_the_events_survive_reopening(backend):
    s = backend.open()
    s.append("a", 0, [ev("a", 1), ev("a", 2)])
    s.close()
    again = backend.open()
    assert [e.data["n"] for e in again.read("a")] == [1, 2]
    assert verify(again).ok


# -- append-only and the chain -----------------------------------------------------------------


@pytest.mark.parametrize("sql", ["UPDATE events SET actor = 'mallory'", "DELETE FROM events", "DELETE FROM events WHERE seq = 1"])
def test_schema_refuses_update_and_delete(backend, sql):
    s = backend.open()
    s.append("a", 0, [ev("a", 1)])
    with pytest.raises(Exception, match="append-only"):
        backend.raw(sql)
    assert [e.actor for e in s.read()] == ["tester"]
    assert verify(s).ok


@pytest.mark.parametrize(
    "sql, words",
    [("UPDATE events SET data = '{\"n\":99}' WHERE seq = 2", "altered"), ("DELETE FROM events WHERE seq = 2", "missing")],
)
def test_verify_detects_edit_and_delete(backend, sql, words):
    s = backend.open()
    s.append("a", 0, [ev("a", 1), ev("a", 2), ev("a", 3)])
    assert verify(s).ok
    backend.tamper(sql)
    report = verify(s)
    assert not report.ok and words in " ".join(report.problems)


def test_chain_verifies_after_many_mixed_appends(any_store):
    s = any_store
    rng = random.Random(20250303)
    total = 0
    for i in range(60):
        stream = rng.choice(["patient:a", "patient:b", "users", "site"])
        n = rng.randint(1, 4)
        s.append(
            stream, s.stream_version(stream), [ev(stream, i * 10 + k, k=k, nested={"x": [1, "two", None]}) for k in range(n)]
        )
        total += n
    report = verify(s)
    assert report.ok and report.events == total, report.summary()
    for stream in ("patient:a", "patient:b", "users", "site"):
        versions = [e.version for e in s.read(stream)]
        assert versions == list(range(1, len(versions) + 1))


def test_both_backends_store_the_same_log_with_the_same_hashes(tmp_path, pg_db):
    from bedside.core.pgstore import PgStore

    lite, pg = SqliteStore(tmp_path / "same.db"), PgStore(pg_db.url)
    try:
        for store in (lite, pg):
            store.append("a", 0, [ev("a", 1, s="ünïcode"), ev("a", 2, f=1.5, l=[1, {"z": 1, "a": 2}])])
            store.append("b", 0, [ev("b", 3)])
        rows = [
            [(e.seq, e.stream, e.version, e.kind, e.actor, e.at, e.data, e.prev_hash, e.hash) for e in st.read()]
            for st in (lite, pg)
        ]
        assert rows[0] == rows[1]
    finally:
        lite.close()
        pg.close()


# -- copying a log (bedside db copy) -----------------------------------------------------------


def _source_log(tmp_path, n: int = 7) -> list:
    source = SqliteStore(tmp_path / "source.db")
    try:
        for i in range(n):
            stream = ("a", "b")[i % 2]
            source.append(stream, source.stream_version(stream), [ev(stream, i, i=i)])
        return source.read()
    finally:
        source.close()


def test_import_events_copies_a_log_unchanged_in_batches(backend, tmp_path):
    events = _source_log(tmp_path)
    target = backend.open()
    assert target.import_events(events, batch=3) == len(events)
    copied = target.read()
    assert [(e.seq, e.stream, e.version, e.at, e.data, e.prev_hash, e.hash) for e in copied] == [
        (e.seq, e.stream, e.version, e.at, e.data, e.prev_hash, e.hash) for e in events
    ]
    assert verify_log(target, anchor_expected=False).ok
    target.append("a", target.stream_version("a"), [ev("a", 99)])  # the copy goes on as a log of its own
    assert verify_log(target, anchor_expected=False).ok


@pytest.mark.parametrize("damage", ["gap", "altered", "wrong version"])
def test_import_events_refuses_a_broken_log_and_keeps_the_batches_before_it(backend, tmp_path, damage):
    from attrs import evolve

    events = _source_log(tmp_path)
    bad = events[4]
    broken = {
        "gap": events[:4] + events[5:],
        "altered": [*events[:4], evolve(bad, data={**bad.data, "i": 40}), *events[5:]],
        "wrong version": [*events[:4], evolve(bad, version=bad.version + 1), *events[5:]],
    }[damage]
    target = backend.open()
    with pytest.raises(StoreError):
        target.import_events(broken, batch=2)
    assert target.last_seq() == 4  # two whole batches; the batch with the broken event is rolled back


# -- change_token ------------------------------------------------------------------------------


def test_change_token_changes_when_another_connection_appends(backend):
    watcher, writer = backend.open(), backend.open()
    writer.append("a", 0, [ev("a", 1)])
    token = watcher.change_token()
    assert watcher.change_token() == token  # nothing new: the same token
    writer.append("a", 1, [ev("a", 2)])
    deadline = time.monotonic() + 2.0
    while watcher.change_token() == token:
        assert time.monotonic() < deadline, "another connection's append was not seen within 2 s"
        time.sleep(0.05)
    assert [e.data["n"] for e in watcher.read(after_seq=1)] == [2]


# -- several processes -------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from bedside.core.events import NewEvent
    from bedside.core.store import ConcurrencyError, SqliteStore
    target, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if target.startswith("postgresql://"):
        from bedside.core.pgstore import PgStore
        s = PgStore(target)
    else:
        s = SqliteStore(target)
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


def _writer(target: str, name: str, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, target, name, str(count)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def test_two_processes_appending_to_one_patient(backend):
    backend.open().close()  # the schema exists before the race
    procs = [_writer(backend.target, name, 200) for name in ("p1", "p2")]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:  # start both at once
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            p.communicate(timeout=120)
            assert p.returncode == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    s = backend.open()
    events = s.read("patient:x")
    assert len(events) == 400
    assert sorted(e.version for e in events) == list(range(1, 401))
    assert [e.seq for e in events] == list(range(1, 401))
    for name in ("p1", "p2"):
        assert sorted(e.data["i"] for e in events if e.data["w"] == name) == list(range(200))
    report = verify(s)
    assert report.ok, report.summary()


def test_killed_mid_write_keeps_every_acknowledged_event(backend):
    backend.open().close()
    p = _writer(backend.target, "k", 100000)
    try:
        assert p.stdout.readline().strip() == "ready"
        p.stdin.write("go\n")
        p.stdin.flush()
        acked = -1
        deadline = time.monotonic() + 30
        while acked < 50 and time.monotonic() < deadline:
            acked = int(p.stdout.readline())
        p.send_signal(signal.SIGKILL)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    assert acked >= 50
    s = backend.open()
    got = {e.data["i"] for e in s.read("patient:x")}
    assert set(range(acked + 1)) <= got, "an acknowledged event was lost"
    report = verify(s)
    assert report.ok, report.summary()
    # and the log goes on after the crash
    s.append("patient:x", s.stream_version("patient:x"), [ev("patient:x", 1)])
    assert verify(s).ok


# -- PostgreSQL only -------------------------------------------------------------------------


def test_postgres_refuses_truncate(pg_db):
    import psycopg

    from bedside.core.pgstore import PgStore

    s = PgStore(pg_db.url)
    try:
        s.append("a", 0, [ev("a", 1)])
        with psycopg.connect(pg_db.url, autocommit=True) as conn, pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("TRUNCATE events")
        assert s.last_seq() == 1
    finally:
        s.close()


def test_postgres_refuses_a_row_that_does_not_follow_the_chain(pg_db):
    """A writer that skips the store (and its lock) still cannot fork or gap the chain."""
    import psycopg

    from bedside.core.pgstore import PgStore

    s = PgStore(pg_db.url)
    try:
        (first,) = s.append("a", 0, [ev("a", 1)])
        with psycopg.connect(pg_db.url, autocommit=True) as conn:
            for seq, prev in ((3, first.hash), (2, "f" * 64), (1, "0" * 64)):
                with pytest.raises(psycopg.Error, match=r"chain|duplicate"):
                    conn.execute(
                        "INSERT INTO events VALUES (%s, 'b', 1, 'k', 'u', '2025-03-03T08:00:00.000000Z', '{}', %s, %s)",
                        (seq, prev, "e" * 64),
                    )
        assert verify(s).ok and s.last_seq() == 1
    finally:
        s.close()


def test_postgres_writers_that_do_not_share_the_lock_still_cannot_fork_the_chain(pg_db):
    """Even without the advisory lock (two stores with different keys), the trigger and the keys hold."""
    import threading

    from bedside.core.pgstore import PgStore

    stores = [PgStore(pg_db.url) for _ in range(3)]
    for i, st in enumerate(stores):
        st._lock_key += i + 1  # no longer the same lock
    errors: list[BaseException] = []
    conflicts = [0]

    def write(st, name):
        done = 0
        while done < 60:
            try:
                st.append("patient:x", st.stream_version("patient:x"), [ev("patient:x", done, w=name)])
                done += 1
            except ConcurrencyError:
                conflicts[0] += 1
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    threads = [threading.Thread(target=write, args=(st, str(i))) for i, st in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert stores[0].last_seq() == 180
        assert verify(stores[0]).ok
    finally:
        for st in stores:
            st.close()


def test_postgres_migrate_is_idempotent_and_concurrent(pg_db):
    from concurrent.futures import ThreadPoolExecutor

    from bedside.core.pgstore import PG_SCHEMA_VERSION, PgStore

    def open_and_migrate(_):
        st = PgStore(pg_db.url)
        try:
            return st.migrate()
        finally:
            st.close()

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(open_and_migrate, range(4))) == {PG_SCHEMA_VERSION}
    s = PgStore(pg_db.url)
    try:
        s.append("a", 0, [ev("a", 1)])
        assert s.migrate() == PG_SCHEMA_VERSION and s.schema_version() == PG_SCHEMA_VERSION
        assert [e.data["n"] for e in s.read()] == [1]
    finally:
        s.close()


def test_postgres_refuses_a_newer_schema(pg_db):
    from bedside.core.pgstore import PgStore

    s = PgStore(pg_db.url)
    s.conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    s.close()
    with pytest.raises(StoreError, match="newer"):
        PgStore(pg_db.url)


def test_postgres_optional_anchor_file(pg_db, tmp_path):
    from bedside.core.pgstore import PgStore

    s = PgStore(pg_db.url, anchor=tmp_path / "ward.head")
    try:
        assert s.anchor is not None and s.anchor.read() is None
        stored = s.append("a", 0, [ev("a", 1), ev("a", 2)])
        assert s.anchor.read().seq == 2 and s.anchor.read().hash == stored[-1].hash
        assert verify(s).ok
    finally:
        s.close()
    plain = PgStore(pg_db.url)
    try:
        assert plain.anchor is None
        assert verify(plain).ok
        assert not verify_log(plain, None).ok  # asked to expect an anchor, it says one is missing
    finally:
        plain.close()


def test_postgres_reconnects_after_losing_its_connection(pg_db):
    from bedside.core.pgstore import PgStore

    s = PgStore(pg_db.url)
    try:
        s.append("a", 0, [ev("a", 1)])
        (pid,) = s.conn.execute("SELECT pg_backend_pid()").fetchone()
        pg_db.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)
        assert s.change_token() == 1  # a read reconnects
        s.conn.close()
        s.append("a", 1, [ev("a", 2)])  # an append on a closed connection reconnects first
        assert s.last_seq() == 2
    finally:
        s.close()


def test_postgres_unreachable_server_is_a_store_error():
    from bedside.core.pgstore import PgStore

    pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match="cannot connect") as exc:
        PgStore("postgresql://nobody:secret@127.0.0.1:1/none", connect_timeout=2)
    assert "secret" not in str(exc.value)


def test_the_core_does_not_import_psycopg_until_a_pg_store_is_made():
    code = "import sys, bedside.core.pgstore, bedside.core.store; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

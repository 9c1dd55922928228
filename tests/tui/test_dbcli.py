"""``bedside db migrate`` and ``bedside db copy``: SQLite → PostgreSQL → SQLite, verified at each end.

Not yet wired into ``bedside`` itself: the commands are parsed here with their own
``add_db_commands`` and run with ``run_db_command`` (in process, or via ``python -c``).
The PostgreSQL tests need ``BEDSIDE_TEST_PG`` (see tests/core/test_store_contract.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from bedside.core.events import NewEvent
from bedside.core.store import SqliteStore
from bedside.tui.dbcli import add_db_commands, open_any_store, resolve_target, run_db_command, verify_any
from tests.core.test_store_contract import PgDatabase, require_pg

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def db(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="bedside")
    add_db_commands(parser.add_subparsers(dest="command"))
    return run_db_command(parser.parse_args(["db", *argv]))


def seed(path) -> list:
    """A small ward log: several streams interleaved, unicode, nested data, batches."""
    s = SqliteStore(path)
    try:
        t = iter(range(1000))

        def e(stream, kind, **data):
            return NewEvent(stream, kind, "nina", T0 + timedelta(minutes=next(t)), data)

        s.append("users", 0, [e("users", "user.created", username="nina", role="nurse")])
        s.append(
            "patient:1",
            0,
            [e("patient:1", "patient.identity", name="Zoë Ölund", mrn="A-1"), e("patient:1", "vitals", bp=[120, 80])],
        )
        s.append("site", 0, [e("site", "site.setting", name="ward", value="Hämatologie 3")])
        s.append("patient:1", 2, [e("patient:1", "dose", mg=0.8, note=None, nested={"b": 1, "a": [True, "✓"]})])
        s.append("patient:2", 0, [e("patient:2", "patient.identity", name="中村", mrn="B-2")])
        return s.read()
    finally:
        s.close()


def rows(events) -> list[tuple]:
    return [(e.seq, e.stream, e.version, e.kind, e.actor, e.at, e.data, e.prev_hash, e.hash) for e in events]


def read_all(target) -> list:
    s = open_any_store(target)
    try:
        assert verify_any(s).ok, verify_any(s).summary()
        return s.read()
    finally:
        s.close()


@pytest.fixture
def pg_url(tmp_path, monkeypatch):
    monkeypatch.setenv("BEDSIDE_KEY", str(tmp_path / "pg.key"))  # its anchor, pg.key.head, beside it
    d = PgDatabase(require_pg())
    yield d.url
    d.drop()


def test_copy_sqlite_to_postgres_to_sqlite_keeps_every_event_and_hash(tmp_path, pg_url, capsys):
    src, back = tmp_path / "ward.db", tmp_path / "back.db"
    original = seed(src)

    assert db("copy", str(src), pg_url) == 0
    out = capsys.readouterr().out
    assert f"Copied {len(original)} events" in out and "INTACT" in out and "NOT INTACT" not in out
    assert rows(read_all(pg_url)) == rows(original)

    assert db("copy", pg_url, str(back)) == 0
    out = capsys.readouterr().out
    assert "INTACT" in out and "NOT INTACT" not in out
    assert rows(read_all(back)) == rows(original)
    s = SqliteStore(back)  # the copy has its own anchor and goes on like any log
    try:
        assert s.anchor.read().hash == original[-1].hash
        s.append("patient:2", 1, [NewEvent("patient:2", "k", "noah", T0, {})])
        assert verify_any(s).ok
    finally:
        s.close()


def test_copy_refuses_a_non_empty_destination(tmp_path, pg_url, capsys):
    src = tmp_path / "ward.db"
    seed(src)
    assert db("copy", str(src), pg_url) == 0
    capsys.readouterr()
    assert db("copy", str(src), pg_url) == 1
    assert "empty" in capsys.readouterr().err
    assert len(read_all(pg_url)) == 6  # nothing added twice


def test_copy_from_a_postgres_database_without_a_log_creates_nothing(tmp_path, pg_url, capsys):
    assert db("copy", pg_url, str(tmp_path / "b.db")) == 2
    assert "no Bedside log" in capsys.readouterr().err
    from bedside.core.pgstore import PgStore

    s = PgStore(pg_url, migrate=False)
    try:
        assert s.schema_version() == 0  # the source was only looked at
    finally:
        s.close()


def test_db_migrate_on_postgres_is_idempotent(pg_url, capsys):
    assert db("migrate", "--db", pg_url) == 0
    assert db("migrate", "--db", pg_url) == 0
    out = capsys.readouterr().out
    assert out.count("Schema version 3: up to date (0 events).") == 2
    assert "bedside_test@" in out and ":bedside_test@" not in out  # the password is not shown


# -- SQLite only: these run without a PostgreSQL server ---------------------------------------


def test_copy_sqlite_to_sqlite_round_trip(tmp_path, capsys):
    src, dst = tmp_path / "a.db", tmp_path / "sub" / "b.db"
    original = seed(src)
    assert db("copy", str(src), str(dst)) == 0
    out = capsys.readouterr().out
    assert "Copied 6 events" in out and "INTACT: 6 events in 4 streams" in out
    assert rows(read_all(dst)) == rows(original)


def test_copy_refuses_a_non_empty_sqlite_destination(tmp_path, capsys):
    src, dst = tmp_path / "a.db", tmp_path / "b.db"
    seed(src)
    s = SqliteStore(dst)
    s.append("x", 0, [NewEvent("x", "k", "u", T0, {})])
    s.close()
    assert db("copy", str(src), str(dst)) == 1
    assert "already holds 1 events" in capsys.readouterr().err
    assert [e.stream for e in read_all(dst)] == ["x"]


def test_copy_refuses_a_tampered_source_and_copies_nothing(tmp_path, capsys):
    import apsw

    src, dst = tmp_path / "a.db", tmp_path / "b.db"
    seed(src)
    conn = apsw.Connection(str(src))
    conn.execute("DROP TRIGGER events_no_update; UPDATE events SET data = '{\"mg\":8}' WHERE seq = 5")
    conn.close()
    assert db("copy", str(src), str(dst)) == 1
    out = capsys.readouterr().out
    assert "NOT COPIED" in out and "altered" in out
    assert read_all(dst) == []


def test_copy_refuses_a_missing_source_and_the_same_store(tmp_path, capsys):
    assert db("copy", str(tmp_path / "none.db"), str(tmp_path / "b.db")) == 2
    seed(tmp_path / "a.db")
    assert db("copy", str(tmp_path / "a.db"), str(tmp_path / "." / "a.db")) == 2
    err = capsys.readouterr().err
    assert "no database" in err and "same store" in err


def test_db_migrate_on_sqlite(tmp_path, capsys):
    path = tmp_path / "new.db"
    assert db("migrate", "--db", str(path)) == 0
    assert "Schema version 2" in capsys.readouterr().out and path.exists()


def test_urls_stay_urls_and_paths_become_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("BEDSIDE_DB", "postgresql://u@db.ward:5432/bedside")
    assert resolve_target(None) == "postgresql://u@db.ward:5432/bedside"
    assert resolve_target(str(tmp_path / "x.db")) == tmp_path / "x.db"


def test_db_copy_in_a_subprocess_without_textual(tmp_path):
    src, dst = tmp_path / "a.db", tmp_path / "b.db"
    seed(src)
    code = textwrap.dedent(
        f"""
        import argparse, sys
        from bedside.tui.dbcli import add_db_commands, run_db_command
        p = argparse.ArgumentParser(prog="bedside")
        add_db_commands(p.add_subparsers(dest="command"))
        rc = run_db_command(p.parse_args(["db", "copy", {str(src)!r}, {str(dst)!r}]))
        assert "textual" not in sys.modules and "psycopg" not in sys.modules
        sys.exit(rc)
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "INTACT: 6 events" in r.stdout


def test_copy_carries_each_events_key_id_and_mac(tmp_path, capsys):
    import shutil

    from bedside.tui.cli import main
    from tests.core.test_tamper import make_log
    from tests.core.test_tamper import rows as stored_rows

    src, dst = tmp_path / "ward.db", tmp_path / "copy.db"
    make_log(src)
    assert db("copy", str(src), str(dst)) == 0
    copied = stored_rows(dst)
    assert copied == stored_rows(src) and all(r[9] == "k1" and len(r[10]) == 64 for r in copied)
    shutil.copy(str(src) + ".key", str(dst) + ".key")  # the same site key: the copy verifies, MACs included
    capsys.readouterr()
    assert main(["verify-log", "--db", str(dst)]) == 0
    assert "every event's MAC" in capsys.readouterr().out

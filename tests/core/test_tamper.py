"""The tamper matrix (issue 18): an attacker who can write the database (apsw, psycopg) but does not
hold the site key. Every attack is caught by ``bedside verify-log`` (run in process): exit 1, and
the first bad event named. Key rotation: old and new keys verify; an unknown or retired key does not.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw
import pytest

from bedside.core.auth import SiteKey
from bedside.core.clock import FakeClock
from bedside.core.demo import seed_users
from bedside.core.events import NewEvent
from bedside.core.keyring import Keyring, parse_keyring
from bedside.core.store import SqliteStore, chain_rows
from bedside.tui.cli import main
from bedside.tui.dbcli import set_extra_anchors

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
COLUMNS = "seq, stream, version, kind, actor, at_utc, data, prev_hash, hash, key_id, mac"
INSERT = f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"


def note(i: int) -> NewEvent:
    return NewEvent("site", "site.setting", "adam", T0 + timedelta(minutes=i), {"name": "ward", "value": f"W{i}"})


def make_log(db: Path, extra: int = 4, anchors: tuple[Path, ...] = ()) -> int:
    """A log signed under the site key file ``<db>.key``: the demo users, then ``extra`` settings
    (one append each). Returns the last seq."""
    s = SqliteStore(db)
    for a in anchors:
        s.add_anchor(a)
    try:
        s.set_keys(SiteKey(Path(str(db) + ".key")))
        seed_users(s, FakeClock(T0))
        for i in range(extra):
            s.append("site", i, [note(i)])
        return s.last_seq()
    finally:
        s.close()


def verify(capsys, db: Path, *more: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify-log", "--db", str(db), *more])
    out = capsys.readouterr()
    return code, out.out + out.err


def first_bad(text: str) -> int | None:
    m = re.search(r"First bad event: (\d+)\.", text)
    return int(m.group(1)) if m else None


def raw(db: Path, *sql: str, params: tuple = ()) -> None:
    """SQL as the attacker runs it: the triggers dropped first and put back after, so only the
    log's content gives the change away."""
    conn = apsw.Connection(str(db))
    try:
        conn.execute("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete")
        for stmt in sql:
            conn.execute(stmt, params)
        conn.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;"
            "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;"
        )
    finally:
        conn.close()


def rows(db: Path) -> list[tuple]:
    conn = apsw.Connection(str(db))
    try:
        return list(conn.execute(f"SELECT {COLUMNS} FROM events ORDER BY seq"))
    finally:
        conn.close()


def forged_append(db: Path, keyring: Keyring | None = None, key_id: str | None = None) -> int:
    """An admin user.created after the head with a correct hash (MAC: none, or ``keyring``'s, or a
    made-up one under ``key_id``); its seq."""
    last = rows(db)[-1]
    conn = apsw.Connection(str(db))
    try:
        (version,) = conn.execute("SELECT MAX(version) FROM events WHERE stream = 'users'").fetchone()
        ev = NewEvent("users", "user.created", "system", T0, {"username": "mallory", "role": "admin", "full_name": "M"})
        (row,) = chain_rows("users", version, last[0], last[8], [ev], keyring)
        if key_id is not None:
            row = (*row[:9], key_id, "ab" * 32)
        conn.execute(INSERT, row)
        return row[0]
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path):
    set_extra_anchors([])
    return tmp_path / "ward.db"


def test_an_untouched_log_is_intact(db, capsys):
    make_log(db)
    code, out = verify(capsys, db)
    assert code == 0, out
    assert "INTACT" in out and "every event's MAC" in out


def test_an_edited_payload_is_caught(db, capsys):
    make_log(db)
    raw(db, "UPDATE events SET data = ? WHERE seq = 3", params=('{"role":"admin"}',))
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == 3 and "altered" in out


def test_a_deleted_middle_row_is_caught(db, capsys):
    make_log(db)
    raw(db, "DELETE FROM events WHERE seq = 4")
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == 4 and "missing" in out


def test_deleting_the_last_rows_is_caught_by_the_anchor(db, capsys):
    last = make_log(db)
    raw(db, "DELETE FROM events WHERE seq > ?", params=(last - 2,))
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == last - 1 and "truncated" in out


def test_two_rows_swapped_are_caught(db, capsys):
    make_log(db)
    r = rows(db)
    a, b = r[2], r[3]  # seqs 3 and 4: each takes the other's content
    raw(db, "DELETE FROM events WHERE seq IN (3, 4)")
    conn = apsw.Connection(str(db))
    conn.executemany(INSERT, [(3, *b[1:]), (4, *a[1:])])
    conn.close()
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == 3


def rehash(db: Path, edit_seq: int, keep_macs: bool) -> None:
    """Edit one event, then recompute every hash from the start (chain_rows, no keyring) and
    rewrite the whole table; MACs kept as they were, or left empty."""
    old = rows(db)
    new, head, versions = [], (0, "0" * 64), {}
    for r in old:
        data = json.loads(r[6])
        if r[0] == edit_seq:
            data["value"] = "forged"
        ev = NewEvent(r[1], r[3], r[4], datetime.fromisoformat(r[5]), data)
        (row,) = chain_rows(r[1], versions.get(r[1], 0), head[0], head[1], [ev], None)
        versions[r[1]] = row[2]
        head = (row[0], row[8])
        new.append((*row[:9], r[9], r[10]) if keep_macs else row)
    raw(db, "DELETE FROM events")
    conn = apsw.Connection(str(db))
    conn.executemany(INSERT, new)
    conn.close()


def test_a_rehashed_chain_keeping_the_old_macs_is_caught_at_the_edit(db, capsys):
    last = make_log(db)
    rehash(db, last - 1, keep_macs=True)
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == last - 1 and "MAC does not verify" in out


def test_a_rehashed_chain_without_macs_is_caught_at_the_first_event(db, capsys):
    last = make_log(db)
    rehash(db, last, keep_macs=False)
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == 1 and "carries no MAC" in out


def test_a_forged_event_with_a_correct_hash_is_caught(db, capsys):
    last = make_log(db)
    seq = forged_append(db)
    assert seq == last + 1
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == seq and "carries no MAC" in out


def test_a_forged_event_with_a_made_up_mac_or_the_attackers_own_key_is_caught(db, capsys, tmp_path):
    make_log(db)
    seq = forged_append(db, key_id="k1")
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == seq and "MAC does not verify" in out
    db2 = tmp_path / "other.db"
    make_log(db2)
    seq = forged_append(db2, keyring=Keyring(b"\x01" * 32))  # a key of the attacker's own making
    code, out = verify(capsys, db2)
    assert code == 1 and first_bad(out) == seq and "MAC does not verify" in out


def test_a_forged_anchor_over_a_truncated_log_is_caught(db, capsys):
    last = make_log(db)
    r = rows(db)
    raw(db, "DELETE FROM events WHERE seq > ?", params=(last - 2,))
    head = Path(str(db) + ".head")
    head.write_text(json.dumps({"seq": last - 2, "hash": r[last - 3][8], "key_id": "k1", "mac": "cd" * 32}))
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == last - 2 and "not authentic" in out


def test_an_anchor_rolled_back_with_the_log_is_caught_by_a_second_anchor(db, capsys, tmp_path):
    far = tmp_path / "elsewhere" / "ward.head"  # another volume, which the attacker cannot reach
    far.parent.mkdir()
    head = Path(str(db) + ".head")
    make_log(db, extra=2, anchors=(far,))
    early = rows(db)[-1][0]
    saved = head.read_text()  # a genuine, authenticated anchor of the shorter log
    s = SqliteStore(db)
    s.add_anchor(far)
    s.set_keys(SiteKey(Path(str(db) + ".key")))
    s.append("site", 2, [note(2), note(3)])
    s.close()
    raw(db, "DELETE FROM events WHERE seq > ?", params=(early,))
    head.write_text(saved)
    code, out = verify(capsys, db)
    assert code == 0, "the rollback is consistent with the anchor beside the database"
    code, out = verify(capsys, db, "--anchor", str(far))
    assert code == 1 and first_bad(out) == early + 1 and "truncated" in out and str(far) in out


def test_a_deleted_anchor_is_caught_and_not_made_again(db, capsys):
    last = make_log(db)
    head = Path(str(db) + ".head")
    head.unlink()
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == last + 1 and "missing" in out
    s = SqliteStore(db)
    s.set_keys(SiteKey(Path(str(db) + ".key")))
    s.append("site", 4, [note(9)])
    assert not head.exists() and "missing" in (s.anchor_error or "")
    s.close()


def test_dropped_triggers_are_caught(db, capsys):
    make_log(db)
    conn = apsw.Connection(str(db))
    conn.execute("DROP TRIGGER events_no_delete")
    conn.close()
    code, out = verify(capsys, db)
    assert code == 1 and "events_no_delete" in out and "removed" in out


# -- key rotation ---------------------------------------------------------------------------------
def rotate(capsys, db: Path) -> str:
    capsys.readouterr()
    assert main(["key", "rotate", "--db", str(db)]) == 0
    return capsys.readouterr().out


def test_events_under_the_old_and_the_new_key_both_verify(db, capsys):
    make_log(db, extra=1)
    key_file = Path(str(db) + ".key")
    s = SqliteStore(db)
    keys = SiteKey(key_file)
    s.set_keys(keys)
    s.keys.keyring()  # this process has read the key file (k1) before the rotation
    out = rotate(capsys, db)
    assert "k2" in out
    s.append("site", 1, [note(5)])  # a running terminal takes the new key at its next write
    s.close()
    # k1 before; the rotation's own record (the first event under k2), then the terminal's write
    assert [(r[3], r[9]) for r in rows(db)][-3:] == [("site.setting", "k1"), ("log.key_rotated", "k2"), ("site.setting", "k2")]
    assert parse_keyring(key_file.read_text()).current == "k2"
    code, out = verify(capsys, db)
    assert code == 0, out


def test_an_event_under_an_unknown_key_id_is_rejected(db, capsys):
    make_log(db)
    seq = forged_append(db, key_id="k9")
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == seq and "'k9'" in out


def test_an_event_signed_with_the_retired_key_after_the_rotation_is_rejected(db, capsys):
    make_log(db, extra=1)
    key_file = Path(str(db) + ".key")
    retired = parse_keyring(key_file.read_text())  # a copy of the key file as it was (leaked)
    rotate(capsys, db)
    s = SqliteStore(db)
    s.set_keys(SiteKey(key_file))
    s.append("site", 1, [note(5)])
    s.close()
    seq = forged_append(db, keyring=retired)
    code, out = verify(capsys, db)
    assert code == 1 and first_bad(out) == seq and "retired key 'k1'" in out


def test_the_key_file_missing_or_damaged_cannot_check(db, capsys, tmp_path):
    make_log(db)
    key_file = Path(str(db) + ".key")
    shutil.move(key_file, tmp_path / "away.key")
    code, out = verify(capsys, db)
    assert code == 2 and str(key_file) in out and "missing" in out and len(out.strip().splitlines()) == 1
    key_file.write_text("{not json")
    code, out = verify(capsys, db)
    assert code == 2 and str(key_file) in out and len(out.strip().splitlines()) == 1


# -- PostgreSQL: the terminal role and the owner role -------------------------------------------
class PgLog:
    """A signed log in a fresh schema, its anchor beside the key file, and a terminal role that
    may only SELECT and INSERT (made by the test, dropped at the end)."""

    def __init__(self, tmp_path: Path, monkeypatch):
        import uuid
        from urllib.parse import urlsplit, urlunsplit

        import psycopg

        from tests.core.test_store_contract import PgDatabase, require_pg, with_schema

        base = require_pg()
        monkeypatch.setenv("BEDSIDE_KEY", str(tmp_path / "site.key"))
        self.pg = PgDatabase(base)
        self.owner_url = self.pg.url
        self.role = f"bt_nurse_{uuid.uuid4().hex[:8]}"
        s = self.pg.schema
        try:
            self.pg.admin.execute(f"CREATE ROLE {self.role} LOGIN PASSWORD 'nurse'")
        except psycopg.errors.InsufficientPrivilege:
            self.pg.drop()
            pytest.skip("the test role needs CREATEROLE (.ci/run grants it) to make a terminal role")
        parts = urlsplit(base)
        netloc = f"{self.role}:nurse@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        self.nurse_url = with_schema(urlunsplit(parts._replace(netloc=netloc)), s)
        self.head = tmp_path / "site.key.head"
        self.last = self._seed()
        for sql in (
            f"GRANT USAGE ON SCHEMA {s} TO {self.role}",
            f"GRANT SELECT, INSERT ON {s}.events TO {self.role}",
            f"GRANT SELECT ON {s}.meta TO {self.role}",
        ):
            self.pg.admin.execute(sql)

    def _seed(self) -> int:
        from bedside.tui.dbcli import open_any_store

        store = open_any_store(self.owner_url)
        try:
            store.set_keys(SiteKey(Path(str(self.head)[: -len(".head")])))
            seed_users(store, FakeClock(T0))
            for i in range(4):
                store.append("site", i, [note(i)])
            return store.last_seq()
        finally:
            store.close()

    def sql(self, url: str, *statements: str, params: tuple = ()):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            for stmt in statements:
                conn.execute(stmt, params)

    def forge(self, url: str) -> int:
        """INSERT an admin user.created that follows the head (the chain trigger lets it in)."""
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            seq, head = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            (version,) = conn.execute("SELECT MAX(version) FROM events WHERE stream = 'users'").fetchone()
            ev = NewEvent("users", "user.created", "system", T0, {"username": "mallory", "role": "admin"})
            (row,) = chain_rows("users", version, seq, head, [ev], None)
            conn.execute(f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join(['%s'] * 11)})", row)
            return row[0]

    def close(self) -> None:
        self.pg.admin.execute(f"DROP SCHEMA {self.pg.schema} CASCADE")
        self.pg.admin.execute(f"DROP ROLE IF EXISTS {self.role}")
        self.pg.admin.close()


def test_pg_an_untouched_log_verifies_as_the_terminal_role(pglog, capsys):
    code, out = verify(capsys, pglog.nurse_url)
    assert code == 0 and "INTACT" in out, out
    code, out = verify(capsys, pglog.owner_url)  # the owner could switch the triggers off: said so
    assert code == 1 and "owns the events table" in out


def test_pg_the_terminal_role_cannot_change_the_log_and_its_forgery_is_caught(pglog, capsys):
    import psycopg

    for stmt in (
        "UPDATE events SET data = '{}' WHERE seq = 2",
        "DELETE FROM events WHERE seq = 2",
        "TRUNCATE events",
        "ALTER TABLE events DISABLE TRIGGER ALL",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pglog.sql(pglog.nurse_url, stmt)
    seq = pglog.forge(pglog.nurse_url)
    code, out = verify(capsys, pglog.nurse_url)
    assert code == 1 and first_bad(out) == seq and "carries no MAC" in out


@pytest.mark.parametrize(
    ("attack", "expect"),
    [
        ("UPDATE events SET data = '{{}}' WHERE seq = 3", (3, "altered")),
        ("DELETE FROM events WHERE seq = 4", (4, "missing")),
        ("DELETE FROM events WHERE seq > {last} - 2", ("last-1", "truncated")),
    ],
)
def test_pg_the_owner_role_with_the_triggers_off_is_caught(pglog, capsys, attack, expect):
    pglog.sql(pglog.owner_url, "ALTER TABLE events DISABLE TRIGGER ALL", attack.format(last=pglog.last))
    code, out = verify(capsys, pglog.nurse_url)
    seq = pglog.last - 1 if expect[0] == "last-1" else expect[0]
    assert code == 1 and first_bad(out) == seq and expect[1] in out, out
    assert "events_no_delete (it refuses DELETE on events) is disabled" in out
    pglog.sql(pglog.owner_url, "ALTER TABLE events ENABLE TRIGGER ALL")
    code, out = verify(capsys, pglog.nurse_url)
    assert code == 1 and first_bad(out) == seq and "disabled" not in out


def test_pg_a_role_that_may_delete_is_reported(pglog, capsys):
    pglog.sql(pglog.owner_url, f"GRANT DELETE ON events TO {pglog.role}")
    code, out = verify(capsys, pglog.nurse_url)
    assert code == 1 and f"the role {pglog.role} may DELETE" in out


def test_pg_a_deleted_anchor_is_caught(pglog, capsys):
    pglog.head.unlink()
    code, out = verify(capsys, pglog.nurse_url)
    assert code == 1 and first_bad(out) == pglog.last + 1 and "missing" in out

"""``bedside users unlock`` / ``bedside users list``, run as a user would run them."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from datetime import UTC, datetime

from bedside.core import auth
from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.keyring import write_keyring
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bedside.tui.cli", *args], capture_output=True, text=True)


def locked_db(tmp_path):
    """A demo database whose only admin (adam) is locked, as of now (the command's real clock)."""
    db = tmp_path / "w.db"
    store = SqliteStore(db)
    clock = FakeClock(datetime.now(UTC))
    seed(store, clock)
    write_keyring(tmp_path / "w.db.key", DEMO_KEY.keyring())  # the site's key file: the demo's key
    ledger = Ledger(store, clock, DEMO_KEY)
    for _ in range(auth.MAX_FAILED_ATTEMPTS):
        ledger.sign_in("adam", "0000")
    assert ledger.lock_ends("adam") is not None
    store.close()
    return db


def users_events(db):
    store = SqliteStore(db)
    try:
        return store.read(auth.USERS_STREAM)
    finally:
        store.close()


def test_users_unlock_lifts_the_lock_and_records_the_os_user(tmp_path):
    db = locked_db(tmp_path)
    r = run("users", "list", "--db", str(db))
    assert r.returncode == 0, r.stderr
    (adam,) = [line for line in r.stdout.splitlines() if line.startswith("adam ")]
    assert "locked" in adam and "Admin" in adam
    key_before = (tmp_path / "w.db.key").read_bytes()
    r = run("users", "unlock", "adam", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "Unlocked adam (was locked until" in r.stdout
    last = users_events(db)[-1]
    assert (last.kind, last.data, last.actor) == (
        "user.unlocked",
        {"username": "adam"},
        f"os:{pwd.getpwuid(os.geteuid()).pw_name}",
    )
    assert auth.fold_users(users_events(db))["adam"].is_locked(datetime.now(UTC)) is False
    assert (tmp_path / "w.db.key").read_bytes() == key_before, "no PIN is involved: the site key is left as it was"
    r = run("users", "list", "--db", str(db))
    (adam,) = [line for line in r.stdout.splitlines() if line.startswith("adam ")]
    assert "active" in adam and "locked" not in adam


def test_users_unlock_unknown_name_and_missing_database(tmp_path):
    db = locked_db(tmp_path)
    before = len(users_events(db))
    r = run("users", "unlock", "nobody", "--db", str(db))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == "bedside users: no user 'nobody'" and len(r.stderr.splitlines()) == 1
    assert len(users_events(db)) == before, "nothing recorded"
    r = run("users", "unlock", "adam", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "no database at" in r.stderr
    assert not (tmp_path / "none.db").exists(), "a missing database is not created"
    r = run("users", "unlock")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "NAME" in r.stderr


def test_users_commands_do_not_import_textual(tmp_path):
    db = locked_db(tmp_path)
    code = (
        "import sys\nfrom bedside.tui.cli import main\n"
        f"main(['users', 'list', '--db', {str(db)!r}])\nmain(['users', 'unlock', 'adam', '--db', {str(db)!r}])\n"
        "print('TEXTUAL' if any(m.split('.')[0] in ('textual', 'rich') for m in sys.modules) else 'CLEAN')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "CLEAN"
    assert "Unlocked adam" in r.stdout

"""First run of the installed command on a fresh real database: the first admin, quit, sign in again."""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import version

import pytest

from tests.core.test_store_contract import PgDatabase, require_pg

from .tty import BEDSIDE, child_env

SIGN_IN = re.compile(r"Sign in", re.I)
PATIENTS = "0 of 0 patients"


def create_first_admin(t) -> None:
    t.wait_for(re.compile("first admin", re.I))
    t.send("root", "enter", "Site Admin", "enter", "246810", "enter", "246810", "ctrl+s")
    t.arrive(PATIENTS)
    assert "Site Admin (Admin)" in t.screen()


def sign_in(t, user: str, pin: str, name: str) -> None:
    t.wait_for(SIGN_IN)
    t.wait_for("User name")
    t.send(user, "enter", pin, "enter")
    t.wait_for(f"{name} (")


def first_admin_then_quit(spawn, args, env) -> None:
    """A new database's first run: the first admin made, then the app quit cleanly."""
    t = spawn(args, env)
    create_first_admin(t)
    assert t.quit() == 0
    t.assert_no_traceback()


def first_run_then_sign_in(spawn, args, env) -> None:
    first_admin_then_quit(spawn, args, env)

    t2 = spawn(args, env)
    t2.wait_for(SIGN_IN)
    assert not re.search("first admin", t2.screen(), re.I), t2.dump()
    sign_in(t2, "root", "246810", "Site Admin")
    t2.arrive(PATIENTS)
    assert t2.quit() == 0


def test_first_run_on_the_default_path(spawn, home):
    env = child_env(home)
    first_run_then_sign_in(spawn, [], env)
    db = home / ".local/share/bedside/bedside.db"
    assert db.is_file() and db.stat().st_size > 0
    assert (home / ".local/share/bedside/bedside.db.head").exists()
    out = subprocess.run([str(BEDSIDE), "verify-log"], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "INTACT" in out.stdout and "NOT INTACT" not in out.stdout, out


def test_first_run_with_db_option(spawn, home, tmp_path):
    db = tmp_path / "ward" / "ward.db"
    db.parent.mkdir()
    first_run_then_sign_in(spawn, ["--db", str(db)], child_env(home))
    assert db.is_file()
    assert not (home / ".local/share/bedside/bedside.db").exists(), "--db must not touch the default path"


def test_first_run_with_bedside_db_env(spawn, home, tmp_path):
    db = tmp_path / "env.db"
    first_run_then_sign_in(spawn, [], child_env(home, BEDSIDE_DB=str(db)))
    assert db.is_file()
    assert not (home / ".local/share/bedside/bedside.db").exists(), "$BEDSIDE_DB must not touch the default path"


def test_version_is_the_package_version(home):
    out = subprocess.run([str(BEDSIDE), "--version"], env=child_env(home), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out
    assert out.stdout.strip() == f"bedside {version('bedside')}"
    assert "Traceback" not in out.stderr


@pytest.fixture
def pg_url():
    d = PgDatabase(require_pg())
    yield d.url
    d.drop()


def test_first_run_on_postgresql(spawn, home, pg_url):
    first_run_then_sign_in(spawn, ["--db", pg_url], child_env(home))
    assert not (home / ".local/share/bedside/bedside.db").exists()
    out = subprocess.run(
        [str(BEDSIDE), "verify-log", "--db", pg_url], env=child_env(home), capture_output=True, text=True, timeout=30
    )
    # The log itself verifies (every hash, MAC and the anchor); the one problem is that this role
    # owns the table and so could switch the triggers off (terminals must use a role that may only
    # SELECT and INSERT: tests/core/test_tamper.py checks that one is INTACT).
    problems = [line for line in out.stdout.splitlines() if "problem:" in line]
    assert out.returncode == 1 and len(problems) == 1 and "owns the events table" in problems[0], out

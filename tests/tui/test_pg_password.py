"""A PostgreSQL password never has to be on the command line (issue 14): Bedside hands the URL to
libpq (through psycopg) as it is, so a URL without a password takes it from ``$PGPASSFILE`` or
``~/.pgpass``, and a bare ``postgresql://`` takes host, port, user, database and password from
the ``PG*`` variables. Needs ``BEDSIDE_TEST_PG`` (a server that asks for a password over TCP, as
the one ``.ci/run`` starts); skipped without it, and a failure under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.core.test_store_contract import PgDatabase, ev, require_pg

BEDSIDE = Path(sys.executable).parent / "bedside"


@pytest.fixture
def pg(monkeypatch):
    url = require_pg()
    parts = urlsplit(url)
    if not parts.password:
        pytest.skip("BEDSIDE_TEST_PG names no password: nothing to take off the command line")
    for var in [v for v in os.environ if v.startswith("PG")]:
        monkeypatch.delenv(var)  # only what each test sets
    db = PgDatabase(url)
    yield db, parts
    db.drop()


def _pgpass(path: Path, parts) -> Path:
    path.write_text(
        f"{parts.hostname}:{parts.port or 5432}:{parts.path.lstrip('/')}:{unquote(parts.username)}:{unquote(parts.password)}\n"
    )
    path.chmod(0o600)  # libpq ignores a password file others can read
    return path


def _no_password_url(db, parts) -> str:
    return f"postgresql://{parts.username}@{parts.hostname}:{parts.port or 5432}{parts.path}?options=-csearch_path%3D{db.schema}"


def test_password_from_pgpassfile(pg, tmp_path, monkeypatch):
    from bedside.core.pgstore import PgStore
    from bedside.core.store import StoreError

    db, parts = pg
    url = _no_password_url(db, parts)
    assert urlsplit(url).password is None
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "empty"))
    (tmp_path / "empty").write_text("")
    with pytest.raises(StoreError):  # the server does ask for a password: the file is what answers
        PgStore(url, connect_timeout=3).close()
    monkeypatch.setenv("PGPASSFILE", str(_pgpass(tmp_path / "pgpass", parts)))
    store = PgStore(url, connect_timeout=3)
    try:
        store.append("s", 0, [ev("s", 1)])
        assert [e.data["n"] for e in store.read("s")] == [1]
    finally:
        store.close()


def test_everything_from_pg_environment_variables(pg, monkeypatch):
    from bedside.core.pgstore import PgStore

    db, parts = pg
    monkeypatch.setenv("PGHOST", parts.hostname)
    monkeypatch.setenv("PGPORT", str(parts.port or 5432))
    monkeypatch.setenv("PGUSER", unquote(parts.username))
    monkeypatch.setenv("PGDATABASE", parts.path.lstrip("/"))
    monkeypatch.setenv("PGPASSWORD", unquote(parts.password))
    monkeypatch.setenv("PGOPTIONS", f"-csearch_path={db.schema}")
    store = PgStore("postgresql://", connect_timeout=3)
    try:
        assert store.schema == db.schema and store.last_seq() == 0
    finally:
        store.close()


def test_installed_command_reads_home_pgpass(pg, tmp_path):
    if not BEDSIDE.exists():
        pytest.skip("the bedside command is not installed in this environment")
    db, parts = pg
    home = tmp_path / "home"
    home.mkdir()
    _pgpass(home / ".pgpass", parts)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "BEDSIDE_DB"))}
    env["HOME"] = str(home)
    url = _no_password_url(db, parts)
    r = subprocess.run([str(BEDSIDE), "db", "migrate", "--db", url], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout and urlsplit(url).password is None
    # A second command through the whole ledger (verify-log as the owner role always names the
    # owner's rights since issue 18, so a plain reader is used here)
    r = subprocess.run([str(BEDSIDE), "users", "list", "--db", url], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr

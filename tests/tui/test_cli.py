from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import apsw

from bedside.core.auth import SiteKey
from bedside.core.events import NewEvent
from bedside.core.store import SqliteStore


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bedside.tui.cli", *args], capture_output=True, text=True)


def test_verify_log_says_intact_then_not(tmp_path):
    db = tmp_path / "w.db"
    s = SqliteStore(db)
    s.set_keys(SiteKey(Path(str(db) + ".key")))  # as the Ledger does: every event signed
    s.append("a", 0, [NewEvent("a", "k", "u", datetime.now(UTC), {"v": 1}), NewEvent("a", "k", "u", datetime.now(UTC), {"v": 2})])
    s.close()
    r = run("verify-log", "--db", str(db))
    assert r.returncode == 0 and "INTACT: 2 events" in r.stdout
    conn = apsw.Connection(str(db))
    conn.execute("DROP TRIGGER events_no_update; UPDATE events SET data='{\"v\":3}' WHERE seq=1")
    conn.close()
    r = run("verify-log", "--db", str(db))
    assert r.returncode == 1 and "NOT INTACT" in r.stdout and "altered" in r.stdout


def test_bedside_db_env_is_used(tmp_path):
    db = tmp_path / "env.db"
    SqliteStore(db).close()
    SiteKey(Path(str(db) + ".key")).keyring()  # the key file, made as on first use
    r = subprocess.run(
        [sys.executable, "-m", "bedside.tui.cli", "verify-log"],
        capture_output=True,
        text=True,
        env={"BEDSIDE_DB": str(db), "PATH": "/usr/bin"},
    )
    assert r.returncode == 0 and str(db) in r.stdout


def test_print_record_and_export_fhir_from_the_command_line(tmp_path):
    import json

    from bedside.core.clock import FakeClock
    from bedside.core.demo import seed

    db = tmp_path / "w.db"
    s = SqliteStore(db)
    seed(s, FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)))
    s.close()
    (tmp_path / "w.db.key").write_text("6465" * 16)
    r = run("print", "record", "mrn-100590", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "NAKAMURA, Ren" in r.stdout and all(len(line) <= 80 for line in r.stdout.splitlines())
    r = run("export", "fhir", "MRN-100590", "--db", str(db))
    assert r.returncode == 0, r.stderr
    bundle = json.loads(r.stdout)
    assert bundle["resourceType"] == "Bundle"
    assert any(e["resource"]["resourceType"] == "MedicationAdministration" for e in bundle["entry"])
    r = run("print", "record", "NOPE", "--db", str(db))
    assert r.returncode == 1 and "no patient" in r.stderr


def _run_app_with(monkeypatch, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, list[dict]]:
    """``bedside`` with the app's run() replaced by a recorder: the keyword arguments it got."""
    from bedside.tui import cli
    from bedside.tui.app import BedsideApp

    calls: list[dict] = []
    monkeypatch.setattr(BedsideApp, "run", lambda self, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("BEDSIDE_MOUSE", raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    return cli.main(argv), calls


def test_no_mouse_runs_the_app_without_mouse_capture(monkeypatch):
    assert _run_app_with(monkeypatch, ["--demo", "--no-mouse"]) == (0, [{"mouse": False}])
    assert _run_app_with(monkeypatch, ["--demo"]) == (0, [{"mouse": True}])
    for value in ("0", "off", "No", "false"):
        assert _run_app_with(monkeypatch, ["--demo"], {"BEDSIDE_MOUSE": value}) == (0, [{"mouse": False}]), value
    assert _run_app_with(monkeypatch, ["--demo"], {"BEDSIDE_MOUSE": "1"}) == (0, [{"mouse": True}])


def test_a_bad_bedside_mouse_is_refused_in_one_line(monkeypatch, capsys):
    assert _run_app_with(monkeypatch, ["--demo"], {"BEDSIDE_MOUSE": "sometimes"}) == (2, [])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "BEDSIDE_MOUSE" in err and "'sometimes'" in err


def test_help_says_how_to_turn_the_mouse_off():
    r = run("--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "--no-mouse" in text and "BEDSIDE_MOUSE=0" in text and "selection and copy" in text

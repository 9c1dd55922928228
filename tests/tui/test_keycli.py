"""``bedside key rotate``, ``bedside anchor reset``, ``verify-log``'s exits and the global ``--anchor``
(``$BEDSIDE_ANCHOR``) that every store of the command keeps (tui/keycli.py, tui/cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bedside.core.keyring import parse_keyring
from bedside.tui.cli import main
from bedside.tui.dbcli import EXTRA_ANCHORS, set_extra_anchors
from tests.core.test_tamper import make_log, raw, rows


@pytest.fixture
def db(tmp_path):
    set_extra_anchors([])
    yield tmp_path / "ward.db"
    set_extra_anchors([])


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_anchor_reset_makes_a_deleted_anchor_again_after_a_full_check(db, capsys):
    last = make_log(db)
    head = Path(str(db) + ".head")
    head.unlink()
    assert run(capsys, "verify-log", "--db", str(db))[0] == 1
    code, out = run(capsys, "anchor", "reset", "--db", str(db))
    assert code == 0, out
    assert f"at event {last}" in out and str(head) in out
    assert json.loads(head.read_text())["seq"] == last + 1, "then the reset's own record (log.anchors_reset) moved it on"
    code, out = run(capsys, "verify-log", "--db", str(db))
    assert code == 0 and "INTACT" in out


def test_anchor_reset_refuses_when_an_event_does_not_verify(db, capsys):
    make_log(db)
    head = Path(str(db) + ".head")
    before = head.read_text()
    raw(db, "DELETE FROM events WHERE seq > 5")  # truncated: only the anchor tells, and it is kept
    raw(db, "UPDATE events SET data = '{}' WHERE seq = 2")
    code, out = run(capsys, "anchor", "reset", "--db", str(db))
    assert code == 1 and "NOT RESET" in out and "First bad event: 2." in out
    assert head.read_text() == before


def test_anchor_reset_refuses_with_the_protections_gone(db, capsys):
    make_log(db)
    import apsw

    conn = apsw.Connection(str(db))
    conn.execute("DROP TRIGGER events_no_update")
    conn.close()
    code, out = run(capsys, "anchor", "reset", "--db", str(db))
    assert code == 1 and "events_no_update" in out


def test_a_global_anchor_is_made_by_a_reset_then_kept_by_every_write(db, capsys, tmp_path):
    far = tmp_path / "far.head"
    make_log(db)
    code, out = run(capsys, "--anchor", str(far), "anchor", "reset", "--db", str(db))
    assert code == 0 and str(far) in out and far.exists()
    code, out = run(capsys, "--anchor", str(far), "users", "unlock", "nina", "--db", str(db))
    assert code == 0, out
    assert json.loads(far.read_text())["seq"] == rows(db)[-1][0]  # moved with the write
    code, out = run(capsys, "--anchor", str(far), "verify-log", "--db", str(db))
    assert code == 0 and "INTACT" in out


def test_bedside_anchor_names_several_anchors(db, capsys, tmp_path, monkeypatch):
    a, b = tmp_path / "a.head", tmp_path / "b.head"
    make_log(db)
    monkeypatch.setenv("BEDSIDE_ANCHOR", f"{a}::{b}")
    code, out = run(capsys, "verify-log", "--db", str(db))
    assert code == 1 and str(a) in out and str(b) in out and "missing" in out
    assert [a, b] == EXTRA_ANCHORS


def test_the_demo_keeps_no_outside_anchor(monkeypatch, tmp_path):
    from bedside.tui.cli import _set_anchors, build_parser

    monkeypatch.setenv("BEDSIDE_ANCHOR", str(tmp_path / "real.head"))
    _set_anchors(build_parser().parse_args(["--demo"]))
    assert EXTRA_ANCHORS == []
    _set_anchors(build_parser().parse_args(["verify-log"]))
    assert [tmp_path / "real.head"] == EXTRA_ANCHORS
    set_extra_anchors([])


def test_key_rotate_adds_a_key_and_keeps_the_file_private(db, capsys):
    make_log(db)
    key_file = Path(str(db) + ".key")
    before = parse_keyring(key_file.read_text())
    code, out = run(capsys, "key", "rotate", "--db", str(db))
    assert code == 0 and "k2" in out and "os:" in out
    after = parse_keyring(key_file.read_text())
    assert [k.id for k in after.keys] == ["k1", "k2"] and after.site_key == before.site_key  # PINs still verify
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert run(capsys, "verify-log", "--db", str(db))[0] == 0


def test_cannot_check_without_a_database_or_a_key_file(db, capsys, tmp_path):
    code, out = run(capsys, "verify-log", "--db", str(tmp_path / "none.db"))
    assert code == 2 and "no database" in out
    code, out = run(capsys, "key", "rotate", "--db", str(tmp_path / "none.db"))
    assert code == 2 and "no database" in out
    make_log(db)
    Path(str(db) + ".key").unlink()
    for argv in (["verify-log"], ["key", "rotate"], ["anchor", "reset"]):
        code, out = run(capsys, *argv, "--db", str(db))
        assert code == 2 and f"{db}.key" in out and "missing" in out, argv
    assert not Path(str(db) + ".key").exists()  # never made again by a check


def test_role_is_for_postgresql(db, capsys):
    make_log(db)
    code, out = run(capsys, "verify-log", "--db", str(db), "--role", "nurse")
    assert code == 2 and "PostgreSQL" in out


def test_help_lists_the_new_commands():
    r = subprocess.run([sys.executable, "-m", "bedside.tui.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for word in ("verify-log", "key", "anchor", "--anchor"):
        assert word in r.stdout

"""``bedside verify-log --incremental`` and the ward checkpoint through the installed command on a
real database (issue 19): a first check reads everything and keeps a verified checkpoint
(``<db>.verified``, 0600); after more sign-ins the incremental check starts from it and still finds
a forged event appended after it; the app keeps its own derived checkpoint (``<db>.checkpoint``,
0600) and a spoilt one is rebuilt without a word to the user; ``--full`` reads from the first."""

from __future__ import annotations

import re

from .test_first_run import PATIENTS, first_admin_then_quit, sign_in
from .test_log_integrity import bedside, forge_admin
from .tty import child_env


def _mode(path) -> str:
    return oct(path.stat().st_mode & 0o777)


def _sign_in_and_out(spawn, db, env) -> None:
    t = spawn(["--db", str(db)], env)
    sign_in(t, "root", "246810", "Site Admin")
    t.arrive(PATIENTS)
    assert t.quit() == 0


def test_incremental_verify_starts_from_its_checkpoint_and_still_finds_a_new_forgery(spawn, home, tmp_path):
    db = tmp_path / "ward.db"
    env = child_env(home)
    first_admin_then_quit(spawn, ["--db", str(db)], env)

    first = bedside(env, "verify-log", "--incremental", "--db", str(db))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Checkpoint not used" in first.stdout and "Full check: every event, from the first." in first.stdout, first.stdout
    kept = re.search(r"Checkpoint: event (\d+) verified", first.stdout)
    assert kept, first.stdout
    verified = tmp_path / "ward.db.verified"
    assert verified.exists() and _mode(verified) == "0o600"

    for _ in range(2):
        _sign_in_and_out(spawn, db, env)
    again = bedside(env, "verify-log", "--incremental", "--db", str(db))
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Incremental check: from the verified checkpoint at event {kept.group(1)}" in again.stdout, again.stdout
    moved = re.search(r"Checkpoint: event (\d+) verified", again.stdout)
    assert moved and int(moved.group(1)) > int(kept.group(1)), again.stdout

    forged = forge_admin(db)
    bad = bedside(env, "verify-log", "--incremental", "--db", str(db))
    assert bad.returncode == 1 and f"First bad event: {forged}." in bad.stdout, bad.stdout
    assert "Checkpoint: event" not in bad.stdout, "no checkpoint is kept after a NOT INTACT result"
    full = bedside(env, "verify-log", "--full", "--db", str(db))
    assert full.returncode == 1 and f"First bad event: {forged}." in full.stdout, full.stdout


def test_the_app_keeps_a_derived_ward_checkpoint_and_rebuilds_a_spoilt_one(spawn, home, tmp_path):
    db = tmp_path / "ward.db"
    env = child_env(home)
    first_admin_then_quit(spawn, ["--db", str(db)], env)
    _sign_in_and_out(spawn, db, env)

    checkpoint = tmp_path / "ward.db.checkpoint"
    assert checkpoint.exists(), sorted(p.name for p in tmp_path.iterdir())
    assert _mode(checkpoint) == "0o600"
    checkpoint.write_text('{"spoilt": true')
    t = spawn(["--db", str(db)], env)
    sign_in(t, "root", "246810", "Site Admin")
    t.arrive(PATIENTS)
    t.assert_no_traceback()
    assert t.quit() == 0
    assert checkpoint.read_text() != '{"spoilt": true', "the spoilt checkpoint is rebuilt from the log"
    ok = bedside(env, "verify-log", "--db", str(db))
    assert ok.returncode == 0, ok.stdout

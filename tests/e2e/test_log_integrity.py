"""The authenticated log through the installed command on a real database (issue 18): a log made by
the app verifies with every MAC; an insider who writes the database file but lacks the key is found
(the first bad event named); a key rotation keeps the app and the check working; a deleted anchor
is reported and not made again until `bedside anchor reset`."""

from __future__ import annotations

import json
import subprocess

import apsw

from .test_first_run import PATIENTS, first_admin_then_quit, sign_in
from .tty import BEDSIDE, child_env


def bedside(env, *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([str(BEDSIDE), *args], env=env, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def forge_admin(db) -> int:
    """Append a `user.created` admin with a correct hash and no MAC, as a shell on the file could."""
    from bedside.core.events import NewEvent, parse_utc
    from bedside.core.store import chain_rows

    conn = apsw.Connection(str(db))
    seq, head = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    (version,) = conn.execute("SELECT MAX(version) FROM events WHERE stream = 'users'").fetchone()
    (at,) = conn.execute("SELECT at_utc FROM events WHERE seq = ?", (seq,)).fetchone()
    data = {"username": "mallory", "full_name": "Mallory", "role": "admin", "pin_hash": "x"}
    (row,) = chain_rows("users", version, seq, head, [NewEvent("users", "user.created", "system", parse_utc(at), data)])
    cols = "seq, stream, version, kind, actor, at_utc, data, prev_hash, hash, key_id, mac"
    conn.execute(f"INSERT INTO events ({cols}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
    conn.close()
    return seq + 1


def test_the_installed_command_checks_macs_anchors_and_rotates_the_key(spawn, home, tmp_path):
    db = tmp_path / "ward.db"
    env = child_env(home)
    first_admin_then_quit(spawn, ["--db", str(db)], env)

    ok = bedside(env, "verify-log", "--db", str(db))
    assert ok.returncode == 0 and "every event's MAC" in ok.stdout, ok.stdout
    key = json.loads((tmp_path / "ward.db.key").read_text())
    assert [k["id"] for k in key["log_keys"]] == ["k1"] and oct((tmp_path / "ward.db.key").stat().st_mode & 0o777) == "0o600"

    rotated = bedside(env, "key", "rotate", "--db", str(db))
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    t2 = spawn(["--db", str(db)], env)  # a new sign-in, signed with k2
    sign_in(t2, "root", "246810", "Site Admin")
    t2.arrive(PATIENTS)
    assert t2.quit() == 0
    after = bedside(env, "verify-log", "--db", str(db))
    assert after.returncode == 0, after.stdout

    forged = forge_admin(db)
    bad = bedside(env, "verify-log", "--db", str(db))
    assert bad.returncode == 1 and f"First bad event: {forged}." in bad.stdout, bad.stdout

    (tmp_path / "ward.db.head").unlink()
    gone = bedside(env, "verify-log", "--db", str(db))
    assert gone.returncode == 1 and "anchor" in gone.stdout and "missing" in gone.stdout, gone.stdout
    assert not (tmp_path / "ward.db.head").exists(), "a missing anchor is never made again silently"
    refused = bedside(env, "anchor", "reset", "--db", str(db))
    assert refused.returncode == 1, "a log with a forged event is not re-anchored"
    assert not (tmp_path / "ward.db.head").exists()

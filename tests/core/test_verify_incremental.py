"""``bedside verify-log --incremental`` (issue 19): a check that finds the log INTACT keeps a verified,
authenticated checkpoint (``<db>.verified``); the incremental check starts after it, reading only the
events after it, and gives the verdict the full check gives on everything it can see. A checkpoint
that is missing, damaged, forged, of another log, or whose event was rewritten or cut off is named
and the full check runs instead. No checkpoint is written after a NOT INTACT result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core.auth import SiteKey
from bedside.core.keyring import new_keyring, parse_keyring
from bedside.core.logcheck import (
    CheckpointRefused,
    VerifiedCheckpoint,
    checkpoint_of,
    read_verified,
    verify_log,
    write_verified,
)
from bedside.core.store import SqliteStore
from bedside.tui.dbcli import set_extra_anchors
from bedside.tui.keycli import check_from_checkpoint, load_keyring, verified_path
from tests.core.test_tamper import first_bad, forged_append, make_log, note, raw, rotate, rows, verify

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    set_extra_anchors([])
    return tmp_path / "ward.db"


def append_notes(db: Path, n: int) -> int:
    """``n`` more settings, appended as a terminal does (signed, anchors moved); the last seq."""
    s = SqliteStore(db)
    try:
        s.set_keys(SiteKey(Path(str(db) + ".key")))
        version = max((r[2] for r in rows(db) if r[1] == "site"), default=0)
        for i in range(n):
            s.append("site", version + i, [note(100 + version + i)])
        return s.last_seq()
    finally:
        s.close()


def checkpoint_at(db: Path, k: int) -> None:
    """A genuine checkpoint at event ``k``, as a check that read the log up to there wrote it."""
    keyring = load_keyring(Path(str(db) + ".key"))
    s = SqliteStore(db)
    try:
        report = verify_log(islice(s.iter_events(), k), keyring, (), (), anchor_expected=False)
    finally:
        s.close()
    write_verified(verified_path(db), checkpoint_of(report, NOW, "os:test", "verify-log --full", "", ()), keyring)


def both(db: Path):
    """(incremental report, what it said), (full report): the same log checked both ways."""
    keyring = load_keyring(Path(str(db) + ".key"))
    s = SqliteStore(db)
    try:
        inc, said, _ = check_from_checkpoint(s, keyring, verified_path(db), incremental=True)
        full, _, _ = check_from_checkpoint(s, keyring, verified_path(db), incremental=False)
        return (inc, said), full
    finally:
        s.close()


# -- the same verdict -------------------------------------------------------------------------------
def test_incremental_equals_full_on_an_intact_log(db, capsys):
    k = make_log(db)
    code, out = verify(capsys, db)  # the default: a full check, which keeps a checkpoint
    assert code == 0 and "Full check: every event, from the first." in out
    assert f"Checkpoint: event {k} verified" in out and verified_path(db).exists()
    last = append_notes(db, 5)
    code, out = verify(capsys, db, "--incremental")
    assert code == 0, out
    assert f"Incremental check: from the verified checkpoint at event {k}" in out
    assert f"INTACT: events {k + 1}–{last} checked after the checkpoint at {k} (verified " in out
    assert "hash chain, every event's MAC and anchor verified." in out
    assert f"events 1–{k} were verified before and not read again" in out
    (inc, _), full = both(db)
    assert inc.ok and full.ok and inc.since == last and full.since == 0  # the incremental one wrote a new checkpoint
    checkpoint_at(db, k)
    (inc, _), full = both(db)
    assert (inc.ok, inc.last, inc.streams, inc.authenticated, inc.anchored) == (True, last, full.streams, True, True)
    assert inc.position == full.position, "the resumed checker ends where the full one does"
    assert inc.events == last - k and full.events == last


def test_no_event_after_the_checkpoint_is_intact_and_says_so(db, capsys):
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    code, out = verify(capsys, db, "--incremental")
    assert code == 0 and f"INTACT: no event after the checkpoint at {k} (verified " in out and "by os:" in out


def test_the_checkpoint_is_owner_only_and_written_whole(db, capsys):
    make_log(db)
    old = os.umask(0o022)
    try:
        assert verify(capsys, db)[0] == 0
    finally:
        os.umask(old)
    path = verified_path(db)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in db.parent.iterdir() if ".verified" in p.name] == [path.name], "no temporary file left"
    head = json.loads(path.read_text().split("\n", 1)[0])
    assert head["format"] == "bedside-verified/1" and head["key_id"] == "k1"


# -- tampering after the checkpoint is found incrementally ------------------------------------------
def test_a_forged_event_after_the_checkpoint_is_found(db, capsys):
    make_log(db)
    assert verify(capsys, db)[0] == 0
    k = append_notes(db, 2)
    assert verify(capsys, db, "--incremental")[0] == 0  # checkpoint at k
    before = verified_path(db).read_bytes()
    seq = forged_append(db)
    code, out = verify(capsys, db, "--incremental")
    assert code == 1 and first_bad(out) == seq and "carries no MAC" in out, out
    assert f"NOT INTACT: 1 problem(s) in events {k + 1}–{seq} (after the checkpoint at {k}). First bad event: {seq}." in out
    assert "Checkpoint: none written (the log is not intact)" in out
    assert verified_path(db).read_bytes() == before, "never a checkpoint after NOT INTACT"


def test_an_event_altered_after_the_checkpoint_is_found(db, capsys):
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    append_notes(db, 3)
    raw(db, f"UPDATE events SET data = '{{}}' WHERE seq = {k + 2}")
    code, out = verify(capsys, db, "--incremental")
    assert code == 1 and first_bad(out) == k + 2 and "altered" in out, out


def test_an_event_signed_with_the_retired_key_after_the_checkpoint_is_found(db, capsys):
    make_log(db, extra=1)
    retired = parse_keyring(Path(str(db) + ".key").read_text())
    rotate(capsys, db)
    append_notes(db, 1)  # under k2
    assert verify(capsys, db)[0] == 0  # the checkpoint knows the log has moved on to k2
    seq = forged_append(db, keyring=retired)
    code, out = verify(capsys, db, "--incremental")
    assert code == 1 and first_bad(out) == seq and "retired key 'k1'" in out, out


def test_deleting_the_events_after_the_checkpoint_is_found_by_the_anchor(db, capsys):
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    last = append_notes(db, 3)
    raw(db, f"DELETE FROM events WHERE seq > {k + 1}")
    code, out = verify(capsys, db, "--incremental")
    assert code == 1 and "Incremental check" in out and first_bad(out) == k + 2 and f"records event {last}" in out, out


# -- a checkpoint that does not hold: said, and the full check runs ---------------------------------
def test_a_checkpoint_whose_event_was_rewritten_is_refused(db, capsys):
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    raw(db, f"UPDATE events SET hash = '{'0' * 64}' WHERE seq = {k}")
    code, out = verify(capsys, db, "--incremental")
    assert f"event {k} is not the one it verified (its hash differs): the log was rewritten" in out, out
    assert "A full check was run instead." in out and "Full check: every event, from the first." in out
    assert code == 1 and first_bad(out) == k


def test_a_checkpoint_altered_in_place_is_refused(db, capsys):
    """Its hash column kept, its content changed: the event at the checkpoint is checked again."""
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    raw(db, f"UPDATE events SET data = '{{}}' WHERE seq = {k}")
    code, out = verify(capsys, db, "--incremental")
    assert "Checkpoint not used: event" in out and "was altered" in out and "A full check was run instead." in out
    assert code == 1 and first_bad(out) == k


def test_a_checkpoint_beyond_the_end_of_a_truncated_log_is_refused(db, capsys):
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    raw(db, f"DELETE FROM events WHERE seq > {k - 2}")
    code, out = verify(capsys, db, "--incremental")
    assert f"it records event {k}, which the log does not hold: the log was cut short" in out, out
    assert "A full check was run instead." in out
    assert code == 1 and "truncated" in out and first_bad(out) == k - 1


def test_a_checkpoint_of_another_log_under_the_same_key_is_refused(db, capsys, tmp_path):
    other = tmp_path / "other" / "ward.db"
    other.parent.mkdir()
    make_log(db)
    shutil.copy(Path(str(db) + ".key"), Path(str(other) + ".key"))
    s = SqliteStore(other)  # another log under the same site key: other events from the first
    s.set_keys(SiteKey(Path(str(other) + ".key")))
    for i in range(12):
        s.append("site", i, [note(50 + i)])
    s.close()
    assert verify(capsys, db)[0] == 0
    shutil.copy(verified_path(db), verified_path(other))
    code, out = verify(capsys, other, "--incremental")
    assert code == 0 and "is not the one it verified" in out and "another log" in out, out
    assert "Full check" in out and "Checkpoint: event" in out  # the full check found it intact: its own checkpoint now
    code, out = verify(capsys, other, "--incremental")
    assert code == 0 and "Incremental check" in out


def test_a_forged_checkpoint_is_refused(db, capsys):
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    path = verified_path(db)
    head, body = path.read_text().split("\n", 1)
    path.write_text(head + "\n" + body.replace(f'"seq":{k},', f'"seq":{k - 1},'))  # its MAC kept
    code, out = verify(capsys, db, "--incremental")
    assert code == 0 and "is not authentic: its MAC does not verify" in out and "A full check was run instead." in out, out
    keyring = load_keyring(Path(str(db) + ".key"))
    cp = read_verified(path, keyring)  # the full check wrote a good one again
    write_verified(path, cp, new_keyring())  # the same checkpoint under a key the site does not hold
    with pytest.raises(CheckpointRefused, match="not authentic"):
        read_verified(path, keyring)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "damaged"),
        ("{not json\n{}", "damaged"),
        ('{"format": "bedside-verified/9", "key_id": "k1", "mac": "00"}\n{}', "unknown format"),
        ('{"format": "bedside-verified/1"}\n{}', "not authentic"),
    ],
)
def test_a_damaged_checkpoint_is_refused(db, capsys, text, why):
    make_log(db)
    verified_path(db).write_text(text)
    code, out = verify(capsys, db, "--incremental")
    assert code == 0 and why in out and "A full check was run instead." in out, out


def test_an_authentic_checkpoint_the_checker_cannot_take_is_damaged(db):
    make_log(db)
    keyring = load_keyring(Path(str(db) + ".key"))
    bad = VerifiedCheckpoint(3, "ab" * 32, {"prev_seq": 2}, "2026-12-02T06:00:00+00:00", "os:x", "verify-log", "")
    write_verified(verified_path(db), bad, keyring)
    with pytest.raises(CheckpointRefused, match="damaged"):
        read_verified(verified_path(db), keyring)


def test_a_missing_checkpoint_is_said_and_the_full_check_runs(db, capsys):
    make_log(db)
    code, out = verify(capsys, db, "--incremental")
    assert code == 0 and f"there is no verified checkpoint yet ({verified_path(db)})" in out
    assert "Full check" in out and verified_path(db).exists()


# -- no checkpoint after NOT INTACT -------------------------------------------------------------------
@pytest.mark.parametrize("mode", [(), ("--incremental",), ("--full",)])
def test_no_checkpoint_is_written_after_not_intact(db, capsys, mode):
    make_log(db)
    raw(db, "UPDATE events SET data = '{}' WHERE seq = 3")
    code, out = verify(capsys, db, *mode)
    assert code == 1 and "Checkpoint: none written" in out
    assert not verified_path(db).exists()


def test_no_checkpoint_is_written_with_the_protections_gone(db, capsys):
    import apsw

    make_log(db)
    conn = apsw.Connection(str(db))
    conn.execute("DROP TRIGGER events_no_update")
    conn.close()
    assert verify(capsys, db)[0] == 1 and not verified_path(db).exists()
    with pytest.raises(ValueError):
        checkpoint_of(both(db)[1], NOW, "os:x", "verify-log --full", "", ())


def test_an_old_row_edited_in_place_is_left_to_the_full_check(db, capsys):
    """What the incremental check does not do, and says: the events up to the checkpoint are not
    read again (the full check, and the app as it reads them, find such an edit)."""
    k = make_log(db)
    assert verify(capsys, db)[0] == 0
    raw(db, "UPDATE events SET data = '{}' WHERE seq = 2")
    code, out = verify(capsys, db, "--incremental")
    assert code == 0 and f"events 1–{k} were verified before and not read again" in out and "--full" in out
    code, out = verify(capsys, db, "--full")
    assert code == 1 and first_bad(out) == 2


# -- any split, any tampering after it ----------------------------------------------------------------
@pytest.fixture(scope="module")
def base_log(tmp_path_factory):
    set_extra_anchors([])
    db = tmp_path_factory.mktemp("base") / "ward.db"
    make_log(db, extra=8)
    return db


TAMPER = ("edit", "delete", "forge", "truncate", "swap", "none")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), how=st.sampled_from(TAMPER))
def test_incremental_gives_the_full_checks_verdict_for_any_split(base_log, data, how):
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "ward.db"
        for suffix in ("", ".key", ".head"):
            shutil.copy(str(base_log) + suffix, str(db) + suffix)
        n = len(rows(db))
        k = data.draw(st.integers(1, n - 1), label="checkpoint at")
        j = data.draw(st.integers(k + 1, n), label="tampered event")
        checkpoint_at(db, k)
        if how == "edit":
            raw(db, f"UPDATE events SET data = '{{}}' WHERE seq = {j}")
        elif how == "delete":
            raw(db, f"DELETE FROM events WHERE seq = {j}")
        elif how == "forge":
            forged_append(db)
        elif how == "truncate":
            raw(db, f"DELETE FROM events WHERE seq >= {j}")
        elif how == "swap" and j < n:
            raw(db, f"UPDATE events SET data = (SELECT data FROM events WHERE seq = {j + 1}) WHERE seq = {j}")
        (inc, said), full = both(db)
        assert "Incremental check" in said, said
        assert (inc.ok, inc.first_bad) == (full.ok, full.first_bad), (how, k, j, inc.problems, full.problems)
        assert inc.ok == (how == "none" or (how == "swap" and j == n))


# -- PostgreSQL: the checkpoint beside the key file -----------------------------------------------------
def test_pg_the_checkpoint_is_kept_beside_the_key_file_and_used(pglog, capsys):
    code, out = verify(capsys, pglog.nurse_url)
    assert code == 0 and "Full check" in out, out
    path = pglog.head.with_name("site.key.verified")
    assert verified_path(pglog.nurse_url) == path and path.exists()
    seq = pglog.forge(pglog.nurse_url)
    code, out = verify(capsys, pglog.nurse_url, "--incremental")
    assert code == 1 and f"after the checkpoint at {pglog.last}" in out and first_bad(out) == seq, out

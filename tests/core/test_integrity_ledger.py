"""The ledger never applies an unauthenticated event (issue 18): a forged user cannot sign in, a
forged dose is not on the timeline, appending goes on after a forgery (on the forged stream too),
and the integrity report stands until an admin has seen every finding."""

from __future__ import annotations

from datetime import UTC, datetime

import apsw
import pytest

from bedside.core import auth
from bedside.core.auth import hash_pin
from bedside.core.commands import Refused
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.events import NewEvent
from bedside.core.integrity import LOG_STREAM, AcknowledgeIntegrityReport
from bedside.core.service import Ledger
from bedside.core.store import _INSERT, SqliteStore, chain_rows, verify_log

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def forge(db, stream: str, kind: str, data: dict, actor: str = "system", mac: str | None = None) -> int:
    """An insider's row at the head of the log: the right seq, version and hash, and no MAC (or a
    made-up one). Returns its seq."""
    conn = apsw.Connection(str(db))
    try:
        head = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        (version,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?", (stream,)).fetchone()
        (row,) = chain_rows(stream, version, head[0], head[1], [NewEvent(stream, kind, actor, T0, data)], keyring=None)
        if mac is not None:
            row = (*row[:9], "k1", mac)
        conn.execute(_INSERT, row)
        return row[0]
    finally:
        conn.close()


def forged_admin(db, mac: str | None = None) -> int:
    pin_hash = hash_pin(DEMO_KEY, "4321")  # the insider even knows the pepper's output for their PIN
    return forge(
        db,
        auth.USERS_STREAM,
        "user.created",
        {"username": "mallory", "full_name": "M", "role": "admin", "pin_hash": pin_hash},
        mac=mac,
    )


@pytest.fixture
def db(tmp_path):
    return tmp_path / "ward.db"


def open_ledger(db, clock) -> Ledger:
    return Ledger(SqliteStore(db), clock, DEMO_KEY)


@pytest.fixture
def seeded(db, clock):
    s = SqliteStore(db)
    seed(s, clock)
    s.close()
    return db


@pytest.mark.parametrize("mac", [None, "ab" * 32])
def test_a_forged_admin_cannot_sign_in_and_is_reported(seeded, clock, mac):
    seq = forged_admin(seeded, mac)
    ledger = open_ledger(seeded, clock)
    assert "mallory" not in ledger.users()
    result = ledger.sign_in("mallory", "4321")
    assert result.user is None
    report = ledger.integrity()
    assert report.warning and report.first_bad == seq
    assert [f.seq for f in report.rejected] == [seq]
    assert "users#" in report.rejected[0].ref and "not auth" in report.rejected[0].text
    assert f"event {seq}" in report.headline()
    assert ledger.last_seq == seq  # read once, not again at every refresh
    # the users stream goes on after it: a real admin's new user is saved at the store's version
    ledger.add_user("adam", "zoe", "Zoe Nurse", "nurse", "5678")
    assert "zoe" in ledger.users() and "mallory" not in ledger.users()
    assert ledger.sign_in("zoe", "5678").user is not None
    assert not verify_log(ledger.store).ok  # verify-log says so too


def test_a_forgery_read_while_running_is_not_applied(seeded, clock):
    ledger = open_ledger(seeded, clock)
    assert not ledger.integrity().warning
    seq = forged_admin(seeded)
    ledger.refresh(force=True)
    assert "mallory" not in ledger.users() and ledger.integrity().first_bad == seq
    assert ledger.sign_in("mallory", "4321").user is None


def in_progress(ledger):
    """The demo patient in treatment and their first dose not given yet."""
    pid = next(p.id for p in ledger.patients() if p.mrn == "MRN-100590")
    dose = next(d for d in ledger.timeline(pid).doses() if d.given_on is None and not d.resolved)
    return pid, dose


def given(dose, actor: str = "nina") -> tuple[str, dict]:
    data = {"cycle": dose.cycle, "day": dose.day, "date": dose.planned.isoformat(), "level_mg_m2": "0.8", "dose_mg": "1.36"}
    return "dose.given", data


def test_a_forged_dose_is_not_on_the_timeline_and_the_same_signed_one_is(seeded, clock):
    ledger = open_ledger(seeded, clock)
    pid, dose = in_progress(ledger)
    stream = f"patient:{pid}"
    kind, data = given(dose)
    seq = forge(seeded, stream, kind, data, actor="nina")
    ledger.refresh(force=True)
    assert ledger.timeline(pid).dose(dose.cycle, dose.day).given_on is None
    assert all(ev.seq != seq for ev in ledger.stream_events(stream))
    assert ledger.integrity().first_bad == seq and ledger.integrity().warning
    # the same event, written by Bedside (signed), is applied: the forgery failed only for its MAC,
    # and the stream takes it at the version after the refused one
    (ev,) = ledger.append(stream, lambda: [NewEvent(stream, kind, "nina", clock.now(), data)])
    assert ev.seq == seq + 1 and ev.version == ledger.version(stream)
    assert ledger.timeline(pid).dose(dose.cycle, dose.day).given_on == dose.planned


def test_a_refused_event_does_not_block_a_command_on_its_stream(seeded, clock):
    ledger = open_ledger(seeded, clock)
    pid, _dose = in_progress(ledger)
    stream = f"patient:{pid}"
    forged = forge(seeded, stream, "intake.measurement", {"height_cm": "250", "weight_kg": "20"}, actor="nina")
    ledger.refresh(force=True)
    tries = []
    real = ledger.store.append
    ledger.store.append = lambda *a: tries.append(a[1]) or real(*a)  # type: ignore[method-assign]
    ev = ledger.record(
        "nina", pid, "measurement", {"height_cm": "170", "weight_kg": "70", "measured_on": ledger.today().isoformat()}
    )
    assert ev.seq == forged + 1 and len(tries) == 1  # saved at once, at the store's version: no lost race
    assert ledger.integrity().first_bad == forged


def test_the_warning_stays_until_an_admin_has_seen_every_finding(seeded, clock):
    seq = forged_admin(seeded)
    ledger = open_ledger(seeded, clock)
    report = ledger.integrity()
    assert report.warning and report.count == 1
    with pytest.raises(Refused, match="only an admin"):
        ledger.execute(AcknowledgeIntegrityReport(report.first_bad, report.count), "nina")
    assert ledger.integrity().warning
    ledger.execute(AcknowledgeIntegrityReport(report.first_bad, report.count), "adam")
    after = ledger.integrity()
    assert not after.warning and after.count == 1 and after.seen.by == "adam" and after.first_bad == seq
    # a new forgery brings it back
    forged_admin(seeded)
    ledger.refresh(force=True)
    assert ledger.integrity().warning and ledger.integrity().count == 2
    # another terminal (a new process) sees the same: the acknowledgement covers one of two
    other = open_ledger(seeded, clock)
    assert other.integrity().warning and other.integrity().seen.findings == 1


def test_a_forged_acknowledgement_does_not_silence_the_warning(seeded, clock):
    forged_admin(seeded)
    forge(seeded, LOG_STREAM, "log.report_seen", {"first_bad": 1, "findings": 99}, actor="adam")
    ledger = open_ledger(seeded, clock)
    assert ledger.integrity().warning and ledger.integrity().seen is None
    assert ledger.integrity().count == 2


def test_a_clean_log_has_no_warning_and_nothing_to_acknowledge(seeded, clock):
    ledger = open_ledger(seeded, clock)
    assert ledger.integrity().count == 0 and not ledger.integrity().warning
    with pytest.raises(Refused, match="nothing to acknowledge"):
        ledger.execute(AcknowledgeIntegrityReport(None, 0), "adam")


def test_removed_triggers_are_reported_at_boot(seeded, clock):
    conn = apsw.Connection(str(seeded))
    conn.execute("DROP TRIGGER events_no_delete")
    conn.close()
    report = open_ledger(seeded, clock).integrity()
    assert report.warning and report.first_bad is None
    assert any("events_no_delete" in p for p in report.problems)
    assert "safeguards" in report.headline()


def test_appends_between_two_of_ours_are_read_in_order(seeded, clock):
    """Another terminal appends to another stream between our read and our append: the ledger
    reads it before folding its own event, so the chain shows no false gap."""
    ledger = open_ledger(seeded, clock)
    other = open_ledger(seeded, clock)
    other.set_site("adam", "site_name", "Ward 7")
    ledger.store.change_token = lambda: ledger._token  # type: ignore[method-assign]  (the refresh sees nothing new)
    ledger.add_user("adam", "zoe", "Zoe Nurse", "nurse", "5678")
    assert ledger.integrity().count == 0
    assert ledger.site().site_name == "Ward 7"


def test_a_deleted_or_rolled_back_anchor_is_reported_by_the_app_at_boot(seeded, clock):
    """The app checks the anchors as verify-log does: a deleted one, and a log cut short with its
    anchor left ahead of it, are on every screen's warning; an intact one is not."""
    ledger = open_ledger(seeded, clock)
    assert not ledger.integrity().warning
    ledger.store.close()
    head = seeded.with_name(seeded.name + ".head")
    kept = head.read_text()
    head.unlink()
    ledger = open_ledger(seeded, clock)
    assert any("missing" in p for p in ledger.integrity().problems), ledger.integrity().problems
    assert ledger.integrity().warning and not head.exists()
    ledger.store.close()
    head.write_text(kept.replace('"seq": ', '"seq": 9', 1))  # an anchor ahead of the log (MAC no longer fits)
    ledger = open_ledger(seeded, clock)
    assert ledger.integrity().warning and any("anchor" in p for p in ledger.integrity().problems)
    ledger.store.close()

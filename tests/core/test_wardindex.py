"""Issue 19: a terminal's cost grows with what is open, not with the log (core/wardindex.py and the
lazy ledger of core/service.py), on a realistic ward of a few thousand events (tests/core/ward.py).

- The same record comes out with and without the caches: a terminal that started from a
  checkpoint and folded the rest as it came, one that booted from the newest checkpoint, and one
  that read the whole log agree on every patient's index line, intake, timeline and printed
  record, the users, the site and the log's findings (a property over where the checkpoint falls,
  which patients were open meanwhile and how few streams are kept).
- Counting the store's reads: a terminal that starts from a checkpoint reads no patient's events;
  opening a patient reads that patient's stream and no other.
- A checkpoint is never believed on its word: forged, damaged, made under another key, by another
  fold version, or not matching the log (rewritten since): ignored, the index rebuilt from the log,
  and a good checkpoint written again. An old row altered after the checkpoint was made is refused
  when its patient is opened, and reported.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import intake, records, wardindex
from bedside.core import service as service_module
from bedside.core.clock import FakeClock
from bedside.core.keyring import Keyring
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from tests.fixtures.dump_states import plain

from .test_tamper import raw
from .ward import NOW, Counting, copy_ward, key_of, module_ward

CLOCK_AT = NOW.replace(minute=20)


@pytest.fixture(scope="module")
def ward(tmp_path_factory) -> Path:
    return module_ward(tmp_path_factory)


@pytest.fixture
def db(ward, tmp_path) -> Path:
    return copy_ward(ward, tmp_path / "ward.db")


def ledger_on(store, path: Path, checkpoint) -> Ledger:
    return Ledger(store, FakeClock(CLOCK_AT), key_of(path), checkpoint=checkpoint)


def snapshot(ledger: Ledger) -> dict:
    """What the screens, the record and the decisions read, as plain data."""
    users = {u.username: (u.full_name, u.role) for u in ledger.users().values()}
    out = {
        "last_seq": ledger.last_seq,
        "entries": plain(ledger.patients()),
        "users": plain(ledger.users()),
        "site": plain(ledger.site()),
        "open_doses": sorted(ledger.open_doses()),
        "findings": plain(ledger.integrity().findings),
        "patients": {},
    }
    for e in ledger.patients():
        p = ledger.patient(e.id)
        events = ledger.stream_events(e.stream)
        out["patients"][e.id] = {
            "version": ledger.version(e.stream),
            "seqs": [ev.seq for ev in events],
            "patient": plain(p),
            "timeline": plain(ledger.timeline(e.id)),
            "record": records.administration_record(p, events, users, tz=ledger.zone.zone, now=CLOCK_AT),
        }
    return out


# -- the same record with and without the caches ------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    split=st.floats(0.02, 0.98),
    every=st.sampled_from([150, 400, 2000]),
    kept=st.integers(1, 6),
    opened=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_the_incremental_projection_equals_a_full_refold(ward, monkeypatch, split, every, kept, opened):
    monkeypatch.setattr(service_module, "CHECKPOINT_EVERY", every)
    monkeypatch.setattr(service_module, "LOADED_STREAMS", kept)
    store = SqliteStore(ward)
    try:
        last = store.last_seq()
        upto = max(1, int(last * split))
        with tempfile.TemporaryDirectory() as tmp:
            cp = Path(tmp) / "ward.checkpoint"
            then = Counting(store, upto)
            early = ledger_on(then, ward, cp)  # a terminal opened when the log ended at ``upto``
            assert early.last_seq == upto and wardindex.read_checkpoint(cp, early._checker.keyring) is not None
            entries = early.patients()
            for i in opened:  # patients opened meanwhile (kept, or let go again: ``kept`` at most)
                if entries:
                    early.view(entries[i % len(entries)].id)
            then.upto, then.anchors = None, store.anchors  # the rest of the log is written
            early.refresh(force=True)  # ... and folded in as it comes
            booted = ledger_on(store, ward, cp)  # a terminal started later, from the newest checkpoint
            full = ledger_on(store, ward, False)  # the whole log, no cache
            want = snapshot(full)
            assert want["last_seq"] == last and want["patients"]
            assert snapshot(early) == want
            assert snapshot(booted) == want
    finally:
        store.close()


# -- counting the store's reads ------------------------------------------------------------------------
def test_a_terminal_from_the_checkpoint_reads_no_patient_and_opening_one_reads_only_theirs(db):
    store = SqliteStore(db)
    try:
        first = ledger_on(store, db, True)  # no checkpoint yet: the whole log, then one is written
        assert Path(str(db) + ".checkpoint").exists()
        counting = Counting(store)
        ledger = ledger_on(counting, db, True)
        assert counting.patients_read() == set(), "the boot read patients' events"
        assert counting.lookups <= 2  # the event at the checkpoint and at the anchor, by seq
        assert sum(counting.by_stream.values()) < 600, counting.by_stream  # the site, the log's own, one event
        assert [plain(e) for e in ledger.patients()] == [plain(e) for e in first.patients()]
        assert ledger.users() == first.users() and ledger.open_doses() == first.open_doses()

        entry = max(ledger.patients(), key=lambda e: e.version)
        ledger.view(entry.id)
        ledger.timeline(entry.id)
        assert counting.patients_read() == {entry.stream}
        assert counting.by_stream[entry.stream] == entry.version  # their stream, once
    finally:
        store.close()


def test_a_new_event_folds_into_the_index_without_reading_other_patients(db):
    store = SqliteStore(db)
    try:
        ledger_on(store, db, True)
        counting = Counting(store)
        ledger = ledger_on(counting, db, True)
        pid = ledger.register_patient("nina", {"name": "NEW, Nell", "dob": "1970-02-03", "mrn": "MRN-NEW-1", "sex": "female"}).id
        assert counting.patients_read() <= {intake.PATIENT_PREFIX + pid}
        assert ledger.entry(pid).name == "NEW, Nell" and ledger.entry(pid).missing
    finally:
        store.close()


# -- a checkpoint is never believed on its word ---------------------------------------------------------
def _boot_reads(db) -> tuple[Ledger, Counting]:
    store = SqliteStore(db)
    counting = Counting(store)
    return ledger_on(counting, db, True), counting


def _made(db) -> tuple[Path, dict]:
    store = SqliteStore(db)
    try:
        want = snapshot(ledger_on(store, db, False))
        ledger_on(store, db, True)
    finally:
        store.close()
    return Path(str(db) + ".checkpoint"), want


def _spoil_body(path: Path) -> None:
    head, body = path.read_text("utf-8").split("\n", 1)
    path.write_text(
        head + "\n" + body.replace(f'"fold_version":{wardindex.FOLD_VERSION}', f'"fold_version":{wardindex.FOLD_VERSION} ', 1),
        "utf-8",
    )


def _cut_short(path: Path) -> None:
    text = path.read_text("utf-8")
    path.write_text(text[: len(text) // 2], "utf-8")


def _other_key(path: Path) -> None:
    cp = wardindex.read_checkpoint(path, key_of(Path(str(path).removesuffix(".checkpoint"))).keyring())
    assert cp is not None
    wardindex.write_checkpoint(path, cp, Keyring(b"\x02" * 32))  # signed, but not with this site's key


def _not_the_log(path: Path) -> None:
    keyring = key_of(Path(str(path).removesuffix(".checkpoint"))).keyring()
    cp = wardindex.read_checkpoint(path, keyring)
    wardindex.write_checkpoint(path, attrs.evolve(cp, hash="0" * 64), keyring)  # authentic, another log's head


def _forged_entries(path: Path) -> None:
    """An attacker without the key makes a patient's line say what it likes (the MAC no longer fits)."""
    head, body = path.read_text("utf-8").split("\n", 1)
    path.write_text(head + "\n" + body.replace('"female"', '"male"', 1), "utf-8")


@pytest.mark.parametrize("spoil", [_spoil_body, _cut_short, _other_key, _not_the_log, _forged_entries])
def test_a_checkpoint_that_does_not_hold_is_ignored_and_rebuilt(db, spoil):
    path, want = _made(db)
    spoil(path)
    ledger, counting = _boot_reads(db)
    try:
        assert sum(counting.by_stream.values()) >= ledger.last_seq, "it read the whole log again"
        assert snapshot(ledger) == want
        again = wardindex.read_checkpoint(path, ledger._checker.keyring)
        assert again is not None and again.seq == ledger.last_seq, "a good checkpoint is written again"
    finally:
        counting.store.close()


def test_a_checkpoint_of_another_fold_version_is_ignored(db, monkeypatch):
    _path, want = _made(db)
    monkeypatch.setattr(wardindex, "FOLD_VERSION", wardindex.FOLD_VERSION + 1)
    ledger, counting = _boot_reads(db)
    try:
        assert sum(counting.by_stream.values()) >= ledger.last_seq
        assert snapshot(ledger)["entries"] == want["entries"]
    finally:
        counting.store.close()


def test_an_old_row_altered_after_the_checkpoint_is_refused_when_its_patient_is_opened(db):
    _path, _ = _made(db)
    store = SqliteStore(db)
    try:
        victim = max(ledger_on(store, db, True).patients(), key=lambda e: e.version)
        seq = store.read(victim.stream)[3].seq
    finally:
        store.close()
    raw(db, "UPDATE events SET actor = 'mallory' WHERE seq = ?", params=(seq,))

    ledger, counting = _boot_reads(db)
    try:
        assert ledger.integrity().findings == ()  # not read yet: the checkpoint vouched for it
        events = ledger.stream_events(victim.stream)
        assert seq not in {e.seq for e in events} and ledger.is_rejected(seq)
        (finding,) = ledger.integrity().findings
        assert finding.seq == seq and finding.rejected
        assert ledger.version(victim.stream) == victim.version  # appends still follow the store
    finally:
        counting.store.close()

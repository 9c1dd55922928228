"""The Ledger itself: the one command path (refresh, fold, decide, append with the expected version;
on a lost race fold and decide again), refusals, a commit whose outcome is uncertain, the back-off,
and the load test of issue 16: 8 processes × 200 commands on one patient's stream, none refused,
none lost or duplicated, the chain intact (SQLite; PostgreSQL where ``BEDSIDE_TEST_PG`` is set)."""

from __future__ import annotations

import multiprocessing
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bedside.core import auth, intake, service
from bedside.core.auth import SignIn
from bedside.core.clock import FakeClock
from bedside.core.commands import Refused
from bedside.core.demo import DEMO_KEY
from bedside.core.events import canonical_json
from bedside.core.intake import RecordSection, RegisterPatient
from bedside.core.service import Ledger
from bedside.core.store import ConcurrencyError, SqliteStore, StoreUnavailable, StoreUncertain, verify_log

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
IDENTITY = {"name": "LOAD, Test", "dob": "1970-01-01", "mrn": "MRN-LOAD-1", "sex": "female"}


def measurement(i: int, height: int = 170) -> dict[str, str]:
    return {"height_cm": str(height), "weight_kg": f"70.{i:04d}", "measured_on": T0.date().isoformat()}


class SpyStore:
    """Wraps a store: records each append's (stream, expected version), and runs ``before_append``
    (once) before the first one, to let another terminal in first."""

    def __init__(self, inner, before_append=None):
        self.inner, self.before_append = inner, before_append
        self.appends: list[tuple[str, int]] = []

    def append(self, stream, expected, events):
        self.appends.append((stream, expected))
        if self.before_append is not None:
            run, self.before_append = self.before_append, None
            run()
        return self.inner.append(stream, expected, events)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def decisions(monkeypatch):
    """Every decision the ledger makes, in order (the command classes' names)."""
    made: list[str] = []
    real = service.decide

    def counting(state, command, now, actor):
        made.append(type(command).__name__)
        return real(state, command, now, actor)

    monkeypatch.setattr(service, "decide", counting)
    return made


@pytest.fixture
def two(tmp_path, clock):
    """Two terminals on one database (the demo staff), with a patient registered."""
    from bedside.core.demo import seed_users

    first = SqliteStore(tmp_path / "two.db")
    seed_users(first, clock)
    a = Ledger(SpyStore(first), clock, DEMO_KEY)
    second = SqliteStore(tmp_path / "two.db")
    b = Ledger(second, clock, DEMO_KEY)
    p = a.register_patient("nina", IDENTITY)
    yield a, b, p.id
    first.close()
    second.close()


def test_execute_decides_on_a_fresh_fold_and_appends_with_the_expected_version(two, decisions):
    a, b, pid = two
    b.refresh()
    b.execute(RecordSection(pid, "measurement", measurement(1)), "phil")  # a has not read this yet
    stream = intake.PATIENT_PREFIX + pid
    assert a.version(stream) == 1
    (ev,) = a.execute(RecordSection(pid, "measurement", measurement(2)), "nina")
    assert a.store.appends[-1] == (stream, 2), "decided after folding b's event: expected version 2"
    assert ev.version == 3 and a.version(stream) == 3
    assert decisions == ["RecordSection", "RecordSection"], "one decision each, no retry"
    assert [e.data["weight_kg"] for e in a.stream_events(stream)[1:]] == ["70.0001", "70.0002"]


def test_a_refused_register_after_a_fresh_read_sees_the_other_terminals_patient(two):
    a, b, _pid = two
    b.refresh()
    b.execute(RegisterPatient({**IDENTITY, "mrn": "MRN-2"}), "nina")
    before = len(a.store.appends)
    with pytest.raises(Refused, match="MRN: mrn-2 belongs to another patient already"):
        a.execute(RegisterPatient({**IDENTITY, "mrn": "mrn-2"}), "nina")
    assert len(a.store.appends) == before, "a refusal appends nothing"


def test_a_lost_race_decides_again_on_the_new_record_and_never_appends_the_stale_events(two, clock, decisions):
    """Four wrong PINs; two terminals record the fifth at once. The loser decides again, sees the
    lock, and records nothing: a stale decision would have appended a sixth failure."""
    a, b, _pid = two
    for _ in range(auth.MAX_FAILED_ATTEMPTS - 1):
        a.sign_in("phil", "0000")
    b.refresh()
    a.store.before_append = lambda: b.execute(SignIn("phil", "0000"), "phil")  # b wins the race
    decisions.clear()
    with pytest.raises(Refused, match="Unknown user name or wrong PIN"):
        a.execute(SignIn("phil", "0000"), "phil")
    assert decisions == ["SignIn", "SignIn", "SignIn"], "a decided, b decided, a decided again"
    failed = [e for e in a.stream_events(auth.USERS_STREAM) if e.kind == auth.USER_SIGNIN_FAILED]
    assert len(failed) == auth.MAX_FAILED_ATTEMPTS and {e.actor for e in failed} == {"phil"}
    assert a.lock_ends("phil") == clock.now() + auth.LOCKOUT_FIRST_DELAY


def test_a_lost_race_on_a_form_appends_once_after_the_winner(two, decisions):
    a, b, pid = two
    b.refresh()
    stream = intake.PATIENT_PREFIX + pid
    a.store.before_append = lambda: b.execute(RecordSection(pid, "measurement", measurement(7)), "phil")
    decisions.clear()
    (ev,) = a.execute(RecordSection(pid, "measurement", measurement(8)), "nina")
    assert decisions == ["RecordSection", "RecordSection", "RecordSection"]
    assert a.store.appends[-2:] == [(stream, 1), (stream, 2)], "the retry expects the winner's version"
    assert [(e.version, e.actor, e.data["weight_kg"]) for e in a.stream_events(stream)[1:]] == [
        (2, "phil", "70.0007"),
        (3, "nina", "70.0008"),
    ]
    assert ev.version == 3


def test_a_refusal_appends_nothing(ledger, decisions):
    before = ledger.last_seq
    spy = SpyStore(ledger.store)
    ledger.store = spy
    with pytest.raises(Refused, match="Add a user: only an admin may do this"):
        ledger.execute(auth.AddUser("zoe", "Zoe", "nurse", "4821"), "nina")
    with pytest.raises(Refused, match="'ghost' is not an active user"):
        ledger.execute(RecordSection("nope", "labs", {}), "ghost")
    assert spy.appends == [] and ledger.last_seq == before


class UncertainStore(SpyStore):
    """The connection breaks during the commit: ``committed`` says whether it went through."""

    def __init__(self, inner, committed: bool, reread_fails: bool = False):
        super().__init__(inner)
        self.committed, self.reread_fails, self.broken = committed, reread_fails, False

    def append(self, stream, expected, events):
        if self.committed:
            self.inner.append(stream, expected, events)
        self.broken = True
        raise StoreUncertain("connection lost during COMMIT")

    def change_token(self):
        if self.broken and self.reread_fails:
            raise StoreUnavailable("The database is unreachable.")
        return self.inner.change_token()


def test_a_commit_that_went_through_after_all_is_returned_not_repeated(ledger, clock):
    p = ledger.register_patient("nina", IDENTITY)
    ledger.store = UncertainStore(ledger.store, committed=True)
    (ev,) = ledger.execute(RecordSection(p.id, "measurement", measurement(3)), "nina")
    assert ev.version == 2 and ev.data["weight_kg"] == "70.0003"
    assert len(ledger.stream_events(p.stream)) == 2, "saved once"


def test_a_commit_that_did_not_go_through_says_nothing_was_saved(ledger):
    p = ledger.register_patient("nina", IDENTITY)
    ledger.store = UncertainStore(ledger.store, committed=False)
    with pytest.raises(StoreUnavailable, match="Nothing was saved; try again"):
        ledger.execute(RecordSection(p.id, "measurement", measurement(4)), "nina")
    assert len(ledger.stream_events(p.stream)) == 1


def test_an_uncertain_commit_with_the_database_still_away_says_it_is_not_known(ledger):
    p = ledger.register_patient("nina", IDENTITY)
    ledger.store = UncertainStore(ledger.store, committed=False, reread_fails=True)
    with pytest.raises(StoreUnavailable, match="whether this was saved is not known yet"):
        ledger.execute(RecordSection(p.id, "measurement", measurement(5)), "nina")


class AlwaysLosing(SpyStore):
    def append(self, stream, expected, events):
        self.appends.append((stream, expected))
        raise ConcurrencyError(stream, expected, expected + 1)


def test_the_back_off_is_jittered_doubling_and_bounded(ledger, decisions):
    p = ledger.register_patient("nina", IDENTITY)
    ledger.store = AlwaysLosing(ledger.store)
    slept: list[float] = []
    ledger.sleep = slept.append
    decisions.clear()
    with pytest.raises(StoreUnavailable, match="Too many terminals are saving to this record"):
        ledger.execute(RecordSection(p.id, "measurement", measurement(6)), "nina")
    n = service.EXECUTE_ATTEMPTS
    assert len(decisions) == n and len(ledger.store.appends) == n, "decided again before every try"
    assert len(slept) == n - 1, "no sleep before the first try"
    nominal = [min(service.BACKOFF_FIRST_S * 2**i, service.BACKOFF_MAX_S) for i in range(n - 1)]
    for s, d in zip(slept, nominal, strict=True):
        assert 0.5 * d <= s <= 1.5 * d, (s, d)
    assert len({round(s / d, 6) for s, d in zip(slept, nominal, strict=True)}) > 1, "jittered, not fixed steps"
    assert max(slept) <= 1.5 * service.BACKOFF_MAX_S and sum(slept) <= 1.5 * sum(nominal)
    assert len(ledger.stream_events(p.stream)) == 1, "nothing appended"


def test_a_dry_run_decides_without_recording(ledger):
    p = ledger.register_patient("nina", IDENTITY)
    before = ledger.last_seq
    (ev,) = ledger.decide(RecordSection(p.id, "measurement", measurement(9)), "nina")
    assert ev.kind == "intake.measurement" and ev.data["bsa_formula"] == "mosteller" and ev.actor == "nina"
    assert ledger.last_seq == before


# -- the load test ------------------------------------------------------------------------------
PROCESSES = 8
COMMANDS = 200


def _open(backend: str, target: str):
    if backend == "postgres":
        from bedside.core.pgstore import PgStore

        return PgStore(target)
    return SqliteStore(target)


def _load_worker(backend: str, target: str, proc: int, pid: str, start, results) -> None:
    """One terminal: COMMANDS measurements on the one patient, each through Ledger.execute."""
    try:
        store = _open(backend, target)
        try:
            ledger = Ledger(store, FakeClock(T0), DEMO_KEY)
            lost = []  # each back-off is one lost race
            sleep = ledger.sleep
            ledger.sleep = lambda s: (lost.append(s), sleep(s))
            start.wait()
            worst = 0
            for i in range(COMMANDS):
                before = len(lost)
                ledger.execute(RecordSection(pid, "measurement", measurement(i, 150 + proc)), f"load{proc}")
                worst = max(worst, len(lost) - before)
        finally:
            store.close()
        results.put((proc, ("ok", len(lost), worst)))
    except BaseException:  # noqa: BLE001 - the parent reports it
        results.put((proc, (traceback.format_exc(), 0, 0)))


def _seed_load(store) -> str:
    users = [
        auth.UserCreated(f"load{i}", f"Load {i}", "nurse", auth.DUMMY_PIN_HASH).new(auth.USERS_STREAM, "system", T0)
        for i in range(PROCESSES)
    ]
    store.set_keys(DEMO_KEY)  # signed, as the ledger would: an unsigned event is never applied (issue 18)
    store.append(auth.USERS_STREAM, 0, users)
    ledger = Ledger(store, FakeClock(T0), DEMO_KEY)
    return ledger.register_patient("load0", IDENTITY).id


def _run_load(backend: str, target: str) -> None:
    store = _open(backend, target)
    try:
        pid = _seed_load(store)
    finally:
        store.close()
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_load_worker, args=(backend, target, i, pid, start, results)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    outcome = dict(results.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert {i: v[0] for i, v in outcome.items()} == {i: "ok" for i in range(PROCESSES)}, "\n".join(
        v[0] for v in outcome.values() if v[0] != "ok"
    )
    lost, worst = sum(v[1] for v in outcome.values()), max(v[2] for v in outcome.values())
    print(
        f"{backend}: {PROCESSES}×{COMMANDS} commands, {lost} lost races decided again, at most {worst} for one command "
        f"(of {service.EXECUTE_ATTEMPTS - 1} allowed)"
    )
    _check_load(backend, target, pid)


def _check_load(backend: str, target: str, pid: str) -> None:
    store = _open(backend, target)
    try:
        events = store.read(intake.PATIENT_PREFIX + pid)
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        recorded = [e for e in events if e.kind == "intake.measurement"]
        per_actor = Counter(e.actor for e in recorded)
        assert per_actor == {f"load{i}": COMMANDS for i in range(PROCESSES)}, "none lost, none duplicated"
        distinct = {(e.actor, canonical_json(e.data)) for e in recorded}
        assert len(distinct) == PROCESSES * COMMANDS, "every command's own record, once"
        report = verify_log(
            store, store.anchor.read() if store.anchor is not None else None, anchor_expected=store.anchor is not None
        )
        assert report.ok, report.problems
    finally:
        store.close()


def test_eight_processes_on_one_patient_sqlite(tmp_path):
    _run_load("sqlite", str(tmp_path / "load.db"))


def test_eight_processes_on_one_patient_postgres():
    from tests.core.test_store_contract import PgDatabase, require_pg

    db = PgDatabase(require_pg())
    try:
        _run_load("postgres", db.url)
    finally:
        db.drop()


def test_a_retry_after_a_lost_race_keeps_the_same_patient_id(two):
    """A register command carries its patient id: deciding it again cannot make a second patient."""
    a, b, _pid = two
    cmd = RegisterPatient({**IDENTITY, "mrn": "MRN-3"})
    b.refresh()
    a.store.before_append = lambda: b.execute(cmd, "nina")  # the same command lands first elsewhere
    with pytest.raises(Refused, match="MRN-3 belongs to another patient already"):  # its record: the same id
        a.execute(cmd, "nina")
    assert [p.mrn for p in a.patients()].count("MRN-3") == 1


def test_the_clock_is_read_per_decision(two, clock):
    a, _b, pid = two
    clock.advance(minutes=5)
    (ev,) = a.execute(RecordSection(pid, "measurement", measurement(10)), "nina")
    assert ev.at == T0 + timedelta(minutes=5)


def test_two_terminals_registering_one_mrn_at_once_make_one_patient(two):
    """Each terminal types the same MRN (different commands, no shared id): the record's id follows
    from the MRN, so the second append loses the race, is decided again and is refused."""
    a, b, _pid = two
    typed = {**IDENTITY, "name": "TWIN, Same", "mrn": "mrn-77 "}
    b.refresh()
    a.store.before_append = lambda: b.register_patient("noah", {**typed, "mrn": "MRN-77"})
    with pytest.raises(Refused, match="MRN: mrn-77 belongs to another patient already"):
        a.register_patient("nina", typed)
    a.refresh()
    assert [p.mrn for p in a.patients()].count("MRN-77") == 1


def test_an_mrn_corrected_away_cannot_silently_join_the_old_record(two):
    """The record first registered as MRN-88 now carries MRN-89 (a correction): registering MRN-88
    again would land on that record's stream, so it is refused with what to check, never merged."""
    a, _b, _pid = two
    p = a.register_patient("nina", {**IDENTITY, "mrn": "MRN-88"})
    a.correct("nina", p.id, 1, {**IDENTITY, "mrn": "MRN-89"}, "typo in the MRN")
    before = a.version(p.stream)
    with pytest.raises(Refused, match="first registered as MRN-88 exists already, now under MRN MRN-89"):
        a.register_patient("noah", {**IDENTITY, "name": "OTHER, Person", "mrn": "MRN-88"})
    assert a.version(p.stream) == before and a.patient(p.id).mrn == "MRN-89"

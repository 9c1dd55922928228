from __future__ import annotations

from datetime import timedelta

import pytest

from bedside.core import auth
from bedside.core.events import NewEvent


def test_pin_is_stored_only_as_a_slow_salted_hash(ledger):
    u = ledger.add_user("adam", "ann", "Ann Admin", "admin", "4821")
    assert u.pin_hash.startswith("$argon2id$")
    assert "4821" not in u.pin_hash
    other = ledger.add_user("ann", "bob", "Bob Nurse", "nurse", "4821")
    assert other.pin_hash != u.pin_hash  # salted


def test_pepper_key_lives_outside_the_database(tmp_path, clock):
    key = auth.SiteKey(tmp_path / "site.key")
    h = auth.hash_pin(key, "1234")
    assert (tmp_path / "site.key").stat().st_mode & 0o777 == 0o600
    assert auth.check_pin(key, h, "1234")
    other = auth.SiteKey(tmp_path / "other.key")
    assert not auth.check_pin(other, h, "1234"), "a hash must not verify without the site key"


MIN = timedelta(minutes=1)


def fail(ledger, clock, n: int, user: str = "ann", step: timedelta = timedelta(seconds=1)):
    """``n`` wrong PINs, ``step`` apart; the last result."""
    r = None
    for _ in range(n):
        r = ledger.sign_in(user, "0000")
        clock.advance(seconds=step.total_seconds())
    return r


@pytest.fixture
def ann(ledger):
    return ledger.add_user("adam", "ann", "Ann Admin", "admin", "4821")


@pytest.mark.parametrize("failures, locked", [(1, False), (4, False), (5, True), (6, True)])
def test_the_fifth_consecutive_failure_locks(ledger, clock, ann, failures, locked):
    r = fail(ledger, clock, failures, step=timedelta(0))
    assert (ledger.lock_ends("ann") is not None) is locked
    kinds = [e.kind for e in ledger.stream_events(auth.USERS_STREAM)]
    # a try on a locked account checks no PIN and records nothing: 5 events at most
    assert kinds.count("user.signin_failed") == min(failures, auth.MAX_FAILED_ATTEMPTS)
    assert r.message == auth.SIGNIN_REFUSED, "no 'tries left', no 'locked': the same words as an unknown name"
    if locked:
        assert ledger.lock_ends("ann") == clock.now() + auth.LOCKOUT_FIRST_DELAY
    r = ledger.sign_in("ann", "4821")
    assert (r.user is None) is locked, "a locked account stays locked, even with the right PIN"
    if locked:
        assert r.message == auth.SIGNIN_REFUSED, "the right PIN on a locked account tells nothing either"


@pytest.mark.parametrize("offset, lifted", [(timedelta(seconds=-1), False), (timedelta(0), True), (timedelta(seconds=1), True)])
def test_the_lock_lifts_by_itself_after_the_delay(ledger, clock, ann, offset, lifted):
    fifth = clock.now()
    fail(ledger, clock, 5, step=timedelta(0))
    assert ledger.lock_ends("ann") == fifth + auth.LOCKOUT_FIRST_DELAY
    clock.set(fifth + auth.LOCKOUT_FIRST_DELAY + offset)
    r = ledger.sign_in("ann", "4821")
    assert (r.user is not None) is lifted, r.message
    if not lifted:
        assert r.message == auth.SIGNIN_REFUSED


@pytest.mark.parametrize("n, minutes", [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 60), (8, 60), (40, 60)])
def test_lockout_delays_grow_and_are_capped(n, minutes):
    assert auth.lockout_delay(n) == timedelta(minutes=minutes)
    assert timedelta(minutes=60) == auth.LOCKOUT_MAX_DELAY


def test_each_further_lock_lasts_longer_until_a_success(ledger, clock, ann):
    seen = []
    fail(ledger, clock, 4, step=timedelta(0))
    for _ in range(8):  # each failure after a lock has lifted locks again, for twice as long
        assert ledger.sign_in("ann", "0000").event is not None
        until = ledger.lock_ends("ann")
        seen.append(until - clock.now())
        assert ledger.sign_in("ann", "0000").event is None, "no event, no longer lock, while locked"
        assert ledger.lock_ends("ann") == until
        clock.set(until)
    assert seen == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    assert ledger.sign_in("ann", "4821").user is not None
    u = ledger.users()["ann"]
    assert (u.failed, u.lockouts, u.locked_until) == (0, 0, None)
    fail(ledger, clock, 5, step=timedelta(0))
    assert ledger.lock_ends("ann") - clock.now() == auth.LOCKOUT_FIRST_DELAY, "a success starts the delays again"


def test_success_resets_the_failure_count(ledger, clock, ann):
    fail(ledger, clock, auth.MAX_FAILED_ATTEMPTS - 1)
    assert ledger.sign_in("ann", "4821").user is not None
    assert ledger.users()["ann"].failed == 0
    fail(ledger, clock, auth.MAX_FAILED_ATTEMPTS - 1)
    assert ledger.lock_ends("ann") is None, "4 + 4 failures with a success between do not lock"


def test_admin_unlock_lifts_the_lock_at_once(ledger, clock, ann):
    fail(ledger, clock, 5)
    assert ledger.sign_in("ann", "4821").user is None
    ledger.unlock_user("adam", "ann")
    assert ledger.lock_ends("ann") is None
    assert ledger.sign_in("ann", "4821").user is not None
    with pytest.raises(ValueError, match="no user 'nobody'"):
        ledger.unlock_user("adam", "nobody")


class CountingHasher:
    """Stands in for argon2's PasswordHasher and records which hashes were verified."""

    def __init__(self, real):
        self.real, self.verified = real, []

    def verify(self, pin_hash, secret):
        self.verified.append(pin_hash)
        return self.real.verify(pin_hash, secret)

    def hash(self, secret):
        return self.real.hash(secret)


@pytest.fixture
def hasher(monkeypatch):
    counting = CountingHasher(auth.pins._hasher())
    monkeypatch.setattr(auth.pins, "_hasher", lambda: counting)
    return counting


def _params(pin_hash: str) -> str:
    return pin_hash.split("$")[3]  # "m=7168,t=5,p=1"


@pytest.mark.parametrize("username", ["nobody", "ann-typo", "gone", "", "x" * 500, "\x1b]0;pwned\x07", "ann ann"])
def test_unknown_user_and_wrong_pin_say_the_same_and_do_the_same_work(ledger, clock, ann, hasher, username):
    ledger.add_user("ann", "gone", "Gone User", "nurse", "4821")
    ledger.append(
        auth.USERS_STREAM, lambda: [NewEvent(auth.USERS_STREAM, "user.deactivated", "ann", clock.now(), {"username": "gone"})]
    )
    hasher.verified.clear()
    wrong = ledger.sign_in("ann", "0000")
    assert hasher.verified == [ann.pin_hash]
    hasher.verified.clear()
    before = ledger.last_seq
    unknown = ledger.sign_in(username, "4821")
    assert unknown.user is None and unknown.event is None
    assert unknown.message == wrong.message == auth.SIGNIN_REFUSED
    assert auth.SIGNIN_REFUSED.startswith("Unknown user name or wrong PIN.") and "left" not in auth.SIGNIN_REFUSED
    assert hasher.verified == [auth.DUMMY_PIN_HASH], "one argon2 verify, as for a wrong PIN"
    assert _params(auth.DUMMY_PIN_HASH) == _params(ann.pin_hash), "the dummy costs what a real hash costs"
    assert ledger.last_seq == before, "an unknown name writes nothing (the log cannot be flooded)"


def test_the_dummy_hash_matches_the_hashing_parameters_and_no_pin():
    from argon2 import PasswordHasher

    assert not PasswordHasher(**auth.ARGON2_PARAMS).check_needs_rehash(auth.DUMMY_PIN_HASH)
    assert not auth.check_pin(auth.SiteKey(None, b"k" * 32), auth.DUMMY_PIN_HASH, "1234")


def test_many_unknown_names_neither_crash_nor_write(ledger, clock, ann):
    before = ledger.last_seq
    for i in range(20):
        assert ledger.sign_in(f"guess{i}", "1234").message == auth.SIGNIN_REFUSED
    assert ledger.last_seq == before


def test_a_locked_account_checks_no_pin_and_looks_like_an_unknown_name(ledger, clock, ann, hasher):
    fail(ledger, clock, 5, step=timedelta(0))
    hasher.verified.clear()
    unknown = ledger.sign_in("nobody", "4821")
    for pin in ("4821", "0000"):
        r = ledger.sign_in("ann", pin)
        assert r.user is None and r.event is None and ledger.lock_ends("ann") == clock.now() + MIN
        assert r.message == unknown.message == auth.SIGNIN_REFUSED, "the lock is not revealed, not even by the right PIN"
    # the same work as an unknown name (one dummy verify each), and the real hash is never tried:
    # a PIN cannot be guessed through a lock
    assert hasher.verified == [auth.DUMMY_PIN_HASH] * 3


def test_the_refusal_explains_the_lock_to_everyone_alike():
    assert f"{auth.MAX_FAILED_ATTEMPTS} wrong PINs" in auth.SIGNIN_REFUSED and "1 minute" in auth.SIGNIN_REFUSED
    assert "60 minutes" in auth.SIGNIN_REFUSED and "admin can unlock" in auth.SIGNIN_REFUSED


def test_lock_notice_says_until_when_in_the_site_zone():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    until = datetime(2025, 3, 3, 8, 1, tzinfo=UTC)
    assert "until 09:01:00" in auth.lock_notice(until, ZoneInfo("Europe/Oslo"))


def _old_log(store, clock, extra=()):
    """The log as the old rule wrote it: 5 failures, then the account stayed locked (no event)."""
    t0 = clock.now()
    evs = [
        NewEvent(
            auth.USERS_STREAM,
            "user.created",
            "system",
            t0,
            {
                "username": "ann",
                "full_name": "Ann",
                "role": "admin",
                "pin_hash": auth.hash_pin(auth.SiteKey(None, b"k" * 32), "4821"),
            },
        )
    ]
    evs += [NewEvent(auth.USERS_STREAM, "user.signin_failed", "ann", t0 + i * MIN, {"username": "ann"}) for i in range(5)]
    evs += [NewEvent(auth.USERS_STREAM, kind, "root", t0 + 10 * MIN, {"username": "ann"}) for kind in extra]
    store.append(auth.USERS_STREAM, 0, evs)
    return t0 + 4 * MIN  # the 5th failure


@pytest.mark.parametrize(
    "extra, at, locked",
    [
        ((), timedelta(seconds=59), True),  # the old lock reads as the first lock, from the 5th failure
        ((), timedelta(seconds=61), False),  # … and has lifted by itself
        ((), timedelta(days=30), False),
        (("user.unlocked",), timedelta(minutes=7), False),  # an old admin unlock still clears it
    ],
)
def test_old_logs_still_fold(store, clock, extra, at, locked):
    fifth = _old_log(store, clock, extra)
    users = auth.fold_users(store.read())
    assert users["ann"].is_locked(fifth + at) is locked
    assert users["ann"].failed == (0 if extra and not locked else 5)


def test_a_failure_decided_before_the_lock_was_seen_does_not_move_it(store, clock):
    fifth = _old_log(store, clock)
    store.append(
        auth.USERS_STREAM,
        6,
        [NewEvent(auth.USERS_STREAM, "user.signin_failed", "ann", fifth + timedelta(seconds=5), {"username": "ann"})],
    )
    u = auth.fold_users(store.read())["ann"]
    assert (u.failed, u.lockouts, u.locked_until) == (6, 1, fifth + MIN)


def test_new_user_validation_names_each_field(ledger):
    errors = auth.validate_new_user("A", "", "chef", "12", "12", {})
    assert set(errors) == {"username", "full_name", "role", "pin"}
    assert auth.validate_new_user("ann", "Ann", "nurse", "1234", "1235", {})["pin_again"].startswith("PIN again")

from __future__ import annotations

from datetime import timedelta

from bedside.core import auth
from bedside.core.store import SqliteStore


def test_pin_is_stored_only_as_a_slow_salted_hash(ledger):
    u = ledger.add_user("system", "ann", "Ann Admin", "admin", "4821")
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


def test_sign_in_records_success_and_failures_and_locks(ledger, clock):
    ledger.add_user("system", "ann", "Ann Admin", "admin", "4821")
    assert ledger.sign_in("ann", "4821").user is not None
    for i in range(auth.MAX_FAILED_ATTEMPTS - 1):
        r = ledger.sign_in("ann", "0000")
        assert r.user is None and "tries left" in r.message
    r = ledger.sign_in("ann", "0000")
    assert "locked" in r.message
    assert ledger.users()["ann"].locked
    assert ledger.sign_in("ann", "4821").user is None, "a locked account stays locked, even with the right PIN"
    kinds = [e.kind for e in ledger.stream_events(auth.USERS_STREAM)]
    assert kinds.count("user.signin_failed") == auth.MAX_FAILED_ATTEMPTS
    ledger.unlock_user("root", "ann")
    assert ledger.sign_in("ann", "4821").user is not None


def test_success_resets_the_failure_count(ledger):
    ledger.add_user("system", "ann", "Ann Admin", "admin", "4821")
    for _ in range(auth.MAX_FAILED_ATTEMPTS - 1):
        ledger.sign_in("ann", "0000")
    ledger.sign_in("ann", "4821")
    assert ledger.users()["ann"].failed == 0


def test_unknown_user_reveals_nothing(ledger):
    r = ledger.sign_in("nobody", "1234")
    assert r.user is None and r.message == "Unknown user name or wrong PIN."


def test_new_user_validation_names_each_field(ledger):
    errors = auth.validate_new_user("A", "", "chef", "12", "12", {})
    assert set(errors) == {"username", "full_name", "role", "pin"}
    assert auth.validate_new_user("ann", "Ann", "nurse", "1234", "1235", {})["pin_again"].startswith("PIN again")

"""Every users-log command: refused for the wrong role or an unknown user and for a state that
forbids it, accepted in a good one; roles come from the users log, never from the caller."""

from __future__ import annotations

import pytest

from bedside.core import auth
from bedside.core.auth import AddUser, ChangePin, CreateFirstAdmin, DeactivateUser, SignIn, UnlockUser
from bedside.core.events import EVENT_TYPES, decode, unknown_keys

from .helpers import fixture_events, refused


def lock(ledger, name: str) -> None:
    for _ in range(auth.MAX_FAILED_ATTEMPTS):
        ledger.sign_in(name, "0000")
    assert ledger.lock_ends(name) is not None


def test_the_fixture_users_log_decodes_and_round_trips(tmp_path):
    events = fixture_events(tmp_path, auth.USERS_STREAM)
    kinds = {
        auth.USER_CREATED,
        auth.USER_SIGNED_IN,
        auth.USER_SIGNIN_FAILED,
        auth.USER_UNLOCKED,
        auth.USER_PIN_CHANGED,
        auth.USER_DEACTIVATED,
    }
    assert {e.kind for e in events} == kinds
    for ev in events:
        p = decode(ev)
        assert type(p) is EVENT_TYPES[ev.kind] and not unknown_keys(ev) and p.to_data() == ev.data, ev.ref


# -- SignIn -------------------------------------------------------------------------------------
def test_sign_in_is_refused_for_an_unknown_name_a_deactivated_or_locked_account(ledger):
    assert refused(ledger, SignIn("ghost", "1234"), "ghost") == auth.SIGNIN_REFUSED
    ledger.execute(DeactivateUser("noah"), "adam")
    assert refused(ledger, SignIn("noah", "1234"), "noah") == auth.SIGNIN_REFUSED
    lock(ledger, "phil")
    assert refused(ledger, SignIn("phil", "1234"), "phil") == auth.SIGNIN_REFUSED
    assert refused(ledger, SignIn("nina", "1234"), "priya") == auth.SIGNIN_REFUSED, "a sign-in is its own actor's"


def test_sign_in_records_a_wrong_pin_under_the_name_typed_and_a_right_one(ledger):
    (failed,) = ledger.execute(SignIn("nina", "0000"), "nina")
    assert (failed.kind, failed.actor, failed.data) == ("user.signin_failed", "nina", {"username": "nina"})
    (ok,) = ledger.execute(SignIn("nina", "1234"), "nina")
    assert (ok.kind, ok.actor, ok.data) == ("user.signed_in", "nina", {"username": "nina"})
    r = ledger.sign_in(" nina ", "1234")
    assert r.user is not None and r.user.username == "nina" and r.message == "Signed in."


def test_the_sign_in_command_hides_its_pin():
    assert "1234" not in repr(SignIn("nina", "1234")) and "4821" not in repr(AddUser("a", "A", "nurse", "4821"))


# -- CreateFirstAdmin ---------------------------------------------------------------------------
def test_the_first_admin_is_refused_once_a_user_exists(ledger):
    assert "has users already" in refused(ledger, CreateFirstAdmin("ann", "Ann Admin", "4821"), "system")


def test_the_first_admin_is_checked_and_accepted_on_an_empty_database(empty_ledger):
    assert "PIN: 4 to 8 digits." in refused(empty_ledger, CreateFirstAdmin("ann", "Ann Admin", "12"), "system")
    assert "User name" in refused(empty_ledger, CreateFirstAdmin("Ann!", "Ann Admin", "4821"), "system")
    (ev,) = empty_ledger.execute(CreateFirstAdmin("ann", " Ann Admin ", "4821"), "system")
    assert (ev.kind, ev.actor, ev.data["role"], ev.data["full_name"]) == ("user.created", "system", "admin", "Ann Admin")
    assert ev.data["pin_hash"].startswith("$argon2id$") and "4821" not in ev.data["pin_hash"]
    assert empty_ledger.sign_in("ann", "4821").user is not None


# -- AddUser ------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["nina", "phil", "priya"])
def test_add_user_is_refused_for_a_non_admin(ledger, who):
    assert "only an admin may do this" in refused(ledger, AddUser("zoe", "Zoe", "nurse", "4821"), who)


def test_add_user_is_refused_for_an_unknown_actor_a_taken_name_or_a_bad_role(ledger):
    assert "'system' is not an active user" in refused(ledger, AddUser("zoe", "Zoe", "nurse", "4821"), "system")
    assert refused(ledger, AddUser("nina", "Nina Again", "nurse", "4821"), "adam") == "User name: 'nina' is already taken."
    assert refused(ledger, AddUser("zoe", "Zoe", "chef", "4821"), "adam").startswith("Role: choose")


def test_add_user_is_accepted_for_an_admin(ledger):
    (ev,) = ledger.execute(AddUser("zoe", "Zoe Ward", "pharmacist", "4821"), "adam")
    assert ev.actor == "adam" and ledger.users()["zoe"].role == "pharmacist"


# -- UnlockUser ---------------------------------------------------------------------------------
def test_unlock_is_refused_for_a_non_admin_an_unknown_actor_and_an_unknown_account(ledger):
    lock(ledger, "phil")
    assert "only an admin may do this" in refused(ledger, UnlockUser("phil"), "nina")
    assert "'root' is not an active user" in refused(ledger, UnlockUser("phil"), "root")
    assert refused(ledger, UnlockUser("nobody"), "adam") == "User name: no user 'nobody'."


def test_unlock_is_accepted_for_an_admin_and_for_the_os_user(ledger):
    lock(ledger, "phil")
    (ev,) = ledger.execute(UnlockUser("phil"), "adam")
    assert (ev.kind, ev.actor) == ("user.unlocked", "adam") and ledger.lock_ends("phil") is None
    lock(ledger, "adam")  # the only admin: bedside users unlock, by whoever owns the files
    ledger.execute(UnlockUser("adam"), "os:root")
    assert ledger.lock_ends("adam") is None


# -- ChangePin ----------------------------------------------------------------------------------
def test_change_pin_is_refused_for_someone_elses_pin_a_wrong_current_pin_or_a_bad_pin(ledger):
    assert "only an admin may do this" in refused(ledger, ChangePin("phil", "5678"), "nina")
    assert refused(ledger, ChangePin("nina", "5678", current_pin="0000"), "nina") == "Current PIN: wrong PIN."
    assert refused(ledger, ChangePin("nina", "12", current_pin="1234"), "nina") == "PIN: 4 to 8 digits."
    assert refused(ledger, ChangePin("nobody", "5678"), "adam") == "User name: no user 'nobody'."
    ledger.execute(DeactivateUser("noah"), "adam")
    assert "deactivated" in refused(ledger, ChangePin("noah", "5678"), "adam")


def test_change_pin_is_accepted_for_ones_own_and_by_an_admin(ledger):
    (ev,) = ledger.execute(ChangePin("nina", "5678", current_pin="1234"), "nina")
    assert ev.kind == "user.pin_changed" and ev.actor == "nina"
    assert ledger.sign_in("nina", "5678").user is not None and ledger.sign_in("nina", "1234").user is None
    ledger.execute(ChangePin("phil", "8765"), "adam")
    assert ledger.sign_in("phil", "8765").user is not None


# -- DeactivateUser -----------------------------------------------------------------------------
def test_deactivate_is_refused_for_a_non_admin_the_last_admin_and_twice(ledger):
    assert "only an admin may do this" in refused(ledger, DeactivateUser("noah"), "priya")
    assert "last active admin" in refused(ledger, DeactivateUser("adam"), "adam")
    ledger.execute(DeactivateUser("noah"), "adam")
    assert "deactivated already" in refused(ledger, DeactivateUser("noah"), "adam")
    assert refused(ledger, DeactivateUser("nobody"), "adam") == "User name: no user 'nobody'."


def test_deactivate_is_accepted_and_the_account_can_no_longer_act(ledger):
    (ev,) = ledger.execute(DeactivateUser("noah"), "adam")
    assert ev.kind == "user.deactivated" and not ledger.users()["noah"].active
    assert not ledger.actor("noah").known
    assert ledger.sign_in("noah", "1234").user is None
    ledger.execute(AddUser("ann", "Ann Admin", "admin", "4821"), "adam")
    ledger.execute(DeactivateUser("adam"), "ann")  # another admin is left
    assert "'adam' is not an active user" in refused(ledger, AddUser("zoe", "Zoe", "nurse", "4821"), "adam")


def test_who_may_open_the_admin_screens():
    assert auth.may_administer("admin") and not any(auth.may_administer(r) for r in ("nurse", "pharmacist", "prescriber", None))

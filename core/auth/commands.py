"""The users log's commands: sign in, the first admin, add a user, unlock, change a PIN, deactivate,
and one's own preferences.

Who may do what is read from the users log (``actor.role``), never passed in. A sign-in's actor is
the name typed: a failed try is recorded under it (only for a real, unlocked account), and an
unknown name, a wrong PIN and a locked account get the one answer :data:`SIGNIN_REFUSED` after the
same argon2 work (core/auth/__init__.py tells the whole rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from attrs import field, frozen

from ..commands import Actor, Command, Decision, Refusal, State, decider, refuse, require_role
from ..events import Event
from .events import PinChanged, PreferenceSet, SignInFailed, UserCreated, UserDeactivated, UserSignedIn, UserUnlocked
from .pins import DUMMY_PIN_HASH, check_pin, hash_pin
from .users import (
    ADMIN_ROLES,
    PIN_RE,
    PREFERENCES,
    ROLES,
    SIGNIN_REFUSED,
    USERS_STREAM,
    SignInResult,
    User,
    validate_new_user,
)

#: ``bedside users unlock`` records its actor as ``os:<unix user>``: whoever may write the database
#: files (a user name cannot hold a ":", so no account can pass for one).
OS_ACTOR_PREFIX = "os:"


def by_os_or_admin(actor: Actor, what: str) -> Refusal | None:
    """None if ``actor`` is the operating system's user of the database files (``os:<name>``, no
    role) or an admin; else the refusal naming ``what``."""
    if actor.role is None and actor.username.startswith(OS_ACTOR_PREFIX):
        return None
    return require_role(actor, ADMIN_ROLES, what)


@frozen
class SignIn(Command):
    """Sign-in screen, enter: sign in (also the idle lock's PIN and a co-signer's sign-in dialog)."""

    username: str
    pin: str = field(repr=False)
    stream: ClassVar[str] = USERS_STREAM
    emits = (UserSignedIn, SignInFailed)


@decider(SignIn)
def decide_sign_in(state: State, cmd: SignIn, now: datetime, actor: Actor) -> Decision:
    """The right PIN records ``user.signed_in``, a wrong one ``user.signin_failed``; an unknown or
    deactivated name, or a locked account, is refused with the same words after a dummy verify
    (no PIN is checked while locked, and nothing is recorded)."""
    u = state.users.get(cmd.username)
    if u is None or not u.active or u.is_locked(now) or actor.username != cmd.username:
        check_pin(state.key, DUMMY_PIN_HASH, cmd.pin)  # the same work as a wrong PIN; the answer is ignored
        return refuse(SIGNIN_REFUSED)
    if check_pin(state.key, u.pin_hash, cmd.pin):
        return [UserSignedIn(cmd.username)]
    return [SignInFailed(cmd.username)]


def sign_in_result(recorded: Sequence[Event], users: Mapping[str, User]) -> SignInResult:
    """What a sign-in came to, from what it recorded (nothing: refused)."""
    ev = recorded[-1] if recorded else None
    if ev is not None and ev.kind == UserSignedIn.KIND:
        return SignInResult(users[ev.data["username"]], ev, "Signed in.")
    return SignInResult(None, ev, SIGNIN_REFUSED)


def _new_user(state: State, username: str, full_name: str, role: str, pin: str) -> Decision:
    errors = validate_new_user(username, full_name, role, pin, pin, dict(state.users))
    if errors:
        return refuse(" ".join(errors.values()))
    return [UserCreated(username, full_name.strip(), role, hash_pin(state.key, pin))]


@frozen
class CreateFirstAdmin(Command):
    """First start, ctrl+s: create the first admin (only while the database has no user)."""

    username: str
    full_name: str
    pin: str = field(repr=False)
    stream: ClassVar[str] = USERS_STREAM
    emits = (UserCreated,)


@decider(CreateFirstAdmin)
def decide_first_admin(state: State, cmd: CreateFirstAdmin, now: datetime, actor: Actor) -> Decision:
    if state.users:
        return refuse("First admin: this database has users already; an admin adds users on the Users screen.")
    return _new_user(state, cmd.username, cmd.full_name, "admin", cmd.pin)


@frozen
class AddUser(Command):
    """Users screen, n then ctrl+s: add a user with a role and a PIN (admins only)."""

    username: str
    full_name: str
    role: str
    pin: str = field(repr=False)
    stream: ClassVar[str] = USERS_STREAM
    emits = (UserCreated,)


@decider(AddUser)
def decide_add_user(state: State, cmd: AddUser, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ADMIN_ROLES, "Add a user")
    if refused:
        return refused
    return _new_user(state, cmd.username, cmd.full_name, cmd.role, cmd.pin)


def _target(state: State, username: str) -> User | Refusal:
    u = state.users.get(username)
    return u if u is not None else refuse(f"User name: no user '{username}'.")


@frozen
class UnlockUser(Command):
    """Users screen, u: lift a sign-in lock at once (admins; `bedside users unlock` as the OS user)."""

    username: str
    stream: ClassVar[str] = USERS_STREAM
    emits = (UserUnlocked,)


@decider(UnlockUser)
def decide_unlock(state: State, cmd: UnlockUser, now: datetime, actor: Actor) -> Decision:
    refused = by_os_or_admin(actor, "Unlock a user")
    if refused:
        return refused
    u = _target(state, cmd.username)
    return u if isinstance(u, Refusal) else [UserUnlocked(cmd.username)]


@frozen
class ChangePin(Command):
    """No screen yet: change a PIN (one's own, with the current PIN; anyone's as an admin)."""

    username: str
    pin: str = field(repr=False)
    current_pin: str = field(default="", repr=False)
    stream: ClassVar[str] = USERS_STREAM
    emits = (PinChanged,)


@decider(ChangePin)
def decide_change_pin(state: State, cmd: ChangePin, now: datetime, actor: Actor) -> Decision:
    own = actor.known and actor.username == cmd.username
    refused = None if own else require_role(actor, ADMIN_ROLES, "Change a PIN")
    if refused:
        return refused
    u = _target(state, cmd.username)
    if isinstance(u, Refusal):
        return u
    if not u.active:
        return refuse(f"Change a PIN: '{cmd.username}' is deactivated.")
    if own and not check_pin(state.key, u.pin_hash, cmd.current_pin):
        return refuse("Current PIN: wrong PIN.")
    if not PIN_RE.match(cmd.pin):
        return refuse("PIN: 4 to 8 digits.")
    return [PinChanged(cmd.username, hash_pin(state.key, cmd.pin))]


@frozen
class DeactivateUser(Command):
    """No screen yet: deactivate an account (admins only; never the last active admin)."""

    username: str
    stream: ClassVar[str] = USERS_STREAM
    emits = (UserDeactivated,)


@decider(DeactivateUser)
def decide_deactivate(state: State, cmd: DeactivateUser, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ADMIN_ROLES, "Deactivate a user")
    if refused:
        return refused
    u = _target(state, cmd.username)
    if isinstance(u, Refusal):
        return u
    if not u.active:
        return refuse(f"Deactivate a user: '{cmd.username}' is deactivated already.")
    admins = [v for v in state.users.values() if v.active and v.role == "admin"]
    if u.role == "admin" and len(admins) == 1:
        return refuse("Deactivate a user: the last active admin stays (no one could add users or unlock accounts).")
    return [UserDeactivated(cmd.username)]


@frozen
class SetPreference(Command):
    """Any screen once signed in, ctrl+t or the command palette: set one of one's own preferences (the theme)."""

    username: str
    name: str
    value: str
    stream: ClassVar[str] = USERS_STREAM
    emits = (PreferenceSet,)


@decider(SetPreference)
def decide_preference(state: State, cmd: SetPreference, now: datetime, actor: Actor) -> Decision:
    """Only one's own, only a known name and one of its values; the value it has already records nothing."""
    if not actor.known or actor.username != cmd.username:
        return refuse("Preferences: each user sets only their own, signed in.")
    allowed = PREFERENCES.get(cmd.name)
    if allowed is None:
        return refuse(f"Preferences: no preference named {cmd.name!r}.")
    if cmd.value not in allowed:
        return refuse(f"Preferences: {cmd.name} is one of {', '.join(allowed)}; got {cmd.value!r}.")
    if dict(state.users[cmd.username].preferences).get(cmd.name) == cmd.value:
        return []
    return [PreferenceSet(cmd.username, cmd.name, cmd.value)]


__all__ = [
    "OS_ACTOR_PREFIX",
    "ROLES",
    "AddUser",
    "ChangePin",
    "CreateFirstAdmin",
    "DeactivateUser",
    "SetPreference",
    "SignIn",
    "UnlockUser",
    "sign_in_result",
]

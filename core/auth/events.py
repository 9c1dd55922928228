"""The users log's events (stream ``users``): one typed payload per kind; the kind strings live here.

``username`` always names the account the event is about; the event's actor is who did it (the
user themself for a sign-in or a failed try, an admin, ``system`` for the first admin, or
``os:<name>`` for ``bedside users unlock``).
"""

from __future__ import annotations

from attrs import frozen

from ..events import Payload, event_type


@event_type("user.created")
@frozen
class UserCreated(Payload):
    """A new account: its PIN only as an argon2id hash of the peppered PIN."""

    username: str
    full_name: str
    role: str
    pin_hash: str


@event_type("user.signed_in")
@frozen
class UserSignedIn(Payload):
    """A sign-in with the right PIN (clears the run of failed tries and any lock)."""

    username: str


@event_type("user.signin_failed")
@frozen
class SignInFailed(Payload):
    """A wrong PIN on a real, unlocked account (the 5th in a row locks it)."""

    username: str


@event_type("user.unlocked")
@frozen
class UserUnlocked(Payload):
    """A lock lifted at once (an admin, or ``bedside users unlock``)."""

    username: str


@event_type("user.pin_changed")
@frozen
class PinChanged(Payload):
    """A new PIN (its hash); clears failed tries and any lock."""

    username: str
    pin_hash: str


@event_type("user.deactivated")
@frozen
class UserDeactivated(Payload):
    """The account may no longer sign in or act (its history stays)."""

    username: str


@event_type("user.preference_set")
@frozen
class PreferenceSet(Payload):
    """One of a user's own preferences (the colour theme): the latest of each name stands."""

    username: str
    name: str
    value: str


USER_CREATED = UserCreated.KIND
USER_SIGNED_IN = UserSignedIn.KIND
USER_SIGNIN_FAILED = SignInFailed.KIND
USER_UNLOCKED = UserUnlocked.KIND
USER_PIN_CHANGED = PinChanged.KIND
USER_DEACTIVATED = UserDeactivated.KIND
USER_PREFERENCE_SET = PreferenceSet.KIND

"""Users, roles, PINs and sign-in (the users log, stream ``users``).

PINs are stored only as argon2id hashes (argon2-cffi) of an HMAC of the PIN under a site key
kept outside the database (the "pepper"): a stolen database alone does not allow offline
guessing of the 10⁴–10⁸ possible PINs. argon2 is imported only when a PIN is hashed or checked.

Lockout (a security rule, not a clinical one): after :data:`MAX_FAILED_ATTEMPTS` consecutive failed
tries the account is locked for :data:`LOCKOUT_FIRST_DELAY`; every further failed try after a lock
has lifted (before a successful sign-in) locks it again for twice as long, up to
:data:`LOCKOUT_MAX_DELAY`. The lock lifts by itself: it is computed from the stored events and the
``at`` passed in, never from a clock read here. An admin (Users screen) or whoever may write the
database files (``bedside users unlock``) can lift it at once. So no one can lock an account
(the only admin's included) for good, and a PIN can still be guessed only a few times an hour.
Each failed try on a real account is a ``user.signin_failed`` event. An unknown user name, a wrong
PIN and a locked account get the same words (:data:`SIGNIN_REFUSED`) and the same argon2 work (a
dummy hash is verified where there is no PIN to check); a locked account's PIN is not checked (no
oracle while locked) and the try is not recorded (at most one event per lock); a try on an unknown
name records nothing (no one can flood the log with made-up names, and a PIN typed into the name
field by mistake is not kept for ever).

Modules: ``events`` (the typed payloads), ``users`` (the fold and the lockout rule), ``pins`` (the
site key and argon2), ``commands`` (sign in, the first admin, add, unlock, change a PIN, deactivate,
one's own preferences: :data:`PREFERENCES`, folded into :attr:`User.preferences`).
"""

from __future__ import annotations

from .commands import (
    AddUser,
    ChangePin,
    CreateFirstAdmin,
    DeactivateUser,
    SetPreference,
    SignIn,
    UnlockUser,
    sign_in_result,
)
from .events import (
    USER_CREATED,
    USER_DEACTIVATED,
    USER_PIN_CHANGED,
    USER_PREFERENCE_SET,
    USER_SIGNED_IN,
    USER_SIGNIN_FAILED,
    USER_UNLOCKED,
    PinChanged,
    PreferenceSet,
    SignInFailed,
    UserCreated,
    UserDeactivated,
    UserSignedIn,
    UserUnlocked,
)
from .pins import ARGON2_PARAMS, DUMMY_PIN_HASH, SiteKey, check_pin, hash_pin
from .users import (
    ADMIN_ROLES,
    LOCKOUT_FIRST_DELAY,
    LOCKOUT_MAX_DELAY,
    MAX_FAILED_ATTEMPTS,
    PIN_RE,
    PREFERENCES,
    ROLE_LABELS,
    ROLES,
    SIGNIN_REFUSED,
    USERNAME_RE,
    USERS_STREAM,
    SignInResult,
    User,
    apply_user_event,
    fold_users,
    lock_notice,
    lockout_delay,
    may_administer,
    validate_new_user,
)

__all__ = [
    "ADMIN_ROLES",
    "ARGON2_PARAMS",
    "DUMMY_PIN_HASH",
    "LOCKOUT_FIRST_DELAY",
    "LOCKOUT_MAX_DELAY",
    "MAX_FAILED_ATTEMPTS",
    "PIN_RE",
    "PREFERENCES",
    "ROLES",
    "ROLE_LABELS",
    "SIGNIN_REFUSED",
    "USERNAME_RE",
    "USERS_STREAM",
    "USER_CREATED",
    "USER_DEACTIVATED",
    "USER_PIN_CHANGED",
    "USER_PREFERENCE_SET",
    "USER_SIGNED_IN",
    "USER_SIGNIN_FAILED",
    "USER_UNLOCKED",
    "AddUser",
    "ChangePin",
    "CreateFirstAdmin",
    "DeactivateUser",
    "PinChanged",
    "PreferenceSet",
    "SetPreference",
    "SignIn",
    "SignInFailed",
    "SignInResult",
    "SiteKey",
    "UnlockUser",
    "User",
    "UserCreated",
    "UserDeactivated",
    "UserSignedIn",
    "UserUnlocked",
    "apply_user_event",
    "check_pin",
    "fold_users",
    "hash_pin",
    "lock_notice",
    "lockout_delay",
    "may_administer",
    "sign_in_result",
    "validate_new_user",
]

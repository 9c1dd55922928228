"""One's own preferences (the colour theme): a command on the users log, folded into the user's
record, so the choice follows the user to any terminal (issue 17)."""

from __future__ import annotations

import pytest

from bedside.core import auth
from bedside.core.auth import SetPreference
from bedside.core.events import EVENT_TYPES, decode

from .helpers import decided, refused


def test_a_user_sets_their_own_theme_and_it_is_folded_into_their_record(ledger):
    assert ledger.users()["nina"].preference("theme") == "dark"  # the default: the first value allowed
    recorded = ledger.execute(SetPreference("nina", "theme", "light"), "nina")
    assert [(e.kind, e.actor, e.stream) for e in recorded] == [(auth.USER_PREFERENCE_SET, "nina", auth.USERS_STREAM)]
    p = decode(recorded[0])
    assert type(p) is EVENT_TYPES[auth.USER_PREFERENCE_SET] and p.to_data() == recorded[0].data
    assert ledger.users()["nina"].preference("theme") == "light"
    assert ledger.users()["noah"].preference("theme") == "dark", "one user's choice is theirs alone"
    ledger.execute(SetPreference("nina", "theme", "high-contrast"), "nina")
    assert ledger.users()["nina"].preference("theme") == "high-contrast", "the latest stands"
    assert ledger.users()["nina"].preferences == (("theme", "high-contrast"),)


def test_the_value_it_already_has_records_nothing(ledger):
    ledger.execute(SetPreference("phil", "theme", "light"), "phil")
    before = ledger.version(auth.USERS_STREAM)
    assert ledger.execute(SetPreference("phil", "theme", "light"), "phil") == []
    assert ledger.version(auth.USERS_STREAM) == before


def test_a_preference_survives_a_new_fold_of_the_log(ledger):
    ledger.execute(SetPreference("priya", "theme", "high-contrast"), "priya")
    users = auth.fold_users(ledger.stream_events(auth.USERS_STREAM))
    assert users["priya"].preference("theme") == "high-contrast"
    ledger.sign_in("priya", "1234")  # a sign-in, a failed try, a PIN change keep it
    ledger.sign_in("priya", "0000")
    assert ledger.users()["priya"].preference("theme") == "high-contrast"


@pytest.mark.parametrize(
    ("cmd", "actor", "words"),
    [
        (SetPreference("nina", "theme", "light"), "noah", "only their own"),
        (SetPreference("nina", "theme", "light"), "adam", "only their own"),  # an admin too
        (SetPreference("ghost", "theme", "light"), "ghost", "only their own"),
        (SetPreference("nina", "font", "big"), "nina", "no preference named 'font'"),
        (SetPreference("nina", "theme", "pink"), "nina", "theme is one of dark, light, high-contrast"),
    ],
)
def test_refused_for_someone_else_an_unknown_name_or_value(ledger, cmd, actor, words):
    assert words in refused(ledger, cmd, actor)


def test_a_deactivated_user_sets_nothing(ledger):
    ledger.execute(auth.DeactivateUser("noah"), "adam")
    assert "only their own" in refused(ledger, SetPreference("noah", "theme", "light"), "noah")
    assert decided(ledger, SetPreference("nina", "theme", "light"), "nina")  # others still may

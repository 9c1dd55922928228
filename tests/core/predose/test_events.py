"""The pre-dose events are typed: every stored event of a pre-dose kind in the database written
by main at 5f43dfd decodes to its class with no key the class does not declare, and the classes
write back exactly what they read (no migration)."""

from __future__ import annotations

import attrs

from bedside.core import predose as pd
from bedside.core.events import EVENT_TYPES, decode, unknown_keys
from tests.fixtures.main_db import fixture_events

stored_events = fixture_events


def test_every_predose_kind_is_registered_once():
    kinds = {cls.KIND for cls in pd.PREDOSE_EVENTS}
    assert kinds == {
        pd.IDENTITY,
        pd.PREMED,
        pd.CHECKLIST,
        pd.OVERRIDE,
        pd.VERDICT,
        pd.TOX_RECORDED,
        pd.TOX_RESOLVED,
        pd.ECG,
        pd.ELECTROLYTES,
        pd.QT_DRUG,
        pd.BILI_CAUSE,
    }
    for cls in pd.PREDOSE_EVENTS:
        assert EVENT_TYPES[cls.KIND] is cls and attrs.has(cls)


def test_the_stored_predose_events_decode_with_no_unknown_key(tmp_path):
    kinds = {cls.KIND for cls in pd.PREDOSE_EVENTS}
    seen: set[str] = set()
    for ev in stored_events(tmp_path):
        if ev.kind not in kinds:
            continue
        seen.add(ev.kind)
        p = decode(ev)
        assert type(p) is EVENT_TYPES[ev.kind]
        assert unknown_keys(ev) == set(), (ev.ref, ev.kind)
        assert p.to_data() == ev.data, (ev.ref, ev.kind)  # written back exactly as stored
    assert seen == kinds, f"the fixture has no {sorted(kinds - seen)}"

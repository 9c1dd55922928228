"""The pre-dose events are typed: every stored event of a pre-dose kind in the database written
by main at 5f43dfd decodes to its class with no key the class does not declare, and the classes
write back exactly what they read (no migration)."""

from __future__ import annotations

import shutil
from pathlib import Path

import attrs

from bedside.core import predose as pd
from bedside.core.events import EVENT_TYPES, decode, unknown_keys
from bedside.core.store import SqliteStore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DB = FIXTURES / "main-5f43dfd.db"


def stored_events(tmp_path):
    copy = tmp_path / DB.name
    shutil.copyfile(DB, copy)
    shutil.copyfile(DB.with_name(DB.name + ".head"), copy.with_name(copy.name + ".head"))
    store = SqliteStore(copy)
    try:
        return store.read()
    finally:
        store.close()


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

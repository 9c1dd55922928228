"""The intake's typed events: every stored intake event in the database written by main at 5f43dfd
decodes to its class with no key the class does not declare, and writes back the same JSON (no
migration); each form's payload class holds every field of its form (and what core derives)."""

from __future__ import annotations

from datetime import date

import attrs

from bedside.core import intake
from bedside.core.events import EVENT_TYPES, decode, unknown_keys

from ..auth.helpers import fixture_events

DERIVED = {"confirmed_unusual", "bsa_formula", "bsa_m2", "derived_from"}


def test_each_section_has_one_class_whose_kind_is_the_sections():
    assert set(intake.SECTION_PAYLOADS) == set(intake.SECTIONS)
    for name, cls in intake.SECTION_PAYLOADS.items():
        assert intake.SECTIONS[name].kind == cls.KIND and EVENT_TYPES[cls.KIND] is cls
        fields = {a.name for a in attrs.fields(cls)}
        assert {f.name for f in intake.SECTIONS[name].fields} <= fields, name
        assert fields - {f.name for f in intake.SECTIONS[name].fields} <= DERIVED, name
    assert intake.CORRECTION_KIND == intake.EntryCorrected.KIND == "intake.corrected"
    assert intake.PATIENT_REGISTERED == "patient.registered"


def test_the_fixture_database_decodes_and_round_trips(tmp_path):
    # labs.imported (issue 20) is newer than the fixture: tests/core/labs/test_import.py round-trips it
    kinds = (set(intake.KIND_TO_SECTION) | {intake.CORRECTION_KIND}) - {"labs.imported"}
    seen = set()
    for ev in fixture_events(tmp_path):
        if ev.kind not in kinds:
            continue
        seen.add(ev.kind)
        p = decode(ev)
        assert type(p) is EVENT_TYPES[ev.kind] and not unknown_keys(ev), (ev.ref, unknown_keys(ev))
        assert p.to_data() == ev.data, ev.ref
    assert seen == kinds, f"the fixture lacks {kinds - seen}"


def test_an_empty_optional_field_is_absent_not_null():
    r = intake.validate("consent", {"consent": "given", "consent_date": "2025-03-01", "note": ""}, today=date(2025, 3, 3))
    p = intake.ConsentRecorded(**r.data)
    assert p.to_data() == {"consent": "given", "consent_date": "2025-03-01"}

"""The monitor's typed events: every stored event of an infusion kind in the database written by
main at 5f43dfd decodes to its class, with no key the class does not declare, and writes back the
same JSON (no migration); the classes write what event_data wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bedside.core import infusion as inf
from bedside.core.events import EVENT_TYPES, decode, unknown_keys
from tests.fixtures.main_db import fixture_events as _fixture_events

DB = Path(__file__).resolve().parents[2] / "fixtures" / "main-5f43dfd.db"
T = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def test_every_infusion_kind_has_one_class_and_the_old_names_are_its_kind():
    assert set(inf.PAYLOADS) == set(inf.KINDS) == set(inf.DOSE_KINDS) | {inf.ALERT_ACKNOWLEDGED}
    for kind, cls in inf.PAYLOADS.items():
        assert EVENT_TYPES[kind] is cls and kind == cls.KIND
    assert inf.INFUSION_STARTED == "infusion.started" and inf.ALERT_ACKNOWLEDGED == "alert.acknowledged"


def test_the_fixture_database_decodes_and_round_trips(tmp_path):
    seen = set()
    for ev in _fixture_events(tmp_path):
        if ev.kind not in inf.KINDS:
            continue
        seen.add(ev.kind)
        p = decode(ev)
        assert type(p) is inf.PAYLOADS[ev.kind]
        assert unknown_keys(ev) == set(), (ev.kind, ev.data)
        assert p.to_data() == ev.data, (ev.kind, ev.data)
    # The fixture holds every kind the monitor writes (infusion.ended is optional and there too).
    assert seen == set(inf.KINDS)


def test_payloads_write_what_event_data_wrote():
    cases = [
        (inf.INFUSION_STARTED, {"route": "bag", "flush_min": 0, "stability_deadline": T}),
        (inf.INFUSION_STARTED, {"route": "syringe", "flush_min": 12, "stability_deadline": None, "label_deadline": T}),
        (inf.INFUSION_PAUSED, {"reason": "pump"}),
        (inf.INFUSION_RESUMED, {}),
        (inf.INFUSION_ENDED, {}),
        (inf.INFUSION_STOPPED, {"reason": "asked"}),
        (inf.OBSERVATION_COMPLETED, {}),
        (inf.OBSERVATION_INCOMPLETE, {"reason": "left"}),
        (inf.OBSERVATION_INCOMPLETE, {"reason": "left", "who": "mother"}),
        (inf.VITALS_RECORDED, {"temp_c": "37.0", "hr": 80, "sys": 120, "dia": 75, "rr": 16, "spo2": 98}),
        (
            inf.VITALS_RECORDED,
            {
                "temp_c": "39.5",
                "hr": 80,
                "sys": 120,
                "dia": 75,
                "rr": 16,
                "spo2": 98,
                "confirmed_unusual": ["temp_c"],
                "point": "reaction:1",
            },
        ),
        (inf.REACTION_STARTED, {"symptoms": "rash"}),
        (inf.REACTION_GRADED, {"grade": 2}),
        (inf.REACTION_GRADED, {"grade": "anaphylaxis", "reaction": 1, "correction_reason": "re-read"}),
        (inf.REACTION_NOTIFIED, {"who": "Dr R", "reaction": 1}),
        (inf.REACTION_TREATED, {"treatment": "none"}),
        (inf.REACTION_RESOLVED, {"outcome": "stop", "reaction": 2}),
    ]
    for kind, fields in cases:
        data = inf.event_data(kind, "c1d8", T, **fields)
        p = inf.PAYLOADS[kind].from_data(data)
        assert p.to_data() == data, (kind, data)
        assert inf.payload(kind, "c1d8", T, **fields) == p
    ack = inf.acknowledgement_data("vitals-due:c1d8:end:x", T, "c1d8")
    assert inf.AlertAcknowledged.from_data(ack).to_data() == ack
    bare = inf.acknowledgement_data("x", T)
    assert inf.AlertAcknowledged.from_data(bare).to_data() == bare == {"alert_id": "x", "at": "2025-03-10T12:00:00.000000Z"}

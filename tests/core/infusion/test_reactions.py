"""One reaction numbering (core/infusion/reactions.py): by fact time, then log order."""

from __future__ import annotations

from datetime import UTC, datetime

from bedside.core import infusion as inf
from bedside.core.events import Event


def _ev(seq: int, kind: str, data: dict, written: datetime) -> Event:
    return Event(seq, "patient:p", seq, kind, "nina", written, data, "0" * 64, f"{seq:064x}")


def test_reactions_are_numbered_by_fact_time_then_seq_per_dose():
    w = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    evs = [
        _ev(1, inf.REACTION_STARTED, {"dose_id": "c1d8", "at": "2025-03-10T11:30:00.000000Z", "symptoms": "b"}, w),
        _ev(2, inf.REACTION_STARTED, {"dose_id": "c1d8", "at": "2025-03-10T11:00:00.000000Z", "symptoms": "a"}, w),  # late entry
        _ev(3, inf.REACTION_STARTED, {"dose_id": "c1d1", "at": "2025-03-10T10:00:00.000000Z", "symptoms": "x"}, w),
        _ev(4, inf.REACTION_STARTED, {"dose_id": "c1d8", "at": "2025-03-10T11:30:00.000000Z", "symptoms": "c"}, w),
        _ev(5, inf.REACTION_GRADED, {"dose_id": "c1d8", "at": "2025-03-10T11:40:00.000000Z", "grade": 1}, w),
    ]
    assert inf.reaction_numbers(evs, "c1d8") == {2: 1, 1: 2, 4: 3}
    assert inf.reaction_numbers(evs) == {3: 1, 2: 2, 1: 3, 4: 4}
    # The monitor fold numbers them the same way.
    st = inf.monitor(evs, "c1d8", datetime(2025, 3, 10, 13, 0, tzinfo=UTC))
    assert [(r.number, r.symptoms) for r in st.reactions] == [(1, "a"), (2, "b"), (3, "c")]
    assert inf.fact_time(evs[0]) == datetime(2025, 3, 10, 11, 30, tzinfo=UTC)
    assert inf.fact_time(_ev(6, inf.REACTION_STARTED, {"dose_id": "c1d8", "symptoms": "no time"}, w)) == w

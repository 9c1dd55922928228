"""A demo patient walked through a whole infusion (shared by the printed record's and the FHIR
export's tests): the engines' own builders, as the screens record it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bedside.core import infusion as inf
from bedside.core import predose as pr
from bedside.core import preparation as prep
from bedside.core import schedule as sch
from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.events import NewEvent, iso_utc
from bedside.core.infusion import gate as workflow
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from tests.core.preparation import builders as pb  # the old builders (test-only)

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SYMPTOMS = "rigors and flushing [bold]x[/bold] *not markdown*"
TREATMENT = "paracetamol 1 g PO; [red]no[/red] steroid"
LONG_REASON = ("patient asked for a break to speak with the family about the transplant plan and " * 2).strip()

# --- building a patient through a whole infusion ---------------------------------------------------


def demo(tmp_path, at: datetime = T0) -> tuple[Ledger, FakeClock, SqliteStore]:
    clock = FakeClock(at)
    store = SqliteStore(tmp_path / "demo.db")
    seed(store, clock)
    return Ledger(store, clock, DEMO_KEY), clock, store


@pytest.fixture
def demo_db(tmp_path) -> Iterator[tuple[Ledger, FakeClock]]:
    """The demo database at :data:`T0` (tmp_path/demo.db): its ledger and clock, closed after the test."""
    ledger, clock, store = demo(tmp_path)
    yield ledger, clock
    store.close()


def users_of(ledger: Ledger) -> dict[str, tuple[str, str]]:
    return {u.username: (u.full_name, u.role) for u in ledger.users().values()}


def walk_full_infusion(
    ledger: Ledger, clock: FakeClock, mrn: str = "MRN-100231", *, scenario: str = "complete", stop_grade: int = 3
) -> str:
    """Walk a demo patient through C1 D1 with the engines' own builders, as the screens do.

    ``complete``: vitals, a Grade 2 reaction (notified, treated, resolved, resumed), a second pause
    with a long reason, the end, end and observation-end vitals, observation completed; then C1 D8
    held and C1 D15 omitted. ``paused``: stops while the second pause is open. ``stopped``: a
    Grade 3 reaction (or ``stop_grade``) stops the infusion and the patient leaves before observation ends.
    Returns the patient id.
    """
    pid = next(p.id for p in ledger.patients() if p.mrn == mrn)
    p = ledger.patient(pid)
    stream = p.stream
    today = ledger.today()

    def put(kind: str, data: dict, actor: str = "nina") -> None:
        ledger.append(stream, lambda: [NewEvent(stream, kind, actor, clock.now(), data)])

    def infusion(kind: str, actor: str = "nina", **fields) -> None:
        put(kind, inf.event_data(kind, "c1d1", clock.now(), **fields), actor)

    def vitals(point: str | None = None, **over) -> None:
        raw = {"temp_c": "36.9", "hr": "82", "sys": "128", "dia": "78", "rr": "16", "spo2": "97", **over}
        data, errors = inf.validate_vitals(raw)
        assert not errors, errors
        if point:
            data["point"] = point
        infusion(inf.VITALS_RECORDED, **data)

    # make_ready, as tests/tui/conftest.py does it (the double-check by a second nurse)
    ledger.execute(sch.StartCycle(pid, today), "priya")
    put(pr.IDENTITY, {"cycle": 1, "day": 1, "method": "typed", "name": p.name, "dob": p.identity["dob"], "mrn": p.mrn})
    for cls, drug, dose in (
        ("corticosteroid", "dexamethasone", "12 mg IV"),
        ("antipyretic", "paracetamol", "1000 mg PO"),
        ("antihistamine", "loratadine", "10 mg PO"),
    ):
        put(
            pr.PREMED,
            {
                "cycle": 1,
                "day": 1,
                "drug_class": cls,
                "drug": drug,
                "dose": dose,
                "given_at": iso_utc(clock.now() - timedelta(minutes=30)),
            },
        )
    put(pr.ECG, {"date": today.isoformat()})
    put(pr.ELECTROLYTES, {"date": today.isoformat()})
    put(pr.CHECKLIST, {"cycle": 1, "day": 1, "emergency_ready": True})
    m = p.current("measurement")
    ledger.append(
        stream,
        lambda: [pb.calculation_event(stream, "phil", clock.now(), "c1d1", 1, 1, Decimal("0.8"), "Table 1", m, "mosteller")],
    )

    def st() -> prep.PrepState:
        return prep.fold(ledger.stream_events(stream), "c1d1")

    ledger.append(stream, lambda: [pb.step_event(st(), stream, "phil", "pharmacist", clock.now(), "reconstituted", clock.now())])
    clock.advance(minutes=10)
    ledger.append(
        stream,
        lambda: [pb.step_event(st(), stream, "phil", "pharmacist", clock.now(), "diluted", clock.now(), "refrigerated")],
    )
    ledger.append(
        stream, lambda: [pb.verification_event(st(), stream, "noah", "nurse", clock.now(), st().calculation.expected())]
    )

    # the start, as the monitor screen records it (start gate, then start + dose given together)
    clock.advance(minutes=2)
    vitals()
    gate = workflow.start_gate(ledger, pid, "c1d1")
    assert not gate.blockers, gate.blockers
    start = inf.event_data(
        inf.INFUSION_STARTED,
        "c1d1",
        clock.now(),
        route=gate.route,
        flush_min=gate.flush_min,
        stability_deadline=gate.stability_deadline,
    )
    ledger.append(
        stream,
        lambda: [
            NewEvent(stream, inf.INFUSION_STARTED, "nina", clock.now(), start),
            NewEvent(stream, sch.DOSE_GIVEN, "nina", clock.now(), gate.given),
        ],
    )

    clock.advance(minutes=15)
    infusion(inf.REACTION_STARTED, symptoms=SYMPTOMS)
    clock.advance(minutes=1)
    vitals("reaction:1", temp_c="38.4", hr="112")
    infusion(inf.REACTION_GRADED, grade=stop_grade if scenario == "stopped" else 2)
    clock.advance(minutes=1)
    infusion(inf.REACTION_NOTIFIED, who="Dr Raman (on call)")
    infusion(inf.REACTION_TREATED, treatment=TREATMENT)
    clock.advance(minutes=8)
    if scenario == "stopped":
        infusion(inf.REACTION_RESOLVED, outcome="stop")
        clock.advance(minutes=20)
        infusion(inf.OBSERVATION_INCOMPLETE, reason="patient left against advice", who="patient")
        return pid
    infusion(inf.REACTION_RESOLVED, outcome="resume")
    clock.advance(minutes=1)
    infusion(inf.INFUSION_RESUMED)
    clock.advance(minutes=14)
    infusion(inf.INFUSION_PAUSED, actor="noah", reason=LONG_REASON)
    if scenario == "paused":
        clock.advance(minutes=2)
        return pid
    clock.advance(minutes=5)
    infusion(inf.INFUSION_RESUMED, actor="noah")
    mon = inf.monitor(ledger.stream_events(stream), "c1d1", clock.now())
    clock.set(mon.infusion_end_at)
    infusion(inf.INFUSION_ENDED)
    vitals("end")
    clock.advance(minutes=60)
    vitals("observation_end")
    clock.advance(minutes=1)
    infusion(inf.OBSERVATION_COMPLETED)
    ledger.execute(sch.HoldDose(pid, 1, 8, "[bold]ALT rising[/bold]", "non_hematologic"), "priya")
    ledger.execute(sch.OmitDose(pid, 1, 15, "patient choice: travel"), "priya")
    return pid

"""The FHIR export (core/fhir.py): valid R4 (checked with fhir.resources' R4B models, which R4 data
of these resources satisfies), reproducible, UTC instants, exact amounts, user text as text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle  # fhir.resources 8 offers R4B (and R5), not R4

from bedside.core import fhir
from bedside.core import infusion as inf
from bedside.core import predose_records as pr
from bedside.core import preparation as prep
from bedside.core import schedule as sch
from bedside.core import workflow
from bedside.core.clock import FakeClock
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.events import NewEvent, iso_utc
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SYMPTOMS = "rigors and flushing [bold]x[/bold] *not markdown*"
TREATMENT = "paracetamol 1 g PO; [red]no[/red] steroid"
LONG_REASON = ("patient asked for a break to speak with the family about the transplant plan and " * 2).strip()

# Codes each status element may take (R4 required bindings, which fhir.resources does not check).
MA_STATUS = {"in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"}
MR_STATUS = {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
MR_INTENT = {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
OBS_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
GENDER = {"male", "female", "other", "unknown"}
PERFORM_FUNCTION = {"performer", "verifier", "witness"}
AE_OUTCOME = {"resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown"}


# --- building a patient through a whole infusion ---------------------------------------------------


def demo(tmp_path, at: datetime = T0) -> tuple[Ledger, FakeClock, SqliteStore]:
    clock = FakeClock(at)
    store = SqliteStore(tmp_path / "demo.db")
    seed(store, clock)
    return Ledger(store, clock, DEMO_KEY), clock, store


def users_of(ledger: Ledger) -> dict[str, tuple[str, str]]:
    return {u.username: (u.full_name, u.role) for u in ledger.users().values()}


def walk_full_infusion(ledger: Ledger, clock: FakeClock, mrn: str = "MRN-100231", *, scenario: str = "complete") -> str:
    """Walk a demo patient through C1 D1 with the engines' own builders, as the screens do.

    ``complete``: vitals, a Grade 2 reaction (notified, treated, resolved, resumed), a second pause
    with a long reason, the end, end and observation-end vitals, observation completed; then C1 D8
    held and C1 D15 omitted. ``paused``: stops while the second pause is open. ``stopped``: a
    Grade 3 reaction stops the infusion and the patient leaves before observation ends.
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
    ledger.schedule_event("priya", pid, sch.CYCLE_STARTED, lambda tl: sch.check_start(tl, today))
    put(pr.IDENTITY, {"cycle": 1, "day": 1, "method": "typed", "name": p.name, "dob": p.identity["dob"], "mrn": p.mrn})
    for cls, drug, dose in (("corticosteroid", "dexamethasone", "12 mg IV"), ("antipyretic", "paracetamol", "1000 mg PO"),
                            ("antihistamine", "loratadine", "10 mg PO")):
        put(pr.PREMED, {"cycle": 1, "day": 1, "drug_class": cls, "drug": drug, "dose": dose,
                        "given_at": iso_utc(clock.now() - timedelta(minutes=30))})
    put(pr.ECG, {"date": today.isoformat()})
    put(pr.ELECTROLYTES, {"date": today.isoformat()})
    put(pr.CHECKLIST, {"cycle": 1, "day": 1, "emergency_ready": True})
    m = p.current("measurement")
    ledger.append(stream, lambda: [prep.calculation_event(stream, "phil", clock.now(), "c1d1", 1, 1, Decimal("0.8"), "Table 1", m, "mosteller")])

    def st() -> prep.PrepState:
        return prep.fold(ledger.stream_events(stream), "c1d1")

    ledger.append(stream, lambda: [prep.step_event(st(), stream, "phil", "pharmacist", clock.now(), "reconstituted", clock.now())])
    clock.advance(minutes=10)
    ledger.append(stream, lambda: [prep.step_event(st(), stream, "phil", "pharmacist", clock.now(), "diluted", clock.now(), "refrigerated")])
    ledger.append(stream, lambda: [prep.verification_event(st(), stream, "noah", "nurse", clock.now(), st().calculation.expected())])

    # the start, as the monitor screen records it (start gate, then start + dose given together)
    clock.advance(minutes=2)
    vitals()
    gate = workflow.start_gate(ledger, pid, "c1d1")
    assert not gate.blockers, gate.blockers
    start = inf.event_data(inf.INFUSION_STARTED, "c1d1", clock.now(), route=gate.route, flush_min=gate.flush_min,
                           stability_deadline=gate.stability_deadline)
    ledger.append(stream, lambda: [NewEvent(stream, inf.INFUSION_STARTED, "nina", clock.now(), start),
                                   NewEvent(stream, sch.DOSE_GIVEN, "nina", clock.now(), gate.given)])

    clock.advance(minutes=15)
    infusion(inf.REACTION_STARTED, symptoms=SYMPTOMS)
    clock.advance(minutes=1)
    vitals("reaction:1", temp_c="38.4", hr="112")
    infusion(inf.REACTION_GRADED, grade=3 if scenario == "stopped" else 2)
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
    ledger.schedule_event("priya", pid, sch.DOSE_HELD, lambda tl: sch.check_hold(tl, 1, 8, "[bold]ALT rising[/bold]", "non_hematologic"))
    ledger.schedule_event("priya", pid, sch.DOSE_OMITTED, lambda tl: sch.check_omit(tl, 1, 15, "patient choice: travel"))
    return pid


# --- helpers -----------------------------------------------------------------------------------------


def export(ledger: Ledger, pid: str, now: datetime) -> dict:
    p = ledger.patient(pid)
    return fhir.bundle(p, ledger.stream_events(p.stream), users_of(ledger), now=now)


def validate(b: dict):
    """Validate with the R4B models, through JSON (what a receiver parses); any error fails."""
    text = fhir.to_json(b)
    model = Bundle.model_validate_json(text)
    assert Bundle.model_validate(json.loads(text)) == model
    _check_codes_and_refs(b)
    _check_times(b)
    return model


def resources(b: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind]


def _strings(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, (*path, k))
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, path)
    elif isinstance(node, str):
        yield path, node


DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_KEYS = {"birthDate", "effectiveDateTime", "event"}  # FHIR dates: calendar dates with no time in the record


def _check_times(b: dict) -> None:
    for path, value in _strings(b):
        if path and path[-1] in ("text", "display", "value", "reference"):
            continue
        if DATE_TIME.match(value):
            assert value.endswith("Z"), (path, value)
            datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
        elif DATE_ONLY.match(value):
            assert path[-1] in DATE_KEYS, (path, value)


def _check_codes_and_refs(b: dict) -> None:
    assert b["type"] == "collection" and b["resourceType"] == "Bundle"
    urls = [e["fullUrl"] for e in b["entry"]]
    assert len(set(urls)) == len(urls)
    for e in b["entry"]:
        assert e["fullUrl"] == f"urn:uuid:{e['resource']['id']}"
    for path, value in _strings(b):
        if path[-1] == "reference":
            assert value in urls, (path, value)
    for r in resources(b, "MedicationAdministration"):
        assert r["status"] in MA_STATUS
        for perf in r.get("performer", []):
            for c in perf["function"].get("coding", []):
                assert c["system"] == fhir.PERFORM_FUNCTION and c["code"] in PERFORM_FUNCTION
    for r in resources(b, "MedicationRequest"):
        assert r["status"] in MR_STATUS and r["intent"] in MR_INTENT
    for r in resources(b, "Observation"):
        assert r["status"] in OBS_STATUS
    for r in resources(b, "Patient"):
        assert r.get("gender", "unknown") in GENDER
    for r in resources(b, "AdverseEvent"):
        assert r["actuality"] == "actual"
        assert all(c["code"] in AE_OUTCOME for c in r["outcome"]["coding"])
    for r in [*resources(b, "MedicationRequest"), *resources(b, "MedicationAdministration")]:
        med = r["medicationCodeableConcept"]
        assert med["text"] == "inotuzumab ozogamicin (BESPONSA)"
        assert med["coding"] == [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0008-0100-01"}]


# --- tests --------------------------------------------------------------------------------------------


def test_every_demo_patient_exports_a_valid_bundle(tmp_path):
    ledger, clock, store = demo(tmp_path)
    try:
        for p in ledger.patients():
            b = export(ledger, p.id, clock.now())
            model = validate(b)
            assert model.entry[0].resource.get_resource_type() == "Patient"
    finally:
        store.close()


def test_demo_patient_mid_infusion_round_trip(tmp_path):
    ledger, clock, store = demo(tmp_path)
    try:
        p = next(q for q in ledger.patients() if q.mrn == "MRN-100590")
        b = export(ledger, p.id, clock.now())
        model = validate(b)
        pat = next(e.resource for e in model.entry if e.resource.get_resource_type() == "Patient")
        assert pat.identifier[0].value == "MRN-100590"
        assert pat.identifier[0].type.coding[0].code == "MR"
        assert pat.birthDate == date(1979, 7, 8) and pat.gender == "male"
        assert pat.name[0].text == "NAKAMURA, Ren"
        assert b["timestamp"] == "2026-03-02T09:30:00Z"

        mas = {r["request"]["display"]: r for r in resources(b, "MedicationAdministration")}
        assert set(mas) == {"C1 D1", "C1 D8"}
        # C1 D1 was documented as given without an infusion record: its date, no invented time
        assert mas["C1 D1"]["status"] == "completed" and mas["C1 D1"]["effectiveDateTime"] == "2026-02-23"
        assert mas["C1 D1"]["dosage"]["dose"] == {"value": 1.5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
        d8 = mas["C1 D8"]
        assert d8["status"] == "in-progress"
        assert d8["effectivePeriod"] == {"start": "2026-03-02T09:10:00Z"}
        assert '"value": 0.94' in fhir.to_json(d8)
        assert Decimal(str(d8["dosage"]["dose"]["value"])) == Decimal("0.94")
        assert d8["dosage"]["rateQuantity"] == {"value": 50, "unit": "mL/h", "system": "http://unitsofmeasure.org", "code": "mL/h"}
        functions = {perf["function"]["coding"][0]["code"] if "coding" in perf["function"] else perf["function"]["text"]: perf["actor"]["display"]
                     for perf in d8["performer"]}
        assert functions["performer"] == "Nina Okafor (nurse)"
        assert functions["verifier"] == "Noah Brandt (nurse)"
        assert any(k.startswith("preparer") and v == "Phil Marsh (pharmacist)" for k, v in functions.items())

        reqs = {r["dosageInstruction"][0]["timing"]["code"]["text"].split(" (")[0]: r for r in resources(b, "MedicationRequest")}
        assert reqs["C1 D1"]["status"] == "completed" and reqs["C1 D8"]["status"] == "completed"
        assert reqs["C1 D15"]["status"] == "active"
        assert reqs["C1 D15"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.5
        assert reqs["C1 D15"]["dosageInstruction"][0]["timing"]["event"] == ["2026-03-09"]
        assert reqs["C2 D1"]["status"] == "draft"  # level not yet confirmed (CONV-RESP-4)

        labs = [r for r in resources(b, "Observation") if r["category"][0]["coding"][0]["code"] == "laboratory"]
        by = {(r["code"]["text"], r["effectiveDateTime"]): r for r in labs}
        ast = by[("AST", "2026-03-01")]
        assert ast["code"]["coding"][0] == {"system": "http://loinc.org", "code": "1920-8",
                                            "display": "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"}
        assert ast["valueQuantity"]["value"] == 34 and ast["referenceRange"][0]["high"]["value"] == 40
        assert ast["issued"] == "2026-03-02T08:10:00Z"
        anc = by[("ANC", "2026-03-01")]
        assert anc["valueQuantity"] == {"value": 1.1, "unit": "×10⁹/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"}
        assert by[("Total bilirubin", "2026-03-01")]["code"]["coding"][0]["code"] == "1975-2"

        vitals = [r for r in resources(b, "Observation") if r["category"][0]["coding"][0]["code"] == "vital-signs"]
        assert len(vitals) == 5
        assert all(r["effectiveDateTime"] == "2026-03-02T09:05:00Z" and r["partOf"] == [{"reference": f"urn:uuid:{d8['id']}"}]
                   for r in vitals)
        bp = next(r for r in vitals if r["code"]["coding"][0]["code"] == "85354-9")
        assert [c["valueQuantity"]["value"] for c in bp["component"]] == [124, 76]
    finally:
        store.close()


def test_full_infusion_with_a_reaction(tmp_path):
    ledger, clock, store = demo(tmp_path)
    try:
        pid = walk_full_infusion(ledger, clock)
        b = export(ledger, pid, clock.now())
        validate(b)
        events = ledger.stream_events(ledger.patient(pid).stream)
        started = next(e for e in events if e.kind == inf.INFUSION_STARTED)
        given = next(e for e in events if e.kind == sch.DOSE_GIVEN)
        (ma,) = resources(b, "MedicationAdministration")
        assert ma["status"] == "completed"
        assert ma["effectivePeriod"]["start"] == started.data["at"].replace(".000000Z", "Z") == "2026-03-02T09:42:00Z"
        assert ma["effectivePeriod"]["end"] == "2026-03-02T10:58:00Z"  # 60 min running + 11 + 5 min paused
        assert given.data["dose_mg"] == "1.45"
        assert Decimal(str(ma["dosage"]["dose"]["value"])) == Decimal("1.45")
        assert '"value": 1.45,' in fhir.to_json(ma)
        notes = [n["text"] for n in ma["note"]]
        assert f"Paused from 2026-03-02T10:22:00Z to 2026-03-02T10:27:00Z: {LONG_REASON}" in notes
        assert f"Infusion reaction 1: treatment {TREATMENT}" in notes
        (ae,) = resources(b, "AdverseEvent")
        assert ae["event"] == {"text": SYMPTOMS}  # literal, never interpreted
        assert ae["severity"] == {"text": "CTCAE v5.0 Grade 2"}
        assert ae["outcome"]["coding"][0]["code"] == "resolved"
        assert ae["date"] == "2026-03-02T09:57:00Z"
        assert ae["suspectEntity"][0]["instance"]["reference"] == f"urn:uuid:{ma['id']}"
        vitals = [r for r in resources(b, "Observation") if r["category"][0]["coding"][0]["code"] == "vital-signs"]
        assert len(vitals) == 4 * 5
        temps = sorted((r["effectiveDateTime"], r["valueQuantity"]["value"]) for r in vitals if r["code"]["text"] == "Body temperature")
        assert temps[1] == ("2026-03-02T09:58:00Z", 38.4)
        reqs = {r["dosageInstruction"][0]["timing"]["code"]["text"].split(" (")[0]: r for r in resources(b, "MedicationRequest")}
        assert reqs["C1 D1"]["status"] == "completed"
        assert reqs["C1 D8"]["status"] == "on-hold" and reqs["C1 D8"]["statusReason"] == {"text": "[bold]ALT rising[/bold]"}
        assert reqs["C1 D15"]["status"] == "cancelled" and reqs["C1 D15"]["statusReason"] == {"text": "patient choice: travel"}
    finally:
        store.close()


@pytest.mark.parametrize(("scenario", "status"), [("paused", "on-hold"), ("stopped", "stopped")])
def test_administration_status_follows_the_infusion(tmp_path, scenario, status):
    ledger, clock, store = demo(tmp_path)
    try:
        pid = walk_full_infusion(ledger, clock, scenario=scenario)
        b = export(ledger, pid, clock.now())
        validate(b)
        (ma,) = resources(b, "MedicationAdministration")
        assert ma["status"] == status
        if scenario == "paused":
            assert ma["statusReason"] == [{"text": LONG_REASON}] and "end" not in ma["effectivePeriod"]
        else:
            assert ma["statusReason"] == [{"text": "reaction 1: Grade 3, CONV-IRR-1"}]
            assert ma["effectivePeriod"]["end"] == "2026-03-02T09:58:00Z"
            (ae,) = resources(b, "AdverseEvent")
            assert ae["severity"] == {"text": "CTCAE v5.0 Grade 3"}
            assert any("observation_incomplete" in n["text"] and "patient left against advice" in n["text"] for n in ma["note"])
    finally:
        store.close()


def test_the_export_is_reproducible(tmp_path):
    ledger, clock, store = demo(tmp_path)
    try:
        pid = walk_full_infusion(ledger, clock)
        first = fhir.to_json(export(ledger, pid, clock.now()))
        assert fhir.to_json(export(ledger, pid, clock.now())) == first
        # another terminal reading the same log exports the same bundle
        other = Ledger(SqliteStore(tmp_path / "demo.db"), clock, DEMO_KEY)
        assert fhir.to_json(export(other, pid, clock.now())) == first
        # ids are uuid5 of the stream and event versions
        b = json.loads(first)
        stream = ledger.patient(pid).stream
        given = next(e for e in ledger.stream_events(stream) if e.kind == sch.DOSE_GIVEN)
        (ma,) = resources(b, "MedicationAdministration")
        assert ma["id"] == fhir.resource_id(stream, given.version)
    finally:
        store.close()


def test_amounts_are_exact_json_numbers():
    assert fhir.num(Decimal("1.45")) == 1.45 and json.dumps(fhir.num(Decimal("1.45"))) == "1.45"
    assert fhir.num("50.00") == 50 and isinstance(fhir.num("50.00"), int)
    assert fhir.num("0.375") == 0.375
    with pytest.raises(ValueError):
        fhir.num(Decimal("1.876018242034027888851223267376089096608"))
    with pytest.raises(ValueError):
        fhir.num("NaN")


def test_instants_are_utc():
    from zoneinfo import ZoneInfo

    oslo = datetime(2026, 3, 2, 10, 42, tzinfo=ZoneInfo("Europe/Oslo"))
    assert fhir.instant(oslo) == "2026-03-02T09:42:00Z"
    assert fhir.instant(datetime(2026, 3, 2, 9, 42, 0, 500000, tzinfo=UTC)) == "2026-03-02T09:42:00.500000Z"
    with pytest.raises(ValueError):
        fhir.instant(datetime(2026, 3, 2, 9, 42))


def test_the_export_imports_no_fhir_library_textual_or_rich():
    code = "import bedside.core.fhir, bedside.core.records, sys; print('\\n'.join(sys.modules))"
    mods = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not {m for m in mods if m.split(".")[0] in ("fhir", "textual", "rich", "pydantic")}

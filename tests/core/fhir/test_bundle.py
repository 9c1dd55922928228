"""The FHIR export (core/fhir/): valid R4 (checked with fhir.resources' R4B models, which R4 data
of these resources satisfies), reproducible, UTC instants, exact amounts, user text as text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle  # fhir.resources 8 offers R4B (and R5), not R4

from bedside.core import fhir
from bedside.core import infusion as inf
from bedside.core import schedule as sch
from bedside.core.demo import DEMO_KEY
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore

from ..records.scenario import LONG_REASON, SYMPTOMS, TREATMENT, users_of, walk_full_infusion

# Codes each status element may take (R4 required bindings, which fhir.resources does not check).
MA_STATUS = {"in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"}
MR_STATUS = {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
MR_INTENT = {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
OBS_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
GENDER = {"male", "female", "other", "unknown"}
PERFORM_FUNCTION = {"performer", "verifier", "witness"}
AE_OUTCOME = {"resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown"}
AE_SEVERITY = {"mild", "moderate", "severe"}
AE_SERIOUSNESS = {"serious", "non-serious"}
CONDITION_CLINICAL = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
NDC = {"system": "http://hl7.org/fhir/sid/ndc", "code": "0008-0100-01"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


# --- helpers -----------------------------------------------------------------------------------------


def export(ledger: Ledger, pid: str, now: datetime, options: fhir.FhirOptions | None = None) -> dict:
    p = ledger.patient(pid)
    return fhir.bundle(p, ledger.stream_events(p.stream), users_of(ledger), now=now, options=options)


TRANSACTION = fhir.FhirOptions(transaction=True)
_SEV = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
MODERATE = {"system": _SEV, "code": "moderate", "display": "Moderate"}
SEVERE = {"system": _SEV, "code": "severe", "display": "Severe"}


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
DATE_KEYS = {
    "birthDate",
    "effectiveDateTime",
    "event",
    "expirationDate",
}  # FHIR dates (a carton expiry too): calendar dates with no time in the record


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
    assert b["type"] in ("collection", "transaction") and b["resourceType"] == "Bundle"
    urls = [e["fullUrl"] for e in b["entry"]]
    assert len(set(urls)) == len(urls)
    for e in b["entry"]:
        r = e["resource"]
        assert e["fullUrl"] == f"urn:uuid:{r['id']}"
        if b["type"] == "transaction":  # bdl-3: each entry a request; a PUT of its own id (idempotent)
            assert e["request"] == {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}, e.get("request")
        else:
            assert "request" not in e
        assert "response" not in e
    puts = [e["request"]["url"] for e in b["entry"] if "request" in e]
    assert len(set(puts)) == len(puts)
    contained = {f"#{c['id']}" for e in b["entry"] for c in e["resource"].get("contained", [])}
    for path, value in _strings(b):
        if path[-1] == "reference":
            assert value in urls or value in contained, (path, value)  # an entry's, or a contained resource's
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
        assert all(c["code"] in AE_SEVERITY for c in r.get("severity", {}).get("coding", []))
        assert all(c["code"] in AE_SERIOUSNESS for c in r.get("seriousness", {}).get("coding", []))
    for r in resources(b, "Condition"):
        assert all(c["code"] in CONDITION_CLINICAL for c in r["clinicalStatus"]["coding"])
    for r in [*resources(b, "MedicationRequest"), *resources(b, "MedicationAdministration")]:
        # the drug's code, or (scanned cartons, issue 20) the contained Medication's that holds the lot
        med = r.get("medicationCodeableConcept") or next(
            c["code"] for c in r["contained"] if f"#{c['id']}" == r["medicationReference"]["reference"]
        )
        assert med["text"] == "inotuzumab ozogamicin (BESPONSA)"
        assert med["coding"][0] == NDC
        assert all(c["system"] == RXNORM and c["code"].isdigit() for c in med["coding"][1:])


# --- tests --------------------------------------------------------------------------------------------


def test_every_demo_patient_exports_a_valid_bundle(demo_db):
    ledger, clock = demo_db
    for p in ledger.patients():
        b = export(ledger, p.id, clock.now())
        model = validate(b)
        assert model.entry[0].resource.get_resource_type() == "Patient"


def test_demo_patient_mid_infusion_round_trip(demo_db):
    ledger, clock = demo_db
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
    functions = {
        perf["function"]["coding"][0]["code"] if "coding" in perf["function"] else perf["function"]["text"]: perf["actor"][
            "display"
        ]
        for perf in d8["performer"]
    }
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
    assert ast["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "1920-8",
        "display": "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
    }
    assert ast["valueQuantity"]["value"] == 34 and ast["referenceRange"][0]["high"]["value"] == 40
    assert ast["issued"] == "2026-03-02T08:10:00Z"
    anc = by[("ANC", "2026-03-01")]
    assert anc["valueQuantity"] == {"value": 1.1, "unit": "×10⁹/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"}
    assert by[("Total bilirubin", "2026-03-01")]["code"]["coding"][0]["code"] == "1975-2"

    vitals = [r for r in resources(b, "Observation") if r["category"][0]["coding"][0]["code"] == "vital-signs"]
    assert len(vitals) == 5
    assert all(
        r["effectiveDateTime"] == "2026-03-02T09:05:00Z" and r["partOf"] == [{"reference": f"urn:uuid:{d8['id']}"}]
        for r in vitals
    )
    bp = next(r for r in vitals if r["code"]["coding"][0]["code"] == "85354-9")
    assert [c["valueQuantity"]["value"] for c in bp["component"]] == [124, 76]


def test_full_infusion_with_a_reaction(demo_db):
    ledger, clock = demo_db
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
    assert ae["severity"] == {"text": "CTCAE v5.0 Grade 2", "coding": [MODERATE]}
    assert "seriousness" not in ae  # Grade 2 meets no seriousness criterion by itself: not guessed
    assert ae["outcome"]["coding"][0]["code"] == "resolved"
    assert ae["date"] == "2026-03-02T09:57:00Z"
    assert ae["suspectEntity"][0]["instance"]["reference"] == f"urn:uuid:{ma['id']}"
    vitals = [r for r in resources(b, "Observation") if r["category"][0]["coding"][0]["code"] == "vital-signs"]
    assert len(vitals) == 4 * 5
    temps = sorted(
        (r["effectiveDateTime"], r["valueQuantity"]["value"]) for r in vitals if r["code"]["text"] == "Body temperature"
    )
    assert temps[1] == ("2026-03-02T09:58:00Z", 38.4)
    reqs = {r["dosageInstruction"][0]["timing"]["code"]["text"].split(" (")[0]: r for r in resources(b, "MedicationRequest")}
    assert reqs["C1 D1"]["status"] == "completed"
    assert reqs["C1 D8"]["status"] == "on-hold" and reqs["C1 D8"]["statusReason"] == {"text": "[bold]ALT rising[/bold]"}
    assert reqs["C1 D15"]["status"] == "cancelled" and reqs["C1 D15"]["statusReason"] == {"text": "patient choice: travel"}


@pytest.mark.parametrize(("scenario", "status"), [("paused", "on-hold"), ("stopped", "stopped")])
def test_administration_status_follows_the_infusion(demo_db, scenario, status):
    ledger, clock = demo_db
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
        assert ae["severity"] == {"text": "CTCAE v5.0 Grade 3", "coding": [SEVERE]}
        assert "seriousness" not in ae
        assert any("observation_incomplete" in n["text"] and "patient left against advice" in n["text"] for n in ma["note"])


def test_the_export_is_reproducible(tmp_path, demo_db):
    ledger, clock = demo_db
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


def test_the_export_imports_no_fhir_library_textual_or_rich():
    code = "import bedside.core.fhir, bedside.core.records, sys; print('\\n'.join(sys.modules))"
    mods = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not {m for m in mods if m.split(".")[0] in ("fhir", "textual", "rich", "pydantic")}


# --- issue 20: a transaction bundle a server accepts ---------------------------------------------------


def round_trip(b: dict) -> dict:
    """Export, parse with fhir.resources, write it again: what a receiver would hold."""
    model = Bundle.model_validate_json(fhir.to_json(b))
    return json.loads(model.model_dump_json(exclude_none=True))


def test_every_demo_patient_exports_a_transaction_that_validates_and_round_trips(demo_db):
    ledger, clock = demo_db
    seen = set()
    pid = walk_full_infusion(ledger, clock)  # one with a reaction
    for p in ledger.patients():
        b = export(ledger, p.id, clock.now(), TRANSACTION)
        validate(b)
        assert b["type"] == "transaction"
        assert round_trip(b) == json.loads(fhir.to_json(b)), p.mrn
        seen |= {e["resource"]["resourceType"] for e in b["entry"]}
        if p.id == pid:
            (ae,) = resources(b, "AdverseEvent")
            assert ae["severity"]["coding"] == [MODERATE]
    assert {"Patient", "Condition", "MedicationRequest", "MedicationAdministration", "AdverseEvent", "Observation"} <= seen


def test_the_transaction_holds_what_the_collection_holds(demo_db):
    ledger, clock = demo_db
    pid = walk_full_infusion(ledger, clock)
    col, tx = export(ledger, pid, clock.now()), export(ledger, pid, clock.now(), TRANSACTION)
    assert col["type"] == "collection" and tx["type"] == "transaction"
    assert [e["resource"] for e in col["entry"]] == [e["resource"] for e in tx["entry"]]


def test_the_sites_mrn_system_and_rxnorm_code_are_carried(demo_db):
    ledger, clock = demo_db
    p = ledger.patients()[0]
    options = fhir.FhirOptions(transaction=True, mrn_system="urn:oid:1.2.3.4.5", rxnorm_code="123456")
    b = export(ledger, p.id, clock.now(), options)
    validate(b)
    (patient,) = resources(b, "Patient")
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.3.4.5" and patient["identifier"][0]["value"] == p.mrn
    for r in resources(b, "MedicationRequest"):
        assert r["medicationCodeableConcept"]["coding"] == [
            NDC,
            {"system": RXNORM, "code": "123456", "display": "inotuzumab ozogamicin (BESPONSA)"},
        ]
    plain = export(ledger, p.id, clock.now(), TRANSACTION)  # no setting: no system, no RxNorm code made up
    assert "system" not in resources(plain, "Patient")[0]["identifier"][0]
    assert all(len(r["medicationCodeableConcept"]["coding"]) == 1 for r in resources(plain, "MedicationRequest"))


def test_the_diagnosis_is_a_condition_of_the_latest_form(demo_db):
    ledger, clock = demo_db
    for p in ledger.patients():
        b = export(ledger, p.id, clock.now(), TRANSACTION)
        conditions = resources(b, "Condition")
        d = ledger.patient(p.id).current("diagnosis")
        if d is None:
            assert conditions == []
            continue
        (c,) = conditions
        assert c["subject"]["reference"] == f"urn:uuid:{resources(b, 'Patient')[0]['id']}"
        assert c["code"] == {"text": f"B-cell precursor acute lymphoblastic leukemia, {d['disease_status']}"}
        want = {"relapsed": "relapse", "refractory": "active"}[d["disease_status"]]
        assert c["clinicalStatus"]["coding"][0]["code"] == want
        assert c["note"] == [{"text": f"CD22: {d['cd22']}"}]


@pytest.mark.parametrize(
    ("grade", "severity", "serious"),
    [(1, "mild", False), (2, "moderate", False), (3, "severe", False), (4, "severe", True), (5, "severe", True)],
)
def test_each_ctcae_grade_codes_its_severity_and_only_4_and_5_are_serious(grade, severity, serious):
    from bedside.core.fhir.values import SERIOUS_GRADES, SEVERITY

    assert SEVERITY[str(grade)][0] == severity
    assert (str(grade) in SERIOUS_GRADES) is serious


def test_a_grade_4_reaction_is_a_serious_severe_adverse_event(demo_db):
    ledger, clock = demo_db
    pid = walk_full_infusion(ledger, clock, scenario="stopped", stop_grade=4)
    b = export(ledger, pid, clock.now(), TRANSACTION)
    validate(b)
    (ae,) = resources(b, "AdverseEvent")
    assert ae["severity"] == {"text": "CTCAE v5.0 Grade 4", "coding": [SEVERE]}
    assert ae["seriousness"] == {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness", "code": "serious", "display": "Serious"}
        ]
    }
    assert round_trip(b) == json.loads(fhir.to_json(b))


def test_the_scanned_cartons_lot_and_expiry_are_on_the_administration(demo_db):
    """Issue 20: the vial cartons scanned at preparation put their lot and expiry on the
    MedicationAdministration (a contained Medication's batch; every carton in a note)."""
    from bedside.core import preparation as prep

    ledger, clock = demo_db
    pid = walk_full_infusion(ledger, clock)
    vials = int(ledger.view(pid).prep("c1d1").calculation.data["vials"])
    for n in range(vials):
        code = f"]d20100300080100011{'17271231' if n == 0 else '17280630'}10LOT-{n}A\x1d21SN{n}"
        ledger.execute(prep.ScanCarton(pid, "c1d1", code), "phil")
    b = export(ledger, pid, clock.now(), TRANSACTION)
    validate(b)
    assert round_trip(b) == json.loads(fhir.to_json(b))
    (ma,) = resources(b, "MedicationAdministration")
    assert "medicationCodeableConcept" not in ma and ma["medicationReference"]["reference"] == "#vials"
    (med,) = ma["contained"]
    assert med["resourceType"] == "Medication" and NDC in med["code"]["coding"]
    assert med["batch"] == {"lotNumber": "LOT-0A", "expirationDate": "2027-12-31"}
    (note,) = [n["text"] for n in ma["note"] if n["text"].startswith("Vials scanned")]
    assert "lot LOT-0A expiry 2027-12-31 serial SN0 (GTIN 00300080100011)" in note
    assert vials == 1 or "lot LOT-1A expiry 2028-06-30 serial SN1" in note


def test_a_wristband_id_is_a_second_identifier_with_the_sites_system(demo_db):
    """Issue 20: the wristband's own identifier beside the MRN, with the site's system when set."""
    ledger, clock = demo_db
    p = next(x for x in ledger.patients() if ledger.patient(x.id).wristband)
    gsrn = ledger.patient(p.id).wristband
    options = fhir.FhirOptions(transaction=True, wristband_system="urn:oid:2.999.20.2")
    b = export(ledger, p.id, clock.now(), options)
    validate(b)
    (patient,) = resources(b, "Patient")
    assert patient["identifier"][1] == {
        "use": "secondary",
        "type": {"text": "Wristband"},
        "value": gsrn,
        "system": "urn:oid:2.999.20.2",
    }
    plain = resources(export(ledger, p.id, clock.now(), TRANSACTION), "Patient")[0]
    assert "system" not in plain["identifier"][1]
    other = next(x for x in ledger.patients() if not ledger.patient(x.id).wristband)
    assert len(resources(export(ledger, other.id, clock.now(), options), "Patient")[0]["identifier"]) == 1

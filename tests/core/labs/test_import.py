"""Laboratory results into the record (issue 20): HL7 v2 ORU^R01 and FHIR, matched on two
identifiers, checked, applied or quarantined, a second import changing nothing; the MLLP round trip."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import labfeed, labs
from bedside.core.clock import FakeClock
from bedside.core.commands import Refused
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.events import decode, unknown_keys
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
FEED = "os:labfeed"
MRN, DOB = "MRN-100231", "19680412"  # HARTMAN, Lena (core/demo.py)


def oru(mid="MSG0001", mrn=MRN, dob=DOB, name="HARTMAN^LENA", obx=None, when="202603020700"):
    rows = obx or [
        "OBX|1|NM|751-8^Neutrophils^LN||1.9|10*9/L|1.5-7.0|N|||F",
        "OBX|2|NM|777-3^Platelets^LN||120000|/uL|150-400||||F",
        "OBX|3|NM|14631-6^Bilirubin^LN||15|umol/L|3-21||||F",
        "OBX|4|NM|1920-8^AST^LN||30|U/L|0-40||||F",
        "OBX|5|NM|1742-6^ALT^LN||25|U/L|<45||||F",
        "OBX|6|NM|718-7^Hemoglobin^LN||11.2|g/dL|12-16||||F",
    ]
    segs = [
        f"MSH|^~\\&|LIS|CITYLAB|BEDSIDE|WARD|202603020800||ORU^R01^ORU_R01|{mid}|P|2.5.1",
        f"PID|1||{mrn}^^^HOSP^MR||{name}||{dob}|F",
        f"OBR|1|||24323-8^Panel^LN|||{when}",
        *rows,
    ]
    return "\r".join(segs) + "\r"


@pytest.fixture
def ledger(tmp_path):
    clock = FakeClock(NOW)
    store = SqliteStore(tmp_path / "d.db")
    seed(store, clock)
    led = Ledger(store, clock, DEMO_KEY)
    yield led
    store.close()


def pid_of(ledger, mrn=MRN):
    return next(p.id for p in ledger.patients() if p.mrn == mrn)


def imported(ledger, mrn=MRN):
    return [e for e in ledger.stream_events(ledger.patient(pid_of(ledger, mrn)).stream) if e.kind == "labs.imported"]


def held(ledger):
    return labs.fold_inbox(ledger.stream_events(labs.LABS_STREAM))


def test_oru_applied_with_units_uln_and_source(ledger):
    out = labfeed.import_text(ledger, oru(), "drop/a.hl7", FEED)
    assert [o.what for o in out] == ["applied"]
    (ev,) = imported(ledger)
    d = ev.data
    assert d["anc"] == "1.9" and d["platelets"] == "120"  # /uL × 0.001 = × 10⁹/L
    assert d["bilirubin"] == "15" and d["bilirubin_unit"] == "µmol/L" and d["bilirubin_uln"] == "21"  # lab's unit kept
    assert d["alt_uln"] == "45" and d["ast_uln"] == "40"
    assert d["collected_on"] == "2026-03-02" and d["sender"] == "LIS^CITYLAB" and d["message_id"] == "MSG0001"
    assert d["not_used"] == ["718-7"] and "platelet_transfusion" not in d and ev.actor == FEED
    assert not unknown_keys(ev) and decode(ev).to_data() == d  # the typed event round-trips
    # the same message again changes nothing
    assert [o.what for o in labfeed.import_text(ledger, oru(), "drop/a.hl7", FEED)] == ["unchanged"]
    assert len(imported(ledger)) == 1 and held(ledger) == ()
    # and the patient's labs history reads it (the pre-dose check's records)
    hist = ledger.patient(pid_of(ledger)).history("labs")
    assert hist[-1].data["source"] == "laboratory"


def test_hl7_escapes_and_several_patients_in_one_batch(ledger):
    a = oru("B1", name="HART\\T\\MAN^LENA")  # \T\ is "&": "HART&MAN" is not the record's name
    b = oru("B2", mrn="MRN-100377", dob="19910930", name="OSEI^KWAME")
    batch = "FHS|^~\\&\rBHS|^~\\&\r" + a + b + "BTS|2\rFTS|1\r"
    out = labfeed.import_text(ledger, batch, "batch.hl7", FEED)
    assert [o.what for o in out] == ["quarantined", "applied"]
    assert "HART&MAN" in out[0].detail
    assert len(imported(ledger, "MRN-100377")) == 1 and imported(ledger) == []


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (oru(mrn="MRN-999999"), "unmatched"),
        (oru(dob="19680413"), "date of birth"),
        (oru(name="SMITH^LENA"), "does not match the record"),
        (oru(obx=["OBX|1|NM|751-8^N^LN||1.9|10*9/L|||||P"]), "not final"),
        (oru(obx=["OBX|1|NM|751-8^N^LN||1.9|g/dL|||||F"]), "unit 'g/dL'"),
        (oru(obx=["OBX|1|NM|751-8^N^LN||900|10*9/L|||||F"]), "outside the allowed range"),
        (oru(obx=["OBX|1|NM|751-8^N^LN||90|10*9/L|||||F"]), "outside the usual range"),
        (oru(obx=["OBX|1|SN|1920-8^AST^LN||<^10|U/L|0-40||||F"]), "not an exact number"),
        (oru(obx=["OBX|1|NM|751-8^N^LN||1.9|10*9/L|||||F", "OBX|2|NM|751-8^N^LN||2.1|10*9/L|||||F"]), "two different"),
        (oru(when="203001010000"), "in the future"),
        (oru(obx=["OBX|1|NM|718-7^Hb^LN||11|g/dL|||||F"]), "no result Bedside uses"),
        (oru()[:120], "no results"),  # truncated inside the PID/OBR
        ("MSH|^~\\&|LIS|LAB|||2026||ADT^A01|X1|P|2.5.1\rPID|1||MRN-100231\r", "only ORU^R01"),
        ("garbage that is no message", "not an HL7 v2 message"),
    ],
)
def test_never_applied_but_quarantined_with_reason(ledger, message, reason):
    out = labfeed.import_text(ledger, message, "x.hl7", FEED)
    assert [o.what for o in out] == ["quarantined"], out
    assert reason in out[0].detail
    assert imported(ledger) == []
    (h,) = held(ledger)
    assert h.pending and reason in h.message.reason
    # kept once however often it comes
    assert [o.what for o in labfeed.import_text(ledger, message, "x.hl7", FEED)] == ["unchanged"]
    assert len(held(ledger)) == 1


def test_missing_reference_range_stored_without_uln(ledger):
    msg = oru(obx=["OBX|1|NM|1920-8^AST^LN||30|U/L|||||F"])
    assert [o.what for o in labfeed.import_text(ledger, msg, "x", FEED)] == ["applied"]
    (ev,) = imported(ledger)
    assert ev.data["ast"] == "30" and "ast_uln" not in ev.data  # the pre-dose check holds until it is entered


def test_duplicate_id_with_other_content_is_quarantined(ledger):
    labfeed.import_text(ledger, oru(), "a", FEED)
    out = labfeed.import_text(ledger, oru(obx=["OBX|1|NM|751-8^N^LN||2.2|10*9/L|||||F"]), "b", FEED)
    assert [o.what for o in out] == ["quarantined"] and "duplicate" in out[0].detail
    assert len(imported(ledger)) == 1


def test_admin_assigns_or_rejects_a_held_message(ledger):
    labfeed.import_text(ledger, oru(mid="Q1", mrn="MRN-10023"), "typo.hl7", FEED)  # an MRN typo at the lab
    labfeed.import_text(ledger, oru(mid="Q2", mrn="NOPE-1"), "other.hl7", FEED)
    first, second = held(ledger)
    pid = pid_of(ledger)
    with pytest.raises(Refused, match="admin"):
        ledger.execute(labs.AssignQuarantined(first.entry, pid, "lab confirmed the MRN"), "nina")
    with pytest.raises(Refused, match="reason"):
        ledger.execute(labs.AssignQuarantined(first.entry, pid, "  "), "adam")
    with pytest.raises(Refused, match="assign the message"):
        ledger.execute(labs.ResolveQuarantine(first.entry, "assigned", "x", pid), "adam")
    ledger.execute(labs.AssignQuarantined(first.entry, pid, "lab confirmed the MRN by phone"), "adam")
    ledger.execute(labs.ResolveQuarantine(first.entry, "assigned", "lab confirmed the MRN by phone", pid), "adam")
    (ev,) = imported(ledger)
    assert ev.data["assigned_from"] == first.entry and ev.actor == "adam"
    ledger.execute(labs.ResolveQuarantine(second.entry, "rejected", "not our patient"), "adam")
    a, r = held(ledger)
    assert (a.resolved.outcome, a.resolved_by) == ("assigned", "adam") and r.resolved.outcome == "rejected"
    with pytest.raises(Refused, match="already"):
        ledger.execute(labs.ResolveQuarantine(second.entry, "rejected", "again"), "adam")


def fhir_bundle(bid="FB-1", mrn=MRN, dob="1968-04-12", value=1.7):
    return json.dumps(
        {
            "resourceType": "Bundle",
            "id": bid,
            "type": "collection",
            "entry": [
                {
                    "fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
                    "resource": {
                        "resourceType": "Patient",
                        "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": mrn}],
                        "birthDate": dob,
                        "name": [{"family": "Hartman", "given": ["Lena"]}],
                    },
                },
                {
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": "26499-4"}]},
                        "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
                        "effectiveDateTime": "2026-03-02T07:00:00Z",
                        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "10*9/L"},
                    }
                },
            ],
        }
    )


def test_fhir_bundle_applied_and_invalid_fhir_quarantined(ledger):
    assert [o.what for o in labfeed.import_text(ledger, fhir_bundle(), "a.json", FEED)] == ["applied"]
    assert imported(ledger)[0].data["anc"] == "1.7"
    assert [o.what for o in labfeed.import_text(ledger, fhir_bundle(), "a.json", FEED)] == ["unchanged"]
    bad = json.loads(fhir_bundle("FB-2"))
    bad["entry"][1]["resource"]["status"] = 12
    out = labfeed.import_text(ledger, json.dumps(bad), "b.json", FEED)
    assert [o.what for o in out] == ["quarantined"] and "not valid FHIR" in out[0].detail
    out = labfeed.import_text(ledger, fhir_bundle("FB-3", dob="1968-04-13"), "c.json", FEED)
    assert [o.what for o in out] == ["quarantined"] and "date of birth" in out[0].detail


def test_watch_folder_claims_and_moves_files(ledger, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.hl7").write_text(oru(), encoding="latin-1")
    (drop / "b.hl7").write_text("nonsense")
    done = labfeed.watch_once(ledger, drop, FEED)
    assert sorted(name for name, _ in done) == ["a.hl7", "b.hl7"]
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["a.hl7", "b.hl7"]
    assert labfeed.watch_once(ledger, drop, FEED) == [] and len(imported(ledger)) == 1


def test_mllp_round_trip_ack_and_nak(ledger):
    server = labfeed.MllpServer(("127.0.0.1", 0), ledger, FEED, ledger.clock)
    import threading

    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        with socket.create_connection(server.server_address, timeout=10) as s:
            replies = []
            for message in (oru("M1"), oru("M2", mrn="MRN-0")):
                s.sendall(b"\x0b" + message.encode() + b"\x1c\r")
                buf = b""
                while not buf.endswith(b"\x1c\r"):
                    buf += s.recv(4096)
                replies.append(buf.decode())
        assert "MSA|AA|M1|" in replies[0] and replies[0].startswith("\x0bMSH|^~\\&|BEDSIDE")
        assert "MSA|AE|M2|" in replies[1] and "quarantine" in replies[1]
    finally:
        server.shutdown()
        server.server_close()
    assert len(imported(ledger)) == 1 and len(held(ledger)) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(st.sampled_from(oru().split("\r")), max_size=8).map("\r".join),
        st.builds(lambda s, i, c: s[:i] + c + s[i:], st.just(oru()), st.integers(0, 600), st.text(max_size=5)),
    )
)
def test_no_message_crashes_or_changes_a_record_unmatched(ledger, text):
    before = len(imported(ledger))
    out = labfeed.import_text(ledger, text, "fuzz", FEED)
    after = imported(ledger)
    applied = [o for o in out if o.what == "applied"]
    assert len(after) - before == sum(o.records for o in applied)
    for ev in after[before:]:
        assert ev.data["message_id"] and ev.data["digest"]


def test_predose_check_names_the_laboratory_source(ledger):
    msg = oru(mrn="MRN-100590", dob="19790708", name="NAKAMURA^REN")  # C1 D8 today (core/demo.py)
    assert [o.what for o in labfeed.import_text(ledger, msg, "a", FEED)] == ["applied"]
    checks = {c.key: c.value for c in ledger.predose_verdict(pid_of(ledger, "MRN-100590"), 1, 8).checks}
    assert checks["lab.anc"].startswith("ANC 1.9 × 10⁹/L on 2026-03-02; from the laboratory (LIS^CITYLAB, message MSG0001)")
    assert "µmol/L (ULN 21; 0.71 × ULN)" in checks["lab.bilirubin"] and "from the laboratory" in checks["lab.bilirubin"]


def test_a_clinician_answers_the_transfusion_question_of_a_laboratory_count(ledger):
    """CONV-HEM-3: the answer is a new event by a named clinician; the record reads it, the
    unanswered values stay in its history, and an admin or a typed record is refused."""
    msg = oru(mrn="MRN-100590", dob="19790708", name="NAKAMURA^REN")
    labfeed.import_text(ledger, msg, "a", FEED)
    pid = pid_of(ledger, "MRN-100590")
    (ev,) = imported(ledger, "MRN-100590")
    with pytest.raises(Refused, match=r"only a nurse, pharmacist or prescriber may do this \(you are signed in as an admin\)"):
        ledger.execute(labs.AnswerTransfusion(pid, ev.version, "no"), "adam")
    with pytest.raises(Refused, match="yes or no"):
        ledger.execute(labs.AnswerTransfusion(pid, ev.version, "maybe"), "nina")
    typed = next(e for e in ledger.patient(pid).history("labs") if e.data.get("source") != "laboratory")
    with pytest.raises(Refused, match="typed count"):
        ledger.execute(labs.AnswerTransfusion(pid, typed.version, "no"), "nina")
    (stored,) = ledger.execute(labs.AnswerTransfusion(pid, ev.version, "no"), "nina")
    assert stored.kind == "labs.transfusion" and stored.actor == "nina"
    entry = ledger.patient(pid).entry(ev.version)
    assert entry.data["platelet_transfusion"] == "no" and entry.data["message_id"] == "MSG0001"
    (corr,) = entry.corrections
    assert "platelet_transfusion" not in corr.old and "CONV-HEM-3" in corr.reason and corr.actor == "nina"
    assert ledger.execute(labs.AnswerTransfusion(pid, ev.version, "no"), "nina") == []  # the same answer again: nothing
    ledger.execute(labs.AnswerTransfusion(pid, ev.version, "yes"), "phil")  # changed: both kept
    entry = ledger.patient(pid).entry(ev.version)
    assert entry.data["platelet_transfusion"] == "yes" and len(entry.corrections) == 2
    assert [e.kind for e in ledger.stream_events(ledger.patient(pid).stream)].count("labs.imported") == 1

"""The ward walk through the installed command on a real SQLite database, then the record from the command line.

A session fixture walks, through the terminal, from the first admin to a dose that is prepared,
double-checked and PROCEED (tests.e2e.walk.walk_to_ready) and keeps that database; each test
starts the real command on its own copy: the infusion and its observation on a moved clock
(libfaketime), two terminals on one database, and a kill -9 in the middle of a form.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import date

import pytest

from tests.tui.test_labelprint import scan_svg

from .budgets import INTAKE, NURSE, PREMED, VITALS, spend
from .tty import BEDSIDE, FakeTime, Tty, child_env
from .walk import (
    BAG,
    CARTON_LOTS,
    FHIR_MRN_SYSTEM,
    FHIR_RXNORM,
    FHIR_WRISTBAND_SYSTEM,
    MRN,
    NAME,
    WRISTBAND,
    nurse_to_proceed,
    open_monitor,
    record_vitals,
    sign_in,
    start_infusion,
    walk_to_prepared,
)

COUNTS: dict[str, int] = {}
INTAKE_KEYS: dict[str, tuple[int, int]] = {}


@pytest.fixture(scope="session")
def prepared_db(tmp_path_factory):
    """A real SQLite database (with its .head and .key) walked to a dose prepared and verified,
    today's labs in (tests.e2e.walk.walk_to_prepared); COUNTS["intake"] holds the intake's keys."""
    base = tmp_path_factory.mktemp("prepared")
    home = base / "home"
    home.mkdir()
    db = base / "ward.db"
    t = Tty(["--db", str(db)], child_env(home))
    try:
        INTAKE_KEYS["intake"] = walk_to_prepared(t, date.today().isoformat())
        assert t.quit() == 0
        t.assert_no_traceback()
    finally:
        t.close()
    COUNTS["walk to prepared"] = t.keys_sent
    return db


@pytest.fixture(scope="session")
def ready_db(prepared_db, tmp_path_factory):
    """A copy of the prepared database on which the nurse has walked the pre-dose check to PROCEED."""
    db = copy_db(prepared_db, tmp_path_factory.mktemp("ready"))
    home = db.parent / "home"
    home.mkdir()
    t = Tty(["--db", str(db)], child_env(home))
    try:
        nurse_to_proceed(t)
        assert t.quit() == 0
        t.assert_no_traceback()
    finally:
        t.close()
    COUNTS["walk to ready"] = COUNTS["walk to prepared"] + t.keys_sent
    return db


def test_intake_budget(prepared_db):
    """Registration and the full intake of a new patient, through the terminal: ≤ 90 keys besides
    the values' characters (issue 17)."""
    start = (0, 0)
    spend(INTAKE, start, INTAKE_KEYS["intake"])


def test_nurse_budget_sign_in_to_start(prepared_db, spawn, tmp_path):
    """The nurse, on a dose prepared and verified with today's labs in: sign in, open the patient,
    the pre-dose check to PROCEED (the wristband scanned), premedication, start: ≤ 30 keys."""
    db = copy_db(prepared_db, tmp_path)
    t = spawn(["--db", str(db)])
    start = t.tally()
    premed = nurse_to_proceed(t)
    spend(PREMED, *premed)
    t.send("i")
    t.wait_for("Infusion monitor")
    start_infusion(t)
    spend(NURSE, start, t.tally())
    assert t.quit() == 0


def copy_db(src, dst_dir):
    dst = dst_dir / "ward.db"
    for f in src.parent.glob(src.name + "*"):
        shutil.copy2(f, dst_dir / f.name.replace(src.name, dst.name, 1))
    return dst


def run_cli(env, *args) -> subprocess.CompletedProcess:
    out = subprocess.run([str(BEDSIDE), *args], env=env, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in out.stderr + out.stdout, out
    return out


def test_ward_walk_infusion_observation_and_record(ready_db, spawn, home, tmp_path):
    clock = FakeTime(tmp_path)
    db = copy_db(ready_db, tmp_path)
    env = child_env(home, **clock.env())
    t = spawn(["--db", str(db)], env)
    open_monitor(t)
    before = t.tally()
    record_vitals(t)  # before start (MON-4)
    spend(VITALS, before, t.tally())
    # issue 20: the label the pharmacy prints carries the code the preparation screen showed
    label = run_cli(env, "print", "label", MRN, "--cycle", "1", "--day", "1", "--db", str(db))
    assert label.returncode == 0 and label.stdout.splitlines()[-1] == BAG["code"] and NAME in label.stdout, label
    svg = run_cli(env, "print", "label", MRN, "--cycle", "1", "--day", "1", "--format", "svg", "--db", str(db))
    assert svg.returncode == 0, svg
    read = scan_svg(svg.stdout, tmp_path)  # None without rsvg-convert and zbarimg (.ci/run installs them)
    assert read in (None, [BAG["code"].replace("-", "")]), f"the printed barcode scans as {read}, not the code"
    start_infusion(t, wrong="]C0B123456789012")  # a misread (or foreign) label is refused first
    t.wait_for(re.compile(r"Running 0:0\d:\d\d of 1:00:00"))

    clock.advance(61 * 60)  # past the 60-minute infusion (MON-3)
    t.wait_for("OBSERVING", timeout=20)
    assert "INFUSING" not in t.screen(), t.dump()
    record_vitals(t)  # end of infusion (MON-4)
    t.arrive("OBSERVING")  # back on the monitor, drawn, before its key (the app drops one typed earlier)
    t.send("o")
    t.wait_for(re.compile(r"Observation may end at \d\d:\d\d"))  # not over yet: refused in words (MON-2)
    assert "OBSERVATION COMPLETE" not in t.screen(), t.dump()

    clock.advance(61 * 60)  # past the observation hour (MON-2)
    t.settle(1.2)
    t.send("o")
    t.arrive("Complete the observation?")  # a consequential key asks first (issue 17)
    t.send("y")
    t.wait_for("OBSERVATION COMPLETE")
    assert "OBSERVING" not in t.screen(), t.dump()
    COUNTS["infusion and observation"] = t.keys_sent
    print(f"e2e walk to ready: {COUNTS['walk to ready']} keys; infusion and observation: {t.keys_sent} keys")
    t.arrive("OBSERVATION COMPLETE")  # drawn and settled: a key typed during a change is dropped (tui/app.py)
    t.send("escape")
    t.wait_gone("OBSERVATION COMPLETE")
    t.settle()
    assert t.quit() == 0

    out = run_cli(env, "print", "record", MRN, "--db", str(db))
    assert out.returncode == 0, out
    assert MRN in out.stdout and NAME in out.stdout, out.stdout
    assert re.search("inotuzumab|BESPONSA", out.stdout, re.I), out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    assert all(lot in out.stdout for lot in CARTON_LOTS), out.stdout  # issue 20: the scanned cartons

    out = run_cli(env, "export", "fhir", MRN, "--db", str(db))
    assert out.returncode == 0, out
    bundle = json.loads(out.stdout)
    assert bundle["resourceType"] == "Bundle"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "MedicationAdministration", "Observation"} <= kinds, kinds
    admin = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationAdministration")
    assert admin.get("status") == "completed", admin
    # issue 20: a transaction a server accepts (each entry a PUT of its own id), valid for fhir.resources
    from fhir.resources.R4B.bundle import Bundle

    assert bundle["type"] == "transaction" and "Condition" in kinds, kinds
    assert all(
        e["request"] == {"method": "PUT", "url": f"{e['resource']['resourceType']}/{e['resource']['id']}"}
        for e in bundle["entry"]
    )
    assert Bundle.model_validate_json(out.stdout).type == "transaction"
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["identifier"][0]["system"] == FHIR_MRN_SYSTEM, patient  # the site's setting, typed by the admin
    assert patient["identifier"][1] == {  # the wristband's GSRN, scanned at registration, apart from the MRN
        "use": "secondary",
        "type": {"text": "Wristband"},
        "value": WRISTBAND,
        "system": FHIR_WRISTBAND_SYSTEM,
    }, patient
    # the scanned cartons make the drug a contained Medication with its lot and expiry (issue 20)
    assert admin["medicationReference"]["reference"] == "#vials", admin
    medication = next(r for r in admin["contained"] if r["id"] == "vials")
    assert medication["batch"] == {"lotNumber": CARTON_LOTS[0], "expirationDate": "2045-12-31"}, medication
    assert {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": FHIR_RXNORM} in [
        {k: c[k] for k in ("system", "code")} for c in medication["code"]["coding"]
    ]
    collection = run_cli(env, "export", "fhir", MRN, "--collection", "--db", str(db))
    assert collection.returncode == 0, collection
    col = json.loads(collection.stdout)
    assert col["type"] == "collection" and all("request" not in e for e in col["entry"])
    assert [e["resource"] for e in col["entry"]] == [e["resource"] for e in bundle["entry"]]

    out = run_cli(env, "verify-log", "--db", str(db))
    assert out.returncode == 0 and "INTACT" in out.stdout and "NOT INTACT" not in out.stdout, out


def test_two_terminals_on_one_database(ready_db, spawn, home, tmp_path):
    db = copy_db(ready_db, tmp_path)
    a = spawn(["--db", str(db)])
    b = spawn(["--db", str(db)])
    sign_in(b, "phil", "2222", "Phil Pharm")
    b.wait_for(MRN)
    b.send("i")
    b.wait_for("Active infusions")
    b.settle()
    assert NAME not in b.screen(), b.dump()

    open_monitor(a)
    record_vitals(a)
    start_infusion(a)
    shown = time.monotonic()
    b.wait_for(NAME, timeout=5)  # the other terminal polls the log about once a second (README: "within a second or two")
    b.wait_for("INFUSING", timeout=5)
    lag = time.monotonic() - shown

    a.send("p")
    a.wait_for("Pause the infusion")
    a.send("pump alarm", "ctrl+s")
    a.wait_for("PAUSED")
    b.wait_for("PAUSED", timeout=5)
    COUNTS["two terminals"] = a.keys_sent + b.keys_sent
    print(f"e2e two terminals: {COUNTS['two terminals']} keys; the start showed on the other terminal after {lag:.1f} s")
    for t in (a, b):
        assert t.quit() == 0


def test_kill9_mid_form_saves_nothing_and_the_timer_survives(ready_db, spawn, home, tmp_path):
    clock = FakeTime(tmp_path)
    db = copy_db(ready_db, tmp_path)
    env = child_env(home, **clock.env())
    t = spawn(["--db", str(db)], env)
    open_monitor(t)
    record_vitals(t)
    start_infusion(t)
    started = re.search(r"Started (\d\d:\d\d)", t.screen()).group(1)
    # a form typed but not saved: the pause reason
    t.send("p")
    t.wait_for("Pause the infusion")
    t.send("ZQXJV-unsaved")
    t.wait_for("ZQXJV-unsaved")
    t.kill9()
    COUNTS["kill -9"] = t.keys_sent
    print(f"e2e kill -9: {t.keys_sent} keys before the kill")

    assert b"ZQXJV" not in b"".join(f.read_bytes() for f in tmp_path.glob("ward.db*") if f.is_file())
    out = run_cli(env, "print", "record", MRN, "--db", str(db))
    assert out.returncode == 0 and "ZQXJV" not in out.stdout, out
    out = run_cli(env, "verify-log", "--db", str(db))
    assert out.returncode == 0 and "NOT INTACT" not in out.stdout, out

    clock.advance(25 * 60)
    t2 = spawn(["--db", str(db)], env)
    open_monitor(t2)
    assert f"Started {started}" in t2.screen(), t2.dump()
    m = t2.wait_for(re.compile(r"Running 0:(\d\d):(\d\d) of 1:00:00"))
    assert "PAUSED" not in t2.screen(), t2.dump()  # the unsaved pause was not recorded
    running = int(m.group(1)) * 60 + int(m.group(2))
    # the stored start plus the moved clock: 25 min and the seconds the walk took, not 0 (a restarted timer)
    assert 25 * 60 <= running < 27 * 60, t2.dump()
    assert t2.quit() == 0

"""Issue 20, labs from the laboratory system through the installed command on a real database:
a ward made in the app (first admin, a nurse, a patient), then ``bedside import labs FILE`` applies
an ORU^R01 for that patient, a second run changes nothing, and a message for an unknown MRN is
quarantined (exit status 3), the record untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .tty import child_env
from .walk import DOB, MRN, NAME, NAMES, PIN, add_user, create_first_admin, dialog, register_patient, sign_in, sign_out

BEDSIDE = str(Path(sys.executable).with_name("bedside"))


def oru(mid: str, mrn: str) -> str:
    family, given = (x.strip().upper() for x in NAME.split(","))
    return (
        "\r".join(
            [
                f"MSH|^~\\&|LIS|CITYLAB|BEDSIDE|WARD|20260101080000||ORU^R01^ORU_R01|{mid}|P|2.5.1",
                f"PID|1||{mrn}^^^HOSP^MR||{family}^{given}||{DOB.replace('-', '')}|F",
                "OBR|1|||24323-8^Panel^LN|||202601010700+0000",
                "OBX|1|NM|751-8^Neutrophils^LN||1.9|10*9/L|1.5-7.0|N|||F",
                "OBX|2|NM|1920-8^AST^LN||30|U/L|0-40||||F",
                "OBX|3|NM|777-3^Platelets^LN||120|10*9/L|150-400||||F",
            ]
        )
        + "\r"
    )


def run(args, env):
    return subprocess.run([BEDSIDE, *args], env=env, capture_output=True, text=True, timeout=60)


def test_import_labs_applies_once_and_quarantines_the_unmatched(spawn, home, tmp_path):
    db = tmp_path / "ward.db"
    env = child_env(home)
    t = spawn(["--db", str(db)], env)
    create_first_admin(t)
    t.send("u")
    t.arrive("Users")
    add_user(t, "nina", NAMES["nina"], "nurse", PIN["nina"])
    t.send("escape")
    sign_out(t)
    sign_in(t, "nina", PIN["nina"], NAMES["nina"])
    register_patient(t, NAME, DOB, MRN)
    assert t.quit() == 0

    good, bad = tmp_path / "a.hl7", tmp_path / "b.hl7"
    good.write_text(oru("E2E-1", MRN), encoding="latin-1")
    bad.write_text(oru("E2E-2", "MRN-0000"), encoding="latin-1")
    first = run(["import", "labs", str(good), "--db", str(db)], env)
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout and "E2E-1" in first.stdout and "Traceback" not in first.stderr
    again = run(["import", "labs", str(good), "--db", str(db)], env)
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stdout
    wrong = run(["import", "labs", str(bad), "--db", str(db)], env)
    assert wrong.returncode == 3 and "quarantined" in wrong.stdout and "unmatched" in wrong.stdout, wrong.stdout
    missing = run(["import", "labs", str(tmp_path / "none.hl7"), "--db", str(db)], env)
    assert missing.returncode == 2 and "no file" in missing.stderr and "Traceback" not in missing.stderr
    # the nurse answers the transfusion question of the laboratory's platelet count (CONV-HEM-3)
    t = spawn(["--db", str(db)], env)
    sign_in(t, "nina", PIN["nina"], NAMES["nina"])
    t.arrive(MRN)
    t.send("enter")
    t.arrive("Consent")
    t.send("t")
    t.arrive("Cycle 1 not started")
    t.send("b")
    dialog(t, "Start cycle 1", [], done="DUE TODAY")
    t.send("c")
    t.arrive("Pre-dose check C1 D1")
    t.send("T")
    t.arrive("Platelet transfusion before the laboratory's count?")
    t.arrive("120 × 10⁹/L · not answered")
    t.settle(0.15)
    t.send("n", "ctrl+s")  # the focus starts on the answer (the count is chosen)
    t.arrive("Recorded: platelet transfusion")  # the toast wraps
    t.assert_no_traceback()
    t.send("escape", "escape", "escape", "ctrl+q")
    assert t.wait_exit() == 0
    fhir = run(["export", "fhir", MRN, "--db", str(db)], env)
    assert fhir.returncode == 0, fhir.stderr
    assert "Platelet transfusion before this count: no" in fhir.stdout, fhir.stdout[-3000:]
    verify = run(["verify-log", "--db", str(db)], env)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_app_reads_its_drop_folder_and_an_admin_rejects_what_it_kept(spawn, home, tmp_path):
    """``bedside --watch-labs DIR`` on a real database: a results file dropped in the folder is
    applied while the app runs (the toast names the patient), one for an MRN not on the ward is
    kept; the admin opens the Lab inbox (l), rejects it with a reason, and it is recorded."""
    db, drop = tmp_path / "ward.db", tmp_path / "drop"
    drop.mkdir()
    env = child_env(home)
    bad_folder = run(["--db", str(db), "--watch-labs", str(tmp_path / "none")], env)
    assert bad_folder.returncode == 2 and "--watch-labs: no folder" in bad_folder.stderr
    t = spawn(["--db", str(db), "--watch-labs", str(drop)], env)
    create_first_admin(t)
    register_patient(t, NAME, DOB, MRN)
    t.send("escape")
    t.arrive("1 of 1 patients")
    (drop / ".good.tmp").write_text(oru("E2E-W1", MRN), encoding="latin-1")
    (drop / ".good.tmp").rename(drop / "good.hl7")  # written elsewhere, then moved in: read at once
    t.arrive("Laboratory: 1 applied", timeout=20)  # "(MRN …)" follows, on the toast's next line
    (drop / "bad.hl7").write_text(oru("E2E-W2", "MRN-0000"), encoding="latin-1")
    t.arrive("1 quarantined", timeout=20)
    t.send("l")
    t.arrive("Lab inbox")
    t.arrive("no patient with MRN MRN-0000")
    t.send("r")
    t.arrive("Reject message E2E-W2")
    t.send("Not one of ours", "ctrl+s")
    t.arrive("Entry 1 rejected.")
    t.assert_no_traceback()
    t.send("escape", "ctrl+q")
    assert t.wait_exit() == 0
    assert (drop / "done" / "good.hl7").exists() and (drop / "done" / "bad.hl7").exists()
    again = run(["import", "labs", str(drop / "done" / "good.hl7"), "--db", str(db)], env)
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stdout  # applied by the app, once
    verify = run(["verify-log", "--db", str(db)], env)
    assert verify.returncode == 0, verify.stdout + verify.stderr

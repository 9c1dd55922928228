"""Issue 20, labs from the laboratory system through the installed command on a real database:
a ward made in the app (first admin, a nurse, a patient), then ``bedside import labs FILE`` applies
an ORU^R01 for that patient, a second run changes nothing, and a message for an unknown MRN is
quarantined (exit status 3), the record untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .tty import child_env
from .walk import DOB, MRN, NAME, NAMES, PIN, add_user, create_first_admin, register_patient, sign_in, sign_out

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
    t.send("ctrl+q")
    assert t.wait_exit() == 0

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
    verify = run(["verify-log", "--db", str(db)], env)
    assert verify.returncode == 0, verify.stdout + verify.stderr

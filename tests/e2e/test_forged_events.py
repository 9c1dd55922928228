"""Issue 18 end to end: the installed ``bedside --db X`` on a real SQLite database into which an
insider appended an admin ``user.created`` with a correct hash and no MAC (apsw, as someone with
write access to the file but not the site key would). The forged name cannot sign in, and the
warning line is on the screen, before and after a real sign-in."""

from __future__ import annotations

import re
from pathlib import Path

from bedside.core.auth import SiteKey, hash_pin
from tests.core.test_integrity_ledger import forge

from .test_first_run import PATIENTS, SIGN_IN, first_admin_then_quit, sign_in
from .tty import child_env

WARNING = re.compile(r"⚠ TAMPERING: event (\d+) forged, ignored\. Tell an admin \(report: r\)")


def test_a_forged_admin_cannot_sign_in_and_every_screen_says_so(spawn, home, tmp_path):
    db = tmp_path / "ward" / "ward.db"
    env = child_env(home)
    first_admin_then_quit(spawn, ["--db", str(db)], env)
    # the insider even has a PIN hash that would verify: only the missing MAC stops it
    pin_hash = hash_pin(SiteKey(Path(str(db) + ".key")), "4321")
    seq = forge(db, "users", "user.created", {"username": "mallory", "full_name": "M", "role": "admin", "pin_hash": pin_hash})

    t2 = spawn(["--db", str(db)], env)
    t2.wait_for(SIGN_IN)
    m = t2.wait_for(WARNING)
    assert int(m.group(1)) == seq, t2.dump()
    t2.wait_for("User name")
    t2.send("mallory", "enter", "4321", "enter")
    t2.arrive("Unknown user name or wrong PIN")
    assert "(Admin)" not in t2.screen() and WARNING.search(t2.screen()), t2.dump()
    assert t2.quit() == 0

    t3 = spawn(["--db", str(db)], env)
    sign_in(t3, "root", "246810", "Site Admin")
    t3.wait_for(PATIENTS)
    t3.arrive(WARNING)  # on the patient list too
    t3.send("r")
    t3.wait_for(f"first bad event {seq}")
    t3.wait_for(f"event {seq} (users#2) is not authenticated")
    t3.send("ctrl+q")

"""A store fault through the real command: another process holds SQLite's write lock while a form is saved.

The app waits 2 s for the lock (tui/cli.py APP_BUSY_MS), then says the database is busy and that
nothing was saved; escape goes back to the form with every typed value kept; once the lock is
released, ctrl+s saves.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from .walk import choose, create_first_admin

#: Holds the write lock (BEGIN IMMEDIATE) until a line arrives on stdin, 15 s at most.
LOCKER = textwrap.dedent("""
    import select, sys, apsw
    c = apsw.Connection(sys.argv[1])
    c.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    select.select([sys.stdin], [], [], 15)
    c.execute("ROLLBACK")
    c.close()
    print("released", flush=True)
""")


def test_a_held_write_lock_says_busy_keeps_the_form_and_saves_after(spawn, tmp_path):
    db = tmp_path / "ward.db"
    t = spawn(["--db", str(db)])
    create_first_admin(t)

    t.send("n")
    t.wait_for("Register a patient")
    t.settle(0.15)
    t.send("LOCK, Bea", "enter", "1975-02-03", "enter", "MRN-4242", "enter")
    t.wait_for("MRN-4242")

    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        assert not re.search(r"\bbusy\b", t.screen(), re.I), t.dump()  # so the wait below can fail
        t.send("ctrl+s")  # the Sex choice is missing: validation first, nothing reaches the store
        t.wait_for(re.compile(r"Sex: required"))

        choose(t, 0)
        t.send("ctrl+s")
        t.wait_for(re.compile(r"\bbusy\b", re.I), timeout=6)  # "The database … is busy"
        t.wait_for("Nothing was saved")
        t.send("escape")
        t.wait_for("Register a patient")
        screen = t.screen()
        for typed in ("LOCK, Bea", "1975-02-03", "MRN-4242", "Female"):
            assert typed in screen, f"{typed!r} was lost:{t.dump()}"
    finally:
        locker.stdin.write("go\n")
        locker.stdin.close()
        assert locker.stdout.readline().strip() == "released"
        locker.wait(10)
    t.send("ctrl+s")
    t.wait_for("Registered MRN-4242")
    t.wait_for("Consent")
    t.send("escape")
    t.wait_for("1 of 1 patients")

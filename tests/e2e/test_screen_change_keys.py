"""Keys typed while the screen changes, in a real terminal (issue 17; tui/app.py on_event and
_display): on the patient list "a" and "o" in one burst open the audit, but the "o" was read before
the audit was drawn and is not taken as the audit's "o" (the order), and the app rings the bell for
it; once the audit has been drawn, "o" is taken at the first press, and so is ctrl+q."""

from __future__ import annotations

import time

from .test_first_run import PATIENTS, first_admin_then_quit, sign_in
from .tty import child_env


def test_a_key_typed_before_the_screen_is_drawn_is_dropped_and_one_typed_after_is_taken(spawn, home, tmp_path):
    db = tmp_path / "ward.db"
    env = child_env(home)
    first_admin_then_quit(spawn, ["--db", str(db)], env)

    t = spawn(["--db", str(db)], env)
    sign_in(t, "root", "246810", "Site Admin")
    t.arrive(PATIENTS)
    rung = t.bells()
    t.child.send("ao")  # one burst, as a fast typist or a paste
    t.arrive("newest first")
    t.settle(0.5)
    assert "newest first" in t.screen() and "oldest first" not in t.screen(), t.dump()
    assert t.bells() == rung + 1, "the key not taken is answered with the bell"

    t.send("o")
    t.wait_for("oldest first", timeout=5)
    t.send("escape")
    t.arrive(PATIENTS)
    rung = t.bells()
    t.send("ctrl+q")
    end = time.monotonic() + 5
    while t.pump(0.1):
        assert time.monotonic() < end, f"ctrl+q on a drawn screen did not quit:{t.dump()}\n{t.tail()}"
    assert t.bells() == rung
    t.assert_no_traceback()

"""Issue 20 in the shell: the app's own drop-folder watcher (tui/labwatch.py) applies a results
file by itself and says so; what it cannot apply goes to the Lab inbox, where an admin (l on the
patient list, or the palette) assigns it to a patient by MRN or rejects it, each with a reason;
a nurse cannot open it."""

from __future__ import annotations

import os
import time

from bedside.core import labfeed
from bedside.core.demo import DEMO_KEY
from bedside.core.intake import PATIENT_PREFIX
from bedside.core.labs.sample import sample_oru
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from bedside.tui.labwatch import LabWatcher, summary
from bedside.tui.screens.labinbox import LabInboxScreen
from bedside.tui.screens.patients import PatientListScreen

from .conftest import sign_in, type_text

FEED = "os:labfeed"


def hartman(ledger):
    entry = next(p for p in ledger.patients() if p.mrn == "MRN-100231")
    return entry, ledger.patient(entry.id)


def sample(ledger, mid="T-1", mrn=None):
    _entry, p = hartman(ledger)
    identity = dict(p.identity) if mrn is None else {**p.identity, "mrn": mrn}
    return sample_oru(identity, p.current("labs"), ledger.clock.now(), mid)


def imported(ledger, pid):
    return [e for e in ledger.stream_events(PATIENT_PREFIX + pid) if e.kind == "labs.imported"]


def test_the_watcher_applies_a_dropped_file_and_waits_for_one_being_written(demo_ledger, clock, tmp_path):
    db = demo_ledger.store.path if hasattr(demo_ledger.store, "path") else tmp_path / "demo.db"
    folder = tmp_path / "drop"
    folder.mkdir()
    reports: list = []
    watcher = LabWatcher(folder, lambda: Ledger(SqliteStore(db), clock, DEMO_KEY), FEED, reports.append, interval=0.05)
    fresh = folder / "fresh.hl7"
    fresh.write_text(sample(demo_ledger, "T-FRESH"), encoding="utf-8")
    os.utime(fresh, (time.time() + 60, time.time() + 60))  # still being written: changed "just now"
    (folder / "a.hl7").write_text(sample(demo_ledger, "T-1"), encoding="utf-8")
    watcher.start()
    try:
        deadline = time.time() + 10
        while not reports and time.time() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
    assert reports, "the watcher reported nothing"
    (name, outcomes), *_ = reports[0]
    assert name == "a.hl7" and [o.what for o in outcomes] == ["applied"]
    assert fresh.exists(), "a file changed within the settle time was read"
    assert (folder / "done" / "a.hl7").exists()
    demo_ledger.refresh(force=True)
    entry, _p = hartman(demo_ledger)
    rec = imported(demo_ledger, entry.id)
    assert len(rec) == 1 and rec[0].data["message_id"] == "T-1" and rec[0].actor == FEED
    line, kept = summary(reports[0])
    assert line == "Laboratory: 1 applied (MRN MRN-100231)." and not kept


def test_summary_says_what_was_kept_for_an_admin():
    done = [
        ("a", [labfeed.Outcome("quarantined", "M1", "LIS", "unmatched"), labfeed.Outcome("unchanged", "M2", "LIS")]),
        ("b", [labfeed.Outcome("failed", "", "", "disk")]),
    ]
    line, kept = summary(done)
    assert kept
    assert "1 already recorded" in line and "1 quarantined: an admin assigns or rejects it in the Lab inbox (l)" in line
    assert "1 file(s) not read" in line


async def test_the_app_folds_in_and_tells_the_user(app, demo_ledger):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        outcomes = labfeed.import_text(demo_ledger, sample(demo_ledger, "T-2"), "x.hl7", FEED)
        app.labs_arrived([("x.hl7", outcomes)])
        await pilot.pause()
        assert any("Laboratory: 1 applied (MRN MRN-100231)." in n.message for n in app._notifications)


async def test_an_admin_rejects_and_assigns_held_messages(app, demo_ledger):
    labfeed.import_text(demo_ledger, sample(demo_ledger, "T-BAD", mrn="MRN-999999"), "bad.hl7", FEED)
    labfeed.import_text(demo_ledger, sample(demo_ledger, "T-BAD2", mrn="MRN-999998"), "bad2.hl7", FEED)
    entry, _p = hartman(demo_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "adam")
        assert isinstance(app.screen, PatientListScreen)
        await pilot.press("l")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LabInboxScreen)
        text = "\n".join(s.text for s in screen._compositor.render_strips())
        assert "PENDING" in text and "no patient with MRN MRN-999998 on this ward" in text  # the newest first
        await pilot.press("r")
        await pilot.pause()
        await type_text(pilot, "Not our patient")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        held = {h.message.message_id: h for h in demo_ledger.lab_inbox()}
        assert held["T-BAD2"].resolved.outcome == "rejected" and held["T-BAD2"].resolved_by == "adam"
        assert held["T-BAD2"].resolved.reason == "Not our patient"
        await pilot.press("a")
        await pilot.pause()
        await type_text(pilot, "MRN-000000")
        await pilot.press("enter")
        await type_text(pilot, "Lab typo")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "no patient on this ward has this MRN" in str(app.screen.query_one("#e-mrn").render())
        mrn = app.screen.query_one("#f-mrn")
        mrn.value = "MRN-100231"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        held = {h.message.message_id: h for h in demo_ledger.lab_inbox()}
        assert held["T-BAD"].resolved.outcome == "assigned" and held["T-BAD"].resolved.patient == entry.id
        rec = imported(demo_ledger, entry.id)
        assert [r.data["assigned_from"] for r in rec] == [held["T-BAD"].entry]
        assert rec[0].actor == "adam"
        assert isinstance(app.screen, LabInboxScreen) and app.screen.query_one("#inbox").row_count == 0


async def test_a_nurse_cannot_open_the_lab_inbox(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "nina")
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, PatientListScreen)
        assert app.check_action("lab_inbox", ()) is False

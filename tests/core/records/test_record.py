"""The printed medication administration record (core/records/): a reviewed golden file, at
most 80 columns a line, user text printed literally, local times, one cycle or all."""

from __future__ import annotations

import difflib
import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bedside.core import infusion as inf
from bedside.core.events import NewEvent
from bedside.core.records import WIDTH, administration_record

from .scenario import LONG_REASON, SYMPTOMS, TREATMENT, demo, users_of, walk_full_infusion

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
UPDATE = os.environ.get("BEDSIDE_UPDATE_GOLDEN") == "1"


def record(ledger, mrn: str, **kw) -> str:
    p = ledger.patient(next(q.id for q in ledger.patients() if q.mrn == mrn))
    kw.setdefault("tz", UTC)
    kw.setdefault("now", ledger.clock.now())
    return administration_record(p, ledger.stream_events(p.stream), users_of(ledger), **kw)


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; rewrite it only with BEDSIDE_UPDATE_GOLDEN=1 (then review
    the diff before committing). Any difference fails."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"{path} is missing: run with BEDSIDE_UPDATE_GOLDEN=1, review it, and commit it.")
    want = path.read_text(encoding="utf-8")
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), f"golden/{name}", "printed"))
        pytest.fail(f"The printed record differs from golden/{name} (BEDSIDE_UPDATE_GOLDEN=1 rewrites it on purpose):\n{diff}")


def assert_fits(text: str) -> None:
    assert text.endswith("\n")
    for line in text.splitlines():
        assert len(line) <= WIDTH, line
        assert line == line.rstrip(), repr(line)
        assert all(ch == " " or ch.isprintable() for ch in line), repr(line)


def test_demo_record_matches_the_reviewed_golden_file(demo_db):
    ledger, _clock = demo_db
    text = record(ledger, "MRN-100590")
    assert_fits(text)
    check_golden("mar_MRN-100590.txt", text)


def test_full_infusion_record_matches_the_reviewed_golden_file(demo_db):
    ledger, clock = demo_db
    walk_full_infusion(ledger, clock)
    text = record(ledger, "MRN-100231")
    assert_fits(text)
    check_golden("mar_full_infusion_MRN-100231.txt", text)


def test_header_has_both_identifiers_and_what_the_unit_needs(demo_db):
    ledger, _clock = demo_db
    text = record(ledger, "MRN-100590")
    head = text.split("CYCLE 1")[0]
    for want in ("NAKAMURA, Ren", "1979-07-08", "MRN-100590", "Male", "Mosteller", "Printed at:    2026-03-02 09:30"):
        assert want in head
    c1d8 = text.split("C1 D8  2026-03-02")[1].split("C1 D15")[0]
    assert "GIVEN, INFUSING  0.5 mg/m²  0.94 mg" in text
    assert "Prepared by:  Phil Marsh (pharmacist)" in c1d8
    assert "Verified by:  Noah Brandt (nurse)" in c1d8
    assert "Started:      2026-03-02 09:10 by Nina Okafor (nurse)" in c1d8
    assert "projected end 2026-03-02 10:10" in c1d8


def test_every_record_fits_80_columns(tmp_path, demo_db):
    ledger, _clock = demo_db
    for p in [ledger.patient(e.id) for e in ledger.patients()]:
        assert_fits(record(ledger, p.mrn))
    for scenario in ("paused", "stopped"):
        other, clock2, store2 = demo(tmp_path / scenario)
        try:
            walk_full_infusion(other, clock2, scenario=scenario)
            text = record(other, "MRN-100231")
            assert_fits(text)
            assert ("STOPPED" in text) == (scenario == "stopped")
        finally:
            store2.close()


def test_user_text_is_printed_literally_and_wrapped(demo_db):
    ledger, clock = demo_db
    walk_full_infusion(ledger, clock)
    text = record(ledger, "MRN-100231")
    assert "[bold]x[/bold]" in text and "*not markdown*" in text and "[red]no[/red]" in text
    assert "[bold]ALT rising[/bold]" in text
    flat = " ".join(line.strip() for line in text.splitlines())
    assert SYMPTOMS in flat and TREATMENT in flat and LONG_REASON in flat
    assert "Grade 2 (CTCAE v5.0)" in text and "outcome resume" in text
    assert "Observation:  completed 2026-03-02 11:59" in text
    assert "HELD" in text and "OMITTED: patient choice: travel" in text


def test_hostile_text_never_breaks_the_page(demo_db):
    ledger, clock = demo_db
    walk_full_infusion(ledger, clock, scenario="paused")
    p = ledger.patient(next(q.id for q in ledger.patients() if q.mrn == "MRN-100231"))
    stream = p.stream
    nasty = "\x1b[31mred\x1b[0m\ttab\nnewline " + "X" * 200 + " 漢字" * 60 + " [bold]x[/bold]"
    data = inf.event_data(inf.INFUSION_RESUMED, "c1d1", clock.now())
    ledger.append(stream, lambda: [NewEvent(stream, inf.INFUSION_RESUMED, "nina", clock.now(), data)])
    clock.advance(minutes=1)
    data = inf.event_data(inf.INFUSION_PAUSED, "c1d1", clock.now(), reason="x")
    data["reason"] = nasty  # as if written by another tool, bypassing the builder's cleaning
    ledger.append(stream, lambda: [NewEvent(stream, inf.INFUSION_PAUSED, "ghost", clock.now(), data)])
    text = record(ledger, "MRN-100231")
    assert_fits(text)
    assert "\x1b" not in text and "\t" not in text
    assert "\\x1b[31mred\\x1b[0m tab newline" in text
    assert "ghost (unknown user)" in text
    # wide characters count twice: no line is wider than 80 columns on a terminal
    import unicodedata

    for line in text.splitlines():
        assert sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) <= WIDTH, line


def test_one_cycle_only(demo_db):
    ledger, _clock = demo_db
    one = record(ledger, "MRN-100590", cycle=1)
    assert "CYCLE 1" in one and "CYCLE 2" not in one and "Record of:     cycle 1" in one
    two = record(ledger, "MRN-100590", cycle=2)
    assert "CYCLE 2" in two and "C1 D8" not in two
    with pytest.raises(ValueError, match="Cycle 7"):
        record(ledger, "MRN-100590", cycle=7)


def test_times_are_shown_in_the_given_zone(demo_db):
    ledger, _clock = demo_db
    text = record(ledger, "MRN-100590", tz=ZoneInfo("Europe/Oslo"))
    assert "Started:      2026-03-02 10:10 by Nina Okafor (nurse)" in text  # 09:10 UTC
    assert "Printed at:    2026-03-02 10:30 (Europe/Oslo)" in text


def test_a_patient_without_treatment(demo_db):
    ledger, _clock = demo_db
    text = record(ledger, "MRN-100412")
    assert_fits(text)
    assert "No treatment cycle is recorded." in text and "DUBOIS, Marc" in text
    with pytest.raises(ValueError):
        record(ledger, "MRN-100412", now=datetime(2026, 3, 2, 9, 30))  # naive: refused


def test_an_entry_marked_in_error_stays_on_the_record_marked(demo_db):
    from bedside.core import schedule as sch

    ledger, _clock = demo_db
    p = ledger.patient(next(q.id for q in ledger.patients() if q.mrn == "MRN-100231"))
    ledger.execute(sch.StartCycle(p.id, ledger.today()), "priya")
    ledger.execute(sch.HoldDose(p.id, 1, 1, "fever", "other"), "nina")
    ledger.execute(sch.VoidLatestEntry(p.id, "held the wrong patient [x]"), "nina")
    text = record(ledger, "MRN-100231")
    assert_fits(text)
    flat = " ".join(text.split())
    assert "HELD from" in flat and "ENTERED IN ERROR (marked by" in flat and "held the wrong patient [x])" in flat
    assert ledger.timeline(p.id).dose(1, 1).state != sch.HELD

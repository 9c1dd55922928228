"""Issue 16: a database written by ``main`` at 5f43dfd opens and folds to the same state today.

``tests/fixtures/main-5f43dfd.db`` was written, and ``main-5f43dfd-states.json`` folded from it, by
the code of commit 5f43dfd (``tests/fixtures/make_main_fixture.py``; never regenerated with newer
code). Here the current code folds a copy of that database with the same function
(``tests/fixtures/dump_states.py``) at the same instant, and every section must be equal.
"""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bedside.core import clock
from bedside.core.store import SqliteStore, verify_log
from tests.fixtures.dump_states import dump_states
from tests.fixtures.main_db import copy_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DB = FIXTURES / "main-5f43dfd.db"
STATES = FIXTURES / "main-5f43dfd-states.json"
NOW = datetime(2025, 4, 2, 9, 30, tzinfo=UTC)  # make_main_fixture.NOW: 11:30 in Berlin


@pytest.fixture(autouse=True)
def _own_zone(monkeypatch):
    """The fixture's site zone (Europe/Berlin) is applied while folding; other tests keep theirs."""
    monkeypatch.setattr(clock, "_current", None)


@pytest.fixture
def db(tmp_path) -> Path:
    """A copy of the fixture (opening a WAL database writes beside it; the committed one stays as made)."""
    return copy_fixture(tmp_path)


# Deliberate corrections of wording since 5f43dfd (issue 17's proof-reading): the golden file
# stays as the old code wrote it; only these phrases differ, nothing else may.
WORDING_FIXES = (
    ("record a antihistamine", "record an antihistamine"),
    ("record a antipyretic", "record an antipyretic"),
    # The monitor's alerts (issue 17): a dose as users read it, and what to do with why.
    ("Dose c1d1: ", "C1 D1: "),
    (
        "Stop the infusion; it cannot resume. Permanent discontinuation of BESPONSA is proposed: a prescriber must "
        "record it before any further dose (CONV-IRR-1, MOD-NH-3).",
        "Stop the infusion; it cannot resume: a severe or life-threatening reaction means permanent discontinuation "
        "of BESPONSA (MOD-NH-3, CONV-IRR-1). A prescriber must record it before any further dose.",
    ),
    (
        "Record a set now if the patient is still here; enter a late set with its real time if one was taken (MON-4).",
        "Record a set now if the patient is still here; if one was taken, enter it late with the time it was taken: "
        "the site's schedule asks for a set at this point (MON-4).",
    ),
    # The pre-dose check (issue 17): articles, names that start a row with a capital, the section sign.
    ("Enter a ANC", "Enter an ANC"),
    ("Enter a Platelets", "Enter a platelet count"),
    ("total bilirubin for this dose", "Total bilirubin for this dose"),
    ("total bilirubin grade (v", "Total bilirubin grade (v"),
    ("total bilirubin vs ", "Total bilirubin vs "),
    ("hold while bilirubin", "Hold while bilirubin"),
    ("changes this (16.1)", "changes this (§16.1)"),
    ("SCHED by  (prescriber)", "SCHED (prescriber)"),
    ("— cycle 1 Day 1: Table 2 starts", "— C1 D1: Table 2 starts"),
    ("Table 2 applies from cycle 2 Day 1", "Table 2 applies from C2 D1"),
)


# Fields added since 5f43dfd, which a database written then folds to their empty default: a section
# (by name, or every "name/…" section) may have them beside what main folded, at exactly that value.
NEW_FIELDS: dict[str, dict[str, object]] = {
    "site": {  # issue 17: the site's premedication protocol (PRE-1, PRE-2); issue 20: its FHIR codes
        "premed_protocol": [],
        "fhir_mrn_system": "",
        "fhir_rxnorm_code": "",
        "recalled_lots": [],  # issue 20: the site's recalled lots (carton scans)
        "wristband_scheme": "gsrn",  # issue 20: wristband identifiers
        "fhir_wristband_system": "",
    },
    "users": {"preferences": []},  # issue 17: each user's own preferences (the theme), none in 5f43dfd
}


def _without_new_fields(sections: dict[str, object]) -> dict[str, object]:
    for name, value in sections.items():
        for prefix, fields in NEW_FIELDS.items():
            if isinstance(value, dict) and (name == prefix or name.startswith(prefix + "/")):
                for key, default in fields.items():
                    if key in value and value[key] == default:
                        del value[key]
        state = value.get("state") if isinstance(value, dict) and "/preparation/" in name else None
        if isinstance(state, dict) and state.get("cartons") == []:
            del state["cartons"]  # issue 20: the vial cartons scanned, none in 5f43dfd
        if isinstance(state, dict):  # issue 20: each step names the calculation it was done for (the bag label)
            for step in [*state.get("steps", []), *(s for old in state.get("discarded", []) for s in old)]:
                step.pop("calc_version", None)
        if name.endswith("/record") and isinstance(value, list):  # issue 20: the record says none was scanned
            sections[name] = [line for line in value if not line.startswith("  Vials (scanned): no carton scanned (0 of ")]
    return sections


def _without_fhir_additions(sections: dict[str, object]) -> dict[str, object]:
    """Issue 20 added to the FHIR export, and changed nothing it held: the diagnosis as a Condition
    entry (with its recorder's Practitioner and PractitionerRole, when no other entry names them), and
    a reaction's coded severity and seriousness beside its text. Taken out here, and only these (each
    patient's export must otherwise be what main folded, entry for entry)."""
    for name, value in sections.items():
        if not name.endswith("/fhir") or not isinstance(value, dict):
            continue
        value["entry"] = _without_condition(value["entry"])
        for e in value["entry"]:
            r = e["resource"]
            if r["resourceType"] == "AdverseEvent":
                r.pop("seriousness", None)
                if "severity" in r:
                    r["severity"].pop("coding", None)
    return sections


def _without_condition(entries: list[dict]) -> list[dict]:
    """The entries without the Condition, and without its recorder's role and practitioner when no
    other resource refers to that role."""
    conditions = [e for e in entries if e["resource"]["resourceType"] == "Condition"]
    rest = [e for e in entries if e not in conditions]
    for c in conditions:
        role_url = c["resource"]["recorder"]["reference"]
        role = next(e for e in rest if e["fullUrl"] == role_url)
        others = json.dumps(
            [e["resource"] for e in rest if e["resource"]["resourceType"] not in ("Practitioner", "PractitionerRole")]
        )
        if role_url not in others:
            person_url = role["resource"]["practitioner"]["reference"]
            rest = [e for e in rest if e["fullUrl"] not in (role_url, person_url)]
    return rest


def _corrected(text: str) -> str:
    for old, new in WORDING_FIXES:
        text = text.replace(old, new)
    return text


def _sections(states: dict) -> dict[str, object]:
    """One comparable section per fact: site, zone, today, each user, and per patient each part
    (intake, timeline, each dose's preparation, verdict and monitor, the record, the FHIR export)."""
    out: dict[str, object] = {k: v for k, v in states.items() if k not in ("users", "patients")}
    for name, user in states["users"].items():
        out[f"users/{name}"] = user
    for pid, p in states["patients"].items():
        label = f"patients/{p['mrn']}"
        out[f"{label}/id"] = pid
        for part, value in p.items():
            if part in ("preparation", "verdict", "monitor"):
                out[f"{label}/{part}/doses"] = sorted(value)
                for dose, state in value.items():
                    out[f"{label}/{part}/{dose}"] = state
            elif part != "mrn":
                out[f"{label}/{part}"] = value
    return out


def _text(value: object) -> list[str]:
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False).splitlines()


def _diff(name: str, want: object, got: object, limit: int = 60) -> str:
    lines = list(difflib.unified_diff(_text(want), _text(got), f"{name} (main 5f43dfd)", f"{name} (now)", lineterm="", n=2))
    more = f"\n… {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def test_the_fixture_chain_is_intact(db):
    store = SqliteStore(db)
    try:
        report = verify_log(store, store.anchor.read())
    finally:
        store.close()
    assert report.ok, report.summary()
    assert report.events > 300 and report.streams == 8  # users, site and six patients


def test_a_database_written_by_main_5f43dfd_folds_to_the_same_state(db):
    want = _sections(json.loads(_corrected(STATES.read_text(encoding="utf-8"))))
    got = _without_fhir_additions(
        _without_new_fields(_sections(json.loads(json.dumps(dump_states(db, NOW)))))
    )  # the same JSON round trip
    missing, extra = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
    differ = [name for name in want if name in got and want[name] != got[name]]
    if missing or extra or differ:
        report = [
            f"{len(differ)} of {len(want)} sections differ from what main 5f43dfd folded"
            + (f"; missing now: {missing}" if missing else "")
            + (f"; new now: {extra}" if extra else "")
            + ":",
            *(f"  {name}" for name in differ),
        ]
        report += [_diff(name, want[name], got[name]) for name in differ]
        pytest.fail("\n".join(report), pytrace=False)

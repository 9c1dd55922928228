"""Intake validation and the patient fold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import intake
from bedside.core.events import Event

TODAY = date(2025, 3, 3)
GOOD = {
    "identity": {"name": "DOE, Jane", "dob": "1970-01-01", "mrn": "MRN-1", "sex": "female"},
    "measurement": {"height_cm": "170", "weight_kg": "70", "measured_on": "2025-03-01"},
    "labs": {
        "collected_on": "2025-03-02",
        "anc": "1.5",
        "platelets": "80",
        "platelet_transfusion": "no",
        "bilirubin_unit": "mg/dL",
        "bilirubin": "0.9",
        "bilirubin_uln": "1.2",
        "ast": "30",
        "ast_uln": "40",
        "alt": "20",
        "alt_uln": "40",
    },
    "blasts": {"collected_on": "2025-03-02", "wbc": "30", "blast_pct": "40"},
    "hsct": {"plan": "planned"},
    "reproductive": {"potential": "yes", "pregnancy_test": "negative", "test_date": "2025-03-01", "breastfeeding": "no"},
    "consent": {"consent": "given", "consent_date": "2025-03-01"},
    "diagnosis": {"disease_status": "relapsed", "cd22": "positive"},
}


@pytest.mark.parametrize("section", sorted(GOOD))
def test_valid_forms_give_whole_records(section):
    r = intake.validate(section, GOOD[section], today=TODAY)
    assert r.ok, r.errors


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("height_cm", "NaN", "Height (cm): enter a plain number from 40 to 260 cm"),
        ("height_cm", "1e9", "Height (cm): enter a plain number"),
        ("height_cm", "-170", "Height (cm): enter a plain number"),
        ("height_cm", "9999", "outside the allowed range 40 to 260 cm"),
        ("weight_kg", "", "Weight (kg): required"),
        ("weight_kg", "[bold]70", "Weight (kg): enter a plain number"),
        ("measured_on", "2025-02-30", "not a real date"),
        ("measured_on", "2025-03-04", "in the future"),
        ("measured_on", "03/01/2025", "YYYY-MM-DD"),
    ],
)
def test_bad_measurement_names_the_field_and_range(field, value, words):
    raw = {**GOOD["measurement"], field: value}
    r = intake.validate("measurement", raw, today=TODAY)
    assert not r.ok
    assert words in r.errors[field]


def test_unusual_value_needs_confirmation_which_is_recorded():
    raw = {**GOOD["measurement"], "height_cm": "235"}
    r = intake.validate("measurement", raw, today=TODAY)
    assert not r.ok and "height_cm" in r.confirm and not r.errors
    r = intake.validate("measurement", raw, today=TODAY, confirmed={"height_cm"})
    assert r.ok and r.data["confirmed_unusual"] == ["height_cm"]


def test_blast_count_from_wbc_and_percent():
    # PRE-3: WBC 30 × 10⁹/L, 40% → 12,000/mm³
    r = intake.validate("blasts", GOOD["blasts"], today=TODAY)
    assert r.data["blasts_per_mm3"] == "12000"


def test_blast_count_field_refuses_a_bare_percentage():
    r = intake.validate("blasts", {"collected_on": "2025-03-02", "blasts_per_mm3": "40"}, today=TODAY)
    assert "looks like a %" in r.errors["blasts_per_mm3"]


def test_pregnancy_result_needs_its_date():
    raw = {**GOOD["reproductive"], "test_date": ""}
    assert "Test date" in intake.validate("reproductive", raw, today=TODAY).errors["test_date"]


def test_mrn_must_be_unique():
    r = intake.validate("identity", GOOD["identity"], today=TODAY, taken_mrns=["mrn-1"])
    assert "another patient" in r.errors["mrn"]


def test_dates_cannot_precede_birth():
    r = intake.validate("measurement", GOOD["measurement"], today=TODAY, dob=date(2025, 3, 2))
    assert "before the date of birth" in r.errors["measured_on"]


def test_control_characters_refused_in_text():
    raw = {**GOOD["identity"], "name": "DOE\x1b[31m, Jane"}
    assert "control characters" in intake.validate("identity", raw, today=TODAY).errors["name"]


TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["NaN", "inf", "-1", "1e999999", "[bold]x[/bold]", "\x00", "9" * 400, "0", "1_000", "١٢٣", " 70 ", "70,5"]),
)


@given(section=st.sampled_from(sorted(intake.SECTIONS)), data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_input_gives_a_whole_record_or_named_errors(section, data):
    sec = intake.SECTIONS[section]
    raw = {f.name: (data.draw(st.booleans()) if f.kind == "bool" else data.draw(TEXTS)) for f in sec.fields}
    r = intake.validate(section, raw, today=TODAY)
    if r.ok:
        for f in sec.fields:
            if f.required and f.kind != "bool":
                assert f.name in r.data
            if f.kind == "decimal" and f.name in r.data:
                v = Decimal(r.data[f.name])
                assert v.is_finite()
                if f.limit:
                    lo, hi, *_ = intake.rules.INPUT_LIMITS[f.limit]
                    assert lo <= v <= hi
    else:
        assert r.errors or r.confirm
        for name, msg in {**r.errors, **r.confirm}.items():
            label = sec.field(name).label
            assert msg.startswith(label) or label in msg


# --- the fold ------------------------------------------------------------------------------------


def _events(kinds_and_data):
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2025, 3, 3, tzinfo=UTC)
    return [
        Event(i + 1, "patient:p", i + 1, kind, "u", t0 + timedelta(minutes=i), data, "", "")
        for i, (kind, data) in enumerate(kinds_and_data)
    ]


def test_correction_keeps_the_old_value_visible():
    evs = _events(
        [
            ("patient.registered", GOOD["identity"]),
            ("intake.measurement", {**GOOD["measurement"], "bsa_formula": "mosteller"}),
            (
                "intake.corrected",
                {"corrects": 2, "section": "measurement", "reason": "typo", "data": {**GOOD["measurement"], "weight_kg": "71"}},
            ),
        ]
    )
    p = intake.fold_patient("p", evs)
    (entry,) = p.history("measurement")
    assert entry.data["weight_kg"] == "71"
    assert entry.corrections[0].old["weight_kg"] == "70"
    assert entry.corrections[0].reason == "typo"


SECTION_EVENTS = st.lists(
    st.sampled_from(sorted(k for k in intake.KIND_TO_SECTION if k != "patient.registered")).map(lambda k: (k, {"x": 1})),
    max_size=30,
)


@given(SECTION_EVENTS)
@settings(max_examples=100, deadline=None)
def test_fold_loses_no_event_and_replay_is_identical(items):
    evs = _events([("patient.registered", GOOD["identity"]), *items])
    p1 = intake.fold_patient("p", evs)
    p2 = intake.fold_patient("p", evs)
    assert p1 == p2
    assert p1.version == len(evs)
    assert len(p1.entries) == len(evs)
    # incremental application equals a fold from scratch
    p3 = intake.Patient("p")
    for e in evs:
        p3 = intake.apply(p3, e)
    assert p3 == p1


def test_ledger_records_bsa_with_its_formula(ledger):
    ledger.add_user("adam", "ann", "Ann", "admin", "1234")
    p = ledger.register_patient("ann", intake.validate("identity", GOOD["identity"], today=TODAY).data)
    ledger.record("ann", p.id, "measurement", intake.validate("measurement", GOOD["measurement"], today=TODAY).data)
    data = ledger.patient(p.id).current("measurement")
    assert data["bsa_formula"] == "mosteller"
    assert Decimal(data["bsa_m2"]).quantize(Decimal("0.0001")) == Decimal("1.8181")  # W1


def test_ledger_picks_up_another_terminals_writes(tmp_path, clock, key):
    from bedside.core.service import Ledger
    from bedside.core.store import SqliteStore

    a = Ledger(SqliteStore(tmp_path / "x.db"), clock, key)
    b = Ledger(SqliteStore(tmp_path / "x.db"), clock, key)
    a.add_user("system", "ann", "Ann", "admin", "1234")
    assert b.refresh() and "ann" in b.users()
    assert not b.refresh(), "nothing new: no re-read"


def test_creatinine_clearance_is_optional_and_range_checked():
    assert intake.validate("labs", GOOD["labs"], today=TODAY).data is not None  # not required
    r = intake.validate("labs", {**GOOD["labs"], "crcl": "25"}, today=TODAY)
    assert r.data is not None and r.data["crcl"] == "25"
    assert "CrCl 25 mL/min" in intake.summary("labs", r.data)
    r = intake.validate("labs", {**GOOD["labs"], "crcl": "900"}, today=TODAY)
    assert r.data is None and "CrCl" in r.errors["crcl"] and "400" in r.errors["crcl"]


def test_a_new_form_starts_with_todays_date_where_the_date_is_normally_today():
    assert intake.form_defaults("measurement", TODAY) == {"measured_on": "2025-03-03"}
    assert intake.form_defaults("labs", TODAY) == {"collected_on": "2025-03-03"}
    assert intake.form_defaults("consent", TODAY) == {"consent_date": "2025-03-03"}
    assert intake.form_defaults("identity", TODAY) == {}, "a date of birth is never today"
    assert intake.form_defaults("reproductive", TODAY) == {}, "no test, no test date"


def test_a_pregnancy_test_result_needs_a_date_and_gets_today():
    raw = {"potential": "yes", "pregnancy_test": "negative", "test_date": ""}
    assert intake.dates_to_fill("reproductive", raw, TODAY) == {"test_date": "2025-03-03"}
    assert intake.dates_to_fill("reproductive", {**raw, "test_date": "2025-03-01"}, TODAY) == {}, "a typed date stays"
    assert intake.dates_to_fill("reproductive", {**raw, "pregnancy_test": "not_done"}, TODAY) == {}


def test_a_result_in_the_labs_own_unit_is_not_called_lab_unit():
    r = intake.validate("labs", {**GOOD["labs"], "bilirubin": "200"}, today=TODAY)
    assert r.errors["bilirubin"] == "Total bilirubin: 200 is outside the allowed range 0 to 100."
    assert intake.SECTIONS["labs"].field("ast").hint == "0 to 50000"
    assert intake.SECTIONS["labs"].field("anc").hint == "0 to 200 × 10⁹/L"

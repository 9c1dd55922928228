"""core/predose (the engine) against §5, §6, §15, §16 and the worked examples of §18.3 / §18.5."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import intake, predose, rules
from bedside.core.predose import (
    DISCONTINUE,
    HOLD,
    NEEDS_CONFIRMATION,
    PROCEED,
    REDUCE,
    BilirubinCause,
    Check,
    DoseContext,
    IdentityConfirmation,
    ObservationDeviation,
    Override,
    PatientRecords,
    PredoseSettings,
    Premed,
    Toxicity,
    evaluate,
    grade_anc,
    grade_bilirubin,
    grade_platelets,
    grade_transaminase,
    grade_transaminase_v3,
    overall_of,
)

# --- a patient for whom everything passes ---------------------------------------------------------

C1D1 = date(2025, 3, 3)
C1D8 = date(2025, 3, 10)
C1D15 = date(2025, 3, 17)
C2D1 = date(2025, 3, 24)
DOB = date(1985, 6, 1)
# §18.5 ULNs: total bilirubin 1.2 mg/dL; AST 40 U/L; ALT 40 U/L.


def panel(on: date, version: int = 0, **kw: str) -> dict:
    p = {
        "collected_on": on.isoformat(),
        "anc": "1.8",
        "platelets": "120",
        "platelet_transfusion": "no",
        "bilirubin_unit": "mg/dL",
        "bilirubin": "0.8",
        "bilirubin_uln": "1.2",
        "ast": "30",
        "ast_uln": "40",
        "alt": "25",
        "alt_uln": "40",
        "version": version,
    }
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def measurement(on: date, weight: str = "70", height: str = "170", version: int = 0) -> dict:
    return {"height_cm": height, "weight_kg": weight, "measured_on": on.isoformat(), "version": version}


def premeds(on: date) -> tuple[Premed, ...]:
    at = datetime(on.year, on.month, on.day, 8, 0, tzinfo=UTC)
    return (
        Premed(drug_class="corticosteroid", drug="dexamethasone", dose="12 mg IV", given_at=at),
        Premed(drug_class="antipyretic", drug="paracetamol", dose="1000 mg PO", given_at=at),
        Premed(drug_class="antihistamine", drug="loratadine", dose="10 mg PO", given_at=at),
    )


def ident(**kw) -> IdentityConfirmation:
    base = {"user": "nina", "method": "scanned", "name": "Doe, Jane", "dob": DOB, "mrn": "MRN-001"}
    base.update(kw)
    return IdentityConfirmation(**base)


def records(dose_date: date, *, labs=None, extra_labs=(), measurements=None, **kw) -> PatientRecords:
    base = {
        "labs": (panel(date(2025, 3, 1), 1),) + ((panel(dose_date, 10),) if dose_date != C1D1 else ()) + tuple(extra_labs)
        if labs is None
        else tuple(labs),
        "blasts": ({"collected_on": "2025-03-01", "blasts_per_mm3": "5000", "derived_from": "absolute", "version": 2},),
        "measurements": (measurement(date(2025, 3, 1)),) + ((measurement(dose_date, version=11),) if dose_date != C1D1 else ())
        if measurements is None
        else tuple(measurements),
        "reproductive": {"potential": "no", "breastfeeding": "no"},
        "consent": {"consent": "given", "consent_date": "2025-02-28"},
        "diagnosis": {"disease_status": "relapsed", "cd22": "positive"},
        "name": "Doe, Jane",
        "mrn": "MRN-001",
        "sex": "female",
        "dob": DOB,
        "premeds": premeds(dose_date),
        "identity_check": ident(),
        "ecg_dates": (date(2025, 3, 1),),
        "electrolytes_dates": (date(2025, 3, 1),),
        "emergency_ready": True,
    }
    base.update(kw)
    return PatientRecords(**base)


def ctx(day_date: date = C1D1, **kw) -> DoseContext:
    presets = {
        C1D1: {"cycle": 1, "day": 1, "is_first_dose": True},
        C1D8: {"cycle": 1, "day": 8, "is_first_dose": False, "previous_dose_date": C1D1, "first_dose_date": C1D1},
        C1D15: {"cycle": 1, "day": 15, "is_first_dose": False, "previous_dose_date": C1D8, "first_dose_date": C1D1},
        C2D1: {
            "cycle": 2,
            "day": 1,
            "is_first_dose": False,
            "previous_dose_date": C1D15,
            "first_dose_date": C1D1,
            "prior_cycle_day1_date": C1D1,
        },
    }
    base = {"planned_date": day_date, "weight_used_kg": D("70"), "height_used_cm": D("170"), "patient_age_years": 39}
    base.update(presets[day_date])
    base.update(kw)
    return DoseContext(**base)


def run(day_date: date = C1D1, ctx_kw=None, settings_=None, **rec_kw) -> predose.Verdict:
    return evaluate(
        ctx(day_date, **(ctx_kw or {})), records(day_date, **rec_kw), today=day_date, settings=settings_ or PredoseSettings()
    )


def ov(rule_id: str, role: str = "prescriber", day_date: date = C1D8, check: str | None = None, **kw) -> Override:
    c = ctx(day_date)
    return Override(
        rule_id=rule_id,
        role=role,
        user=f"{role}1",
        reason=kw.pop("reason", "clinical judgement"),
        cycle=c.cycle,
        day=c.day,
        check=check,
        **kw,
    )


def blocking(v: predose.Verdict) -> set[str]:
    return {c.key for c in v.checks if c.blocking}


@pytest.mark.parametrize("day_date", [C1D1, C1D8, C1D15, C2D1])
def test_clean_patient_proceeds(day_date: date) -> None:
    v = run(day_date)
    assert v.overall == PROCEED, [(c.key, c.result, c.value) for c in v.checks if c.blocking]
    assert v.deciding == ()
    assert v.check("emergency").result == "info"


# --- §18.5 worked examples (labs) -----------------------------------------------------------------


def liver_at_d8(**values: str) -> predose.Verdict:
    return run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, **values)), overrides=values.pop("_ov", ()))


def run_liver(overrides=(), day_date=C1D8, baseline=None, **values) -> predose.Verdict:
    labs = (panel(date(2025, 3, 1), 1, **(baseline or {})), panel(day_date, 10, **values))
    return run(day_date, labs=labs, overrides=overrides)


def test_L1_both_high_is_a_label_hold_without_override() -> None:
    v = run_liver(bilirubin="2.4", ast="120", overrides=(ov("CONV-LAB-1"), ov("CONV-LAB-3"), ov("MOD-NH-2")))
    assert v.overall == HOLD
    nh2 = v.check("table3.mod_nh_2")
    assert nh2.result == "hold" and nh2.overridable_by is None and nh2.override is None
    assert "1.8 mg/dL" in nh2.action and "100 U/L" in nh2.action  # hold until ≤ 1.8 and ≤ 100
    assert v.check("table3.grade.bilirubin").value.startswith("v5.0 G2")
    assert v.check("table3.grade.ast").value.startswith("v5.0 G1, v3.0 G2")
    # the convention holds are not overridable while a label hold applies (CONV-LAB-6)
    for key in ("table3.conv.bilirubin", "table3.conv.ast"):
        assert v.check(key).result == "hold" and v.check(key).overridable_by is None
    ignored = [c for c in v.checks if c.key.startswith("override.ignored")]
    assert {c.key for c in ignored} == {"override.ignored.CONV-LAB-1", "override.ignored.CONV-LAB-3", "override.ignored.MOD-NH-2"}


def test_L3_single_value_convention_hold_prescriber_only() -> None:
    v = run_liver(bilirubin="1.4", ast="104")
    assert v.overall == HOLD
    assert v.check("table3.mod_nh_2").result == "pass"
    conv = v.check("table3.conv.ast")
    assert conv.result == "hold" and conv.overridable_by == "prescriber" and conv.override_rule == "CONV-LAB-3"
    assert v.check("table3.grade.bilirubin").value.startswith("v5.0 G1")
    assert v.check("table3.grade.ast").value.startswith("v5.0 G1, v3.0 G2")
    assert v.deciding == (conv,)
    ok = run_liver(bilirubin="1.4", ast="104", overrides=(ov("CONV-LAB-3"),))
    assert ok.overall == PROCEED
    c = ok.check("table3.conv.ast")
    assert c.result == "pass" and c.overridden and c.overridden_from == "hold" and c.override.user == "prescriber1"
    for role in ("nurse", "pharmacist", "admin"):
        no = run_liver(bilirubin="1.4", ast="104", overrides=(ov("CONV-LAB-3", role=role),))
        assert no.overall == HOLD
        assert not no.check("table3.conv.ast").overridden
        assert "only a prescriber" in no.check("override.ignored.CONV-LAB-3").value
    nurse = run_liver(bilirubin="1.4", ast="104", overrides=(ov("CONV-LAB-3", role="nurse"),))
    assert "a nurse can never override" in nurse.check("override.ignored.CONV-LAB-3").value
    no_reason = run_liver(bilirubin="1.4", ast="104", overrides=(ov("CONV-LAB-3", reason="  "),))
    assert no_reason.overall == HOLD


def test_L5_exactly_at_the_limits_counts_as_recovered() -> None:
    v = run_liver(bilirubin="1.8", ast="100")
    assert v.overall == PROCEED
    assert v.check("table3.grade.bilirubin").value.startswith("v5.0 G1")
    assert v.check("table3.grade.ast").value.startswith("v5.0 G1, v3.0 G1")
    assert v.check("table3.conv.bilirubin").result == "pass"
    assert v.check("table3.conv.ast").result == "pass"
    # 0.0001 above either limit holds (unrounded Decimal ratios)
    assert run_liver(bilirubin="1.8001", ast="100").overall == HOLD
    assert run_liver(bilirubin="1.8", ast="100.0001").overall == HOLD
    assert run_liver(bilirubin="1.8", alt="100.0001").overall == HOLD


def test_L7_counts_within_a_cycle_never_hold_but_day1_applies_table2() -> None:
    assert grade_anc(D("0.49")) == 4 and grade_platelets(D("24.9")) == 4
    for d in (C1D8, C1D15):
        v = run(d, labs=(panel(date(2025, 3, 1), 1), panel(d, 10, anc="0.49", platelets="24.9")))
        assert v.overall == PROCEED
        info = v.check("table2.not_applied")
        assert info.result == "info" and "MOD-GEN-1" in info.rule_ids
        assert "ANC 0.49 (G4)" in info.value and "platelets 24.9 (G4)" in info.value
    v = run(C2D1, labs=(panel(date(2025, 3, 1), 1), panel(C2D1, 10, anc="0.49", platelets="24.9")))
    assert v.overall == HOLD
    assert v.check("table2.row1").result == "hold" and v.check("table2.row1").overridable_by is None
    assert v.check("table2.row2").result == "hold" and v.check("table2.row2").overridable_by is None
    assert v.check("table2.row3") is None


def test_L9_band_above_2_5_up_to_3_0_is_a_convention_hold() -> None:
    v = run_liver(ast="102")
    assert v.overall == HOLD
    assert v.check("table3.grade.ast").value.startswith("v5.0 G1, v3.0 G2")
    conv = v.check("table3.conv.ast")
    assert conv.result == "hold" and conv.overridable_by == "prescriber" and conv.unverified_rule == "MOD-NH-5"
    assert "2.55 × ULN" in conv.value
    assert run_liver(ast="102", overrides=(ov("CONV-LAB-3"),)).overall == PROCEED
    # ALT in the same band, the same rule
    assert run_liver(alt="102").check("table3.conv.alt").overridable_by == "prescriber"


def test_L11_grade2_by_v5_is_a_label_hold() -> None:
    v = run_liver(ast="160", overrides=(ov("CONV-LAB-3"), ov("MOD-NH-4")))
    assert v.overall == HOLD
    g = v.check("table3.grade.ast")
    assert g.result == "hold" and g.overridable_by is None and g.value.startswith("v5.0 G2, v3.0 G2")
    assert v.check("table3.conv.ast").overridable_by is None
    assert v.check("override.ignored.MOD-NH-4") is not None
    # 100 < AST ≤ 120: only the convention hold remains (overridable)
    for ast in ("100.5", "120"):
        w = run_liver(ast=ast)
        assert w.check("table3.grade.ast").result == "pass"
        assert w.check("table3.conv.ast").overridable_by == "prescriber"
        assert run_liver(ast=ast, overrides=(ov("CONV-LAB-3"),)).overall == PROCEED
    assert run_liver(ast="120.01").check("table3.grade.ast").result == "hold"


def test_bilirubin_alone_over_1_5_with_normal_baseline_is_grade2_label_hold() -> None:
    v = run_liver(bilirubin="1.81", overrides=(ov("CONV-LAB-1"),))
    assert v.overall == HOLD
    assert v.check("table3.grade.bilirubin").result == "hold"
    assert v.check("table3.conv.bilirubin").overridable_by is None


def test_bilirubin_with_abnormal_baseline_leaves_only_the_convention_hold() -> None:
    # baseline 2.4 (2 × ULN, pre-treatment G2); now 3.0 = 1.25 × baseline → G1 (abnormal-baseline column)
    v = run_liver(baseline={"bilirubin": "2.4"}, bilirubin="3.0")
    assert "abnormal" in v.check("table3.grade.bilirubin").value
    assert v.check("table3.grade.bilirubin").result == "pass"
    conv = v.check("table3.conv.bilirubin")
    assert conv.result == "hold" and conv.overridable_by == "prescriber"
    assert run_liver(baseline={"bilirubin": "2.4"}, bilirubin="3.0", overrides=(ov("CONV-LAB-1"),)).overall == PROCEED


def test_gilbert_exception_is_bilirubin_only_and_needs_a_prescriber() -> None:
    confirmed = BilirubinCause(cause="gilbert", recorded_by="nina", confirmed_by="drp", confirmed_role="prescriber")
    v = run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, bilirubin="2.4", ast="120")), bilirubin_cause=confirmed)
    assert v.check("table3.mod_nh_2").result == "pass"
    assert v.check("table3.grade.bilirubin") is None and v.check("table3.conv.bilirubin") is None
    assert v.check("table3.conv.ast").overridable_by == "prescriber"  # AST still applies (CONV-LAB-2)
    assert v.overall == HOLD
    v2 = run(
        C1D8,
        labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, bilirubin="2.4", ast="120")),
        bilirubin_cause=confirmed,
        overrides=(ov("CONV-LAB-3"),),
    )
    assert v2.overall == PROCEED
    unconfirmed = BilirubinCause(cause="hemolysis", recorded_by="nina")
    v3 = run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, bilirubin="2.4", ast="120")), bilirubin_cause=unconfirmed)
    assert v3.check("table3.mod_nh_2").result == "hold"
    nurse_confirmed = BilirubinCause(cause="gilbert", recorded_by="nina", confirmed_by="nina", confirmed_role="nurse")
    v4 = run(
        C1D8, labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, bilirubin="2.4", ast="120")), bilirubin_cause=nurse_confirmed
    )
    assert v4.check("table3.mod_nh_2").result == "hold"


def test_table3_applies_at_the_first_dose_too() -> None:
    v = run(C1D1, labs=(panel(date(2025, 3, 1), 1, bilirubin="2.4", ast="120"),))
    assert v.check("table3.mod_nh_2").result == "hold"
    # at the first dose the current values are the pre-treatment ones: no MOD-NH-4 hold from them
    assert v.check("table3.grade.bilirubin").result == "pass"
    assert v.overall == HOLD


# --- §18.3 M7 and M9 (Table 2) ---------------------------------------------------------------------


def test_M7_normal_baseline_anc_delays_day1_only() -> None:
    labs = (panel(date(2025, 3, 1), 1, anc="1.8"), panel(C2D1, 10, anc="0.8"))
    v = run(C2D1, labs=labs, overrides=(ov("MOD-HEM-1", day_date=C2D1),))
    assert v.overall == HOLD
    row1 = v.check("table2.row1")
    assert row1.result == "hold" and row1.overridable_by is None and "ANC ≥ 1" in row1.action
    assert v.check("override.ignored.MOD-HEM-1") is not None
    assert run(C2D1, labs=(panel(date(2025, 3, 1), 1), panel(C2D1, 10, anc="1.0"))).overall == PROCEED
    for d in (C1D8, C1D15):
        assert run(d, labs=(panel(date(2025, 3, 1), 1), panel(d, 10, anc="0.8"))).overall == PROCEED


def test_M7_hold_over_28_days_prompts_a_prescriber_decision() -> None:
    planned = C2D1 + timedelta(days=29)
    labs = (panel(date(2025, 3, 1), 1), panel(planned, 10, anc="0.8"))
    c = {"planned_date": planned, "held_since": C2D1}
    v = evaluate(ctx(C2D1, **c), records(planned, labs=labs), today=planned)
    p = v.check("table2.held_over_28")
    assert p.result == "needs_confirmation" and p.unverified_rule == "MOD-HEM-4" and "29 days" in p.value
    assert v.overall == HOLD  # the count is still low
    # recovered after 29 days: the decision is still asked for
    labs_ok = (panel(date(2025, 3, 1), 1), panel(planned, 10))
    v = evaluate(ctx(C2D1, **c), records(planned, labs=labs_ok), today=planned)
    assert v.overall == NEEDS_CONFIRMATION
    cont = ov("CONV-HEM-4", day_date=C2D1)
    assert evaluate(ctx(C2D1, **c), records(planned, labs=labs_ok, overrides=(cont,)), today=planned).overall == PROCEED
    stop = ov("CONV-HEM-4", day_date=C2D1, decision="discontinue")
    assert evaluate(ctx(C2D1, **c), records(planned, labs=labs_ok, overrides=(stop,)), today=planned).overall == DISCONTINUE
    # exactly 28 days: no prompt (CONV-SCHED-5: "> 28" = 29 or more)
    planned28 = C2D1 + timedelta(days=28)
    v = evaluate(
        ctx(C2D1, planned_date=planned28, held_since=C2D1),
        records(planned28, labs=(panel(date(2025, 3, 1), 1), panel(planned28, 10))),
        today=planned28,
    )
    assert v.check("table2.held_over_28") is None and v.overall == PROCEED


def test_M9_platelets_after_transfusion_are_not_used() -> None:
    labs = (
        panel(date(2025, 3, 1), 1, platelets="120"),
        panel(C2D1, 10, platelets="42", platelet_transfusion="no"),
        panel(C2D1, 11, platelets="58", platelet_transfusion="yes"),
    )
    v = run(C2D1, labs=labs)
    assert v.overall == HOLD
    row2 = v.check("table2.row2")
    assert row2.result == "hold" and "platelets 42" in row2.value and "58" in row2.value
    # with only a post-transfusion count, Table 2 has no usable count → missing (HOLD)
    labs2 = (panel(date(2025, 3, 1), 1), panel(C2D1, 11, platelets="58", platelet_transfusion="yes"))
    assert run(C2D1, labs=labs2).check("table2.row2").result == "missing"


def test_a_laboratory_count_is_used_only_once_its_transfusion_question_is_answered() -> None:
    """CONV-HEM-3: a count the laboratory sent carries no transfusion answer; until one is given it
    is not used (missing, the check says to answer with T); answered "no", it counts."""
    lab = {"source": "laboratory", "sender": "LIS", "message_id": "M1"}
    unanswered = panel(C2D1, 10, platelets="130", platelet_transfusion=None, **lab)
    v = run(C2D1, labs=(panel(date(2025, 3, 1), 1), unanswered))
    row2 = v.check("table2.row2")
    assert row2.result == "missing" and v.overall == HOLD
    assert "laboratory's count 130" in row2.value and "(T, CONV-HEM-3)" in row2.value
    assert "(T)" in row2.action and "transfusion" in row2.action
    assert "transfusion before it: not answered, T" in v.check("lab.platelets").value
    # an older answered count stays the one used, and the newer unanswered one is named, not "after a transfusion"
    older = panel(C2D1 - timedelta(days=1), 9, platelets="120")
    v = run(C2D1, labs=(panel(date(2025, 3, 1), 1), older, unanswered))
    assert v.check("table2.row2").result == "pass" and "after a transfusion" not in v.check("table2.row2").value
    answered = panel(C2D1, 10, platelets="130", platelet_transfusion="no", **lab)
    v = run(C2D1, labs=(panel(date(2025, 3, 1), 1), answered))
    assert v.check("table2.row2").result == "pass" and v.overall == PROCEED
    assert "not answered" not in v.check("lab.platelets").value


def test_table2_row3_conditions() -> None:
    # pre-treatment ANC 0.8 (< 1) → row 3 (and row 2 for platelets ≥ 50); row 1 does not apply
    base = panel(date(2025, 3, 1), 1, anc="0.8", platelets="120")
    v = run(C2D1, labs=(base, panel(C2D1, 10, anc="0.9", platelets="130")))
    assert v.check("table2.row1") is None
    assert v.check("table2.row3").result == "pass" and "(1)" in v.check("table2.row3").value
    assert v.overall == PROCEED
    v = run(C2D1, labs=(base, panel(C2D1, 10, anc="0.7", platelets="130")))
    r3 = v.check("table2.row3")
    assert r3.result == "hold" and r3.overridable_by == "prescriber" and r3.override_rule == "MOD-HEM-3"
    assert v.overall == HOLD
    cond3 = ov("MOD-HEM-3", day_date=C2D1, reason="marrow stable; fall due to leukemia")
    v = run(C2D1, labs=(base, panel(C2D1, 10, anc="0.7", platelets="130")), overrides=(cond3,))
    assert v.overall == PROCEED and v.check("table2.row3").overridden
    # condition (2): ANC ≥ 1 and platelets ≥ 50
    v = run(C2D1, labs=(base, panel(C2D1, 10, anc="1.0", platelets="120")))
    assert v.check("table2.row3").result == "pass"
    # CONV-HEM-1: pre ANC ≥ 1 and platelets < 50 → rows 1 and 3, all must be met
    base2 = panel(date(2025, 3, 1), 1, anc="1.5", platelets="40")
    v = run(C2D1, labs=(base2, panel(C2D1, 10, anc="0.9", platelets="45")), overrides=(cond3,))
    assert v.check("table2.row2") is None
    assert v.check("table2.row3").overridden
    assert v.check("table2.row1").result == "hold" and v.overall == HOLD


def test_table2_unknown_baseline_applies_strictest_rows() -> None:
    v = run(C2D1, labs=(panel(C2D1, 10, anc="0.9"),))
    assert v.check("table2.baseline").result == "info"
    assert v.check("table2.row1").result == "hold" and v.check("table2.row2").result == "pass"


# --- PRE-3 cytoreduction ---------------------------------------------------------------------------


def test_PRE3_wbc_30_times_40_percent_holds_and_10000_passes() -> None:
    count = intake.blasts_per_mm3(D("30"), D("40"))
    assert count == D("12000")
    hi = {
        "collected_on": "2025-03-02",
        "wbc": "30",
        "blast_pct": "40",
        "blasts_per_mm3": str(count),
        "derived_from": "wbc_pct",
        "version": 3,
    }
    v = run(C1D1, blasts=(hi,))
    c = v.check("pre3.blasts")
    assert v.overall == HOLD and c.result == "hold" and c.overridable_by == "prescriber"
    assert "12000 /mm³ (WBC 30 × 10⁹/L × 40%)" in c.value
    assert run(C1D1, blasts=(hi,), overrides=(ov("PRE-3", day_date=C1D1),)).overall == PROCEED
    assert run(C1D1, blasts=(hi,), overrides=(ov("PRE-3", role="nurse", day_date=C1D1),)).overall == HOLD
    exact = {"collected_on": "2025-03-02", "blasts_per_mm3": "10000", "version": 3}
    assert run(C1D1, blasts=(exact,)).check("pre3.blasts").result == "pass"
    assert run(C1D1, blasts=(exact,)).overall == PROCEED
    assert run(C1D1, blasts=({"collected_on": "2025-03-02", "blasts_per_mm3": "10000.1"},)).overall == HOLD
    assert run(C1D1, blasts=()).check("pre3.blasts").result == "missing"
    # only C1 D1
    assert run(C1D8, blasts=(hi,)).check("pre3.blasts") is None


# --- CTCAE grading (CTCAE-2, -3, -4) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("anc", "grade"),
    [("0.49", 4), ("0.5", 3), ("0.99", 3), ("1.0", 2), ("1.49", 2), ("1.5", 0), ("3", 0)],
)
def test_grade_anc(anc: str, grade: int) -> None:
    assert grade_anc(D(anc)) == grade


def test_grade_anc_and_platelets_grade1_needs_the_lln() -> None:
    assert grade_anc(D("1.7"), lln=D("1.8")) == 1
    assert grade_anc(D("1.8"), lln=D("1.8")) == 0
    assert grade_platelets(D("100"), lln=D("150")) == 1


@pytest.mark.parametrize(
    ("plt", "grade"),
    [("24.9", 4), ("25", 3), ("49.9", 3), ("50", 2), ("74.9", 2), ("75", 0), ("200", 0)],
)
def test_grade_platelets(plt: str, grade: int) -> None:
    assert grade_platelets(D(plt)) == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [("1.2", 0), ("1.21", 1), ("1.8", 1), ("1.81", 2), ("3.6", 2), ("3.61", 3), ("12", 3), ("12.01", 4)],
)
def test_grade_bilirubin_normal_baseline(value: str, grade: int) -> None:
    assert grade_bilirubin(D(value), D("1.2")) == grade
    assert grade_bilirubin(D(value), D("1.2"), D("0.8"), D("1.2")) == grade  # normal baseline: × ULN


@pytest.mark.parametrize(
    ("value", "grade"),
    [("2.4", 0), ("2.41", 1), ("3.6", 1), ("3.61", 2), ("7.2", 2), ("7.21", 3), ("24", 3), ("24.1", 4)],
)
def test_grade_bilirubin_abnormal_baseline(value: str, grade: int) -> None:
    assert grade_bilirubin(D(value), D("1.2"), D("2.4"), D("1.2")) == grade  # × baseline 2.4


def test_grade_bilirubin_baseline_in_another_unit_compares_ratios() -> None:
    # baseline 41.04 µmol/L with ULN 20.52 (2 × ULN) vs now 3.0 mg/dL with ULN 1.2 (2.5 × ULN) → 1.25 × baseline
    assert grade_bilirubin(D("3.0"), D("1.2"), D("41.04"), D("20.52")) == 1


@pytest.mark.parametrize(
    ("value", "v5", "v3"),
    [
        ("40", 0, 0),
        ("40.01", 1, 1),
        ("100", 1, 1),
        ("102", 1, 2),
        ("104", 1, 2),
        ("120", 1, 2),  # 3.0 × ULN: v5 G1, v3.0 G2 (CTCAE-4)
        ("120.01", 2, 2),
        ("160", 2, 2),
        ("200", 2, 2),
        ("200.01", 3, 3),
        ("800", 3, 3),
        ("800.01", 4, 4),
    ],
)
def test_grade_transaminase_v5_and_v3(value: str, v5: int, v3: int) -> None:
    assert grade_transaminase(D(value), D("40")) == v5
    assert grade_transaminase_v3(D(value), D("40")) == v3


@pytest.mark.parametrize(
    ("value", "grade"),
    [("80", 0), ("119.99", 0), ("120", 1), ("240", 1), ("240.01", 2), ("400", 2), ("400.01", 3), ("1600", 3), ("1600.01", 4)],
)
def test_grade_transaminase_abnormal_baseline(value: str, grade: int) -> None:
    assert grade_transaminase(D(value), D("40"), D("80"), D("40")) == grade  # baseline 80 = 2 × ULN


def test_grading_refuses_float() -> None:
    with pytest.raises(TypeError):
        grade_anc(0.49)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        grade_transaminase(D("100"), 40.0)  # type: ignore[arg-type]
    assert rules.CTCAE_VERSION == "5.0"


# --- lab recency (CONV-LAB-5) and ULN (CONV-CALC-7) -------------------------------------------------


def test_a_value_from_before_the_previous_dose_is_missing() -> None:
    v = run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(date(2025, 3, 2), 2)))
    assert v.overall == HOLD
    for key in ("lab.anc", "lab.platelets", "lab.bilirubin", "lab.ast", "lab.alt"):
        c = v.check(key)
        assert c.result == "missing" and c.overridable_by is None, key
        assert "too old" in c.value
    # collected on the previous dose's date: may be pre-dose for that dose → does not count
    assert run(C1D8, labs=(panel(C1D1, 1),)).check("lab.anc").result == "missing"
    # the day after the previous dose counts
    assert run(C1D8, labs=(panel(C1D1, 1), panel(date(2025, 3, 4), 2))).overall == PROCEED


def test_a_value_after_this_dose_does_not_count() -> None:
    v = run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(date(2025, 3, 11), 2)))
    assert v.check("lab.anc").result == "missing" and "after this dose" in v.check("lab.anc").value


def test_first_dose_uses_baseline_results_and_site_max_age() -> None:
    assert run(C1D1, labs=(panel(date(2025, 1, 1), 1),)).overall == PROCEED  # no default maximum age
    s = PredoseSettings(max_lab_age_days=7)
    v = run(C1D1, labs=(panel(date(2025, 1, 1), 1),), settings_=s)
    assert v.check("lab.anc").result == "missing" and "site maximum age" in v.check("lab.anc").value
    assert run(C1D1, labs=(panel(date(2025, 2, 24), 1),), settings_=s).overall == PROCEED  # exactly 7 days


def test_liver_value_without_uln_is_missing() -> None:
    v = run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, ast_uln=None)))
    c = v.check("lab.ast")
    assert c.result == "missing" and "no ULN" in c.value and v.overall == HOLD
    # an older panel with a ULN does not stand in for the newest result
    v = run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(date(2025, 3, 5), 5), panel(C1D8, 10, ast_uln=None)))
    assert v.check("lab.ast").result == "missing"


def test_latest_panel_wins_by_date_then_version() -> None:
    labs = (panel(date(2025, 3, 1), 1), panel(C1D8, 12, ast="30"), panel(C1D8, 11, ast="160"))
    assert run(C1D8, labs=labs).overall == PROCEED
    labs = (panel(date(2025, 3, 1), 1), panel(C1D8, 11, ast="30"), panel(C1D8, 12, ast="160"))
    assert run(C1D8, labs=labs).overall == HOLD


def test_unknown_previous_dose_date_makes_labs_missing() -> None:
    v = evaluate(ctx(C1D8, previous_dose_date=None), records(C1D8), today=C1D8)
    assert v.check("lab.anc").result == "missing" and v.overall == HOLD


def test_alp_is_shown_never_blocks() -> None:
    v = run(C1D8, labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, alp="900", alp_uln="120")))
    assert v.check("lab.alp").result == "info" and "7.50 × ULN" in v.check("lab.alp").value
    assert v.overall == PROCEED


# --- overrides ---------------------------------------------------------------------------------------


def test_override_for_another_dose_is_ignored() -> None:
    other = Override(rule_id="CONV-LAB-3", role="prescriber", user="drp", reason="ok", cycle=1, day=15)
    v = run_liver(ast="104", overrides=(other,))
    assert v.overall == HOLD and not v.check("table3.conv.ast").overridden


def test_override_narrowed_to_one_check() -> None:
    both = dict(ast="104", alt="104")
    v = run_liver(overrides=(ov("CONV-LAB-3", check="table3.conv.ast"),), **both)
    assert v.check("table3.conv.ast").overridden and not v.check("table3.conv.alt").overridden
    assert v.overall == HOLD
    assert run_liver(overrides=(ov("CONV-LAB-3"),), **both).overall == PROCEED


def test_unneeded_override_is_reported() -> None:
    v = run_liver(overrides=(ov("CONV-LAB-3"),))
    assert v.overall == PROCEED
    assert "not needed" in v.check("override.ignored.CONV-LAB-3").value


def test_missing_values_cannot_be_overridden() -> None:
    v = run(C1D8, labs=(panel(date(2025, 3, 1), 1),), overrides=(ov("CONV-LAB-5"), ov("PRE-4"), ov("CONV-LAB-3")))
    assert v.overall == HOLD
    assert all(not c.overridden for c in v.checks)


# --- first-dose gates ---------------------------------------------------------------------------------


def test_consent_gate() -> None:
    assert run(C1D1, consent=None).check("gate.consent").result == "missing"
    declined = run(C1D1, consent={"consent": "declined", "consent_date": "2025-03-01"}, overrides=(ov("PRE-8", day_date=C1D1),))
    assert declined.check("gate.consent").result == "hold" and declined.overall == HOLD
    assert run(C1D8, consent=None).check("gate.consent") is None  # first dose only


def test_pregnancy_gate_is_unverified_and_prescriber_overridable() -> None:
    fem = {"potential": "yes", "pregnancy_test": "negative", "test_date": "2025-03-01", "breastfeeding": "no"}
    v = run(C1D1, reproductive=fem)
    assert v.check("gate.pregnancy").result == "pass" and "PRE-7" in v.unverified_rules
    nd = dict(fem, pregnancy_test="not_done", test_date=None)
    v = run(C1D1, reproductive=nd)
    assert v.check("gate.pregnancy").result == "missing" and v.overall == HOLD
    assert v.check("gate.pregnancy").unverified_rule == "PRE-7"
    assert run(C1D1, reproductive=nd, overrides=(ov("PRE-7", day_date=C1D1),)).overall == PROCEED
    pos = dict(fem, pregnancy_test="positive")
    assert run(C1D1, reproductive=pos).check("gate.pregnancy").result == "hold"
    assert run(C1D1, reproductive=None).check("gate.pregnancy").result == "missing"
    assert run(C1D1, reproductive=None, sex="other").overall == HOLD
    assert run(C1D1, reproductive=None, sex="male").overall == PROCEED


def test_ecg_cd22_age_and_low_weight_gates() -> None:
    v = run(C1D1, ecg_dates=())
    assert v.check("gate.ecg").result == "hold" and v.check("gate.ecg").overridable_by == "prescriber"
    assert run(C1D1, ecg_dates=(), overrides=(ov("PRE-6", day_date=C1D1),)).overall == PROCEED
    assert run(C1D1, electrolytes_dates=(date(2025, 3, 4),)).check("gate.ecg").result == "hold"  # after the dose
    for cd22 in ("unknown", "negative"):
        v = run(C1D1, diagnosis={"cd22": cd22})
        assert v.overall == NEEDS_CONFIRMATION and v.check("gate.cd22").result == "needs_confirmation"
        assert run(C1D1, diagnosis={"cd22": cd22}, overrides=(ov("IND-5", day_date=C1D1),)).overall == PROCEED
        assert (
            run(C1D1, diagnosis={"cd22": cd22}, overrides=(ov("IND-5", role="nurse", day_date=C1D1),)).overall
            == NEEDS_CONFIRMATION
        )
    infant = {"patient_age_years": 0, "weight_used_kg": D("9.5"), "height_used_cm": D("75")}
    ms = (measurement(date(2025, 3, 1), weight="9.5", height="75"),)
    v = evaluate(ctx(C1D1, **infant), records(C1D1, measurements=ms), today=C1D1)
    assert v.check("gate.age").result == "hold" and v.check("bsa.low_weight").result == "needs_confirmation"
    assert v.overall == HOLD
    both = (ov("IND-2", day_date=C1D1), ov("CONV-BSA-5", day_date=C1D1))
    assert evaluate(ctx(C1D1, **infant), records(C1D1, measurements=ms, overrides=both), today=C1D1).overall == PROCEED
    # exactly 10 kg needs no confirmation; 1 year passes
    ten = {"patient_age_years": 1, "weight_used_kg": D("10"), "height_used_cm": D("80")}
    v = evaluate(ctx(C1D1, **ten), records(C1D1, measurements=(measurement(date(2025, 3, 1), "10", "80"),)), today=C1D1)
    assert v.overall == PROCEED


def test_qt_drug_prompts_ecg_and_electrolytes() -> None:
    v = run(C1D8, qt_drug_started_on=date(2025, 3, 5))
    assert v.check("qt.recheck").result == "needs_confirmation" and v.overall == NEEDS_CONFIRMATION
    v = run(
        C1D8,
        qt_drug_started_on=date(2025, 3, 5),
        ecg_dates=(date(2025, 3, 1), date(2025, 3, 6)),
        electrolytes_dates=(date(2025, 3, 6),),
    )
    assert v.overall == PROCEED


# --- weight and height since the calculation (CONV-WT-1/2) --------------------------------------------


@pytest.mark.parametrize(
    ("age", "weight", "expected"),
    [
        (39, "77", PROCEED),  # exactly +10%: does not trigger
        (39, "63", PROCEED),  # exactly −10%
        (39, "77.007", HOLD),  # +10.01%
        (39, "62.993", HOLD),  # −10.01%
        (17, "73.5", PROCEED),  # child: exactly +5%
        (17, "73.507", HOLD),  # child: +5.01%
        (18, "73.507", PROCEED),  # adult from 18
    ],
)
def test_weight_change_thresholds(age: int, weight: str, expected: str) -> None:
    ms = (measurement(date(2025, 3, 1)), measurement(C1D8, weight=weight, version=11))
    v = evaluate(ctx(C1D8, patient_age_years=age), records(C1D8, measurements=ms, overrides=(ov("CONV-WT-1"),)), today=C1D8)
    assert v.overall == expected, v.check("weight.change").value
    if expected == HOLD:
        assert v.check("weight.change").overridable_by is None and not v.check("weight.change").overridden


def test_weight_must_be_recorded_for_this_dose() -> None:
    v = run(C1D8, measurements=(measurement(date(2025, 3, 1)),))
    assert v.check("weight.change").result == "missing"
    v = evaluate(ctx(C1D8, weight_used_kg=None), records(C1D8), today=C1D8)
    assert v.check("weight.change").result == "missing"


def test_new_height_is_judged_by_bsa_change() -> None:
    # 170 → 171 cm at 70 kg: BSA +0.29%: shown only
    ms = (measurement(date(2025, 3, 1)), measurement(C1D8, height="171", version=11))
    v = run(C1D8, measurements=ms)
    assert v.check("height.change").result == "info" and v.overall == PROCEED
    # 170 → 210 cm: Mosteller BSA +11.1% > 10% → recalculate
    ms = (measurement(date(2025, 3, 1)), measurement(C1D8, height="210", version=11))
    assert run(C1D8, measurements=ms).check("height.change").result == "hold"


# --- non-hematologic toxicity, VOD, infusion reactions ------------------------------------------------


def tox(term="Nausea", grade=2, onset=date(2025, 3, 5), resolved=None, hematologic=False) -> Toxicity:
    return Toxicity(term=term, grade=grade, onset=onset, resolved=resolved, attribution="possible", hematologic=hematologic)


def test_unresolved_grade2_toxicity_holds_without_override() -> None:
    v = run(C1D8, toxicities=(tox(),), overrides=(ov("MOD-NH-4"),))
    c = v.check("tox.nausea")
    assert v.overall == HOLD and c.result == "hold" and c.overridable_by is None and not c.overridden
    assert run(C1D8, toxicities=(tox(resolved=date(2025, 3, 9)),)).overall == PROCEED
    assert run(C1D8, toxicities=(tox(grade=1),)).overall == PROCEED
    assert run(C1D8, toxicities=(tox(term="Febrile neutropenia", grade=3, hematologic=True),)).overall == PROCEED
    # pre-treatment grade 2, still 2: recovered to the pre-treatment grade; 3: hold
    pre = tox(grade=2, onset=date(2025, 2, 20))
    assert run(C1D8, toxicities=(pre,)).overall == PROCEED
    assert run(C1D8, toxicities=(pre, tox(grade=3))).overall == HOLD
    # a toxicity recorded as a label hold makes liver convention holds non-overridable (CONV-LAB-6)
    v = run_liver(ast="104", overrides=(ov("CONV-LAB-3"),))
    assert v.overall == PROCEED
    v = run(
        C1D8, labs=(panel(date(2025, 3, 1), 1), panel(C1D8, 10, ast="104")), toxicities=(tox(),), overrides=(ov("CONV-LAB-3"),)
    )
    assert v.check("table3.conv.ast").overridable_by is None


def test_vod_discontinues_whatever_else() -> None:
    for term in ("Hepatic veno-occlusive disease", "VOD", "Sinusoidal obstruction syndrome"):
        v = run(C1D8, toxicities=(tox(term=term, grade=3, resolved=date(2025, 3, 9)),), overrides=(ov("MOD-NH-1"),))
        assert v.overall == DISCONTINUE and v.check("vod").result == "discontinue"
        assert v.check("vod").overridable_by is None


def test_severe_infusion_reaction_discontinues() -> None:
    assert (
        run(C1D8, toxicities=(tox(term="Infusion related reaction", grade=3, onset=C1D1, resolved=C1D1),)).overall == DISCONTINUE
    )
    assert run(C1D8, toxicities=(tox(term="Infusion related reaction", grade=2, onset=C1D1, resolved=C1D1),)).overall == PROCEED
    assert run(C1D8, toxicities=(tox(term="Anaphylaxis", grade=3, onset=C1D1, resolved=C1D1),)).overall == DISCONTINUE


def test_recorded_discontinuation() -> None:
    d = predose.Discontinuation(rule_id="CYC-3", user="drp", role="prescriber", reason="no CR/CRi", on=C1D1)
    assert run(C1D8, discontinuations=(d,)).overall == DISCONTINUE


# --- premedication, identity, shown items --------------------------------------------------------------


def test_premedication_missing_holds_and_prescriber_may_omit() -> None:
    two = premeds(C1D8)[:2]
    v = run(C1D8, premeds=two)
    c = v.check("premed.antihistamine")
    assert v.overall == HOLD and c.result == "hold" and c.overridable_by == "prescriber"
    omit = ov("PRE-1", check="premed.antihistamine", reason="antihistamine allergy")
    assert run(C1D8, premeds=two, overrides=(omit,)).overall == PROCEED
    assert run(C1D8, premeds=two, overrides=(ov("PRE-1", role="nurse", check="premed.antihistamine"),)).overall == HOLD
    no_dose = (
        *two,
        Premed(drug_class="antihistamine", drug="loratadine", dose="", given_at=datetime(2025, 3, 10, 8, tzinfo=UTC)),
    )
    assert run(C1D8, premeds=no_dose).overall == HOLD
    start = datetime(2025, 3, 10, 7, 30, tzinfo=UTC)  # premeds at 08:00 are after this start
    v = evaluate(ctx(C1D8, infusion_start=start), records(C1D8), today=C1D8)
    assert v.check("premed.corticosteroid").value == "given after the infusion start"


def test_identity_needs_two_matching_identifiers() -> None:
    assert run(C1D8, identity_check=None).check("identity").result == "missing"
    assert run(C1D8, identity_check=ident(mrn=None, dob=None)).check("identity").result == "missing"
    assert run(C1D8, identity_check=ident(mrn=None, name="  doe,   JANE ")).overall == PROCEED
    bad = run(C1D8, identity_check=ident(dob=date(1985, 6, 2)), overrides=(ov("IDENTITY"),))
    assert bad.check("identity").result == "hold" and "MISMATCH date of birth" in bad.check("identity").value
    assert bad.overall == HOLD


def test_emergency_checklist_and_observation_deviation_never_block() -> None:
    dev = ObservationDeviation(user="nina", at=datetime(2025, 3, 3, 10, 30, tzinfo=UTC), reason="patient left")
    v = run(C1D8, emergency_ready=False, observation_incomplete=dev)
    assert v.overall == PROCEED
    assert v.check("emergency").value == "NO" and v.check("observation.previous").result == "info"
    assert "MON-2" in v.check("observation.previous").rule_ids
    assert run(C1D8, emergency_ready=None).check("emergency").value == "not answered"
    assert run(C1D8, settings_=PredoseSettings(emergency_checklist=False)).check("emergency") is None


# --- the overall answer ----------------------------------------------------------------------------------


def _c(result: str) -> Check:
    return Check(key=result, name=result, result=result)


def test_precedence() -> None:
    assert predose.OVERALL_PRECEDENCE == (PROCEED, REDUCE, NEEDS_CONFIRMATION, HOLD, DISCONTINUE)
    assert overall_of([]) == PROCEED
    assert overall_of([_c("pass"), _c("info")]) == PROCEED
    assert overall_of([_c("reduce"), _c("pass")]) == REDUCE
    assert overall_of([_c("reduce"), _c("needs_confirmation")]) == NEEDS_CONFIRMATION
    assert overall_of([_c("needs_confirmation"), _c("missing")]) == HOLD
    assert overall_of([_c("hold"), _c("discontinue"), _c("needs_confirmation")]) == DISCONTINUE


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError):
        ctx(C1D1, day=2)
    with pytest.raises(TypeError):
        ctx(C1D1, weight_used_kg=70.0)
    with pytest.raises(TypeError):
        evaluate(ctx(C1D1), records(C1D1), today=datetime(2025, 3, 3, tzinfo=UTC))
    with pytest.raises(ValueError):
        Premed(drug_class="antiemetic", drug="x", dose="y")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        run(C1D1).checks[0].result = "pass"  # type: ignore[misc]


# --- properties ----------------------------------------------------------------------------------------

_RANK = {o: i for i, o in enumerate(predose.OVERALL_PRECEDENCE)}
liver_values = st.decimals(min_value=D("0.1"), max_value=D("1000"), places=2, allow_nan=False, allow_infinity=False)
bili_values = st.decimals(min_value=D("0.1"), max_value=D("30"), places=2, allow_nan=False, allow_infinity=False)
raises = st.decimals(min_value=D("0"), max_value=D("500"), places=2, allow_nan=False, allow_infinity=False)
override_sets = st.lists(st.sampled_from(["CONV-LAB-1", "CONV-LAB-3", "MOD-NH-2", "MOD-NH-4"]), unique=True).map(
    lambda ids: tuple(ov(i) for i in ids)
)
gilbert = st.sampled_from([None, BilirubinCause(cause="gilbert", recorded_by="n", confirmed_by="p", confirmed_role="prescriber")])
baselines = st.fixed_dictionaries({"bilirubin": bili_values.map(str), "ast": liver_values.map(str), "alt": liver_values.map(str)})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bili_values,
    liver_values,
    liver_values,
    st.sampled_from(["bilirubin", "ast", "alt"]),
    raises,
    override_sets,
    gilbert,
    baselines,
)
def test_raising_a_liver_value_never_relaxes_the_verdict(bili, ast, alt, which, up, overrides, cause, baseline) -> None:
    values = {"bilirubin": bili, "ast": ast, "alt": alt}
    before = run(
        C1D8,
        labs=(panel(date(2025, 3, 1), 1, **baseline), panel(C1D8, 10, **{k: str(v) for k, v in values.items()})),
        overrides=overrides,
        bilirubin_cause=cause,
    )
    values[which] += up
    after = run(
        C1D8,
        labs=(panel(date(2025, 3, 1), 1, **baseline), panel(C1D8, 10, **{k: str(v) for k, v in values.items()})),
        overrides=overrides,
        bilirubin_cause=cause,
    )
    assert _RANK[after.overall] >= _RANK[before.overall]
    if before.overall == HOLD:
        assert after.overall != PROCEED


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([C1D1, C1D8, C1D15, C2D1]),
    st.decimals(min_value=D("0"), max_value=D("5"), places=2),
    st.decimals(min_value=D("0"), max_value=D("300"), places=1),
    liver_values,
    liver_values,
    bili_values,
    st.booleans(),
    st.booleans(),
    st.booleans(),
    override_sets,
)
def test_never_proceed_with_a_blocking_check(
    day_date, anc, plt, ast, alt, bili, with_premeds, with_ident, with_ecg, overrides
) -> None:
    labs = (
        panel(date(2025, 3, 1), 1),
        panel(day_date, 10, anc=str(anc), platelets=str(plt), ast=str(ast), alt=str(alt), bilirubin=str(bili)),
    )
    v = run(
        day_date,
        labs=labs,
        premeds=premeds(day_date) if with_premeds else (),
        identity_check=ident() if with_ident else None,
        ecg_dates=(date(2025, 3, 1),) if with_ecg else (),
        overrides=overrides,
    )
    results = {c.result for c in v.checks}
    if results & {"hold", "missing", "needs_confirmation", "discontinue"}:
        assert v.overall != PROCEED
    if results & {"hold", "missing"}:
        assert v.overall in (HOLD, DISCONTINUE)
    if v.overall == PROCEED:
        assert all(c.result in ("pass", "info") for c in v.checks)
    assert v.overall == overall_of(v.checks)
    # label holds are never overridden
    for c in v.checks:
        if c.overridden:
            assert c.overridable_by == "prescriber"


# --- MON-8: VOD review prompt -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "bilirubin", "uln", "prompted"),
    [
        ("73.5", "0.8", "1.2", False),  # exactly +5%: no prompt
        ("73.507", "0.8", "1.2", True),  # +5.01%
        ("70", "0.9", "1.2", True),  # bilirubin up from 0.8 (same ULN)
        ("70", "0.8", "1.2", False),  # unchanged
        ("70", "14", "21", False),  # µmol/L-like: 14/21 = 0.667 × ULN, the baseline 0.8/1.2 = 0.667: no rise
        ("70", "15", "21", True),  # 0.714 × ULN > 0.667
    ],
)
def test_vod_review_prompt_on_weight_gain_or_bilirubin_rise(weight, bilirubin, uln, prompted) -> None:
    ms = (measurement(date(2025, 3, 1)), measurement(C1D8, weight=weight, version=11))
    labs = (panel(date(2025, 3, 1), 1), panel(C1D8, 10, bilirubin=bilirubin, bilirubin_uln=uln))
    v = evaluate(ctx(C1D8, weight_used_kg=D(weight)), records(C1D8, measurements=ms, labs=labs), today=C1D8)
    check = v.check("vod.review") if any(c.key == "vod.review" for c in v.checks) else None
    assert (check is not None) == prompted
    if check is not None:
        assert check.result == "info" and "MON-8" in check.rule_ids  # a prompt: it never holds by itself
        assert "VOD" in check.action


def test_no_vod_review_before_the_first_dose() -> None:
    v = run(C1D1)
    assert not any(c.key == "vod.review" for c in v.checks)

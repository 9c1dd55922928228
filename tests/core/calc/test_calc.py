"""core/calc.py against §14 and the worked examples of §18.1 / §18.6 of the clinical reference."""

from __future__ import annotations

import contextlib
import decimal
import json
import math
from decimal import Decimal as D

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import calc, rules

# --- §14.2 BSA reference values (exact formulas, 4 decimals) ----------------------------------

BSA_REFERENCE = [
    # H, W, Mosteller, DuBois, Haycock, Gehan-George, Boyd
    ("170", "70", "1.8181", "1.8097", "1.8257", "1.8313", "1.8347"),
    ("100", "16", "0.6667", "0.6578", "0.6689", "0.6848", "0.6863"),
    ("80", "10", "0.4714", "0.4583", "0.4755", "0.4893", "0.4900"),
    ("150", "45", "1.3693", "1.3698", "1.3699", "1.3837", "1.3859"),
    ("195", "140", "2.7538", "2.6838", "2.7986", "2.7722", "2.7809"),
]
BSA_CASES = [
    pytest.param(h, w, formula, expected, id=f"{h}cm-{w}kg-{formula}")
    for h, w, *values in BSA_REFERENCE
    for formula, expected in zip(calc.FORMULAS, values, strict=True)
]


def four(x: D) -> str:
    return str(x.quantize(D("0.0001"), rounding=decimal.ROUND_HALF_UP))


@pytest.mark.parametrize(("h", "w", "formula", "expected"), BSA_CASES)
def test_bsa_reference_table(h: str, w: str, formula: str, expected: str) -> None:
    b = calc.bsa(D(h), D(w), formula)
    assert four(b.exact) == expected
    assert b.formula == formula
    assert b.height_cm == D(h) and b.weight_kg == D(w)


def test_formulas_and_labels() -> None:
    assert calc.FORMULAS == ("mosteller", "dubois", "haycock", "gehan_george", "boyd")
    assert set(calc.FORMULA_LABELS) == set(calc.FORMULAS)
    assert calc.FORMULA_LABELS["mosteller"] == "Mosteller"
    assert calc.FORMULA_LABELS["dubois"] == "DuBois & DuBois"
    assert rules.BSA_DEFAULT_FORMULA == "mosteller"
    assert calc.bsa(D(170), D(70)).formula == "mosteller"


def test_bsa_explain_and_shown() -> None:
    b = calc.bsa(D(170), D(70))
    assert b.shown == D("1.82")
    assert str(b.shown) == "1.82"
    assert b.explain == "Mosteller √(170 cm × 70 kg / 3600) = 1.8181 → 1.82 m²"
    assert b.explain() == b.explain  # usable as a property or a call
    boyd = calc.bsa(D(150), D(45), "boyd")
    assert "45000 g" in boyd.explain and boyd.explain.endswith("= 1.3859 → 1.39 m²")
    assert calc.bsa(D(160), D(55), "dubois").explain.startswith("DuBois & DuBois 0.007184 × (160 cm)^0.725")


def test_boyd_is_gram_form() -> None:
    # CONV-BSA-3: the kilogram variant would give 1.8349 for 170/70.
    assert four(calc.bsa(D(170), D(70), "boyd").exact) == "1.8347"


def test_mosteller_exact_square_root_stays_exact() -> None:
    # CONV-CALC-1: √1.265625 = 1.125 exactly; shown half-up → 1.13 (float round gives 1.12).
    b = calc.bsa(D("1.265625") * 3600, D(1))
    assert b.exact == D("1.125")
    assert b.shown == D("1.13")
    assert round(1.125, 2) == 1.12  # the float trap this guards against


@pytest.mark.parametrize(
    ("h", "w", "formula"),
    [
        ("0", "70", "mosteller"),
        ("170", "0", "mosteller"),
        ("-170", "70", "dubois"),
        ("170", "-1", "boyd"),
        ("NaN", "70", "mosteller"),
        ("170", "sNaN", "haycock"),
        ("Infinity", "70", "gehan_george"),
        ("170", "-Infinity", "mosteller"),
        ("170", "70", "fujimoto"),
        ("170", "70", "Mosteller"),
    ],
)
def test_bsa_rejects_bad_input(h: str, w: str, formula: str) -> None:
    with pytest.raises(ValueError):
        calc.bsa(D(h), D(w), formula)


def test_bsa_refuses_float() -> None:
    with pytest.raises(TypeError):
        calc.bsa(170.0, D(70))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        calc.prepare(D(170), D(70), 0.8)  # type: ignore[arg-type]


def test_global_decimal_context_untouched() -> None:
    before = decimal.getcontext().copy()
    calc.prepare(D(170), D(70), D("0.8"), "haycock")
    after = decimal.getcontext()
    assert (after.prec, after.rounding) == (before.prec, before.rounding)


# --- Table 1 (DOSE-1, CONV-RESP-4) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "day", "resp", "expected"),
    [
        (1, 1, None, "0.8"),
        (1, 8, None, "0.5"),
        (1, 15, None, "0.5"),
        (1, 1, True, "0.8"),  # cycle 1 ignores the response
        (1, 1, False, "0.8"),
        (2, 1, True, "0.5"),
        (2, 8, True, "0.5"),
        (2, 15, True, "0.5"),
        (2, 1, False, "0.8"),
        (2, 8, False, "0.5"),
        (3, 15, False, "0.5"),
        (6, 1, True, "0.5"),
    ],
)
def test_table1_level(cycle: int, day: int, resp: bool | None, expected: str) -> None:
    assert calc.table1_level(cycle, day, resp) == D(expected)


@pytest.mark.parametrize(("cycle", "day", "resp"), [(2, 1, None), (3, 8, None), (0, 1, True), (1, 2, None), (1, 22, None)])
def test_table1_level_refuses(cycle: int, day: int, resp: bool | None) -> None:
    with pytest.raises(ValueError):
        calc.table1_level(cycle, day, resp)


# --- §18.1 worked examples W1–W19 -------------------------------------------------------------

# id, H, W, formula, BSA shown, (cycle, day, in CR/CRi), reduced, mg/m², dose exact (4 dp), dose, mL, vials, waste mg
WORKED = [
    ("W1", "170", "70", "mosteller", "1.8181", "1.82", (1, 1, None), False, "0.8", "1.4545", "1.45", "5.80", 2, "0.35"),
    ("W3", "180", "85", "mosteller", "2.0616", "2.06", (2, 1, True), False, "0.5", "1.0308", "1.03", "4.12", 2, "0.77"),
    ("W5", "160", "55", "dubois", "1.5632", "1.56", (1, 1, None), False, "0.8", "1.2505", "1.25", "5.00", 2, "0.55"),
    ("W7", "195", "140", "mosteller", "2.7538", "2.75", (1, 1, None), False, "0.8", "2.2030", "2.20", "8.80", 3, "0.50"),
    ("W9", "80", "10", "mosteller", "0.4714", "0.47", (1, 15, None), False, "0.5", "0.2357", "0.24", "0.96", 1, "0.66"),
    ("W11", "150", "45", "boyd", "1.3859", "1.39", (1, 1, None), False, "0.8", "1.1087", "1.11", "4.44", 2, "0.69"),
    ("W13", "180", "101.25", "mosteller", "2.2500", "2.25", (1, 1, None), False, "0.8", "1.8000", "1.80", "7.20", 2, "0.00"),
    ("W15", "120", "22", "haycock", "0.8533", "0.85", (2, 15, True), False, "0.5", "0.4267", "0.43", "1.72", 1, "0.47"),
    ("W17", "181", "101.15", "mosteller", "2.2551", "2.26", (1, 1, None), False, "0.8", "1.8041", "1.80", "7.20", 2, "0.00"),
    ("W19", "175", "72", "mosteller", "1.8708", "1.87", (3, 1, False), True, "0.6", "1.1225", "1.12", "4.48", 2, "0.68"),
]


@pytest.mark.parametrize(
    (
        "wid",
        "h",
        "w",
        "formula",
        "bsa_exact",
        "bsa_shown",
        "sched",
        "reduced",
        "level",
        "dose_exact",
        "dose",
        "ml",
        "vials",
        "waste",
    ),
    WORKED,
    ids=[row[0] for row in WORKED],
)
def test_worked_examples(
    wid: str,
    h: str,
    w: str,
    formula: str,
    bsa_exact: str,
    bsa_shown: str,
    sched: tuple[int, int, bool | None],
    reduced: bool,
    level: str,
    dose_exact: str,
    dose: str,
    ml: str,
    vials: int,
    waste: str,
) -> None:
    lv = calc.table1_level(*sched)
    if reduced:
        lv = rules.REDUCED_LEVEL[lv]  # CONV-MOD-1 (W19: 0.8 → 0.6 after the 25% cut)
    assert lv == D(level)
    p = calc.prepare(D(h), D(w), lv, formula)
    assert four(p.bsa.exact) == bsa_exact
    assert str(p.bsa.shown) == bsa_shown
    assert four(p.dose_exact) == dose_exact
    assert str(p.dose_mg) == dose
    assert p.dose_mg == calc.dose_mg(p.bsa.exact, lv)
    assert str(p.withdraw_ml) == ml
    assert p.vials == vials
    assert str(p.waste_mg) == waste
    d = p.as_dict()
    assert (d["bsa_m2"], d["dose_mg"], d["withdraw_ml"], d["vials"], d["waste_mg"]) == (bsa_shown, dose, ml, vials, waste)


def test_w1_pipeline_b_not_produced() -> None:
    p = calc.prepare(D(170), D(70), D("0.8"))
    assert p.dose_mg == D("1.45")  # Pipeline B: 1.82 × 0.8 = 1.456 → 1.46
    assert p.withdraw_ml == D("5.80")  # not 5.84 (B) nor 5.82 (unrounded dose)


def test_w17_vial_count_pipeline_a_only() -> None:
    p = calc.prepare(D(181), D("101.15"), D("0.8"))
    assert p.bsa.shown == D("2.26")
    assert p.dose_mg == D("1.80") and p.withdraw_ml == D("7.20")
    assert p.vials == 2 and p.waste_mg == D("0.00") and p.waste_ml == D("0.00")
    # Pipeline B (2.26 × 0.8 = 1.808 → 1.81 mg, 7.24 mL, 3 vials) must not appear.
    assert p.dose_mg != D("1.81") and p.vials != 3
    assert p.withdraw_plan == (D("3.60"), D("3.60"))


def test_w7_no_cap_note_only() -> None:
    p = calc.prepare(D(195), D(140), D("0.8"))
    assert p.dose_mg == D("2.20")
    assert "CONV-BSA-4" in {rid for rid, _ in p.notes}
    assert calc.prepare(D(170), D(70), D("0.8")).notes[0][0] != "CONV-BSA-4"


def test_rounding_traps() -> None:
    # 0.8 × 1.13 in float is 0.90399…; math.ceil(0.8*1.13/0.9) = 2, but the 0.01-mg dose 0.90 needs 1 vial.
    assert math.ceil(0.8 * 1.13 / 0.9) == 2
    assert calc.dose_mg(D("1.13"), D("0.8")) == D("0.90")
    b = calc.bsa(D("1.13") ** 2 * 3600, D(1))  # Mosteller exact BSA 1.13
    assert b.exact == D("1.13")
    p = calc.prepare(b.height_cm, b.weight_kg, D("0.8"), custom_level_ok=False)
    assert p.dose_mg == D("0.90")
    assert p.vials == 1
    assert p.withdraw_plan == (D("3.60"),)
    assert p.waste_mg == D("0.00")
    # Half-up, not banker's: 1.125 → 1.13; a dose at exactly x.xx5 goes up.
    assert calc.dose_mg(D("1.125"), D(1)) == D("1.13")
    assert calc.dose_mg(D("0.625"), D("1")) == D("0.63")


def test_dose_mg_rejects_bad_input() -> None:
    for bad in (D(0), D(-1), D("NaN"), D("Infinity")):
        with pytest.raises(ValueError):
            calc.dose_mg(bad, D("0.8"))
        with pytest.raises(ValueError):
            calc.dose_mg(D("1.8"), bad)


# --- §18.6 preparation P1 / P3, syringe W9 / W15 ---------------------------------------------


def test_p1_adult_bag() -> None:
    p = calc.prepare(D(170), D(70), D("0.8"))
    assert p.route == "bag"
    assert p.vials == 2
    assert p.reconstitution_ml_per_vial == D(4)
    assert p.concentration_mg_per_ml == D("0.25")
    assert p.withdraw_ml == D("5.80")
    assert p.withdraw_plan == (D("3.60"), D("2.20"))
    assert [str(v) for v in p.withdraw_plan] == ["3.60", "2.20"]
    assert p.diluent_ml == D("44.20") and str(p.diluent_ml) == "44.20"
    assert p.final_volume_ml == D(50)
    assert p.final_concentration_mg_per_ml == D("0.029")
    assert p.rate_ml_per_h == D("50.00")
    assert p.infusion_minutes == 60
    assert p.waste_mg == D("0.35") and p.waste_ml == D("1.40")
    assert "PREP-12" in {rid for rid, _ in p.notes}
    assert "PREP-9" not in p.unverified_rules
    d = p.as_dict()
    assert d["final_concentration_mg_per_ml"] == "0.0290"
    assert d["final_volume_ml"] == "50.00"
    assert d["route"] == "bag"
    assert d["rate_ml_per_h"] == "50.00"


def test_p3_obese_adult_bag() -> None:
    p = calc.prepare(D(195), D(140), D("0.8"))
    assert p.vials == 3
    assert p.withdraw_ml == D("8.80")
    assert p.withdraw_plan == (D("3.60"), D("3.60"), D("1.60"))
    assert p.diluent_ml == D("41.20")
    assert p.final_concentration_mg_per_ml == D("0.044")
    assert p.rate_ml_per_h == D("50.00")
    assert p.waste_ml == D("2.00") and p.waste_mg == D("0.50")


def test_w9_syringe_proposal() -> None:
    p = calc.prepare(D(80), D(10), D("0.5"))
    assert p.bag_concentration_mg_per_ml == D("0.0048")
    assert p.route == "syringe" and p.syringe_volume_proposed
    assert p.final_volume_ml == D("2.40")
    assert p.withdraw_ml == D("0.96") and p.diluent_ml == D("1.44")
    assert p.final_concentration_mg_per_ml == D("0.1")
    assert p.rate_ml_per_h == D("2.40")
    assert "PREP-9" in p.unverified_rules
    assert ("PREP-9", "pharmacist") in p.confirmations
    assert "CONV-BSA-5" not in {rid for rid, _ in p.notes}  # exactly 10 kg: not under 10


def test_w15_syringe_proposal() -> None:
    p = calc.prepare(D(120), D(22), D("0.5"), "haycock")
    assert p.bag_concentration_mg_per_ml == D("0.0086")
    assert p.route == "syringe"
    assert (p.final_volume_ml, p.withdraw_ml, p.diluent_ml, p.rate_ml_per_h) == (
        D("4.30"),
        D("1.72"),
        D("2.58"),
        D("4.30"),
    )


def test_syringe_volume_edited_by_pharmacist() -> None:
    p = calc.prepare(D(80), D(10), D("0.5"), syringe_volume_ml=D("4.80"))
    assert p.final_volume_ml == D("4.80") and not p.syringe_volume_proposed
    assert p.final_concentration_mg_per_ml == D("0.05")
    assert p.diluent_ml == D("3.84") and p.rate_ml_per_h == D("4.80")
    # 0.24 mg ÷ 9.60 mL = 0.025: the inclusive bottom of the range.
    assert calc.prepare(D(80), D(10), D("0.5"), syringe_volume_ml=D("9.60")).route == "syringe"
    with pytest.raises(ValueError, match=r"0\.025–0\.1 mg/mL"):
        calc.prepare(D(80), D(10), D("0.5"), syringe_volume_ml=D("9.61"))
    with pytest.raises(ValueError, match=r"0\.025–0\.1 mg/mL"):
        calc.prepare(D(80), D(10), D("0.5"), syringe_volume_ml=D("2.39"))
    with pytest.raises(ValueError):
        calc.prepare(D(80), D(10), D("0.5"), syringe_volume_ml=D("4.805"))
    with pytest.raises(ValueError):
        calc.prepare(D(170), D(70), D("0.8"), syringe_volume_ml=D("20"))  # bag route: no syringe


def test_bag_range_boundaries() -> None:
    # 0.50 mg → 0.0100 mg/mL is a valid bag (PREP-8 inclusive): BSA exactly 1 at 0.5 mg/m².
    p = calc.prepare(D(3600), D(1), D("0.5"))
    assert p.dose_mg == D("0.50") and p.route == "bag"
    assert p.bag_concentration_mg_per_ml == D("0.01")
    # 0.49 mg → syringe.
    q = calc.prepare(D("0.98") ** 2 * 3600, D(1), D("0.5"))
    assert q.dose_mg == D("0.49") and q.route == "syringe"
    # 5.00 mg → 0.1 mg/mL, still a bag; 5.01 mg → refused.
    assert calc.prepare(D("6.25") ** 2 * 3600, D(1), D("0.8")).route == "bag"
    with pytest.raises(ValueError, match="bag"):
        calc.prepare(D("6.2625") ** 2 * 3600, D(1), D("0.8"))


def test_levels() -> None:
    with pytest.raises(ValueError, match=r"0\.8, 0\.6, 0\.5, 0\.375"):
        calc.prepare(D(170), D(70), D("0.7"))
    p = calc.prepare(D(170), D(70), D("0.80"))
    assert str(p.level_mg_m2) == "0.8" and not p.custom_level
    c = calc.prepare(D(170), D(70), D("0.45"), custom_level_ok=True)
    assert c.custom_level and c.level_mg_m2 == D("0.45")
    assert c.dose_mg == D("0.82")  # 1.818119 × 0.45 = 0.8182
    assert ("CONV-MOD-5", "pharmacist") in c.confirmations
    with pytest.raises(ValueError):
        calc.prepare(D(170), D(70), D("0.9"), custom_level_ok=True)  # never above Table 1
    with pytest.raises(ValueError):
        calc.prepare(D(170), D(70), D("0"), custom_level_ok=True)


def test_low_weight_note() -> None:
    p = calc.prepare(D(70), D("9.5"), D("0.5"))
    assert "CONV-BSA-5" in {rid for rid, _ in p.notes}
    assert ("CONV-BSA-5", "prescriber") in p.confirmations


def test_as_dict_and_trail() -> None:
    p = calc.prepare(D(170), D(70), D("0.8"))
    d = p.as_dict()
    for key in (
        "bsa_m2",
        "bsa_formula",
        "dose_mg_per_m2",
        "dose_mg",
        "vials",
        "reconstitution_ml_per_vial",
        "withdraw_ml",
        "final_volume_ml",
        "final_concentration_mg_per_ml",
        "rate_ml_per_h",
        "route",
        "waste_mg",
        "infusion_minutes",
        "unverified_rules",
    ):
        assert key in d
    assert d["bsa_m2"] == "1.82" and d["dose_mg_per_m2"] == "0.8" and d["bsa_formula"] == "mosteller"
    assert isinstance(d["unverified_rules"], list)
    json.dumps(d)  # JSON-ready
    assert '": 0.' not in json.dumps(d)  # no JSON float
    trail = "\n".join(p.trail_lines())
    for fragment in (
        "170 cm",
        "70 kg",
        "Mosteller",
        "1.4545 → 1.45 mg",
        "= 2",
        "3.60 mL",
        "2.20 mL",
        "44.20 mL",
        "0.0290 mg/mL",
        "50.00 mL/h",
        "0.35 mg",
        "PREP-12",
        "CONV-CALC-3",
    ):
        assert fragment in trail
    assert all(isinstance(line, str) for line in p.trail_lines())


# --- Property tests -------------------------------------------------------------------------

H_MIN, H_MAX = rules.INPUT_LIMITS["height_cm"][:2]
W_MIN, W_MAX = rules.INPUT_LIMITS["weight_kg"][:2]
heights = st.decimals(min_value=H_MIN, max_value=H_MAX, places=1, allow_nan=False, allow_infinity=False)
weights = st.decimals(min_value=W_MIN, max_value=W_MAX, places=2, allow_nan=False, allow_infinity=False)
levels = st.sampled_from(sorted(rules.ALLOWED_LEVELS))
formulas = st.sampled_from(calc.FORMULAS)


def _walk(value: object):
    if attrs.has(type(value)):
        for a in attrs.fields(type(value)):
            yield from _walk(getattr(value, a.name))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def _prepare_or_none(h: D, w: D, level: D, formula: str) -> calc.Preparation | None:
    try:
        return calc.prepare(h, w, level, formula)
    except ValueError:
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heights, weights, levels, formulas)
def test_property_vials_and_plan(h: D, w: D, level: D, formula: str) -> None:
    p = _prepare_or_none(h, w, level, formula)
    if p is None:
        return
    vial = rules.VIAL_DELIVERABLE_MG
    assert p.vials * vial >= p.dose_mg
    assert (p.vials - 1) * vial < p.dose_mg
    assert sum(p.withdraw_plan) == p.withdraw_ml
    assert len(p.withdraw_plan) == p.vials
    assert all(D(0) < v <= rules.VIAL_DELIVERABLE_ML for v in p.withdraw_plan)
    assert p.withdraw_ml <= p.vials * rules.VIAL_DELIVERABLE_ML
    assert p.withdraw_ml == p.dose_mg * 4
    assert p.waste_mg == p.vials * vial - p.dose_mg
    assert p.dose_mg == calc.dose_mg(p.bsa.exact, level)
    assert p.diluent_ml + p.withdraw_ml == p.final_volume_ml
    if p.route == "bag":
        lo, hi = rules.BAG_RANGE_MG_PER_ML
        assert lo <= p.final_concentration_mg_per_ml <= hi
    else:
        lo, hi = rules.SYRINGE_RANGE_MG_PER_ML
        assert lo <= p.final_concentration_mg_per_ml <= hi


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heights, weights, levels, formulas)
def test_property_no_float(h: D, w: D, level: D, formula: str) -> None:
    p = _prepare_or_none(h, w, level, formula)
    if p is None:
        return
    for leaf in _walk(p):
        assert not isinstance(leaf, float)
    for leaf in _walk(p.as_dict()):
        assert not isinstance(leaf, float)
    assert not isinstance(p.bsa.shown, float)
    json.dumps(p.as_dict())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heights, weights, levels, formulas)
def test_property_in_range_never_crashes(h: D, w: D, level: D, formula: str) -> None:
    try:
        p = calc.prepare(h, w, level, formula)
    except ValueError:
        return
    assert isinstance(p, calc.Preparation)
    assert p.trail_lines()


@settings(max_examples=300, deadline=None)
@given(st.decimals(), st.decimals(), formulas)
def test_property_any_decimal_result_or_valueerror(h: D, w: D, formula: str) -> None:
    try:
        b = calc.bsa(h, w, formula)
    except ValueError:
        return
    assert b.exact > 0
    with contextlib.suppress(ValueError):
        calc.prepare(h, w, D("0.8"), formula)

"""`bedside calc` runs the worked examples of the reference (§18.1, §18.6) in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest


def calc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bedside.tui.cli", "calc", *args], capture_output=True, text=True)


# ID, height, weight, formula, cycle, day, response, reduction → bsa, mg/m², mg, mL, vials, waste mg
WORKED = [
    ("W1", "170", "70", "mosteller", "1", "1", None, "none", "1.82", "0.8", "1.45", "5.80", 2, "0.35"),
    ("W3", "180", "85", "mosteller", "2", "1", "cr", "none", "2.06", "0.5", "1.03", "4.12", 2, "0.77"),
    ("W5", "160", "55", "dubois", "1", "1", None, "none", "1.56", "0.8", "1.25", "5.00", 2, "0.55"),
    ("W7", "195", "140", "mosteller", "1", "1", None, "none", "2.75", "0.8", "2.20", "8.80", 3, "0.50"),
    ("W9", "80", "10", "mosteller", "1", "15", None, "none", "0.47", "0.5", "0.24", "0.96", 1, "0.66"),
    ("W11", "150", "45", "boyd", "1", "1", None, "none", "1.39", "0.8", "1.11", "4.44", 2, "0.69"),
    ("W13", "180", "101.25", "mosteller", "1", "1", None, "none", "2.25", "0.8", "1.80", "7.20", 2, "0.00"),
    ("W15", "120", "22", "haycock", "2", "15", "cr", "none", "0.85", "0.5", "0.43", "1.72", 1, "0.47"),
    ("W17", "181", "101.15", "mosteller", "1", "1", None, "none", "2.26", "0.8", "1.80", "7.20", 2, "0.00"),
    ("W19", "175", "72", "mosteller", "3", "1", "none", "25", "1.87", "0.6", "1.12", "4.48", 2, "0.68"),
]


@pytest.mark.parametrize("case", WORKED, ids=[c[0] for c in WORKED])
def test_worked_examples_through_the_command_line(case):
    _id, h, w, formula, cycle, day, response, reduction, bsa, level, mg, ml, vials, waste = case
    args = [
        "--height-cm",
        h,
        "--weight-kg",
        w,
        "--formula",
        formula,
        "--cycle",
        cycle,
        "--day",
        day,
        "--reduction",
        reduction,
        "--json",
    ]
    if response:
        args += ["--response", response]
    r = calc(*args)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout, parse_float=Decimal)
    assert out["bsa_m2"] == Decimal(bsa)
    assert out["dose_mg_per_m2"] == Decimal(level)
    assert out["dose_mg"] == Decimal(mg)
    assert out["withdraw_ml"] == Decimal(ml)
    assert out["vials"] == vials
    assert out["waste_mg"] == Decimal(waste)
    assert r.stdout.count("\n") == 1, "one JSON object"


def test_p1_bag_numbers_are_exact_decimals():
    r = calc("--height-cm", "170", "--weight-kg", "70", "--cycle", "1", "--day", "1", "--json")
    assert '"final_concentration_mg_per_ml": 0.0290' in r.stdout  # not a float artefact
    out = json.loads(r.stdout, parse_float=Decimal)
    assert out["route"] == "bag" and out["final_volume_ml"] == Decimal("50.00") and out["rate_ml_per_h"] == Decimal("50.00")
    assert out["reconstitution_ml_per_vial"] == 4


def test_w9_proposes_the_syringe_route():
    out = json.loads(
        calc("--height-cm", "80", "--weight-kg", "10", "--cycle", "1", "--day", "15", "--json").stdout, parse_float=Decimal
    )
    assert out["route"] == "syringe" and out["final_volume_ml"] == Decimal("2.40") and out["rate_ml_per_h"] == Decimal("2.40")


def test_text_trail():
    r = calc("--height-cm", "170", "--weight-kg", "70", "--cycle", "1", "--day", "1")
    assert r.returncode == 0 and "1.4545 → 1.45 mg" in r.stdout and "44.20 mL" in r.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (
            ["--height-cm", "abc", "--weight-kg", "70", "--cycle", "1", "--day", "1"],
            "--height-cm: a plain number from 40 to 260 cm",
        ),
        (["--height-cm", "170", "--weight-kg", "999", "--cycle", "1", "--day", "1"], "--weight-kg: 999 is outside 2 to 400 kg"),
        (["--height-cm", "170", "--weight-kg", "70", "--cycle", "1", "--day", "3"], "--day: 1, 8 or 15"),
        (["--height-cm", "170", "--weight-kg", "70", "--cycle", "2", "--day", "1"], "--response: needed from cycle 2"),
        (["--height-cm", "170", "--weight-kg", "70", "--cycle", "1", "--day", "1", "--formula", "x"], "--formula: mosteller"),
        (
            [
                "--height-cm",
                "170",
                "--weight-kg",
                "70",
                "--cycle",
                "2",
                "--day",
                "15",
                "--response",
                "cr",
                "--reduction",
                "two-doses",
            ],
            "Days 1 and 8",
        ),
        (["--height-cm", "NaN", "--weight-kg", "70", "--cycle", "1", "--day", "1"], "--height-cm"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_stdout(args, words):
    r = calc(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    assert words in r.stderr and r.stderr.count("\n") == 1


def test_a_reduced_level_says_it_rests_on_unverified_rules_a_prescriber_confirms():
    from bedside.core import calc as core_calc

    base = ["calc", "--height-cm", "170", "--weight-kg", "70", "--cycle", "2", "--day", "1", "--response", "none"]
    for reduction, rules_ in (("25", ["MOD-INT-3"]), ("two-doses", ["MOD-INT-3", "MOD-INT-4"])):
        out = calc(*base[1:], "--reduction", reduction, "--json")
        data = json.loads(out.stdout)
        assert [r for r in data["unverified_rules"] if r.startswith("MOD-INT")] == rules_
        assert [c for c in data["confirmations"] if c["rule_id"].startswith("MOD-INT")] == [
            {"rule_id": r, "role": "prescriber"} for r in rules_
        ]
        text = calc(*base[1:], "--reduction", reduction).stdout
        assert "Needs confirmation [MOD-INT-3]: prescriber" in text and "UNVERIFIED" in text
    plain = json.loads(calc(*base[1:], "--json").stdout)
    assert not any(r.startswith("MOD-INT") for r in plain["unverified_rules"]), "no reduction, no Table 4 rule"
    prep = core_calc.prepare(Decimal("170"), Decimal("70"), Decimal("0.8"), "mosteller")
    assert core_calc.with_reduction(prep, "none") is prep

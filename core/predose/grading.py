"""CTCAE grading (§15: CTCAE-2, CTCAE-3, CTCAE-4), exact (CONV-LAB-4: no rounded ratio decides)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .. import rules
from .results import _local


def _dec_arg(name: str, value: object) -> Decimal:
    if isinstance(value, (bool, float)):
        raise TypeError(f"{name} must be a Decimal (CONV-CALC-1: no binary float)")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal")
    return value


def _grade_low(value: Decimal, lower: Sequence[Decimal], lln: Decimal | None) -> int:
    g1, g2, g3 = lower
    if value < g3:
        return 4
    if value < g2:
        return 3
    if value < g1:
        return 2
    return 1 if lln is not None and value < lln else 0


def grade_anc(anc: Decimal, lln: Decimal | None = None) -> int:
    """CTCAE-2 neutrophil count decreased (× 10⁹/L), v3.0 = v5.

    Grade 1 (< LLN to 1.5) needs the lab's LLN; without it a value ≥ 1.5 grades 0 (display only:
    no rule here acts on a Grade 1 count).
    """
    with _local():
        return _grade_low(_dec_arg("anc", anc), rules.CTCAE_ANC_GRADE_LOWER, None if lln is None else _dec_arg("lln", lln))


def grade_platelets(platelets: Decimal, lln: Decimal | None = None) -> int:
    """CTCAE-2 platelet count decreased (× 10⁹/L), v3.0 = v5; Grade 1 as :func:`grade_anc`."""
    with _local():
        return _grade_low(
            _dec_arg("platelets", platelets), rules.CTCAE_PLATELET_GRADE_LOWER, None if lln is None else _dec_arg("lln", lln)
        )


def _multiple_grade(num: Decimal, den: Decimal, upper: Sequence[Decimal]) -> int:
    """Grade 1..4 of num/den against upper bounds of G1..G3 (above the last → G4), exactly."""
    for grade, bound in enumerate(upper, start=1):
        if num <= bound * den:
            return grade
    return 4


def _baseline_abnormal(baseline: Decimal | None, baseline_uln: Decimal | None) -> bool:
    return baseline is not None and baseline_uln is not None and baseline > rules.ULN_FACTOR_NORMAL * baseline_uln


def grade_bilirubin(value: Decimal, uln: Decimal, baseline: Decimal | None = None, baseline_uln: Decimal | None = None) -> int:
    """CTCAE-3 blood bilirubin increased, v5.

    Baseline normal (or unknown): by × ULN. Baseline abnormal (above its ULN): by × baseline, where
    the multiple is (value / ULN) ÷ (baseline / baseline ULN), so a baseline from another lab or unit
    compares correctly (with the same ULN it is value ÷ baseline).
    """
    with _local():
        v, u = _dec_arg("value", value), _dec_arg("uln", uln)
        if u <= 0:
            raise ValueError("uln must be > 0")
        if _baseline_abnormal(baseline, baseline_uln):
            b, bu = _dec_arg("baseline", baseline), _dec_arg("baseline_uln", baseline_uln)
            num, den = v * bu, b * u  # value/ULN ÷ baseline/bULN = num/den
            if num <= rules.CTCAE_BILIRUBIN_ABNORMAL_G1_ABOVE * den:
                return 0
            return _multiple_grade(num, den, rules.CTCAE_BILIRUBIN_GRADE_UPPER)
        if v <= rules.ULN_FACTOR_NORMAL * u:
            return 0
        return _multiple_grade(v, u, rules.CTCAE_BILIRUBIN_GRADE_UPPER)


def grade_transaminase(value: Decimal, uln: Decimal, baseline: Decimal | None = None, baseline_uln: Decimal | None = None) -> int:
    """CTCAE-3 AST or ALT increased, v5 (baseline handling as :func:`grade_bilirubin`).

    Baseline abnormal: Grade 1 is 1.5 (inclusive) to 3.0 × baseline; below 1.5 × baseline is 0.
    """
    with _local():
        v, u = _dec_arg("value", value), _dec_arg("uln", uln)
        if u <= 0:
            raise ValueError("uln must be > 0")
        if _baseline_abnormal(baseline, baseline_uln):
            b, bu = _dec_arg("baseline", baseline), _dec_arg("baseline_uln", baseline_uln)
            num, den = v * bu, b * u
            if num < rules.CTCAE_TRANSAMINASE_ABNORMAL_G1_FROM * den:
                return 0
            return _multiple_grade(num, den, rules.CTCAE_TRANSAMINASE_GRADE_UPPER)
        if v <= rules.ULN_FACTOR_NORMAL * u:
            return 0
        return _multiple_grade(v, u, rules.CTCAE_TRANSAMINASE_GRADE_UPPER)


def grade_transaminase_v3(value: Decimal, uln: Decimal) -> int:
    """CTCAE-4: AST/ALT under v3.0 (by × ULN; display only, MOD-NH-5 → CONV-LAB-3)."""
    with _local():
        v, u = _dec_arg("value", value), _dec_arg("uln", uln)
        if u <= 0:
            raise ValueError("uln must be > 0")
        if v <= rules.ULN_FACTOR_NORMAL * u:
            return 0
        return _multiple_grade(v, u, rules.CTCAE_V3_TRANSAMINASE_GRADE_UPPER)

"""Body-surface area (CONV-BSA-1 to 3, CONV-CALC-2), the Table 1 level (DOSE-1, DOSE-6,
CONV-RESP-4) and the dose (Pipeline A, CONV-CALC-3). Every clinical number from :mod:`bedside.core.rules`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from attrs import field, frozen
from attrs.validators import instance_of

from .. import rules
from .numbers import _EXPLAIN_QUANTUM, _local, _plain, _positive, _q, _Text

# CONV-BSA-1: the five formulas, default first (CONV-BSA-2).
FORMULAS: tuple[str, ...] = ("mosteller", "dubois", "haycock", "gehan_george", "boyd")
FORMULA_LABELS: MappingProxyType[str, str] = MappingProxyType(
    {
        "mosteller": "Mosteller",
        "dubois": "DuBois & DuBois",
        "haycock": "Haycock",
        "gehan_george": "Gehan & George",
        "boyd": "Boyd",
    }
)


# --- BSA (CONV-BSA-1 to 3, CONV-CALC-2) -----------------------------------------------------------


def _bsa_exact(formula: str, h: Decimal, w: Decimal) -> Decimal:
    with _local():
        if formula == "mosteller":
            return (h * w / rules.BSA_MOSTELLER_DIVISOR).sqrt()
        if formula == "boyd":
            wg = w * rules.BSA_BOYD_GRAMS_PER_KG
            w_exp = rules.BSA_BOYD_WEIGHT_EXPONENT_BASE - rules.BSA_BOYD_WEIGHT_EXPONENT_LOG_SLOPE * wg.log10()
            return rules.BSA_BOYD_COEFFICIENT * (rules.BSA_BOYD_HEIGHT_EXPONENT * h.ln()).exp() * (w_exp * wg.ln()).exp()
        k, a, b = rules.BSA_POWER_FORMULAS[formula]
        return k * (a * h.ln() + b * w.ln()).exp()


def _bsa_expression(formula: str, h: Decimal, w: Decimal) -> str:
    hs, ws = _plain(h), _plain(w)
    if formula == "mosteller":
        return f"√({hs} cm × {ws} kg / {_plain(rules.BSA_MOSTELLER_DIVISOR)})"
    if formula == "boyd":
        with _local():
            wg = _plain(w * rules.BSA_BOYD_GRAMS_PER_KG)
        return (
            f"{_plain(rules.BSA_BOYD_COEFFICIENT)} × ({hs} cm)^{_plain(rules.BSA_BOYD_HEIGHT_EXPONENT)}"
            f" × ({wg} g)^({_plain(rules.BSA_BOYD_WEIGHT_EXPONENT_BASE)}"
            f" − {_plain(rules.BSA_BOYD_WEIGHT_EXPONENT_LOG_SLOPE)} × log10 {wg})"
        )
    k, a, b = rules.BSA_POWER_FORMULAS[formula]
    return f"{_plain(k)} × ({hs} cm)^{_plain(a)} × ({ws} kg)^{_plain(b)}"


@frozen
class Bsa:
    """A body-surface area with the formula and inputs it came from (CONV-BSA-2)."""

    formula: str = field(validator=instance_of(str))
    height_cm: Decimal = field(validator=instance_of(Decimal))
    weight_kg: Decimal = field(validator=instance_of(Decimal))
    exact: Decimal = field(validator=instance_of(Decimal))  # full precision: used for dosing

    @property
    def label(self) -> str:
        return FORMULA_LABELS[self.formula]

    @property
    def shown(self) -> Decimal:
        """Half-up to 0.01 m² (CONV-CALC-2). Display only: never used for dosing."""
        return _q(self.exact, rules.BSA_QUANTUM_M2)

    @property
    def explain(self) -> _Text:
        """One line, e.g. ``Mosteller √(170 cm × 70 kg / 3600) = 1.8181 → 1.82 m²``.

        Usable as a property or called: ``b.explain`` == ``b.explain()``.
        """
        expr = _bsa_expression(self.formula, self.height_cm, self.weight_kg)
        four = _q(self.exact, _EXPLAIN_QUANTUM)
        return _Text(f"{self.label} {expr} = {four} → {self.shown} m²")


def bsa(height_cm: Decimal, weight_kg: Decimal, formula: str = rules.BSA_DEFAULT_FORMULA) -> Bsa:
    """Body-surface area (m²) by ``formula`` (CONV-BSA-1), full precision.

    Raises ``ValueError`` for a non-positive or non-finite input or an unknown formula, and
    ``TypeError`` for a float (CONV-CALC-1).
    """
    if formula not in FORMULAS:
        raise ValueError(f"unknown BSA formula {formula!r}; choose one of {', '.join(FORMULAS)}")
    h = _positive("height_cm", height_cm)
    w = _positive("weight_kg", weight_kg)
    try:
        exact = _bsa_exact(formula, h, w)
        _q(exact, rules.BSA_QUANTUM_M2)  # must be displayable
    except ArithmeticError as exc:
        raise ValueError(f"BSA cannot be computed for {_plain(h)} cm / {_plain(w)} kg") from exc
    if not exact.is_finite() or exact <= 0:
        raise ValueError(f"BSA cannot be computed for {_plain(h)} cm / {_plain(w)} kg")
    return Bsa(formula=formula, height_cm=h, weight_kg=w, exact=exact)


# --- Level (DOSE-1, DOSE-6, CONV-RESP-4) ---------------------------------------------------------


def table1_level(cycle: int, day: int, in_cr_or_cri: bool | None) -> Decimal:
    """mg/m² from Table 1 (DOSE-1). Cycle 1 ignores the response.

    From cycle 2 the row follows the latest response (DOSE-4); ``None`` (not assessed) raises
    ``ValueError``: no level is computed until a response is recorded or a prescriber picks the
    row explicitly (CONV-RESP-4). Toxicity reductions are not applied here (CONV-MOD-1).
    """
    if isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < 1:
        raise ValueError(f"cycle must be an integer ≥ 1, got {cycle!r}")
    if isinstance(day, bool) or day not in rules.DAYS:
        raise ValueError(f"day must be one of {', '.join(map(str, rules.DAYS))}, got {day!r}")
    if cycle == 1:
        return rules.LEVELS_CYCLE1[day]
    if in_cr_or_cri is None:
        raise ValueError(
            f"cycle {cycle}: response not assessed; record a response (CR/CRi or not) or have a "
            "prescriber choose the Table 1 row (CONV-RESP-4)"
        )
    if not isinstance(in_cr_or_cri, bool):
        raise ValueError(f"in_cr_or_cri must be True, False or None, got {in_cr_or_cri!r}")
    return (rules.LEVELS_CR_CRI if in_cr_or_cri else rules.LEVELS_NO_CR)[day]


def _check_level(level: object, custom_level_ok: bool) -> tuple[Decimal, bool]:
    lv = _positive("level_mg_m2", level)
    for allowed in rules.ALLOWED_LEVELS:
        if lv == allowed:
            return allowed, False  # canonical spelling (0.80 → 0.8)
    names = ", ".join(_plain(x) for x in sorted(rules.ALLOWED_LEVELS, reverse=True))
    if not custom_level_ok:
        raise ValueError(
            f"level {_plain(lv)} mg/m² is not allowed; allowed levels are {names} mg/m² "
            "(DOSE-6); another reduced split needs custom_level_ok=True (CONV-MOD-5)"
        )
    top = max(rules.ALLOWED_LEVELS)
    if lv > top:
        # CONV-MOD-5: a custom split is a reduction; no day's level can exceed Table 1's highest.
        raise ValueError(
            f"custom level {_plain(lv)} mg/m² is above {_plain(top)} mg/m²; a CONV-MOD-5 split "
            "may only reduce (DOSE-6, CONV-MOD-3)"
        )
    return lv, True


# --- Dose (CONV-CALC-3) --------------------------------------------------------------------------


def dose_mg(bsa_exact: Decimal, level_mg_m2: Decimal) -> Decimal:
    """Pipeline A (CONV-CALC-3): full-precision BSA × level, half-up to 0.01 mg."""
    b = _positive("bsa_exact", bsa_exact)
    lv = _positive("level_mg_m2", level_mg_m2)
    try:
        with _local():
            return (b * lv).quantize(rules.DOSE_QUANTUM_MG, rounding=ROUND_HALF_UP)
    except ArithmeticError as exc:
        raise ValueError("dose cannot be computed") from exc

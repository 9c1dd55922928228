"""Dose, volume and vial calculation for BESPONSA: pure functions, ``decimal`` only.

Everything here follows section 14 of ``shared/clinical-reference.md``:

* ``decimal`` with ROUND_HALF_UP in a *local* context (CONV-CALC-1); the global context is never
  touched, and a binary ``float`` is refused on input (``TypeError``) and never reaches a result.
* BSA in full precision, shown half-up to 0.01 m² (CONV-CALC-2); Mosteller by ``Decimal.sqrt()``,
  the power formulas by ``Decimal.ln``/``exp``; Boyd in the gram form (CONV-BSA-1, CONV-BSA-3).
* Pipeline A only: dose = full-precision BSA × level, half-up to 0.01 mg (CONV-CALC-3).
* Every clinical number comes from :mod:`bedside.core.rules`.

No I/O, no printing, no Textual.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from attrs import field, frozen
from attrs.validators import instance_of

from . import rules

__all__ = [
    "FORMULAS",
    "FORMULA_LABELS",
    "Bsa",
    "Preparation",
    "bsa",
    "dose_mg",
    "prepare",
    "table1_level",
]

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

ROUTE_BAG = "bag"  # PREP-7
ROUTE_SYRINGE = "syringe"  # PREP-9

_PREC = 40  # CONV-CALC-1: ≥ 28 significant digits
_EXPLAIN_QUANTUM = Decimal("0.0001")  # the 4-decimal "exact" column of §14.2 / §18.1 (display only)
_MINUTES_PER_HOUR = 60  # unit conversion, not a clinical number


def _context() -> decimal.Context:
    """A fresh context: half-up, 40 digits, every dangerous signal trapped (floats included)."""
    return decimal.Context(
        prec=_PREC,
        rounding=ROUND_HALF_UP,
        Emin=-999_999,
        Emax=999_999,
        traps=[
            decimal.InvalidOperation,
            decimal.DivisionByZero,
            decimal.Overflow,
            decimal.FloatOperation,
        ],
        flags=[],
    )


def _local():  # noqa: ANN202 - a context manager
    return decimal.localcontext(_context())


def _q(value: Decimal, quantum: Decimal) -> Decimal:
    """Half-up to ``quantum`` (CONV-CALC-1), in the local context."""
    with _local():
        return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    """A decimal as typed: no exponent, no trailing zeros (170, 101.25, 0.375)."""
    with _local():
        try:
            if value == value.to_integral_value():
                return format(value.quantize(Decimal(1)), "f")
            return format(value.normalize(), "f")
        except ArithmeticError:  # too many digits to write plainly
            return str(value)


def _approx(value: Decimal) -> str:
    """Six decimals, with "…" when that is not the whole value (display only)."""
    six = _q(value, Decimal("0.000001"))
    return str(six) if six == value else f"{six}…"


class _Text(str):
    """A string that may also be called (``b.explain`` and ``b.explain()`` both work)."""

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


def _decimal_input(name: str, value: object) -> Decimal:
    """Accept Decimal or int; refuse float (CONV-CALC-1), bool and anything else."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a Decimal, not bool")
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not float (CONV-CALC-1: no binary float)")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    return value


def _positive(name: str, value: object) -> Decimal:
    d = _decimal_input(name, value)
    if not d.is_finite():
        raise ValueError(f"{name} must be a finite number, got {d}")
    if d <= 0:
        raise ValueError(f"{name} must be greater than 0, got {_plain(d)}")
    return d


# --- BSA (CONV-BSA-1 to 3, CONV-CALC-2) -----------------------------------------------------------


def _bsa_exact(formula: str, h: Decimal, w: Decimal) -> Decimal:
    with _local():
        if formula == "mosteller":
            return (h * w / rules.BSA_MOSTELLER_DIVISOR).sqrt()
        if formula == "boyd":
            wg = w * rules.BSA_BOYD_GRAMS_PER_KG
            w_exp = (
                rules.BSA_BOYD_WEIGHT_EXPONENT_BASE
                - rules.BSA_BOYD_WEIGHT_EXPONENT_LOG_SLOPE * wg.log10()
            )
            return (
                rules.BSA_BOYD_COEFFICIENT
                * (rules.BSA_BOYD_HEIGHT_EXPONENT * h.ln()).exp()
                * (w_exp * wg.ln()).exp()
            )
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


# --- Preparation (PREP-*, ADM-*, CONV-CALC-4 to 6) ------------------------------------------------


@frozen(kw_only=True)
class Preparation:
    """The whole preparation of one dose, every number exact (Decimal) or an int."""

    bsa: Bsa
    level_mg_m2: Decimal
    custom_level: bool  # CONV-MOD-5
    dose_exact: Decimal  # BSA × level unrounded: display only
    dose_mg: Decimal  # CONV-CALC-3
    vials: int  # PREP-5, CONV-CALC-5
    reconstitution_ml_per_vial: Decimal  # PREP-2
    concentration_mg_per_ml: Decimal  # PREP-2
    withdraw_ml: Decimal  # PREP-4, CONV-CALC-4
    withdraw_plan: tuple[Decimal, ...]  # PREP-6, mL per vial
    bag_concentration_mg_per_ml: Decimal  # PREP-8: dose ÷ 50, exact; decides the route
    route: str  # "bag" (PREP-7) or "syringe" (PREP-9)
    syringe_volume_proposed: bool  # PREP-9: True when the volume is the dose ÷ 0.1 proposal
    final_volume_ml: Decimal
    diluent_ml: Decimal  # 0.9% NaCl
    final_concentration_mg_per_ml: Decimal  # exact (unrounded) – compared unrounded (CONV-CALC-6)
    rate_ml_per_h: Decimal  # ADM-1, ADM-8, CONV-CALC-6
    infusion_minutes: int  # ADM-1
    waste_mg: Decimal  # PREP-5
    waste_ml: Decimal  # PREP-5
    notes: tuple[tuple[str, str], ...]  # (rule ID, text)
    unverified_rules: tuple[str, ...]
    confirmations: tuple[tuple[str, str], ...]  # (rule ID, role that must confirm)

    @property
    def final_concentration_shown(self) -> Decimal:
        """Half-up to 0.0001 mg/mL (CONV-CALC-6), display only."""
        return _q(self.final_concentration_mg_per_ml, rules.CONCENTRATION_QUANTUM)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data: decimals as strings, ints as ints, no float anywhere."""
        return {
            "height_cm": _plain(self.bsa.height_cm),
            "weight_kg": _plain(self.bsa.weight_kg),
            "bsa_m2": str(self.bsa.shown),
            "bsa_m2_exact": str(self.bsa.exact),
            "bsa_formula": self.bsa.formula,
            "bsa_explain": str(self.bsa.explain),
            "dose_mg_per_m2": _plain(self.level_mg_m2),
            "custom_level": self.custom_level,
            "dose_mg_exact": str(self.dose_exact),
            "dose_mg": str(self.dose_mg),
            "vials": self.vials,
            "reconstitution_ml_per_vial": _plain(self.reconstitution_ml_per_vial),
            "concentration_mg_per_ml": _plain(self.concentration_mg_per_ml),
            "withdraw_ml": str(self.withdraw_ml),
            "withdraw_plan_ml": [str(v) for v in self.withdraw_plan],
            "bag_concentration_mg_per_ml": _plain(self.bag_concentration_mg_per_ml),
            "route": self.route,
            "syringe_volume_proposed": self.syringe_volume_proposed,
            "final_volume_ml": str(self.final_volume_ml),
            "diluent_ml": str(self.diluent_ml),
            "final_concentration_mg_per_ml": str(self.final_concentration_shown),
            "rate_ml_per_h": str(self.rate_ml_per_h),
            "infusion_minutes": self.infusion_minutes,
            "waste_mg": str(self.waste_mg),
            "waste_ml": str(self.waste_ml),
            "notes": [{"rule_id": r, "text": t} for r, t in self.notes],
            "unverified_rules": list(self.unverified_rules),
            "confirmations": [{"rule_id": r, "role": who} for r, who in self.confirmations],
        }

    def trail_lines(self) -> list[str]:
        """The full calculation trail, one human-readable line each, with rule IDs."""
        return list(self._trail())

    def _trail(self) -> Iterator[str]:
        b = self.bsa
        yield (
            f"Inputs: height {_plain(b.height_cm)} cm, weight {_plain(b.weight_kg)} kg, "
            f"BSA formula {b.label} (CONV-BSA-2)"
        )
        yield f"BSA: {b.explain} (full precision {b.exact} m² used for dosing, CONV-CALC-2)"
        if self.custom_level:
            yield (
                f"Level: {_plain(self.level_mg_m2)} mg/m² (custom reduced split, CONV-MOD-5: "
                "prescriber reason, pharmacist verifies)"
            )
        else:
            yield f"Level: {_plain(self.level_mg_m2)} mg/m² (DOSE-1, DOSE-6)"
        yield (
            f"Dose: {_approx(b.exact)} m² × {_plain(self.level_mg_m2)} mg/m² = "
            f"{_q(self.dose_exact, _EXPLAIN_QUANTUM)} → {self.dose_mg} mg "
            "(full-precision BSA × level, half-up to 0.01 mg, Pipeline A, CONV-CALC-3)"
        )
        vial = _plain(rules.VIAL_DELIVERABLE_MG)
        yield f"Vials: ceil({self.dose_mg} mg ÷ {vial} mg) = {self.vials} (PREP-5, CONV-CALC-5)"
        yield (
            f"Reconstitute: {_plain(self.reconstitution_ml_per_vial)} mL Sterile Water for "
            f"Injection per vial → {_plain(self.concentration_mg_per_ml)} mg/mL, "
            f"{_plain(rules.VIAL_DELIVERABLE_ML)} mL ({vial} mg) deliverable; swirl, do not shake "
            "(PREP-2, PREP-3)"
        )
        yield (
            f"Withdraw: {self.dose_mg} mg ÷ {_plain(self.concentration_mg_per_ml)} mg/mL = "
            f"{self.withdraw_ml} mL (PREP-4, CONV-CALC-4)"
        )
        plan = " + ".join(f"vial {i} {v} mL" for i, v in enumerate(self.withdraw_plan, 1))
        yield f"Withdrawal plan: {plan} = {self.withdraw_ml} mL (PREP-6)"
        lo, hi = rules.BAG_RANGE_MG_PER_ML
        bag_total = _plain(rules.BAG_TOTAL_ML)
        bag_c = _plain(self.bag_concentration_mg_per_ml)
        fc = self.final_concentration_shown
        if self.route == ROUTE_BAG:
            yield (
                f"Dilute: {self.withdraw_ml} mL drug + {self.diluent_ml} mL 0.9% Sodium Chloride "
                f"= {bag_total} mL bag (PREP-7)"
            )
            yield (
                f"Final concentration: {self.dose_mg} mg ÷ {bag_total} mL = {fc} mg/mL, within "
                f"{_plain(lo)}–{_plain(hi)} mg/mL (PREP-8, UNVERIFIED [SITE] range)"
            )
        else:
            slo, shi = rules.SYRINGE_RANGE_MG_PER_ML
            yield (
                f"Bag concentration: {self.dose_mg} mg ÷ {bag_total} mL = {bag_c} mg/mL, below "
                f"{_plain(lo)} mg/mL → syringe route (PREP-8, UNVERIFIED)"
            )
            how = (
                f"proposed at {_plain(rules.SYRINGE_PROPOSED_MG_PER_ML)} mg/mL"
                if self.syringe_volume_proposed
                else "volume entered by the pharmacist"
            )
            yield (
                f"Syringe ({how}, PREP-9 UNVERIFIED): {self.withdraw_ml} mL drug + "
                f"{self.diluent_ml} mL 0.9% Sodium Chloride = {self.final_volume_ml} mL"
            )
            yield (
                f"Final concentration: {self.dose_mg} mg ÷ {self.final_volume_ml} mL = {fc} mg/mL, "
                f"within {_plain(slo)}–{_plain(shi)} mg/mL (PREP-9, UNVERIFIED [SITE] range)"
            )
        extra = " + flush (PREP-9, recorded by the pharmacist)" if self.route == ROUTE_SYRINGE else ""
        yield (
            f"Rate: {self.final_volume_ml} mL over 1 h = {self.rate_ml_per_h} mL/h, "
            f"{self.infusion_minutes} min{extra} (ADM-1, ADM-8)"
        )
        yield (
            f"Waste: {self.vials} × {vial} mg − {self.dose_mg} mg = {self.waste_mg} mg "
            f"({self.waste_ml} mL) discarded (PREP-5)"
        )
        for rule_id, text in self.notes:
            yield f"Note [{rule_id}]: {text}"
        for rule_id, who in self.confirmations:
            yield f"Needs confirmation [{rule_id}]: {who}"
        if self.unverified_rules:
            yield f"Unverified rules applied: {', '.join(self.unverified_rules)}"


def _range_text(bounds: tuple[Decimal, Decimal]) -> str:
    return f"{_plain(bounds[0])}–{_plain(bounds[1])} mg/mL"


def prepare(
    height_cm: Decimal,
    weight_kg: Decimal,
    level_mg_m2: Decimal,
    formula: str = rules.BSA_DEFAULT_FORMULA,
    *,
    syringe_volume_ml: Decimal | None = None,
    custom_level_ok: bool = False,
) -> Preparation:
    """The full preparation for one dose (PREP-1 to 12, ADM-1, CONV-CALC-1 to 6).

    Route: the bag (PREP-7) when dose ÷ 50 mL is within the inclusive PREP-8 range; below it the
    syringe route is proposed (PREP-9: final volume = dose ÷ 0.1 mg/mL, or ``syringe_volume_ml``
    from the pharmacist, which must give a concentration within the syringe range); above it the
    bag is refused. ``ValueError`` on any refusal.
    """
    b = bsa(height_cm, weight_kg, formula)
    level, custom = _check_level(level_mg_m2, custom_level_ok)
    try:
        return _prepare(b, level, custom, syringe_volume_ml)
    except ArithmeticError as exc:  # e.g. an absurd input overflowing the context
        raise ValueError(f"preparation cannot be computed: {exc!r}") from exc


def _prepare(
    b: Bsa, level: Decimal, custom: bool, syringe_volume_ml: Decimal | None
) -> Preparation:
    with _local():
        dose_exact = b.exact * level
        dose = dose_mg(b.exact, level)
        if dose <= 0:
            raise ValueError(
                f"dose rounds to {dose} mg (BSA {b.shown} m² × {_plain(level)} mg/m²): "
                "nothing to prepare"
            )
        # PREP-8 (UNVERIFIED): bag concentration, exact, compared unrounded (CONV-CALC-6).
        bag_c = dose / rules.BAG_TOTAL_ML
        lo, hi = rules.BAG_RANGE_MG_PER_ML
        notes: list[tuple[str, str]] = []
        unverified: list[str] = ["PREP-8"]
        confirmations: list[tuple[str, str]] = []
        if bag_c > hi:
            raise ValueError(
                f"bag refused: {dose} mg in {_plain(rules.BAG_TOTAL_ML)} mL = {_plain(bag_c)} mg/mL "
                f"is above the bag range {_range_text(rules.BAG_RANGE_MG_PER_ML)} (PREP-8)"
            )
        # CONV-CALC-5 / PREP-5: ceil(dose ÷ 0.9), exact (the dose has 2 decimals).
        vials = int((dose / rules.VIAL_DELIVERABLE_MG).to_integral_value(rounding=ROUND_CEILING))
        # CONV-CALC-4 / PREP-4: from the 0.01-mg dose, never from the unrounded one.
        withdraw = (dose / rules.RECONSTITUTED_MG_PER_ML).quantize(
            rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP
        )
        full = rules.VIAL_DELIVERABLE_ML.quantize(rules.VOLUME_QUANTUM_ML)
        last = withdraw - full * (vials - 1)
        plan = (full,) * (vials - 1) + (last,)  # PREP-6
        if not (0 < last <= full) or sum(plan) != withdraw:  # pragma: no cover - invariant
            raise AssertionError("withdrawal plan does not add up")
        waste_mg = (vials * rules.VIAL_DELIVERABLE_MG - dose).quantize(
            rules.DOSE_QUANTUM_MG, rounding=ROUND_HALF_UP
        )
        waste_ml = (waste_mg / rules.RECONSTITUTED_MG_PER_ML).quantize(
            rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP
        )

        if bag_c >= lo:
            if syringe_volume_ml is not None:
                raise ValueError(
                    f"a syringe volume was given, but {dose} mg fits the bag route "
                    f"({_plain(bag_c)} mg/mL within {_range_text(rules.BAG_RANGE_MG_PER_ML)}, PREP-8)"
                )
            route = ROUTE_BAG
            proposed = False
            final_volume = rules.BAG_TOTAL_ML.quantize(rules.VOLUME_QUANTUM_ML)
            final_c = bag_c
        else:
            route = ROUTE_SYRINGE
            slo, shi = rules.SYRINGE_RANGE_MG_PER_ML
            if syringe_volume_ml is None:
                proposed = True
                final_volume = (dose / rules.SYRINGE_PROPOSED_MG_PER_ML).quantize(
                    rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP
                )
            else:
                proposed = False
                final_volume = _positive("syringe_volume_ml", syringe_volume_ml)
                if final_volume != final_volume.quantize(rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP):
                    raise ValueError(
                        f"syringe volume {_plain(final_volume)} mL: enter it to 0.01 mL (CONV-CALC-4)"
                    )
                final_volume = final_volume.quantize(rules.VOLUME_QUANTUM_ML)
            final_c = dose / final_volume
            if not (slo <= final_c <= shi):
                raise ValueError(
                    f"syringe {dose} mg in {final_volume} mL = "
                    f"{_q(final_c, rules.CONCENTRATION_QUANTUM)} mg/mL is outside the syringe range "
                    f"{_range_text(rules.SYRINGE_RANGE_MG_PER_ML)} (PREP-9)"
                )
            if final_volume < withdraw:  # pragma: no cover - implied by the range
                raise ValueError("syringe volume is smaller than the drug volume")
            unverified.append("PREP-9")
            confirmations.append(("PREP-9", "pharmacist"))
            notes.append(
                (
                    "PREP-9",
                    f"Syringe route (UNVERIFIED): the bag would be {_plain(bag_c)} mg/mL, below "
                    f"{_plain(lo)} mg/mL. Pharmacist confirms or edits the final volume within "
                    f"{_range_text(rules.SYRINGE_RANGE_MG_PER_ML)}, records the set, priming with "
                    "0.9% Sodium Chloride (not drug) and the post-infusion flush at the same rate; "
                    "flush time is added after the 60-min drug time; foil-cover the barrel if not "
                    "used at once; double-checked.",
                )
            )
        diluent = final_volume - withdraw
        rate = (final_volume * _MINUTES_PER_HOUR / rules.INFUSION_MINUTES).quantize(
            rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP
        )

    if custom:
        confirmations.append(("CONV-MOD-5", "pharmacist"))
        notes.append(
            (
                "CONV-MOD-5",
                f"Custom level {_plain(level)} mg/m² (reduced split): prescriber's reason recorded; "
                "pharmacist verifies; cycle total and each day's level must not exceed the reduced "
                "limits (CONV-MOD-3).",
            )
        )
    if b.exact > rules.BSA_NOTE_ABOVE_M2:
        notes.append(
            (
                "CONV-BSA-4",
                f"BSA {b.shown} m² is above {_plain(rules.BSA_NOTE_ABOVE_M2)} m²: information only; "
                "no cap applied, actual body weight used (DOSE-5).",
            )
        )
    if b.weight_kg < rules.LOW_WEIGHT_CONFIRM_KG:
        confirmations.append(("CONV-BSA-5", "prescriber"))
        notes.append(
            (
                "CONV-BSA-5",
                f"Weight {_plain(b.weight_kg)} kg is under {_plain(rules.LOW_WEIGHT_CONFIRM_KG)} kg: "
                "BSA dosing needs prescriber confirmation (recorded) before use.",
            )
        )
    unverified.append("PREP-12")
    notes.append(
        (
            "PREP-12",
            "Cytotoxic, hazardous drug: follow special handling and disposal procedures "
            "(UNVERIFIED wording; always shown).",
        )
    )

    return Preparation(
        bsa=b,
        level_mg_m2=level,
        custom_level=custom,
        dose_exact=dose_exact,
        dose_mg=dose,
        vials=vials,
        reconstitution_ml_per_vial=rules.SWFI_PER_VIAL_ML,
        concentration_mg_per_ml=rules.RECONSTITUTED_MG_PER_ML,
        withdraw_ml=withdraw,
        withdraw_plan=plan,
        bag_concentration_mg_per_ml=bag_c,
        route=route,
        syringe_volume_proposed=proposed,
        final_volume_ml=final_volume,
        diluent_ml=diluent,
        final_concentration_mg_per_ml=final_c,
        rate_ml_per_h=rate,
        infusion_minutes=rules.INFUSION_MINUTES,
        waste_mg=waste_mg,
        waste_ml=waste_ml,
        notes=tuple(notes),
        unverified_rules=tuple(unverified),
        confirmations=tuple(confirmations),
    )


# --- Regimen level with a toxicity reduction (CONV-MOD-1, CONV-MOD-2) ---------------------------

REDUCTIONS = ("none", "25", "two-doses")


def regimen_level(cycle: int, day: int, in_cr_or_cri: bool | None, reduction: str = "none") -> Decimal:
    """The level for a cycle/day: Table 1 (DOSE-1), cut by 25% per dose (CONV-MOD-1, MOD-INT-3),
    or the reduced levels on two doses per cycle, Day 15 dropped (CONV-MOD-2, MOD-INT-4)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}")
    base = table1_level(cycle, day, in_cr_or_cri)
    if reduction == "none":
        return base
    if cycle < 2:
        raise ValueError("a reduction applies from cycle 2 on: it is made for the cycle after the interruption (MOD-INT-3, CONV-MOD-4)")
    if reduction == "two-doses" and day == 15:
        raise ValueError("with two doses per cycle only Days 1 and 8 are given (CONV-MOD-2)")
    return rules.REDUCED_LEVEL[base]


#: A reduction's UNVERIFIED Table 4 rows (MOD-INT-1 to 6: proposals a prescriber confirms) and the
#: conventions that split the cut over the doses.
REDUCTION_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "none": ((), ()),
    "25": (("MOD-INT-3",), ("CONV-MOD-1",)),
    "two-doses": (("MOD-INT-3", "MOD-INT-4"), ("CONV-MOD-1", "CONV-MOD-2")),
}


def with_reduction(prep: Preparation, reduction: str) -> Preparation:
    """Mark a preparation at a reduced level as resting on UNVERIFIED rules that a prescriber must
    confirm in the app (MOD-INT-3/4; split by CONV-MOD-1/2). "none" leaves it as it is."""
    from attrs import evolve

    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}")
    unverified, conventions = REDUCTION_RULES[reduction]
    if not unverified:
        return prep
    note = (unverified[-1], f"reduced level from Table 4 ({', '.join(unverified)}, UNVERIFIED; split by "
            f"{', '.join(conventions)}): a proposal until a prescriber confirms it in the app (timeline, d); "
            "a calculation alone never authorises it")
    return evolve(
        prep,
        notes=(*prep.notes, note),
        unverified_rules=tuple(dict.fromkeys((*prep.unverified_rules, *unverified))),
        confirmations=(*prep.confirmations, *((i, "prescriber") for i in unverified)),
    )


def to_json(prep: Preparation) -> str:
    """One JSON object; decimal quantities are JSON numbers written exactly as shown (no float)."""
    import json
    import re

    marker = "\u0000DEC:"
    numeric = {
        "height_cm", "weight_kg", "bsa_m2", "dose_mg_per_m2", "dose_mg", "reconstitution_ml_per_vial",
        "concentration_mg_per_ml", "withdraw_ml", "bag_concentration_mg_per_ml", "final_volume_ml", "diluent_ml",
        "final_concentration_mg_per_ml", "rate_ml_per_h", "waste_mg", "waste_ml",
    }
    data = prep.as_dict()
    for k in numeric & data.keys():
        if isinstance(data[k], str):
            data[k] = marker + data[k]
    data["withdraw_plan_ml"] = [marker + v for v in data.get("withdraw_plan_ml", [])]
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return re.sub(r'"\\u0000DEC:(-?[0-9.]+)"', r"\1", text)

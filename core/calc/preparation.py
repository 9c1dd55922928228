"""The preparation of one dose (PREP-1 to 12, ADM-1, CONV-CALC-3 to 6): vials, withdrawal, the
bag or syringe route, the rate, the waste and the trail. Pure, ``decimal`` only (CONV-CALC-1)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from attrs import frozen

from .. import rules
from .bsa import Bsa, _check_level, bsa, dose_mg
from .numbers import _EXPLAIN_QUANTUM, _MINUTES_PER_HOUR, _approx, _local, _plain, _positive, _q

ROUTE_BAG = "bag"  # PREP-7
ROUTE_SYRINGE = "syringe"  # PREP-9


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
        yield from self._trail_dose()
        yield from self._trail_vials()
        if self.route == ROUTE_BAG:
            yield from self._trail_bag()
        else:
            yield from self._trail_syringe()
        yield from self._trail_end()

    def _trail_dose(self) -> Iterator[str]:
        b = self.bsa
        yield (f"Inputs: height {_plain(b.height_cm)} cm, weight {_plain(b.weight_kg)} kg, BSA formula {b.label} (CONV-BSA-2)")
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

    def _trail_vials(self) -> Iterator[str]:
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

    def _trail_bag(self) -> Iterator[str]:
        lo, hi = rules.BAG_RANGE_MG_PER_ML
        bag_total = _plain(rules.BAG_TOTAL_ML)
        yield (f"Dilute: {self.withdraw_ml} mL drug + {self.diluent_ml} mL 0.9% Sodium Chloride = {bag_total} mL bag (PREP-7)")
        yield (
            f"Final concentration: {self.dose_mg} mg ÷ {bag_total} mL = {self.final_concentration_shown} mg/mL, within "
            f"{_plain(lo)}–{_plain(hi)} mg/mL (PREP-8, UNVERIFIED [SITE] range)"
        )

    def _trail_syringe(self) -> Iterator[str]:
        lo, _hi = rules.BAG_RANGE_MG_PER_ML
        slo, shi = rules.SYRINGE_RANGE_MG_PER_ML
        yield (
            f"Bag concentration: {self.dose_mg} mg ÷ {_plain(rules.BAG_TOTAL_ML)} mL = "
            f"{_plain(self.bag_concentration_mg_per_ml)} mg/mL, below "
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
            f"Final concentration: {self.dose_mg} mg ÷ {self.final_volume_ml} mL = {self.final_concentration_shown} mg/mL, "
            f"within {_plain(slo)}–{_plain(shi)} mg/mL (PREP-9, UNVERIFIED [SITE] range)"
        )

    def _trail_end(self) -> Iterator[str]:
        vial = _plain(rules.VIAL_DELIVERABLE_MG)
        extra = " + flush (PREP-9, recorded by the pharmacist)" if self.route == ROUTE_SYRINGE else ""
        yield (
            f"Rate: {self.final_volume_ml} mL over 1 h = {self.rate_ml_per_h} mL/h, "
            f"{self.infusion_minutes} min{extra} (ADM-1, ADM-8)"
        )
        yield (
            f"Waste: {self.vials} × {vial} mg − {self.dose_mg} mg = {self.waste_mg} mg ({self.waste_ml} mL) discarded (PREP-5)"
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


@frozen
class _Route:
    """The route's part of a preparation (PREP-7 to 9)."""

    route: str
    proposed: bool
    final_volume: Decimal
    final_c: Decimal
    unverified: tuple[str, ...] = ()
    confirmations: tuple[tuple[str, str], ...] = ()
    notes: tuple[tuple[str, str], ...] = ()


def _prepare(b: Bsa, level: Decimal, custom: bool, syringe_volume_ml: Decimal | None) -> Preparation:
    with _local():
        dose_exact = b.exact * level
        dose = dose_mg(b.exact, level)
        if dose <= 0:
            raise ValueError(f"dose rounds to {dose} mg (BSA {b.shown} m² × {_plain(level)} mg/m²): nothing to prepare")
        # PREP-8 (UNVERIFIED): bag concentration, exact, compared unrounded (CONV-CALC-6).
        bag_c = dose / rules.BAG_TOTAL_ML
        if bag_c > rules.BAG_RANGE_MG_PER_ML[1]:
            raise ValueError(
                f"bag refused: {dose} mg in {_plain(rules.BAG_TOTAL_ML)} mL = {_plain(bag_c)} mg/mL "
                f"is above the bag range {_range_text(rules.BAG_RANGE_MG_PER_ML)} (PREP-8)"
            )
        vials, withdraw, plan, waste_mg, waste_ml = _vials(dose)
        r = _route(dose, bag_c, withdraw, syringe_volume_ml)
        diluent = r.final_volume - withdraw
        rate = (r.final_volume * _MINUTES_PER_HOUR / rules.INFUSION_MINUTES).quantize(
            rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP
        )
    notes, unverified, confirmations = _notes(b, level, custom, r)
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
        route=r.route,
        syringe_volume_proposed=r.proposed,
        final_volume_ml=r.final_volume,
        diluent_ml=diluent,
        final_concentration_mg_per_ml=r.final_c,
        rate_ml_per_h=rate,
        infusion_minutes=rules.INFUSION_MINUTES,
        waste_mg=waste_mg,
        waste_ml=waste_ml,
        notes=notes,
        unverified_rules=unverified,
        confirmations=confirmations,
    )


def _vials(dose: Decimal) -> tuple[int, Decimal, tuple[Decimal, ...], Decimal, Decimal]:
    """Vials, the volume to withdraw, its plan per vial and the waste (PREP-4 to 6, CONV-CALC-4/5)."""
    # CONV-CALC-5 / PREP-5: ceil(dose ÷ 0.9), exact (the dose has 2 decimals).
    vials = int((dose / rules.VIAL_DELIVERABLE_MG).to_integral_value(rounding=ROUND_CEILING))
    # CONV-CALC-4 / PREP-4: from the 0.01-mg dose, never from the unrounded one.
    withdraw = (dose / rules.RECONSTITUTED_MG_PER_ML).quantize(rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP)
    full = rules.VIAL_DELIVERABLE_ML.quantize(rules.VOLUME_QUANTUM_ML)
    last = withdraw - full * (vials - 1)
    plan = (full,) * (vials - 1) + (last,)  # PREP-6
    if not (0 < last <= full) or sum(plan) != withdraw:  # pragma: no cover - invariant
        raise AssertionError("withdrawal plan does not add up")
    waste_mg = (vials * rules.VIAL_DELIVERABLE_MG - dose).quantize(rules.DOSE_QUANTUM_MG, rounding=ROUND_HALF_UP)
    waste_ml = (waste_mg / rules.RECONSTITUTED_MG_PER_ML).quantize(rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP)
    return vials, withdraw, plan, waste_mg, waste_ml


def _route(dose: Decimal, bag_c: Decimal, withdraw: Decimal, syringe_volume_ml: Decimal | None) -> _Route:
    """The bag when dose ÷ 50 mL is within the PREP-8 range; below it the syringe (PREP-9)."""
    if bag_c < rules.BAG_RANGE_MG_PER_ML[0]:
        return _syringe(dose, bag_c, withdraw, syringe_volume_ml)
    if syringe_volume_ml is not None:
        raise ValueError(
            f"a syringe volume was given, but {dose} mg fits the bag route "
            f"({_plain(bag_c)} mg/mL within {_range_text(rules.BAG_RANGE_MG_PER_ML)}, PREP-8)"
        )
    return _Route(ROUTE_BAG, False, rules.BAG_TOTAL_ML.quantize(rules.VOLUME_QUANTUM_ML), bag_c)


def _syringe_volume(dose: Decimal, syringe_volume_ml: Decimal | None) -> tuple[Decimal, bool]:
    """The syringe's final volume: the proposal dose ÷ 0.1 mg/mL, or the pharmacist's (to 0.01 mL)."""
    if syringe_volume_ml is None:
        proposal = (dose / rules.SYRINGE_PROPOSED_MG_PER_ML).quantize(rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP)
        return proposal, True
    final_volume = _positive("syringe_volume_ml", syringe_volume_ml)
    if final_volume != final_volume.quantize(rules.VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP):
        raise ValueError(f"syringe volume {_plain(final_volume)} mL: enter it to 0.01 mL (CONV-CALC-4)")
    return final_volume.quantize(rules.VOLUME_QUANTUM_ML), False


def _syringe(dose: Decimal, bag_c: Decimal, withdraw: Decimal, syringe_volume_ml: Decimal | None) -> _Route:
    slo, shi = rules.SYRINGE_RANGE_MG_PER_ML
    final_volume, proposed = _syringe_volume(dose, syringe_volume_ml)
    final_c = dose / final_volume
    if not (slo <= final_c <= shi):
        raise ValueError(
            f"syringe {dose} mg in {final_volume} mL = "
            f"{_q(final_c, rules.CONCENTRATION_QUANTUM)} mg/mL is outside the syringe range "
            f"{_range_text(rules.SYRINGE_RANGE_MG_PER_ML)} (PREP-9)"
        )
    if final_volume < withdraw:  # pragma: no cover - implied by the range
        raise ValueError("syringe volume is smaller than the drug volume")
    note = (
        "PREP-9",
        f"Syringe route (UNVERIFIED): the bag would be {_plain(bag_c)} mg/mL, below "
        f"{_plain(rules.BAG_RANGE_MG_PER_ML[0])} mg/mL. Pharmacist confirms or edits the final volume within "
        f"{_range_text(rules.SYRINGE_RANGE_MG_PER_ML)}, records the set, priming with "
        "0.9% Sodium Chloride (not drug) and the post-infusion flush at the same rate; "
        "flush time is added after the 60-min drug time; foil-cover the barrel if not "
        "used at once; double-checked.",
    )
    return _Route(ROUTE_SYRINGE, proposed, final_volume, final_c, ("PREP-9",), (("PREP-9", "pharmacist"),), (note,))


def _notes(
    b: Bsa, level: Decimal, custom: bool, r: _Route
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The notes, UNVERIFIED rules and confirmations: the route's, then CONV-MOD-5, CONV-BSA-4/5, PREP-12."""
    notes = list(r.notes)
    unverified = ["PREP-8", *r.unverified]
    confirmations = list(r.confirmations)
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
            "Cytotoxic, hazardous drug: follow special handling and disposal procedures (UNVERIFIED wording; always shown).",
        )
    )
    return tuple(notes), tuple(unverified), tuple(confirmations)

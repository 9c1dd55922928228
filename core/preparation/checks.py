"""The preparation's checks: each returns the one event a user's action records, or raises
ValueError saying what to do (the decisions in :mod:`.commands` wrap them as refusals).

``role`` is the actor's role as the users log knows it (the decision reads it there; nothing here
trusts a caller's word for it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from attrs import evolve

from .. import calc, rules
from ..clock import to_local
from ..events import iso_utc
from ..stability import check_dilution, deadlines
from ..text import unsafe_message
from .events import PrepCalculated, PrepOverride, PrepStep, PrepSyringe, PrepVerification
from .state import (
    OVERRIDABLE,
    STEP_LABELS,
    STEPS,
    VERIFIER_ROLES,
    VERIFY_FIELDS,
    VERIFY_LABELS,
    Calculation,
    PrepState,
    Step,
    syringe_volume_range,
)

PREPARER_ROLES = ("pharmacist", "nurse")  # who calculates and records the steps
VIALS_KEPT = ("refrigerated", "room_temperature")  # CONV-STAB-4


def _safe(label: str, text: str | None) -> None:
    """Refuse control characters and the like: never stored (core/text.py)."""
    refused = unsafe_message(label, text)
    if refused:
        raise ValueError(refused)


# -- the calculation ---------------------------------------------------------------------------


def calculation(
    dose: str,
    cycle: int,
    day: int,
    level: Decimal,
    level_basis: str,
    measurement: Mapping[str, Any],
    formula: str,
    syringe_volume_ml: Decimal | None = None,
) -> PrepCalculated:
    """The preparer's calculation from the current measurement (ValueError when refused)."""
    p = calc.prepare(
        Decimal(measurement["height_cm"]), Decimal(measurement["weight_kg"]), level, formula, syringe_volume_ml=syringe_volume_ml
    )
    return PrepCalculated(
        dose_id=dose,
        cycle=cycle,
        day=day,
        level_mg_m2=str(level),
        level_basis=level_basis,
        height_cm=measurement["height_cm"],
        weight_kg=measurement["weight_kg"],
        measured_on=measurement.get("measured_on"),
        formula=formula,
        bsa_m2=str(p.bsa.exact),
        dose_mg=str(p.dose_mg),
        withdraw_ml=str(p.withdraw_ml),
        vials=p.vials,
        route=p.route,
        final_volume_ml=str(p.final_volume_ml),
        syringe_volume_ml=None if syringe_volume_ml is None else str(syringe_volume_ml),
        unverified_rules=list(p.unverified_rules),
    )


def check_syringe_volume(st: PrepState, volume_text: str) -> Decimal:
    """The syringe's final volume as typed, within its range (PREP-9, UNVERIFIED); ValueError else."""
    rng = syringe_volume_range(st)
    if rng is None:
        raise ValueError("Final volume: only a dose calculated for the syringe route has one to set (PREP-9).")
    try:
        volume = Decimal((volume_text or "").strip())
    except (InvalidOperation, ValueError):
        volume = Decimal("NaN")
    lo, hi = rng
    if not volume.is_finite() or volume.as_tuple().exponent < -2 or not lo <= volume <= hi:  # type: ignore[operator]
        raise ValueError(
            f"Final volume (mL): from {lo} to {hi}, to 0.01 mL "
            f"({rules.SYRINGE_RANGE_MG_PER_ML[0]}–{rules.SYRINGE_RANGE_MG_PER_ML[1]} mg/mL, PREP-9, UNVERIFIED)."
        )
    return volume


def syringe_volume(st: PrepState, role: str | None, volume_text: str) -> PrepCalculated:
    """The pharmacist confirms or edits the syringe's final volume (PREP-9, UNVERIFIED): a new
    calculation with that volume, which voids any earlier double-check (it must cover the volume)."""
    c = st.calculation
    if c is None or c.data.get("route") != "syringe":
        raise ValueError("Final volume: only a dose calculated for the syringe route has one to set (PREP-9).")
    if role != "pharmacist":
        raise ValueError("Final volume: a pharmacist confirms or edits it (PREP-9).")
    if st.step_at("diluted") is not None:
        raise ValueError("Final volume: the syringe is already made up (diluted); discard and prepare again to change it.")
    volume = check_syringe_volume(st, volume_text)
    d = c.data
    measurement = {"height_cm": d["height_cm"], "weight_kg": d["weight_kg"], "measured_on": d.get("measured_on")}
    return calculation(
        st.dose_id,
        int(d["cycle"]),
        int(d["day"]),
        Decimal(d["level_mg_m2"]),
        d["level_basis"],
        measurement,
        d["formula"],
        syringe_volume_ml=volume,
    )


# -- the steps ---------------------------------------------------------------------------------


def step(
    st: PrepState,
    role: str | None,
    actor: str,
    now: datetime,
    name: str,
    at: datetime,
    vials_kept: str | None = None,
    reason: str | None = None,
) -> PrepStep:
    """Decide whether a step may be recorded; raise ValueError saying what to do when not."""
    if name not in STEPS:
        raise ValueError(f"unknown step {name}")
    if at > now:
        raise ValueError("Time: a step cannot be recorded in the future.")
    if st.steps and at < st.steps[-1].at:
        raise ValueError(f"Time: before the previous step ({STEP_LABELS[st.steps[-1].step]}).")
    if name == "reconstituted":
        _check_reconstitution(st)
    elif name == "discarded":
        _check_discard(st, reason)
    else:
        _check_order(st, role, name, at, vials_kept, reason)
        _check_stability(st, actor, now, name, at, vials_kept, reason)
    _safe("Reason", reason)
    return PrepStep(st.dose_id, name, iso_utc(at), vials_kept, reason)


def _check_reconstitution(st: PrepState) -> None:
    if st.step_at("reconstituted") is not None:
        raise ValueError("Already reconstituted: discard first to start a new preparation.")
    if st.calculation is None:
        raise ValueError("Calculate the dose first (c).")


def _check_discard(st: PrepState, reason: str | None) -> None:
    if not st.steps:
        raise ValueError("Nothing prepared to discard.")
    if not (reason or "").strip():
        raise ValueError("Reason: required to discard.")


def _check_order(st: PrepState, role: str | None, name: str, at: datetime, vials_kept: str | None, reason: str | None) -> None:
    """Dilution after reconstitution (STAB-1, CONV-STAB-4); the refrigerator after dilution."""
    done = {s.step for s in st.steps}
    if "reconstituted" not in done:
        raise ValueError("Record the reconstitution first.")
    if name == "diluted":
        if "diluted" in done:
            raise ValueError("Already diluted.")
        recon = st.step_at("reconstituted")
        assert recon is not None
        problem = check_dilution(recon, at)
        if problem:
            raise ValueError(problem)  # STAB-1: discard and prepare again
        if vials_kept not in VIALS_KEPT:
            raise ValueError("Vials: say how the reconstituted vials were kept until dilution (CONV-STAB-4).")
        if vials_kept == "room_temperature" and (role != "pharmacist" or not (reason or "").strip()):
            raise ValueError("Vials at room temperature: a pharmacist must confirm with a reason (CONV-STAB-4).")
        return
    if "diluted" not in done:
        raise ValueError("Record the dilution first.")
    if name == "bag_refrigerated" and st.in_refrigerator():
        raise ValueError("The bag is already in the refrigerator.")
    if name == "bag_removed" and not st.in_refrigerator():
        raise ValueError("The bag is not in the refrigerator.")


def _check_stability(
    st: PrepState, actor: str, now: datetime, name: str, at: datetime, vials_kept: str | None, reason: str | None
) -> None:
    """Refuse a step that breaks a stability limit (CONV-STAB-3)."""
    trial = evolve(st, steps=(*st.steps, Step(name, at, actor, vials_kept, reason)))
    times = trial.times()
    if times is None:
        return
    dl = deadlines(times, now=max(now, at))
    if dl.problems:
        rule, text = dl.problems[0]
        raise ValueError(f"{text} [{rule}]")
    if at > dl.end_deadline:
        raise ValueError(
            f"Past the stability deadline {to_local(dl.end_deadline):%H:%M %Z} ({dl.binding.rule_id}): "
            "discard and prepare again (CONV-STAB-3)."
        )


# -- a pharmacist's override (§16.1) -------------------------------------------------------------


def override(st: PrepState, role: str | None, now: datetime, rule: str, reason: str) -> PrepOverride:
    """A pharmacist's override of an overridable stability rule for the current preparation."""
    if rule not in OVERRIDABLE:
        raise ValueError(f"{rule} cannot be overridden here (only {', '.join(OVERRIDABLE)}).")
    if role != "pharmacist":
        raise ValueError(f"Only a pharmacist may override {rule} ({OVERRIDABLE[rule]}).")
    if not (reason or "").strip():
        raise ValueError("Reason: required for an override.")
    _safe("Reason", reason)
    refused = override_refusal(st)
    if refused:
        raise ValueError(refused)
    recon = st.step_at("reconstituted")
    assert recon is not None
    if st.override(rule) is not None:
        raise ValueError(f"{rule} is already overridden for this preparation.")
    removed = _equilibrating_since(st, now) if rule == "STAB-5" else None
    return PrepOverride(
        st.dose_id,
        rule,
        reason.strip(),
        iso_utc(recon),
        rule if rule == "STAB-4" else None,
        None if removed is None else iso_utc(removed),
    )


def override_refusal(st: PrepState) -> str | None:
    """Why no override can be recorded for this dose now (before the form asks for one)."""
    if st.step_at("reconstituted") is None:
        return "Nothing prepared: an override applies to a reconstituted preparation."
    return None


def _equilibrating_since(st: PrepState, now: datetime) -> datetime:
    """STAB-5: the bag's removal from the refrigerator whose hour of equilibration is not over."""
    if st.in_refrigerator():
        raise ValueError("STAB-5: the bag is still in the refrigerator: take it out first (o).")
    dl = st.deadlines(now)
    removed = st.last_removed()
    if dl is None or removed is None or dl.earliest_start is None or now >= dl.earliest_start:
        raise ValueError("STAB-5: the bag is not equilibrating after refrigeration: nothing to confirm.")
    return removed


# -- the syringe route (PREP-9) ----------------------------------------------------------------


def syringe(st: PrepState, role: str | None, set_text: str, primed: bool, flush_ml_text: str) -> PrepSyringe:
    """PREP-9 (UNVERIFIED, CONV-SYR-1): the pharmacist records the set, the priming and the flush.

    The flush runs at the infusion rate; its minutes are rounded up (the longer time is the safer
    one for the deadlines: CONV-STAB-1 subtracts it from the latest start)."""
    c = st.calculation
    if c is None or c.data.get("route") != "syringe":
        raise ValueError("Syringe details apply only to a dose calculated for the syringe route (PREP-9).")
    if role != "pharmacist":
        raise ValueError("Syringe route: a pharmacist records the set, priming and flush (PREP-9, §16.1).")
    _safe("Set", set_text)
    set_text = "".join(ch for ch in set_text if ch == " " or ch.isprintable()).strip()
    if not set_text:
        raise ValueError("Set: name the administration set used.")
    if not primed:
        raise ValueError("Priming: the line must be primed with 0.9% Sodium Chloride, not drug (PREP-9).")
    flush = _flush_ml(flush_ml_text)
    minutes = (flush * 60 / c.prep.rate_ml_per_h).to_integral_value(rounding=ROUND_CEILING)  # whole minutes, rounded up
    return PrepSyringe(st.dose_id, c.version, set_text, True, format(flush, "f"), int(minutes), "PREP-9")


def _flush_ml(text: str) -> Decimal:
    try:
        flush = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        flush = Decimal("NaN")
    lo, hi, *_r, unit = rules.INPUT_LIMITS["flush_ml"]  # CONV-INPUT-1: software limits only
    if not flush.is_finite() or not lo <= flush <= hi:
        raise ValueError(f"Flush (mL): a volume from {lo} to {hi} {unit}.")
    return flush


# -- the blind double-check (CONV-VERIFY-1) --------------------------------------------------------


def parse_verification(raw: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The verifier's typed numbers → (values, errors by field)."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for f in VERIFY_FIELDS:
        text = (raw.get(f) or "").strip()
        try:
            v = Decimal(text)
            if not v.is_finite() or v <= 0 or v > 1000:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[f] = f"{VERIFY_LABELS[f]}: enter a positive number, e.g. 1.82."
            continue
        values[f] = text
    return values, errors


def second_person(c: Calculation | None, verifier: str) -> str | None:
    """Why ``verifier`` may not double-check calculation ``c`` (CONV-VERIFY-1: a second person)."""
    if c is None:
        return "Nothing calculated to verify."
    if verifier == c.actor:
        return "The double-check must be done by a second person, not the preparer."
    return None


def verification(
    st: PrepState, verifier: str, role: str | None, entered: Mapping[str, str], tolerance: Decimal = Decimal("0")
) -> PrepVerification:
    """Compare the blind re-derivation with the calculation at display precision (CONV-VERIFY-1)."""
    refused = second_person(st.calculation, verifier)
    if refused:
        raise ValueError(refused)
    c = st.calculation
    assert c is not None
    if role not in VERIFIER_ROLES:
        raise ValueError(f"Double-check: a {' or '.join(VERIFIER_ROLES)} must verify.")
    if tolerance > Decimal("0.01"):
        raise ValueError("Tolerance: at most 0.01 in the last digit (CONV-VERIFY-1).")
    expected = c.expected()
    mismatches = []
    for f in VERIFY_FIELDS:
        if f == "level_mg_m2":
            ok = Decimal(entered[f]) == Decimal(expected[f])  # level exact
        else:
            ok = abs(Decimal(entered[f]) - Decimal(expected[f])) <= tolerance
        if not ok:
            mismatches.append(f)
    return PrepVerification(st.dose_id, c.version, dict(entered), expected, not mismatches, mismatches)

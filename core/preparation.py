"""Dose preparation as events: the calculation, the recorded steps, the blind double-check.

Event kinds (patient stream; every ``data`` has ``dose_id`` such as ``"c1d8"``):

- ``prep.calculated`` {dose_id, cycle, day, level_mg_m2, level_basis, height_cm, weight_kg,
  measured_on, formula, bsa_m2, dose_mg, withdraw_ml, vials, route, final_volume_ml,
  syringe_volume_ml|None}: the preparer's calculation from the source inputs (a recalculation
  is a new event and voids any verification of the earlier one).
- ``prep.step`` {dose_id, step, at (ISO UTC), vials_kept|None, reason|None}: a recorded step,
  ``step`` in :data:`STEPS`. ``vials_kept`` ("refrigerated" / "room_temperature") is asked at
  dilution (CONV-STAB-4); room temperature needs a pharmacist's reason.
- ``prep.verification`` {dose_id, calc_version, entered {bsa_m2, level_mg_m2, dose_mg,
  withdraw_ml}, expected {…}, matched, mismatches}: the second person's blind re-derivation
  (CONV-VERIFY-1) compared at display precision.
- ``prep.syringe`` {dose_id, calc_version, set, primed_with_nacl, flush_ml, flush_min,
  unverified_rule: "PREP-9"}: the pharmacist's record for the syringe route (PREP-9, CONV-SYR-1):
  the administration set, priming with 0.9% NaCl (not drug) and the post-infusion flush at the
  same rate. The [SITE] flush volume has no default, so it is entered per dose; the flush time
  (rounded up to whole minutes) is added after the 60-minute drug time and to the deadlines.

- ``prep.override`` {dose_id, rule, reason, reconstituted_at, unverified_rule|None}: a pharmacist's
  recorded override for the current preparation (the one reconstituted at ``reconstituted_at``):
  ``STAB-4`` (UNVERIFIED: its room-temperature and refrigerator limits are lifted; the verified
  STAB-1/2 limits stay) or ``STAB-5`` (start before the hour of equilibration is over).

The preparation state is a fold over these; deadlines come from :mod:`bedside.core.stability`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from attrs import evolve, frozen

from . import calc, rules
from .clock import to_local
from .events import Event, NewEvent, iso_utc, parse_utc
from .text import unsafe_message
from .stability import Deadlines, PrepTimes, cannot_give, check_dilution, deadlines

CALCULATED = "prep.calculated"
STEP = "prep.step"
VERIFICATION = "prep.verification"
SYRINGE = "prep.syringe"
OVERRIDE = "prep.override"
KINDS = (CALCULATED, STEP, VERIFICATION, SYRINGE, OVERRIDE)
OVERRIDABLE = {  # rule → why a pharmacist may override it (clinical-reference.md §9)
    "STAB-4": "UNVERIFIED diluted-solution limits: a pharmacist may override with a recorded reason",
    "STAB-5": "starting before the hour of equilibration is over needs a pharmacist's confirmation",
}
STEPS = ("reconstituted", "diluted", "bag_refrigerated", "bag_removed", "discarded")
STEP_LABELS = {
    "reconstituted": "Reconstituted",
    "diluted": "Diluted",
    "bag_refrigerated": "Bag into refrigerator",
    "bag_removed": "Bag out to equilibrate",
    "discarded": "Discarded",
}
VERIFIER_ROLES = ("pharmacist", "nurse")  # [SITE] who may double-check (issue: pharmacist or nurse)
VERIFY_FIELDS = ("bsa_m2", "level_mg_m2", "dose_mg", "withdraw_ml")
VERIFY_LABELS = {"bsa_m2": "BSA (m²)", "level_mg_m2": "Level (mg/m²)", "dose_mg": "Dose (mg)", "withdraw_ml": "Withdraw (mL)"}


def dose_id(cycle: int, day: int) -> str:
    return f"c{cycle}d{day}"


@frozen
class Calculation:
    version: int
    actor: str
    at: datetime
    data: dict[str, Any]

    @property
    def prep(self) -> calc.Preparation:
        d = self.data
        syringe = Decimal(d["syringe_volume_ml"]) if d.get("syringe_volume_ml") else None
        return calc.prepare(Decimal(d["height_cm"]), Decimal(d["weight_kg"]), Decimal(d["level_mg_m2"]), d["formula"],
                            syringe_volume_ml=syringe, custom_level_ok=d.get("custom_level", False))

    def expected(self) -> dict[str, str]:
        """What the verifier must reproduce, at display precision (CONV-VERIFY-1)."""
        p = self.prep
        return {"bsa_m2": str(p.bsa.shown), "level_mg_m2": str(p.level_mg_m2), "dose_mg": str(p.dose_mg), "withdraw_ml": str(p.withdraw_ml)}


@frozen
class Step:
    step: str
    at: datetime
    actor: str
    vials_kept: str | None = None
    reason: str | None = None


@frozen
class Verification:
    version: int
    actor: str
    at: datetime
    calc_version: int
    matched: bool
    entered: dict[str, str]
    expected: dict[str, str]
    mismatches: tuple[str, ...]


@frozen
class PrepState:
    dose_id: str
    calculation: Calculation | None = None
    steps: tuple[Step, ...] = ()  # of the current (not discarded) preparation
    discarded: tuple[tuple[Step, ...], ...] = ()
    verifications: tuple[Verification, ...] = ()
    syringe_records: tuple[dict[str, Any], ...] = ()
    overrides: tuple[dict[str, Any], ...] = ()

    def override(self, rule: str) -> dict[str, Any] | None:
        """The pharmacist's override of ``rule`` for the current preparation, if any."""
        recon = self.step_at("reconstituted")
        if recon is None:
            return None
        mine = [o for o in self.overrides if o.get("rule") == rule and o.get("reconstituted_at") == iso_utc(recon)]
        if rule == "STAB-5":  # one confirmation covers one equilibration: the bag's latest removal
            removed = self.last_removed()
            mine = [o for o in mine if removed is not None and o.get("bag_removed_at") == iso_utc(removed)]
        return mine[-1] if mine else None

    def last_removed(self) -> datetime | None:
        return next((s.at for s in reversed(self.steps) if s.step == "bag_removed"), None)

    @property
    def syringe(self) -> dict[str, Any] | None:
        """The pharmacist's PREP-9 record for the current calculation, if any."""
        if self.calculation is None:
            return None
        mine = [r for r in self.syringe_records if r.get("calc_version") == self.calculation.version]
        return mine[-1] if mine else None

    @property
    def flush_min(self) -> int:
        rec = self.syringe
        return int(rec["flush_min"]) if rec else 0

    def step_at(self, name: str) -> datetime | None:
        return next((s.at for s in self.steps if s.step == name), None)

    @property
    def last_verification(self) -> Verification | None:
        if self.calculation is None:
            return None
        mine = [v for v in self.verifications if v.calc_version == self.calculation.version]
        return mine[-1] if mine else None

    @property
    def verified(self) -> bool:
        v = self.last_verification
        return v is not None and v.matched

    @property
    def mismatch(self) -> bool:
        v = self.last_verification
        return v is not None and not v.matched

    def times(self) -> PrepTimes | None:
        recon = self.step_at("reconstituted")
        if recon is None:
            return None
        fridge: list[tuple[datetime, datetime | None]] = []
        for s in self.steps:
            if s.step == "bag_refrigerated":
                fridge.append((s.at, None))
            elif s.step == "bag_removed" and fridge and fridge[-1][1] is None:
                fridge[-1] = (fridge[-1][0], s.at)
        flush = self.flush_min
        return PrepTimes(reconstituted_at=recon, diluted_at=self.step_at("diluted"), refrigerated=tuple(fridge), flush_min=flush,
                         stab4_overridden=self.override("STAB-4") is not None)

    def deadlines(self, now: datetime) -> Deadlines | None:
        t = self.times()
        return None if t is None else deadlines(t, now=now)

    def cannot_give(self, now: datetime) -> tuple[tuple[str, str], ...]:
        """Why this bag cannot be given as planned (stability.cannot_give), known as soon as the
        dilution is recorded: (rule IDs, text with the numbers and what to do). Empty: it can."""
        if self.step_at("diluted") is None:
            return ()
        dl = self.deadlines(now)
        if dl is None:
            return ()
        return cannot_give(dl, now, in_refrigerator=self.in_refrigerator(),
                           early_start_confirmed=self.override("STAB-5") is not None)

    def in_refrigerator(self) -> bool:
        state = False
        for s in self.steps:
            if s.step == "bag_refrigerated":
                state = True
            elif s.step == "bag_removed":
                state = False
        return state


def fold(events: Iterable[Event], dose: str) -> PrepState:
    st = PrepState(dose)
    for ev in events:
        if ev.kind not in KINDS or ev.data.get("dose_id") != dose:
            continue
        d = ev.data
        if ev.kind == CALCULATED:
            st = evolve(st, calculation=Calculation(ev.version, ev.actor, ev.at, dict(d)))
        elif ev.kind == STEP:
            s = Step(d["step"], parse_utc(d["at"]), ev.actor, d.get("vials_kept"), d.get("reason"))
            if s.step == "discarded":
                st = evolve(st, discarded=st.discarded + (st.steps + (s,),), steps=())
            else:
                st = evolve(st, steps=st.steps + (s,))
        elif ev.kind == SYRINGE:
            st = evolve(st, syringe_records=st.syringe_records + ({**d, "actor": ev.actor},))
        elif ev.kind == OVERRIDE:
            st = evolve(st, overrides=st.overrides + ({**d, "actor": ev.actor, "recorded_at": ev.at},))
        elif ev.kind == VERIFICATION:
            st = evolve(st, verifications=st.verifications + (
                Verification(ev.version, ev.actor, ev.at, d["calc_version"], d["matched"], dict(d["entered"]), dict(d["expected"]), tuple(d["mismatches"])),))
    return st


# --- decisions ---------------------------------------------------------------------------------


def calculation_event(stream: str, actor: str, at: datetime, dose: str, cycle: int, day: int, level: Decimal, level_basis: str,
                      measurement: Mapping[str, Any], formula: str, syringe_volume_ml: Decimal | None = None) -> NewEvent:
    """The preparer's calculation from the current measurement (raises ValueError when refused)."""
    p = calc.prepare(Decimal(measurement["height_cm"]), Decimal(measurement["weight_kg"]), level, formula, syringe_volume_ml=syringe_volume_ml)
    return NewEvent(stream, CALCULATED, actor, at, {
        "dose_id": dose, "cycle": cycle, "day": day, "level_mg_m2": str(level), "level_basis": level_basis,
        "height_cm": measurement["height_cm"], "weight_kg": measurement["weight_kg"], "measured_on": measurement.get("measured_on"),
        "formula": formula, "bsa_m2": str(p.bsa.exact), "dose_mg": str(p.dose_mg), "withdraw_ml": str(p.withdraw_ml),
        "vials": p.vials, "route": p.route, "final_volume_ml": str(p.final_volume_ml),
        "syringe_volume_ml": None if syringe_volume_ml is None else str(syringe_volume_ml),
        "unverified_rules": list(p.unverified_rules),
    })


def syringe_volume_range(st: PrepState) -> tuple[Decimal, Decimal] | None:
    """The final volumes (mL, to 0.01) that keep the syringe within its [SITE] range (PREP-9)."""
    c = st.calculation
    if c is None or c.data.get("route") != "syringe":
        return None
    lo_c, hi_c = rules.SYRINGE_RANGE_MG_PER_ML
    dose = Decimal(c.data["dose_mg"])
    q = Decimal("0.01")
    return (dose / hi_c).quantize(q, rounding=ROUND_CEILING), (dose / lo_c).quantize(q, rounding=ROUND_FLOOR)


def syringe_volume_event(st: PrepState, stream: str, actor: str, actor_role: str, at: datetime, volume_text: str) -> NewEvent:
    """The pharmacist confirms or edits the syringe's final volume (PREP-9, UNVERIFIED): a new
    calculation with that volume, which voids any earlier double-check (it must cover the volume)."""
    c = st.calculation
    if c is None or c.data.get("route") != "syringe":
        raise ValueError("Final volume: only a dose calculated for the syringe route has one to set (PREP-9).")
    if actor_role != "pharmacist":
        raise ValueError("Final volume: a pharmacist confirms or edits it (PREP-9).")
    if st.step_at("diluted") is not None:
        raise ValueError("Final volume: the syringe is already made up (diluted); discard and prepare again to change it.")
    try:
        volume = Decimal((volume_text or "").strip())
    except (InvalidOperation, ValueError):
        volume = Decimal("NaN")
    lo, hi = syringe_volume_range(st)  # type: ignore[misc]
    if not volume.is_finite() or volume.as_tuple().exponent < -2 or not lo <= volume <= hi:  # type: ignore[operator]
        raise ValueError(f"Final volume (mL): from {lo} to {hi}, to 0.01 mL "
                         f"({rules.SYRINGE_RANGE_MG_PER_ML[0]}–{rules.SYRINGE_RANGE_MG_PER_ML[1]} mg/mL, PREP-9, UNVERIFIED).")
    d = c.data
    measurement = {"height_cm": d["height_cm"], "weight_kg": d["weight_kg"], "measured_on": d.get("measured_on")}
    return calculation_event(stream, actor, at, st.dose_id, int(d["cycle"]), int(d["day"]), Decimal(d["level_mg_m2"]), d["level_basis"],
                             measurement, d["formula"], syringe_volume_ml=volume)


def stale_reasons(st: PrepState, measurement: Mapping[str, Any] | None, formula: str, level: Decimal | None) -> list[str]:
    """Why the calculation no longer matches its source inputs (CONV-VERIFY-1: any change voids)."""
    c = st.calculation
    if c is None:
        return []
    out = []
    if measurement is not None:
        if Decimal(measurement["height_cm"]) != Decimal(c.data["height_cm"]):
            out.append(f"height changed ({c.data['height_cm']} → {measurement['height_cm']} cm)")
        if Decimal(measurement["weight_kg"]) != Decimal(c.data["weight_kg"]):
            out.append(f"weight changed ({c.data['weight_kg']} → {measurement['weight_kg']} kg)")
    if formula != c.data["formula"]:
        out.append(f"BSA formula changed ({c.data['formula']} → {formula})")
    if level is not None and Decimal(level) != Decimal(c.data["level_mg_m2"]):
        out.append(f"level changed ({c.data['level_mg_m2']} → {level} mg/m²)")
    return out


_ORDER = {"reconstituted": 0, "diluted": 1, "bag_refrigerated": 2, "bag_removed": 2, "discarded": 9}


def step_event(st: PrepState, stream: str, actor: str, actor_role: str, now: datetime, step: str, at: datetime,
               vials_kept: str | None = None, reason: str | None = None) -> NewEvent:
    """Decide whether a step may be recorded; raise ValueError saying what to do when not."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step}")
    if at > now:
        raise ValueError("Time: a step cannot be recorded in the future.")
    if st.steps and at < st.steps[-1].at:
        raise ValueError(f"Time: before the previous step ({STEP_LABELS[st.steps[-1].step]}).")
    done = {s.step for s in st.steps}
    if step == "reconstituted":
        if "reconstituted" in done:
            raise ValueError("Already reconstituted: discard first to start a new preparation.")
        if st.calculation is None:
            raise ValueError("Calculate the dose first (c).")
    elif step == "discarded":
        if not st.steps:
            raise ValueError("Nothing prepared to discard.")
        if not (reason or "").strip():
            raise ValueError("Reason: required to discard.")
    else:
        if "reconstituted" not in done:
            raise ValueError("Record the reconstitution first.")
        if step == "diluted":
            if "diluted" in done:
                raise ValueError("Already diluted.")
            recon = st.step_at("reconstituted")
            assert recon is not None
            problem = check_dilution(recon, at)
            if problem:
                raise ValueError(problem)  # STAB-1: discard and prepare again
            if vials_kept not in ("refrigerated", "room_temperature"):
                raise ValueError("Vials: say how the reconstituted vials were kept until dilution (CONV-STAB-4).")
            if vials_kept == "room_temperature":
                if actor_role != "pharmacist" or not (reason or "").strip():
                    raise ValueError("Vials at room temperature: a pharmacist must confirm with a reason (CONV-STAB-4).")
        else:
            if "diluted" not in done:
                raise ValueError("Record the dilution first.")
            if step == "bag_refrigerated" and st.in_refrigerator():
                raise ValueError("The bag is already in the refrigerator.")
            if step == "bag_removed" and not st.in_refrigerator():
                raise ValueError("The bag is not in the refrigerator.")
        # Refuse a step that breaks a stability limit (CONV-STAB-3).
        trial = evolve(st, steps=st.steps + (Step(step, at, actor, vials_kept, reason),))
        times = trial.times()
        if times is not None:
            dl = deadlines(times, now=max(now, at))
            if dl.problems:
                rule, text = dl.problems[0]
                raise ValueError(f"{text} [{rule}]")
            if at > dl.end_deadline:
                raise ValueError(f"Past the stability deadline {to_local(dl.end_deadline):%H:%M %Z} ({dl.binding.rule_id}): discard and prepare again (CONV-STAB-3).")
    if unsafe_message("Reason", reason):  # refused, never stored (core/text.py)
        raise ValueError(unsafe_message("Reason", reason))
    return NewEvent(stream, STEP, actor, now, {"dose_id": st.dose_id, "step": step, "at": iso_utc(at), "vials_kept": vials_kept, "reason": reason})


def override_event(st: PrepState, stream: str, actor: str, actor_role: str, now: datetime, rule: str, reason: str) -> NewEvent:
    """A pharmacist's override of an overridable stability rule for the current preparation."""
    if rule not in OVERRIDABLE:
        raise ValueError(f"{rule} cannot be overridden here (only {', '.join(OVERRIDABLE)}).")
    if actor_role != "pharmacist":
        raise ValueError(f"Only a pharmacist may override {rule} ({OVERRIDABLE[rule]}).")
    if not (reason or "").strip():
        raise ValueError("Reason: required for an override.")
    if unsafe_message("Reason", reason):
        raise ValueError(unsafe_message("Reason", reason))
    recon = st.step_at("reconstituted")
    if recon is None:
        raise ValueError("Nothing prepared: an override applies to a reconstituted preparation.")
    if st.override(rule) is not None:
        raise ValueError(f"{rule} is already overridden for this preparation.")
    data = {"dose_id": st.dose_id, "rule": rule, "reason": reason.strip(), "reconstituted_at": iso_utc(recon),
            "unverified_rule": rule if rule == "STAB-4" else None}
    if rule == "STAB-5":
        if st.in_refrigerator():
            raise ValueError("STAB-5: the bag is still in the refrigerator: take it out first (o).")
        dl = st.deadlines(now)
        removed = st.last_removed()
        if dl is None or removed is None or dl.earliest_start is None or now >= dl.earliest_start:
            raise ValueError("STAB-5: the bag is not equilibrating after refrigeration: nothing to confirm.")
        data["bag_removed_at"] = iso_utc(removed)
    return NewEvent(stream, OVERRIDE, actor, now, data)


def syringe_event(st: PrepState, stream: str, actor: str, actor_role: str, at: datetime, set_text: str,
                  primed: bool, flush_ml_text: str) -> NewEvent:
    """PREP-9 (UNVERIFIED, CONV-SYR-1): the pharmacist records the set, the priming and the flush.

    The flush runs at the infusion rate; its minutes are rounded up (the longer time is the safer
    one for the deadlines: CONV-STAB-1 subtracts it from the latest start)."""
    c = st.calculation
    if c is None or c.data.get("route") != "syringe":
        raise ValueError("Syringe details apply only to a dose calculated for the syringe route (PREP-9).")
    if actor_role != "pharmacist":
        raise ValueError("Syringe route: a pharmacist records the set, priming and flush (PREP-9, §16.1).")
    if unsafe_message("Set", set_text):
        raise ValueError(unsafe_message("Set", set_text))
    set_text = "".join(ch for ch in set_text if ch == " " or ch.isprintable()).strip()
    if not set_text:
        raise ValueError("Set: name the administration set used.")
    if not primed:
        raise ValueError("Priming: the line must be primed with 0.9% Sodium Chloride, not drug (PREP-9).")
    try:
        flush = Decimal(flush_ml_text.strip())
    except (InvalidOperation, ValueError):
        flush = Decimal("NaN")
    lo, hi, *_r, unit = rules.INPUT_LIMITS["flush_ml"]  # CONV-INPUT-1: software limits only
    if not flush.is_finite() or not lo <= flush <= hi:
        raise ValueError(f"Flush (mL): a volume from {lo} to {hi} {unit}.")
    rate = c.prep.rate_ml_per_h
    minutes = (flush * 60 / rate).to_integral_value(rounding=ROUND_CEILING)  # whole minutes, rounded up
    return NewEvent(stream, SYRINGE, actor, at, {
        "dose_id": st.dose_id, "calc_version": c.version, "set": set_text, "primed_with_nacl": True,
        "flush_ml": format(flush, "f"), "flush_min": int(minutes), "unverified_rule": "PREP-9",
    })


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


def verification_event(st: PrepState, stream: str, verifier: str, verifier_role: str, at: datetime, entered: Mapping[str, str],
                       tolerance: Decimal = Decimal("0")) -> NewEvent:
    """Compare the blind re-derivation with the calculation at display precision (CONV-VERIFY-1)."""
    c = st.calculation
    if c is None:
        raise ValueError("Nothing calculated to verify.")
    if verifier == c.actor:
        raise ValueError("The double-check must be done by a second person, not the preparer.")
    if verifier_role not in VERIFIER_ROLES:
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
    return NewEvent(stream, VERIFICATION, verifier, at, {
        "dose_id": st.dose_id, "calc_version": c.version, "entered": dict(entered), "expected": expected,
        "matched": not mismatches, "mismatches": mismatches,
    })


def status_words(st: PrepState) -> str:
    if st.calculation is None:
        return "not calculated"
    if st.verified:
        v = st.last_verification
        return f"✓ VERIFIED by {v.actor} (prepared by {st.calculation.actor})"
    if st.mismatch:
        return "✗ MISMATCH: resolve before giving (recalculate or re-check)"
    return "✗ NOT VERIFIED: a second person must double-check"



"""The preparation of one dose as a fold: the calculation, the steps, the double-check.

:func:`fold` reads the events of :mod:`bedside.core.preparation.events`; deadlines come from
:mod:`bedside.core.stability`. Pure: no clock but the ``now`` passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from attrs import evolve, frozen

from .. import calc, rules
from ..events import Event, iso_utc, parse_utc
from ..stability import Deadlines, PrepTimes, cannot_give, deadlines
from .events import KINDS, CartonScanned, PrepCalculated, PrepOverride, PrepStep, PrepSyringe, PrepVerification

OVERRIDABLE = {  # rule → why a pharmacist may override it (clinical-reference.md §9)
    "STAB-4": "UNVERIFIED diluted-solution limits: a pharmacist may override with a recorded reason",
    "STAB-5": "starting before the hour of equilibration is over needs a pharmacist's confirmation",
}
OVERRIDE_NOTE = (  # what the override form says stays (STAB-1, STAB-2 are label limits)
    "STAB-4 lifts the UNVERIFIED room-temperature and refrigerator limits for this preparation; the label's "
    f"{rules.RECON_TO_DILUTION_MAX_MIN // 60} h to dilution and {rules.RECON_TO_END_MAX_MIN // 60} h to the end "
    "(STAB-1, STAB-2) always stay."
)
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


_DOSE_ID = re.compile(r"c(\d+)d(\d+)")


def dose_label(dose_id: str) -> str:
    """A dose as users read it: ``"c1d8"`` (the stored id) is shown as ``"C1 D8"``; any other id as it is."""
    m = _DOSE_ID.fullmatch(dose_id or "")
    return f"C{int(m[1])} D{int(m[2])}" if m else str(dose_id)


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
        return calc.prepare(
            Decimal(d["height_cm"]),
            Decimal(d["weight_kg"]),
            Decimal(d["level_mg_m2"]),
            d["formula"],
            syringe_volume_ml=syringe,
            custom_level_ok=d.get("custom_level", False),
        )

    def expected(self) -> dict[str, str]:
        """What the verifier must reproduce, at display precision (CONV-VERIFY-1)."""
        p = self.prep
        return {
            "bsa_m2": str(p.bsa.shown),
            "level_mg_m2": str(p.level_mg_m2),
            "dose_mg": str(p.dose_mg),
            "withdraw_ml": str(p.withdraw_ml),
        }


@frozen
class Step:
    step: str
    at: datetime
    actor: str
    vials_kept: str | None = None
    reason: str | None = None
    calc_version: int | None = None  # the calculation this step was done for (the bag label, baglabel.py)


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
    cartons: tuple[CartonScanned, ...] = ()  # scanned for the current (not discarded) preparation

    @property
    def lots(self) -> str:
        """The cartons' lots and expiry dates, as the record prints them ("" when none was scanned)."""
        seen: dict[tuple[str, str], int] = {}
        for c in self.cartons:
            seen[(c.lot, c.expiry)] = seen.get((c.lot, c.expiry), 0) + 1
        return "; ".join(f"lot {lot} exp {exp}" + (f" ×{n}" if n > 1 else "") for (lot, exp), n in seen.items())

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

    def step(self, name: str) -> Step | None:
        """The first ``name`` step of the current preparation (None: not recorded)."""
        return next((s for s in self.steps if s.step == name), None)

    def step_at(self, name: str) -> datetime | None:
        s = self.step(name)
        return None if s is None else s.at

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
        return PrepTimes(
            reconstituted_at=recon,
            diluted_at=self.step_at("diluted"),
            refrigerated=tuple(fridge),
            flush_min=flush,
            stab4_overridden=self.override("STAB-4") is not None,
        )

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
        return cannot_give(
            dl, now, in_refrigerator=self.in_refrigerator(), early_start_confirmed=self.override("STAB-5") is not None
        )

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
        if ev.kind not in KINDS:
            continue
        p = ev.payload
        if p.dose_id == dose:
            st = _apply(st, ev, p)
    return st


def _apply(st: PrepState, ev: Event, p: Any) -> PrepState:
    if isinstance(p, PrepCalculated):
        return evolve(st, calculation=Calculation(ev.version, ev.actor, ev.at, dict(ev.data)))
    if isinstance(p, PrepStep):
        calc_version = st.calculation.version if st.calculation is not None else None
        s = Step(p.step, parse_utc(p.at), ev.actor, p.vials_kept, p.reason, calc_version)
        if s.step == "discarded":
            return evolve(st, discarded=(*st.discarded, (*st.steps, s)), steps=(), cartons=())
        return evolve(st, steps=(*st.steps, s))
    if isinstance(p, PrepSyringe):
        return evolve(st, syringe_records=(*st.syringe_records, {**ev.data, "actor": ev.actor}))
    if isinstance(p, CartonScanned):
        return evolve(st, cartons=(*st.cartons, p))
    if isinstance(p, PrepOverride):
        return evolve(st, overrides=(*st.overrides, {**ev.data, "actor": ev.actor, "recorded_at": ev.at}))
    assert isinstance(p, PrepVerification)
    v = Verification(
        ev.version, ev.actor, ev.at, p.calc_version, p.matched, dict(p.entered), dict(p.expected), tuple(p.mismatches)
    )
    return evolve(st, verifications=(*st.verifications, v))


def syringe_volume_range(st: PrepState) -> tuple[Decimal, Decimal] | None:
    """The final volumes (mL, to 0.01) that keep the syringe within its [SITE] range (PREP-9)."""
    c = st.calculation
    if c is None or c.data.get("route") != "syringe":
        return None
    lo_c, hi_c = rules.SYRINGE_RANGE_MG_PER_ML
    dose = Decimal(c.data["dose_mg"])
    q = Decimal("0.01")
    return (dose / hi_c).quantize(q, rounding=ROUND_CEILING), (dose / lo_c).quantize(q, rounding=ROUND_FLOOR)


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


def status_words(st: PrepState) -> str:
    if st.calculation is None:
        return "not calculated"
    if st.verified:
        v = st.last_verification
        return f"✓ VERIFIED by {v.actor} (prepared by {st.calculation.actor})"
    if st.mismatch:
        return "✗ MISMATCH: resolve before giving (recalculate or re-check)"
    return "✗ NOT VERIFIED: a second person must double-check"

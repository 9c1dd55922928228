"""The preparation's events (patient stream; every one names its ``dose_id``, such as ``"c1d8"``).

Each class's fields are exactly the JSON keys the record has always held (Decimals and times as
the strings stored): no database is migrated.

- ``prep.calculated``: the preparer's calculation from the source inputs (a recalculation is a new
  event and voids any verification of the earlier one).
- ``prep.step``: a recorded step, ``step`` in :data:`~bedside.core.preparation.state.STEPS`;
  ``vials_kept`` ("refrigerated" / "room_temperature") is asked at dilution (CONV-STAB-4); room
  temperature needs a pharmacist's reason.
- ``prep.verification``: the second person's blind re-derivation (CONV-VERIFY-1), compared at
  display precision.
- ``prep.syringe``: the pharmacist's record for the syringe route (PREP-9, CONV-SYR-1): the set,
  priming with 0.9% NaCl (not drug) and the post-infusion flush at the same rate. The [SITE] flush
  volume has no default, so it is entered per dose; the flush time (rounded up to whole minutes) is
  added after the 60-minute drug time and to the deadlines.
- ``prep.override``: a pharmacist's recorded override for the current preparation (the one
  reconstituted at ``reconstituted_at``): ``STAB-4`` (UNVERIFIED: its room-temperature and
  refrigerator limits are lifted; the verified STAB-1/2 limits stay) or ``STAB-5`` (start before the
  hour of equilibration is over; ``bag_removed_at`` names the equilibration it covers).
- ``prep.carton``: a vial carton scanned for the current preparation: GTIN, lot, expiry, serial.
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from ..events import Payload, event_type


@event_type("prep.calculated")
@frozen
class PrepCalculated(Payload):
    """The preparer's calculation of one dose (values as the strings stored)."""

    dose_id: str
    cycle: int
    day: int
    level_mg_m2: str
    level_basis: str
    height_cm: str
    weight_kg: str
    measured_on: str | None
    formula: str
    bsa_m2: str  # full precision (CONV-CALC-2)
    dose_mg: str
    withdraw_ml: str
    vials: int
    route: str  # "bag" (PREP-7) or "syringe" (PREP-9)
    final_volume_ml: str
    syringe_volume_ml: str | None = None  # the pharmacist's volume (PREP-9); None: the proposal
    unverified_rules: list[str] = field(factory=list)


@event_type("prep.step")
@frozen
class PrepStep(Payload):
    """A recorded step of the current preparation, at the time it happened (``at``, ISO UTC)."""

    dose_id: str
    step: str
    at: str
    vials_kept: str | None = None  # CONV-STAB-4, asked at dilution
    reason: str | None = None


@event_type("prep.verification")
@frozen
class PrepVerification(Payload):
    """The blind double-check of calculation ``calc_version`` by a second person (CONV-VERIFY-1)."""

    dose_id: str
    calc_version: int
    entered: dict[str, str]
    expected: dict[str, str]
    matched: bool
    mismatches: list[str] = field(factory=list)


@event_type("prep.syringe")
@frozen
class PrepSyringe(Payload):
    """PREP-9 (UNVERIFIED, CONV-SYR-1): the set, the priming and the flush of one calculation."""

    dose_id: str
    calc_version: int
    set: str
    primed_with_nacl: bool
    flush_ml: str
    flush_min: int
    unverified_rule: str = "PREP-9"


@event_type("prep.override")
@frozen
class PrepOverride(Payload):
    """A pharmacist's override of STAB-4 or STAB-5 for the current preparation, with a reason."""

    dose_id: str
    rule: str
    reason: str
    reconstituted_at: str
    unverified_rule: str | None = None
    bag_removed_at: str | None = None  # STAB-5 only: the equilibration it covers

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        if self.bag_removed_at is None:  # a STAB-4 override has never stored this key
            del data["bag_removed_at"]
        return data


@event_type("prep.carton")
@frozen
class CartonScanned(Payload):
    """A vial carton scanned for the current preparation (issue 20; PREP-1): its GTIN, lot, expiry
    date (ISO) and serial number, read from its GS1 DataMatrix (core/preparation/carton.py)."""

    dose_id: str
    calc_version: int
    gtin: str
    lot: str
    expiry: str
    serial: str = ""


CALCULATED = PrepCalculated.KIND
STEP = PrepStep.KIND
VERIFICATION = PrepVerification.KIND
SYRINGE = PrepSyringe.KIND
OVERRIDE = PrepOverride.KIND
CARTON = CartonScanned.KIND
KINDS = (CALCULATED, STEP, VERIFICATION, SYRINGE, OVERRIDE, CARTON)

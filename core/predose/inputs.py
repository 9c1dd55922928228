"""What the caller passes to the pre-dose engine: the dose's context and the patient's records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen
from attrs.validators import in_, instance_of

from .. import rules


def _opt_date(instance: Any, attribute: Any, value: object) -> None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise TypeError(f"{attribute.name} must be a date or None")


def _req_date(instance: Any, attribute: Any, value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{attribute.name} must be a date")


def _opt_decimal(instance: Any, attribute: Any, value: object) -> None:
    if value is not None and not isinstance(value, Decimal):
        raise TypeError(f"{attribute.name} must be a Decimal or None (CONV-CALC-1: no float)")


def _aware(instance: Any, attribute: Any, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime")


def _day(instance: Any, attribute: Any, value: object) -> None:
    if value not in rules.DAYS:
        raise ValueError(f"day must be one of {rules.DAYS}, got {value!r}")


def _positive_int(instance: Any, attribute: Any, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be a whole number ≥ 1, got {value!r}")


@frozen(kw_only=True)
class DoseContext:
    """Which dose is being checked, and what its current calculation used.

    ``held_since`` is the planned date of a held Day 1 (CONV-SCHED-5), for the > 28-day prompt
    (MOD-HEM-4 / CONV-HEM-4); ``infusion_start`` (optional) lets PRE-1 check that each
    premedication was given before the start.
    """

    cycle: int = field(validator=_positive_int)
    day: int = field(validator=_day)
    planned_date: date = field(validator=_req_date)
    is_first_dose: bool = field(validator=instance_of(bool))
    previous_dose_date: date | None = field(default=None, validator=_opt_date)
    prior_cycle_day1_date: date | None = field(default=None, validator=_opt_date)
    first_dose_date: date | None = field(default=None, validator=_opt_date)
    weight_used_kg: Decimal | None = field(default=None, validator=_opt_decimal)
    height_used_cm: Decimal | None = field(default=None, validator=_opt_decimal)
    patient_age_years: int = field(validator=instance_of(int))
    held_since: date | None = field(default=None, validator=_opt_date)
    infusion_start: datetime | None = field(default=None, validator=_aware)

    @property
    def first(self) -> bool:
        """C1 D1 (the first BESPONSA dose)."""
        return self.is_first_dose or (self.cycle == 1 and self.day == 1)

    @property
    def cycle_start(self) -> bool:
        """Day 1 of cycle ≥ 2: where Table 2 applies (MOD-HEM-6)."""
        return self.day == 1 and self.cycle >= 2


@frozen(kw_only=True)
class Toxicity:
    """One recorded toxicity (MOD-NH-6): CTCAE term, grade, version, onset, attribution.

    ``resolved`` is the date it recovered to Grade 1 or the pre-treatment grade (None: unresolved).
    """

    term: str = field(validator=instance_of(str))
    grade: int = field(validator=in_((0, 1, 2, 3, 4, 5)))
    ctcae_version: str = rules.CTCAE_VERSION
    onset: date = field(validator=_req_date)
    resolved: date | None = field(default=None, validator=_opt_date)
    attribution: str = ""
    hematologic: bool = False


@frozen(kw_only=True)
class Premed:
    """A premedication given for this dose (PRE-1)."""

    drug_class: str = field(validator=in_(rules.PREMED_CLASSES))
    drug: str = field(validator=instance_of(str))
    dose: str = field(validator=instance_of(str))
    given_at: datetime | None = field(default=None, validator=_aware)


@frozen(kw_only=True)
class IdentityConfirmation:
    """The identifiers typed or scanned at this dose; the engine compares them with the record.

    ``stated``: the patient stated their name and date of birth and the user compared them with the
    record shown ("match" or "mismatch"), recorded instead of typing them (with a scanned wristband:
    two identifiers for one scan and one key); None when name and date of birth were typed."""

    user: str
    method: str = field(validator=in_(("typed", "scanned")))
    stated: str | None = field(default=None, validator=in_((None, "match", "mismatch")))
    name: str | None = None
    dob: date | None = field(default=None, validator=_opt_date)
    mrn: str | None = None
    wristband: str | None = None  # the GSRN read from a GS1 wristband (AI 8018), issue 20


@frozen(kw_only=True)
class Override:
    """An override or confirmation by a named user, for one dose (CONV-OVR-1).

    ``rule_id`` names the rule overridden or confirmed (the check's ``override_rule``); ``check``
    (optional) narrows it to one check key when a rule has several. ``decision`` is "proceed", or
    "discontinue" for a decision prompt (CONV-HEM-4). PRE-1 omissions are overrides with
    ``rule_id="PRE-1"`` and ``check="premed.<class>"``.
    """

    rule_id: str
    role: str
    user: str
    reason: str
    cycle: int
    day: int
    check: str | None = None
    decision: str = field(default="proceed", validator=in_(("proceed", "discontinue")))
    at: datetime | None = field(default=None, validator=_aware)
    unverified_rule: str | None = None


@frozen(kw_only=True)
class BilirubinCause:
    """CONV-LAB-2: the bilirubin rise is due to Gilbert's syndrome or hemolysis."""

    cause: str = field(validator=in_(("gilbert", "hemolysis")))
    recorded_by: str
    confirmed_by: str | None = None  # the prescriber who confirmed it
    confirmed_role: str | None = None


@frozen(kw_only=True)
class ObservationDeviation:
    """MON-2: the patient left before observation ended, at the previous dose."""

    user: str
    at: datetime = field(validator=_aware)
    reason: str


@frozen(kw_only=True)
class Discontinuation:
    """A recorded permanent discontinuation (MOD-NH-1, MOD-NH-3 / CONV-IRR-1, CYC-3, MOD-INT-5)."""

    rule_id: str
    user: str
    role: str
    reason: str
    on: date = field(validator=_req_date)


def _tuple(value: Iterable[Any] | None) -> tuple[Any, ...]:
    return () if value is None else tuple(value)


def _opt_dict(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


@frozen(kw_only=True)
class PatientRecords:
    """What the caller extracted from the patient's intake and other events.

    Dict records are as stored by :mod:`bedside.core.intake` (values as strings, dates ISO), each
    with ``version`` (the event version) where there can be several: ``labs`` panels, ``blasts``
    and ``measurements``. ``premeds``, ``identity_check``, ``emergency_ready`` and ``overrides`` are
    for this dose; ``observation_incomplete`` is the MON-2 deviation of the previous dose.
    """

    labs: tuple[dict[str, Any], ...] = field(default=(), converter=_tuple)
    blasts: tuple[dict[str, Any], ...] = field(default=(), converter=_tuple)
    measurements: tuple[dict[str, Any], ...] = field(default=(), converter=_tuple)
    reproductive: dict[str, Any] | None = field(default=None, converter=_opt_dict)
    consent: dict[str, Any] | None = field(default=None, converter=_opt_dict)
    diagnosis: dict[str, Any] | None = field(default=None, converter=_opt_dict)
    name: str | None = None
    mrn: str | None = None
    wristband: str | None = None  # the stored wristband identifier (issue 20)
    sex: str | None = None
    dob: date | None = field(default=None, validator=_opt_date)
    toxicities: tuple[Toxicity, ...] = field(default=(), converter=_tuple)
    premeds: tuple[Premed, ...] = field(default=(), converter=_tuple)
    identity_check: IdentityConfirmation | None = None
    ecg_dates: tuple[date, ...] = field(default=(), converter=_tuple)
    electrolytes_dates: tuple[date, ...] = field(default=(), converter=_tuple)
    qt_drug_started_on: date | None = field(default=None, validator=_opt_date)
    bilirubin_cause: BilirubinCause | None = None
    overrides: tuple[Override, ...] = field(default=(), converter=_tuple)
    discontinuations: tuple[Discontinuation, ...] = field(default=(), converter=_tuple)
    observation_incomplete: ObservationDeviation | None = None
    emergency_ready: bool | None = None


@frozen(kw_only=True)
class PredoseSettings:
    """[SITE] settings used here (16.2).

    ``max_lab_age_days``: CONV-LAB-5 lets a site set a shorter maximum age; the reference gives
    **no default**, so None = no limit beyond "after the previous dose".
    """

    max_lab_age_days: int | None = None
    weight_change_pct_adult: Decimal = rules.WEIGHT_CHANGE_PCT_ADULT  # CONV-WT-1
    weight_change_pct_child: Decimal = rules.WEIGHT_CHANGE_PCT_CHILD  # CONV-WT-1
    low_weight_confirm_kg: Decimal = rules.LOW_WEIGHT_CONFIRM_KG  # CONV-BSA-5
    weight_gain_vod_pct: Decimal = rules.WEIGHT_GAIN_VOD_PROMPT_PCT  # MON-8
    emergency_checklist: bool = True  # PRE-10

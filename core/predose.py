"""The pre-dose check engine: pure, decoupled from the schedule engine (issue 5).

The caller passes a :class:`DoseContext` (which dose, what the current calculation used) and the
:class:`PatientRecords` it extracted from the patient's events; :func:`evaluate` returns a
:class:`Verdict`: one overall answer and every check with its value, date, rule IDs, what to do and
who (if anyone) may override it (CONV-OVR-1, table 16.1 of ``shared/clinical-reference.md``).

Overall precedence, strictest first::

    DISCONTINUE > HOLD > NEEDS CONFIRMATION > REDUCE > PROCEED

* DISCONTINUE is permanent and has no override (MOD-NH-1, CONV-IRR-1): nothing else matters.
* HOLD means the dose must not be given today; no confirmation can release it (a HOLD that a role
  may override becomes "pass" only once the override is recorded), so it outranks NEEDS
  CONFIRMATION. A missing or stale value is a HOLD (CONV-LAB-5, CONV-CALC-7).
* NEEDS CONFIRMATION blocks until a named user confirms; the dose could then be given, so it ranks
  below HOLD but above anything that lets the dose go ahead.
* REDUCE lets the dose go ahead at a changed level: stricter than PROCEED, weaker than any block.
  This engine produces no "reduce" check itself (Table 4 proposals belong to the modification
  engine); the result exists so the caller can merge such checks with :func:`overall_of`.

Conventions as in :mod:`bedside.core.calc`: attrs ``@frozen``, ``decimal`` with ROUND_HALF_UP in a
local context, no binary float, no I/O, no clock (``today`` is passed in). Every clinical number
comes from :mod:`bedside.core.rules`. Every ratio is compared by exact multiplication (never a
rounded ratio, CONV-LAB-4); rounded ratios appear in texts only.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from attrs import evolve, field, frozen
from attrs.validators import in_, instance_of, optional

from . import rules
from .clock import to_local  # shown in the site's zone (CONV-TIME-1)

__all__ = [
    "DISCONTINUE",
    "HOLD",
    "NEEDS_CONFIRMATION",
    "OVERALL_PRECEDENCE",
    "PROCEED",
    "REDUCE",
    "RESULTS",
    "BilirubinCause",
    "Check",
    "Discontinuation",
    "DoseContext",
    "IdentityConfirmation",
    "ObservationDeviation",
    "Override",
    "PatientRecords",
    "PredoseSettings",
    "Premed",
    "Toxicity",
    "Verdict",
    "evaluate",
    "grade_anc",
    "grade_bilirubin",
    "grade_platelets",
    "grade_transaminase",
    "grade_transaminase_v3",
    "overall_of",
]

# --- results and the overall answer -----------------------------------------------------------

R_PASS = "pass"
R_HOLD = "hold"
R_NEEDS = "needs_confirmation"
R_DISCONTINUE = "discontinue"
R_INFO = "info"
R_MISSING = "missing"
R_REDUCE = "reduce"  # never produced here; accepted so callers can merge Table 4 checks
RESULTS = (R_PASS, R_HOLD, R_NEEDS, R_DISCONTINUE, R_INFO, R_MISSING, R_REDUCE)

PROCEED = "PROCEED"
REDUCE = "REDUCE"
NEEDS_CONFIRMATION = "NEEDS CONFIRMATION"
HOLD = "HOLD"
DISCONTINUE = "DISCONTINUE"
# Least strict first (see the module docstring for why).
OVERALL_PRECEDENCE = (PROCEED, REDUCE, NEEDS_CONFIRMATION, HOLD, DISCONTINUE)
_RESULT_OVERALL = {
    R_PASS: PROCEED,
    R_INFO: PROCEED,
    R_REDUCE: REDUCE,
    R_NEEDS: NEEDS_CONFIRMATION,
    R_HOLD: HOLD,
    R_MISSING: HOLD,  # CONV-LAB-5, CONV-CALC-7: missing = HOLD
    R_DISCONTINUE: DISCONTINUE,
}

PRESCRIBER = "prescriber"
PHARMACIST = "pharmacist"
OVERRIDE_ROLES = (PRESCRIBER, PHARMACIST)  # CONV-OVR-1: a nurse can never override

_PREC = 40
_SHOW = Decimal("0.01")
_PERCENT = Decimal(100)  # unit conversion, not a clinical number


def _context() -> decimal.Context:
    return decimal.Context(
        prec=_PREC,
        rounding=ROUND_HALF_UP,
        traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.FloatOperation],
    )


def _local():  # noqa: ANN202 - a context manager
    return decimal.localcontext(_context())


def _plain(value: Decimal) -> str:
    with _local():
        if value == value.to_integral_value():
            return format(value.quantize(Decimal(1)), "f")
        return format(value.normalize(), "f")


def _show(value: Decimal) -> str:
    """Half-up to 2 decimals, for texts only (CONV-CALC-1); decisions never use it."""
    with _local():
        return str(value.quantize(_SHOW, rounding=ROUND_HALF_UP))


def _ratio_text(value: Decimal, uln: Decimal) -> str:
    with _local():
        return _show(value / uln)


# --- inputs ------------------------------------------------------------------------------------


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
    """The identifiers typed or scanned at this dose; the engine compares them with the record."""

    user: str
    method: str = field(validator=in_(("typed", "scanned")))
    name: str | None = None
    dob: date | None = field(default=None, validator=_opt_date)
    mrn: str | None = None


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


# --- output ------------------------------------------------------------------------------------


@frozen(kw_only=True)
class Check:
    """One pre-dose check. ``key`` is stable (overrides may name it); ``name`` is for people.

    ``overridable_by``: None = no override (label holds, missing values, weight change), else the
    one role that may override or confirm it under ``override_rule``. An applied override leaves
    ``result="pass"`` with ``override`` and ``overridden_from`` set.
    """

    key: str
    name: str
    result: str = field(validator=in_(RESULTS))
    value: str = ""
    date_used: date | None = None
    rule_ids: tuple[str, ...] = ()
    action: str = ""
    overridable_by: str | None = field(default=None, validator=optional(in_(OVERRIDE_ROLES)))
    override_rule: str | None = None
    override: Override | None = None
    overridden_from: str | None = None
    unverified_rule: str | None = None

    @property
    def overridden(self) -> bool:
        return self.override is not None

    @property
    def blocking(self) -> bool:
        return _RESULT_OVERALL[self.result] not in (PROCEED,)


def overall_of(checks: Iterable[Check]) -> str:
    """The strictest answer among the checks (precedence: module docstring)."""
    rank = PROCEED
    for c in checks:
        o = _RESULT_OVERALL[c.result]
        if OVERALL_PRECEDENCE.index(o) > OVERALL_PRECEDENCE.index(rank):
            rank = o
    return rank


@frozen
class Verdict:
    overall: str = field(validator=in_(OVERALL_PRECEDENCE))
    checks: tuple[Check, ...]

    def check(self, key: str) -> Check | None:
        return next((c for c in self.checks if c.key == key), None)

    @property
    def deciding(self) -> tuple[Check, ...]:
        """The checks that give the overall answer (empty for PROCEED)."""
        if self.overall == PROCEED:
            return ()
        return tuple(c for c in self.checks if _RESULT_OVERALL[c.result] == self.overall)

    @property
    def overridden(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.override is not None)

    @property
    def unverified_rules(self) -> tuple[str, ...]:
        seen: list[str] = []
        for c in self.checks:
            if c.unverified_rule and c.unverified_rule not in seen:
                seen.append(c.unverified_rule)
        return tuple(seen)


# --- CTCAE grading (§15: CTCAE-2, CTCAE-3, CTCAE-4) ---------------------------------------------


def _dec_arg(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
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


def grade_bilirubin(
    value: Decimal, uln: Decimal, baseline: Decimal | None = None, baseline_uln: Decimal | None = None
) -> int:
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


def grade_transaminase(
    value: Decimal, uln: Decimal, baseline: Decimal | None = None, baseline_uln: Decimal | None = None
) -> int:
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


# --- reading the records -----------------------------------------------------------------------


def _dec(value: object) -> Decimal | None:
    """A stored number (str, int or Decimal); anything unreadable is None (= missing)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        raise TypeError("a stored number is a float (CONV-CALC-1: no binary float)")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


@frozen
class _Rec:
    """A dated record (lab panel, blasts, measurement) in recording order."""

    on: date
    order: tuple[int, int]
    data: dict[str, Any]


def _dated(records: Sequence[Mapping[str, Any]], date_key: str) -> tuple[_Rec, ...]:
    out = []
    for idx, r in enumerate(records):
        d = _date(r.get(date_key))
        if d is None:
            continue
        version = r.get("version")
        out.append(_Rec(d, (version if isinstance(version, int) and not isinstance(version, bool) else -1, idx), dict(r)))
    return tuple(sorted(out, key=lambda x: (x.on, x.order)))


@frozen
class _Window:
    """Which collection dates count: after ``after`` (exclusive), on or before ``until``, from ``oldest``."""

    after: date | None
    until: date
    oldest: date | None = None

    def contains(self, d: date) -> bool:
        if d > self.until:
            return False
        if self.after is not None and d <= self.after:
            return False
        return not (self.oldest is not None and d < self.oldest)

    def text(self) -> str:
        parts = []
        if self.after is not None:
            parts.append(f"after the previous dose ({self.after.isoformat()})")
        parts.append(f"on or before {self.until.isoformat()}")
        if self.oldest is not None:
            parts.append(f"not before {self.oldest.isoformat()} (site maximum age)")
        return ", ".join(parts)


def _dose_window(ctx: DoseContext, settings: PredoseSettings) -> _Window | None:
    """CONV-LAB-5: after the previous dose was given and not after this dose.

    Dates only: a result collected on the previous dose's date may have been drawn before that
    dose, so it does not count (strictly after). A result on this dose's date counts as pre-dose.
    """
    oldest = None
    if settings.max_lab_age_days is not None:
        oldest = ctx.planned_date - timedelta(days=settings.max_lab_age_days)
    if ctx.first:
        return _Window(None, ctx.planned_date, oldest)
    if ctx.previous_dose_date is None:
        return None
    return _Window(ctx.previous_dose_date, ctx.planned_date, oldest)


def _latest(recs: Sequence[_Rec], key: str, window: _Window | None, pred: Any = None) -> _Rec | None:
    best = None
    for r in recs:
        if _dec(r.data.get(key)) is None:
            continue
        if window is not None and not window.contains(r.on):
            continue
        if pred is not None and not pred(r):
            continue
        best = r
    return best


def _latest_any(recs: Sequence[_Rec], key: str) -> _Rec | None:
    return _latest(recs, key, None)


def _independent(r: _Rec) -> bool:
    """CONV-HEM-3: no platelet transfusion before this count (unknown counts as "yes")."""
    return r.data.get("platelet_transfusion") == "no"


@frozen
class _Liver:
    value: Decimal
    uln: Decimal
    on: date
    unit: str


_LIVER = ("bilirubin", "ast", "alt")
_LIVER_LABEL = {"bilirubin": "total bilirubin", "ast": "AST", "alt": "ALT", "alp": "ALP"}


def _unit(analyte: str, data: Mapping[str, Any]) -> str:
    if analyte == "bilirubin":
        return str(data.get("bilirubin_unit") or "(unit not recorded)")
    return "U/L"


def _liver_of(r: _Rec | None, analyte: str) -> _Liver | None:
    if r is None:
        return None
    v, u = _dec(r.data.get(analyte)), _dec(r.data.get(f"{analyte}_uln"))
    if v is None or u is None or u <= 0:
        return None
    return _Liver(v, u, r.on, _unit(analyte, r.data))


def _fmt_date(d: date | None) -> str:
    return d.isoformat() if d else "—"


# --- the engine --------------------------------------------------------------------------------


class _Builder:
    def __init__(self, ctx: DoseContext, rec: PatientRecords, today: date, settings: PredoseSettings):
        self.ctx, self.rec, self.today, self.settings = ctx, rec, today, settings
        self.checks: list[Check] = []
        self.labs = _dated(rec.labs, "collected_on")
        self.window = _dose_window(ctx, settings)
        self.tox_label_hold = False  # a recorded MOD-NH-4 hold (a label hold for CONV-LAB-6)

    def add(self, **kw: Any) -> Check:
        c = Check(**kw)
        self.checks.append(c)
        return c

    # -- identity --------------------------------------------------------------------------
    def identity(self) -> None:
        ic = self.rec.identity_check
        key, name = "identity", "Patient identity (two identifiers)"
        action_missing = "Confirm at least two identifiers (name, date of birth, MRN) against the patient at this dose."
        if ic is None:
            self.add(key=key, name=name, result=R_MISSING, value="not confirmed at this dose", action=action_missing)
            return
        matched: list[str] = []
        mismatched: list[str] = []

        def norm(s: str) -> str:
            return " ".join(s.split()).casefold()

        pairs = (
            ("name", ic.name, self.rec.name, lambda a, b: norm(a) == norm(b)),
            ("date of birth", ic.dob, self.rec.dob, lambda a, b: a == b),
            ("MRN", ic.mrn, self.rec.mrn, lambda a, b: norm(a) == norm(b)),
        )
        for label, entered, stored, same in pairs:
            if entered in (None, "") or stored in (None, ""):
                continue
            (matched if same(entered, stored) else mismatched).append(label)
        value = f"{ic.method} by {ic.user}: matched {', '.join(matched) or 'none'}"
        if mismatched:
            self.add(
                key=key, name=name, result=R_HOLD, value=value + f"; MISMATCH {', '.join(mismatched)}",
                action="Stop: an identifier does not match this patient. Check the patient and the record; no override.",
            )
        elif len(matched) < 2:
            self.add(key=key, name=name, result=R_MISSING, value=value, action=action_missing)
        else:
            self.add(key=key, name=name, result=R_PASS, value=value, action="")

    # -- labs for this dose -----------------------------------------------------------------
    def _missing_lab_text(self, key: str, in_window: _Rec | None) -> str:
        if in_window is not None:
            return f"{in_window.on.isoformat()}: no ULN recorded with the result (CONV-CALC-7)"
        older = _latest(self.labs, key, _Window(None, self.window.until)) if self.window else None
        newer = _latest_any(self.labs, key)
        if self.window is None:
            return "previous dose date unknown: recency cannot be judged (CONV-LAB-5)"
        parts = []
        if older is not None:
            parts.append(f"latest {older.on.isoformat()} is too old: must be {self.window.text()}")
        if newer is not None and newer.on > self.window.until:
            parts.append(f"{newer.on.isoformat()} is after this dose")
        return "; ".join(parts) or "none recorded"

    def labs_present(self) -> dict[str, Any]:
        """PRE-4/PRE-5 with CONV-LAB-5 and CONV-CALC-7: one check per required value."""
        w = self.window
        found: dict[str, Any] = {}
        where = w.text() if w else "after the previous dose"
        # Counts (PRE-4).
        for key, label in (("anc", "ANC"), ("platelets", "Platelets")):
            r = _latest(self.labs, key, w) if w else None
            rules_ = ("PRE-4", "CONV-LAB-5")
            if r is None:
                self.add(
                    key=f"lab.{key}", name=f"{label} for this dose", result=R_MISSING,
                    value=self._missing_lab_text(key, None), rule_ids=rules_,
                    action=f"Enter a {label} collected {where}.",
                )
                continue
            v = _dec(r.data[key])
            assert v is not None
            extra = ""
            if key == "platelets":
                tx = r.data.get("platelet_transfusion")
                extra = " (after a platelet transfusion)" if tx == "yes" else (" (transfusion status not recorded)" if tx != "no" else "")
            found[key] = r
            self.add(
                key=f"lab.{key}", name=f"{label} for this dose", result=R_PASS,
                value=f"{label} {_plain(v)} × 10⁹/L on {r.on.isoformat()}{extra}", date_used=r.on, rule_ids=rules_,
            )
        # Liver (PRE-5): a result without its ULN counts as missing (CONV-CALC-7).
        for key in _LIVER:
            label = _LIVER_LABEL[key]
            r = _latest(self.labs, key, w) if w else None
            lv = _liver_of(r, key)
            rules_ = ("PRE-5", "CONV-LAB-5", "CONV-CALC-7")
            if lv is None:
                text = self._missing_lab_text(key, r)
                self.add(
                    key=f"lab.{key}", name=f"{label} for this dose", result=R_MISSING, value=text, rule_ids=rules_,
                    date_used=r.on if r else None,
                    action=f"Enter {label} with its ULN (same unit), collected {where}.",
                )
                continue
            found[key] = lv
            self.add(
                key=f"lab.{key}", name=f"{label} for this dose", result=R_PASS,
                value=f"{label} {_plain(lv.value)} {lv.unit} (ULN {_plain(lv.uln)}; {_ratio_text(lv.value, lv.uln)} × ULN) on {lv.on.isoformat()}",
                date_used=lv.on, rule_ids=rules_,
            )
        # ALP: recorded and shown (PRE-5), never decides.
        r = _latest(self.labs, "alp", w) if w else None
        alp = _liver_of(r, "alp")
        if alp is not None:
            self.add(
                key="lab.alp", name="ALP (shown)", result=R_INFO,
                value=f"ALP {_plain(alp.value)} U/L (ULN {_plain(alp.uln)}; {_ratio_text(alp.value, alp.uln)} × ULN) on {alp.on.isoformat()}",
                date_used=alp.on, rule_ids=("PRE-5",),
            )
        else:
            self.add(key="lab.alp", name="ALP (shown)", result=R_INFO, value="not recorded for this dose", rule_ids=("PRE-5",),
                     action="Record ALP with its ULN if available (PRE-5); it does not block.")
        return found

    # -- hematologic: Table 2 at a cycle start, MOD-GEN-1 otherwise -----------------------------
    def _baseline_window(self) -> _Window | None:
        """CONV-HEM-1 / CTCAE-3: the last values before the first BESPONSA dose."""
        if self.ctx.first:
            return self.window
        if self.ctx.first_dose_date is None:
            return None
        return _Window(None, self.ctx.first_dose_date)

    def hematologic(self, found: Mapping[str, Any]) -> None:
        ctx = self.ctx
        anc_r, plt_r = found.get("anc"), found.get("platelets")
        if not ctx.cycle_start:
            parts = []
            if anc_r is not None:
                v = _dec(anc_r.data["anc"])
                parts.append(f"ANC {_plain(v)} (G{grade_anc(v)})")
            if plt_r is not None:
                v = _dec(plt_r.data["platelets"])
                parts.append(f"platelets {_plain(v)} (G{grade_platelets(v)})")
            why = "cycle 1 Day 1: Table 2 starts at cycle 2" if ctx.first else f"Day {ctx.day}: within a cycle"
            self.add(
                key="table2.not_applied", name="Counts (not a reason to hold)", result=R_INFO,
                value=("; ".join(parts) or "no counts") + f" — {why}", rule_ids=("MOD-GEN-1", "MOD-HEM-6"),
                action="Counts are shown only: doses within a cycle are not held for neutropenia or thrombocytopenia (MOD-GEN-1)."
                if not ctx.first else "Counts are shown; Table 2 applies from cycle 2 Day 1 (MOD-HEM-6).",
            )
            return
        # Day 1 of cycle ≥ 2 (MOD-HEM-6).
        bw = self._baseline_window()
        b_anc = _latest(self.labs, "anc", bw) if bw else None
        b_plt = _latest(self.labs, "platelets", bw, _independent) if bw else None
        pre_anc = _dec(b_anc.data["anc"]) if b_anc else None
        pre_plt = _dec(b_plt.data["platelets"]) if b_plt else None
        cur_anc_r = _latest(self.labs, "anc", self.window) if self.window else None
        cur_plt_r = _latest(self.labs, "platelets", self.window, _independent) if self.window else None
        cur_anc = _dec(cur_anc_r.data["anc"]) if cur_anc_r else None
        cur_plt = _dec(cur_plt_r.data["platelets"]) if cur_plt_r else None
        base_text = (
            f"pre-treatment ANC {_plain(pre_anc) if pre_anc is not None else 'unknown'}"
            f"{' on ' + b_anc.on.isoformat() if b_anc else ''}, platelets "
            f"{_plain(pre_plt) if pre_plt is not None else 'unknown'}{' on ' + b_plt.on.isoformat() if b_plt else ''}"
        )
        if pre_anc is None or pre_plt is None:
            self.add(
                key="table2.baseline", name="Table 2 row choice", result=R_INFO, value=base_text,
                rule_ids=("CONV-HEM-1",),
                action="A pre-treatment count (transfusion-independent) is unknown: rows 1 and 2 (the strictest) are applied for it.",
            )
        row1 = pre_anc is None or pre_anc >= rules.ANC_THRESHOLD
        row2 = pre_plt is None or pre_plt >= rules.PLATELET_THRESHOLD
        row3 = (pre_anc is not None and pre_anc < rules.ANC_THRESHOLD) or (
            pre_plt is not None and pre_plt < rules.PLATELET_THRESHOLD
        )
        anc_text = f"ANC {_plain(cur_anc)} on {cur_anc_r.on.isoformat()}" if cur_anc_r else "ANC missing"
        plt_text = (
            f"platelets {_plain(cur_plt)} on {cur_plt_r.on.isoformat()} (transfusion-independent)"
            if cur_plt_r else "no transfusion-independent platelet count for this dose"
        )
        newest_plt = _latest(self.labs, "platelets", self.window) if self.window else None
        if newest_plt is not None and cur_plt_r is not None and newest_plt is not cur_plt_r:
            plt_text += f"; later count {_plain(_dec(newest_plt.data['platelets']))} on {newest_plt.on.isoformat()} not used (after a transfusion, CONV-HEM-3)"
        if row1:
            self._t2_row(
                "table2.row1", "Table 2 row 1: ANC", cur_anc, rules.ANC_THRESHOLD, anc_text, cur_anc_r, base_text,
                ("MOD-HEM-1", "MOD-HEM-6", "CONV-HEM-1"),
                f"Delay this cycle's Day 1 until ANC ≥ {_plain(rules.ANC_THRESHOLD)} × 10⁹/L (label: no override).",
            )
        if row2:
            self._t2_row(
                "table2.row2", "Table 2 row 2: platelets", cur_plt, rules.PLATELET_THRESHOLD, plt_text, cur_plt_r, base_text,
                ("MOD-HEM-2", "MOD-HEM-5", "MOD-HEM-6", "CONV-HEM-1", "CONV-HEM-3"),
                f"Delay this cycle's Day 1 until a transfusion-independent platelet count ≥ {_plain(rules.PLATELET_THRESHOLD)} × 10⁹/L (label: no override).",
            )
        if row3:
            self._t2_row3(cur_anc, cur_plt, anc_text, plt_text, cur_anc_r, base_text)
        self._held_over_28()

    def _t2_row(self, key, name, cur, threshold, text, rec, base_text, rule_ids, hold_action) -> None:  # noqa: ANN001
        if cur is None:
            self.add(key=key, name=name, result=R_MISSING, value=f"{text}; {base_text}", rule_ids=rule_ids,
                     action="Enter a count collected for this dose (CONV-LAB-5; platelets: before any transfusion, CONV-HEM-3).")
        elif cur < threshold:
            self.add(key=key, name=name, result=R_HOLD, value=f"{text}; {base_text}", date_used=rec.on,
                     rule_ids=rule_ids, action=hold_action, override_rule=rule_ids[0])
        else:
            self.add(key=key, name=name, result=R_PASS, value=f"{text}; {base_text}", date_used=rec.on, rule_ids=rule_ids)

    def _t2_row3(self, cur_anc, cur_plt, anc_text, plt_text, anc_r, base_text) -> None:  # noqa: ANN001
        ctx = self.ctx
        rule_ids = ("MOD-HEM-3", "MOD-HEM-6", "CONV-HEM-1", "CONV-HEM-2", "CONV-HEM-3")
        name = "Table 2 row 3: recovery"
        if cur_anc is None or cur_plt is None:
            self.add(key="table2.row3", name=name, result=R_MISSING, value=f"{anc_text}; {plt_text}; {base_text}",
                     rule_ids=rule_ids, action="Enter ANC and a transfusion-independent platelet count for this dose.")
            return
        # Condition (1): ≥ the prior cycle's baseline (CONV-HEM-2: last counts before its Day 1 dose).
        c1 = False
        c1_text = "prior cycle's baseline unknown"
        if ctx.prior_cycle_day1_date is not None:
            pw = _Window(None, ctx.prior_cycle_day1_date)
            pa = _latest(self.labs, "anc", pw)
            pp = _latest(self.labs, "platelets", pw, _independent)
            if pa is not None and pp is not None:
                pav, ppv = _dec(pa.data["anc"]), _dec(pp.data["platelets"])
                c1 = cur_anc >= pav and cur_plt >= ppv
                c1_text = f"prior cycle's baseline ANC {_plain(pav)} ({pa.on.isoformat()}), platelets {_plain(ppv)} ({pp.on.isoformat()})"
        # Condition (2).
        c2 = cur_anc >= rules.ANC_THRESHOLD and cur_plt >= rules.PLATELET_THRESHOLD
        value = f"{anc_text}; {plt_text}; {c1_text}"
        if c1 or c2:
            which = "(1) at or above the prior cycle's baseline" if c1 else f"(2) ANC ≥ {_plain(rules.ANC_THRESHOLD)} and platelets ≥ {_plain(rules.PLATELET_THRESHOLD)}"
            self.add(key="table2.row3", name=name, result=R_PASS, value=f"{value}; met {which}", date_used=anc_r.on, rule_ids=rule_ids)
            return
        self.add(
            key="table2.row3", name=name, result=R_HOLD, value=value, date_used=anc_r.on, rule_ids=rule_ids,
            action=(
                "Delay this cycle's Day 1 until (1) ANC and platelets ≥ the prior cycle's baseline, or (2) ANC ≥ "
                f"{_plain(rules.ANC_THRESHOLD)} and platelets ≥ {_plain(rules.PLATELET_THRESHOLD)}, or (3) a prescriber records "
                "stable or improved disease on the latest marrow with the fall judged due to leukemia, not BESPONSA."
            ),
            overridable_by=PRESCRIBER, override_rule="MOD-HEM-3",
        )

    def _held_over_28(self) -> None:
        ctx = self.ctx
        if ctx.held_since is None:
            return
        in_question = max(self.today, ctx.planned_date)
        days = (in_question - ctx.held_since).days  # CONV-SCHED-5: whole calendar days
        if days <= rules.HELD_DAYS_PROMPT_AFTER:
            self.add(key="table2.held_days", name="Hold length", result=R_INFO,
                     value=f"held since {ctx.held_since.isoformat()}: {days} days", rule_ids=("CONV-SCHED-5",))
            return
        self.add(
            key="table2.held_over_28", name="Hold > 28 days: discontinuation decision", result=R_NEEDS,
            value=f"held since {ctx.held_since.isoformat()}: {days} days (> {rules.HELD_DAYS_PROMPT_AFTER})",
            date_used=ctx.held_since, rule_ids=("MOD-HEM-1", "MOD-HEM-2", "MOD-HEM-4", "CONV-HEM-4", "CONV-SCHED-5"),
            action="A prescriber decides whether the low counts are BESPONSA-related: discontinue, or continue (recorded with a reason).",
            overridable_by=PRESCRIBER, override_rule="CONV-HEM-4", unverified_rule="MOD-HEM-4",
        )

    # -- hepatic: Table 3 ---------------------------------------------------------------------
    def gilbert(self) -> bool:
        bc = self.rec.bilirubin_cause
        if bc is None:
            return False
        ok = bc.confirmed_by is not None and bc.confirmed_role == PRESCRIBER
        self.add(
            key="table3.bilirubin_cause", name="Bilirubin cause (Gilbert's/hemolysis)", result=R_INFO,
            value=f"{bc.cause}, recorded by {bc.recorded_by}" + (f", confirmed by {bc.confirmed_by} (prescriber)" if ok else ", NOT confirmed by a prescriber"),
            rule_ids=("CONV-LAB-2", "MOD-NH-2"),
            action="Bilirubin is left out of MOD-NH-2, CONV-LAB-1 and the MOD-NH-4 bilirubin grade; AST/ALT still apply."
            if ok else "A prescriber must confirm the cause before bilirubin is left out (CONV-LAB-2); until then it counts.",
        )
        return ok

    def hepatic(self, found: Mapping[str, Any]) -> None:
        gilbert = self.gilbert()
        cur: dict[str, _Liver | None] = {a: found.get(a) for a in _LIVER}
        bw = self._baseline_window()
        base: dict[str, _Liver | None] = {}
        for a in _LIVER:
            if self.ctx.first:
                base[a] = cur[a]
            else:
                base[a] = _liver_of(_latest(self.labs, a, bw), a) if bw else None
                # The baseline panel's own ULN is needed; _latest picks the newest with a value.
        missing = [a for a in _LIVER if cur[a] is None]
        label_hold = False

        # MOD-NH-2: both high → label hold, no override.
        bili = cur["bilirubin"]
        bili_high = bili is not None and not gilbert and bili.value > rules.BILIRUBIN_ULN_FACTOR * bili.uln
        trans_high = [a for a in ("ast", "alt") if cur[a] is not None and cur[a].value > rules.TRANSAMINASE_ULN_FACTOR * cur[a].uln]
        limits = (
            f"hold while bilirubin > {_plain(rules.BILIRUBIN_ULN_FACTOR)} × ULN and AST/ALT > {_plain(rules.TRANSAMINASE_ULN_FACTOR)} × ULN"
        )
        if bili_high and trans_high:
            label_hold = True
            parts = [f"bilirubin {_ratio_text(bili.value, bili.uln)} × ULN"] + [
                f"{_LIVER_LABEL[a]} {_ratio_text(cur[a].value, cur[a].uln)} × ULN" for a in trans_high
            ]
            self.add(
                key="table3.mod_nh_2", name="Table 3: bilirubin and AST/ALT", result=R_HOLD, value="; ".join(parts),
                date_used=max(bili.on, *(cur[a].on for a in trans_high)), rule_ids=("MOD-NH-2", "CONV-LAB-4", "CONV-LAB-6"),
                action=(
                    f"Hold until bilirubin ≤ {_plain(rules.BILIRUBIN_ULN_FACTOR * bili.uln)} {bili.unit} and "
                    + " and ".join(f"{_LIVER_LABEL[a]} ≤ {_plain(rules.TRANSAMINASE_ULN_FACTOR * cur[a].uln)} U/L" for a in trans_high)
                    + " (label: no override; Gilbert's/hemolysis: CONV-LAB-2). Discontinue if they do not recover."
                ),
                override_rule="MOD-NH-2",
            )
        elif not (
            gilbert or (bili is not None and not bili_high)  # bilirubin known not high
            or (not trans_high and all(cur[a] is not None for a in ("ast", "alt")))  # AST/ALT known not high
        ):
            self.add(key="table3.mod_nh_2", name="Table 3: bilirubin and AST/ALT", result=R_MISSING,
                     value=f"cannot be judged: {', '.join(_LIVER_LABEL[a] for a in missing)} missing", rule_ids=("MOD-NH-2",),
                     action="Enter the missing liver results with their ULN.")
        else:
            self.add(key="table3.mod_nh_2", name="Table 3: bilirubin and AST/ALT", result=R_PASS,
                     value="not both over their limits" + (" (bilirubin left out: CONV-LAB-2)" if gilbert else ""),
                     rule_ids=("MOD-NH-2", "CONV-LAB-4"), action=limits)

        # MOD-NH-4 by v5 grade vs the pre-treatment grade (CTCAE-3).
        for a in _LIVER:
            c = cur[a]
            key, name = f"table3.grade.{a}", f"{_LIVER_LABEL[a]} grade (v{rules.CTCAE_VERSION})"
            if a == "bilirubin" and gilbert:
                continue
            if c is None:
                continue  # the missing value already holds (lab.<a>)
            b = base[a]
            grader = grade_bilirubin if a == "bilirubin" else grade_transaminase
            g_now = grader(c.value, c.uln, b.value if b else None, b.uln if b else None)
            g_pre = grader(b.value, b.uln) if b else 0
            abnormal = b is not None and _baseline_abnormal(b.value, b.uln)
            txt = (
                f"v{rules.CTCAE_VERSION} G{g_now}"
                + (f", v{rules.CTCAE_V3_VERSION} G{grade_transaminase_v3(c.value, c.uln)}" if a != "bilirubin" else "")
                + f" ({_plain(c.value)} on {c.on.isoformat()}); pre-treatment "
                + (f"G{g_pre} ({_plain(b.value)}, ULN {_plain(b.uln)}, on {b.on.isoformat()}; baseline {'abnormal: graded × baseline' if abnormal else 'normal: graded × ULN'})"
                   if b else "value unknown: graded as if normal (stricter)")
            )
            rule_ids = ("MOD-NH-4", "CTCAE-3", "CTCAE-5", "CONV-LAB-6")
            if g_now >= rules.NONHEME_HOLD_GRADE and g_now > g_pre:
                label_hold = True
                self.add(key=key, name=name, result=R_HOLD, value=txt, date_used=c.on, rule_ids=rule_ids,
                         action=f"Hold until {_LIVER_LABEL[a]} recovers to Grade 1 or the pre-treatment grade (G{g_pre}) (label: no override).",
                         override_rule="MOD-NH-4")
            else:
                self.add(key=key, name=name, result=R_PASS, value=txt, date_used=c.on, rule_ids=rule_ids)

        # MOD-NH-4 for recorded toxicities counts as a label hold too (CONV-LAB-6, broad reading).
        label_hold = label_hold or self.tox_label_hold
        # CONV-LAB-1 / CONV-LAB-3: one value alone; overridable only where no label hold applies.
        can_override = not label_hold and not missing
        for a in _LIVER:
            c = cur[a]
            if c is None or (a == "bilirubin" and gilbert):
                continue
            factor = rules.BILIRUBIN_ULN_FACTOR if a == "bilirubin" else rules.TRANSAMINASE_ULN_FACTOR
            key, name = f"table3.conv.{a}", f"{_LIVER_LABEL[a]} vs {_plain(factor)} × ULN"
            rule_ids = ("CONV-LAB-1",) if a == "bilirubin" else ("CONV-LAB-1", "CONV-LAB-3", "MOD-NH-5")
            rule_ids += ("CONV-LAB-4", "CONV-LAB-6")
            txt = f"{_LIVER_LABEL[a]} {_plain(c.value)} {c.unit} = {_ratio_text(c.value, c.uln)} × ULN {_plain(c.uln)} on {c.on.isoformat()}"
            limit = factor * c.uln
            if c.value > limit:
                why = (
                    "a label hold also applies, so no override (CONV-LAB-6)" if label_hold
                    else ("another liver value is missing, so a label hold cannot be ruled out" if missing else "prescriber may override with a reason")
                )
                self.add(
                    key=key, name=name, result=R_HOLD, value=txt, date_used=c.on, rule_ids=rule_ids,
                    action=f"Hold until {_LIVER_LABEL[a]} ≤ {_plain(limit)} {c.unit} (exactly at the limit counts as recovered); {why}.",
                    overridable_by=PRESCRIBER if can_override else None,
                    override_rule="CONV-LAB-1" if a == "bilirubin" else "CONV-LAB-3",
                    unverified_rule=None if a == "bilirubin" else "MOD-NH-5",
                )
            else:
                self.add(key=key, name=name, result=R_PASS, value=txt, date_used=c.on, rule_ids=rule_ids)

    # -- recorded toxicities ------------------------------------------------------------------
    def toxicities(self) -> None:
        ctx = self.ctx
        toxes = self.rec.toxicities
        # MOD-NH-1 / WARN-VOD-4: VOD → permanent discontinuation, whatever its grade or status.
        for t in toxes:
            if _is_vod(t.term):  # whatever its onset, grade or resolution
                self.add(
                    key="vod", name="VOD recorded", result=R_DISCONTINUE,
                    value=f"{t.term} G{t.grade} (v{t.ctcae_version}), onset {t.onset.isoformat()}", date_used=t.onset,
                    rule_ids=("MOD-NH-1", "WARN-VOD-4", "BOX-1"),
                    action="Permanently discontinue BESPONSA; a prescriber records the discontinuation. No override; only a recorded correction changes this.",
                )
        # MOD-NH-3 / CONV-IRR-1: severe or life-threatening infusion reaction, or anaphylaxis.
        for t in toxes:
            if (_is_irr(t.term) and t.grade >= rules.IRR_SEVERE_GRADE) or _is_anaphylaxis(t.term):
                self.add(
                    key="irr.severe", name="Severe infusion reaction", result=R_DISCONTINUE,
                    value=f"{t.term} G{t.grade} (v{t.ctcae_version}), {t.onset.isoformat()}", date_used=t.onset,
                    rule_ids=("MOD-NH-3", "CONV-IRR-1", "CTCAE-1"),
                    action="Permanently discontinue; a prescriber confirms the discontinuation record. Only a recorded grade correction changes this.",
                )
        for d in self.rec.discontinuations:
            self.add(
                key="discontinued", name="Permanent discontinuation recorded", result=R_DISCONTINUE,
                value=f"{d.rule_id} by {d.user} ({d.role}) on {d.on.isoformat()}: {d.reason}", date_used=d.on,
                rule_ids=(d.rule_id,), action="No further dose. Only a recorded correction changes this (16.1).",
            )
        # MOD-NH-4 / MOD-NH-6: worst unresolved non-hematologic grade vs the pre-treatment grade.
        anchor = ctx.planned_date if ctx.first else ctx.first_dose_date
        pre: dict[str, int] = {}
        if anchor is not None:
            for t in toxes:
                before = t.onset <= anchor if ctx.first else t.onset < anchor
                if before and (t.resolved is None or t.resolved >= anchor):
                    k = _term_key(t.term)
                    pre[k] = max(pre.get(k, 0), t.grade)
        worst: dict[str, Toxicity] = {}
        for t in toxes:
            if t.hematologic or _is_vod(t.term) or t.onset > ctx.planned_date:
                continue
            if t.resolved is not None and t.resolved <= ctx.planned_date:
                continue
            k = _term_key(t.term)
            if k not in worst or t.grade > worst[k].grade:
                worst[k] = t
        for k, t in sorted(worst.items()):
            g_pre = pre.get(k, 0)
            txt = (
                f"{t.term} G{t.grade} (v{t.ctcae_version}), onset {t.onset.isoformat()}, unresolved; "
                f"pre-treatment G{g_pre}" + (" (no baseline: first dose date unknown, taken as G0)" if anchor is None else "")
                + (f"; attribution: {t.attribution}" if t.attribution else "")
            )
            if t.ctcae_version != rules.CTCAE_VERSION:
                txt += f"; graded with v{t.ctcae_version}, re-grade with v{rules.CTCAE_VERSION} (CTCAE-5)"
            if t.grade >= rules.NONHEME_HOLD_GRADE and t.grade > g_pre:
                self.tox_label_hold = True
                self.add(
                    key=f"tox.{k}", name=f"Toxicity: {t.term}", result=R_HOLD, value=txt, date_used=t.onset,
                    rule_ids=("MOD-NH-4", "MOD-GEN-2", "MOD-NH-6"),
                    action=f"Hold until it recovers to Grade 1 or the pre-treatment grade (G{g_pre}), recorded as resolved (label: no override).",
                    override_rule="MOD-NH-4",
                )
            else:
                self.add(key=f"tox.{k}", name=f"Toxicity: {t.term}", result=R_INFO, value=txt, date_used=t.onset,
                         rule_ids=("MOD-NH-4", "MOD-NH-6"))

    # -- premedication ------------------------------------------------------------------------
    def premeds(self) -> None:
        start = self.ctx.infusion_start
        for cls in rules.PREMED_CLASSES:
            given = [p for p in self.rec.premeds if p.drug_class == cls]
            complete = [p for p in given if p.drug.strip() and p.dose.strip() and p.given_at is not None]
            ok = [p for p in complete if start is None or p.given_at <= start]
            key, name = f"premed.{cls}", f"Premedication: {cls}"
            if ok:
                p = ok[-1]
                self.add(key=key, name=name, result=R_PASS,
                         value=f"{p.drug} {p.dose} at {to_local(p.given_at):%Y-%m-%d %H:%M %Z}", rule_ids=("PRE-1",))
                continue
            if complete:
                value = "given after the infusion start"
            elif given:
                value = "recorded without drug, dose or time"
            else:
                value = "not recorded"
            self.add(
                key=key, name=name, result=R_HOLD, value=value, rule_ids=("PRE-1",),
                action=f"Give and record a {cls} (drug, dose, time) before the start, or a prescriber records a reasoned omission.",
                overridable_by=PRESCRIBER, override_rule="PRE-1",
            )

    # -- cytoreduction (PRE-3) ----------------------------------------------------------------
    def cytoreduction(self) -> None:
        if not (self.ctx.cycle == 1 and self.ctx.day == 1):
            return
        recs = _dated(self.rec.blasts, "collected_on")
        w = _Window(None, self.ctx.planned_date, self.window.oldest if self.window else None)
        r = _latest(recs, "blasts_per_mm3", w)
        key, name, rule_ids = "pre3.blasts", "Peripheral blasts before C1 D1", ("PRE-3", "CONV-CALC-7")
        if r is None:
            self.add(key=key, name=name, result=R_MISSING, value="no absolute blast count on or before this dose",
                     rule_ids=rule_ids, action="Enter the peripheral blast count (/mm³, or WBC and blast %).")
            return
        v = _dec(r.data["blasts_per_mm3"])
        src = f" (WBC {r.data.get('wbc')} × 10⁹/L × {r.data.get('blast_pct')}%)" if r.data.get("derived_from") == "wbc_pct" else ""
        txt = f"{_plain(v)} /mm³{src} on {r.on.isoformat()}"
        if v > rules.CYTOREDUCTION_MAX_BLASTS_PER_MM3:
            self.add(key=key, name=name, result=R_HOLD, value=txt, date_used=r.on, rule_ids=rule_ids,
                     action=f"Cytoreduce (hydroxyurea, steroids and/or vincristine) to ≤ {_plain(rules.CYTOREDUCTION_MAX_BLASTS_PER_MM3)} /mm³ before C1 D1; prescriber may override with a reason.",
                     overridable_by=PRESCRIBER, override_rule="PRE-3")
        else:
            self.add(key=key, name=name, result=R_PASS, value=txt, date_used=r.on, rule_ids=rule_ids)

    # -- first-dose gates ---------------------------------------------------------------------
    def first_dose_gates(self) -> None:
        ctx, rec = self.ctx, self.rec
        if not ctx.first:
            return
        # PRE-8 consent.
        c = rec.consent
        cdate = _date(c.get("consent_date")) if c else None
        if c is None or cdate is None:
            self.add(key="gate.consent", name="Consent", result=R_MISSING, value="not recorded", rule_ids=("PRE-8",),
                     action="Record consent (who, when) before the first dose.")
        elif c.get("consent") != "given":
            self.add(key="gate.consent", name="Consent", result=R_HOLD, value=f"{c.get('consent')} on {cdate.isoformat()}",
                     date_used=cdate, rule_ids=("PRE-8",), action="No treatment without consent (no override).")
        elif cdate > ctx.planned_date:
            self.add(key="gate.consent", name="Consent", result=R_MISSING, value=f"dated {cdate.isoformat()}, after this dose",
                     date_used=cdate, rule_ids=("PRE-8",), action="Consent must be recorded before the first dose.")
        else:
            self.add(key="gate.consent", name="Consent", result=R_PASS, value=f"given on {cdate.isoformat()}", date_used=cdate, rule_ids=("PRE-8",))
        # PRE-7 pregnancy status (UNVERIFIED: block until recorded; prescriber override).
        self._pregnancy()
        # PRE-6 ECG and electrolytes.
        ecg = max((d for d in rec.ecg_dates if d <= ctx.planned_date), default=None)
        lytes = max((d for d in rec.electrolytes_dates if d <= ctx.planned_date), default=None)
        txt = f"ECG {_fmt_date(ecg)}; electrolytes {_fmt_date(lytes)}"
        if ecg is None or lytes is None:
            self.add(key="gate.ecg", name="Baseline ECG and electrolytes", result=R_HOLD, value=txt, rule_ids=("PRE-6", "WARN-QT-1"),
                     action="Record a baseline ECG and electrolytes before starting; prescriber may override with a reason.",
                     overridable_by=PRESCRIBER, override_rule="PRE-6")
        else:
            self.add(key="gate.ecg", name="Baseline ECG and electrolytes", result=R_PASS, value=txt,
                     date_used=min(ecg, lytes), rule_ids=("PRE-6",))
        # IND-5 CD22.
        cd22 = (rec.diagnosis or {}).get("cd22")
        if cd22 == "positive":
            self.add(key="gate.cd22", name="CD22 positive", result=R_PASS, value="documented positive", rule_ids=("IND-5", "IND-1"))
        else:
            self.add(key="gate.cd22", name="CD22 positive", result=R_NEEDS, value=f"CD22 {cd22 or 'not recorded'}",
                     rule_ids=("IND-5", "IND-1"), action="A prescriber confirms treatment without documented CD22 positivity, with a reason.",
                     overridable_by=PRESCRIBER, override_rule="IND-5")
        # IND-2 age ≥ 1 year at the planned first dose.
        if ctx.patient_age_years < rules.MIN_AGE_YEARS:
            self.add(key="gate.age", name=f"Age ≥ {rules.MIN_AGE_YEARS} year", result=R_HOLD,
                     value=f"{ctx.patient_age_years} years at {ctx.planned_date.isoformat()}", rule_ids=("IND-2",),
                     action="Under 1 year: safety and effectiveness not established; prescriber override only, with a reason.",
                     overridable_by=PRESCRIBER, override_rule="IND-2")
        else:
            self.add(key="gate.age", name=f"Age ≥ {rules.MIN_AGE_YEARS} year", result=R_PASS,
                     value=f"{ctx.patient_age_years} years", rule_ids=("IND-2",))

    def _pregnancy(self) -> None:
        rec, ctx = self.rec, self.ctx
        key, name, rule_ids = "gate.pregnancy", "Pregnancy status", ("PRE-7", "WARN-EFT-1")
        if rec.sex == "male":
            self.add(key=key, name=name, result=R_PASS, value="male: not applicable", rule_ids=rule_ids)
            return
        sex = rec.sex or "not recorded"
        r = rec.reproductive
        common = dict(key=key, name=name, rule_ids=rule_ids, unverified_rule="PRE-7", overridable_by=PRESCRIBER, override_rule="PRE-7")
        if r is None or r.get("potential") not in ("yes", "no"):
            self.add(result=R_MISSING, value=f"sex {sex}; reproductive status not recorded",
                     action="Record reproductive potential and, where it applies, a pregnancy test result and date (prescriber may override with a reason).",
                     **common)
            return
        if r.get("potential") == "no":
            self.add(key=key, name=name, result=R_PASS, value=f"sex {sex}; no reproductive potential", rule_ids=rule_ids, unverified_rule="PRE-7")
            return
        test, tdate = r.get("pregnancy_test"), _date(r.get("test_date"))
        if test == "negative" and tdate is not None and tdate <= ctx.planned_date:
            self.add(key=key, name=name, result=R_PASS, value=f"pregnancy test negative on {tdate.isoformat()}", date_used=tdate,
                     rule_ids=rule_ids, unverified_rule="PRE-7")
        elif test == "positive":
            self.add(result=R_HOLD, value=f"pregnancy test POSITIVE on {_fmt_date(tdate)}", date_used=tdate,
                     action="Embryo-fetal harm possible (WARN-EFT-1): prescriber decides, override only with a reason.", **common)
        else:
            self.add(result=R_MISSING, value=f"reproductive potential; pregnancy test {test or 'not recorded'}{' on ' + tdate.isoformat() if tdate else ''}",
                     date_used=tdate, action="Record a pregnancy test result and date before the first dose (prescriber may override with a reason).",
                     **common)

    def qt_drug(self) -> None:
        """PRE-6: a newly recorded QT-prolonging drug prompts ECG and electrolytes."""
        started = self.rec.qt_drug_started_on
        if started is None:
            return
        ecg = max((d for d in self.rec.ecg_dates if started <= d <= self.ctx.planned_date), default=None)
        lytes = max((d for d in self.rec.electrolytes_dates if started <= d <= self.ctx.planned_date), default=None)
        txt = f"QT-prolonging drug since {started.isoformat()}; ECG after it {_fmt_date(ecg)}, electrolytes after it {_fmt_date(lytes)}"
        if ecg is None or lytes is None:
            self.add(key="qt.recheck", name="ECG and electrolytes after a QT-prolonging drug", result=R_NEEDS, value=txt,
                     date_used=started, rule_ids=("PRE-6", "WARN-QT-1"),
                     action="Record an ECG and electrolytes taken since the drug started, or a prescriber confirms with a reason.",
                     overridable_by=PRESCRIBER, override_rule="PRE-6")
        else:
            self.add(key="qt.recheck", name="ECG and electrolytes after a QT-prolonging drug", result=R_PASS, value=txt,
                     date_used=min(ecg, lytes), rule_ids=("PRE-6", "WARN-QT-1"))

    # -- weight and height since the calculation (CONV-WT-1/2), low weight (CONV-BSA-5) ---------
    def weight(self) -> None:
        ctx, s = self.ctx, self.settings
        recs = _dated(self.rec.measurements, "measured_on")
        w = self.window
        r = _latest(recs, "weight_kg", w) if w else None
        child = ctx.patient_age_years < rules.ADULT_AGE_YEARS
        pct = s.weight_change_pct_child if child else s.weight_change_pct_adult
        rule_ids = ("CONV-WT-1", "PRE-9", "MON-8")
        if ctx.weight_used_kg is None:
            self.add(key="weight.change", name="Weight since the dose calculation", result=R_MISSING,
                     value="no calculated dose for this dose", rule_ids=rule_ids,
                     action="Calculate and double-check the dose from a current measurement.")
        elif r is None:
            older = _latest_any(recs, "weight_kg")
            self.add(key="weight.change", name="Weight since the dose calculation", result=R_MISSING,
                     value=f"no weight recorded for this dose (latest {older.on.isoformat() if older else 'none'})",
                     rule_ids=rule_ids, action=f"Weigh the patient and record it ({w.text() if w else 'after the previous dose'}).")
        else:
            now = _dec(r.data["weight_kg"])
            used = ctx.weight_used_kg
            with _local():
                delta = abs(now - used)
                over = delta * _PERCENT > pct * used  # exactly at the threshold does not trigger
                shown = _show(delta * _PERCENT / used) if used > 0 else "?"
            txt = f"{_plain(now)} kg on {r.on.isoformat()} vs {_plain(used)} kg used: {shown}% (limit > {_plain(pct)}% {'under 18' if child else 'adult'})"
            if over:
                self.add(key="weight.change", name="Weight since the dose calculation", result=R_HOLD, value=txt, date_used=r.on,
                         rule_ids=rule_ids, action="Recalculate BSA and dose from the new weight and repeat the double-check before dosing (no override).")
            else:
                self.add(key="weight.change", name="Weight since the dose calculation", result=R_PASS, value=txt, date_used=r.on, rule_ids=rule_ids)
            self._height(r, pct, child)
        # CONV-BSA-5: BSA dosing under 10 kg needs a prescriber's confirmation (every dose).
        wt = ctx.weight_used_kg if ctx.weight_used_kg is not None else (_dec(r.data["weight_kg"]) if r else None)
        if wt is not None and wt < s.low_weight_confirm_kg:
            self.add(key="bsa.low_weight", name=f"Weight under {_plain(s.low_weight_confirm_kg)} kg", result=R_NEEDS,
                     value=f"{_plain(wt)} kg", rule_ids=("CONV-BSA-5", "POP-PED-2"),
                     action="BSA dosing under 10 kg can overdose: a prescriber confirms the dose, with a reason.",
                     overridable_by=PRESCRIBER, override_rule="CONV-BSA-5")

    # -- MON-8: a VOD review prompt (never a hold: a prescriber reviews) -------------------------
    def vod_review(self) -> None:
        """A bilirubin rise (as a multiple of its ULN, so units and labs compare) or a weight gain
        over [SITE] 5% against the pre-treatment values prompts a VOD review (MON-8, WARN-VOD-2)."""
        if self.ctx.first or self.window is None:
            return  # before the first dose there is nothing to compare with
        bw = self._baseline_window()
        if bw is None:
            return
        found: list[str] = []
        dates: list[date] = []
        recs = _dated(self.rec.measurements, "measured_on")
        base_w, cur_w = _latest(recs, "weight_kg", bw), _latest(recs, "weight_kg", self.window)
        if base_w is not None and cur_w is not None:
            b, c = _dec(base_w.data["weight_kg"]), _dec(cur_w.data["weight_kg"])
            with _local():
                over = b > 0 and (c - b) * _PERCENT > self.settings.weight_gain_vod_pct * b  # exactly at it: no prompt
                gain = _show((c - b) * _PERCENT / b) if b > 0 else "?"
            if over:
                found.append(f"weight {_plain(c)} kg on {cur_w.on.isoformat()}, +{gain}% over the pre-treatment "
                             f"{_plain(b)} kg (> {_plain(self.settings.weight_gain_vod_pct)}%)")
                dates.append(cur_w.on)
        base_b = _liver_of(_latest(self.labs, "bilirubin", bw), "bilirubin")
        cur_b = _liver_of(_latest(self.labs, "bilirubin", self.window), "bilirubin")
        if base_b is not None and cur_b is not None and cur_b.value * base_b.uln > base_b.value * cur_b.uln:
            found.append(f"total bilirubin {_plain(cur_b.value)} {cur_b.unit} ({_ratio_text(cur_b.value, cur_b.uln)} × ULN) on "
                         f"{cur_b.on.isoformat()}, up from the pre-treatment {_plain(base_b.value)} {base_b.unit} "
                         f"({_ratio_text(base_b.value, base_b.uln)} × ULN)")
            dates.append(cur_b.on)
        if found:
            self.add(key="vod.review", name="VOD review prompted", result=R_INFO, value="; ".join(found), date_used=max(dates),
                     rule_ids=("MON-8", "MON-6", "WARN-VOD-2"),
                     action=f"Review for hepatic VOD/SOS now. {rules.WARN_FACTS['MON-6']} ({rules.WARN_FACTS['MON-8']}) Tell the "
                            "prescriber; a VOD diagnosis is recorded as toxicity and discontinues (WARN-VOD-4, MOD-NH-1).")

    def _height(self, r: _Rec, pct: Decimal, child: bool) -> None:
        from .calc import bsa  # local: predose needs calc only for CONV-WT-2

        ctx = self.ctx
        h_now, w_now = _dec(r.data.get("height_cm")), _dec(r.data.get("weight_kg"))
        if ctx.height_used_cm is None or h_now is None or h_now == ctx.height_used_cm:
            return
        formula = r.data.get("bsa_formula") or rules.BSA_DEFAULT_FORMULA
        rule_ids = ("CONV-WT-2", "CONV-WT-1")
        try:
            new = bsa(h_now, w_now, formula).exact
            old = bsa(ctx.height_used_cm, ctx.weight_used_kg, formula).exact
        except (TypeError, ValueError, KeyError, ArithmeticError):
            self.add(key="height.change", name="Height since the dose calculation", result=R_HOLD,
                     value=f"{_plain(h_now)} cm vs {_plain(ctx.height_used_cm)} cm used; BSA cannot be recomputed",
                     rule_ids=rule_ids, action="Recalculate BSA and dose and repeat the double-check.")
            return
        with _local():
            over = abs(new - old) * _PERCENT > pct * old
            shown = _show(abs(new - old) * _PERCENT / old)
        txt = f"{_plain(h_now)} cm on {r.on.isoformat()} vs {_plain(ctx.height_used_cm)} cm used: BSA {_show(new)} vs {_show(old)} m², {shown}% (limit > {_plain(pct)}%)"
        if over:
            self.add(key="height.change", name="Height since the dose calculation", result=R_HOLD, value=txt, date_used=r.on,
                     rule_ids=rule_ids, action="Recalculate BSA and dose and repeat the double-check before dosing (no override).")
        else:
            self.add(key="height.change", name="Height since the dose calculation", result=R_INFO, value=txt, date_used=r.on,
                     rule_ids=rule_ids, action="New height: BSA recomputed; the change is within the threshold.")

    # -- shown, never blocking ------------------------------------------------------------------
    def shown(self) -> None:
        if self.settings.emergency_checklist:
            ans = self.rec.emergency_ready
            self.add(key="emergency", name="Emergency drugs and equipment available", result=R_INFO,
                     value={True: "yes", False: "NO", None: "not answered"}[ans], rule_ids=("PRE-10",),
                     action="" if ans else "Check resuscitation drugs and equipment; the answer is recorded and never blocks.")
        dev = self.rec.observation_incomplete
        if dev is not None:
            self.add(key="observation.previous", name="Observation incomplete at the previous dose", result=R_INFO,
                     value=f"recorded by {dev.user} at {to_local(dev.at):%Y-%m-%d %H:%M %Z}: {dev.reason}", rule_ids=("MON-2",),
                     action="Shown for information; ask about reactions since the previous dose.")

    # -- overrides ------------------------------------------------------------------------------
    def apply_overrides(self) -> None:
        ctx = self.ctx
        mine = [o for o in self.rec.overrides if o.cycle == ctx.cycle and o.day == ctx.day]
        outcome: dict[int, str] = {}  # id(override) → why it was not applied, or "" if applied
        out: list[Check] = []
        for c in self.checks:
            if c.override_rule is None or c.result in (R_PASS, R_INFO):
                out.append(c)
                continue
            applied: Override | None = None
            for o in mine:
                if o.rule_id != c.override_rule or (o.check is not None and o.check != c.key):
                    continue
                if c.overridable_by is None:
                    why = f"{c.name}: label hold or no override allowed (CONV-LAB-6, 16.1)"
                elif o.role != c.overridable_by:
                    why = f"{c.name}: only a {c.overridable_by} may override; {o.user} is a {o.role}" + (
                        " (a nurse can never override)" if o.role == "nurse" else "")
                elif not o.reason.strip():
                    why = f"{c.name}: an override needs a reason"
                else:
                    applied = o  # the latest valid one wins
                    outcome[id(o)] = ""
                    continue
                outcome.setdefault(id(o), why)
            if applied is None:
                out.append(c)
            else:
                result = R_DISCONTINUE if applied.decision == "discontinue" else R_PASS
                out.append(evolve(c, result=result, override=applied, overridden_from=c.result,
                                  unverified_rule=c.unverified_rule or applied.unverified_rule))
        for o in mine:
            why = outcome.get(id(o))
            if why == "":
                continue
            if why is None:
                matched = [
                    c for c in self.checks
                    if (c.override_rule == o.rule_id or o.rule_id in c.rule_ids) and (o.check is None or o.check == c.key)
                ]
                if matched and all(c.result in (R_PASS, R_INFO) for c in matched):
                    why = "not needed: the check passed"
                elif matched:
                    why = "that check cannot be overridden (a missing or stale value is entered, not overridden)"
                else:
                    why = f"no check under {o.rule_id} at this dose"
            out.append(Check(key=f"override.ignored.{o.rule_id}", name="Override not applied", result=R_INFO,
                             value=f"{o.rule_id} by {o.user} ({o.role}): {why}", rule_ids=(o.rule_id, "CONV-OVR-1"),
                             action="The recorded override changed nothing."))
        self.checks = out


_WORD = re.compile(r"[a-z]+")


def _term_key(term: str) -> str:
    return " ".join(term.split()).casefold()


def _is_vod(term: str) -> bool:
    t = _term_key(term)
    return any(m in t for m in rules.VOD_TERM_MARKERS) or any(w in rules.VOD_TERM_WORDS for w in _WORD.findall(t))


def _is_irr(term: str) -> bool:
    t = _term_key(term)
    return any(m in t for m in rules.IRR_TERM_MARKERS)


def _is_anaphylaxis(term: str) -> bool:
    t = _term_key(term)
    return any(m in t for m in rules.ANAPHYLAXIS_TERM_MARKERS)


def evaluate(
    ctx: DoseContext, patient_records: PatientRecords, today: date, settings: PredoseSettings = PredoseSettings()  # noqa: B008
) -> Verdict:
    """Every pre-dose check for one dose, and the overall answer (strictest wins)."""
    if not isinstance(today, date) or isinstance(today, datetime):
        raise TypeError("today must be a date")
    b = _Builder(ctx, patient_records, today, settings)
    b.identity()
    found = b.labs_present()
    b.hematologic(found)
    b.toxicities()  # before hepatic: a recorded MOD-NH-4 hold is a label hold for CONV-LAB-6
    b.hepatic(found)
    b.premeds()
    b.cytoreduction()
    b.first_dose_gates()
    b.qt_drug()
    b.weight()
    b.vod_review()
    b.shown()
    b.apply_overrides()
    checks = tuple(b.checks)
    return Verdict(overall_of(checks), checks)

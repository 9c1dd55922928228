"""The pre-dose check's results: one :class:`Check` per rule, the :class:`Verdict` and its overall
answer (precedence: :mod:`bedside.core.predose`'s docstring), and the number formats of the texts."""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from attrs import field, frozen
from attrs.validators import in_, optional

if TYPE_CHECKING:
    from .inputs import Override

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


def _local():
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

"""Exact arithmetic for the calculation (CONV-CALC-1): ``decimal`` with ROUND_HALF_UP in a *local*
context (the global one is never touched); a binary ``float`` is refused on input (``TypeError``)
and never reaches a result. Display helpers for the trail."""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

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


def _local():
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

"""What the preparation screen and the decisions read from a patient's projection
(:class:`bedside.core.projection.PatientView`): each dose's fold once per view, the level the
timeline gives the dose, and whether the calculation still matches its source inputs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import calc
from .state import PrepState, dose_id, stale_reasons


def prep_of(view: Any, dose: str) -> PrepState:
    """The preparation of ``dose`` (folded once per view)."""
    return view.prep(dose)


def dose_level(view: Any, cycle: int, day: int) -> tuple[Decimal | None, str]:
    """The level (mg/m²) of a dose and why, from the treatment timeline (DOSE-1, DOSE-4, CONV-MOD-*).

    Before cycle 1 is on the timeline, its doses take Table 1's cycle-1 row, which no response
    changes (DOSE-1). ``None``: no level yet, the reason says why (CONV-RESP-4, CONV-MOD-3)."""
    d = view.timeline.dose(cycle, day)
    if d is not None:
        return d.level, d.level_basis
    if cycle == 1:
        try:
            return calc.table1_level(1, day, None), f"Table 1, cycle 1 Day {day} (DOSE-1)"
        except ValueError as exc:
            return None, str(exc)
    return None, f"cycle {cycle} is not on the treatment timeline yet"


def stale(view: Any, cycle: int, day: int) -> list[str]:
    """Why the dose's calculation no longer matches its inputs: the current height and weight, the
    site's BSA formula and the timeline's level (CONV-VERIFY-1: any change voids the double-check)."""
    level, _basis = dose_level(view, cycle, day)
    return stale_reasons(view.prep(dose_id(cycle, day)), view.patient.current("measurement"), view.site.bsa_formula, level)


def calculation_stale(view: Any, st: PrepState) -> list[str]:
    """:func:`stale` for the dose of ``st``'s calculation (none: nothing is stale)."""
    c = st.calculation
    if c is None:
        return []
    return stale(view, int(c.data["cycle"]), int(c.data["day"]))


def verify_refusal(view: Any, dose: str) -> str | None:
    """Why the dose cannot be double-checked now (nothing calculated, or its inputs changed)."""
    st = view.prep(dose)
    if st.calculation is None:
        return "Calculate (c) before the double-check."
    reasons = calculation_stale(view, st)
    if reasons:
        return f"Calculate (c) before the double-check: {'; '.join(reasons)} (CONV-VERIFY-1)."
    return None

"""Dose, volume and vial calculation for BESPONSA: pure functions, ``decimal`` only.

Everything here follows section 14 of ``shared/clinical-reference.md``:

* ``decimal`` with ROUND_HALF_UP in a *local* context (CONV-CALC-1); the global context is never
  touched, and a binary ``float`` is refused on input (``TypeError``) and never reaches a result.
* BSA in full precision, shown half-up to 0.01 m² (CONV-CALC-2); Mosteller by ``Decimal.sqrt()``,
  the power formulas by ``Decimal.ln``/``exp``; Boyd in the gram form (CONV-BSA-1, CONV-BSA-3).
* Pipeline A only: dose = full-precision BSA × level, half-up to 0.01 mg (CONV-CALC-3).
* Every clinical number comes from :mod:`bedside.core.rules`.

No I/O, no printing, no Textual. A package (issue 16): :mod:`.numbers` (the exact arithmetic),
:mod:`.bsa` (BSA, level, dose), :mod:`.preparation` (vials, route, rate, trail), :mod:`.regimen`
(reductions, JSON); ``bedside.core.calc`` re-exports their public names.
"""

from __future__ import annotations

from .bsa import FORMULA_LABELS, FORMULAS, Bsa, bsa, dose_mg, table1_level
from .preparation import ROUTE_BAG, ROUTE_SYRINGE, Preparation, prepare
from .regimen import REDUCTION_RULES, REDUCTIONS, regimen_level, to_json, with_reduction

__all__ = [
    "FORMULAS",
    "FORMULA_LABELS",
    "REDUCTIONS",
    "REDUCTION_RULES",
    "ROUTE_BAG",
    "ROUTE_SYRINGE",
    "Bsa",
    "Preparation",
    "bsa",
    "dose_mg",
    "prepare",
    "regimen_level",
    "table1_level",
    "to_json",
    "with_reduction",
]

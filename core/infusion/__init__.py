"""The infusion monitor (issue 7) as a package (issue 16): events, fold, state, alerts, commands.

``bedside.core.infusion`` re-exports the names other modules and tests import.
"""

from __future__ import annotations

from . import fold as _fold
from .reactions import fact_time, reaction_numbers

globals().update({k: v for k, v in vars(_fold).items() if not k.startswith("__")})

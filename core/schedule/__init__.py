"""Cycle timeline (core/schedule): a pure schedule engine over the patient stream.

Modules: ``events`` (the typed payloads and kind names), ``engine`` (the fold and the checks).
This package re-exports the names other modules and tests import.
"""

from __future__ import annotations

from .engine import *  # noqa: F403
from .engine import _need_dose, _text  # noqa: F401  (core/eligibility, tests)
from .events import *  # noqa: F403

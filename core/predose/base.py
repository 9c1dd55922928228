"""The state every check family shares while one dose is checked (the builder's base)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .inputs import DoseContext, PatientRecords, PredoseSettings
from .reading import _dated, _dose_window, _Window
from .results import Check


class _Base:
    """The dose, its records, the day and the site settings; the checks added so far."""

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

    def _baseline_window(self) -> _Window | None:
        """CONV-HEM-1 / CTCAE-3: the last values before the first BESPONSA dose."""
        if self.ctx.first:
            return self.window
        if self.ctx.first_dose_date is None:
            return None
        return _Window(None, self.ctx.first_dose_date)

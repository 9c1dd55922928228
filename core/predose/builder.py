"""The engine: every check family run in order for one dose, then the overrides applied."""

from __future__ import annotations

from datetime import date, datetime

from .checks_counts import CountChecks
from .checks_first_dose import FirstDoseChecks
from .checks_labs import LabChecks
from .checks_liver import LiverChecks
from .checks_toxicity import ToxicityChecks
from .checks_weight import WeightChecks
from .inputs import DoseContext, PatientRecords, PredoseSettings
from .overrides import OverrideChecks
from .results import Verdict, overall_of


class _Builder(LabChecks, CountChecks, LiverChecks, ToxicityChecks, FirstDoseChecks, WeightChecks, OverrideChecks):
    """One dose's checks, added in order by each family (one module each)."""


def evaluate(
    ctx: DoseContext,
    patient_records: PatientRecords,
    today: date,
    settings: PredoseSettings = PredoseSettings(),
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

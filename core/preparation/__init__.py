"""Dose preparation (issue 16: a package): the calculation, the recorded steps with their
stability deadlines, a pharmacist's overrides, the syringe route and the blind double-check.

- :mod:`.events`: the five event classes (``prep.calculated``, ``prep.step``,
  ``prep.verification``, ``prep.syringe``, ``prep.override``);
- :mod:`.state`: :func:`fold` → :class:`PrepState` (deadlines from :mod:`bedside.core.stability`);
- :mod:`.checks`: each action's rules, returning its event or raising ValueError;
- :mod:`.commands`: the screen's commands and their decisions (the role read from the users log);
- :mod:`.view`: what the screen reads from the patient's projection (the level, staleness);

``bedside.core.preparation`` re-exports the names other modules and tests import.
"""

from __future__ import annotations

from . import commands
from .checks import PREPARER_ROLES, VIALS_KEPT, check_syringe_volume, override_refusal, parse_verification, second_person
from .commands import (
    STEP_COMMANDS,
    CalculateDose,
    Dilute,
    DiscardPreparation,
    DoubleCheck,
    OverrideStability,
    Reconstitute,
    RecordStep,
    RecordSyringe,
    RefrigerateBag,
    RemoveBag,
    ScanCarton,
    SetSyringeVolume,
    step_command,
    syringe_refusal,
)
from .events import (
    CALCULATED,
    CARTON,
    KINDS,
    OVERRIDE,
    STEP,
    SYRINGE,
    VERIFICATION,
    CartonScanned,
    PrepCalculated,
    PrepOverride,
    PrepStep,
    PrepSyringe,
    PrepVerification,
)
from .state import (
    OVERRIDABLE,
    OVERRIDE_NOTE,
    STEP_LABELS,
    STEPS,
    VERIFIER_ROLES,
    VERIFY_FIELDS,
    VERIFY_LABELS,
    Calculation,
    PrepState,
    Step,
    Verification,
    dose_id,
    fold,
    stale_reasons,
    status_words,
    syringe_volume_range,
)
from .view import calculation_stale, dose_level, prep_of, stale, verify_refusal

__all__ = [
    "CALCULATED",
    "CARTON",
    "KINDS",
    "OVERRIDABLE",
    "OVERRIDE",
    "OVERRIDE_NOTE",
    "PREPARER_ROLES",
    "STEP",
    "STEPS",
    "STEP_COMMANDS",
    "STEP_LABELS",
    "SYRINGE",
    "VERIFICATION",
    "VERIFIER_ROLES",
    "VERIFY_FIELDS",
    "VERIFY_LABELS",
    "VIALS_KEPT",
    "CalculateDose",
    "Calculation",
    "CartonScanned",
    "Dilute",
    "DiscardPreparation",
    "DoubleCheck",
    "OverrideStability",
    "PrepCalculated",
    "PrepOverride",
    "PrepState",
    "PrepStep",
    "PrepSyringe",
    "PrepVerification",
    "Reconstitute",
    "RecordStep",
    "RecordSyringe",
    "RefrigerateBag",
    "RemoveBag",
    "ScanCarton",
    "SetSyringeVolume",
    "Step",
    "Verification",
    "calculation_stale",
    "check_syringe_volume",
    "dose_id",
    "dose_level",
    "fold",
    "override_refusal",
    "parse_verification",
    "prep_of",
    "second_person",
    "stale",
    "stale_reasons",
    "status_words",
    "step_command",
    "syringe_refusal",
    "syringe_volume_range",
    "verify_refusal",
]

"""The pre-dose check: pure engine, its records as typed events, and the pre-dose commands.

The caller passes a :class:`DoseContext` (which dose, what the current calculation used) and the
:class:`PatientRecords` it extracted from the patient's events (:func:`context_and_records`);
:func:`evaluate` returns a :class:`Verdict`: one overall answer and every check with its value,
date, rule IDs, what to do and who (if anyone) may override it (CONV-OVR-1, table 16.1 of
``shared/clinical-reference.md``). :func:`verdict` adds the one answer of core/eligibility.py
(issue 15); :func:`predose_verdict` reads it from a patient's projection, once per view.

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

Modules: ``results`` (Check, Verdict, precedence), ``inputs`` (DoseContext, PatientRecords...),
``grading`` (CTCAE), ``reading`` (stored values, the CONV-LAB-5 window), ``checks_*`` (one family
of checks each: labs and identity, counts, liver, toxicity, first dose, weight), ``overrides``,
``builder`` (:func:`evaluate`), ``events`` (the typed events), ``records`` (events → engine
inputs, :func:`verdict`), ``view`` (the projection's accessor), ``commands`` (each pre-dose key's
command and decision), ``premeds`` (premedication in one form: :class:`RecordPremeds` and what the
form offers), ``todos`` (what is left to do, in order: :func:`todo`, :func:`dose_todo`).
"""

from __future__ import annotations

from .builder import evaluate
from .commands import (
    BILIRUBIN_CAUSE_ROLE,
    CLINICIANS,
    TOXICITY_GRADES,
    ConfirmIdentity,
    OverrideCheck,
    RecordBilirubinCause,
    RecordChecklist,
    RecordEcg,
    RecordElectrolytes,
    RecordPremed,
    RecordQtDrug,
    RecordToxicity,
    RecordVerdict,
    ResolveToxicity,
    premed_given_at,
)
from .events import (
    BILI_CAUSE,
    CHECKLIST,
    ECG,
    ELECTROLYTES,
    IDENTITY,
    OVERRIDE,
    PREDOSE_EVENTS,
    PREMED,
    QT_DRUG,
    TOX_RECORDED,
    TOX_RESOLVED,
    VERDICT,
    BilirubinCauseRecorded,
    ChecklistRecorded,
    EcgRecorded,
    ElectrolytesRecorded,
    IdentityConfirmed,
    OverrideRecorded,
    PremedGiven,
    QtDrugRecorded,
    ToxicityRecorded,
    ToxicityResolved,
    VerdictRecorded,
)
from .grading import grade_anc, grade_bilirubin, grade_platelets, grade_transaminase, grade_transaminase_v3
from .inputs import (
    BilirubinCause,
    Discontinuation,
    DoseContext,
    IdentityConfirmation,
    ObservationDeviation,
    Override,
    PatientRecords,
    PredoseSettings,
    Premed,
    Toxicity,
)
from .premeds import SITE_PROTOCOL, PremedOffer, PremedRow, RecordPremeds, premed_offer
from .records import context_and_records, verdict
from .results import (
    DISCONTINUE,
    HOLD,
    NEEDS_CONFIRMATION,
    OVERALL_PRECEDENCE,
    OVERRIDE_ROLES,
    PHARMACIST,
    PRESCRIBER,
    PROCEED,
    R_DISCONTINUE,
    R_HOLD,
    R_INFO,
    R_MISSING,
    R_NEEDS,
    R_PASS,
    R_REDUCE,
    REDUCE,
    RESULTS,
    Check,
    Verdict,
    overall_of,
)
from .todos import BLOCKED_ORDER, TASK_ORDER, Todo, TodoItem, TodoKind, dose_todo, todo
from .view import overridable, predose_verdict

__all__ = [
    "BILIRUBIN_CAUSE_ROLE",
    "BILI_CAUSE",
    "BLOCKED_ORDER",
    "CHECKLIST",
    "CLINICIANS",
    "DISCONTINUE",
    "ECG",
    "ELECTROLYTES",
    "HOLD",
    "IDENTITY",
    "NEEDS_CONFIRMATION",
    "OVERALL_PRECEDENCE",
    "OVERRIDE",
    "OVERRIDE_ROLES",
    "PHARMACIST",
    "PREDOSE_EVENTS",
    "PREMED",
    "PRESCRIBER",
    "PROCEED",
    "QT_DRUG",
    "REDUCE",
    "RESULTS",
    "R_DISCONTINUE",
    "R_HOLD",
    "R_INFO",
    "R_MISSING",
    "R_NEEDS",
    "R_PASS",
    "R_REDUCE",
    "SITE_PROTOCOL",
    "TASK_ORDER",
    "TOXICITY_GRADES",
    "TOX_RECORDED",
    "TOX_RESOLVED",
    "VERDICT",
    "BilirubinCause",
    "BilirubinCauseRecorded",
    "Check",
    "ChecklistRecorded",
    "ConfirmIdentity",
    "Discontinuation",
    "DoseContext",
    "EcgRecorded",
    "ElectrolytesRecorded",
    "IdentityConfirmation",
    "IdentityConfirmed",
    "ObservationDeviation",
    "Override",
    "OverrideCheck",
    "OverrideRecorded",
    "PatientRecords",
    "PredoseSettings",
    "Premed",
    "PremedGiven",
    "PremedOffer",
    "PremedRow",
    "QtDrugRecorded",
    "RecordBilirubinCause",
    "RecordChecklist",
    "RecordEcg",
    "RecordElectrolytes",
    "RecordPremed",
    "RecordPremeds",
    "RecordQtDrug",
    "RecordToxicity",
    "RecordVerdict",
    "ResolveToxicity",
    "Todo",
    "TodoItem",
    "TodoKind",
    "Toxicity",
    "ToxicityRecorded",
    "ToxicityResolved",
    "Verdict",
    "VerdictRecorded",
    "context_and_records",
    "dose_todo",
    "evaluate",
    "grade_anc",
    "grade_bilirubin",
    "grade_platelets",
    "grade_transaminase",
    "grade_transaminase_v3",
    "overall_of",
    "overridable",
    "predose_verdict",
    "premed_given_at",
    "premed_offer",
    "todo",
    "verdict",
]

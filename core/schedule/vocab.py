"""The schedule's words: choices the checks accept, dose states, proposal scopes and rule sets."""

from __future__ import annotations

from datetime import timedelta

from .. import rules

TOXICITIES = ("hematologic", "non_hematologic", "other")
TOXICITY_WORDS = {"hematologic": "hematologic toxicity", "non_hematologic": "non-hematologic toxicity", "other": "other cause"}
RESPONSES = ("cr", "cri", "neither", "not_assessed")  # RESP-4
IN_CR_CRI = frozenset({"cr", "cri"})  # DOSE-4: CR and CRi alike
MRD_VALUES = ("negative", "positive", "unknown")  # RESP-4
EXTENSION_REASONS = ("cr_cri", "toxicity_recovery", "other")  # SCHED-4, CONV-SCHED-3
DISCONTINUE_REASONS = (
    "vod",
    "severe_infusion_reaction",
    "no_response_3_cycles",
    "prescriber_decision",
    "patient_choice",
    "other",
)
HSCT_PLANS = ("planned", "not_planned", "undecided")
ROWS = ("cr_cri", "no_cr_cri")  # DOSE-1 rows for cycle ≥ 2
DECISIONS = ("confirmed", "declined")
ROLES = ("prescriber", "pharmacist")

# Dose states.
PLANNED = "planned"
DUE_TODAY = "due_today"
IN_WINDOW = "in_window"
GIVEN = "given"
HELD = "held"
OMITTED = "omitted"
DELAYED = "delayed"
NOT_APPLICABLE = "not_applicable"
BLOCKED = "blocked"  # its window opened or passed inside another dose's toxicity hold (MOD-INT, CONV-MOD-4)
OVERDUE = "overdue"
STATES = (PLANNED, DUE_TODAY, IN_WINDOW, GIVEN, HELD, OMITTED, DELAYED, NOT_APPLICABLE, OVERDUE, BLOCKED)
RESOLVED_STATES = frozenset({GIVEN, OMITTED, NOT_APPLICABLE})

# Proposal scopes: what an undecided proposal blocks in check_give.
SCOPE_DOSE = "dose"  # its own dose
SCOPE_CYCLE = "cycle"  # every dose of its cycle
SCOPE_ALL = "all"  # every dose (a discontinuation question)
SCOPE_NONE = "none"  # nothing (cycle limits already block, or information)

DISCONTINUE_RULES = frozenset({"MOD-INT-5", "MOD-INT-6", "MOD-HEM-4", "CYC-3"})
LEVEL_RULES = frozenset({"CONV-RESP-4", "CONV-MOD-1", "CONV-MOD-2", "CONV-MOD-3"})
DATE_RULES = frozenset({"SCHED-7", "CONV-SCHED-3", "CONV-SCHED-7"})
TABLE4_DOSE_RULES = frozenset({"MOD-INT-1", "MOD-INT-2"})

SPACING = timedelta(days=rules.MIN_DAYS_BETWEEN_DOSES)  # SCHED-3, CONV-SCHED-2

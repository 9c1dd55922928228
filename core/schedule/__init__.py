"""Cycle timeline: a pure schedule engine over the patient stream (no I/O, no clock, no UI).

:func:`timeline` folds the events of one patient stream (``patient:<id>``) into a
:class:`Timeline` for a given local ``today``. The ``check_*`` helpers validate a user action
against a timeline and return the ``data`` of the event to append (the fields of its payload
class), or raise ``ValueError`` with a message that names the rule and, where there is one, the
nearest allowed date. The commands (one per timeline key) decide with them, roles included.
Nothing here is stored: cycle and day numbers are derived (SCHED-8).

Dose days are the site's **local calendar dates** (CONV-TIME-1). Events carry UTC timestamps, but
every schedule-relevant date is stored explicitly in ``data`` as an ISO date string, so this
package never converts time zones. Levels are exact decimal strings (CONV-CALC-6).

Modules:

- ``events``: the typed payload of every schedule kind (their fields are the stored JSON keys);
- ``vocab``: the choices the checks accept, dose states, proposal scopes, rule sets;
- ``model``: Window, Dose, Cycle, Proposal, Levels, Timeline and the facts read from the events;
- ``parse``: events → facts (entries recorded in error skipped); ``voids``: those entries;
- ``table4``, ``levels``, ``limits``, ``doses``: the rules the fold applies; ``fold``: :func:`timeline`;
- ``checks``, ``prescriber_checks``: the pure checks; ``commands``: the commands and their decisions;
- ``access``: what the timeline screen asks core (may this user act, the dose in mg to show).
"""

from __future__ import annotations

from .access import ACTIONS, CLINICIANS, ActionAccess, DoseAmount, access, dose_amount, voided_of
from .checks import (
    _need_dose,
    _text,
    check_discontinue,
    check_extend,
    check_give,
    check_hold,
    check_move,
    check_omit,
    check_recover,
    check_response,
    check_start,
)
from .commands import (
    ConfirmLevels,
    DecideProposal,
    DiscontinueTreatment,
    ExtendCycle,
    HoldDose,
    MoveDose,
    OmitDose,
    RecordDoseGiven,
    RecordRecovery,
    RecordResponse,
    StartCycle,
    VoidLatestEntry,
)
from .events import (
    CYCLE_EXTENDED,
    CYCLE_STARTED,
    DOSE_GIVEN,
    DOSE_HELD,
    DOSE_MOVED,
    DOSE_OMITTED,
    DOSE_RECOVERED,
    INFUSION_STARTED_KIND,
    INTAKE_CORRECTED,
    INTAKE_HSCT,
    KINDS,
    LEVELS_CONFIRMED,
    PAYLOADS,
    PROPOSAL_DECIDED,
    RESPONSE_RECORDED,
    SCHEDULE_VOIDED,
    TREATMENT_DISCONTINUED,
    CycleExtended,
    CycleStarted,
    DoseGiven,
    DoseHeld,
    DoseMoved,
    DoseOmitted,
    DoseRecovered,
    LevelsConfirmed,
    ProposalDecided,
    ResponseRecorded,
    ScheduleVoided,
    TreatmentDiscontinued,
)
from .fold import timeline
from .levels import levels_for
from .model import Cycle, CycleLimit, Dose, Levels, Proposal, Timeline, Window
from .prescriber_checks import check_decide, check_levels
from .vocab import (
    BLOCKED,
    DATE_RULES,
    DECISIONS,
    DELAYED,
    DISCONTINUE_REASONS,
    DISCONTINUE_RULES,
    DUE_TODAY,
    EXTENSION_REASONS,
    GIVEN,
    HELD,
    HSCT_PLANS,
    IN_CR_CRI,
    IN_WINDOW,
    LEVEL_RULES,
    MRD_VALUES,
    NOT_APPLICABLE,
    OMITTED,
    OVERDUE,
    PLANNED,
    RESOLVED_STATES,
    RESPONSES,
    ROLES,
    ROWS,
    SCOPE_ALL,
    SCOPE_CYCLE,
    SCOPE_DOSE,
    SCOPE_NONE,
    STATES,
    TABLE4_DOSE_RULES,
    TOXICITIES,
    TOXICITY_WORDS,
)
from .voids import (
    DECISION_KINDS,
    VOIDABLE_KINDS,
    VoidedEntry,
    check_void,
    describe_entry,
    latest_entry,
    void_needs,
    void_refusal,
    voided_entries,
    voided_versions,
)

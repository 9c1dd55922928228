"""The infusion monitor (issue 7): phases, timers, vital signs, reactions and alerts, as a pure fold;
the monitor's commands and their decisions (issue 16).

Sections 8–10, 15 (CTCAE-1), 16 (CONV-IRR-1 to 3, CONV-STAB-*, 16.1) and 11 (WARN-ALERT-1) of
``shared/clinical-reference.md``; worked examples T1, T3, T5 and T7 of §18.4. Pure functions: no
I/O, no clock (``now`` is passed in), no printing. Everything the screen shows is derived from the
events and ``now``, so a restarted terminal or a dropped SSH link shows the same phase to the second.

Phases
------
``NOT STARTED`` → ``INFUSING`` ⇄ ``PAUSED`` → ``OBSERVING`` → ``OBSERVATION COMPLETE`` (or
``OBSERVATION INCOMPLETE`` when the patient left early: never shown as complete), or
``INFUSING``/``PAUSED`` → ``STOPPED``.

* The infusion phase is 60 min of **running** time (+ the syringe flush, PREP-9); paused time does
  not count, so the end moves by every pause (MON-3, ADM-8): end = start + 60 min + pauses + flush.
* When the running time is reached the infusion ends by itself and observation starts (MON-2);
  an explicit ``infusion.ended`` records the actual end (a later actual end moves observation later).
* Observation lasts until the later of end + 60 min and the last reaction recorded as resolved
  (MON-2, CONV-IRR-3); it cannot be completed earlier. If the patient leaves earlier, an
  "observation incomplete" deviation is recorded (who, when, why).
* ``STOPPED``: the infusion was stopped before its running time was reached (by a user, by a
  reaction outcome "stop", or by a Grade 3/4/anaphylaxis grade, CONV-IRR-1). Bedside still requires
  observation after a stop: ≥ 60 min from the stop and until every reaction is resolved (MON-1); a
  stopped dose stays on the active-infusions board until that observation is closed.

Event vocabulary
----------------
All on the patient stream (``patient:<id>``). Every ``data`` has ``dose_id`` (e.g. ``"c1d8"``) and
``at``: the time the fact happened, as entered by the user (ISO 8601 UTC, ``events.iso_utc``), which
may be earlier than the event's own ``at`` (when it was written), so a late entry is possible. The
phase is computed from the data times, in time order (ties: log order).

``infusion.started``
    ``{dose_id, at, route: "bag"|"syringe", flush_min: int ≥ 0, stability_deadline: ISO UTC | null}``
    ``stability_deadline`` is the bag's infusion-end deadline (``stability.deadlines(...).end_deadline``,
    CONV-STAB-1); null = unknown (alerted).
``infusion.paused``      ``{dose_id, at, reason}``
``infusion.resumed``     ``{dose_id, at}``
``infusion.ended``       ``{dose_id, at}`` (optional: the actual end; without it the end is derived)
``infusion.stopped``     ``{dose_id, at, reason}``
``observation.completed``  ``{dose_id, at}``
``observation.incomplete`` ``{dose_id, at, reason, who?}`` (``who`` defaults to the event's actor)
``vitals.recorded``
    ``{dose_id, at, temp_c: "37.2", hr: int, sys: int, dia: int, rr: int, spo2: int, point?}``
    (values as returned by :func:`validate_vitals`; ``point`` optionally names the schedule point,
    e.g. ``"end"`` or ``"reaction:1"``; without it the set counts for the point whose window it is in)
``reaction.started``     ``{dose_id, at, symptoms}`` (pauses a running infusion at ``at``)
``reaction.graded``
    ``{dose_id, at, grade: 1|2|3|4|"anaphylaxis", ctcae_version: "5.0", reaction?, correction_reason?}``
    A later grade without ``correction_reason`` can only raise the grade (the worst stands); with a
    ``correction_reason`` it replaces it (a recorded grade correction, CONV-IRR-1, §16.1).
``reaction.notified``    ``{dose_id, at, who, reaction?}``
``reaction.treated``     ``{dose_id, at, treatment, reaction?}`` (``"none"`` is a treatment entry)
``reaction.resolved``    ``{dose_id, at, outcome: "resume"|"stop", reaction?}``
``alert.acknowledged``   ``{alert_id, at, dose_id?}``

``reaction`` is the reaction's number within the dose (1, 2, …, in time order); without it an event
belongs to the latest reaction started at or before it. Each kind has its typed payload class
(core/infusion/events.py); :func:`event_data` checks the fields.

The package
-----------
``events`` (payload classes), ``model`` (value types, MonitorState), ``course`` and ``fold`` (the
pure fold: one handler per kind), ``state`` (the MonitorState from the fold), ``alerts``,
``vitals`` (CONV-INPUT-1), ``data`` (event data checked field by field), ``reactions`` (the one
reaction numbering), ``gate`` (the start gate), ``projection`` (the monitor's reading of a
PatientView: folded once per view, the timers per tick) and ``commands`` (one command per monitor
key, each with its decision; core/README.md has the table).

Safety choices where the reference is silent (see each rule ID in the code): grade ≥ 3 or
anaphylaxis stops the infusion at once and proposes permanent discontinuation (CONV-IRR-1); resume
needs every reaction fully recorded (vitals, grade, notified, treatment) and resolved with outcome
"resume" (CONV-IRR-2); events that do not fit the sequence are not applied silently: they are listed
as problems and raise an alert.
"""

from __future__ import annotations

from .. import rules
from .alerts import check_resume
from .commands import (
    ASK_BAG_CODE,
    AcknowledgeAlert,
    CompleteObservation,
    CorrectGrade,
    GradeReaction,
    NotifyReaction,
    PauseInfusion,
    RecordLeftEarly,
    RecordVitals,
    ResolveReaction,
    ResumeInfusion,
    StartInfusion,
    StartReaction,
    StopInfusion,
    TreatReaction,
    grade_correction_signer,
    resume_warning,
)
from .data import acknowledgement_data, event_data, grade_correction_data, payload
from .events import (
    ALERT_ACKNOWLEDGED,
    DOSE_KINDS,
    INFUSION_ENDED,
    INFUSION_PAUSED,
    INFUSION_RESUMED,
    INFUSION_STARTED,
    INFUSION_STOPPED,
    KINDS,
    OBSERVATION_COMPLETED,
    OBSERVATION_INCOMPLETE,
    PAYLOADS,
    REACTION_GRADED,
    REACTION_NOTIFIED,
    REACTION_RESOLVED,
    REACTION_STARTED,
    REACTION_TREATED,
    VITALS_RECORDED,
    AlertAcknowledged,
    InfusionEnded,
    InfusionPaused,
    InfusionResumed,
    InfusionStarted,
    InfusionStopped,
    ObservationCompleted,
    ObservationIncomplete,
    ReactionGraded,
    ReactionNotified,
    ReactionResolved,
    ReactionStarted,
    ReactionTreated,
    VitalsRecorded,
)
from .fold import active_infusions, dose_ids, monitor
from .model import (
    ACTIVE_PHASES,
    INFUSING,
    NOT_STARTED,
    OBSERVATION_COMPLETE,
    OBSERVATION_INCOMPLETE_PHASE,
    OBSERVING,
    OUTCOMES,
    PAUSED,
    PHASES,
    REACTION_STEPS,
    ROUTES,
    SEVERITIES,
    STOPPED,
    VITALS_ANCHORS,
    Alert,
    Deviation,
    MonitorSettings,
    MonitorState,
    Pause,
    Permission,
    Problem,
    Proposal,
    Reaction,
    Timer,
    VitalsDue,
    VitalsPoint,
    VitalsRecord,
    dose_label,
    is_severe,
)
from .projection import active_doses, monitor_at, monitor_dose_ids, monitor_facts
from .reactions import fact_time, reaction_numbers
from .vitals import VITALS_FIELDS, unusual_vitals, validate_vitals, vitals_taken_at

__all__ = [
    "ACTIVE_PHASES",
    "ALERT_ACKNOWLEDGED",
    "ASK_BAG_CODE",
    "DOSE_KINDS",
    "INFUSING",
    "INFUSION_ENDED",
    "INFUSION_PAUSED",
    "INFUSION_RESUMED",
    "INFUSION_STARTED",
    "INFUSION_STOPPED",
    "KINDS",
    "NOT_STARTED",
    "OBSERVATION_COMPLETE",
    "OBSERVATION_COMPLETED",
    "OBSERVATION_INCOMPLETE",
    "OBSERVATION_INCOMPLETE_PHASE",
    "OBSERVING",
    "OUTCOMES",
    "PAUSED",
    "PAYLOADS",
    "PHASES",
    "REACTION_GRADED",
    "REACTION_NOTIFIED",
    "REACTION_RESOLVED",
    "REACTION_STARTED",
    "REACTION_STEPS",
    "REACTION_TREATED",
    "ROUTES",
    "SEVERITIES",
    "STOPPED",
    "VITALS_ANCHORS",
    "VITALS_FIELDS",
    "VITALS_RECORDED",
    "AcknowledgeAlert",
    "Alert",
    "AlertAcknowledged",
    "CompleteObservation",
    "CorrectGrade",
    "Deviation",
    "GradeReaction",
    "InfusionEnded",
    "InfusionPaused",
    "InfusionResumed",
    "InfusionStarted",
    "InfusionStopped",
    "MonitorSettings",
    "MonitorState",
    "NotifyReaction",
    "ObservationCompleted",
    "ObservationIncomplete",
    "Pause",
    "PauseInfusion",
    "Permission",
    "Problem",
    "Proposal",
    "Reaction",
    "ReactionGraded",
    "ReactionNotified",
    "ReactionResolved",
    "ReactionStarted",
    "ReactionTreated",
    "RecordLeftEarly",
    "RecordVitals",
    "ResolveReaction",
    "ResumeInfusion",
    "StartInfusion",
    "StartReaction",
    "StopInfusion",
    "Timer",
    "TreatReaction",
    "VitalsDue",
    "VitalsPoint",
    "VitalsRecord",
    "VitalsRecorded",
    "acknowledgement_data",
    "active_doses",
    "active_infusions",
    "check_resume",
    "dose_ids",
    "dose_label",
    "event_data",
    "fact_time",
    "grade_correction_data",
    "grade_correction_signer",
    "is_severe",
    "monitor",
    "monitor_at",
    "monitor_dose_ids",
    "monitor_facts",
    "payload",
    "reaction_numbers",
    "resume_warning",
    "unusual_vitals",
    "validate_vitals",
    "vitals_taken_at",
]

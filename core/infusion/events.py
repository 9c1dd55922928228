"""The monitor's events: one typed payload class per kind (issue 16), stored as the JSON of old.

All on the patient stream (``patient:<id>``). Each class's fields are exactly the keys the old
writers stored, with their JSON values (times as ISO UTC strings, ``temp_c`` as a decimal string).
A field that old writers left out when it had no value (``label_deadline``, ``point``,
``reaction``, ``correction_reason``, ``who``…) is listed in ``OMIT_NONE`` and is left out of the
stored object when it is None, so new events are stored as old ones were. The kind strings live
here only; the old constant names (``INFUSION_STARTED`` …) are aliases of the classes' kinds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import frozen

from ..events import Payload, event_type

__all__ = [
    "AlertAcknowledged",
    "InfusionEnded",
    "InfusionPaused",
    "InfusionResumed",
    "InfusionStarted",
    "InfusionStopped",
    "ObservationCompleted",
    "ObservationIncomplete",
    "ReactionGraded",
    "ReactionNotified",
    "ReactionResolved",
    "ReactionStarted",
    "ReactionTreated",
    "VitalsRecorded",
]


class _Payload(Payload):
    """A payload whose optional keys are stored only when they hold a value (as the old writers did)."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        return {k: v for k, v in data.items() if not (v is None and k in self.OMIT_NONE)}


@event_type("infusion.started")
@frozen
class InfusionStarted(_Payload):
    """The infusion started at ``at`` (MON-3): the bag's route, flush (PREP-9) and deadlines
    (``stability_deadline``: the infusion-end deadline, CONV-STAB-1, None = unknown, alerted;
    ``label_deadline``: the earliest label limit, STAB-2). Recorded with ``dose.given``."""

    dose_id: str
    at: str
    route: str = "bag"
    flush_min: int = 0
    stability_deadline: str | None = None
    label_deadline: str | None = None
    bag_code: str | None = None  # the bag label scanned at the start (core/preparation/baglabel.py)
    OMIT_NONE = frozenset({"label_deadline", "bag_code"})


@event_type("infusion.paused")
@frozen
class InfusionPaused(_Payload):
    """The infusion was paused (MON-3: paused time does not count)."""

    dose_id: str
    at: str
    reason: str = ""


@event_type("infusion.resumed")
@frozen
class InfusionResumed(_Payload):
    """The paused infusion resumed (CONV-IRR-2, CONV-STAB-3)."""

    dose_id: str
    at: str


@event_type("infusion.ended")
@frozen
class InfusionEnded(_Payload):
    """The actual end of the infusion (optional: without it the end is derived, MON-2)."""

    dose_id: str
    at: str


@event_type("infusion.stopped")
@frozen
class InfusionStopped(_Payload):
    """The infusion was stopped before its running time was reached (MON-1)."""

    dose_id: str
    at: str
    reason: str = ""


@event_type("observation.completed")
@frozen
class ObservationCompleted(_Payload):
    """Observation completed, no earlier than it may end (MON-2, CONV-IRR-3)."""

    dose_id: str
    at: str


@event_type("observation.incomplete")
@frozen
class ObservationIncomplete(_Payload):
    """The patient left before observation ended (a MON-2 deviation); ``who`` defaults to the actor."""

    dose_id: str
    at: str
    reason: str = ""
    who: str | None = None
    OMIT_NONE = frozenset({"who"})


@event_type("vitals.recorded")
@frozen
class VitalsRecorded(_Payload):
    """One set of vital signs (MON-4), as ``validate_vitals`` returns them (CONV-INPUT-1);
    ``point`` optionally names the schedule point (``"end"``, ``"reaction:1"``)."""

    dose_id: str
    at: str
    temp_c: str | None = None
    hr: int | None = None
    sys: int | None = None
    dia: int | None = None
    rr: int | None = None
    spo2: int | None = None
    confirmed_unusual: list[str] | None = None
    point: str | None = None
    OMIT_NONE = frozenset({"confirmed_unusual", "point"})


@event_type("reaction.started")
@frozen
class ReactionStarted(_Payload):
    """An infusion reaction started (it pauses a running infusion at ``at``, MOD-NH-3)."""

    dose_id: str
    at: str
    symptoms: str = ""


@event_type("reaction.graded")
@frozen
class ReactionGraded(_Payload):
    """A CTCAE grade (CTCAE-1): 1–4 or "anaphylaxis". Without ``correction_reason`` the worst grade
    stands; with one (a prescriber's recorded correction, CONV-IRR-1, §16.1) it replaces it."""

    dose_id: str
    at: str
    grade: int | str | None = None
    ctcae_version: str | None = None
    correction_reason: str | None = None
    reaction: int | None = None
    corrected_by_role: str | None = None
    OMIT_NONE = frozenset({"correction_reason", "reaction", "corrected_by_role"})


@event_type("reaction.notified")
@frozen
class ReactionNotified(_Payload):
    """Who was notified of the reaction (IRR-1)."""

    dose_id: str
    at: str
    who: str = ""
    reaction: int | None = None
    OMIT_NONE = frozenset({"reaction"})


@event_type("reaction.treated")
@frozen
class ReactionTreated(_Payload):
    """A treatment given for the reaction ("none" is an entry, IRR-1)."""

    dose_id: str
    at: str
    treatment: str = ""
    reaction: int | None = None
    OMIT_NONE = frozenset({"reaction"})


@event_type("reaction.resolved")
@frozen
class ReactionResolved(_Payload):
    """The reaction resolved, with outcome "resume" or "stop" (CONV-IRR-2)."""

    dose_id: str
    at: str
    outcome: str = ""
    reaction: int | None = None
    OMIT_NONE = frozenset({"reaction"})


@event_type("alert.acknowledged")
@frozen
class AlertAcknowledged(_Payload):
    """A user acknowledged an alert (WARN-ALERT-1); ``alert_id`` is derived from its fact."""

    alert_id: str
    at: str
    dose_id: str | None = None
    OMIT_NONE = frozenset({"dose_id"})


INFUSION_STARTED = InfusionStarted.KIND
INFUSION_PAUSED = InfusionPaused.KIND
INFUSION_RESUMED = InfusionResumed.KIND
INFUSION_ENDED = InfusionEnded.KIND
INFUSION_STOPPED = InfusionStopped.KIND
OBSERVATION_COMPLETED = ObservationCompleted.KIND
OBSERVATION_INCOMPLETE = ObservationIncomplete.KIND
VITALS_RECORDED = VitalsRecorded.KIND
REACTION_STARTED = ReactionStarted.KIND
REACTION_GRADED = ReactionGraded.KIND
REACTION_NOTIFIED = ReactionNotified.KIND
REACTION_TREATED = ReactionTreated.KIND
REACTION_RESOLVED = ReactionResolved.KIND
ALERT_ACKNOWLEDGED = AlertAcknowledged.KIND

#: Every class by kind, and the kinds that belong to one dose (all but the alert acknowledgement).
PAYLOADS: dict[str, type[_Payload]] = {
    c.KIND: c
    for c in (
        InfusionStarted,
        InfusionPaused,
        InfusionResumed,
        InfusionEnded,
        InfusionStopped,
        ObservationCompleted,
        ObservationIncomplete,
        VitalsRecorded,
        ReactionStarted,
        ReactionGraded,
        ReactionNotified,
        ReactionTreated,
        ReactionResolved,
        AlertAcknowledged,
    )
}
DOSE_KINDS = frozenset(PAYLOADS) - {ALERT_ACKNOWLEDGED}
KINDS = frozenset(PAYLOADS)

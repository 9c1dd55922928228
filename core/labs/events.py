"""The quarantine's events (stream ``labs``): a message that was not applied, and what an admin
did with it. Applied results are the patient's ``labs.imported`` records (core/intake/events.py)."""

from __future__ import annotations

from attrs import frozen

from ..events import Payload, event_type

LABS_STREAM = "labs"
RAW_KEPT_CHARS = 64_000  # a software limit: the message as kept for the admin (longer: cut, and said)


@event_type("labs.quarantined")
@frozen
class LabsQuarantined(Payload):
    """A laboratory message kept, not applied, with the reason (shown literally to an admin)."""

    message_id: str
    sender: str
    digest: str
    format: str  # "hl7v2", "fhir" or "unreadable"
    reason: str
    rules: list[str]
    raw: str
    source: str  # the file or the MLLP peer it came from
    cut: bool = False  # raw longer than RAW_KEPT_CHARS: only its start is kept


@event_type("labs.resolved")
@frozen
class QuarantineResolved(Payload):
    """An admin assigned a quarantined message to a patient (after it was applied to their record)
    or rejected it; ``entry`` is the quarantine entry's version in the ``labs`` stream."""

    entry: int
    outcome: str  # "assigned" or "rejected"
    reason: str
    patient: str | None = None

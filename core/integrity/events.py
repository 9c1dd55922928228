"""The integrity log's one event (stream ``log``): an admin saw the report of the log's problems."""

from __future__ import annotations

from attrs import frozen

from ..events import Payload, event_type

LOG_STREAM = "log"


@event_type("log.report_seen")
@frozen
class ReportSeen(Payload):
    """An admin read the integrity report: its first bad event and how many findings it listed.
    The warning on every screen stays until such an event covers every current finding."""

    first_bad: int | None
    findings: int


@event_type("log.key_rotated")
@frozen
class KeyRotated(Payload):
    """``bedside key rotate``: a new log key signs from this event on (this event is the first it
    signs); ``previous`` signed the events before and is retired."""

    key_id: str
    previous: str


@event_type("log.anchors_reset")
@frozen
class AnchorsReset(Payload):
    """``bedside anchor reset``: after a full check found every event authentic, every anchor was
    written afresh at event ``seq`` (a lost anchor, or a new place named with ``--anchor``)."""

    seq: int
    anchors: tuple[str, ...] | list[str]

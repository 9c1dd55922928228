"""The integrity report's one command: an admin records that they have seen it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from attrs import frozen

from ..auth.commands import by_os_or_admin
from ..commands import Actor, Command, Decision, State, decider, refuse, require_role
from .events import LOG_STREAM, AnchorsReset, KeyRotated, ReportSeen


@frozen
class AcknowledgeIntegrityReport(Command):
    """Integrity report, y: an admin records having seen the report (first bad event, how many findings)."""

    first_bad: int | None
    findings: int
    stream: ClassVar[str] = LOG_STREAM
    emits = (ReportSeen,)


@decider(AcknowledgeIntegrityReport)
def decide_acknowledge(state: State, cmd: AcknowledgeIntegrityReport, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ("admin",), "Integrity report")
    if refused:
        return refused
    if cmd.findings < 1:
        return refuse("Integrity report: there is nothing to acknowledge.")
    if cmd.first_bad is not None and cmd.first_bad < 1:
        return refuse("Integrity report: the first bad event is a sequence number from 1.")
    return [ReportSeen(cmd.first_bad, cmd.findings)]


@frozen
class RecordKeyRotation(Command):
    """bedside key rotate: record that a new log key signs from now on (the old one is retired)."""

    key_id: str
    previous: str
    stream: ClassVar[str] = LOG_STREAM
    emits = (KeyRotated,)


@decider(RecordKeyRotation)
def decide_key_rotation(state: State, cmd: RecordKeyRotation, now: datetime, actor: Actor) -> Decision:
    refused = by_os_or_admin(actor, "Key rotation")
    if refused:
        return refused
    if not cmd.key_id or cmd.key_id == cmd.previous:
        return refuse("Key rotation: the new key id must differ from the previous one.")
    return [KeyRotated(cmd.key_id, cmd.previous)]


@frozen
class RecordAnchorReset(Command):
    """bedside anchor reset: record that every anchor was written afresh after a full check."""

    seq: int
    anchors: tuple[str, ...]
    stream: ClassVar[str] = LOG_STREAM
    emits = (AnchorsReset,)


@decider(RecordAnchorReset)
def decide_anchor_reset(state: State, cmd: RecordAnchorReset, now: datetime, actor: Actor) -> Decision:
    refused = by_os_or_admin(actor, "Anchor reset")
    if refused:
        return refused
    if cmd.seq < 0:
        return refuse("Anchor reset: the event is a sequence number from 0.")
    return [AnchorsReset(cmd.seq, list(cmd.anchors))]

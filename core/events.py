"""Events: the only thing Bedside stores. State is a fold over them.

An event is never changed or removed; a correction is a new event that names what it corrects.
Each stored event carries the hash of the one before it (a chain over the whole log), so an
edited, deleted, truncated or rewritten log is detected by :func:`bedside.core.store.verify_log`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

GENESIS_HASH = "0" * 64


def _check_utc(instance: Any, attribute: Any, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None):
        raise ValueError(f"{attribute.name} must be an aware UTC datetime")


def iso_utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """The inverse of :func:`iso_utc` (``fromisoformat`` is C-fast and reads the "Z")."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"not a UTC time: {text!r}")
    return when.astimezone(UTC)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@frozen(eq=False)
class NewEvent:
    """An event to append: what happened, to which stream, who did it and when (UTC)."""

    stream: str
    kind: str
    actor: str
    at: datetime = field(validator=_check_utc)
    data: dict[str, Any] = field(factory=dict)


@frozen(eq=False)
class Event:
    """A stored event: ``seq`` orders the whole log, ``version`` orders its stream."""

    seq: int
    stream: str
    version: int
    kind: str
    actor: str
    at: datetime
    data: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def ref(self) -> str:
        """A stable reference to this event, shown to users and named by corrections."""
        return f"{self.stream}#{self.version}"


def event_hash(prev_hash: str, seq: int, stream: str, version: int, kind: str, actor: str, at: str, data_json: str) -> str:
    body = canonical_json(
        {"seq": seq, "stream": stream, "version": version, "kind": kind, "actor": actor, "at": at}
    )
    h = hashlib.sha256()
    for part in (prev_hash, body, data_json):
        h.update(part.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()

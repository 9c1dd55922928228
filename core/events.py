"""Events: the only thing Bedside stores. State is a fold over them.

An event is never changed or removed; a correction is a new event that names what it corrects.
Each stored event carries the hash of the one before it (a chain over the whole log) and a MAC of
its hash under the site's log key (core/keyring.py), so an edited, deleted, truncated, forged or
rewritten log is detected by :func:`bedside.core.store.verify_log`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar

from attrs import field, fields, frozen

P = TypeVar("P", bound="Payload")

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
    #: The log key that authenticated it and its MAC (core/keyring.py); empty for an event written
    #: before the log was authenticated (or by a store without a keyring: tests).
    key_id: str = ""
    mac: str = field(default="", repr=False)
    _payload: Any = field(default=None, init=False, repr=False)

    @property
    def payload(self) -> Payload:
        """The typed payload (:func:`decode`), read once and kept."""
        p = self._payload
        if p is None:
            p = decode(self)
            object.__setattr__(self, "_payload", p)
        return p

    @property
    def ref(self) -> str:
        """A stable reference to this event, shown to users and named by corrections."""
        return f"{self.stream}#{self.version}"


def event_hash(prev_hash: str, seq: int, stream: str, version: int, kind: str, actor: str, at: str, data_json: str) -> str:
    body = canonical_json({"seq": seq, "stream": stream, "version": version, "kind": kind, "actor": actor, "at": at})
    h = hashlib.sha256()
    for part in (prev_hash, body, data_json):
        h.update(part.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


# -- typed events ---------------------------------------------------------------------------------
# One frozen attrs class per event kind (a subclass of Payload, registered with @event_type), stored
# as today's JSON: the class's fields are the JSON keys, with JSON values (Decimals and dates as the
# strings the record has always held). A stored event is read back with :func:`decode`; a command's
# decision returns Payload instances, which the ledger stamps with the stream, the actor and the time.


class Payload:
    """The body of one kind of event. Subclasses are ``@event_type("kind")`` frozen attrs classes."""

    KIND: ClassVar[str] = ""

    def to_data(self) -> dict[str, Any]:
        """The JSON object stored for this event (every field, in declaration order)."""
        return {a.name: getattr(self, a.name) for a in fields(type(self))}  # type: ignore[arg-type]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Read a stored object; keys the class does not know are ignored (older or newer
        writers), keys it needs and that are absent take the field's default."""
        names = {a.name for a in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})

    def new(self, stream: str, actor: str, at: datetime) -> NewEvent:
        return NewEvent(stream, self.KIND, actor, at, self.to_data())


EVENT_TYPES: dict[str, type[Payload]] = {}


def event_type(kind: str) -> Callable[[type[P]], type[P]]:
    """Register a Payload class as the one class of events of ``kind``."""

    def register(cls: type[P]) -> type[P]:
        if kind in EVENT_TYPES and EVENT_TYPES[kind] is not cls:
            raise ValueError(f"event kind {kind!r} is registered twice")
        cls.KIND = kind
        EVENT_TYPES[kind] = cls
        return cls

    return register


def decode(ev: Event | NewEvent) -> Payload:
    """The typed payload of a stored (or about to be stored) event."""
    cls = EVENT_TYPES.get(ev.kind)
    if cls is None:
        from . import all_commands  # noqa: F401  (every job's classes, imported on first need)

        cls = EVENT_TYPES.get(ev.kind)
    if cls is None:
        raise KeyError(f"unknown event kind {ev.kind!r}")
    return cls.from_data(ev.data)


def unknown_keys(ev: Event | NewEvent) -> set[str]:
    """Keys of a stored event that its class does not declare (tests: no writer drifts)."""
    cls = EVENT_TYPES[ev.kind]
    return set(ev.data) - {a.name for a in fields(cls)}  # type: ignore[arg-type]

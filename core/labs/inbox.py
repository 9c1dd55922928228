"""The quarantine as it stands: a fold of the ``labs`` stream (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from attrs import evolve, frozen

from ..events import Event, decode
from .events import LabsQuarantined, QuarantineResolved


@frozen
class Held:
    """One quarantined message: when, by which feed, why; and, once handled, what an admin did."""

    entry: int
    at: datetime
    actor: str
    message: LabsQuarantined
    resolved: QuarantineResolved | None = None
    resolved_by: str = ""
    resolved_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.resolved is None


def fold_inbox(events: Iterable[Event]) -> tuple[Held, ...]:
    """Every quarantine entry in the order kept, with its resolution."""
    held: dict[int, Held] = {}
    for ev in events:
        p = decode(ev)
        if isinstance(p, LabsQuarantined):
            held[ev.version] = Held(ev.version, ev.at, ev.actor, p)
        elif isinstance(p, QuarantineResolved) and p.entry in held and held[p.entry].pending:
            held[p.entry] = evolve(held[p.entry], resolved=p, resolved_by=ev.actor, resolved_at=ev.at)
    return tuple(held.values())


def held_digests(events: Iterable[Event]) -> set[str]:
    """The digests of every message ever quarantined (handled or not): importing one again changes nothing."""
    return {ev.data.get("digest", "") for ev in events if ev.kind == LabsQuarantined.KIND}

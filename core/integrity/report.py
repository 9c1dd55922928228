"""What the app knows about the log's integrity (issue 18): the events it refused to apply, the
other findings of the checker (core/logcheck.py), the store's own protections and anchor, and
whether an admin has seen them (``log.report_seen``).

The ledger (core/service.py) builds one :class:`Integrity` when asked; screens show its
:meth:`Integrity.headline` on every screen while :attr:`Integrity.warning` holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from attrs import frozen

from ..events import Event
from .events import LOG_STREAM, ReportSeen


@frozen
class LogFinding:
    """One thing wrong at one place of the log. ``rejected``: the event at ``seq`` is not
    authentic and was not applied (a forged or altered event); otherwise the event was applied but
    something around it is wrong (a gap, a broken link, a version out of order)."""

    seq: int
    ref: str
    text: str
    rejected: bool


@frozen
class Seen:
    """The latest acknowledgement: who, when, and what the report showed then."""

    by: str
    at: datetime
    first_bad: int | None
    findings: int


def latest_seen(events: Iterable[Event]) -> Seen | None:
    seen = None
    for ev in events:
        if ev.stream == LOG_STREAM and ev.kind == ReportSeen.KIND:
            p = ev.payload
            assert isinstance(p, ReportSeen)
            seen = Seen(ev.actor, ev.at, p.first_bad, p.findings)
    return seen


@frozen
class Integrity:
    findings: tuple[LogFinding, ...] = ()
    protections: tuple[str, ...] = ()  # the store's own protections that are missing
    anchor_error: str | None = None  # the last append could not move an anchor
    seen: Seen | None = None

    @property
    def first_bad(self) -> int | None:
        return min((f.seq for f in self.findings), default=None)

    @property
    def rejected(self) -> tuple[LogFinding, ...]:
        return tuple(f for f in self.findings if f.rejected)

    @property
    def problems(self) -> tuple[str, ...]:
        """Every finding in words, the log's first (in log order), then the store's."""
        return (
            *(f.text for f in self.findings),
            *self.protections,
            *((f"an anchor could not be moved forward: {self.anchor_error}",) if self.anchor_error else ()),
        )

    @property
    def count(self) -> int:
        return len(self.problems)

    @property
    def acknowledged(self) -> bool:
        """An admin has seen a report that covers every current finding (as many, from the same
        first bad event: the log's findings only grow, in log order)."""
        s = self.seen
        return self.count == 0 or (s is not None and s.findings >= self.count and s.first_bad == self.first_bad)

    @property
    def warning(self) -> bool:
        """The warning stands on every screen."""
        return not self.acknowledged

    def headline(self) -> str:
        """The one line every screen shows while :attr:`warning` holds (what happened, what to do)."""
        rejected = self.rejected
        more = self.count - 1
        tail = f" (+{more} more)" if more else ""
        if rejected:  # "ignored": never applied, on no screen, in no check
            what = f"event {rejected[0].seq} forged, ignored{tail}"
        elif self.findings:
            what = f"log damaged at event {self.findings[0].seq}{tail}"
        else:
            what = f"the safeguards were weakened{tail}"
        return f"⚠ TAMPERING: {what}. Tell an admin"

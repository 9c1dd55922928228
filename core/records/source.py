"""What the printed record and the FHIR export read of one patient: the projection, or events.

A :class:`Source` is read from the patient's projection (``ledger.view(pid)``, core/projection.py),
so the timeline and each dose's preparation are the ones every screen reads, folded once; or, for
callers holding only a patient, their events and the users, from those (the same folds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from .. import infusion as inf
from .. import preparation as prep
from .. import schedule as sch
from ..events import Event
from ..infusion.projection import monitor_at
from ..intake import Patient

if TYPE_CHECKING:
    from ..projection import PatientView

Names = Mapping[str, tuple[str, str]]  # user name -> (full name, role)


def record_date(now: datetime, tz: tzinfo) -> date:
    """The local date a record or an export is made on (CONV-TIME-1); ``now`` must be aware."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(tz).date()


class Source:
    """One patient's record for one local date (``today``): events, users by name, the timeline,
    the preparations and the monitor states of their doses."""

    def __init__(self, patient: Patient, events: Sequence[Event], names: Names, today: date, view: PatientView | None = None):
        self.patient = patient
        self.events = [e for e in events if e.stream == patient.stream] or list(events)
        self.names = names
        self.today = today
        self._view = view
        self._cache: dict[Any, Any] = {}

    @classmethod
    def of_view(cls, view: PatientView, today: date) -> Source:
        names = {u.username: (u.full_name, u.role) for u in view.users.values()}
        return cls(view.patient, view.events, names, today, view)

    def roles(self) -> dict[str, str]:
        return {u: role for u, (_n, role) in self.names.items()}

    def _memo(self, key: Any, build: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    @property
    def timeline(self) -> sch.Timeline:
        """The timeline on ``today`` (the view's own when the view is of that date)."""
        if self._view is not None and self._view.today == self.today:
            return self._view.timeline
        return self._memo("timeline", lambda: sch.timeline(self.events, self.today, self.roles()))

    def prep(self, dose_id: str) -> prep.PrepState:
        if self._view is not None:
            return self._view.prep(dose_id)
        return self._memo(("prep", dose_id), lambda: prep.fold(self.events, dose_id))

    def monitor(self, dose_id: str, now: datetime, settings: inf.MonitorSettings) -> inf.MonitorState:
        """The dose's monitor state at ``now`` (from the view: its dose folded once, as the screens read it)."""
        if self._view is not None:
            return monitor_at(self._view, dose_id, now, settings)
        return inf.monitor(self.events, dose_id, now, settings)

"""One projection per patient: what every screen, the printed record, the export and the warnings read.

A :class:`PatientView` is built from the patient's events as they stand, for one local date and
one users log; the ledger keeps one per patient and builds a new one only when new events arrive
on their stream, the users log changes or the date turns (never per key or per timer tick). Its
parts are folded on first use and kept: the timeline once, each dose's preparation once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from .events import Event

if TYPE_CHECKING:
    from .auth import User
    from .intake import Patient
    from .site import SiteSettings


class PatientView:
    """The folded record of one patient at one version of their stream (immutable once built)."""

    def __init__(self, patient: Patient, events: Sequence[Event], today: date, users: Mapping[str, User], site: SiteSettings):
        self.patient = patient
        self.events = tuple(events)
        self.today = today
        self.users = users
        self.site = site
        self.version = self.events[-1].version if self.events else 0
        self._cache: dict[Any, Any] = {}

    @property
    def pid(self) -> str:
        return self.patient.id

    def roles(self) -> dict[str, str]:
        return {u.username: u.role for u in self.users.values()}

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()``, folded once per view and kept (each job's accessors use this: e.g. the
        monitor's fold of one dose lives in core/infusion, keyed there)."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = build()
            return value

    @property
    def timeline(self):
        """The treatment timeline (core/schedule) on this view's date."""
        from .schedule import timeline

        return self.memo("timeline", lambda: timeline(self.events, self.today, self.roles()))

    def prep(self, dose_id: str):
        """The preparation of one dose (core/preparation)."""
        from .preparation import fold

        return self.memo(("prep", dose_id), lambda: fold(self.events, dose_id))

    def prep_dose_ids(self) -> tuple[str, ...]:
        """The doses with a preparation on record (in the order first prepared)."""
        from .preparation import KINDS

        def build() -> tuple[str, ...]:
            seen: dict[str, None] = {}
            for e in self.events:
                if e.kind in KINDS:
                    seen.setdefault(str(e.data.get("dose_id", "")), None)
            return tuple(seen)

        return self.memo("prep_dose_ids", build)

"""The patient fold: each intake record an :class:`Entry`, corrections applied over it (the old
values kept), as a pure step (:func:`apply`) the ledger runs on each new event."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from attrs import evolve, frozen

from ..events import Event
from .events import EntryCorrected, TransfusionAnswered
from .forms import INTAKE_ORDER, KIND_TO_SECTION, PATIENT_PREFIX


@frozen
class Correction:
    version: int
    actor: str
    at: datetime
    reason: str
    old: dict[str, Any]
    new: dict[str, Any]


@frozen
class Entry:
    """One recorded intake item; corrections replace its data and keep the old values."""

    section: str
    version: int
    actor: str
    at: datetime
    data: dict[str, Any]
    corrections: tuple[Correction, ...] = ()


@frozen
class Patient:
    id: str
    version: int = 0
    entries: tuple[Entry, ...] = ()

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.id

    def history(self, section: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.section == section)

    def current(self, section: str) -> dict[str, Any] | None:
        h = self.history(section)
        return h[-1].data if h else None

    @property
    def identity(self) -> dict[str, Any]:
        return self.current("identity") or {}

    @property
    def name(self) -> str:
        return self.identity.get("name", "")

    @property
    def mrn(self) -> str:
        return self.identity.get("mrn", "")

    @property
    def wristband(self) -> str:
        """The wristband's own identifier (issue 20), "" when none is recorded."""
        return self.identity.get("wristband", "") or ""

    @property
    def dob(self) -> date | None:
        d = self.identity.get("dob")
        return date.fromisoformat(d) if d else None

    def entry(self, version: int) -> Entry | None:
        return next((e for e in self.entries if e.version == version), None)

    def missing_sections(self) -> tuple[str, ...]:
        return tuple(s for s in INTAKE_ORDER if not self.history(s))


def apply(p: Patient, ev: Event) -> Patient:
    """Apply one event to a patient (the fold's step); kinds of other modules only move the version."""
    p = evolve(p, version=ev.version)
    section = KIND_TO_SECTION.get(ev.kind)
    if section is not None:
        return evolve(p, entries=(*p.entries, Entry(section, ev.version, ev.actor, ev.at, dict(ev.data))))
    if ev.kind == EntryCorrected.KIND:
        c = ev.payload
        assert isinstance(c, EntryCorrected)
        return _corrected(p, ev, c.corrects, c.reason, lambda _old: dict(c.data))
    if ev.kind == TransfusionAnswered.KIND:
        a = ev.payload
        assert isinstance(a, TransfusionAnswered)
        why = f"Platelet transfusion before this count (CONV-HEM-3): {a.answer}"
        return _corrected(p, ev, a.entry, why, lambda old: {**old, "platelet_transfusion": a.answer})
    return p


def _corrected(p: Patient, ev: Event, version: int, reason: str, change: Any) -> Patient:
    """Entry ``version`` now reads ``change(old data)``; the old values stay as a :class:`Correction`."""
    out = []
    for e in p.entries:
        if e.version == version:
            new = change(e.data)
            e = evolve(e, data=new, corrections=(*e.corrections, Correction(ev.version, ev.actor, ev.at, reason, e.data, new)))
        out.append(e)
    return evolve(p, entries=tuple(out))


def fold_patient(patient_id: str, events: Iterable[Event]) -> Patient:
    p = Patient(patient_id)
    for ev in events:
        p = apply(p, ev)
    return p


def new_patient_id() -> str:
    return uuid.uuid4().hex


def patient_id_for_mrn(mrn: str) -> str:
    """A new record's id from its MRN at registration (case and spaces as the MRN check compares them):
    the same MRN gives the same id, so two registrations of it meet on one stream."""
    return hashlib.sha256(("bedside-patient:" + mrn.strip().upper()).encode("utf-8")).hexdigest()[:32]

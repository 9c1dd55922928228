"""The printed medication administration record (MAR): what a unit keeps for downtime.

:func:`administration_record` turns one patient's events into plain text, at most 80 columns a
line, for the whole treatment or one cycle (:func:`record_for` reads the same from the patient's
projection, ``ledger.view(pid)``). It is a pure function: no I/O, no clock (``now`` is the
printed-at time), no Textual. Times are shown in the ``tz`` passed in (the site's local zone,
CONV-TIME-1); dose dates are the local calendar dates the schedule stores.

Everything a user typed (names, reasons, symptoms, treatments, who was notified) is printed
literally (core/records/page.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from .. import infusion as inf
from .. import preparation as prep
from .. import schedule as sch
from ..calc import FORMULA_LABELS
from ..clock import fmt_local
from ..events import Event
from ..facts import by_fact_time, fact_time
from ..intake import Patient, age_years
from .dose import DoseBlock, monitor_needed
from .lines import cycle_of, describe_cycle, describe_decision, dose_key
from .page import Page, clean
from .source import Names, Source, record_date
from .words import EXTENSION_WORDS, MEDICATION, SEX_LABELS, Who, word

if TYPE_CHECKING:
    from ..projection import PatientView

__all__ = ["administration_record", "record_for"]

_LATE_ENTRY = timedelta(minutes=5)  # an entry made this much after the fact shows when it was entered
_CYCLE_KINDS = (sch.CYCLE_STARTED, sch.CYCLE_EXTENDED, sch.LEVELS_CONFIRMED, sch.RESPONSE_RECORDED)


def administration_record(
    patient: Patient,
    events: Sequence[Event],
    users: Names,
    *,
    cycle: int | None = None,
    tz: tzinfo,
    now: datetime,
) -> str:
    """The medication administration record of ``patient`` (all cycles, or ``cycle``) as plain text.

    ``events`` are the patient's stream; ``users`` maps a user name to (full name, role); ``now``
    (aware) is the printed-at time and the moment the infusion states are computed at; ``tz`` is
    the zone every time is shown in. Raises ValueError for a cycle that is not on the timeline.
    """
    today = record_date(now, tz)
    return _Record(Source(patient, events, users, today), tz, now).print(cycle)


def record_for(view: PatientView, *, cycle: int | None = None, tz: tzinfo, now: datetime) -> str:
    """:func:`administration_record` of the patient's projection (``ledger.view(pid)``): its
    events, its users, its timeline and preparations (folded once, shared with the screens)."""
    today = record_date(now, tz)
    return _Record(Source.of_view(view, today), tz, now).print(cycle)


class _Groups:
    """A patient's events as the record prints them: by dose, by cycle, and treatment decisions;
    and the schedule entries recorded in error, by the version they void."""

    def __init__(self, events: Iterable[Event]):
        self.by_dose: dict[tuple[int, int], list[Event]] = {}
        self.by_cycle: dict[int, list[Event]] = {}
        self.general: list[Event] = []
        self.in_error: dict[int, Event] = {}
        for ev in events:
            if ev.kind == sch.SCHEDULE_VOIDED:
                self.in_error[int(ev.data["voids"])] = ev
            self.add(ev)

    def add(self, ev: Event) -> None:
        if ev.kind == inf.ALERT_ACKNOWLEDGED:
            return
        if ev.kind in _CYCLE_KINDS:
            self.by_cycle.setdefault(cycle_of(ev) or 1, []).append(ev)
            return
        if ev.kind == sch.TREATMENT_DISCONTINUED:
            self.general.append(ev)
            return
        key = dose_key(ev)
        if key is not None:
            self.by_dose.setdefault(key, []).append(ev)
        elif ev.kind == sch.PROPOSAL_DECIDED:
            self.general.append(ev)


class _Record:
    def __init__(self, src: Source, tz: tzinfo, now: datetime):
        self.src, self.tz, self.now = src, tz, now
        self.who = Who(src.names)
        self.page = Page()
        self.tz_name = clean(getattr(tz, "key", None) or now.astimezone(tz).tzname() or str(tz))
        self.groups = _Groups(src.events)
        self.settings = inf.MonitorSettings(tz=tz)

    def t(self, when: datetime | None) -> str:
        return fmt_local(when, self.tz)

    def print(self, cycle: int | None) -> str:
        tl = self.src.timeline
        self.header(tl, cycle)
        cycles = tl.cycles
        if cycle is not None:
            cycles = tuple(c for c in tl.cycles if c.number == cycle)
            if not cycles:
                raise ValueError(f"Cycle {cycle} is not on the timeline.")
        if not tl.cycles:
            self.page.blank()
            self.page.text("No treatment cycle is recorded.")
        for cy in cycles:
            self.cycle(cy)
        self.decisions(cycle)
        self.page.blank()
        self.page.rule("=")
        self.page.text(f"End of record. {MEDICATION}. Printed {self.t(self.now)} ({self.tz_name}).")
        return self.page.render()

    # --- header ----------------------------------------------------------------------------------

    def header(self, tl: sch.Timeline, cycle: int | None) -> None:
        page, patient = self.page, self.src.patient
        ident = patient.identity
        page.rule("=")
        page.text(f"MEDICATION ADMINISTRATION RECORD: {MEDICATION}")
        page.rule("=")
        page.head("Name", clean(ident.get("name")) or "—")
        age = f" (age {age_years(patient.dob, self.src.today)})" if patient.dob else ""
        page.head("Date of birth", f"{clean(ident.get('dob')) or '—'}{age}")
        page.head("MRN", clean(ident.get("mrn")) or "—")
        page.head("Sex", SEX_LABELS.get(str(ident.get("sex")), clean(ident.get("sex")) or "—"))
        page.head("BSA formula", self.bsa_line(patient.current("measurement")))
        diag = patient.current("diagnosis") or {}
        page.head("Allergies", clean(diag.get("allergies")) or "not recorded")
        page.head("Record of", "all cycles" if cycle is None else f"cycle {cycle}")
        page.head("Printed at", f"{self.t(self.now)} ({self.tz_name}); all times are local ({self.tz_name})")
        status = (
            f"DISCONTINUED on {tl.discontinued_on or '—'}: {clean(tl.discontinued_reason)}"
            if tl.discontinued
            else clean(tl.status)
        )
        page.head("Treatment", status or "—")
        page.rule("=")

    @staticmethod
    def bsa_line(m: Mapping | None) -> str:
        if not m:
            return "— (no height and weight recorded)"
        formula = word(FORMULA_LABELS, m.get("bsa_formula", "mosteller"))
        try:
            from ..intake import measurement_bsa

            b = f", BSA {measurement_bsa(m).shown} m²"
        except Exception:  # noqa: BLE001 - print what is stored
            b = ""
        return (
            f"{formula} (latest measurement {clean(m.get('measured_on'))}: "
            f"{clean(m.get('height_cm'))} cm, {clean(m.get('weight_kg'))} kg{b})"
        )

    # --- body ------------------------------------------------------------------------------------

    def log(self, evs: Iterable[Event], describe: Callable[[Event], str | None]) -> None:
        """Time-stamped lines, in fact-time order; a late entry shows when it was entered, an entry
        recorded in error stays, marked with who marked it, when and why."""
        t, who = self.t, self.who
        for ev in sorted(evs, key=by_fact_time):
            text = describe(ev)
            if text is None:
                continue
            fact = fact_time(ev)
            late = f" [entered {t(ev.at)}]" if ev.at - fact > _LATE_ENTRY else ""
            void = self.groups.in_error.get(ev.version)
            mark = (
                f" ENTERED IN ERROR (marked by {who(void.actor)} {t(void.at)}: {clean(void.data.get('reason'))})"
                if void is not None
                else ""
            )
            self.page.entry(t(fact), f"{text} (by {who(ev.actor)}){late}{mark}")

    def cycle(self, cy: sch.Cycle) -> None:
        self.page.blank()
        length = f"{cy.length_planned} days"
        if cy.extended_length:
            length += f", extended ({word(EXTENSION_WORDS, cy.extension_reason)})"
        start_word = "Day 1" if cy.day1_given else "planned Day 1"
        self.page.text(f"CYCLE {cy.number}: {start_word} {cy.day1.isoformat()}, {length}, to {cy.end.isoformat()}")
        if self.groups.by_cycle.get(cy.number):
            self.log(self.groups.by_cycle[cy.number], describe_cycle)
        block = DoseBlock(self.page, self.who, self.t, self.log)
        for dose in cy.doses:
            evs = self.groups.by_dose.get((dose.cycle, dose.day), [])
            did = prep.dose_id(dose.cycle, dose.day)
            mon = self.src.monitor(did, self.now, self.settings) if monitor_needed(evs) else None
            block.print(dose, evs, self.src.prep(did), mon)

    def decisions(self, cycle: int | None) -> None:
        extra = [ev for ev in self.groups.general if cycle is None or ev.kind == sch.TREATMENT_DISCONTINUED]
        if not extra:
            return
        self.page.blank()
        self.page.rule()
        self.page.text("TREATMENT DECISIONS")
        self.log(extra, lambda ev: describe_decision(ev, self.t))

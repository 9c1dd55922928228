"""Reading a patient stream into the schedule's facts (:class:`Facts`), entries recorded in
error left out; and the small readers the fold and the checks share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .. import rules
from ..events import Event
from .events import (
    CYCLE_EXTENDED,
    CYCLE_STARTED,
    DOSE_GIVEN,
    DOSE_HELD,
    DOSE_MOVED,
    DOSE_OMITTED,
    DOSE_RECOVERED,
    INTAKE_CORRECTED,
    INTAKE_HSCT,
    LEVELS_CONFIRMED,
    PROPOSAL_DECIDED,
    RESPONSE_RECORDED,
    TREATMENT_DISCONTINUED,
)
from .model import DecisionFact, Facts, Given, Interruption, LevelsRecord, ResponseFact
from .vocab import HSCT_PLANS
from .voids import voided_versions


def _d(text: Any) -> date:
    return text if isinstance(text, date) else date.fromisoformat(str(text))


def _dec(text: Any) -> Decimal:
    return text if isinstance(text, Decimal) else Decimal(str(text))


def _fmt(level: Decimal | None) -> str:
    return "—" if level is None else format(level.normalize(), "f")


def _levels_text(levels: Mapping[int, Decimal | None]) -> str:
    return "/".join(_fmt(levels[d]) for d in rules.DAYS)


class _Reader:
    """The facts as the events are read in order (latest wins where the schedule says so)."""

    def __init__(self) -> None:
        self.start: date | None = None
        self.given: dict[tuple[int, int], Given] = {}
        self.holds: dict[tuple[int, int], list[tuple[date, str, str, int]]] = {}
        self.recoveries: dict[tuple[int, int], list[tuple[date, int]]] = {}
        self.omitted: dict[tuple[int, int], str] = {}
        self.moved: dict[tuple[int, int], tuple[date, str, int]] = {}
        self.extension: tuple[int, str, str] | None = None
        self.responses: list[ResponseFact] = []
        self.levels: dict[int, LevelsRecord] = {}
        self.decisions: dict[str, DecisionFact] = {}
        self.discontinued: tuple[str, str, date | None] | None = None
        self.hsct: dict[int, str] = {}

    def started(self, ev: Event) -> None:
        if (1, 1) not in self.given:
            self.start = _d(ev.payload.day1)

    def given_dose(self, ev: Event) -> None:
        p = ev.payload
        mg = p.dose_mg
        self.given[(int(p.cycle), int(p.day))] = Given(
            _d(p.date), _dec(p.level_mg_m2), _dec(mg) if mg not in (None, "") else None, ev.actor, ev.version
        )

    def held(self, ev: Event) -> None:
        p = ev.payload
        self.holds.setdefault((int(p.cycle), int(p.day)), []).append(
            (_d(p.planned_date), str(p.reason), str(p.toxicity), ev.version)
        )

    def recovered(self, ev: Event) -> None:
        p = ev.payload
        self.recoveries.setdefault((int(p.cycle), int(p.day)), []).append((_d(p.date), ev.version))

    def omit(self, ev: Event) -> None:
        p = ev.payload
        self.omitted[(int(p.cycle), int(p.day))] = str(p.reason)

    def move(self, ev: Event) -> None:
        p = ev.payload
        self.moved[(int(p.cycle), int(p.day))] = (_d(p.date), str(p.reason), ev.version)

    def extend(self, ev: Event) -> None:
        p = ev.payload
        self.extension = (int(p.length_days), str(p.reason), str(p.note))

    def response(self, ev: Event) -> None:
        p = ev.payload
        self.responses.append(ResponseFact(int(p.cycle), str(p.response), str(p.mrd), _d(p.assessed_on), ev.version))

    def confirm_levels(self, ev: Event) -> None:
        p = ev.payload
        raw = p.levels
        lv = {day: (None if raw.get(str(day)) in (None, "") else _dec(raw[str(day)])) for day in rules.DAYS}
        self.levels[int(p.cycle)] = LevelsRecord(
            int(p.cycle), MappingProxyType(lv), str(p.basis), p.row, bool(p.custom), ev.version
        )

    def decide(self, ev: Event) -> None:
        p = ev.payload
        on = p.date
        self.decisions[str(p.proposal_id)] = DecisionFact(
            str(p.proposal_id), str(p.rule), str(p.decision), str(p.reason), _d(on) if on else None, ev.version
        )

    def discontinue(self, ev: Event) -> None:
        if self.discontinued is None:
            p = ev.payload
            self.discontinued = (str(p.reason), str(p.note), _d(p.date) if p.date else None)

    def hsct_plan(self, ev: Event) -> None:  # intake's kind: read as stored
        self.hsct[ev.version] = str(ev.data.get("plan", "undecided"))

    def intake_corrected(self, ev: Event) -> None:  # intake's kind: read as stored
        data = ev.data
        if data.get("section") == "hsct" or data.get("corrects") in self.hsct:
            target = int(data["corrects"])
            if target in self.hsct:
                self.hsct[target] = str(data["data"].get("plan", "undecided"))

    def interruptions(self) -> dict[tuple[int, int], Interruption]:
        out: dict[tuple[int, int], Interruption] = {}
        for key, hs in self.holds.items():
            first, last = hs[0], hs[-1]
            rec = [r for r in self.recoveries.get(key, []) if r[1] > last[3]]
            out[key] = Interruption(first[0], last[1], last[2], rec[-1][0] if rec else None, first[3])
        return out

    def facts(self) -> Facts:
        plan = self.hsct[max(self.hsct)] if self.hsct else "undecided"
        return Facts(
            self.start,
            self.given,
            self.interruptions(),
            self.omitted,
            self.moved,
            self.extension,
            tuple(self.responses),
            self.levels,
            self.decisions,
            self.discontinued,
            plan if plan in HSCT_PLANS else "undecided",
        )


_READERS: dict[str, Callable[[_Reader, Event], None]] = {
    CYCLE_STARTED: _Reader.started,
    DOSE_GIVEN: _Reader.given_dose,
    DOSE_HELD: _Reader.held,
    DOSE_RECOVERED: _Reader.recovered,
    DOSE_OMITTED: _Reader.omit,
    DOSE_MOVED: _Reader.move,
    CYCLE_EXTENDED: _Reader.extend,
    RESPONSE_RECORDED: _Reader.response,
    LEVELS_CONFIRMED: _Reader.confirm_levels,
    PROPOSAL_DECIDED: _Reader.decide,
    TREATMENT_DISCONTINUED: _Reader.discontinue,
    INTAKE_HSCT: _Reader.hsct_plan,
    INTAKE_CORRECTED: _Reader.intake_corrected,
}


def parse(events: Sequence[Event]) -> Facts:
    """The facts of one patient stream, each entry recorded in error skipped."""
    streams = {e.stream for e in events}
    if len(streams) > 1:
        raise ValueError(f"timeline() takes one patient stream, got {len(streams)}")
    reader = _Reader()
    voided = voided_versions(events)
    for ev in sorted(events, key=lambda e: e.version):
        read = _READERS.get(ev.kind)
        if read is not None and ev.version not in voided:
            read(reader, ev)
    return reader.facts()


def latest_response(facts: Facts, *, before_cycle: int | None = None, cycle: int | None = None) -> ResponseFact | None:
    rs = [r for r in facts.responses if (before_cycle is None or r.cycle < before_cycle) and (cycle is None or r.cycle == cycle)]
    return max(rs, key=lambda r: (r.assessed_on, r.version)) if rs else None


def confirmed(facts: Facts, proposal_id: str) -> DecisionFact | None:
    d = facts.decisions.get(proposal_id)
    return d if d is not None and d.decision == "confirmed" else None

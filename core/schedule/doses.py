"""One dose not yet given, omitted or dropped: its planned date, effective window and state
(SCHED-2, SCHED-3, SCHED-7, CONV-SCHED-1/3/5/6/7), with the proposals it raises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from attrs import frozen

from .. import rules
from .model import DecisionFact, Dose, Facts, Interruption, Proposal, Window
from .vocab import (
    DELAYED,
    DUE_TODAY,
    HELD,
    IN_WINDOW,
    OVERDUE,
    PLANNED,
    SCOPE_DOSE,
    SCOPE_NONE,
    TABLE4_DOSE_RULES,
    TOXICITY_WORDS,
)


@frozen
class Slot:
    """Where one dose stands as the fold reaches it."""

    facts: Facts
    today: date
    n: int
    d: int
    nominal: date
    window: Window
    earliest: date | None  # last dose given (or projected) + 6 days (SCHED-3)
    projected: bool
    common: dict[str, Any]  # the Dose fields the fold has settled already

    @property
    def tag(self) -> str:
        return f"c{self.n}d{self.d}"

    def dose(self, planned: date, effective: Window | None, state: str, note: str) -> Dose:
        return Dose(planned=planned, effective=effective, state=state, note=note, **self.common)


def approved(facts: Facts, rule_names: Sequence[str], c: int, d: int) -> date | None:
    """The date a prescriber confirmed for this dose (the latest confirmed date proposal), or None."""
    best: DecisionFact | None = None
    for rule in rule_names:
        prefix = f"{rule}:c{c}d{d}:"
        for pid, dec in facts.decisions.items():
            if pid.startswith(prefix) and dec.decision == "confirmed" and (best is None or dec.version > best.version):
                best = dec
    if best is None:
        return None
    return best.on or date.fromisoformat(best.proposal_id.rsplit(":", 1)[1])


def day_state(today: date, planned: date, eff: Window) -> str:
    if today < eff.start:
        return PLANNED
    if eff.end is not None and today > eff.end:
        return OVERDUE
    return DUE_TODAY if today == planned else IN_WINDOW


def table4_decided(facts: Facts, tag: str) -> bool:
    return any(f"{rule}:{tag}" in facts.decisions for rule in TABLE4_DOSE_RULES)


def sched7_overdue(n: int, d: int, missed: date, earliest: date | None, today: date) -> Proposal:
    when = max(today, earliest) if earliest else today
    return Proposal(
        f"CONV-SCHED-7:c{n}d{d}:{missed.isoformat()}",
        "CONV-SCHED-7",
        f"C{n} D{d} was not given by {missed.isoformat()}: omit it (record an omission), or give it later on "
        f"{when.isoformat()} or after, keeping ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days between doses (CONV-SCHED-7; "
        "no default; later nominal dates do not move).",
        False,
        "prescriber",
        n,
        d,
        when,
        SCOPE_NONE,
    )


def sched3(facts: Facts, n: int, planned: date, earliest: date) -> Proposal:
    text = (
        f"Planned C{n} D1 {planned.isoformat()} is < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
        f"(SCHED-3, CONV-SCHED-3). Earliest spacing-compliant C{n} D1: {earliest.isoformat()}."
    )
    if n == rules.EXTENDABLE_CYCLE + 1 and facts.start is not None:
        c1 = facts.given[(1, 1)].on if (1, 1) in facts.given else facts.start
        need = (earliest - c1).days
        if need <= rules.CYCLE1_MAX_DAYS:
            text += (
                f" Extend cycle 1 to {need}–{rules.CYCLE1_MAX_DAYS} days with its reason (SCHED-4): C2 D1 "
                f"{earliest.isoformat()} to {(c1 + timedelta(days=rules.CYCLE1_MAX_DAYS)).isoformat()}."
            )
        else:
            text += " Beyond the 28-day extension: the delay is recorded with its cause (CONV-SCHED-3)."
    return Proposal(
        f"CONV-SCHED-3:c{n}d1:{earliest.isoformat()}", "CONV-SCHED-3", text, False, "prescriber", n, 1, earliest, SCOPE_DOSE
    )


def open_dose(s: Slot, it: Interruption | None) -> tuple[Dose, list[Proposal]]:
    """A dose not yet given, omitted or dropped: its planned date, effective window and state."""
    if it is not None and it.recovered is None:
        return s.dose(
            it.start,
            None,
            HELD,
            f"held from {it.start.isoformat()}: {it.reason} ({TOXICITY_WORDS.get(it.toxicity, it.toxicity)})",
        ), []
    if it is not None:
        return _recovered(s, it)
    if s.d == 1:
        return _open_day1(s)
    return _open_day8_15(s)


def _recovered(s: Slot, it: Interruption) -> tuple[Dose, list[Proposal]]:
    """CONV-SCHED-6: a delayed dose may be given from the recovery date, spacing kept."""
    props: list[Proposal] = []
    start = max(x for x in (it.recovered, s.earliest, s.window.start) if x is not None)
    end = None if s.d == 1 else max(start, s.window.end)  # type: ignore[type-var]
    eff = Window(start, end)
    note = (
        f"delayed by a hold from {it.start.isoformat()}, recovered {it.recovered.isoformat()} "  # type: ignore[union-attr]
        f"(CONV-SCHED-5/6); may be given {eff.text}"
    )
    state = DELAYED
    if end is not None and s.today > end:
        state = OVERDUE
        # Toxicity, not CONV-SCHED-7, decides a dose held past its window: only once its Table 4
        # proposal (MOD-INT-1/2) is decided is a later miss a non-toxicity one (issue 15).
        if not s.projected and table4_decided(s.facts, s.tag):
            props.append(sched7_overdue(s.n, s.d, end, s.earliest, s.today))
    return s.dose(start, eff, state, note), props


def _open_day1(s: Slot) -> tuple[Dose, list[Proposal]]:
    """A Day 1 has no window (CONV-SCHED-1): moved or approved only later, never < 6 days after the last dose."""
    moved = s.facts.moved.get((s.n, s.d))
    ok = approved(s.facts, ("CONV-SCHED-3",), s.n, s.d)
    candidates = [x for x in (moved[0] if moved else None, ok) if x is not None]
    planned = max([s.nominal, *candidates])
    if s.earliest is not None and planned < s.earliest:
        props = [] if s.projected else [sched3(s.facts, s.n, planned, s.earliest)]
        return s.dose(
            planned,
            None,
            DELAYED,
            f"planned {planned.isoformat()} is < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
            f"(SCHED-3, CONV-SCHED-3): earliest {s.earliest.isoformat()}, needs a prescriber",
        ), props
    eff = Window(planned, planned)
    state = day_state(s.today, planned, eff)
    note = "Day 1 has no window (CONV-SCHED-1)"
    if state == OVERDUE:
        note += "; overdue: record a hold or a recorded delay (CONV-SCHED-3)"
    return s.dose(planned, eff, state, note), []


def _open_day8_15(s: Slot) -> tuple[Dose, list[Proposal]]:
    """Day 8/15: nominal ± 2 days (SCHED-2), ≥ 6 days after the last dose (SCHED-3, SCHED-7)."""
    moved = s.facts.moved.get((s.n, s.d))
    ok = approved(s.facts, ("SCHED-7", "CONV-SCHED-7"), s.n, s.d)
    planned = moved[0] if moved else s.nominal
    note = "± 2 days (SCHED-2), ≥ 6 days after the last dose (SCHED-3, SCHED-7)"
    earliest, window = s.earliest, s.window
    if ok is not None:
        planned = ok
        eff = Window(ok, ok) if earliest is None or ok >= earliest else None
        note = f"moved to {ok.isoformat()} by a prescriber (SCHED-7 / CONV-SCHED-7)"
    else:
        start = max(window.start, earliest) if earliest else window.start
        eff = Window(start, window.end) if window.end is not None and start <= window.end else None
    if eff is None:
        assert earliest is not None
        props = (
            []
            if s.projected
            else [
                Proposal(
                    f"SCHED-7:{s.tag}:{earliest.isoformat()}",
                    "SCHED-7",
                    f"C{s.n} D{s.d}: no date in its window {window.text} is ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days after the last "
                    f"dose; earliest spacing-compliant date {earliest.isoformat()} (SCHED-7, CONV-SCHED-6): confirm it, "
                    "or omit the dose.",
                    False,
                    "prescriber",
                    s.n,
                    s.d,
                    earliest,
                    SCOPE_DOSE,
                )
            ]
        )
        return s.dose(
            planned, None, DELAYED, f"window empty after spacing (SCHED-7): earliest {earliest.isoformat()}, needs a prescriber"
        ), props
    state = day_state(s.today, planned, eff)
    props = [sched7_overdue(s.n, s.d, eff.end, earliest, s.today)] if state == OVERDUE and not s.projected else []  # type: ignore[arg-type]
    return s.dose(planned, eff, state, note), props

"""The fold: one patient stream into its cycle :class:`Timeline` as of a local date.

Confirmed proposals that are decisions in themselves are applied here: MOD-INT-2 omits the dose;
MOD-INT-3 / MOD-INT-4 reduce the target cycle onward; CYC-1 allows the 3rd HSCT cycle; MOD-INT-5,
MOD-INT-6, MOD-HEM-4 and CYC-3 discontinue treatment (no override, §16.1); a date proposal sets
the date its dose may be given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from attrs import evolve

from .. import rules
from ..events import Event
from .doses import Slot, open_dose
from .levels import compute_levels, level_proposals, row_level
from .limits import cycle_limits, cycle_proposals, status
from .model import Cycle, CycleLimit, Dose, Facts, Levels, Proposal, Timeline, Window
from .parse import _fmt, confirmed, parse
from .table4 import Table4, covering_hold, inside_hold, table4
from .vocab import DISCONTINUE_RULES, GIVEN, NOT_APPLICABLE, OMITTED, SCOPE_ALL, SPACING


def _discontinuation(facts: Facts) -> tuple[str | None, date | None]:
    """Why and since when treatment is discontinued: the record, or a confirmed stop proposal."""
    if facts.discontinued is not None:
        reason, note, on = facts.discontinued
        return reason + (f": {note}" if note else ""), on
    stop = next(
        (
            x
            for x in sorted(facts.decisions.values(), key=lambda x: x.version)
            if x.decision == "confirmed" and x.rule in DISCONTINUE_RULES
        ),
        None,
    )
    if stop is not None:
        return f"{stop.rule} confirmed by a prescriber: {stop.reason}", stop.on
    return None, None


class _Walk:
    """The cycles from the start date on, dose by dose, with what the doses before each one set:
    the last dose given (SCHED-3), the projected last dose, and whether all before are resolved."""

    def __init__(
        self, facts: Facts, today: date, t4: Table4, allowed: int, limits: tuple[CycleLimit, ...], disc_reason: str | None
    ):
        self.facts, self.today, self.t4 = facts, today, t4
        self.allowed, self.limits = allowed, limits
        self.disc_reason = disc_reason
        self.discontinued = disc_reason is not None
        self.proposals: list[Proposal] = []
        self.last_given: date | None = None
        self.proj_last: date | None = None
        self.all_resolved = True

    def cycles(self) -> list[Cycle]:
        out: list[Cycle] = []
        n, next_day1 = 1, self.facts.start
        while next_day1 is not None:
            if n > 1 and ((n, 1) not in self.facts.given and (self.discontinued or n > self.allowed)):
                break
            cy, length = self._cycle(n, next_day1)
            out.append(cy)
            if (n, 1) not in self.facts.given:
                break
            next_day1 = cy.day1 + timedelta(days=length)
            n += 1
        return _with_ends(out)

    def _cycle(self, n: int, planned_day1: date) -> tuple[Cycle, int]:
        """Cycle ``n`` (its end is set later, from the next Day 1) and its planned length."""
        facts = self.facts
        lv = compute_levels(facts, n, self.t4.reduce_from, self.t4.two_from)
        base_length = rules.CYCLE1_DAYS if n == 1 else rules.LATER_CYCLE_DAYS  # SCHED-4, SCHED-5
        ext_len, ext_reason, ext_note = None, None, ""
        if n == rules.EXTENDABLE_CYCLE and facts.extension is not None:
            ext_len, ext_reason, ext_note = facts.extension
        doses: list[Dose] = []
        day1 = planned_day1
        for d in rules.DAYS:
            dose = self._dose(n, d, day1, lv, planned_day1)
            if d == 1 and dose.state not in (NOT_APPLICABLE, OMITTED):  # given, or still to give: its date
                day1 = dose.given_on or (dose.effective.start if dose.effective else dose.planned)
            doses.append(dose)
        # level confirmations for this cycle (CONV-RESP-4, CONV-MOD-1/2/3, CONV-MOD-5)
        open_doses = [x for x in doses if not x.resolved]
        if open_doses and not open_doses[0].projected and not self.discontinued:
            self.proposals.extend(level_proposals(facts, lv, n, self.t4.reduce_from))
        cy = Cycle(n, day1, (n, 1) in facts.given, base_length, ext_len, ext_reason, ext_note, day1, tuple(doses))
        return cy, ext_len or base_length

    def _common(self, n: int, d: int, day1: date, lv: Levels, planned_day1: date) -> dict[str, Any]:
        """The Dose fields every state shares: dates, window, spacing, level, and the hold if any."""
        if d == 1:
            nominal = planned_day1
            window = Window(nominal, nominal)
        else:
            nominal = day1 + timedelta(days=d - 1)
            window = Window(nominal - timedelta(days=rules.WINDOW_DAYS), nominal + timedelta(days=rules.WINDOW_DAYS))
        common: dict[str, Any] = dict(
            cycle=n,
            day=d,
            nominal=nominal,
            window=window,
            earliest=self.proj_last + SPACING if self.proj_last else None,
            projected=not self.all_resolved,
            level=lv.levels[d],
            level_basis=lv.basis,
            level_confirmed=not lv.needs_confirmation,
            reduced=lv.reduced,
        )
        it = self.facts.interruptions.get((n, d))
        if it is not None:
            common.update(
                held_from=it.start,
                hold_reason=it.reason,
                toxicity=it.toxicity,
                recovered_on=it.recovered,
                interruption_days=it.days(self.today),
            )
        return common

    def _dose(self, n: int, d: int, day1: date, lv: Levels, planned_day1: date) -> Dose:
        common = self._common(n, d, day1, lv, planned_day1)
        g = self.facts.given.get((n, d))
        if g is not None:
            common.update(
                level=g.level,
                level_basis=f"given at {_fmt(g.level)} mg/m²",
                level_confirmed=True,
                reduced=g.level < row_level(lv.row, d) if lv.row else lv.reduced,
            )
            self.last_given = g.on if self.last_given is None or g.on > self.last_given else self.last_given
            self.proj_last = max(self.proj_last, g.on) if self.proj_last else g.on
            return Dose(planned=g.on, effective=None, state=GIVEN, given_on=g.on, given_by=g.actor, dose_mg=g.dose_mg, **common)
        closed = self._closed(n, d, lv, common)
        if closed is not None:
            return closed
        return self._open(n, d, common)

    def _closed(self, n: int, d: int, lv: Levels, common: dict[str, Any]) -> Dose | None:
        """A dose that does not apply or is omitted (no window, no proposal), or None."""
        facts, nominal = self.facts, common["nominal"]

        def na(note: str) -> Dose:
            return Dose(planned=nominal, effective=None, state=NOT_APPLICABLE, note=note, **common)

        if self.discontinued:
            return na(f"treatment discontinued ({self.disc_reason})")
        if n > self.allowed:
            binding = "; ".join(f"{lim.rule}: {lim.text}" for lim in self.limits if lim.max_cycles == self.allowed)
            return na(f"cycle {n} is above the {self.allowed} cycles now allowed ({binding})")
        if d in lv.dropped:
            common.update(level=None)
            return na(
                "2 doses per cycle (MOD-INT-4, CONV-MOD-2)"
                if d == rules.TWO_DOSES_DROPPED_DAY and lv.two_doses
                else "dropped by the prescriber's reduced split (CONV-MOD-5)"
            )
        if (n, d) in facts.omitted:
            return Dose(planned=nominal, effective=None, state=OMITTED, omit_reason=facts.omitted[(n, d)], **common)
        if (n, d) not in facts.interruptions and d in rules.OMITTABLE_DAYS and confirmed(facts, f"MOD-INT-2:c{n}d{d}"):
            cover = covering_hold(facts, n, d, nominal, common["window"], self.today)
            if cover is not None:
                return Dose(
                    planned=nominal,
                    effective=None,
                    state=OMITTED,
                    omit_reason=(
                        f"MOD-INT-2 (UNVERIFIED) omission confirmed by a prescriber: its window passed inside the hold of "
                        f"C{cover[0][0]} D{cover[0][1]}"
                    ),
                    **common,
                )
        return None

    def _open(self, n: int, d: int, common: dict[str, Any]) -> Dose:
        """A dose still to give: inside another dose's hold (Table 4), or open (its window)."""
        facts = self.facts
        it = facts.interruptions.get((n, d))
        slot = Slot(facts, self.today, n, d, common["nominal"], common["window"], common["earliest"], common["projected"], common)
        cover = None if it is not None else covering_hold(facts, n, d, slot.nominal, slot.window, self.today)
        dose, new_props = inside_hold(slot, cover) if cover is not None else open_dose(slot, it)
        self.proposals.extend(new_props)
        self.all_resolved = False
        proj = dose.effective.start if dose.effective else max(dose.planned, slot.earliest or dose.planned)
        self.proj_last = max(self.proj_last, proj) if self.proj_last else proj
        return dose


def _with_ends(cycles: list[Cycle]) -> list[Cycle]:
    """Cycle ends: the day before the next Day 1 (actual or planned, SCHED-6)."""
    out: list[Cycle] = []
    for i, cy in enumerate(cycles):
        end = (cycles[i + 1].day1 - timedelta(days=1)) if i + 1 < len(cycles) else cy.day1 + timedelta(days=cy.length_planned - 1)
        out.append(evolve(cy, end=end))
    return out


def _current(cycles: list[Cycle], today: date) -> tuple[int | None, int | None]:
    """The current cycle and day (SCHED-8, derived)."""
    current_cycle = current_day = None
    for cy in cycles:
        if cy.day1_given and cy.day1 <= today:
            current_cycle, current_day = cy.number, (today - cy.day1).days + 1
    return current_cycle, current_day


def _allowed(facts: Facts, cycles_given: int, disc_reason: str | None) -> tuple[int, tuple[CycleLimit, ...]]:
    """How many cycles are allowed, and the limits that say why (CYC-1 to CYC-4; discontinued: none more)."""
    limits = cycle_limits(facts)
    if disc_reason is None:
        return min(lim.max_cycles for lim in limits), limits
    return cycles_given, (*limits, CycleLimit("discontinued", cycles_given, f"treatment discontinued ({disc_reason})"))


def _severe_proposals(severe: Sequence[Any]) -> list[Proposal]:
    """MOD-NH-3, CONV-IRR-1: a severe reaction blocks every dose until a prescriber records the
    permanent discontinuation; it cannot be declined (check_decide), only the grade corrected."""
    return [
        Proposal(
            f"CONV-IRR-1:{r.dose_id}:{r.number}",
            "CONV-IRR-1",
            f"{r.text} {r.next_step}",
            False,
            "prescriber",
            None,
            None,
            None,
            SCOPE_ALL,
        )
        for r in severe
    ]


def timeline(events: Sequence[Event], today: date, roles: Mapping[str, str] | None = None) -> Timeline:
    """Fold one patient stream into its cycle timeline as of the local date ``today``.

    ``roles`` (user name → role) says whose grade corrections may lift a severe reaction's block
    (CONV-IRR-1: a prescriber's); without it none does."""
    from ..eligibility import severe_reactions  # the monitor's facts (core/infusion imports the schedule's peers)

    facts = parse(events)
    t4 = table4(facts, today)
    if t4.omitted:
        facts = evolve(facts, omitted={**t4.omitted, **facts.omitted})
    cycles_given = sum(1 for (c, d) in facts.given if d == 1)
    disc_reason, disc_on = _discontinuation(facts)
    discontinued = disc_reason is not None
    allowed, limits = _allowed(facts, cycles_given, disc_reason)
    walk = _Walk(facts, today, t4, allowed, limits, disc_reason)
    walk.proposals = [] if discontinued else [*t4.proposals, *cycle_proposals(facts, cycles_given)]
    cycles = walk.cycles()
    standing = severe_reactions(events, roles)
    severe = () if discontinued else standing
    proposals = _severe_proposals(severe) + [p for p in walk.proposals if p.id not in facts.decisions]
    current_cycle, current_day = _current(cycles, today)
    nxt = None if discontinued else next((x for cy in cycles for x in cy.doses if not x.resolved), None)
    line = status(facts, cycles, nxt, discontinued, disc_reason, cycles_given, allowed, limits)
    if severe:
        line = f"No further dose: {severe[0].text} {severe[0].next_step}"
    return Timeline(
        today=today,
        started=facts.start is not None,
        cycles=tuple(cycles),
        current_cycle=current_cycle,
        current_day=current_day,
        next_dose=nxt,
        last_given=walk.last_given,
        cycles_given=cycles_given,
        cycles_allowed=allowed,
        cycles_remaining=max(0, allowed - cycles_given),
        limits=limits,
        hsct_plan=facts.hsct_plan,
        discontinued=discontinued,
        discontinued_reason=disc_reason,
        discontinued_on=disc_on,
        proposals=tuple(proposals),
        status=line,
        reduced_from_cycle=t4.reduce_from,
        two_doses_from_cycle=t4.two_from,
        facts=facts,
        severe_reactions=standing,
    )

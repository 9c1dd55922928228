"""One dose's block of the printed record: its state, preparation, infusion, hold and its lines."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import infusion as inf
from .. import preparation as prep
from .. import schedule as sch
from ..clock import fmt_minutes
from ..events import Event
from ..infusion.reactions import reaction_numbers
from .lines import Fmt, describe
from .page import Page, clean
from .words import STATE_WORDS, TOXICITY_WORDS, Who, grade, level, word

Log = Callable[[Sequence[Event], Callable[[Event], str | None]], None]


def _dur(delta) -> str:
    return fmt_minutes(delta, clamp=True)


class DoseBlock:
    """Prints one dose: ``page`` to print on, ``who`` names users, ``t`` shows a time, ``log``
    prints the time-stamped lines of some events."""

    def __init__(self, page: Page, who: Who, t: Fmt, log: Log):
        self.page, self.who, self.t, self.log = page, who, t, log

    def print(self, dose: sch.Dose, evs: list[Event], st: prep.PrepState, mon: inf.MonitorState | None) -> None:
        page = self.page
        page.blank()
        page.rule()
        on = dose.given_on or dose.held_from or dose.planned
        state = STATE_WORDS.get(dose.state, dose.state.upper())
        if mon is not None and dose.state == sch.GIVEN:
            state += f", {mon.phase}"
        mg = f"  {dose.dose_mg} mg" if dose.dose_mg is not None else ""
        page.text(f"{dose.label}  {on.isoformat()}  {state}  {level(dose.level)}{mg}")
        self.preparation(dose, st)
        if dose.state == sch.GIVEN and mon is None:
            page.field(
                "Recorded by", f"{self.who.named(dose.given_by or '')}; no infusion record in Bedside (dose documented as given)"
            )
        if mon is not None:
            self.infusion(mon, evs)
        self.schedule(dose)
        reaction_no = reaction_numbers(evs)  # the one numbering (core/infusion/reactions.py)
        if any(describe(e, reaction_no, self.t) is not None for e in evs):
            page.text("Record:", 2)
            self.log(evs, lambda e: describe(e, reaction_no, self.t))

    def preparation(self, dose: sch.Dose, st: prep.PrepState) -> None:
        page, who, t = self.page, self.who, self.t
        if st.calculation is None:
            if dose.state == sch.GIVEN:
                page.field("Prepared by", "no preparation record in Bedside")
            return
        preparers = [st.calculation.actor] + [s.actor for s in st.steps if s.actor != st.calculation.actor]
        page.field("Prepared by", "; ".join(dict.fromkeys(who.named(u) for u in preparers)))
        vials = st.calculation.data.get("vials")
        serials = [c.serial for c in st.cartons if c.serial]
        page.field(
            "Vials (scanned)",
            f"{len(st.cartons)} of {vials}: {clean(st.lots)}" + (f"; serials {clean(', '.join(serials))}" if serials else "")
            if st.cartons
            else f"no carton scanned (0 of {vials})",
        )
        v = st.last_verification
        if v is None:
            page.field("Verified by", "NOT VERIFIED (no double-check recorded)")
        elif v.matched:
            page.field("Verified by", f"{who.named(v.actor)}, blind double-check matched at {t(v.at)}")
        else:
            page.field("Verified by", f"MISMATCH at the double-check by {who.named(v.actor)} {t(v.at)}")
        for discarded in st.discarded:
            last = discarded[-1]
            page.field("Discarded", f"{t(last.at)} by {who.named(last.actor)}: {clean(last.reason)}")

    def schedule(self, dose: sch.Dose) -> None:
        page = self.page
        if dose.held_from is not None:
            rec = f"recovered {dose.recovered_on.isoformat()}" if dose.recovered_on else "not recovered"
            days = ""
            if dose.interruption_days is not None:
                days = f"; interruption {dose.interruption_days} days" + ("" if dose.recovered_on else " so far")
            page.field(
                "Hold",
                f"from {dose.held_from.isoformat()} ({word(TOXICITY_WORDS, dose.toxicity)}): "
                f"{clean(dose.hold_reason)}; {rec}{days}",
            )
        if dose.state == sch.OMITTED:
            page.field("Omitted", clean(dose.omit_reason))
        if dose.state in (sch.GIVEN, sch.OMITTED, sch.HELD):
            return
        if dose.note:
            window = f"window {dose.effective.text}; " if dose.effective is not None else ""
            page.field("Schedule", window + clean(dose.note))
        elif dose.effective is not None:
            page.field("Schedule", f"window {dose.effective.text}")

    # --- the infusion summary --------------------------------------------------------------------

    def infusion(self, mon: inf.MonitorState, evs: list[Event]) -> None:
        start_ev = next((e for e in evs if e.kind == inf.INFUSION_STARTED), None)
        self.timing(mon, start_ev)
        self.observation(mon)
        done = [v for v in mon.vitals_due if v.status in ("missed", "overdue")]
        self.page.field(
            "Vital signs",
            f"{len(mon.vitals)} set(s) recorded"
            + ("; " + "; ".join(f"{v.label}: {v.status.upper()}" for v in done) if done else ""),
        )
        self.reactions(mon)
        self.deviations(mon)

    def timing(self, mon: inf.MonitorState, start_ev: Event | None) -> None:
        page, t = self.page, self.t
        by = f" by {self.who.named(start_ev.actor)}" if start_ev is not None else ""
        page.field("Started", f"{t(mon.started_at)}{by}, route {mon.route}")
        paused = f", {_dur(mon.paused)} paused" if mon.paused else ""
        if mon.stopped_at is not None:
            page.field("STOPPED", f"{t(mon.stopped_at)} after {_dur(mon.running)} running{paused}: {clean(mon.stop_reason)}")
        elif mon.ended_at is not None:
            page.field("Ended", f"{t(mon.ended_at)} after {_dur(mon.running)} running{paused}")
        else:
            page.field("Ends", f"not yet; {_dur(mon.running)} running{paused} so far, projected end {t(mon.infusion_end_at)}")
        for p in mon.pauses:
            span = (
                f"{t(p.started_at)} to {t(p.ended_at)} ({_dur(p.length(mon.now))})"
                if p.ended_at
                else f"{t(p.started_at)}, still paused ({_dur(p.length(mon.now))} so far)"
            )
            page.field("Pause", f"{span}: {clean(p.reason)}")
        if not mon.pauses:
            page.field("Pauses", "none")

    def observation(self, mon: inf.MonitorState) -> None:
        page, t = self.page, self.t
        if mon.observation_outcome == "completed":
            page.field("Observation", f"completed {t(mon.observation_closed_at)}")
        elif mon.observation_outcome == "incomplete":
            page.field("Observation", f"INCOMPLETE, closed {t(mon.observation_closed_at)} (deviation, see below)")
        elif mon.observation_open:
            until = t(mon.observation_earliest_end) if mon.observation_earliest_end else "every reaction is resolved"
            page.field("Observation", f"in progress; at least until {until}")
        else:
            page.field("Observation", f"from the end of the infusion, at least until {t(mon.observation_min_end)}")

    def reactions(self, mon: inf.MonitorState) -> None:
        t = self.t
        for r in mon.reactions:
            res = f"resolved {t(r.resolved_at)}, outcome {r.outcome}" if r.resolved_at else "NOT RESOLVED"
            version = f" (CTCAE v{r.ctcae_version})" if r.ctcae_version else ""
            self.page.field(
                f"Reaction {r.number}",
                f"{t(r.started_at)} during {r.during}: {grade(r.grade)}{version}; {res}; symptoms: {clean(r.symptoms)}",
            )
        if not mon.reactions:
            self.page.field("Reactions", "none")

    def deviations(self, mon: inf.MonitorState) -> None:
        page = self.page
        for dv in mon.deviations:
            text = f"{dv.kind.replace('_', ' ')} at {self.t(dv.at)} ({dv.rule}): {clean(dv.reason)}"
            if dv.kind == "observation_incomplete":
                text += f"; who: {clean(dv.who)}"
            text += f" (recorded by {self.who(dv.recorded_by)})" if dv.recorded_by else ""
            page.field("Deviation", text)
        for pr in mon.problems:
            page.field("Not applied", f"{clean(pr.text)} ({pr.rule})")
        if mon.discontinuation is not None:
            page.field("Proposal", clean(mon.discontinuation.text))


def monitor_needed(evs: Sequence[Event]) -> bool:
    """A dose's infusion summary is printed when an infusion was started for it."""
    return any(e.kind == inf.INFUSION_STARTED for e in evs)

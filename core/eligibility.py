"""Facts from one job that forbid doses in another: read once, from the patient's whole record.

A severe infusion reaction is recorded on the monitor (core/infusion/), but it forbids every
later dose (MOD-NH-3, CONV-IRR-1): the timeline (core/schedule.py turns it into a blocking
proposal that only the discontinuation record answers), the pre-dose verdict (DISCONTINUE,
core/predose/records.py) and the start gate (core/infusion/gate.py, through both) all read it here, so
no path can offer a dose the reaction forbids.

Pure: events (and the users' roles) in, values out.
"""

from __future__ import annotations

import re as _re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from datetime import date as _date

from attrs import frozen

from . import rules
from .events import Event
from .infusion.events import REACTION_GRADED
from .infusion.fold import monitor
from .infusion.model import is_severe

#: The monitor fold applies events up to "now"; here every recorded reaction counts, whatever
#: the clock of the terminal that asks (a fact does not expire).
_ALL_RECORDED = datetime(9000, 1, 1, tzinfo=UTC)

PRESCRIBER = "prescriber"
RULES = ("MOD-NH-3", "CONV-IRR-1")


@frozen
class SevereReaction:
    """A Grade 3/4 or anaphylaxis infusion reaction that no prescriber's correction has lifted."""

    dose_id: str
    number: int
    grade: int | str
    at: datetime
    corrected_by_other: str = ""  # a lower grade recorded by someone who may not lift it

    @property
    def label(self) -> str:
        cycle, day = self.dose_id[1:].split("d")
        grade = "anaphylaxis" if self.grade == rules.IRR_ANAPHYLAXIS else f"Grade {self.grade}"
        return f"{grade} infusion reaction at C{cycle} D{day} (reaction {self.number})"

    @property
    def text(self) -> str:
        extra = (
            (
                f"; the lower grade recorded by {self.corrected_by_other} does not lift it: only a prescriber's "
                "recorded grade correction does"
            )
            if self.corrected_by_other
            else ""
        )
        return f"{self.label}: permanently discontinue BESPONSA (MOD-NH-3, CONV-IRR-1){extra}."

    next_step = (
        "A prescriber records the permanent discontinuation (timeline, D). No override; only a prescriber's "
        "recorded correction of the grade, with a reason, changes this."
    )


def _reaction_doses(events: Sequence[Event]) -> list[str]:
    seen: dict[str, None] = {}
    for ev in events:
        if ev.kind == REACTION_GRADED and isinstance(ev.data.get("dose_id"), str):
            seen.setdefault(ev.data["dose_id"], None)
    return list(seen)


def severe_reactions(events: Sequence[Event], roles: Mapping[str, str] | None = None) -> tuple[SevereReaction, ...]:
    """Every severe reaction still standing (CONV-IRR-1): graded 3, 4 or anaphylaxis, and not lowered
    by a prescriber's recorded correction. Without ``roles`` no correction is trusted (safest)."""
    roles = roles or {}
    out: list[SevereReaction] = []
    for dose_id in _reaction_doses(events):
        state = monitor(events, dose_id, _ALL_RECORDED)
        corrections = [
            ev
            for ev in events
            if ev.kind == REACTION_GRADED
            and ev.data.get("dose_id") == dose_id
            and str(ev.data.get("correction_reason") or "").strip()
        ]
        for r in state.reactions:
            severe_times = [(at, g) for at, g, _why in r.grade_history if is_severe(g)]
            if not severe_times:
                continue
            if r.severe:
                out.append(SevereReaction(dose_id, r.number, r.grade, r.graded_at or severe_times[-1][0]))
                continue
            last = corrections[-1] if corrections else None
            if last is None or roles.get(last.actor) != PRESCRIBER:
                at, grade = severe_times[-1]
                who = last.actor if last is not None else "someone"
                out.append(SevereReaction(dose_id, r.number, grade, at, corrected_by_other=who))
    return tuple(out)


# --- may this dose be given now? (issue 15: one answer for every path) ------------------------------

_RULE_ID = _re.compile(r"\b(?:CONV-[A-Z]+-\d+|MOD-(?:GEN|HEM|NH|INT)-\d+|[A-Z]{2,5}-\d+)\b")

DISCONTINUE = "DISCONTINUE"  # permanent: no override (CONV-OVR-1, §16.1)
NOT_NOW = "NOT NOW"  # the schedule, a hold or a decision stands in the way today
MAY_GIVE = "MAY GIVE"
_DISCONTINUE_RULES = {  # schedule.DISCONTINUE_REASONS → the rule behind each (§16.1)
    "vod": ("MOD-NH-1",),
    "severe_infusion_reaction": ("MOD-NH-3", "CONV-IRR-1"),
    "no_response_3_cycles": ("CYC-3",),
}


@frozen
class Reason:
    """Why a dose may not be given now: the rules, in words, and what to do next (and who)."""

    rule_ids: tuple[str, ...]
    text: str
    next_step: str
    kind: str = NOT_NOW  # DISCONTINUE | NOT_NOW


@frozen
class Eligibility:
    dose_id: str
    allowed: bool
    reasons: tuple[Reason, ...]

    @property
    def verdict(self) -> str:
        if self.allowed:
            return MAY_GIVE
        return DISCONTINUE if any(r.kind == DISCONTINUE for r in self.reasons) else NOT_NOW

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for r in self.reasons for i in r.rule_ids))


def _ids(text: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(_RULE_ID.findall(text)))
    return found or fallback


def _parse_dose_id(dose_id: str) -> tuple[int, int] | None:
    m = _re.fullmatch(r"c(\d+)d(\d+)", dose_id or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def may_give(
    events: Sequence[Event], dose_id: str, now: datetime, today: _date, roles: Mapping[str, str] | None = None, tl=None
) -> Eligibility:
    """May dose ``dose_id`` ("c1d8") be given now, and if not, why not (rule IDs), from the patient's
    whole record: the schedule (SCHED-*, CONV-SCHED-*, Table 4 proposals, levels), a discontinuation
    and a severe infusion reaction recorded on the monitor (MOD-NH-3, CONV-IRR-1), holds and the doses
    inside them (MOD-INT, CONV-MOD-4). Pure: ``now`` and the local ``today`` are passed in; ``roles``
    says whose grade corrections count (a prescriber's, CONV-IRR-1).

    The timeline's state of the dose and ``schedule.check_give`` are the schedule's half of this
    answer; the pre-dose verdict (``predose.verdict``) and the start gate
    (``infusion.gate``, through ``workflow.start_gate``) add these reasons to their own, so no path says "may give" where
    this says no. The preparation of the bag is the start gate's own, further condition."""
    from . import schedule as sch  # the schedule imports this module's severe_reactions

    del now  # every fact here is dated; kept in the signature so callers pass the one clock
    key = _parse_dose_id(dose_id)
    if key is None:
        return Eligibility(
            dose_id,
            False,
            (Reason(("SCHED-1",), f"{dose_id!r} is not a dose (C<n> D1, D8 or D15).", "Choose a dose on the timeline."),),
        )
    cycle, day = key
    if tl is None:  # a caller that has folded the timeline (same events, today and roles) passes it
        tl = sch.timeline(events, today, roles)
    reasons: list[Reason] = []
    if tl.discontinued:
        return Eligibility(dose_id, False, (_discontinued(tl),))
    for r in tl.severe_reactions:
        reasons.append(Reason(RULES, r.text, r.next_step, DISCONTINUE))
    dose = tl.dose(cycle, day)
    if dose is None:
        return Eligibility(dose_id, False, (*reasons, _not_on_timeline(sch, tl, cycle, day)))
    reasons += _dose_reasons(sch, tl, dose, cycle, day, today, reasons)
    return Eligibility(dose_id, not reasons, tuple(reasons))


def _dose_reasons(sch, tl, dose, cycle: int, day: int, today: _date, known: Sequence[Reason]) -> list[Reason]:
    """The schedule's half: the dose's own state on the timeline, else ``schedule.check_give``'s
    refusal (unless an earlier reason already says it)."""
    if dose.state == sch.GIVEN:
        return [Reason(("SCHED-1",), f"{dose.label} was given on {dose.given_on}.", "Nothing to give: choose the next dose.")]
    if dose.state == sch.OMITTED:
        return [
            Reason(
                _ids(dose.omit_reason or "", ("CONV-SCHED-7",)),
                f"{dose.label} was omitted ({dose.omit_reason}).",
                "Nothing to give: choose the next dose.",
            )
        ]
    if dose.state == sch.NOT_APPLICABLE:
        return [Reason(_ids(dose.note, ("CYC-4",)), f"{dose.label} does not apply: {dose.note}.", "Nothing to give.")]
    try:
        sch.check_give(tl, cycle, day, today, dose.level if dose.level is not None else "0", "1")
    except ValueError as exc:
        text = str(exc)
        if not any(text.endswith(r.text) or r.text in text for r in known):
            step = (
                "A prescriber decides the proposal on the timeline (d)."
                if "waiting for a decision" in text
                else "Record the recovery on the timeline (y) when it comes."
                if dose.state in (sch.HELD, sch.BLOCKED)
                else "See the timeline: the nearest allowed date, or the decision needed, is named above."
            )
            return [Reason(_ids(text, ("SCHED-3",)), text, step)]
    return []


def _discontinued(tl) -> Reason:
    why = tl.discontinued_reason or ""
    fallback = _DISCONTINUE_RULES.get(why.split(":", 1)[0], ("CONV-OVR-1",))
    return Reason(
        _ids(why, fallback),
        f"Treatment discontinued ({tl.discontinued_reason}): no further dose.",
        "None: a permanent discontinuation has no override; only a recorded correction of the facts changes it (§16.1).",
        DISCONTINUE,
    )


def _not_on_timeline(sch, tl, cycle: int, day: int) -> Reason:
    try:
        sch._need_dose(tl, cycle, day)
        text = f"C{cycle} D{day} is not on the timeline."
    except ValueError as exc:
        text = str(exc)
    if not tl.cycles:  # nothing started yet: the first step is the cycle 1 start date
        return Reason(_ids(text, ("SCHED-6",)), text, "Start cycle 1 on the timeline (b), choosing its Day 1.")
    return Reason(_ids(text, ("SCHED-6",)), text, "Give the earlier doses first (the timeline shows what is next).")

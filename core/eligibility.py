"""Facts from one job that forbid doses in another: read once, from the patient's whole record.

A severe infusion reaction is recorded on the monitor (core/infusion.py), but it forbids every
later dose (MOD-NH-3, CONV-IRR-1): the timeline (core/schedule.py turns it into a blocking
proposal that only the discontinuation record answers), the pre-dose verdict (DISCONTINUE,
core/predose_records.py) and the start gate (core/workflow.py, through both) all read it here, so
no path can offer a dose the reaction forbids.

Pure: events (and the users' roles) in, values out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from attrs import frozen

from . import infusion as inf
from .events import Event

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
        grade = "anaphylaxis" if self.grade == inf.rules.IRR_ANAPHYLAXIS else f"Grade {self.grade}"
        return f"{grade} infusion reaction at C{cycle} D{day} (reaction {self.number})"

    @property
    def text(self) -> str:
        extra = (f"; the lower grade recorded by {self.corrected_by_other} does not lift it: only a prescriber's "
                 "recorded grade correction does") if self.corrected_by_other else ""
        return f"{self.label}: permanently discontinue BESPONSA (MOD-NH-3, CONV-IRR-1){extra}."

    next_step = ("A prescriber records the permanent discontinuation (timeline, D). No override; only a prescriber's "
                 "recorded correction of the grade, with a reason, changes this.")


def _reaction_doses(events: Sequence[Event]) -> list[str]:
    seen: dict[str, None] = {}
    for ev in events:
        if ev.kind == inf.REACTION_GRADED and isinstance(ev.data.get("dose_id"), str):
            seen.setdefault(ev.data["dose_id"], None)
    return list(seen)


def severe_reactions(events: Sequence[Event], roles: Mapping[str, str] | None = None) -> tuple[SevereReaction, ...]:
    """Every severe reaction still standing (CONV-IRR-1): graded 3, 4 or anaphylaxis, and not lowered
    by a prescriber's recorded correction. Without ``roles`` no correction is trusted (safest)."""
    roles = roles or {}
    out: list[SevereReaction] = []
    for dose_id in _reaction_doses(events):
        state = inf.monitor(events, dose_id, _ALL_RECORDED)
        corrections = [ev for ev in events if ev.kind == inf.REACTION_GRADED and ev.data.get("dose_id") == dose_id
                       and str(ev.data.get("correction_reason") or "").strip()]
        for r in state.reactions:
            severe_times = [(at, g) for at, g, _why in r.grade_history if inf.is_severe(g)]
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

"""The course of one dose while its events are folded: a small mutable accumulator, private to the
fold (core/infusion/fold.py applies the events to it; core/infusion/state.py reads it at the end)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .. import rules
from ..clock import fmt_local
from ..events import Event
from ..stability import observation_earliest_end
from .model import REACTION_STEPS, Deviation, MonitorSettings, Problem, VitalsRecord, _grade_rank, _grade_text, is_severe

__all__ = ["_R", "_Fold"]


class _R:
    """A reaction while folding (mutable, private)."""

    def __init__(self, number: int, at: datetime, symptoms: str, during: str):
        self.number = number
        self.started_at = at
        self.symptoms = symptoms
        self.during = during
        self.grade: int | str | None = None
        self.graded_at: datetime | None = None
        self.version: str | None = None
        self.history: list[tuple[datetime, int | str, str]] = []
        self.notified: list[tuple[datetime, str]] = []
        self.treatments: list[tuple[datetime, str]] = []
        self.resolved_at: datetime | None = None
        self.outcome: str | None = None

    def apply_grade(self, at: datetime, grade: int | str, correction: str, version: str) -> None:
        self.history.append((at, grade, correction))
        if correction or self.grade is None or _grade_rank(grade) >= _grade_rank(self.grade):
            self.grade = grade
            self.graded_at = at
            self.version = version


class _Fold:
    def __init__(self, dose_id: str, settings: MonitorSettings):
        self.dose_id = dose_id
        self.settings = settings
        self.status = "not_started"  # not_started | running | paused | ended | stopped
        self.started_at: datetime | None = None
        self.route: str | None = None
        self.flush_min = 0
        self.deadline: datetime | None = None
        self.label_deadline: datetime | None = None  # STAB-2 (label): no override reaches past it
        self.target = timedelta(minutes=rules.INFUSION_MINUTES)  # MON-3
        self.run = timedelta(0)
        self.seg_start: datetime | None = None
        self.pauses: list[list[Any]] = []  # [start, end|None, reason, reaction]
        self.ended_at: datetime | None = None
        self.end_explicit = False
        self.stopped_at: datetime | None = None
        self.stop_reason: str | None = None
        self.closed_at: datetime | None = None
        self.close_kind: str | None = None
        self.reactions: dict[int, _R] = {}
        self.vitals: list[VitalsRecord] = []
        self.deviations: list[Deviation] = []
        self.problems: list[Problem] = []

    # -- helpers --
    def problem(self, ev: Event, at: datetime | None, text: str, rule: str) -> None:
        self.problems.append(Problem(ev.ref, ev.kind, at, text, rule))

    def t(self, when: datetime | None) -> str:
        return fmt_local(when, self.settings.tz, missing="?")

    def advance(self, t: datetime) -> None:
        """The infusion ends by itself when its running time is reached (MON-2, MON-3)."""
        if self.status == "running":
            assert self.seg_start is not None
            reach = self.seg_start + (self.target - self.run)
            if reach <= t:
                self.run = self.target
                self.ended_at = reach
                self.seg_start = None
                self.status = "ended"

    def close_segment(self, t: datetime) -> None:
        assert self.seg_start is not None
        self.run += t - self.seg_start
        self.seg_start = None

    def open_pause(self) -> list[Any] | None:
        return self.pauses[-1] if self.pauses and self.pauses[-1][1] is None else None

    def stop(self, t: datetime, reason: str) -> None:
        if self.status == "running":
            self.close_segment(t)
        elif self.status == "paused":
            p = self.open_pause()
            if p is not None:
                p[1] = t
        self.status = "stopped"
        self.stopped_at = t
        self.stop_reason = reason

    def vitals_for(
        self, point: str, start: datetime | None, end: datetime | None, *, end_inclusive: bool = False
    ) -> datetime | None:
        """The first set recorded for ``point``: one labelled with it, else an unlabelled set taken in
        the point's window ``[start, end)`` (``start`` None: open to the past; ``end`` None: open)."""
        for v in self.vitals:
            if v.point == point:
                return v.at
        for v in self.vitals:
            if v.point is not None:
                continue
            if start is not None and v.at < start:
                continue
            if end is not None and (v.at > end if end_inclusive else v.at >= end):
                continue
            return v.at
        return None

    def reaction_vitals(self, r: _R) -> datetime | None:
        # Any set from the reaction's start to its resolution (inclusive) counts (MON-4, IRR-1).
        return self.vitals_for(f"reaction:{r.number}", r.started_at, r.resolved_at, end_inclusive=True)

    def resume_blockers(self) -> list[str]:
        """Why the infusion may not resume now (CONV-IRR-1, CONV-IRR-2)."""
        out: list[str] = []
        for r in self.reactions.values():
            if is_severe(r.grade):
                out.append(f"reaction {r.number} is {_grade_text(r.grade)}: the infusion cannot resume (CONV-IRR-1)")
                continue
            missing = [s for s in self.missing_steps(r) if s != "outcome"]
            if missing:
                out.append(f"reaction {r.number}: record {', '.join(missing)} first (CONV-IRR-2)")
            if r.resolved_at is None:
                out.append(f"reaction {r.number} is not yet recorded as resolved with outcome resume (CONV-IRR-2)")
            elif r.outcome != "resume":
                out.append(f"reaction {r.number} outcome was {r.outcome} (CONV-IRR-2)")
        return out

    def missing_steps(self, r: _R) -> list[str]:
        done = {
            "vitals": self.reaction_vitals(r) is not None,
            "grade": r.grade is not None,
            "notified": bool(r.notified),
            "treatment": bool(r.treatments),
            "outcome": r.outcome is not None,
        }
        return [s for s in REACTION_STEPS if not done[s]]

    def open_reactions(self) -> list[_R]:
        return [r for r in self.reactions.values() if r.resolved_at is None]

    def obs_anchor(self) -> datetime | None:
        if self.status == "ended":
            return self.ended_at
        if self.status == "stopped":
            return self.stopped_at
        return None

    def obs_end(self, anchor: datetime | None) -> datetime | None:
        """Later of anchor + 60 min and the last reaction resolved; None while one is open (MON-2, CONV-IRR-3)."""
        if anchor is None or self.open_reactions():
            return None
        end = observation_earliest_end(anchor)
        for r in self.reactions.values():
            if r.resolved_at is not None and r.resolved_at > end:
                end = r.resolved_at
        return end

    def cannot_complete(self, t: datetime) -> tuple[str, str] | None:
        """Why "observation completed" at ``t`` does not fit (the text and its rule), else None."""
        when = self.t(t)
        if self.closed_at is not None:
            return f"Observation was already closed at {self.t(self.closed_at)}; not applied.", "MON-2"
        if self.status not in ("ended", "stopped"):
            return f"Observation completed at {when}, but the infusion has not ended; not applied.", "MON-2"
        open_r = self.open_reactions()
        if open_r:
            return (
                f"Observation completed at {when} while reaction {open_r[0].number} was not resolved; not applied: "
                "observation lasts until it is (CONV-IRR-3)."
            ), "CONV-IRR-3"
        end = self.obs_end(self.obs_anchor())
        assert end is not None
        if t < end:
            return (
                f"Observation completed at {when}, before it may end at {self.t(end)}; not applied. If the patient "
                "left, record 'observation incomplete' (MON-2)."
            ), "MON-2"
        return None

    def during(self) -> str:
        return {
            "not_started": "before start",
            "running": "infusion",
            "paused": "pause",
            "ended": "observation" if self.closed_at is None else "after observation",
            "stopped": "after stop" if self.closed_at is None else "after observation",
        }[self.status]

"""Stability deadlines for reconstituted and diluted BESPONSA: pure functions, no I/O.

Section 9 (STAB-1 to 5) and CONV-STAB-1/2/3 of ``shared/clinical-reference.md``, worked
examples T1, T3 and T5 of §18.4:

* dilution no later than reconstitution + 4 h (STAB-1);
* the infusion ends no later than the **earliest** of reconstitution + 8 h (STAB-2), the moment the
  diluted solution's room-temperature exposure reaches 4 h (STAB-4, UNVERIFIED, CONV-STAB-1/2) and
  any refrigeration limit (3 h in the refrigerator in total, STAB-4, UNVERIFIED);
* latest start = that deadline − 60 min − planned pauses − syringe flush (CONV-STAB-1, PREP-9);
* after refrigeration, about 1 h to equilibrate before the start (STAB-5).

Room-temperature exposure is all time after dilution outside the refrigerator (equilibration
included) up to the end of the infusion (CONV-STAB-2). Times are timezone-aware and returned in UTC
(CONV-TIME-1); every difference is an exact timestamp difference (midnight-safe).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from attrs import field, frozen

from . import rules
from .clock import as_utc, fmt_local, fmt_minutes

__all__ = [
    "Deadlines",
    "Limit",
    "PrepTimes",
    "cannot_give",
    "check_dilution",
    "deadlines",
    "infusion_end",
    "observation_earliest_end",
]

_UTC = UTC


_utc = as_utc


def _opt_utc(value: object) -> datetime | None:
    return None if value is None else _utc("diluted_at", value)


def _intervals(value: Iterable[object]) -> tuple[tuple[datetime, datetime | None], ...]:
    out: list[tuple[datetime, datetime | None]] = []
    for item in value:
        start, end = item  # type: ignore[misc]
        out.append((_utc("refrigerated start", start), None if end is None else _utc("refrigerated end", end)))
    return tuple(out)


def _minutes(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be whole minutes (int), not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def _hm(delta: timedelta) -> str:
    return fmt_minutes(delta, hours=True)


def _t(moment: datetime) -> str:
    """Local time, with the zone named (stored in UTC, shown local)."""
    return fmt_local(moment, zone=True)


@frozen(kw_only=True)
class PrepTimes:
    """What happened to one preparation so far.

    ``refrigerated``: the diluted solution's refrigerator intervals, in order, as
    ``(start, end)``; only the last may be open (``end=None``: still in the refrigerator).
    ``planned_pause_min``: pauses to allow for; ``flush_min``: syringe flush time (PREP-9).
    ``stab4_overridden``: a pharmacist overrode the UNVERIFIED STAB-4 limits with a recorded
    reason (the reference allows it); the verified STAB-1/2 limits still apply.
    """

    reconstituted_at: datetime = field(converter=lambda v: _utc("reconstituted_at", v))
    diluted_at: datetime | None = field(default=None, converter=_opt_utc)
    refrigerated: tuple[tuple[datetime, datetime | None], ...] = field(default=(), converter=_intervals)
    planned_pause_min: int = field(default=0, converter=lambda v: _minutes("planned_pause_min", v))
    flush_min: int = field(default=0, converter=lambda v: _minutes("flush_min", v))
    stab4_overridden: bool = False

    def __attrs_post_init__(self) -> None:
        if self.diluted_at is not None and self.diluted_at < self.reconstituted_at:
            raise ValueError("diluted_at is before reconstituted_at")
        if self.refrigerated and self.diluted_at is None:
            raise ValueError("refrigerated intervals are for the diluted solution: diluted_at is missing")
        previous = self.diluted_at
        for i, (start, end) in enumerate(self.refrigerated):
            assert previous is not None
            if start < previous:
                raise ValueError(f"refrigerated interval {i + 1} starts before dilution or overlaps the previous one")
            if end is None:
                if i != len(self.refrigerated) - 1:
                    raise ValueError("only the last refrigerated interval may be open")
            elif end < start:
                raise ValueError(f"refrigerated interval {i + 1} ends before it starts")
            previous = end if end is not None else start


@frozen
class Limit:
    """One candidate infusion-end deadline."""

    rule_id: str
    name: str
    at: datetime
    unverified: bool

    @property
    def text(self) -> str:
        tag = " (UNVERIFIED: pharmacist may override with a reason)" if self.unverified else ""
        return f"{self.name}: {_t(self.at)} [{self.rule_id}, Table 6]{tag}"


@frozen(kw_only=True)
class Deadlines:
    """The stability deadlines of one preparation (all UTC)."""

    dilution_deadline: datetime  # STAB-1
    end_deadline: datetime  # CONV-STAB-1: the earliest of ``limits``
    binding: Limit
    limits: tuple[Limit, ...]
    latest_start: datetime  # CONV-STAB-1
    earliest_start: datetime | None  # STAB-5: after refrigeration, removal + ~1 h
    remove_from_refrigerator_by: datetime | None  # STAB-4, when still in the refrigerator
    refrigerated_used: timedelta  # CONV-STAB-2: diluted solution's total refrigerator time so far
    problems: tuple[tuple[str, str], ...]  # (rule ID, text): each means discard (CONV-STAB-3)
    unverified_rules: tuple[str, ...]
    planned_min: int = rules.INFUSION_MINUTES  # 60 min + planned pauses + flush (CONV-STAB-1)

    @property
    def usable(self) -> bool:
        return not self.problems

    @property
    def label_limit(self) -> Limit:
        """The earliest label (L) limit: STAB-2's 8-hour cap. No override of any kind reaches past it."""
        return min((lim for lim in self.limits if not lim.unverified), key=lambda lim: lim.at)

    @property
    def label_latest_start(self) -> datetime:
        """The latest start that still ends by every label limit (whatever is overridden)."""
        return self.label_limit.at - timedelta(minutes=self.planned_min)

    def start_soon(self, now: datetime) -> bool:
        """True when the latest start is near: within the [SITE] lead time and not passed (CONV-STAB-3)."""
        left = self.latest_start - _utc("now", now)
        return timedelta(0) <= left <= timedelta(minutes=rules.STABILITY_ALERT_LEAD_MINUTES)

    def allows_end(self, end_at: datetime) -> bool:
        """True when an infusion ending at ``end_at`` is within the deadline (CONV-STAB-3)."""
        return _utc("end_at", end_at) <= self.end_deadline

    def explain(self) -> list[str]:
        lines = [f"Dilute by {_t(self.dilution_deadline)} [STAB-1, Table 6]"]
        lines += [("→ " if lim == self.binding else "  ") + lim.text for lim in self.limits]
        lines.append(f"Infusion must end by {_t(self.end_deadline)} (binding: {self.binding.rule_id})")
        lines.append(f"Latest start {_t(self.latest_start)} [CONV-STAB-1]")
        if self.earliest_start is not None:
            lines.append(
                f"Earliest start after refrigeration {_t(self.earliest_start)} [STAB-5; earlier needs pharmacist confirmation]"
            )
        if self.remove_from_refrigerator_by is not None:
            lines.append(f"Take out of the refrigerator by {_t(self.remove_from_refrigerator_by)} [STAB-4]")
        lines += [f"{rid}: {text}" for rid, text in self.problems]
        return lines


def check_dilution(recon_at: datetime, diluted_at: datetime) -> str | None:
    """``None`` when dilution is within 4 h of reconstitution (STAB-1); else the refusal text."""
    recon = _utc("recon_at", recon_at)
    diluted = _utc("diluted_at", diluted_at)
    gap = diluted - recon
    if gap < timedelta(0):
        return f"Dilution time {_t(diluted)} is before reconstitution ({_t(recon)}): check the times."
    limit = timedelta(minutes=rules.RECON_TO_DILUTION_MAX_MIN)
    if gap > limit:
        return (
            f"Dilution {_hm(gap)} after reconstitution ({_t(recon)} → {_t(diluted)}) is over the "
            f"{_hm(limit)} limit (STAB-1, Table 6): discard and prepare again (CONV-STAB-3)."
        )
    return None


def infusion_end(started_at: datetime, *, paused_min: int = 0, flush_min: int = 0) -> datetime:
    """End = start + 60 min running time + pauses + syringe flush (MON-3, PREP-9)."""
    minutes = rules.INFUSION_MINUTES + _minutes("paused_min", paused_min) + _minutes("flush_min", flush_min)
    return _utc("started_at", started_at) + timedelta(minutes=minutes)


def observation_earliest_end(ended_at: datetime) -> datetime:
    """Observation lasts at least 60 min from the actual end (MON-2); reactions may extend it."""
    return _utc("ended_at", ended_at) + timedelta(minutes=rules.OBSERVATION_MIN_MINUTES)


def deadlines(times: PrepTimes, *, now: datetime | None = None) -> Deadlines:
    """The deadlines for ``times`` (CONV-STAB-1/2, STAB-1 to 5).

    ``now`` is needed only while the diluted solution is in the refrigerator (an open interval):
    the room-temperature limit is then computed as if it were taken out at ``now`` (the earliest it
    can be), which only moves later as time passes. Before dilution, with ``now``, the
    room-temperature limit assumes dilution at ``now``; without it, only STAB-1/2 are known.
    """
    if not isinstance(times, PrepTimes):
        raise TypeError("times must be a PrepTimes")
    now_utc = None if now is None else _utc("now", now)
    recon = times.reconstituted_at
    dilution_deadline = recon + timedelta(minutes=rules.RECON_TO_DILUTION_MAX_MIN)
    cap = Limit(
        "STAB-2",
        "8 h from reconstitution to end of administration",
        recon + timedelta(minutes=rules.RECON_TO_END_MAX_MIN),
        unverified=False,
    )
    out = _Exposure([cap])
    if times.diluted_at is None:
        _before_dilution(times, now_utc, dilution_deadline, out)
    else:
        _after_dilution(times, now_utc, out)
    # Earliest wins; on a tie the verified label limit (listed first) is named.
    binding = min(enumerate(out.limits), key=lambda pair: (pair[1].at, pair[0]))[1]
    planned = rules.INFUSION_MINUTES + times.planned_pause_min + times.flush_min
    if times.flush_min:
        out.unverified.append("PREP-9")
    return Deadlines(
        dilution_deadline=dilution_deadline,
        end_deadline=binding.at,
        binding=binding,
        limits=tuple(out.limits),
        latest_start=binding.at - timedelta(minutes=planned),
        earliest_start=out.earliest_start,
        remove_from_refrigerator_by=out.remove_by,
        refrigerated_used=out.fridge_used,
        problems=tuple(out.problems),
        unverified_rules=tuple(dict.fromkeys(out.unverified)),
        planned_min=planned,
    )


class _Exposure:
    """What :func:`deadlines` gathers while it walks one preparation's times."""

    def __init__(self, limits: list[Limit]):
        self.limits = limits
        self.problems: list[tuple[str, str]] = []
        self.unverified: list[str] = []
        self.earliest_start: datetime | None = None
        self.remove_by: datetime | None = None
        self.fridge_used = timedelta(0)


_RT_BUDGET = timedelta(minutes=rules.DILUTED_ROOM_TEMP_MAX_MIN)  # STAB-4 (UNVERIFIED)
_FRIDGE_BUDGET = timedelta(minutes=rules.DILUTED_REFRIGERATED_MAX_MIN)  # STAB-4 (UNVERIFIED)


def _before_dilution(times: PrepTimes, now_utc: datetime | None, dilution_deadline: datetime, out: _Exposure) -> None:
    """Not diluted yet: with ``now``, the room-temperature limit as if diluted now (STAB-1, STAB-4)."""
    if now_utc is None:
        return
    recon = times.reconstituted_at
    start = max(now_utc, recon)
    if not times.stab4_overridden:  # STAB-4 overridden: its limits are not applied
        out.limits.append(
            Limit(
                "STAB-4",
                "4 h at room temperature after dilution, if diluted now (CONV-STAB-1/2)",
                start + _RT_BUDGET,
                unverified=True,
            )
        )
        out.unverified.append("STAB-4")
    if start > dilution_deadline:
        out.problems.append(("STAB-1", check_dilution(recon, start) or "dilution window has passed"))


def _after_dilution(times: PrepTimes, now_utc: datetime | None, out: _Exposure) -> None:
    """Diluted: STAB-1 on the dilution, and the STAB-4 limits of its room-temperature and
    refrigerator time so far (CONV-STAB-1/2), unless a pharmacist overrode STAB-4."""
    assert times.diluted_at is not None
    free = times.stab4_overridden
    message = check_dilution(times.reconstituted_at, times.diluted_at)
    if message is not None:
        out.problems.append(("STAB-1", message))
    if not free:
        out.unverified.append("STAB-4")
    rt_limit, fridge_limit, t, rt_used = _walk_refrigerator(times, now_utc, out)
    if rt_limit is None and fridge_limit is None and not free:
        rt_limit = t + (_RT_BUDGET - rt_used)
    if rt_limit is not None:
        out.limits.append(
            Limit(
                "STAB-4",
                "4 h at room temperature after dilution, to the end of the infusion (CONV-STAB-1/2)",
                rt_limit,
                unverified=True,
            )
        )
    if fridge_limit is not None:
        out.limits.append(Limit("STAB-4", "3 h refrigerated after dilution (CONV-STAB-2)", fridge_limit, unverified=True))


def _walk_refrigerator(
    times: PrepTimes, now_utc: datetime | None, out: _Exposure
) -> tuple[datetime | None, datetime | None, datetime, timedelta]:
    """Room temperature and refrigerator time, interval by interval (CONV-STAB-2): the limit
    reached first, if one is, the end of the last interval and the room-temperature time used."""
    free = times.stab4_overridden
    assert times.diluted_at is not None
    t = times.diluted_at
    rt_used = timedelta(0)
    for start, end in times.refrigerated:
        gap = start - t  # room temperature before this refrigeration
        if rt_used + gap >= _RT_BUDGET and not free:
            return t + (_RT_BUDGET - rt_used), None, t, _RT_BUDGET
        rt_used += gap
        if end is None:
            if now_utc is None:
                raise ValueError("the diluted solution is still in the refrigerator: pass now= to compute deadlines")
            if now_utc < start:
                raise ValueError("now is before the start of the open refrigerated interval")
            out.remove_by = None if free else start + (_FRIDGE_BUDGET - out.fridge_used)
            end = now_utc
        stay = end - start
        if out.fridge_used + stay > _FRIDGE_BUDGET and not free:
            fridge_limit = start + (_FRIDGE_BUDGET - out.fridge_used)
            out.fridge_used = _FRIDGE_BUDGET
            out.problems.append(
                (
                    "STAB-4",
                    f"diluted solution refrigerated over {_hm(_FRIDGE_BUDGET)} in total "
                    f"(limit reached {_t(fridge_limit)}; UNVERIFIED, Table 6): discard and "
                    "prepare again (CONV-STAB-3) unless a pharmacist overrides with a reason (Preparation, O)",
                )
            )
            return None, fridge_limit, t, rt_used
        out.fridge_used += stay
        t = end
        out.earliest_start = end + timedelta(minutes=rules.EQUILIBRATE_MIN)  # STAB-5
    return None, None, t, rt_used


def cannot_give(
    dl: Deadlines, now: datetime, *, in_refrigerator: bool = False, early_start_confirmed: bool = False
) -> tuple[tuple[str, str], ...]:
    """Why this bag cannot be given as planned, as soon as that can be known: ``(rule IDs, text)``
    pairs, each ending with what to do (CONV-STAB-1, CONV-STAB-3, STAB-5). Empty: it still can.

    The plan is: take the bag out now if it is in the refrigerator, let it equilibrate for about
    1 hour (STAB-5; a pharmacist's recorded early start removes the wait, never a deadline), then
    infuse for 60 min (+ planned pauses and flush) ending by the binding deadline. So the bag
    cannot be given when the latest start has passed, or is earlier than the end of equilibration.
    A start exactly at the latest start ends exactly at the deadline, which is allowed
    (:meth:`Deadlines.allows_end`).
    """
    now = _utc("now", now)
    out: list[tuple[str, str]] = []
    binding = dl.binding
    deadline = f"the infusion must end by {_t(dl.end_deadline)} ({binding.rule_id}: {binding.name}"
    deadline += ", UNVERIFIED)" if binding.unverified else ")"
    if in_refrigerator:
        ready: datetime | None = now + timedelta(minutes=rules.EQUILIBRATE_MIN)
    elif early_start_confirmed:
        ready = now
    else:
        ready = dl.earliest_start
    discard = _what_to_do(dl, now, ready)
    if now > dl.latest_start:
        late = now - dl.latest_start
        out.append(
            (
                f"CONV-STAB-1, CONV-STAB-3, {binding.rule_id}",
                f"Cannot be given as planned: the latest start was {_t(dl.latest_start)} ({_hm(late)} ago); "
                f"{deadline}, after a {dl.planned_min}-min infusion. {discard}",
            )
        )
    elif ready is not None and ready > dl.latest_start:
        short = ready - dl.latest_start
        where = "if taken out of the refrigerator now, " if in_refrigerator else ""
        out.append(
            (
                f"CONV-STAB-1, STAB-5, CONV-STAB-3, {binding.rule_id}",
                f"Cannot be given as planned: the latest start {_t(dl.latest_start)} is {_hm(short)} before the end of "
                f"equilibration ({where}{_t(ready)}, STAB-5); {deadline}, after a {dl.planned_min}-min infusion. {discard}",
            )
        )
    return tuple(out)


def _what_to_do(dl: Deadlines, now: datetime, ready: datetime | None) -> str:
    """Discard (CONV-STAB-3); when the binding limit is UNVERIFIED and the label limit still allows
    a start, say that a pharmacist may override it (STAB-4) and by when the label requires the start."""
    discard = "Discard the bag and prepare again (CONV-STAB-3)."
    if dl.binding.unverified and dl.label_latest_start >= max(now, ready or now):
        discard += (
            f" The binding limit is UNVERIFIED (STAB-4): only a pharmacist may override it, with a reason "
            f"(Preparation, O); the label limit {dl.label_limit.rule_id} still requires a start by "
            f"{_t(dl.label_latest_start)}."
        )
    return discard

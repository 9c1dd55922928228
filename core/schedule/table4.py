"""Table 4 (UNVERIFIED, CONV-MOD-4): proposals from each toxicity interruption, counted by
CONV-SCHED-5 (rows accumulate, §6.3), and the doses whose window opened inside another dose's hold.

Nothing here is applied until a prescriber confirms it (§16): a confirmed MOD-INT-2 omits the
dose, a confirmed MOD-INT-3 / MOD-INT-4 reduces the target cycle onward."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from attrs import define, field, frozen

from .. import rules
from .doses import Slot, sched7_overdue
from .model import Dose, Facts, Interruption, Proposal, Window
from .parse import confirmed
from .vocab import BLOCKED, DELAYED, IN_WINDOW, OVERDUE, SCOPE_ALL, SCOPE_CYCLE, SCOPE_DOSE


@frozen
class Table4:
    proposals: tuple[Proposal, ...]
    reduce_from: int | None
    two_from: int | None
    omitted: Mapping[tuple[int, int], str]


@define
class _Rows:
    """What the interruptions read so far have proposed or (once confirmed) decided."""

    props: list[Proposal]
    reduce_from: int | None = None
    two_from: int | None = None
    omitted: dict[tuple[int, int], str] = field(factory=dict)


@frozen
class _Held:
    """One interruption as Table 4 reads it."""

    c: int
    d: int
    it: Interruption
    n: int  # its length in days (CONV-SCHED-5)
    resolved: bool  # the held dose was given or omitted since

    @property
    def tag(self) -> str:
        return f"c{self.c}d{self.d}"

    @property
    def target(self) -> int:
        return self.c if self.d == 1 else self.c + 1  # CONV-MOD-4: the cycle a held Day 1 starts, else the next

    @property
    def counted(self) -> str:
        it = self.it
        return f"interruption of C{self.c} D{self.d}: {self.n} days from {it.start.isoformat()}" + (
            f" to recovery {it.recovered.isoformat()}" if it.recovered else " so far (not recovered)"
        )


def table4(facts: Facts, today: date) -> Table4:
    """Proposals from each interruption, counted by CONV-SCHED-5; rows accumulate (§6.3)."""
    rows = _Rows([])
    for (c, d), it in sorted(facts.interruptions.items(), key=lambda kv: kv[1].first_version):
        h = _Held(c, d, it, it.days(today), (c, d) in facts.given or (c, d) in facts.omitted)
        if it.recovered is not None:
            _dose_row(facts, h, rows)
            if h.n >= rules.INTERRUPT_REDUCE_DAYS:
                _reduce_row(facts, h, rows)
        if h.n > rules.INTERRUPT_DISCONTINUE_AFTER_DAYS:
            _discontinue_rows(facts, h, rows)
    return Table4(tuple(rows.props), rows.reduce_from, rows.two_from, rows.omitted)


def _dose_row(facts: Facts, h: _Held, rows: _Rows) -> None:
    """MOD-INT-1 (< 7 days: delay) or MOD-INT-2 (≥ 7 days: omit a Day 8/15) for the held dose."""
    c, d = h.c, h.d
    if h.n < rules.INTERRUPT_OMIT_DAYS and not h.resolved:
        rows.props.append(
            Proposal(
                f"MOD-INT-1:{h.tag}",
                "MOD-INT-1",
                f"Table 4 (UNVERIFIED): {h.counted} (< {rules.INTERRUPT_OMIT_DAYS}) → delay C{c} D{d} to "
                f"{h.it.recovered.isoformat()} or later, keeping ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days between doses "  # type: ignore[union-attr]
                "(MOD-INT-1, CONV-SCHED-6).",
                True,
                "prescriber",
                c,
                d,
                None,
                SCOPE_DOSE,
            )
        )
    elif h.n >= rules.INTERRUPT_OMIT_DAYS and d in rules.OMITTABLE_DAYS:
        pid = f"MOD-INT-2:{h.tag}"
        if confirmed(facts, pid):
            rows.omitted[(c, d)] = "MOD-INT-2 (UNVERIFIED) omission confirmed by a prescriber"
        elif not h.resolved:
            rows.props.append(
                Proposal(
                    pid,
                    "MOD-INT-2",
                    f"Table 4 (UNVERIFIED): {h.counted} (≥ {rules.INTERRUPT_OMIT_DAYS}) → omit C{c} D{d} "
                    "(MOD-INT-2; a Day 1 is delayed, never omitted, SCHED-6).",
                    True,
                    "prescriber",
                    c,
                    d,
                    None,
                    SCOPE_DOSE,
                )
            )


def _reduce_step(rows: _Rows, target: int) -> tuple[str, str, str]:
    """The next row of the ≥ 14-day ladder: the 25% cut, then 2 doses per cycle, then stop."""
    if rows.reduce_from is None:
        return "MOD-INT-3", (f"cut each dose by 25% from cycle {target} (CONV-MOD-1: 0.8 → 0.6, 0.5 → 0.375 mg/m²)"), SCOPE_CYCLE
    if rows.two_from is None:
        return (
            "MOD-INT-4",
            (f"after the 25% cut, 2 doses per cycle from cycle {target} (CONV-MOD-2: Day {rules.TWO_DOSES_DROPPED_DAY} dropped)"),
            SCOPE_CYCLE,
        )
    return (
        "MOD-INT-5",
        ("the 25% cut and 2 doses per cycle were not tolerated → permanently discontinue (once confirmed, no override)"),
        SCOPE_ALL,
    )


def _reduce_row(facts: Facts, h: _Held, rows: _Rows) -> None:
    """≥ 14 days: MOD-INT-3, then MOD-INT-4, then MOD-INT-5 (each proposed until decided)."""
    rule, what, scope = _reduce_step(rows, h.target)
    pid = f"{rule}:{h.tag}"
    dec = facts.decisions.get(pid)
    if dec is None:
        rows.props.append(
            Proposal(
                pid,
                rule,
                f"Table 4 (UNVERIFIED): {h.counted} (≥ {rules.INTERRUPT_REDUCE_DAYS}) → {what} ({rule}).",
                True,
                "prescriber",
                h.target if scope == SCOPE_CYCLE else h.c,
                None if scope == SCOPE_CYCLE else h.d,
                None,
                scope,
            )
        )
    elif dec.decision == "confirmed":
        if rule == "MOD-INT-3":
            rows.reduce_from = h.target
        elif rule == "MOD-INT-4":
            rows.two_from = h.target


def _discontinue_rows(facts: Facts, h: _Held, rows: _Rows) -> None:
    """> 28 days: consider permanent discontinuation (MOD-INT-6; MOD-HEM-4 for a hematologic Day 1)."""
    found = [("MOD-INT-6", "Table 4 (UNVERIFIED, MOD-INT-6)")]
    if h.it.toxicity == "hematologic" and h.d in rules.HEMATOLOGIC_HOLD_DAYS:
        found.append(("MOD-HEM-4", "Table 2 (UNVERIFIED, MOD-HEM-4, CONV-HEM-4): if suspected BESPONSA-related,"))
    for rule, source in found:
        pid = f"{rule}:{h.tag}"
        if facts.decisions.get(pid) is None:
            rows.props.append(
                Proposal(
                    pid,
                    rule,
                    f"{source} {h.counted} (> {rules.INTERRUPT_DISCONTINUE_AFTER_DAYS}) → consider permanent "
                    "discontinuation (prescriber decides; recorded).",
                    True,
                    "prescriber",
                    h.c,
                    h.d,
                    None,
                    SCOPE_ALL,
                )
            )


# --- Doses inside another dose's hold (MOD-INT, CONV-MOD-4) -----------------------------------------


def covering_hold(
    facts: Facts, n: int, d: int, nominal: date, window: Window, today: date
) -> tuple[tuple[int, int], Interruption] | None:
    """The toxicity hold of an earlier dose inside which this dose's window opened or passed (its
    planned date, for a Day 1, which has no window): (that dose, its interruption), or None.

    MOD-INT / CONV-MOD-4: Table 4 decides every such dose; none is ever silently due."""
    opens = nominal if d == 1 else window.start
    found = None
    for key, it in facts.interruptions.items():
        # The recovery date itself is after the hold: a dose may be given on it (CONV-SCHED-6).
        inside = opens < it.recovered if it.recovered is not None else opens <= today
        if key < (n, d) and it.start <= opens and inside and (found is None or it.start < found[1].start):
            found = (key, it)
    return found


def _inside_row(n: int, d: int, count: int, counted: str, recovered: date) -> tuple[str, str]:
    """The Table 4 row for a dose inside a hold: ≥ 7 days omits a Day 8/15, else delay."""
    if d in rules.OMITTABLE_DAYS and count >= rules.INTERRUPT_OMIT_DAYS:
        return "MOD-INT-2", (
            f"Table 4 (UNVERIFIED): {counted} (≥ {rules.INTERRUPT_OMIT_DAYS}) → omit C{n} D{d} "
            "(MOD-INT-2, CONV-MOD-4); a prescriber confirms or declines."
        )
    limit = "" if d == 1 else f" (< {rules.INTERRUPT_OMIT_DAYS})"
    return "MOD-INT-1", (
        f"Table 4 (UNVERIFIED): {counted}{limit} → delay C{n} D{d} to {recovered.isoformat()} or later, "
        f"keeping ≥ {rules.MIN_DAYS_BETWEEN_DOSES} days between doses (MOD-INT-1, CONV-SCHED-6"
        + ("; a Day 1 is delayed, never omitted, SCHED-6" if d == 1 else "")
        + "); a prescriber confirms or declines."
    )


def inside_hold(s: Slot, cover: tuple[tuple[int, int], Interruption]) -> tuple[Dose, list[Proposal]]:
    """A dose whose window opened or passed during another dose's toxicity hold (MOD-INT, CONV-MOD-4).

    While the hold is open it is BLOCKED (never due). After recovery its own interruption is counted
    from its planned date to the recovery date (CONV-SCHED-5) and Table 4 (UNVERIFIED) proposes, for a
    prescriber to confirm or decline: < 7 days, delay it to the recovery date or later, spacing kept
    (MOD-INT-1, CONV-SCHED-6); ≥ 7 days, omit it (MOD-INT-2; a Day 1 is delayed, never omitted:
    SCHED-6). Until decided the proposal blocks it; a declined omission lets it be given from the
    recovery date (CONV-SCHED-6), spacing kept."""
    (hc, hd), it = cover
    held = f"C{hc} D{hd}"
    n, d, nominal, earliest, today = s.n, s.d, s.nominal, s.earliest, s.today
    if it.recovered is None:
        return s.dose(
            nominal,
            None,
            BLOCKED,
            f"its window opened during the toxicity hold of {held} (from {it.start.isoformat()}: "
            f"{it.reason}); Table 4 decides it when the hold ends (MOD-INT, UNVERIFIED, CONV-MOD-4): "
            "record the recovery of " + held,
        ), []
    count = max(0, (it.recovered - nominal).days)  # CONV-SCHED-5: from this dose's planned date
    counted = (
        f"C{n} D{d} planned {nominal.isoformat()} fell inside the hold of {held} "
        f"({it.start.isoformat()} to recovery {it.recovered.isoformat()}): {count} days"
    )
    rule, text = _inside_row(n, d, count, counted, it.recovered)
    pid = f"{rule}:c{n}d{d}"
    # A Day 1 delayed ≥ 7 days is delayed, as a held Day 1 itself is (SCHED-6, CONV-MOD-4): no dose
    # row applies; the hold's own ≥ 14 / > 28-day rows (MOD-INT-3 to 6) come from the held dose.
    decided = pid in s.facts.decisions or (d == 1 and count >= rules.INTERRUPT_OMIT_DAYS)
    # A Day 8/15's row is known at recovery, whatever is still open before it (decided together); a
    # Day 1's waits for the cycle before it to be resolved (its date may move by SCHED-4 first, M3).
    props = (
        [Proposal(pid, rule, text, True, "prescriber", n, d, None, SCOPE_DOSE)]
        if not decided and (d != 1 or not s.projected)
        else []
    )
    start = max(x for x in (it.recovered, earliest, s.window.start if d != 1 else nominal) if x is not None)
    end = None if d == 1 else max(start, s.window.end)  # type: ignore[type-var]
    eff = Window(start, end)
    if not decided:
        return s.dose(
            start, eff, DELAYED, f"{counted}: waiting for the prescriber's decision on {pid} (UNVERIFIED, d decides)"
        ), props
    state = DELAYED if today < start else (OVERDUE if end is not None and today > end else IN_WINDOW)
    if state == OVERDUE and not s.projected:
        props.append(sched7_overdue(n, d, end, earliest, today))  # type: ignore[arg-type]
    return s.dose(start, eff, state, f"{counted}; {pid} decided by a prescriber: may be given {eff.text} (CONV-SCHED-6)"), props

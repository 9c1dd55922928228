"""The prescriber's (and pharmacist's) checks: confirming a cycle's levels (CONV-RESP-4,
CONV-MOD-1/2/3/5) and deciding a proposal (§16, CONV-OVR-1). Each returns the ``data`` of the
event to record, or raises ValueError naming the rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import rules
from .checks import _need_active, _need_started, _text
from .levels import compute_levels, with_row
from .model import Levels, Proposal, Timeline
from .parse import _dec, _fmt
from .vocab import DATE_RULES, DECISIONS, DISCONTINUE_RULES, LEVEL_RULES, ROWS


def check_levels(
    tl: Timeline, cycle: int, levels: Mapping[int, Decimal | str | None], basis: str, row: str | None = None
) -> dict[str, Any]:
    """``levels.confirmed``: a prescriber's levels for a cycle. Non-reduced cycles are Table 1 as it
    stands (a row chosen only when the response is not assessed, CONV-RESP-4); reduced cycles may be
    lower, never higher (CONV-MOD-1/2/3/5); a custom split is verified by a pharmacist."""
    _need_active(tl)
    why = _text(basis, "A basis (reason)")
    cy = tl.cycle(cycle) if isinstance(cycle, int) else None
    if cy is None:
        raise ValueError(f"Cycle {cycle} is not scheduled.")
    if all(x.resolved for x in cy.doses):
        raise ValueError(f"Cycle {cycle} has no dose left to give.")
    if row is not None and row not in ROWS:
        raise ValueError(f"row must be one of {', '.join(ROWS)} (DOSE-1).")
    base = _base_levels(tl, cycle, row)
    wanted = _wanted(levels)
    custom = _reduced_custom(cycle, wanted, base) if base.reduced else _as_table1(cycle, wanted, base)
    data: dict[str, Any] = {
        "cycle": cycle,
        "levels": {str(d): (None if wanted[d] is None else _fmt(wanted[d])) for d in rules.DAYS},
        "basis": why,
        "row": base.row if base.row in ROWS else None,
        "custom": custom,
    }
    if base.unverified_rule:
        data["unverified_rule"] = base.unverified_rule
    return data


def _base_levels(tl: Timeline, cycle: int, row: str | None) -> Levels:
    """The levels allowed for ``cycle`` before any record, with the row chosen (CONV-RESP-4, DOSE-4)."""
    base = compute_levels(tl.facts, cycle, tl.reduced_from_cycle, tl.two_doses_from_cycle, use_record=False)
    if base.row is None:
        if row is None:
            raise ValueError(f"Cycle {cycle}: response not assessed: choose the Table 1 row (CONV-RESP-4).")
        return compute_levels(with_row(tl.facts, cycle, row), cycle, tl.reduced_from_cycle, tl.two_doses_from_cycle)
    if row is not None and row != base.row and cycle > 1:
        raise ValueError(f"Cycle {cycle}: the row follows the latest response ({base.row}) (DOSE-4).")
    return base


def _wanted(levels: Mapping[int, Decimal | str | None]) -> dict[int, Decimal | None]:
    wanted: dict[int, Decimal | None] = {}
    for d in rules.DAYS:
        raw = levels.get(d, levels.get(str(d)))  # type: ignore[call-overload]
        try:
            wanted[d] = None if raw in (None, "") else _dec(raw)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"Day {d}: level must be a decimal number.") from exc
    return wanted


def _as_table1(cycle: int, wanted: dict[int, Decimal | None], base: Levels) -> bool:
    """A cycle not reduced: exactly Table 1 (DOSE-6); never custom."""
    for d in rules.DAYS:
        if wanted[d] != base.maximum[d]:
            raise ValueError(
                f"Cycle {cycle} Day {d}: {_fmt(wanted[d])} ≠ Table 1 {_fmt(base.maximum[d])} mg/m²; "
                "a lower level needs a toxicity reduction (MOD-INT-3, CONV-MOD-1; DOSE-6)."
            )
    return False


def _reduced_custom(cycle: int, wanted: dict[int, Decimal | None], base: Levels) -> bool:
    """A reduced cycle: each day at most its allowed level, the total at most the reduced total, at
    most 2 doses after MOD-INT-4 (CONV-MOD-5); True when the split is not the default levels."""
    if wanted[1] is None:
        raise ValueError(f"Cycle {cycle}: a Day 1 is never omitted (SCHED-6).")
    custom = False
    for d in rules.DAYS:
        w, top = wanted[d], base.maximum[d]
        if w is None:
            continue
        if top is None:
            raise ValueError(f"Cycle {cycle} Day {d}: dropped by 2 doses per cycle (MOD-INT-4, CONV-MOD-2).")
        if not w.is_finite() or w <= 0:
            raise ValueError(f"Cycle {cycle} Day {d}: level must be positive.")
        if w > top:
            raise ValueError(
                f"Cycle {cycle} Day {d}: {_fmt(w)} mg/m² is above the allowed {_fmt(top)} mg/m² "
                "(CONV-MOD-1, CONV-MOD-3, MOD-GEN-3)."
            )
        custom = custom or w not in rules.ALLOWED_LEVELS
    count = sum(1 for w in wanted.values() if w is not None)
    if base.two_doses and count > rules.TWO_DOSES_MAX_DOSES:
        raise ValueError(f"Cycle {cycle}: at most {rules.TWO_DOSES_MAX_DOSES} doses per cycle (MOD-INT-4, CONV-MOD-5).")
    total = sum((w for w in wanted.values() if w is not None), Decimal(0))
    top_total = sum((t for t in base.maximum.values() if t is not None), Decimal(0))
    if total > top_total:
        raise ValueError(
            f"Cycle {cycle}: total {_fmt(total)} mg/m² is above the reduced total {_fmt(top_total)} mg/m² (CONV-MOD-5)."
        )
    return custom


def check_decide(
    tl: Timeline, proposal_id: str, decision: str, reason: str, role: str, on_date: date | None = None
) -> dict[str, Any]:
    """``proposal.decided``: the named role confirms or declines an open proposal, with a reason."""
    _need_started(tl)
    p = tl.proposal(proposal_id)
    if p is None:
        raise ValueError(f"No open proposal {proposal_id!r}.")
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}.")
    if role != p.needs_role:
        raise ValueError(f"{p.id} needs a {p.needs_role} (CONV-OVR-1, §16.1); a {role} cannot decide it.")
    why = _text(reason, "A reason for the decision")
    _decidable(p)
    data: dict[str, Any] = {"proposal_id": p.id, "rule": p.rule, "decision": decision, "reason": why, "role": role}
    if p.unverified:
        data["unverified_rule"] = p.rule
    on = _decision_date(tl, p, decision, on_date)
    if on is not None:
        data["date"] = on.isoformat()
    return data


def _decidable(p: Proposal) -> None:
    """Proposals answered by another record, not by a decision."""
    if p.rule in LEVEL_RULES:
        raise ValueError(f"{p.id}: confirm the levels themselves (levels.confirmed, check_levels) or record the response.")
    if p.rule == "CONV-CYC-1":
        raise ValueError(f"{p.id}: record the HSCT decision (intake HSCT plan) instead (CONV-CYC-1).")
    if p.rule == "CONV-IRR-1":
        raise ValueError(
            f"{p.id}: a severe infusion reaction is not a proposal to decline: a prescriber records the "
            "permanent discontinuation (D), or corrects the grade on the monitor with a reason (MOD-NH-3, CONV-IRR-1)."
        )


def _decision_date(tl: Timeline, p: Proposal, decision: str, on_date: date | None) -> date | None:
    """The chosen date of a confirmed date proposal (never before the proposed one, SCHED-3), or the
    discontinuation date of a confirmed stop; a date with anything else is refused."""
    if p.rule in DATE_RULES and decision == "confirmed":
        chosen = on_date or p.date
        assert p.date is not None and chosen is not None
        if chosen < p.date:
            raise ValueError(
                f"{p.id}: {chosen} is before the earliest compliant date {p.date} (SCHED-3); nearest allowed date {p.date}."
            )
        if p.rule == "CONV-SCHED-3" and p.cycle == rules.EXTENDABLE_CYCLE + 1:
            c1 = tl.cycle(rules.EXTENDABLE_CYCLE)
            assert c1 is not None
            length = (chosen - c1.day1).days
            if length <= rules.CYCLE1_MAX_DAYS:
                raise ValueError(
                    f"{p.id}: C2 D1 on {chosen} makes cycle 1 {length} days: record the extension with "
                    f"its reason instead (SCHED-4, check_extend length {length})."
                )
        return chosen
    if p.rule in DISCONTINUE_RULES and decision == "confirmed":
        return on_date or tl.today
    if on_date is not None:
        raise ValueError(f"{p.id}: a date only goes with a date proposal or a discontinuation.")
    return None


def proposed_levels(tl: Timeline, cycle: int, row: str) -> dict[int, Decimal | None]:
    """The levels core proposes for ``cycle`` with the Table 1 ``row`` chosen (CONV-RESP-4): the
    row's levels, reduced where a confirmed reduction applies (CONV-MOD-1/2/3)."""
    if not isinstance(cycle, int) or tl.cycle(cycle) is None:
        raise ValueError(f"Cycle {cycle} is not scheduled.")
    if row not in ROWS:
        raise ValueError(f"row must be one of {', '.join(ROWS)} (DOSE-1).")
    return dict(_base_levels(tl, cycle, row).levels)

"""Levels (DOSE-1, DOSE-4, CONV-MOD-1/2/3/5, CONV-RESP-4): Table 1 for the cycle's response, or the
reduced ones after a confirmed toxicity reduction; never raised after a reduction (MOD-GEN-3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING

from attrs import evolve

from .. import rules
from .model import Facts, Levels, LevelsRecord, Proposal
from .parse import _fmt, _levels_text, confirmed, latest_response
from .vocab import IN_CR_CRI, ROWS, SCOPE_CYCLE

if TYPE_CHECKING:
    from .model import Timeline


def table_row(facts: Facts, n: int, chosen_row: str | None) -> tuple[str | None, Mapping[int, Decimal] | None, str]:
    if n == 1:
        return "cycle1", rules.LEVELS_CYCLE1, "DOSE-1: cycle 1"
    resp = latest_response(facts, before_cycle=n)
    if resp is not None and resp.response in IN_CR_CRI:
        return (
            "cr_cri",
            rules.LEVELS_CR_CRI,
            (
                f"DOSE-1/DOSE-4: cycle {n}, in {resp.response.upper()} (response of cycle {resp.cycle}, "
                f"{resp.assessed_on.isoformat()})"
            ),
        )
    if resp is not None and resp.response == "neither":
        return (
            "no_cr_cri",
            rules.LEVELS_NO_CR,
            (f"DOSE-1/DOSE-4: cycle {n}, not in CR/CRi (response of cycle {resp.cycle}, {resp.assessed_on.isoformat()})"),
        )
    if chosen_row in ROWS:
        table = rules.LEVELS_CR_CRI if chosen_row == "cr_cri" else rules.LEVELS_NO_CR
        return chosen_row, table, f"DOSE-1, CONV-RESP-4: response not assessed; prescriber chose the {chosen_row} row"
    return (
        None,
        None,
        (
            f"CONV-RESP-4: cycle {n} response not assessed; no level until a response is recorded or a "
            "prescriber picks the Table 1 row"
        ),
    )


def row_level(row: str | None, day: int) -> Decimal:
    table = {"cycle1": rules.LEVELS_CYCLE1, "cr_cri": rules.LEVELS_CR_CRI, "no_cr_cri": rules.LEVELS_NO_CR}.get(row or "")
    return table[day] if table else max(rules.ALLOWED_LEVELS)


def _reduced_maximum(
    facts: Facts, n: int, table: Mapping[int, Decimal], reduce_from: int, basis: str
) -> tuple[dict[int, Decimal | None], str]:
    """MOD-INT-3 confirmed: each dose × 0.75 (CONV-MOD-1), and no day above the level last given on
    that day since the reduction (CONV-MOD-3)."""
    maximum: dict[int, Decimal | None] = {d: rules.REDUCED_LEVEL[table[d]] for d in rules.DAYS}
    basis += "; MOD-INT-3 (UNVERIFIED) 25% cut confirmed: each dose × 0.75 (CONV-MOD-1)"
    capped = []
    for d in rules.DAYS:  # CONV-MOD-3: no day above the level last given on that day
        last = [g for (c, day), g in facts.given.items() if day == d and reduce_from <= c < n]
        if last:
            top = max(last, key=lambda g: g.version).level
            if maximum[d] is not None and top < maximum[d]:  # type: ignore[operator]
                maximum[d] = top
                capped.append(f"D{d} ≤ {_fmt(top)}")
    if capped:
        basis += f"; never raised after a reduction (MOD-GEN-3, CONV-MOD-3): {', '.join(capped)}"
    return maximum, basis


def _with_record(
    n: int,
    rec: LevelsRecord,
    maximum: dict[int, Decimal | None],
    row: str | None,
    basis: str,
    two: bool,
    dropped: set[int],
    unverified: str | None,
) -> Levels:
    """A reduced cycle's levels as a prescriber confirmed them, capped by what is allowed now."""
    levels: dict[int, Decimal | None] = {}
    stale = False
    for d in rules.DAYS:
        mine, top = rec.levels[d], maximum[d]
        if mine is None or top is None:
            levels[d] = None
            if mine is None:
                dropped.add(d)
        else:
            levels[d] = min(mine, top)
            stale = stale or mine > top
    basis += f"; confirmed by a prescriber: {_levels_text(rec.levels)} ({rec.basis})"
    if stale:
        basis += "; capped since: confirm again"
    return Levels(
        n,
        MappingProxyType(levels),
        MappingProxyType(dict(maximum)),
        row,
        basis,
        True,
        two,
        frozenset(dropped),
        stale,
        not stale,
        rec.custom,
        unverified,
    )


def compute_levels(facts: Facts, n: int, reduce_from: int | None, two_from: int | None, *, use_record: bool = True) -> Levels:
    rec = facts.levels.get(n) if use_record else None
    row, table, basis = table_row(facts, n, rec.row if rec else None)
    none = MappingProxyType({d: None for d in rules.DAYS})
    if table is None:
        return Levels(n, none, none, None, basis, needs_confirmation=True)
    maximum: dict[int, Decimal | None] = dict(table)
    reduced = reduce_from is not None and n >= reduce_from
    two = two_from is not None and n >= two_from
    unverified: str | None = None
    if reduced:
        unverified = "MOD-INT-3"
        maximum, basis = _reduced_maximum(facts, n, table, reduce_from, basis)  # type: ignore[arg-type]
    dropped: set[int] = set()
    if two:
        unverified = "MOD-INT-4"
        maximum[rules.TWO_DOSES_DROPPED_DAY] = None
        dropped.add(rules.TWO_DOSES_DROPPED_DAY)
        basis += f"; MOD-INT-4 (UNVERIFIED) 2 doses per cycle: Day {rules.TWO_DOSES_DROPPED_DAY} dropped (CONV-MOD-2)"
    if not reduced:
        # Non-reduced cycles use Table 1 as it stands; a record only chooses the row (CONV-RESP-4).
        return Levels(
            n,
            MappingProxyType(dict(maximum)),
            MappingProxyType(dict(maximum)),
            row,
            basis,
            confirmed=rec is not None,
            unverified_rule=None,
        )
    if rec is None:
        return Levels(
            n,
            MappingProxyType(dict(maximum)),
            MappingProxyType(dict(maximum)),
            row,
            basis + "; a prescriber confirms this cycle's levels (CONV-MOD-3)",
            True,
            two,
            frozenset(dropped),
            True,
            False,
            False,
            unverified,
        )
    return _with_record(n, rec, maximum, row, basis, two, dropped, unverified)


def levels_for(tl: Timeline, cycle: int) -> Levels:
    """The levels of ``cycle``: Table 1 for its response, or the reduced ones (CONV-MOD-1/2/3).

    Never above Table 1 for the cycle and response (DOSE-1, DOSE-4), never raised after a
    reduction (MOD-GEN-3, CONV-MOD-3); levels are None where they cannot be computed (CONV-RESP-4).
    """
    if isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < 1:
        raise ValueError(f"cycle must be an integer ≥ 1, got {cycle!r}")
    return compute_levels(tl.facts, cycle, tl.reduced_from_cycle, tl.two_doses_from_cycle)


def with_row(facts: Facts, cycle: int, row: str) -> Facts:
    """The facts as if a prescriber had chosen ``row`` for ``cycle`` (CONV-RESP-4; for check_levels)."""
    levels = dict(facts.levels)
    levels[cycle] = LevelsRecord(cycle, MappingProxyType({d: None for d in rules.DAYS}), "", row, False, -1)
    return evolve(facts, levels=levels)


def level_proposals(facts: Facts, lv: Levels, n: int, reduce_from: int | None) -> list[Proposal]:
    out: list[Proposal] = []
    if lv.needs_confirmation:
        if lv.row is None:
            rule, text, unverified = (
                "CONV-RESP-4",
                (
                    f"Cycle {n}: response not assessed. Record the response, or choose the Table 1 row explicitly "
                    f"(CR/CRi {_levels_text(rules.LEVELS_CR_CRI)}, not CR/CRi {_levels_text(rules.LEVELS_NO_CR)} mg/m²)."
                ),
                False,
            )
        else:
            rule = "CONV-MOD-2" if lv.two_doses else ("CONV-MOD-1" if n == reduce_from else "CONV-MOD-3")
            text = (
                f"Cycle {n} levels after the toxicity reduction: proposed {_levels_text(lv.maximum)} mg/m² "
                f"({lv.basis}). A prescriber confirms them, or enters another split (CONV-MOD-5)."
            )
            unverified = True
        out.append(Proposal(f"{rule}:c{n}", rule, text, unverified, "prescriber", n, None, None, SCOPE_CYCLE))
    rec = facts.levels.get(n)
    if rec is not None and rec.custom and lv.reduced:
        pid = f"CONV-MOD-5:c{n}:v{rec.version}"
        if not confirmed(facts, pid):
            out.append(
                Proposal(
                    pid,
                    "CONV-MOD-5",
                    f"Cycle {n}: custom reduced split {_levels_text(rec.levels)} mg/m² ({rec.basis}): "
                    "a pharmacist verifies it (CONV-MOD-5).",
                    False,
                    "pharmacist",
                    n,
                    None,
                    None,
                    SCOPE_CYCLE,
                )
            )
    return out

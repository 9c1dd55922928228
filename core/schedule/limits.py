"""Cycle limits (CYC-1 to CYC-4, CONV-RESP-3, CONV-CYC-1): how many cycles are allowed and why,
the cycle-level proposals, and the timeline's status line."""

from __future__ import annotations

from .. import rules
from .model import Cycle, CycleLimit, Dose, Facts, Proposal
from .parse import confirmed, latest_response
from .vocab import IN_CR_CRI, SCOPE_NONE


def third_cycle(facts: Facts) -> tuple[bool, str]:
    """CYC-1 / CONV-RESP-3: may a 3rd cycle be considered on the HSCT path?"""
    r = latest_response(facts, cycle=rules.HSCT_CYCLES)
    if r is None or r.response == "not_assessed":
        return False, f"record the response after cycle {rules.HSCT_CYCLES} first"
    if r.response not in IN_CR_CRI:
        return True, f"not in CR/CRi after cycle {rules.HSCT_CYCLES}"
    if r.mrd == "positive":
        return True, f"in {r.response.upper()} but MRD-positive after cycle {rules.HSCT_CYCLES}"
    if r.mrd == "unknown":
        return True, (
            f"in {r.response.upper()} with MRD unknown after cycle {rules.HSCT_CYCLES}: record MRD first; a "
            "prescriber may proceed with a reason"
        )
    return False, f"in MRD-negative {r.response.upper()} after cycle {rules.HSCT_CYCLES}: no 3rd cycle"


def cycle_limits(facts: Facts) -> tuple[CycleLimit, ...]:
    out: list[CycleLimit] = []
    plan = facts.hsct_plan
    if plan == "planned":
        may, why = third_cycle(facts)
        if may and confirmed(facts, f"CYC-1:c{rules.HSCT_MAX_CYCLES_WITH_THIRD}"):
            out.append(
                CycleLimit(
                    "CYC-1",
                    rules.HSCT_MAX_CYCLES_WITH_THIRD,
                    f"HSCT planned: a 3rd cycle confirmed ({why}; CONV-RESP-3); no 4th cycle",
                )
            )
        else:
            extra = "; a 3rd may be considered (prescriber, CONV-RESP-3)" if may else f" ({why})"
            out.append(CycleLimit("CYC-1", rules.HSCT_CYCLES, f"HSCT planned: {rules.HSCT_CYCLES} cycles{extra}"))
    else:
        out.append(
            CycleLimit("CYC-2", rules.NON_HSCT_MAX_CYCLES, f"not going to HSCT: at most {rules.NON_HSCT_MAX_CYCLES} cycles")
        )
        if plan != "not_planned":
            out.append(
                CycleLimit(
                    "CONV-CYC-1",
                    rules.HSCT_DECISION_AFTER_CYCLES,
                    f"HSCT plan undecided: record the decision before cycle {rules.HSCT_DECISION_AFTER_CYCLES + 1}",
                )
            )
    if not any(r.response in IN_CR_CRI and r.cycle <= rules.NO_RESPONSE_STOP_CYCLES for r in facts.responses):
        out.append(
            CycleLimit(
                "CYC-3",
                rules.NO_RESPONSE_STOP_CYCLES,
                f"no CR/CRi recorded: discontinue if none within {rules.NO_RESPONSE_STOP_CYCLES} cycles",
            )
        )
    return tuple(out)


def cycle_proposals(facts: Facts, cycles_given: int) -> list[Proposal]:
    """The proposals about whole cycles: a 3rd HSCT cycle, the HSCT decision, and CYC-3's stop."""
    return [*_hsct_proposals(facts, cycles_given), *_no_response_proposals(facts, cycles_given)]


def _hsct_proposals(facts: Facts, cycles_given: int) -> list[Proposal]:
    """After cycle 2: a 3rd cycle may be considered (CYC-1, CONV-RESP-3), or the plan must be decided (CONV-CYC-1)."""
    third = rules.HSCT_CYCLES + 1
    if cycles_given != rules.HSCT_CYCLES or (third, 1) in facts.given:
        return []
    if facts.hsct_plan == "planned":
        may, why = third_cycle(facts)
        if not may:
            return []
        text = f"HSCT planned, {why}: a 3rd cycle may be considered (CYC-1, CONV-RESP-3); never automatic; no 4th cycle."
        return [Proposal(f"CYC-1:c{third}", "CYC-1", text, False, "prescriber", third, None, None, SCOPE_NONE)]
    if facts.hsct_plan == "undecided" and cycles_given >= rules.HSCT_DECISION_AFTER_CYCLES:
        text = (
            f"HSCT plan undecided after cycle {cycles_given}: record the HSCT decision before "
            f"scheduling cycle {third} (CONV-CYC-1; HSCT {rules.HSCT_CYCLES} cycles, otherwise "
            f"at most {rules.NON_HSCT_MAX_CYCLES})."
        )
        return [Proposal(f"CONV-CYC-1:c{third}", "CONV-CYC-1", text, False, "prescriber", third, None, None, SCOPE_NONE)]
    return []


def _no_response_proposals(facts: Facts, cycles_given: int) -> list[Proposal]:
    """No CR/CRi within 3 cycles, once a later response is assessed: discontinue (CYC-3, CONV-RESP-2)."""
    stop = rules.NO_RESPONSE_STOP_CYCLES
    if cycles_given < stop or any(r.response in IN_CR_CRI and r.cycle <= stop for r in facts.responses):
        return []
    if not [r for r in facts.responses if r.cycle >= stop and r.response != "not_assessed"]:
        return []
    text = (
        f"No CR/CRi within {stop} cycles → discontinue (CYC-3, CONV-RESP-2; no override): "
        "a prescriber records the discontinuation."
    )
    return [Proposal("CYC-3", "CYC-3", text, False, "prescriber", None, None, None, SCOPE_NONE)]


def status(
    facts: Facts,
    cycles: list[Cycle],
    nxt: Dose | None,
    discontinued: bool,
    reason: str | None,
    given: int,
    allowed: int,
    limits: tuple[CycleLimit, ...],
) -> str:
    if facts.start is None:
        return "Not started: choose the cycle 1 start date."
    if discontinued:
        return f"Treatment discontinued ({reason})."
    if nxt is not None:
        return f"Next: {nxt.label} ({nxt.state.replace('_', ' ')})."
    binding = [lim for lim in limits if lim.max_cycles == allowed]
    why = "; ".join(f"{lim.rule}: {lim.text}" for lim in binding)
    return f"No further cycle: {given} of {allowed} allowed given ({why})."

"""The key budgets of issue 17, counted by the walks through the real terminal.

A budget is a count of keys, not a timing: a walk over its budget fails, and every count is
printed at the end of the run (the e2e conftest's terminal summary) and kept in bench/README.md.
"""

from __future__ import annotations

from attrs import frozen


@frozen
class Budget:
    name: str
    limit: int
    counts: str  # what is counted against the limit: "all" keys, or keys "besides values"


NURSE = Budget("Nurse: sign-in to the start of a prepared, verified dose", 30, "all")
INTAKE = Budget("New patient: registration and full intake", 90, "besides values")
VITALS = Budget("One set of vital signs", 12, "besides values")
PREMED = Budget("Premedication: three drugs given together, one form", 10, "all")

RESULTS: dict[str, tuple[Budget, int, int]] = {}


def spend(budget: Budget, start: tuple[int, int], end: tuple[int, int]) -> int:
    """Record a walk's count (from two ``Tty.tally()``) and fail when it is over the budget."""
    keys, chars = end[0] - start[0], end[1] - start[1]
    RESULTS[budget.name] = (budget, keys, chars)
    counted = keys if budget.counts == "all" else keys - chars
    assert counted <= budget.limit, (
        f"{budget.name}: {counted} keys, over the budget of {budget.limit} ({keys} keys, {chars} of them value characters)"
    )
    return counted


def report() -> list[str]:
    lines = []
    for budget, keys, chars in RESULTS.values():
        counted = keys if budget.counts == "all" else keys - chars
        lines.append(f"{budget.name}: {counted} of {budget.limit} keys ({keys} keys with {chars} value characters)")
    return lines

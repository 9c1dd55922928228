"""What is left to do before a dose, in the order it is done (issue 17).

:func:`todo` turns a verdict's findings into a to-do list: every missing or stale item, each of
one *kind* (the screen maps a kind to the one key that opens its form), in words, with the rule
IDs of the findings it answers. What no form on the pre-dose check can clear (a label hold, the
schedule, a discontinuation) is listed apart, as *blocked*, with why.

The order follows the bedside, and is this app's convention (the reference orders none of it but
PRE-1's "before the start"): first who the patient is; then the facts that decide whether this
dose may be given at all (consent and reproductive status before the first dose, the labs, the
blast count, the weight, ECG and electrolytes); then what a prescriber decides on those facts;
then the dose itself (calculation and preparation); the emergency checklist; and last the
premedication, given shortly before the start, once nothing else stands in the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from attrs import evolve, frozen

from .. import rules
from ..clock import fmt_local
from .checks_weight import NO_CALCULATION
from .checks_weight import NOT_ANSWERED as CHECKLIST_NOT_ANSWERED
from .events import VERDICT
from .results import R_DISCONTINUE, R_HOLD, R_MISSING, Check, Verdict


class TodoKind:
    """The kinds of to-do item: what there is to do, in the order it is done (the module docstring
    says why), and what no form on the pre-dose check clears."""

    IDENTITY = "identity"
    CONSENT = "consent"
    REPRODUCTIVE = "reproductive"
    LABS = "labs"
    BLASTS = "blasts"
    WEIGHT = "weight"
    ECG = "ecg"
    CONFIRM = "confirm"
    PREPARATION = "preparation"
    CHECKLIST = "checklist"
    PREMED = "premed"
    STOP = "stop"  # a permanent discontinuation (no override, §16.1)
    SCHEDULE = "schedule"  # the timeline: not due, held, waiting for a decision
    HELD = "held"  # a hold no one may override (label holds, CONV-LAB-6)


K = TodoKind
TASK_ORDER = (
    K.IDENTITY, K.CONSENT, K.REPRODUCTIVE, K.LABS, K.BLASTS, K.WEIGHT, K.ECG, K.CONFIRM, K.PREPARATION, K.CHECKLIST, K.PREMED
)  # fmt: skip
BLOCKED_ORDER = (K.STOP, K.SCHEDULE, K.HELD)  # strictest first

_LAB_WORDS = {"anc": "ANC", "platelets": "platelets", "bilirubin": "total bilirubin", "ast": "AST", "alt": "ALT"}
_TABLE2_WORDS = {
    "table2.row1": ("ANC",),
    "table2.row2": ("a transfusion-independent platelet count",),
    "table2.row3": ("ANC", "a transfusion-independent platelet count"),
}


@frozen
class TodoItem:
    """One thing to do (or one reason the dose is blocked): its kind, in words, and its rules."""

    kind: str
    text: str
    rule_ids: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # the keys of the findings it answers


@frozen
class Todo:
    """The to-do list of one dose: ``items`` in the order they are done, ``blocked`` apart."""

    overall: str
    items: tuple[TodoItem, ...] = ()
    blocked: tuple[TodoItem, ...] = ()
    given: str = ""  # the dose was given: what the timeline says, and nothing is left to do
    recorded: str = ""  # the verdict as it stands is recorded already: "PROCEED recorded at 09:40 by nina"

    @property
    def done(self) -> bool:
        """Nothing is left to do and nothing stands in the way: the verdict can be recorded."""
        return not self.items and not self.blocked

    @property
    def summary(self) -> str:
        """The one line said when the list is empty, or why the dose cannot go ahead."""
        if self.given:
            return f"{self.given}: nothing is left to do; the findings are the check as it stood before the dose."
        if self.done and self.recorded:
            return f"Nothing left to do: verdict {self.recorded}."
        if self.done:
            return f"Nothing left to do: record the verdict ({self.overall})."
        if not self.items:
            return f"Nothing to enter here: the dose cannot go ahead today ({self.overall})."
        return ""

    def item(self, kind: str) -> TodoItem | None:
        return next((i for i in (*self.items, *self.blocked) if i.kind == kind), None)


_FIXED = {"identity": K.IDENTITY, "gate.ecg": K.ECG, "qt.recheck": K.ECG}
_WHEN_MISSING = {"pre3.blasts": K.BLASTS, "gate.consent": K.CONSENT, "gate.pregnancy": K.REPRODUCTIVE}


def _kind(c: Check) -> str | None:
    """What a finding asks for (None: nothing; it passed or only informs)."""
    if c.key == "emergency":
        return K.CHECKLIST if c.value == CHECKLIST_NOT_ANSWERED else None  # PRE-10: asked, never blocks
    return _blocking_kind(c) if c.blocking else None


def _missing_kind(c: Check) -> str | None:
    """A missing or stale value: the form that enters it."""
    if c.key == "weight.change":
        return K.PREPARATION if c.value == NO_CALCULATION else K.WEIGHT
    if c.key.startswith(("lab.", "table2.", "table3.")):
        return K.LABS
    return _WHEN_MISSING.get(c.key)


def _blocking_kind(c: Check) -> str:
    k = c.key
    if c.result == R_DISCONTINUE:
        return K.STOP
    kind = _FIXED.get(k) or (K.PREMED if k.startswith("premed.") else K.SCHEDULE if k.startswith("eligibility.") else None)
    if kind is None and c.result == R_MISSING:
        kind = _missing_kind(c)
    if kind is None and k in ("weight.change", "height.change"):
        kind = K.PREPARATION  # CONV-WT-1, CONV-WT-2: recalculate and double-check again (no override)
    return kind or (K.CONFIRM if c.overridable_by else K.HELD)


def _rules(checks: Iterable[Check]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for c in checks for r in c.rule_ids))


def _joined(words: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(words))


def _labs_text(checks: Sequence[Check]) -> str:
    words: list[str] = []
    for c in checks:
        if c.key.startswith("lab."):
            words.append(_LAB_WORDS.get(c.key.removeprefix("lab."), c.name.removesuffix(" for this dose")))
        else:
            words.extend(_TABLE2_WORDS.get(c.key, ()))  # table3.mod_nh_2 names the liver values above
    stale = " (the latest too old)" if any("too old" in c.value for c in checks) else ""
    if set(words) >= set(_LAB_WORDS.values()):
        return f"labs for this dose{stale}"  # all of them: the findings name each
    return f"labs for this dose{stale}: {_joined(words) or 'see the findings'}"


def _identity_text(checks: Sequence[Check]) -> str:
    if any(c.result == R_HOLD for c in checks):
        return "identity does not match: check the patient and the record"
    return "confirm identity"


def _ecg_text(checks: Sequence[Check]) -> str:
    keys = {c.key for c in checks}
    return "baseline ECG and electrolytes" if "gate.ecg" in keys else "ECG and electrolytes since the QT-prolonging drug"


def _confirm_text(checks: Sequence[Check]) -> str:
    roles = _joined(c.overridable_by or "" for c in checks)
    return f"a {roles} confirms or overrides: {_joined(c.name for c in checks)}"


def _preparation_text(checks: Sequence[Check]) -> str:
    if any(c.value == NO_CALCULATION for c in checks):
        return "calculate the dose"
    return "recalculate the dose and double-check it again"


def _premed_text(checks: Sequence[Check]) -> str:
    classes = [c.key.removeprefix("premed.") for c in checks]
    if len(classes) == len(rules.PREMED_CLASSES):
        return f"premedication ({len(classes)} classes)"
    return "premedication: " + _joined(classes)


_TEXTS: dict[str, Any] = {
    K.IDENTITY: _identity_text,
    K.CONSENT: lambda cs: "consent before the first dose",
    K.REPRODUCTIVE: lambda cs: "reproductive status and pregnancy test",
    K.LABS: _labs_text,
    K.BLASTS: lambda cs: "peripheral blast count before C1 D1",
    K.WEIGHT: lambda cs: "weight for this dose",
    K.ECG: _ecg_text,
    K.CONFIRM: _confirm_text,
    K.PREPARATION: _preparation_text,
    K.CHECKLIST: lambda cs: "emergency checklist",
    K.PREMED: _premed_text,
    K.STOP: lambda cs: "no further dose: " + "; ".join(dict.fromkeys(c.value for c in cs)),
    K.SCHEDULE: lambda cs: "not today: " + "; ".join(dict.fromkeys(c.value for c in cs)),
    K.HELD: lambda cs: "held, no override: " + _joined(c.name for c in cs),
}


def todo(verdict: Verdict) -> Todo:
    """What is left to do for the verdict's dose, in order, and what blocks it (module docstring).

    A permanent discontinuation leaves nothing to do: the list names it alone."""
    by_kind: dict[str, list[Check]] = {}
    for c in verdict.checks:
        kind = _kind(c)
        if kind is not None:
            by_kind.setdefault(kind, []).append(c)

    def items(order: Sequence[str]) -> tuple[TodoItem, ...]:
        return tuple(
            TodoItem(kind, _TEXTS[kind](by_kind[kind]), _rules(by_kind[kind]), tuple(c.key for c in by_kind[kind]))
            for kind in order
            if kind in by_kind
        )

    if K.STOP in by_kind:
        return Todo(verdict.overall, blocked=items((K.STOP,)))
    return Todo(verdict.overall, items(TASK_ORDER), items(BLOCKED_ORDER))


def dose_todo(view: Any, cycle: int, day: int) -> Todo:
    """The to-do list of one dose, from the patient's projection: a dose already given has none."""
    from .. import schedule as sch
    from .view import predose_verdict

    v = predose_verdict(view, cycle, day)
    dose = view.timeline.dose(cycle, day)
    if dose is not None and dose.state == sch.GIVEN:
        return Todo(v.overall, given=f"C{cycle} D{day} was given on {dose.given_on.isoformat()}")
    t = todo(v)
    last = next(
        (ev for ev in reversed(view.events) if ev.kind == VERDICT and (ev.data.get("cycle"), ev.data.get("day")) == (cycle, day)),
        None,
    )
    if t.done and last is not None and last.payload.overall == v.overall:
        return evolve(t, recorded=f"{v.overall} recorded at {fmt_local(last.at, day=False)} by {last.actor}")
    return t

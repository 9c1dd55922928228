"""Overrides and confirmations applied to the checks (CONV-OVR-1, table 16.1): only the one role a
check names, with a reason, under the check's override rule; every other recorded override is
shown as "not applied" with why."""

from __future__ import annotations

from attrs import evolve

from ..text import with_article
from .base import _Base
from .inputs import Override
from .results import R_DISCONTINUE, R_INFO, R_PASS, Check


def _refused_why(c: Check, o: Override) -> str | None:
    """Why ``o`` does not apply to ``c`` (None: it applies)."""
    if c.overridable_by is None:
        return f"{c.name}: label hold or no override allowed (CONV-LAB-6, §16.1)"
    if o.role != c.overridable_by:
        return f"{c.name}: only {with_article(c.overridable_by)} may override; {o.user} is {with_article(o.role)}" + (
            " (a nurse can never override)" if o.role == "nurse" else ""
        )
    if not o.reason.strip():
        return f"{c.name}: an override needs a reason"
    return None


class OverrideChecks(_Base):
    def _dose_overrides(self) -> list[Override]:
        ctx = self.ctx
        return [o for o in self.rec.overrides if o.cycle == ctx.cycle and o.day == ctx.day]

    def _apply_to(self, c: Check, mine: list[Override], outcome: dict[int, str]) -> Check:
        """``c`` with the latest valid override applied (``outcome``: id(override) → why not, or "")."""
        applied: Override | None = None
        for o in mine:
            if o.rule_id != c.override_rule or (o.check is not None and o.check != c.key):
                continue
            why = _refused_why(c, o)
            if why is None:
                applied = o  # the latest valid one wins
                outcome[id(o)] = ""
                continue
            outcome.setdefault(id(o), why)
        if applied is None:
            return c
        result = R_DISCONTINUE if applied.decision == "discontinue" else R_PASS
        return evolve(
            c,
            result=result,
            override=applied,
            overridden_from=c.result,
            unverified_rule=c.unverified_rule or applied.unverified_rule,
        )

    def _unmatched_why(self, o: Override) -> str:
        matched = [
            c
            for c in self.checks
            if (c.override_rule == o.rule_id or o.rule_id in c.rule_ids) and (o.check is None or o.check == c.key)
        ]
        if matched and all(c.result in (R_PASS, R_INFO) for c in matched):
            return "not needed: the check passed"
        if matched:
            return "that check cannot be overridden (a missing or stale value is entered, not overridden)"
        return f"no check under {o.rule_id} at this dose"

    def apply_overrides(self) -> None:
        mine = self._dose_overrides()
        outcome: dict[int, str] = {}  # id(override) → why it was not applied, or "" if applied
        out: list[Check] = []
        for c in self.checks:
            if c.override_rule is None or c.result in (R_PASS, R_INFO):
                out.append(c)
            else:
                out.append(self._apply_to(c, mine, outcome))
        for o in mine:
            why = outcome.get(id(o))
            if why == "":
                continue
            if why is None:
                why = self._unmatched_why(o)
            out.append(
                Check(
                    key=f"override.ignored.{o.rule_id}",
                    name="Override not applied",
                    result=R_INFO,
                    value=f"{o.rule_id} by {o.user} ({o.role}): {why}",
                    rule_ids=(o.rule_id, "CONV-OVR-1"),
                    action="The recorded override changed nothing.",
                )
            )
        self.checks = out

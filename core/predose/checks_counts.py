"""Hematologic checks: Table 2 at a cycle start (MOD-HEM-*, CONV-HEM-*), MOD-GEN-1 otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import rules
from .base import _Base
from .grading import grade_anc, grade_platelets
from .reading import _dec, _independent, _latest, _unanswered, _Window
from .results import PRESCRIBER, R_HOLD, R_INFO, R_MISSING, R_NEEDS, R_PASS, _plain


class CountChecks(_Base):
    def hematologic(self, found: Mapping[str, Any]) -> None:
        if not self.ctx.cycle_start:
            self._counts_shown(found)
            return
        self._table2()

    def _counts_shown(self, found: Mapping[str, Any]) -> None:
        """Within a cycle (or C1 D1) counts are shown, never a reason to hold (MOD-GEN-1, MOD-HEM-6)."""
        ctx = self.ctx
        anc_r, plt_r = found.get("anc"), found.get("platelets")
        parts = []
        if anc_r is not None:
            v = _dec(anc_r.data["anc"])
            parts.append(f"ANC {_plain(v)} (G{grade_anc(v)})")
        if plt_r is not None:
            v = _dec(plt_r.data["platelets"])
            parts.append(f"platelets {_plain(v)} (G{grade_platelets(v)})")
        why = "C1 D1: Table 2 starts at cycle 2" if ctx.first else f"Day {ctx.day}: within a cycle"
        self.add(
            key="table2.not_applied",
            name="Counts (not a reason to hold)",
            result=R_INFO,
            value=("; ".join(parts) or "no counts") + f" — {why}",
            rule_ids=("MOD-GEN-1", "MOD-HEM-6"),
            action="Counts are shown only: doses within a cycle are not held for neutropenia or thrombocytopenia (MOD-GEN-1)."
            if not ctx.first
            else "Counts are shown; Table 2 applies from C2 D1 (MOD-HEM-6).",
        )

    def _table2_baseline(self) -> tuple[Any, Any, str]:
        """The pre-treatment ANC and transfusion-independent platelets (CONV-HEM-1), and their text."""
        bw = self._baseline_window()
        b_anc = _latest(self.labs, "anc", bw) if bw else None
        b_plt = _latest(self.labs, "platelets", bw, _independent) if bw else None
        pre_anc = _dec(b_anc.data["anc"]) if b_anc else None
        pre_plt = _dec(b_plt.data["platelets"]) if b_plt else None
        base_text = (
            f"pre-treatment ANC {_plain(pre_anc) if pre_anc is not None else 'unknown'}"
            f"{' on ' + b_anc.on.isoformat() if b_anc else ''}, platelets "
            f"{_plain(pre_plt) if pre_plt is not None else 'unknown'}{' on ' + b_plt.on.isoformat() if b_plt else ''}"
        )
        if pre_anc is None or pre_plt is None:
            self.add(
                key="table2.baseline",
                name="Table 2 row choice",
                result=R_INFO,
                value=base_text,
                rule_ids=("CONV-HEM-1",),
                action="A pre-treatment count (transfusion-independent) is unknown: "
                "rows 1 and 2 (the strictest) are applied for it.",
            )
        return pre_anc, pre_plt, base_text

    def _table2_current(self) -> tuple[Any, Any, Any, Any, str, str]:
        """This dose's ANC and transfusion-independent platelets (CONV-HEM-3), with their texts."""
        cur_anc_r = _latest(self.labs, "anc", self.window) if self.window else None
        cur_plt_r = _latest(self.labs, "platelets", self.window, _independent) if self.window else None
        cur_anc = _dec(cur_anc_r.data["anc"]) if cur_anc_r else None
        cur_plt = _dec(cur_plt_r.data["platelets"]) if cur_plt_r else None
        anc_text = f"ANC {_plain(cur_anc)} on {cur_anc_r.on.isoformat()}" if cur_anc_r else "ANC missing"
        plt_text = (
            f"platelets {_plain(cur_plt)} on {cur_plt_r.on.isoformat()} (transfusion-independent)"
            if cur_plt_r
            else "no transfusion-independent platelet count for this dose"
        )
        newest_plt = _latest(self.labs, "platelets", self.window) if self.window else None
        if newest_plt is not None and newest_plt is not cur_plt_r and _unanswered(newest_plt):
            plt_text += (
                f"; the laboratory's count {_plain(_dec(newest_plt.data['platelets']))} on {newest_plt.on.isoformat()} "
                "is not used until someone answers whether a platelet transfusion came before it (T, CONV-HEM-3)"
            )
            return cur_anc, cur_plt, cur_anc_r, cur_plt_r, anc_text, plt_text
        if newest_plt is not None and cur_plt_r is not None and newest_plt is not cur_plt_r:
            plt_text += (
                f"; later count {_plain(_dec(newest_plt.data['platelets']))} on {newest_plt.on.isoformat()} "
                "not used (after a transfusion, CONV-HEM-3)"
            )
        return cur_anc, cur_plt, cur_anc_r, cur_plt_r, anc_text, plt_text

    def _table2(self) -> None:
        """Day 1 of cycle ≥ 2 (MOD-HEM-6)."""
        pre_anc, pre_plt, base_text = self._table2_baseline()
        row1 = pre_anc is None or pre_anc >= rules.ANC_THRESHOLD
        row2 = pre_plt is None or pre_plt >= rules.PLATELET_THRESHOLD
        row3 = (pre_anc is not None and pre_anc < rules.ANC_THRESHOLD) or (
            pre_plt is not None and pre_plt < rules.PLATELET_THRESHOLD
        )
        cur_anc, cur_plt, cur_anc_r, cur_plt_r, anc_text, plt_text = self._table2_current()
        if row1:
            self._t2_row(
                ("table2.row1", "Table 2 row 1: ANC", ("MOD-HEM-1", "MOD-HEM-6", "CONV-HEM-1")),
                cur_anc,
                rules.ANC_THRESHOLD,
                anc_text,
                cur_anc_r,
                base_text,
                f"Delay this cycle's Day 1 until ANC ≥ {_plain(rules.ANC_THRESHOLD)} × 10⁹/L (label: no override).",
            )
        if row2:
            self._t2_row(
                ("table2.row2", "Table 2 row 2: platelets", ("MOD-HEM-2", "MOD-HEM-5", "MOD-HEM-6", "CONV-HEM-1", "CONV-HEM-3")),
                cur_plt,
                rules.PLATELET_THRESHOLD,
                plt_text,
                cur_plt_r,
                base_text,
                "Delay this cycle's Day 1 until a transfusion-independent platelet count "
                f"≥ {_plain(rules.PLATELET_THRESHOLD)} × 10⁹/L (label: no override).",
            )
        if row3:
            self._t2_row3(cur_anc, cur_plt, anc_text, plt_text, cur_anc_r, base_text)
        self._held_over_28()

    def _missing_count_action(self) -> str:
        newest = _latest(self.labs, "platelets", self.window) if self.window else None
        if newest is not None and _unanswered(newest):
            return (
                "Ask whether a platelet transfusion came before the laboratory's count and answer it (T), "
                "or enter a count (CONV-HEM-3)."
            )
        return "Enter a count collected for this dose (CONV-LAB-5; platelets: before any transfusion, CONV-HEM-3)."

    def _t2_row(self, row, cur, threshold, text, rec, base_text, hold_action) -> None:
        """Table 2 row 1 or 2: ``row`` is (key, name, rule IDs)."""
        key, name, rule_ids = row
        if cur is None:
            self.add(
                key=key,
                name=name,
                result=R_MISSING,
                value=f"{text}; {base_text}",
                rule_ids=rule_ids,
                action=self._missing_count_action(),
            )
        elif cur < threshold:
            self.add(
                key=key,
                name=name,
                result=R_HOLD,
                value=f"{text}; {base_text}",
                date_used=rec.on,
                rule_ids=rule_ids,
                action=hold_action,
                override_rule=rule_ids[0],
            )
        else:
            self.add(key=key, name=name, result=R_PASS, value=f"{text}; {base_text}", date_used=rec.on, rule_ids=rule_ids)

    def _prior_baseline_met(self, cur_anc, cur_plt) -> tuple[bool, str]:
        """Row 3 condition (1): ≥ the prior cycle's baseline (CONV-HEM-2: last counts before its Day 1 dose)."""
        ctx = self.ctx
        c1 = False
        c1_text = "prior cycle's baseline unknown"
        if ctx.prior_cycle_day1_date is not None:
            pw = _Window(None, ctx.prior_cycle_day1_date)
            pa = _latest(self.labs, "anc", pw)
            pp = _latest(self.labs, "platelets", pw, _independent)
            if pa is not None and pp is not None:
                pav, ppv = _dec(pa.data["anc"]), _dec(pp.data["platelets"])
                c1 = cur_anc >= pav and cur_plt >= ppv
                c1_text = (
                    f"prior cycle's baseline ANC {_plain(pav)} ({pa.on.isoformat()}), "
                    f"platelets {_plain(ppv)} ({pp.on.isoformat()})"
                )
        return c1, c1_text

    def _t2_row3(self, cur_anc, cur_plt, anc_text, plt_text, anc_r, base_text) -> None:
        rule_ids = ("MOD-HEM-3", "MOD-HEM-6", "CONV-HEM-1", "CONV-HEM-2", "CONV-HEM-3")
        name = "Table 2 row 3: recovery"
        if cur_anc is None or cur_plt is None:
            self.add(
                key="table2.row3",
                name=name,
                result=R_MISSING,
                value=f"{anc_text}; {plt_text}; {base_text}",
                rule_ids=rule_ids,
                action="Enter ANC and a transfusion-independent platelet count for this dose."
                if cur_anc is None
                else self._missing_count_action(),
            )
            return
        c1, c1_text = self._prior_baseline_met(cur_anc, cur_plt)
        # Condition (2).
        c2 = cur_anc >= rules.ANC_THRESHOLD and cur_plt >= rules.PLATELET_THRESHOLD
        value = f"{anc_text}; {plt_text}; {c1_text}"
        if c1 or c2:
            which = (
                "(1) at or above the prior cycle's baseline"
                if c1
                else f"(2) ANC ≥ {_plain(rules.ANC_THRESHOLD)} and platelets ≥ {_plain(rules.PLATELET_THRESHOLD)}"
            )
            self.add(
                key="table2.row3", name=name, result=R_PASS, value=f"{value}; met {which}", date_used=anc_r.on, rule_ids=rule_ids
            )
            return
        self.add(
            key="table2.row3",
            name=name,
            result=R_HOLD,
            value=value,
            date_used=anc_r.on,
            rule_ids=rule_ids,
            action=(
                "Delay this cycle's Day 1 until (1) ANC and platelets ≥ the prior cycle's baseline, or (2) ANC ≥ "
                f"{_plain(rules.ANC_THRESHOLD)} and platelets ≥ {_plain(rules.PLATELET_THRESHOLD)}, or (3) a prescriber records "
                "stable or improved disease on the latest marrow with the fall judged due to leukemia, not BESPONSA."
            ),
            overridable_by=PRESCRIBER,
            override_rule="MOD-HEM-3",
        )

    def _held_over_28(self) -> None:
        ctx = self.ctx
        if ctx.held_since is None:
            return
        in_question = max(self.today, ctx.planned_date)
        days = (in_question - ctx.held_since).days  # CONV-SCHED-5: whole calendar days
        if days <= rules.HELD_DAYS_PROMPT_AFTER:
            self.add(
                key="table2.held_days",
                name="Hold length",
                result=R_INFO,
                value=f"held since {ctx.held_since.isoformat()}: {days} days",
                rule_ids=("CONV-SCHED-5",),
            )
            return
        self.add(
            key="table2.held_over_28",
            name="Hold > 28 days: discontinuation decision",
            result=R_NEEDS,
            value=f"held since {ctx.held_since.isoformat()}: {days} days (> {rules.HELD_DAYS_PROMPT_AFTER})",
            date_used=ctx.held_since,
            rule_ids=("MOD-HEM-1", "MOD-HEM-2", "MOD-HEM-4", "CONV-HEM-4", "CONV-SCHED-5"),
            action="A prescriber decides whether the low counts are BESPONSA-related: "
            "discontinue, or continue (recorded with a reason).",
            overridable_by=PRESCRIBER,
            override_rule="CONV-HEM-4",
            unverified_rule="MOD-HEM-4",
        )

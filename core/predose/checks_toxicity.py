"""Recorded toxicities: VOD (MOD-NH-1), severe infusion reactions (MOD-NH-3, CONV-IRR-1), recorded
discontinuations, and the worst unresolved non-hematologic grade (MOD-NH-4, MOD-NH-6)."""

from __future__ import annotations

from datetime import date

from .. import rules
from .base import _Base
from .inputs import Toxicity
from .reading import _is_anaphylaxis, _is_irr, _is_vod, _term_key
from .results import R_DISCONTINUE, R_HOLD, R_INFO


class ToxicityChecks(_Base):
    def toxicities(self) -> None:
        self._discontinuing()
        # MOD-NH-4 / MOD-NH-6: worst unresolved non-hematologic grade vs the pre-treatment grade.
        ctx = self.ctx
        anchor = ctx.planned_date if ctx.first else ctx.first_dose_date
        pre = self._pre_treatment_grades(anchor)
        for k, t in sorted(self._worst_unresolved().items()):
            self._toxicity(k, t, pre.get(k, 0), anchor)

    def _discontinuing(self) -> None:
        toxes = self.rec.toxicities
        # MOD-NH-1 / WARN-VOD-4: VOD → permanent discontinuation, whatever its grade or status.
        for t in toxes:
            if _is_vod(t.term):  # whatever its onset, grade or resolution
                self.add(
                    key="vod",
                    name="VOD recorded",
                    result=R_DISCONTINUE,
                    value=f"{t.term} G{t.grade} (v{t.ctcae_version}), onset {t.onset.isoformat()}",
                    date_used=t.onset,
                    rule_ids=("MOD-NH-1", "WARN-VOD-4", "BOX-1"),
                    action="Permanently discontinue BESPONSA; a prescriber records the discontinuation. "
                    "No override; only a recorded correction changes this.",
                )
        # MOD-NH-3 / CONV-IRR-1: severe or life-threatening infusion reaction, or anaphylaxis.
        for t in toxes:
            if (_is_irr(t.term) and t.grade >= rules.IRR_SEVERE_GRADE) or _is_anaphylaxis(t.term):
                self.add(
                    key="irr.severe",
                    name="Severe infusion reaction",
                    result=R_DISCONTINUE,
                    value=f"{t.term} G{t.grade} (v{t.ctcae_version}), {t.onset.isoformat()}",
                    date_used=t.onset,
                    rule_ids=("MOD-NH-3", "CONV-IRR-1", "CTCAE-1"),
                    action="Permanently discontinue; a prescriber confirms the discontinuation record. "
                    "Only a recorded grade correction changes this.",
                )
        for d in self.rec.discontinuations:
            self.add(
                key="discontinued",
                name="Permanent discontinuation recorded",
                result=R_DISCONTINUE,
                value=f"{d.rule_id}{f' by {d.user}' if d.user else ''} ({d.role}) on {d.on.isoformat()}: {d.reason}",
                date_used=d.on,
                rule_ids=(d.rule_id,),
                action="No further dose. Only a recorded correction changes this (§16.1).",
            )

    def _pre_treatment_grades(self, anchor: date | None) -> dict[str, int]:
        ctx = self.ctx
        pre: dict[str, int] = {}
        if anchor is not None:
            for t in self.rec.toxicities:
                before = t.onset <= anchor if ctx.first else t.onset < anchor
                if before and (t.resolved is None or t.resolved >= anchor):
                    k = _term_key(t.term)
                    pre[k] = max(pre.get(k, 0), t.grade)
        return pre

    def _worst_unresolved(self) -> dict[str, Toxicity]:
        ctx = self.ctx
        worst: dict[str, Toxicity] = {}
        for t in self.rec.toxicities:
            if t.hematologic or _is_vod(t.term) or t.onset > ctx.planned_date:
                continue
            if t.resolved is not None and t.resolved <= ctx.planned_date:
                continue
            k = _term_key(t.term)
            if k not in worst or t.grade > worst[k].grade:
                worst[k] = t
        return worst

    def _toxicity(self, k: str, t: Toxicity, g_pre: int, anchor: date | None) -> None:
        txt = (
            f"{t.term} G{t.grade} (v{t.ctcae_version}), onset {t.onset.isoformat()}, unresolved; "
            f"pre-treatment G{g_pre}"
            + (" (no baseline: first dose date unknown, taken as G0)" if anchor is None else "")
            + (f"; attribution: {t.attribution}" if t.attribution else "")
        )
        if t.ctcae_version != rules.CTCAE_VERSION:
            txt += f"; graded with v{t.ctcae_version}, re-grade with v{rules.CTCAE_VERSION} (CTCAE-5)"
        if t.grade >= rules.NONHEME_HOLD_GRADE and t.grade > g_pre:
            self.tox_label_hold = True
            self.add(
                key=f"tox.{k}",
                name=f"Toxicity: {t.term}",
                result=R_HOLD,
                value=txt,
                date_used=t.onset,
                rule_ids=("MOD-NH-4", "MOD-GEN-2", "MOD-NH-6"),
                action=f"Hold until it recovers to Grade 1 or the pre-treatment grade (G{g_pre}), "
                "recorded as resolved (label: no override).",
                override_rule="MOD-NH-4",
            )
        else:
            self.add(
                key=f"tox.{k}",
                name=f"Toxicity: {t.term}",
                result=R_INFO,
                value=txt,
                date_used=t.onset,
                rule_ids=("MOD-NH-4", "MOD-NH-6"),
            )

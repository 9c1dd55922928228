"""Weight and height since the dose calculation (CONV-WT-1, CONV-WT-2), low weight (CONV-BSA-5),
the VOD review prompt (MON-8), and what is shown but never blocks (PRE-10, MON-2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .. import rules
from ..clock import to_local  # shown in the site's zone (CONV-TIME-1)
from .base import _Base
from .reading import _dated, _dec, _latest, _latest_any, _liver_of, _Rec
from .results import _PERCENT, PRESCRIBER, R_HOLD, R_INFO, R_MISSING, R_NEEDS, R_PASS, _local, _plain, _ratio_text, _show

NO_CALCULATION = "no calculated dose for this dose"  # the weight check's value before a calculation (todo.py reads it)
NOT_ANSWERED = "not answered"  # the emergency checklist's value until it is answered (PRE-10)


class WeightChecks(_Base):
    # -- weight and height since the calculation (CONV-WT-1/2), low weight (CONV-BSA-5) ---------
    def weight(self) -> None:
        ctx, s = self.ctx, self.settings
        recs = _dated(self.rec.measurements, "measured_on")
        w = self.window
        r = _latest(recs, "weight_kg", w) if w else None
        child = ctx.patient_age_years < rules.ADULT_AGE_YEARS
        pct = s.weight_change_pct_child if child else s.weight_change_pct_adult
        rule_ids = ("CONV-WT-1", "PRE-9", "MON-8")
        if ctx.weight_used_kg is None:
            self.add(
                key="weight.change",
                name="Weight since the dose calculation",
                result=R_MISSING,
                value=NO_CALCULATION,
                rule_ids=rule_ids,
                action="Calculate and double-check the dose from a current measurement.",
            )
        elif r is None:
            older = _latest_any(recs, "weight_kg")
            self.add(
                key="weight.change",
                name="Weight since the dose calculation",
                result=R_MISSING,
                value=f"no weight recorded for this dose (latest {older.on.isoformat() if older else 'none'})",
                rule_ids=rule_ids,
                action=f"Weigh the patient and record it ({w.text() if w else 'after the previous dose'}).",
            )
        else:
            self._weight_change(r, pct, child, rule_ids)
            self._height(r, pct, child)
        self._low_weight(r)

    def _weight_change(self, r: _Rec, pct: Decimal, child: bool, rule_ids: tuple[str, ...]) -> None:
        """CONV-WT-1: the weight for this dose against the weight the calculation used."""
        ctx = self.ctx
        now = _dec(r.data["weight_kg"])
        used = ctx.weight_used_kg
        with _local():
            delta = abs(now - used)
            over = delta * _PERCENT > pct * used  # exactly at the threshold does not trigger
            shown = _show(delta * _PERCENT / used) if used > 0 else "?"
        txt = (
            f"{_plain(now)} kg on {r.on.isoformat()} vs {_plain(used)} kg used: {shown}% "
            f"(limit > {_plain(pct)}% {'under 18' if child else 'adult'})"
        )
        if over:
            self.add(
                key="weight.change",
                name="Weight since the dose calculation",
                result=R_HOLD,
                value=txt,
                date_used=r.on,
                rule_ids=rule_ids,
                action="Recalculate BSA and dose from the new weight and repeat the double-check before dosing (no override).",
            )
        else:
            self.add(
                key="weight.change",
                name="Weight since the dose calculation",
                result=R_PASS,
                value=txt,
                date_used=r.on,
                rule_ids=rule_ids,
            )

    def _low_weight(self, r: _Rec | None) -> None:
        s = self.settings
        ctx = self.ctx
        # CONV-BSA-5: BSA dosing under 10 kg needs a prescriber's confirmation (every dose).
        wt = ctx.weight_used_kg if ctx.weight_used_kg is not None else (_dec(r.data["weight_kg"]) if r else None)
        if wt is not None and wt < s.low_weight_confirm_kg:
            self.add(
                key="bsa.low_weight",
                name=f"Weight under {_plain(s.low_weight_confirm_kg)} kg",
                result=R_NEEDS,
                value=f"{_plain(wt)} kg",
                rule_ids=("CONV-BSA-5", "POP-PED-2"),
                action="BSA dosing under 10 kg can overdose: a prescriber confirms the dose, with a reason.",
                overridable_by=PRESCRIBER,
                override_rule="CONV-BSA-5",
            )

    # -- MON-8: a VOD review prompt (never a hold: a prescriber reviews) -------------------------
    def vod_review(self) -> None:
        """A bilirubin rise (as a multiple of its ULN, so units and labs compare) or a weight gain
        over [SITE] 5% against the pre-treatment values prompts a VOD review (MON-8, WARN-VOD-2)."""
        if self.ctx.first or self.window is None:
            return  # before the first dose there is nothing to compare with
        bw = self._baseline_window()
        if bw is None:
            return
        found: list[str] = []
        dates: list[date] = []
        recs = _dated(self.rec.measurements, "measured_on")
        base_w, cur_w = _latest(recs, "weight_kg", bw), _latest(recs, "weight_kg", self.window)
        if base_w is not None and cur_w is not None:
            b, c = _dec(base_w.data["weight_kg"]), _dec(cur_w.data["weight_kg"])
            with _local():
                over = b > 0 and (c - b) * _PERCENT > self.settings.weight_gain_vod_pct * b  # exactly at it: no prompt
                gain = _show((c - b) * _PERCENT / b) if b > 0 else "?"
            if over:
                found.append(
                    f"weight {_plain(c)} kg on {cur_w.on.isoformat()}, +{gain}% over the pre-treatment "
                    f"{_plain(b)} kg (> {_plain(self.settings.weight_gain_vod_pct)}%)"
                )
                dates.append(cur_w.on)
        base_b = _liver_of(_latest(self.labs, "bilirubin", bw), "bilirubin")
        cur_b = _liver_of(_latest(self.labs, "bilirubin", self.window), "bilirubin")
        if base_b is not None and cur_b is not None and cur_b.value * base_b.uln > base_b.value * cur_b.uln:
            found.append(
                f"total bilirubin {_plain(cur_b.value)} {cur_b.unit} ({_ratio_text(cur_b.value, cur_b.uln)} × ULN) on "
                f"{cur_b.on.isoformat()}, up from the pre-treatment {_plain(base_b.value)} {base_b.unit} "
                f"({_ratio_text(base_b.value, base_b.uln)} × ULN)"
            )
            dates.append(cur_b.on)
        if found:
            self.add(
                key="vod.review",
                name="VOD review prompted",
                result=R_INFO,
                value="; ".join(found),
                date_used=max(dates),
                rule_ids=("MON-8", "MON-6", "WARN-VOD-2"),
                action=f"Review for hepatic VOD/SOS now. {rules.WARN_FACTS['MON-6']} ({rules.WARN_FACTS['MON-8']}) Tell the "
                "prescriber; a VOD diagnosis is recorded as toxicity and discontinues (WARN-VOD-4, MOD-NH-1).",
            )

    def _height(self, r: _Rec, pct: Decimal, child: bool) -> None:
        from ..calc import bsa  # local: predose needs calc only for CONV-WT-2

        ctx = self.ctx
        h_now, w_now = _dec(r.data.get("height_cm")), _dec(r.data.get("weight_kg"))
        if ctx.height_used_cm is None or h_now is None or h_now == ctx.height_used_cm:
            return
        formula = r.data.get("bsa_formula") or rules.BSA_DEFAULT_FORMULA
        rule_ids = ("CONV-WT-2", "CONV-WT-1")
        try:
            new = bsa(h_now, w_now, formula).exact
            old = bsa(ctx.height_used_cm, ctx.weight_used_kg, formula).exact
        except (TypeError, ValueError, KeyError, ArithmeticError):
            self.add(
                key="height.change",
                name="Height since the dose calculation",
                result=R_HOLD,
                value=f"{_plain(h_now)} cm vs {_plain(ctx.height_used_cm)} cm used; BSA cannot be recomputed",
                rule_ids=rule_ids,
                action="Recalculate BSA and dose and repeat the double-check.",
            )
            return
        with _local():
            over = abs(new - old) * _PERCENT > pct * old
            shown = _show(abs(new - old) * _PERCENT / old)
        txt = (
            f"{_plain(h_now)} cm on {r.on.isoformat()} vs {_plain(ctx.height_used_cm)} cm used: "
            f"BSA {_show(new)} vs {_show(old)} m², {shown}% (limit > {_plain(pct)}%)"
        )
        if over:
            self.add(
                key="height.change",
                name="Height since the dose calculation",
                result=R_HOLD,
                value=txt,
                date_used=r.on,
                rule_ids=rule_ids,
                action="Recalculate BSA and dose and repeat the double-check before dosing (no override).",
            )
        else:
            self.add(
                key="height.change",
                name="Height since the dose calculation",
                result=R_INFO,
                value=txt,
                date_used=r.on,
                rule_ids=rule_ids,
                action="New height: BSA recomputed; the change is within the threshold.",
            )

    # -- shown, never blocking ------------------------------------------------------------------
    def shown(self) -> None:
        if self.settings.emergency_checklist:
            ans = self.rec.emergency_ready
            self.add(
                key="emergency",
                name="Emergency drugs and equipment available",
                result=R_INFO,
                value={True: "yes", False: "NO", None: NOT_ANSWERED}[ans],
                rule_ids=("PRE-10",),
                action="" if ans else "Check resuscitation drugs and equipment; the answer is recorded and never blocks.",
            )
        dev = self.rec.observation_incomplete
        if dev is not None:
            self.add(
                key="observation.previous",
                name="Observation incomplete at the previous dose",
                result=R_INFO,
                value=f"recorded by {dev.user} at {to_local(dev.at):%Y-%m-%d %H:%M %Z}: {dev.reason}",
                rule_ids=("MON-2",),
                action="Shown for information; ask about reactions since the previous dose.",
            )

"""Hepatic checks: Table 3 (MOD-NH-2, MOD-NH-4 by grade, MOD-NH-5) and the single-value holds
(CONV-LAB-1, CONV-LAB-3) that a prescriber may override only where no label hold applies
(CONV-LAB-6); Gilbert's syndrome or hemolysis confirmed by a prescriber (CONV-LAB-2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import rules
from .base import _Base
from .grading import _baseline_abnormal, grade_bilirubin, grade_transaminase, grade_transaminase_v3
from .reading import _LIVER, _LIVER_LABEL, _latest, _Liver, _liver_of, _title
from .results import PRESCRIBER, R_HOLD, R_INFO, R_MISSING, R_PASS, _plain, _ratio_text

_NH2_NAME = "Table 3: bilirubin and AST/ALT"


class LiverChecks(_Base):
    def gilbert(self) -> bool:
        bc = self.rec.bilirubin_cause
        if bc is None:
            return False
        ok = bc.confirmed_by is not None and bc.confirmed_role == PRESCRIBER
        self.add(
            key="table3.bilirubin_cause",
            name="Bilirubin cause (Gilbert's/hemolysis)",
            result=R_INFO,
            value=f"{bc.cause}, recorded by {bc.recorded_by}"
            + (f", confirmed by {bc.confirmed_by} (prescriber)" if ok else ", NOT confirmed by a prescriber"),
            rule_ids=("CONV-LAB-2", "MOD-NH-2"),
            action="Bilirubin is left out of MOD-NH-2, CONV-LAB-1 and the MOD-NH-4 bilirubin grade; AST/ALT still apply."
            if ok
            else "A prescriber must confirm the cause before bilirubin is left out (CONV-LAB-2); until then it counts.",
        )
        return ok

    def _liver_baselines(self, cur: Mapping[str, _Liver | None]) -> dict[str, _Liver | None]:
        bw = self._baseline_window()
        base: dict[str, _Liver | None] = {}
        for a in _LIVER:
            if self.ctx.first:
                base[a] = cur[a]
            else:
                base[a] = _liver_of(_latest(self.labs, a, bw), a) if bw else None
                # The baseline panel's own ULN is needed; _latest picks the newest with a value.
        return base

    def hepatic(self, found: Mapping[str, Any]) -> None:
        gilbert = self.gilbert()
        cur: dict[str, _Liver | None] = {a: found.get(a) for a in _LIVER}
        base = self._liver_baselines(cur)
        missing = [a for a in _LIVER if cur[a] is None]
        label_hold = self._mod_nh_2(cur, gilbert, missing)
        label_hold = self._grades(cur, base, gilbert) or label_hold
        # MOD-NH-4 for recorded toxicities counts as a label hold too (CONV-LAB-6, broad reading).
        label_hold = label_hold or self.tox_label_hold
        self._single_values(cur, gilbert, missing, label_hold)

    def _mod_nh_2(self, cur: Mapping[str, _Liver | None], gilbert: bool, missing: list[str]) -> bool:
        """MOD-NH-2: both high → label hold, no override. True if it holds."""
        bili = cur["bilirubin"]
        bili_high = bili is not None and not gilbert and bili.value > rules.BILIRUBIN_ULN_FACTOR * bili.uln
        trans_high = [
            a for a in ("ast", "alt") if cur[a] is not None and cur[a].value > rules.TRANSAMINASE_ULN_FACTOR * cur[a].uln
        ]
        limits = (
            f"Hold while bilirubin > {_plain(rules.BILIRUBIN_ULN_FACTOR)} × ULN "
            f"and AST/ALT > {_plain(rules.TRANSAMINASE_ULN_FACTOR)} × ULN"
        )
        if bili_high and trans_high:
            self._mod_nh_2_hold(cur, trans_high)
            return True
        if not (
            gilbert
            or (bili is not None and not bili_high)  # bilirubin known not high
            or (not trans_high and all(cur[a] is not None for a in ("ast", "alt")))  # AST/ALT known not high
        ):
            self.add(
                key="table3.mod_nh_2",
                name=_NH2_NAME,
                result=R_MISSING,
                value=f"cannot be judged: {', '.join(_LIVER_LABEL[a] for a in missing)} missing",
                rule_ids=("MOD-NH-2",),
                action="Enter the missing liver results with their ULN.",
            )
        else:
            self.add(
                key="table3.mod_nh_2",
                name=_NH2_NAME,
                result=R_PASS,
                value="not both over their limits" + (" (bilirubin left out: CONV-LAB-2)" if gilbert else ""),
                rule_ids=("MOD-NH-2", "CONV-LAB-4"),
                action=limits,
            )
        return False

    def _mod_nh_2_hold(self, cur: Mapping[str, _Liver | None], trans_high: list[str]) -> None:
        """MOD-NH-2: bilirubin and AST/ALT both over their limits (a label hold)."""
        bili = cur["bilirubin"]
        parts = [f"bilirubin {_ratio_text(bili.value, bili.uln)} × ULN"] + [
            f"{_LIVER_LABEL[a]} {_ratio_text(cur[a].value, cur[a].uln)} × ULN" for a in trans_high
        ]
        self.add(
            key="table3.mod_nh_2",
            name=_NH2_NAME,
            result=R_HOLD,
            value="; ".join(parts),
            date_used=max(bili.on, *(cur[a].on for a in trans_high)),
            rule_ids=("MOD-NH-2", "CONV-LAB-4", "CONV-LAB-6"),
            action=(
                f"Hold until bilirubin ≤ {_plain(rules.BILIRUBIN_ULN_FACTOR * bili.uln)} {bili.unit} and "
                + " and ".join(
                    f"{_LIVER_LABEL[a]} ≤ {_plain(rules.TRANSAMINASE_ULN_FACTOR * cur[a].uln)} U/L" for a in trans_high
                )
                + " (label: no override; Gilbert's/hemolysis: CONV-LAB-2). Discontinue if they do not recover."
            ),
            override_rule="MOD-NH-2",
        )

    def _grades(self, cur: Mapping[str, _Liver | None], base: Mapping[str, _Liver | None], gilbert: bool) -> bool:
        """MOD-NH-4 by v5 grade vs the pre-treatment grade (CTCAE-3). True if one holds."""
        label_hold = False
        for a in _LIVER:
            c = cur[a]
            if a == "bilirubin" and gilbert:
                continue
            if c is None:
                continue  # the missing value already holds (lab.<a>)
            label_hold = self._grade(a, c, base[a]) or label_hold
        return label_hold

    def _grade(self, a: str, c: _Liver, b: _Liver | None) -> bool:
        key, name = f"table3.grade.{a}", f"{_title(_LIVER_LABEL[a])} grade (v{rules.CTCAE_VERSION})"
        grader = grade_bilirubin if a == "bilirubin" else grade_transaminase
        g_now = grader(c.value, c.uln, b.value if b else None, b.uln if b else None)
        g_pre = grader(b.value, b.uln) if b else 0
        abnormal = b is not None and _baseline_abnormal(b.value, b.uln)
        txt = (
            f"v{rules.CTCAE_VERSION} G{g_now}"
            + (f", v{rules.CTCAE_V3_VERSION} G{grade_transaminase_v3(c.value, c.uln)}" if a != "bilirubin" else "")
            + f" ({_plain(c.value)} on {c.on.isoformat()}); pre-treatment "
            + (
                f"G{g_pre} ({_plain(b.value)}, ULN {_plain(b.uln)}, on {b.on.isoformat()}; "
                f"baseline {'abnormal: graded × baseline' if abnormal else 'normal: graded × ULN'})"
                if b
                else "value unknown: graded as if normal (stricter)"
            )
        )
        rule_ids = ("MOD-NH-4", "CTCAE-3", "CTCAE-5", "CONV-LAB-6")
        if g_now >= rules.NONHEME_HOLD_GRADE and g_now > g_pre:
            self.add(
                key=key,
                name=name,
                result=R_HOLD,
                value=txt,
                date_used=c.on,
                rule_ids=rule_ids,
                action=f"Hold until {_LIVER_LABEL[a]} recovers to Grade 1 or the pre-treatment grade "
                f"(G{g_pre}) (label: no override).",
                override_rule="MOD-NH-4",
            )
            return True
        self.add(key=key, name=name, result=R_PASS, value=txt, date_used=c.on, rule_ids=rule_ids)
        return False

    def _single_values(self, cur: Mapping[str, _Liver | None], gilbert: bool, missing: list[str], label_hold: bool) -> None:
        """CONV-LAB-1 / CONV-LAB-3: one value alone; overridable only where no label hold applies."""
        can_override = not label_hold and not missing
        for a in _LIVER:
            c = cur[a]
            if c is None or (a == "bilirubin" and gilbert):
                continue
            factor = rules.BILIRUBIN_ULN_FACTOR if a == "bilirubin" else rules.TRANSAMINASE_ULN_FACTOR
            key, name = f"table3.conv.{a}", f"{_title(_LIVER_LABEL[a])} vs {_plain(factor)} × ULN"
            rule_ids = ("CONV-LAB-1",) if a == "bilirubin" else ("CONV-LAB-1", "CONV-LAB-3", "MOD-NH-5")
            rule_ids += ("CONV-LAB-4", "CONV-LAB-6")
            txt = (
                f"{_LIVER_LABEL[a]} {_plain(c.value)} {c.unit} = {_ratio_text(c.value, c.uln)} × ULN {_plain(c.uln)} "
                f"on {c.on.isoformat()}"
            )
            limit = factor * c.uln
            if c.value > limit:
                why = (
                    "a label hold also applies, so no override (CONV-LAB-6)"
                    if label_hold
                    else (
                        "another liver value is missing, so a label hold cannot be ruled out"
                        if missing
                        else "prescriber may override with a reason"
                    )
                )
                self.add(
                    key=key,
                    name=name,
                    result=R_HOLD,
                    value=txt,
                    date_used=c.on,
                    rule_ids=rule_ids,
                    action=f"Hold until {_LIVER_LABEL[a]} ≤ {_plain(limit)} {c.unit} "
                    f"(exactly at the limit counts as recovered); {why}.",
                    overridable_by=PRESCRIBER if can_override else None,
                    override_rule="CONV-LAB-1" if a == "bilirubin" else "CONV-LAB-3",
                    unverified_rule=None if a == "bilirubin" else "MOD-NH-5",
                )
            else:
                self.add(key=key, name=name, result=R_PASS, value=txt, date_used=c.on, rule_ids=rule_ids)

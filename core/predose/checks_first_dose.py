"""Premedication (PRE-1), cytoreduction (PRE-3), the first-dose gates (PRE-6, PRE-7, PRE-8, IND-2,
IND-5) and the ECG/electrolytes prompt after a QT-prolonging drug (PRE-6, WARN-QT-1)."""

from __future__ import annotations

from .. import rules
from ..clock import to_local  # shown in the site's zone (CONV-TIME-1)
from ..text import with_article
from .base import _Base
from .reading import _date, _dated, _dec, _fmt_date, _latest, _Window
from .results import PRESCRIBER, R_HOLD, R_MISSING, R_NEEDS, R_PASS, _plain


class FirstDoseChecks(_Base):
    # -- premedication ------------------------------------------------------------------------
    def premeds(self) -> None:
        start = self.ctx.infusion_start
        for cls in rules.PREMED_CLASSES:
            given = [p for p in self.rec.premeds if p.drug_class == cls]
            complete = [p for p in given if p.drug.strip() and p.dose.strip() and p.given_at is not None]
            ok = [p for p in complete if start is None or p.given_at <= start]
            key, name = f"premed.{cls}", f"Premedication: {cls}"
            if ok:
                p = ok[-1]
                self.add(
                    key=key,
                    name=name,
                    result=R_PASS,
                    value=f"{p.drug} {p.dose} at {to_local(p.given_at):%Y-%m-%d %H:%M %Z}",
                    rule_ids=("PRE-1",),
                )
                continue
            if complete:
                value = "given after the infusion start"
            elif given:
                value = "recorded without drug, dose or time"
            else:
                value = "not recorded"
            self.add(
                key=key,
                name=name,
                result=R_HOLD,
                value=value,
                rule_ids=("PRE-1",),
                action=f"Give and record {with_article(cls)} (drug, dose, time) before the start, "
                "or a prescriber records a reasoned omission.",
                overridable_by=PRESCRIBER,
                override_rule="PRE-1",
            )

    # -- cytoreduction (PRE-3) ----------------------------------------------------------------
    def cytoreduction(self) -> None:
        if not (self.ctx.cycle == 1 and self.ctx.day == 1):
            return
        recs = _dated(self.rec.blasts, "collected_on")
        w = _Window(None, self.ctx.planned_date, self.window.oldest if self.window else None)
        r = _latest(recs, "blasts_per_mm3", w)
        key, name, rule_ids = "pre3.blasts", "Peripheral blasts before C1 D1", ("PRE-3", "CONV-CALC-7")
        if r is None:
            self.add(
                key=key,
                name=name,
                result=R_MISSING,
                value="no absolute blast count on or before this dose",
                rule_ids=rule_ids,
                action="Enter the peripheral blast count (/mm³, or WBC and blast %).",
            )
            return
        v = _dec(r.data["blasts_per_mm3"])
        src = (
            f" (WBC {r.data.get('wbc')} × 10⁹/L × {r.data.get('blast_pct')}%)" if r.data.get("derived_from") == "wbc_pct" else ""
        )
        txt = f"{_plain(v)} /mm³{src} on {r.on.isoformat()}"
        if v > rules.CYTOREDUCTION_MAX_BLASTS_PER_MM3:
            self.add(
                key=key,
                name=name,
                result=R_HOLD,
                value=txt,
                date_used=r.on,
                rule_ids=rule_ids,
                action="Cytoreduce (hydroxyurea, steroids and/or vincristine) to "
                f"≤ {_plain(rules.CYTOREDUCTION_MAX_BLASTS_PER_MM3)} /mm³ before C1 D1; "
                "prescriber may override with a reason.",
                overridable_by=PRESCRIBER,
                override_rule="PRE-3",
            )
        else:
            self.add(key=key, name=name, result=R_PASS, value=txt, date_used=r.on, rule_ids=rule_ids)

    # -- first-dose gates ---------------------------------------------------------------------
    def first_dose_gates(self) -> None:
        if not self.ctx.first:
            return
        self._consent()
        # PRE-7 pregnancy status (UNVERIFIED: block until recorded; prescriber override).
        self._pregnancy()
        self._baseline_ecg()
        self._cd22()
        self._age()

    def _consent(self) -> None:
        """PRE-8 consent."""
        ctx = self.ctx
        c = self.rec.consent
        cdate = _date(c.get("consent_date")) if c else None
        if c is None or cdate is None:
            self.add(
                key="gate.consent",
                name="Consent",
                result=R_MISSING,
                value="not recorded",
                rule_ids=("PRE-8",),
                action="Record consent (who, when) before the first dose.",
            )
        elif c.get("consent") != "given":
            self.add(
                key="gate.consent",
                name="Consent",
                result=R_HOLD,
                value=f"{c.get('consent')} on {cdate.isoformat()}",
                date_used=cdate,
                rule_ids=("PRE-8",),
                action="No treatment without consent (no override).",
            )
        elif cdate > ctx.planned_date:
            self.add(
                key="gate.consent",
                name="Consent",
                result=R_MISSING,
                value=f"dated {cdate.isoformat()}, after this dose",
                date_used=cdate,
                rule_ids=("PRE-8",),
                action="Consent must be recorded before the first dose.",
            )
        else:
            self.add(
                key="gate.consent",
                name="Consent",
                result=R_PASS,
                value=f"given on {cdate.isoformat()}",
                date_used=cdate,
                rule_ids=("PRE-8",),
            )

    def _baseline_ecg(self) -> None:
        """PRE-6 ECG and electrolytes."""
        ctx, rec = self.ctx, self.rec
        ecg = max((d for d in rec.ecg_dates if d <= ctx.planned_date), default=None)
        lytes = max((d for d in rec.electrolytes_dates if d <= ctx.planned_date), default=None)
        txt = f"ECG {_fmt_date(ecg)}; electrolytes {_fmt_date(lytes)}"
        if ecg is None or lytes is None:
            self.add(
                key="gate.ecg",
                name="Baseline ECG and electrolytes",
                result=R_HOLD,
                value=txt,
                rule_ids=("PRE-6", "WARN-QT-1"),
                action="Record a baseline ECG and electrolytes before starting; prescriber may override with a reason.",
                overridable_by=PRESCRIBER,
                override_rule="PRE-6",
            )
        else:
            self.add(
                key="gate.ecg",
                name="Baseline ECG and electrolytes",
                result=R_PASS,
                value=txt,
                date_used=min(ecg, lytes),
                rule_ids=("PRE-6",),
            )

    def _cd22(self) -> None:
        """IND-5 CD22."""
        cd22 = (self.rec.diagnosis or {}).get("cd22")
        if cd22 == "positive":
            self.add(
                key="gate.cd22", name="CD22 positive", result=R_PASS, value="documented positive", rule_ids=("IND-5", "IND-1")
            )
        else:
            self.add(
                key="gate.cd22",
                name="CD22 positive",
                result=R_NEEDS,
                value=f"CD22 {cd22 or 'not recorded'}",
                rule_ids=("IND-5", "IND-1"),
                action="A prescriber confirms treatment without documented CD22 positivity, with a reason.",
                overridable_by=PRESCRIBER,
                override_rule="IND-5",
            )

    def _age(self) -> None:
        """IND-2 age ≥ 1 year at the planned first dose."""
        ctx = self.ctx
        if ctx.patient_age_years < rules.MIN_AGE_YEARS:
            self.add(
                key="gate.age",
                name=f"Age ≥ {rules.MIN_AGE_YEARS} year",
                result=R_HOLD,
                value=f"{ctx.patient_age_years} years at {ctx.planned_date.isoformat()}",
                rule_ids=("IND-2",),
                action="Under 1 year: safety and effectiveness not established; prescriber override only, with a reason.",
                overridable_by=PRESCRIBER,
                override_rule="IND-2",
            )
        else:
            self.add(
                key="gate.age",
                name=f"Age ≥ {rules.MIN_AGE_YEARS} year",
                result=R_PASS,
                value=f"{ctx.patient_age_years} years",
                rule_ids=("IND-2",),
            )

    def _pregnancy(self) -> None:
        rec = self.rec
        key, name, rule_ids = "gate.pregnancy", "Pregnancy status", ("PRE-7", "WARN-EFT-1")
        if rec.sex == "male":
            self.add(key=key, name=name, result=R_PASS, value="male: not applicable", rule_ids=rule_ids)
            return
        sex = rec.sex or "not recorded"
        r = rec.reproductive
        common = dict(
            key=key, name=name, rule_ids=rule_ids, unverified_rule="PRE-7", overridable_by=PRESCRIBER, override_rule="PRE-7"
        )
        if r is None or r.get("potential") not in ("yes", "no"):
            self.add(
                result=R_MISSING,
                value=f"sex {sex}; reproductive status not recorded",
                action="Record reproductive potential and, where it applies, a pregnancy test result and date "
                "(prescriber may override with a reason).",
                **common,
            )
            return
        if r.get("potential") == "no":
            self.add(
                key=key,
                name=name,
                result=R_PASS,
                value=f"sex {sex}; no reproductive potential",
                rule_ids=rule_ids,
                unverified_rule="PRE-7",
            )
            return
        self._pregnancy_test(r, common)

    def _pregnancy_test(self, r: dict, common: dict) -> None:
        """PRE-7: a female of reproductive potential needs a negative test on or before the dose."""
        ctx = self.ctx
        key, name, rule_ids = common["key"], common["name"], common["rule_ids"]
        test, tdate = r.get("pregnancy_test"), _date(r.get("test_date"))
        if test == "negative" and tdate is not None and tdate <= ctx.planned_date:
            self.add(
                key=key,
                name=name,
                result=R_PASS,
                value=f"pregnancy test negative on {tdate.isoformat()}",
                date_used=tdate,
                rule_ids=rule_ids,
                unverified_rule="PRE-7",
            )
        elif test == "positive":
            self.add(
                result=R_HOLD,
                value=f"pregnancy test POSITIVE on {_fmt_date(tdate)}",
                date_used=tdate,
                action="Embryo-fetal harm possible (WARN-EFT-1): prescriber decides, override only with a reason.",
                **common,
            )
        else:
            self.add(
                result=R_MISSING,
                value=f"reproductive potential; pregnancy test {test or 'not recorded'}"
                f"{' on ' + tdate.isoformat() if tdate else ''}",
                date_used=tdate,
                action="Record a pregnancy test result and date before the first dose (prescriber may override with a reason).",
                **common,
            )

    def qt_drug(self) -> None:
        """PRE-6: a newly recorded QT-prolonging drug prompts ECG and electrolytes."""
        started = self.rec.qt_drug_started_on
        if started is None:
            return
        ecg = max((d for d in self.rec.ecg_dates if started <= d <= self.ctx.planned_date), default=None)
        lytes = max((d for d in self.rec.electrolytes_dates if started <= d <= self.ctx.planned_date), default=None)
        txt = (
            f"QT-prolonging drug since {started.isoformat()}; ECG after it {_fmt_date(ecg)}, "
            f"electrolytes after it {_fmt_date(lytes)}"
        )
        if ecg is None or lytes is None:
            self.add(
                key="qt.recheck",
                name="ECG and electrolytes after a QT-prolonging drug",
                result=R_NEEDS,
                value=txt,
                date_used=started,
                rule_ids=("PRE-6", "WARN-QT-1"),
                action="Record an ECG and electrolytes taken since the drug started, or a prescriber confirms with a reason.",
                overridable_by=PRESCRIBER,
                override_rule="PRE-6",
            )
        else:
            self.add(
                key="qt.recheck",
                name="ECG and electrolytes after a QT-prolonging drug",
                result=R_PASS,
                value=txt,
                date_used=min(ecg, lytes),
                rule_ids=("PRE-6", "WARN-QT-1"),
            )

    # -- weight and height since the calculation (CONV-WT-1/2), low weight (CONV-BSA-5) ---------

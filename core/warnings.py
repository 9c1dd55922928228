"""Warnings that apply to this patient now, each with the reason it applies (label §5, §8; BOX-1).

Pure: the caller passes the patient's intake state and the dose dates it knows;
:func:`patient_warnings` reads them from the patient's projection (core/projection.py), once per view.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from attrs import frozen

from . import rules
from .clock import local_date  # the site's calendar date (CONV-TIME-1)
from .intake import Patient, age_years


@frozen
class Warning:
    id: str  # rule ID
    title: str
    reason: str  # why it applies to this patient now (values and dates)
    text: str  # the facts (label)
    action: str  # what to do


def add_months(d: date, months: int) -> date:
    """CONV-TIME-2: same day number N months later; if it does not exist, the 1st of the next month."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    try:
        return date(year, month, d.day)
    except ValueError:
        y2, m2 = divmod(month, 12)
        return date(year + y2, m2 + 1, 1)


def vod_risk_factors(p: Patient, today: date, cycles_given: int = 0) -> list[str]:
    """WARN-VOD-2: this patient's factors, with values and dates."""
    out: list[str] = []
    hsct = p.history("hsct")
    if hsct and hsct[-1].data.get("plan") == "planned":
        out.append(f"{rules.VOD_RISK_FACTORS['hsct_planned']} (recorded {local_date(hsct[-1].at)})")
    if p.dob and age_years(p.dob, today) > rules.OLDER_AGE_VOD_YEARS:
        out.append(f"{rules.VOD_RISK_FACTORS['older_age']}: {age_years(p.dob, today)} y (> {rules.OLDER_AGE_VOD_YEARS}, [SITE])")
    risks = p.history("vod_risk")
    if risks:
        for key, on in risks[-1].data.items():
            if on is True and key in rules.VOD_RISK_FACTORS:
                out.append(f"{rules.VOD_RISK_FACTORS[key]} (recorded {local_date(risks[-1].at)})")
    if cycles_given >= 2:
        out.append(f"{rules.VOD_RISK_FACTORS['many_cycles']}: {cycles_given} cycles given")
    return out


def applicable(
    p: Patient,
    today: date,
    *,
    first_dose: date | None = None,
    last_dose: date | None = None,
    cycles_given: int = 0,
    discontinued: bool = False,
    vod_review: str | None = None,
) -> list[Warning]:
    """``vod_review``: the next dose's MON-8 prompt from its pre-dose check (its values and dates)."""
    in_treatment = first_dose is not None and not discontinued
    out = _liver_warnings(p, today, first_dose, last_dose, cycles_given, in_treatment, vod_review)
    out += _hsct_warnings(p)
    out += _lab_warnings(p)
    if in_treatment:
        out.append(
            Warning(
                "WARN-IRR-1",
                "Infusion-related reactions",
                "On treatment: premedicate before every dose (PRE-1)",
                rules.WARN_FACTS["WARN-IRR-1"],
                "Monitor during and ≥ 1 h after each infusion (MON-1).",
            )
        )
    out += _reproductive_warnings(p, today, last_dose)
    return out


def _liver_warnings(
    p: Patient,
    today: date,
    first_dose: date | None,
    last_dose: date | None,
    cycles_given: int,
    in_treatment: bool,
    vod_review: str | None,
) -> list[Warning]:
    """BOX-1 always; VOD risk factors (WARN-VOD-2), the VOD watch (WARN-VOD-1), the MON-8 prompt."""
    out: list[Warning] = []
    title, _paras = rules.BOXED_WARNING
    out.append(
        Warning(
            "BOX-1",
            "Boxed warning: hepatotoxicity/VOD and post-HSCT mortality",
            "Always applies to BESPONSA.",
            title,
            "Read the full text (w). Stop permanently if VOD occurs (MOD-NH-1).",
        )
    )
    factors = vod_risk_factors(p, today, cycles_given)
    if factors:
        out.append(
            Warning(
                "WARN-VOD-2",
                "VOD risk factors present",
                "; ".join(factors),
                rules.WARN_FACTS["WARN-VOD-2"],
                "Weigh these at each pre-dose check; watch bilirubin, liver size, weight and ascites (MON-6).",
            )
        )
    out += _vod_watch(today, first_dose, last_dose, in_treatment, vod_review)
    return out


def _vod_watch(
    today: date, first_dose: date | None, last_dose: date | None, in_treatment: bool, vod_review: str | None
) -> list[Warning]:
    """The VOD watch on treatment and after the last dose (WARN-VOD-1), and the MON-8 prompt."""
    out: list[Warning] = []
    if in_treatment or (last_dose is not None and today <= last_dose + _days(rules.VOD_WATCH_DAYS_AFTER_LAST_DOSE)):
        until = f"; VOD watch until {last_dose + _days(rules.VOD_WATCH_DAYS_AFTER_LAST_DOSE)}" if last_dose else ""
        out.append(
            Warning(
                "WARN-VOD-1",
                "Hepatotoxicity and VOD",
                f"On treatment since {first_dose}{until}" if first_dose else f"Last dose {last_dose}{until}",
                rules.WARN_FACTS["WARN-VOD-1"],
                "Liver tests before and after each dose (PRE-5); look for MON-6 signs.",
            )
        )
    if vod_review:
        out.append(
            Warning(
                "MON-8",
                "VOD review prompted",
                vod_review,
                rules.WARN_FACTS["MON-6"],
                "Review for VOD now and tell the prescriber; a VOD diagnosis discontinues permanently (WARN-VOD-4, MOD-NH-1).",
            )
        )
    return out


def _hsct_warnings(p: Patient) -> list[Warning]:
    """A planned HSCT: non-relapse mortality (WARN-NRM-1) and the conditioning (WARN-VOD-3)."""
    out: list[Warning] = []
    hsct = p.current("hsct")
    if hsct and hsct.get("plan") == "planned":
        out.append(
            Warning(
                "WARN-NRM-1",
                "Post-HSCT non-relapse mortality",
                f"HSCT planned; HSCT path is {rules.HSCT_CYCLES} cycles (CYC-1)",
                rules.WARN_FACTS["WARN-NRM-1"],
                "After HSCT watch closely for VOD and infection (MON-7).",
            )
        )
        risks = p.current("vod_risk") or {}
        if risks.get("two_alkylator_conditioning") or risks.get("bilirubin_ge_uln_before_hsct"):
            why = (
                "two-alkylator conditioning planned"
                if risks.get("two_alkylator_conditioning")
                else "last bilirubin ≥ ULN before HSCT"
            )
            out.append(
                Warning(
                    "WARN-VOD-3",
                    "Avoid two-alkylator conditioning (UNVERIFIED wording)",
                    why,
                    rules.WARN_FACTS["WARN-VOD-3"],
                    "Discuss the conditioning plan with the transplant team (warning only).",
                )
            )
    return out


def _number(value: Any) -> Decimal | None:
    """A stored count, or None when it is absent or not a number."""
    try:
        d = Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return None
    return d if d is not None and d.is_finite() else None


def _lab_warnings(p: Patient) -> list[Warning]:
    """Myelosuppression (WARN-MYELO-1) and renal impairment (CONV-RENAL-1, warning only)."""
    out: list[Warning] = []
    # each count from the latest record that holds it (a laboratory's message may carry only some)
    latest = {
        k: next((e.data for e in reversed(p.history("labs")) if _number(e.data.get(k)) is not None), None)
        for k in ("anc", "platelets")
    }
    a, pl = latest["anc"], latest["platelets"]
    if a is not None or pl is not None:
        anc, plt = (_number(a["anc"]) if a else None), (_number(pl["platelets"]) if pl else None)
        low = (anc is not None and anc < rules.ANC_THRESHOLD) or (plt is not None and plt < rules.PLATELET_THRESHOLD)
        on = sorted({d["collected_on"] for d in (a, pl) if d is not None})
        if low:
            out.append(
                Warning(
                    "WARN-MYELO-1",
                    "Myelosuppression",
                    f"ANC {anc if anc is not None else '—'} ×10⁹/L, platelets {plt if plt is not None else '—'} ×10⁹/L"
                    f" on {' and '.join(on)}",
                    rules.WARN_FACTS["WARN-MYELO-1"],
                    "CBC before each dose (PRE-4); watch for infection and bleeding (MON-5).",
                )
            )
    with_crcl = [e.data for e in p.history("labs") if e.data.get("crcl") not in (None, "")]  # optional: a later panel may lack it
    if with_crcl:
        v = Decimal(str(with_crcl[-1]["crcl"]))
        on = with_crcl[-1]["collected_on"]
        if v < rules.RENAL_WARN_STRONG_CRCL_ML_MIN:
            out.append(
                Warning(
                    "CONV-RENAL-1",
                    "SEVERE renal impairment: no data below 15 mL/min",
                    f"CrCl {v} mL/min on {on}",
                    rules.WARN_FACTS["POP-REN-1"],
                    "No data (ESRD): the prescriber weighs each dose; watch closely. Warning only (CONV-RENAL-1).",
                )
            )
        elif v < rules.RENAL_WARN_CRCL_ML_MIN:
            out.append(
                Warning(
                    "CONV-RENAL-1",
                    "Severe renal impairment (CrCl < 30 mL/min)",
                    f"CrCl {v} mL/min on {on}",
                    rules.WARN_FACTS["POP-REN-1"],
                    'No dose change in the label; "not established" in a drug reference: '
                    "watch closely. Warning only (CONV-RENAL-1).",
                )
            )
    return out


def _reproductive_warnings(p: Patient, today: date, last_dose: date | None) -> list[Warning]:
    """Contraception (WARN-EFT-1, WARN-EFT-2, CONV-TIME-2) and breastfeeding (WARN-LACT-1)."""
    out: list[Warning] = []
    ident = p.identity
    repro = p.current("reproductive") or {}
    ref = last_dose or today
    if ident.get("sex") == "female" and repro.get("potential") == "yes":
        until = add_months(ref, rules.CONTRACEPTION_MONTHS_FEMALE)
        out.append(
            Warning(
                "WARN-EFT-1",
                "Embryo-fetal toxicity: contraception",
                f"Female of reproductive potential; {'last dose ' + str(last_dose) if last_dose else 'no dose yet'}",
                rules.WARN_FACTS["WARN-EFT-1"],
                f"Effective contraception until at least {until} (WARN-EFT-2, CONV-TIME-2).",
            )
        )
    elif ident.get("sex") == "male":
        until = add_months(ref, rules.CONTRACEPTION_MONTHS_MALE)
        out.append(
            Warning(
                "WARN-EFT-1",
                "Embryo-fetal toxicity: contraception (partners)",
                "Male patient: applies if he has a female partner of reproductive potential",
                rules.WARN_FACTS["WARN-EFT-1"],
                f"Effective contraception until at least {until} (WARN-EFT-2, CONV-TIME-2).",
            )
        )
    if repro.get("breastfeeding") == "yes":
        until = add_months(ref, rules.NO_BREASTFEEDING_MONTHS)
        out.append(
            Warning(
                "WARN-LACT-1",
                "No breastfeeding",
                "Recorded as breastfeeding",
                rules.WARN_FACTS["WARN-LACT-1"],
                f"No breastfeeding until at least {until}.",
            )
        )
    return out


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


def vod_review_prompt(view) -> str | None:
    """The next dose's MON-8 prompt, from its pre-dose check (None: no dose given yet, none due,
    or no prompt)."""
    from .predose.view import predose_verdict  # MON-8 is judged there, for the next dose

    tl = view.timeline
    nd = tl.next_dose
    if nd is None or tl.discontinued or tl.last_given is None:
        return None
    verdict = predose_verdict(view, nd.cycle, nd.day)
    return next((c.value for c in verdict.checks if c.key == "vod.review"), None)


def patient_warnings(view) -> list[Warning]:
    """The warnings that apply to the patient of ``view`` now (folded once per view)."""

    def build() -> list[Warning]:
        tl = view.timeline
        c1 = tl.dose(1, 1)
        return applicable(
            view.patient,
            view.today,
            first_dose=c1.given_on if c1 else None,
            last_dose=tl.last_given,
            cycles_given=tl.cycles_given,
            discontinued=tl.discontinued,
            vod_review=vod_review_prompt(view),
        )

    return view.memo("warnings", build)

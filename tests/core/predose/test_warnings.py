from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bedside.core import intake
from bedside.core.events import Event
from bedside.core.warnings import add_months, applicable


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (date(2025, 3, 3), 8, date(2025, 11, 3)),
        (date(2025, 6, 30), 8, date(2026, 3, 1)),  # 2026-02-30 does not exist → 1 March (CONV-TIME-2)
        (date(2025, 12, 31), 2, date(2026, 3, 1)),
        (date(2027, 6, 29), 8, date(2028, 2, 29)),  # leap year
        (date(2025, 10, 31), 5, date(2026, 3, 31)),
    ],
)
def test_months_after_the_last_dose(start, months, expected):
    assert add_months(start, months) == expected


def patient(**sections) -> intake.Patient:
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    evs = [("patient.registered", sections.pop("identity"))] + [(intake.SECTIONS[k].kind, v) for k, v in sections.items()]
    return intake.fold_patient("p", [Event(i + 1, "patient:p", i + 1, k, "u", t0, d, "", "") for i, (k, d) in enumerate(evs)])


def ids(ws):
    return [w.id for w in ws]


def test_female_of_reproductive_potential_gets_contraception_until_date():
    p = patient(
        identity={"name": "A", "dob": "1990-01-01", "mrn": "M1", "sex": "female"},
        reproductive={"potential": "yes", "pregnancy_test": "negative", "test_date": "2025-03-01", "breastfeeding": "yes"},
    )
    ws = applicable(p, date(2025, 7, 1), first_dose=date(2025, 3, 3), last_dose=date(2025, 6, 30))
    eft = next(w for w in ws if w.id == "WARN-EFT-1")
    assert "until at least 2026-03-01" in eft.action
    lact = next(w for w in ws if w.id == "WARN-LACT-1")
    assert "2025-08-30" in lact.action


def test_hsct_plan_brings_nrm_and_vod_factors_and_older_age():
    p = patient(
        identity={"name": "B", "dob": "1950-01-01", "mrn": "M2", "sex": "male"},
        hsct={"plan": "planned"},
        vod_risk={"two_alkylator_conditioning": True},
    )
    ws = applicable(p, date(2025, 3, 3))
    assert {"BOX-1", "WARN-VOD-2", "WARN-NRM-1", "WARN-VOD-3"} <= set(ids(ws))
    factors = next(w for w in ws if w.id == "WARN-VOD-2").reason
    assert "older age" in factors and "75 y" in factors and "HSCT planned" in factors


def test_low_counts_bring_the_myelosuppression_warning():
    p = patient(
        identity={"name": "C", "dob": "1980-01-01", "mrn": "M3", "sex": "other"},
        labs={
            "collected_on": "2025-03-02",
            "anc": "0.8",
            "platelets": "120",
            "platelet_transfusion": "no",
            "bilirubin_unit": "mg/dL",
            "bilirubin": "1",
            "bilirubin_uln": "1.2",
            "ast": "20",
            "ast_uln": "40",
            "alt": "20",
            "alt_uln": "40",
        },
    )
    assert "WARN-MYELO-1" in ids(applicable(p, date(2025, 3, 3)))


def test_vod_watch_lasts_56_days_after_the_last_dose():
    p = patient(identity={"name": "D", "dob": "1980-01-01", "mrn": "M4", "sex": "other"})
    assert "WARN-VOD-1" in ids(
        applicable(p, date(2025, 6, 25), first_dose=date(2025, 3, 3), last_dose=date(2025, 4, 30), discontinued=True)
    )
    assert "WARN-VOD-1" not in ids(
        applicable(p, date(2025, 6, 26), first_dose=date(2025, 3, 3), last_dose=date(2025, 4, 30), discontinued=True)
    )


def test_a_mon8_prompt_is_listed_with_its_values():
    p = patient(identity={"name": "E", "dob": "1980-01-01", "mrn": "M5", "sex": "other"})
    assert "MON-8" not in ids(applicable(p, date(2025, 3, 10), first_dose=date(2025, 3, 3), last_dose=date(2025, 3, 3)))
    ws = applicable(
        p,
        date(2025, 3, 10),
        first_dose=date(2025, 3, 3),
        last_dose=date(2025, 3, 3),
        vod_review="weight 74 kg on 2025-03-10, +5.71% over the pre-treatment 70 kg (> 5%)",
    )
    w = next(w for w in ws if w.id == "MON-8")
    assert "+5.71%" in w.reason and "ascites" in w.text and "prescriber" in w.action


@pytest.mark.parametrize(
    ("crcl", "title"),
    [("29.9", "Severe renal impairment"), ("14", "SEVERE renal impairment: no data"), ("30", None), (None, None)],
)
def test_renal_impairment_warns_below_30_and_strongly_below_15(crcl, title):
    labs = {
        "collected_on": "2025-03-02",
        "anc": "1.8",
        "platelets": "120",
        "platelet_transfusion": "no",
        "bilirubin_unit": "mg/dL",
        "bilirubin": "1",
        "bilirubin_uln": "1.2",
        "ast": "20",
        "ast_uln": "40",
        "alt": "20",
        "alt_uln": "40",
    }
    if crcl is not None:
        labs["crcl"] = crcl
    p = patient(identity={"name": "R", "dob": "1980-01-01", "mrn": "M6", "sex": "other"}, labs=labs)
    ws = [w for w in applicable(p, date(2025, 3, 3)) if w.id == "CONV-RENAL-1"]
    if title is None:
        assert not ws
    else:
        (w,) = ws
        assert w.title.startswith(title) and f"CrCl {crcl} mL/min on 2025-03-02" == w.reason and "Warning only" in w.action


def test_a_later_panel_without_crcl_keeps_the_renal_warning():
    base = {
        "anc": "1.8",
        "platelets": "120",
        "platelet_transfusion": "no",
        "bilirubin_unit": "mg/dL",
        "bilirubin": "1",
        "bilirubin_uln": "1.2",
        "ast": "20",
        "ast_uln": "40",
        "alt": "20",
        "alt_uln": "40",
    }
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    evs = [
        ("patient.registered", {"name": "S", "dob": "1980-01-01", "mrn": "M7", "sex": "other"}),
        (intake.SECTIONS["labs"].kind, {**base, "collected_on": "2025-03-01", "crcl": "12"}),
        (intake.SECTIONS["labs"].kind, {**base, "collected_on": "2025-03-02"}),
    ]
    p = intake.fold_patient("p", [Event(i + 1, "patient:p", i + 1, k, "u", t0, d, "", "") for i, (k, d) in enumerate(evs)])
    (w,) = [w for w in applicable(p, date(2025, 3, 3)) if w.id == "CONV-RENAL-1"]
    assert w.reason == "CrCl 12 mL/min on 2025-03-01" and w.title.startswith("SEVERE")

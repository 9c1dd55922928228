"""The regimen's level with a toxicity reduction (CONV-MOD-1, CONV-MOD-2), the reduction's
UNVERIFIED rules on a preparation, and a preparation as JSON (``bedside calc --json``)."""

from __future__ import annotations

from decimal import Decimal

from .. import rules
from .bsa import table1_level
from .preparation import Preparation

REDUCTIONS = ("none", "25", "two-doses")


def regimen_level(cycle: int, day: int, in_cr_or_cri: bool | None, reduction: str = "none") -> Decimal:
    """The level for a cycle/day: Table 1 (DOSE-1), cut by 25% per dose (CONV-MOD-1, MOD-INT-3),
    or the reduced levels on two doses per cycle, Day 15 dropped (CONV-MOD-2, MOD-INT-4)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}")
    base = table1_level(cycle, day, in_cr_or_cri)
    if reduction == "none":
        return base
    if cycle < 2:
        raise ValueError(
            "a reduction applies from cycle 2 on: it is made for the cycle after the interruption (MOD-INT-3, CONV-MOD-4)"
        )
    if reduction == "two-doses" and day == 15:
        raise ValueError("with two doses per cycle only Days 1 and 8 are given (CONV-MOD-2)")
    return rules.REDUCED_LEVEL[base]


#: A reduction's UNVERIFIED Table 4 rows (MOD-INT-1 to 6: proposals a prescriber confirms) and the
#: conventions that split the cut over the doses.
REDUCTION_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "none": ((), ()),
    "25": (("MOD-INT-3",), ("CONV-MOD-1",)),
    "two-doses": (("MOD-INT-3", "MOD-INT-4"), ("CONV-MOD-1", "CONV-MOD-2")),
}


def with_reduction(prep: Preparation, reduction: str) -> Preparation:
    """Mark a preparation at a reduced level as resting on UNVERIFIED rules that a prescriber must
    confirm in the app (MOD-INT-3/4; split by CONV-MOD-1/2). "none" leaves it as it is."""
    from attrs import evolve

    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}")
    unverified, conventions = REDUCTION_RULES[reduction]
    if not unverified:
        return prep
    note = (
        unverified[-1],
        f"reduced level from Table 4 ({', '.join(unverified)}, UNVERIFIED; split by "
        f"{', '.join(conventions)}): a proposal until a prescriber confirms it in the app (timeline, d); "
        "a calculation alone never authorises it",
    )
    return evolve(
        prep,
        notes=(*prep.notes, note),
        unverified_rules=tuple(dict.fromkeys((*prep.unverified_rules, *unverified))),
        confirmations=(*prep.confirmations, *((i, "prescriber") for i in unverified)),
    )


def to_json(prep: Preparation) -> str:
    """One JSON object; decimal quantities are JSON numbers written exactly as shown (no float)."""
    import json
    import re

    marker = "\u0000DEC:"
    numeric = {
        "height_cm",
        "weight_kg",
        "bsa_m2",
        "dose_mg_per_m2",
        "dose_mg",
        "reconstitution_ml_per_vial",
        "concentration_mg_per_ml",
        "withdraw_ml",
        "bag_concentration_mg_per_ml",
        "final_volume_ml",
        "diluent_ml",
        "final_concentration_mg_per_ml",
        "rate_ml_per_h",
        "waste_mg",
        "waste_ml",
    }
    data = prep.as_dict()
    for k in numeric & data.keys():
        if isinstance(data[k], str):
            data[k] = marker + data[k]
    data["withdraw_plan_ml"] = [marker + v for v in data.get("withdraw_plan_ml", [])]
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return re.sub(r'"\\u0000DEC:(-?[0-9.]+)"', r"\1", text)

"""The diagnosis as a Condition (IND-1, IND-4): relapsed or refractory B-ALL with its CD22 status."""

from __future__ import annotations

from typing import Any

from .context import Context
from .values import (
    CLINICAL_STATUS,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DISEASE_TEXT,
    instant,
    resource_id,
    text,
)


def condition(ctx: Context) -> dict[str, Any] | None:
    """The latest diagnosis form as a Condition (None before one is recorded). The disease and the
    CD22 status travel as text, as recorded: the reference gives no code for them, and none is made up."""
    history = ctx.p.history("diagnosis")
    if not history:
        return None
    entry = history[-1]
    d = entry.data
    status = text(d.get("disease_status"))
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": resource_id(ctx.stream, entry.version, "condition"),
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed", "display": "Confirmed"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item", "display": "Problem List Item"}]}],
        "code": {"text": f"{DISEASE_TEXT}, {status}" if status else DISEASE_TEXT},
        "subject": ctx.subject,
        "recordedDate": instant(entry.at),
        "recorder": ctx.person(entry.actor),
    }
    if status in CLINICAL_STATUS:
        code, display = CLINICAL_STATUS[status]
        res["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": code, "display": display}]}
    if d.get("cd22"):
        res["note"] = [{"text": f"CD22: {text(d.get('cd22'))}"}]
    return res

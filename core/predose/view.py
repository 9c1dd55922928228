"""What the pre-dose screen and the decisions read from a patient's projection
(:class:`bedside.core.projection.PatientView`): each dose's verdict, folded once per view."""

from __future__ import annotations

from typing import Any

from .records import verdict
from .results import Check, Verdict


def predose_verdict(view: Any, cycle: int, day: int) -> Verdict:
    """The verdict of one dose (ValueError: the dose is not on the timeline)."""
    return view.memo(
        ("predose.verdict", cycle, day),
        lambda: verdict(view.patient, view.events, view.timeline, cycle, day, view.today, view.roles()),
    )


def overridable(c: Check | None) -> bool:
    """Whether a check may be overridden or confirmed at all (CONV-OVR-1, §16.1)."""
    return c is not None and c.overridable_by is not None and c.result not in ("pass", "info")

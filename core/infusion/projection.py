"""The monitor's reading of a patient's projection (core/projection.py's PatientView, issue 16).

A dose's events are folded once per view (``view.memo``): a new view comes only with new events,
so the per-second timers (MON-2, MON-3) are derived from the folded facts and the clock, never
refolded per key or per tick. Used by the monitor screen, the active-infusions board and the
monitor's decisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .fold import Folded, dose_ids, fold_dose, monitor
from .model import MonitorSettings, MonitorState

#: Every recorded fact counts when a view's dose is folded (a later clock only advances the timers).
_ALL_RECORDED = datetime(9000, 1, 1, tzinfo=UTC)

__all__ = ["active_doses", "monitor_at", "monitor_dose_ids", "monitor_facts"]


def monitor_facts(view: Any, dose_id: str, settings: MonitorSettings = MonitorSettings()) -> Folded:
    """Dose ``dose_id``'s events folded once for this view (and these settings)."""
    return view.memo(("infusion.monitor", dose_id, settings), lambda: fold_dose(view.events, dose_id, _ALL_RECORDED, settings))


def monitor_at(view: Any, dose_id: str, now: datetime, settings: MonitorSettings = MonitorSettings()) -> MonitorState:
    """The monitor state at ``now``, the same as ``infusion.monitor(view.events, dose_id, now, settings)``:
    the folded facts advanced to the clock (a fact recorded for a time later than ``now`` is rare —
    a mistyped time — and then the dose is folded at ``now`` so that it is listed as a problem)."""
    facts = monitor_facts(view, dose_id, settings)
    if facts.latest is not None and facts.latest > now:
        return monitor(view.events, dose_id, now, settings)
    return facts.at(now)


def monitor_dose_ids(view: Any) -> list[str]:
    """The doses of this view with an ``infusion.started`` event, in log order."""
    return view.memo("infusion.dose_ids", lambda: dose_ids(view.events))


def active_doses(
    views: Iterable[Any], now: datetime, settings: MonitorSettings = MonitorSettings()
) -> list[tuple[str, str, MonitorState]]:
    """The active-infusions board from the patients' views: as ``infusion.active_infusions``
    (INFUSING, PAUSED, OBSERVING, and STOPPED still observed), soonest phase end first."""
    out: list[tuple[str, str, MonitorState]] = []
    for view in views:
        for dose in monitor_dose_ids(view):
            st = monitor_at(view, dose, now, settings)
            if st.active:
                out.append((view.pid, dose, st))
    far = datetime.max.replace(tzinfo=UTC)
    out.sort(key=lambda item: (item[2].phase_ends_at or far, item[0], item[1]))
    return out

"""The start gate: what must be true before an infusion may start (issue 7, issue 15).

Pure: the patient's record and the clock in, the blockers (each with its rule IDs) out. The
:class:`~bedside.core.infusion.commands.StartInfusion` decision runs it on the record as it
stands when the command is decided (so two terminals cannot both start a dose); the screens
ask that decision (a dry run) rather than this module. No store, no ledger imported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from attrs import frozen

from .. import preparation as prep
from ..clock import to_local
from ..events import Event
from ..preparation import baglabel
from .model import dose_label

if TYPE_CHECKING:
    from ..intake import Patient


SYRINGE_NOT_SET = (
    "Syringe route: a pharmacist must record the set, priming and flush volume (PREP-9, UNVERIFIED; Preparation, s)."
)


@frozen
class StartGate:
    blockers: tuple[str, ...]
    route: str = "bag"
    flush_min: int = 0
    stability_deadline: datetime | None = None
    given: dict | None = None  # the dose.given data to record with the start (schedule.check_give)
    label_deadline: datetime | None = None  # the earliest label (L) limit: no resume reaches past it (STAB-2)


def _dose_key(dose_id: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"c(\d+)d(\d+)", dose_id or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def prep_state(ledger: Any, pid: str, dose_id: str) -> prep.PrepState:
    p = ledger.patient(pid)
    return prep.fold(ledger.stream_events(p.stream), dose_id)


def start_gate(ledger: Any, pid: str, dose_id: str) -> StartGate:
    """Issue 7: only a verified, prepared dose that passed its pre-dose check may start (``ledger``:
    anything with the ledger's reading methods; the engines never import the ledger)."""
    p = ledger.patient(pid)
    return gate(
        p, ledger.stream_events(p.stream), dose_id, ledger.clock.now(), ledger.today(), ledger.roles(), ledger.site().bsa_formula
    )


def gate(
    p: Patient,
    events: Sequence[Event],
    dose_id: str,
    now: datetime,
    today: date,
    roles: Mapping[str, str],
    bsa_formula: str,
    tl: Any = None,
) -> StartGate:
    """The start gate as a pure function of the patient's record and the clock (issue 15): first the
    one answer to "may this dose be given now" (eligibility.may_give, every reason with its rule
    IDs), then the pre-dose verdict (which carries the same reasons), then the bag. ``tl``: the
    timeline of the same events, date and roles, when the caller has it (a PatientView's)."""
    from ..eligibility import DISCONTINUE, may_give
    from ..predose import verdict as predose_verdict
    from ..schedule import timeline

    st = prep.fold(events, dose_id)
    if tl is None:
        tl = timeline(events, today, roles)
    el = may_give(events, dose_id, now, today, roles, tl)
    blockers: list[str] = [f"{r.text} [{', '.join(r.rule_ids)}] Next: {r.next_step}" for r in el.reasons]
    key = _dose_key(dose_id)
    dose = tl.dose(*key) if key else None
    if dose is None or el.verdict == DISCONTINUE:
        if el.verdict == DISCONTINUE:
            blockers.insert(0, f"{DISCONTINUE}: no further dose can be given.")
        return StartGate(tuple(blockers) or (f"{dose_label(dose_id)} is not on the timeline [SCHED-6].",))
    cycle, day = key  # type: ignore[misc]
    level = dose.level
    verdict = predose_verdict(p, events, tl, cycle, day, today, dict(roles))
    if verdict.overall != "PROCEED":
        deciding = [c.name for c in verdict.checks if c.blocking][:4]
        blockers.append(f"Pre-dose check is {verdict.overall}: " + "; ".join(deciding))
    if st.calculation is None:
        return StartGate((*blockers, "Not prepared: no calculation for this dose (Preparation, c)."))
    blockers += _bag_blockers(st, p, bsa_formula, level)
    deadline, label_deadline, late = _deadline_blockers(st, now)
    blockers += late
    route = st.calculation.data.get("route", "bag")
    if route == "syringe" and st.syringe is None:
        blockers.append(SYRINGE_NOT_SET)
    given = _given(tl, cycle, day, today, st, blockers if not el.reasons else None)
    return StartGate(tuple(blockers), route, st.flush_min, deadline, given, label_deadline)


def _bag_blockers(st: prep.PrepState, p: Patient, bsa_formula: str, level: Any) -> list[str]:
    """The bag: calculated on today's inputs, verified, diluted, out of the refrigerator."""
    blockers: list[str] = []
    stale = prep.stale_reasons(st, p.current("measurement"), bsa_formula, level)
    if stale:
        blockers.append(
            "Inputs changed since the calculation: " + "; ".join(stale) + " — recalculate and re-verify (CONV-VERIFY-1)."
        )
    if not st.verified:
        blockers.append("Not verified: " + prep.status_words(st))
    recalculated = baglabel.recalculated_since(st)
    if recalculated:
        blockers.append(recalculated)
    if st.step_at("diluted") is None:
        blockers.append("Not prepared: the dilution is not recorded (Preparation, d).")
    if st.in_refrigerator():
        blockers.append("The bag is in the refrigerator: take it out and let it equilibrate (STAB-5).")
    return blockers


def _deadline_blockers(st: prep.PrepState, now: datetime) -> tuple[datetime | None, datetime | None, list[str]]:
    """The bag's infusion-end deadline, its earliest label limit, and why it cannot start now."""
    dl = st.deadlines(now)
    if dl is None:
        return None, None, []
    blockers = [f"{text} [{rule}]" for rule, text in dl.problems]
    # Issue 15: the bag cannot be given within its limits (the latest start passed, or falls
    # before the end of equilibration): the same words the preparation shows (CONV-STAB-1/3, STAB-5).
    blockers += [f"{text} [{rule}]" for rule, text in st.cannot_give(now)]
    # No override, the STAB-5 early start included, reaches past a label (L) limit (STAB-2).
    label = dl.label_limit
    if now + timedelta(minutes=dl.planned_min) > label.at:
        blockers.append(
            f"Starting now the infusion would end after {to_local(label.at):%H:%M %Z} ({label.rule_id}, "
            "label limit, no override): discard and prepare again (CONV-STAB-3)."
        )
    if dl.earliest_start and now < dl.earliest_start and st.override("STAB-5") is None:
        blockers.append(
            f"Equilibrating: start no earlier than {to_local(dl.earliest_start):%H:%M %Z} "
            "(STAB-5; a pharmacist may confirm an earlier start: Preparation, O)."
        )
    return dl.end_deadline, dl.label_limit.at, blockers


def _given(tl: Any, cycle: int, day: int, today: date, st: prep.PrepState, blockers: list[str] | None) -> dict | None:
    """The dose.given data to record with the start (schedule.check_give, with this calculation's
    level and dose); its refusal is added to ``blockers`` (None: may_give already named why)."""
    from ..schedule import check_give

    try:
        return check_give(tl, cycle, day, today, st.calculation.data["level_mg_m2"], st.calculation.data["dose_mg"])
    except ValueError as exc:
        if blockers is not None:  # a refusal may_give did not already name (the level of this calculation)
            blockers.append(f"Schedule: {exc}")
        return None

"""Gates between the jobs: what must be true before an infusion may start.

These functions read the ledger's state and return decisions; they never write.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

from . import preparation as prep
from .clock import to_local
from .service import Ledger


@frozen
class StartGate:
    blockers: tuple[str, ...]
    route: str = "bag"
    flush_min: int = 0
    stability_deadline: datetime | None = None
    given: dict | None = None  # the dose.given data to record with the start (schedule.check_give)
    label_deadline: datetime | None = None  # the earliest label (L) limit: no resume reaches past it (STAB-2)


def prep_state(ledger: Ledger, pid: str, dose_id: str) -> prep.PrepState:
    p = ledger.patient(pid)
    return prep.fold(ledger.stream_events(p.stream), dose_id)


def start_gate(ledger: Ledger, pid: str, dose_id: str) -> StartGate:
    """Issue 7: only a verified, prepared dose that passed its pre-dose check may start."""
    p = ledger.patient(pid)
    now = ledger.clock.now()
    st = prep_state(ledger, pid, dose_id)
    blockers: list[str] = []
    cycle, day = (int(x) for x in dose_id[1:].split("d"))
    tl = ledger.timeline(pid)
    dose = tl.dose(cycle, day)
    if tl.discontinued:
        return StartGate((f"Treatment discontinued ({tl.discontinued_reason}): no dose can be given.",))
    if dose is None:
        return StartGate((f"C{cycle} D{day} is not on the timeline.",))
    level = dose.level
    verdict = ledger.predose_verdict(pid, cycle, day)
    if verdict.overall != "PROCEED":
        deciding = [c.name for c in verdict.checks if c.blocking][:4]
        blockers.append(f"Pre-dose check is {verdict.overall}: " + "; ".join(deciding))
    if st.calculation is None:
        return StartGate(tuple(blockers) + ("Not prepared: no calculation for this dose (Preparation, c).",))
    stale = prep.stale_reasons(st, p.current("measurement"), ledger.site().bsa_formula, level)
    if stale:
        blockers.append("Inputs changed since the calculation: " + "; ".join(stale) + " — recalculate and re-verify (CONV-VERIFY-1).")
    if not st.verified:
        blockers.append("Not verified: " + prep.status_words(st))
    if st.step_at("diluted") is None:
        blockers.append("Not prepared: the dilution is not recorded (Preparation, d).")
    if st.in_refrigerator():
        blockers.append("The bag is in the refrigerator: take it out and let it equilibrate (STAB-5).")
    dl = st.deadlines(now)
    deadline = label_deadline = None
    if dl is not None:
        deadline = dl.end_deadline
        label_deadline = dl.label_limit.at
        for rule, text in dl.problems:
            blockers.append(f"{text} [{rule}]")
        # Issue 15: the bag cannot be given within its limits (the latest start passed, or falls
        # before the end of equilibration): the same words the preparation shows (CONV-STAB-1/3, STAB-5).
        for rule, text in st.cannot_give(now):
            blockers.append(f"{text} [{rule}]")
        # No override, the STAB-5 early start included, reaches past a label (L) limit (STAB-2).
        label = dl.label_limit
        if now + timedelta(minutes=dl.planned_min) > label.at:
            blockers.append(f"Starting now the infusion would end after {to_local(label.at):%H:%M %Z} ({label.rule_id}, "
                            "label limit, no override): discard and prepare again (CONV-STAB-3).")
        if dl.earliest_start and now < dl.earliest_start and st.override("STAB-5") is None:
            blockers.append(f"Equilibrating: start no earlier than {to_local(dl.earliest_start):%H:%M %Z} (STAB-5; a pharmacist may confirm an earlier start: Preparation, O).")
    route = st.calculation.data.get("route", "bag")
    if route == "syringe" and st.syringe is None:
        blockers.append("Syringe route: a pharmacist must record the set, priming and flush volume (PREP-9, UNVERIFIED; Preparation, s).")
    given = None
    try:
        from .schedule import check_give

        given = check_give(tl, cycle, day, ledger.today(), st.calculation.data["level_mg_m2"], st.calculation.data["dose_mg"])
    except ValueError as exc:
        blockers.append(f"Schedule: {exc}")
    return StartGate(tuple(blockers), route, st.flush_min, deadline, given, label_deadline)

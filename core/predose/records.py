"""The assembly of a dose's context and the patient's records from their events, for the engine,
and the verdict of one dose (the one answer of core/eligibility.py merged in, issue 15)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from .. import infusion as inf
from .. import preparation as prep
from .. import schedule as sch
from ..events import Event, parse_utc
from ..intake import Patient, age_years
from . import events as pe
from .builder import evaluate
from .inputs import (
    BilirubinCause,
    Discontinuation,
    DoseContext,
    IdentityConfirmation,
    ObservationDeviation,
    Override,
    PatientRecords,
    Premed,
    Toxicity,
)
from .results import DISCONTINUE, R_DISCONTINUE, R_HOLD, Check, Verdict, overall_of


def _dose_context(p: Patient, tl: sch.Timeline, cycle: int, day: int, today: date, events: Sequence[Event]) -> DoseContext:
    dose = tl.dose(cycle, day)
    if dose is None:
        raise ValueError(f"C{cycle} D{day} is not on the timeline.")
    c1 = tl.dose(1, 1)
    prior = tl.dose(cycle - 1, 1) if cycle > 1 else None
    st = prep.fold(events, prep.dose_id(cycle, day))
    calc = st.calculation.data if st.calculation else {}
    return DoseContext(
        cycle=cycle,
        day=day,
        planned_date=dose.planned,
        is_first_dose=(cycle, day) == (1, 1),
        previous_dose_date=_previous_given(tl, cycle, day),
        prior_cycle_day1_date=prior.given_on if prior else None,
        first_dose_date=c1.given_on if c1 else None,
        weight_used_kg=Decimal(calc["weight_kg"]) if calc else None,
        height_used_cm=Decimal(calc["height_cm"]) if calc else None,
        patient_age_years=age_years(p.dob, today) if p.dob else 0,
        held_since=dose.held_from if day == 1 else None,
    )


def _previous_given(tl: sch.Timeline, cycle: int, day: int) -> date | None:
    given = sorted(d.given_on for d in tl.doses() if d.given_on and (d.cycle, d.day) != (cycle, day))
    return given[-1] if given else None


def _monitor_toxicities(tl: sch.Timeline) -> dict[int, Toxicity]:
    """MOD-NH-3, CONV-IRR-1: a severe reaction recorded on the monitor is a toxicity of the record
    like one entered here (keys below 0 never meet an event's version)."""
    tox: dict[int, Toxicity] = {}
    for i, r in enumerate(tl.severe_reactions):  # the timeline read them, with the same roles
        anaphylaxis = r.grade == inf.rules.IRR_ANAPHYLAXIS
        tox[-1 - i] = Toxicity(
            term="Anaphylaxis" if anaphylaxis else "Infusion related reaction",
            grade=inf.rules.IRR_SEVERE_GRADE if anaphylaxis else int(r.grade),
            onset=r.at.date(),
            attribution=f"monitor: {r.label}",
        )
    return tox


class _Reader:
    """The pre-dose facts of a patient's events, read in order (the latest of each one stands)."""

    def __init__(self, cycle: int, day: int, users_roles: dict[str, str], tox: dict[int, Toxicity]):
        self.cycle, self.day, self.roles, self.tox = cycle, day, users_roles, tox
        self.premeds: list[Premed] = []
        self.ecg: list[date] = []
        self.lytes: list[date] = []
        self.overrides: list[Override] = []
        self.identity: IdentityConfirmation | None = None
        self.checklist: bool | None = None
        self.qt: date | None = None
        self.cause: BilirubinCause | None = None

    def read(self, ev: Event) -> None:
        kind = ev.kind
        if kind in (pe.TOX_RECORDED, pe.TOX_RESOLVED):
            self._toxicity(ev)
        elif kind == pe.ECG:
            self.ecg.append(date.fromisoformat(ev.payload.date))
        elif kind == pe.ELECTROLYTES:
            self.lytes.append(date.fromisoformat(ev.payload.date))
        elif kind == pe.QT_DRUG:
            self.qt = date.fromisoformat(ev.payload.started_on)
        elif kind == pe.BILI_CAUSE:
            self.cause = BilirubinCause(
                cause=ev.payload.cause, recorded_by=ev.actor, confirmed_by=ev.actor, confirmed_role=self.roles.get(ev.actor)
            )
        elif kind in pe.DOSE_KINDS and ev.data.get("cycle") == self.cycle and ev.data.get("day") == self.day:
            self._dose_event(ev)

    def _toxicity(self, ev: Event) -> None:
        d = ev.payload
        if isinstance(d, pe.ToxicityRecorded):
            self.tox[ev.version] = Toxicity(
                term=d.term,
                grade=int(d.grade),
                onset=date.fromisoformat(d.onset),
                attribution=d.attribution,
                hematologic=bool(d.hematologic),
            )
        elif d.toxicity in self.tox:
            t = self.tox[d.toxicity]
            self.tox[d.toxicity] = Toxicity(
                term=t.term,
                grade=t.grade,
                onset=t.onset,
                resolved=date.fromisoformat(d.resolved),
                attribution=t.attribution,
                hematologic=t.hematologic,
            )

    def _dose_event(self, ev: Event) -> None:
        d = ev.payload
        if isinstance(d, pe.IdentityConfirmed):
            method, stated = pe.split_method(d.method)
            self.identity = IdentityConfirmation(
                user=ev.actor,
                method=method,
                stated=stated,
                name=d.name,
                dob=date.fromisoformat(d.dob) if d.dob else None,
                mrn=d.mrn,
                wristband=d.wristband,
            )
        elif isinstance(d, pe.PremedGiven):
            self.premeds.append(Premed(drug_class=d.drug_class, drug=d.drug, dose=d.dose, given_at=parse_utc(d.given_at)))
        elif isinstance(d, pe.ChecklistRecorded):
            self.checklist = bool(d.emergency_ready)
        elif isinstance(d, pe.OverrideRecorded):
            self.overrides.append(
                Override(
                    rule_id=d.rule_id,
                    role=self.roles.get(ev.actor, "?"),
                    user=ev.actor,
                    reason=d.reason,
                    cycle=self.cycle,
                    day=self.day,
                    check=d.check,
                    decision=d.decision,
                    at=ev.at,
                )
            )


def _previous_deviation(events: Sequence[Event], tl: sch.Timeline, previous: date | None) -> ObservationDeviation | None:
    """MON-2: the patient left before observation ended at the previous dose."""
    if previous is None:
        return None
    prev = next((x for x in tl.doses() if x.given_on == previous), None)
    if prev is None:
        return None
    mon = inf.monitor(events, prep.dose_id(prev.cycle, prev.day), max(ev.at for ev in events))
    dev = next((x for x in mon.deviations if x.kind == "observation_incomplete"), None)
    return ObservationDeviation(user=dev.who, at=dev.at, reason=dev.reason) if dev else None


def _intake(p: Patient) -> dict[str, Any]:
    return dict(
        labs=tuple({**e.data, "version": e.version} for e in p.history("labs")),
        blasts=tuple({**e.data, "version": e.version} for e in p.history("blasts")),
        measurements=tuple({**e.data, "version": e.version} for e in p.history("measurement")),
        reproductive=p.current("reproductive"),
        consent=p.current("consent"),
        diagnosis=p.current("diagnosis"),
        name=p.name,
        mrn=p.mrn,
        wristband=p.wristband or None,
        sex=p.identity.get("sex"),
        dob=p.dob,
    )


def context_and_records(
    p: Patient, events: Sequence[Event], tl: sch.Timeline, cycle: int, day: int, today: date, users_roles: dict[str, str]
) -> tuple[DoseContext, PatientRecords]:
    ctx = _dose_context(p, tl, cycle, day, today, events)
    r = _Reader(cycle, day, users_roles, _monitor_toxicities(tl))
    for ev in events:
        r.read(ev)
    discs = []
    if tl.discontinued:
        discs.append(
            Discontinuation(
                rule_id="SCHED", user="", role="prescriber", reason=tl.discontinued_reason or "", on=tl.discontinued_on or today
            )
        )
    recs = PatientRecords(
        **_intake(p),
        toxicities=tuple(r.tox.values()),
        premeds=tuple(r.premeds),
        identity_check=r.identity,
        ecg_dates=tuple(r.ecg),
        electrolytes_dates=tuple(r.lytes),
        qt_drug_started_on=r.qt,
        bilirubin_cause=r.cause,
        overrides=tuple(r.overrides),
        discontinuations=tuple(discs),
        observation_incomplete=_previous_deviation(events, tl, ctx.previous_dose_date),
        emergency_ready=r.checklist,
    )
    return ctx, recs


def verdict(
    p: Patient, events: Sequence[Event], tl: sch.Timeline, cycle: int, day: int, today: date, users_roles: dict[str, str]
) -> Verdict:
    ctx, recs = context_and_records(p, events, tl, cycle, day, today, users_roles)
    v = evaluate(ctx, recs, today)
    # Issue 15: the one answer to "may this dose be given now" (core/eligibility.py) is part of the
    # verdict, so the pre-dose check can never say PROCEED where the timeline or the gate says no.
    from ..eligibility import DISCONTINUE as EL_DISCONTINUE
    from ..eligibility import may_give

    dose = tl.dose(cycle, day)
    if dose is not None and dose.state == sch.GIVEN:
        return v  # the check as it stood before the dose; the timeline shows it given
    now = max((ev.at for ev in events), default=None)
    el = may_give(events, prep.dose_id(cycle, day), now, today, users_roles, tl)  # type: ignore[arg-type]
    extra = []
    for i, r in enumerate(el.reasons):
        if r.kind == EL_DISCONTINUE and v.overall == DISCONTINUE:
            continue  # already a check of its own (the severe reaction, the discontinuation record)
        extra.append(
            Check(
                key=f"eligibility.{i}",
                name="May this dose be given now",
                value=r.text,
                result=R_DISCONTINUE if r.kind == EL_DISCONTINUE else R_HOLD,
                rule_ids=r.rule_ids,
                action=r.next_step,
            )
        )
    if not extra:
        return v
    checks = (*v.checks, *extra)
    return Verdict(overall_of(checks), checks)

"""Pre-dose records as events, and the assembly of a dose's context for :mod:`predose`.

Event kinds (patient stream):

- ``predose.identity`` {cycle, day, method "typed"|"scanned", name, dob, mrn}: identifiers
  confirmed at this dose (typed or scanned; compared by the engine with the stored ones).
- ``predose.premed`` {cycle, day, drug_class, drug, dose, given_at (ISO UTC)} (PRE-1).
- ``predose.checklist`` {cycle, day, emergency_ready: bool} (PRE-10; never blocks).
- ``predose.override`` {cycle, day, rule_id, check|None, reason, role, decision}: an override or
  confirmation by the actor (CONV-OVR-1); the engine decides whether it applies.
- ``predose.verdict`` {cycle, day, overall, deciding: [check keys]}: the verdict as it stood when a
  user recorded it before the infusion.
- ``toxicity.recorded`` {term, grade, onset, attribution, hematologic} and
  ``toxicity.resolved`` {toxicity (the version), resolved} (MOD-NH-4, MOD-NH-6; CTCAE v5).
- ``test.ecg`` {date}, ``test.electrolytes`` {date}, ``qt_drug.recorded`` {drug, started_on} (PRE-6).
- ``bilirubin.cause`` {cause "gilbert"|"hemolysis"}: by a prescriber (CONV-LAB-2).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from . import infusion as inf
from . import predose as pd
from . import preparation as prep
from . import schedule as sch
from .events import Event, parse_utc
from .intake import Patient, age_years

IDENTITY = "predose.identity"
PREMED = "predose.premed"
CHECKLIST = "predose.checklist"
OVERRIDE = "predose.override"
VERDICT = "predose.verdict"
TOX_RECORDED = "toxicity.recorded"
TOX_RESOLVED = "toxicity.resolved"
ECG = "test.ecg"
ELECTROLYTES = "test.electrolytes"
QT_DRUG = "qt_drug.recorded"
BILI_CAUSE = "bilirubin.cause"


def _for(ev: Event, cycle: int, day: int) -> bool:
    return ev.data.get("cycle") == cycle and ev.data.get("day") == day


def context_and_records(p: Patient, events: Sequence[Event], tl: sch.Timeline, cycle: int, day: int, today: date,
                        users_roles: dict[str, str]) -> tuple[pd.DoseContext, pd.PatientRecords]:
    dose = tl.dose(cycle, day)
    if dose is None:
        raise ValueError(f"C{cycle} D{day} is not on the timeline.")
    c1 = tl.dose(1, 1)
    first = c1.given_on if c1 else None
    prior = tl.dose(cycle - 1, 1) if cycle > 1 else None
    given = sorted(d.given_on for d in tl.doses() if d.given_on and (d.cycle, d.day) != (cycle, day))
    previous = given[-1] if given else None
    st = prep.fold(events, prep.dose_id(cycle, day))
    calc = st.calculation.data if st.calculation else {}
    ctx = pd.DoseContext(
        cycle=cycle, day=day, planned_date=dose.planned, is_first_dose=(cycle, day) == (1, 1),
        previous_dose_date=previous, prior_cycle_day1_date=prior.given_on if prior else None, first_dose_date=first,
        weight_used_kg=Decimal(calc["weight_kg"]) if calc else None, height_used_cm=Decimal(calc["height_cm"]) if calc else None,
        patient_age_years=age_years(p.dob, today) if p.dob else 0,
        held_since=dose.held_from if day == 1 else None,
    )
    tox: dict[int, pd.Toxicity] = {}
    # MOD-NH-3, CONV-IRR-1: a severe reaction recorded on the monitor is a toxicity of the record
    # like one entered here (keys below 0 never meet an event's version).
    for i, r in enumerate(tl.severe_reactions):  # the timeline read them, with the same roles
        anaphylaxis = r.grade == inf.rules.IRR_ANAPHYLAXIS
        tox[-1 - i] = pd.Toxicity(term="Anaphylaxis" if anaphylaxis else "Infusion related reaction",
                                  grade=inf.rules.IRR_SEVERE_GRADE if anaphylaxis else int(r.grade), onset=r.at.date(),
                                  attribution=f"monitor: {r.label}")
    premeds, ecg, lytes, overrides = [], [], [], []
    identity = checklist = qt = cause = None
    for ev in events:
        d = ev.data
        if ev.kind == TOX_RECORDED:
            tox[ev.version] = pd.Toxicity(term=d["term"], grade=int(d["grade"]), onset=date.fromisoformat(d["onset"]),
                                          attribution=d.get("attribution", ""), hematologic=bool(d.get("hematologic")))
        elif ev.kind == TOX_RESOLVED and d.get("toxicity") in tox:
            t = tox[d["toxicity"]]
            tox[d["toxicity"]] = pd.Toxicity(term=t.term, grade=t.grade, onset=t.onset, resolved=date.fromisoformat(d["resolved"]),
                                             attribution=t.attribution, hematologic=t.hematologic)
        elif ev.kind == ECG:
            ecg.append(date.fromisoformat(d["date"]))
        elif ev.kind == ELECTROLYTES:
            lytes.append(date.fromisoformat(d["date"]))
        elif ev.kind == QT_DRUG:
            qt = date.fromisoformat(d["started_on"])
        elif ev.kind == BILI_CAUSE:
            cause = pd.BilirubinCause(cause=d["cause"], recorded_by=ev.actor, confirmed_by=ev.actor, confirmed_role=users_roles.get(ev.actor))
        elif _for(ev, cycle, day):
            if ev.kind == IDENTITY:
                identity = pd.IdentityConfirmation(user=ev.actor, method=d["method"], name=d.get("name"),
                                                   dob=date.fromisoformat(d["dob"]) if d.get("dob") else None, mrn=d.get("mrn"))
            elif ev.kind == PREMED:
                premeds.append(pd.Premed(drug_class=d["drug_class"], drug=d["drug"], dose=d["dose"], given_at=parse_utc(d["given_at"])))
            elif ev.kind == CHECKLIST:
                checklist = bool(d["emergency_ready"])
            elif ev.kind == OVERRIDE:
                overrides.append(pd.Override(rule_id=d["rule_id"], role=users_roles.get(ev.actor, "?"), user=ev.actor, reason=d["reason"],
                                             cycle=cycle, day=day, check=d.get("check"), decision=d.get("decision", "proceed"), at=ev.at))
    deviation = None
    if previous is not None:
        prev = next((x for x in tl.doses() if x.given_on == previous), None)
        if prev is not None:
            mon = inf.monitor(events, prep.dose_id(prev.cycle, prev.day), max(ev.at for ev in events))
            dev = next((x for x in mon.deviations if x.kind == "observation_incomplete"), None)
            if dev:
                deviation = pd.ObservationDeviation(user=dev.who, at=dev.at, reason=dev.reason)
    discs = []
    if tl.discontinued:
        discs.append(pd.Discontinuation(rule_id="SCHED", user="", role="prescriber", reason=tl.discontinued_reason or "", on=tl.discontinued_on or today))
    recs = pd.PatientRecords(
        labs=tuple({**e.data, "version": e.version} for e in p.history("labs")),
        blasts=tuple({**e.data, "version": e.version} for e in p.history("blasts")),
        measurements=tuple({**e.data, "version": e.version} for e in p.history("measurement")),
        reproductive=p.current("reproductive"), consent=p.current("consent"), diagnosis=p.current("diagnosis"),
        name=p.name, mrn=p.mrn, sex=p.identity.get("sex"), dob=p.dob,
        toxicities=tuple(tox.values()), premeds=tuple(premeds), identity_check=identity,
        ecg_dates=tuple(ecg), electrolytes_dates=tuple(lytes), qt_drug_started_on=qt, bilirubin_cause=cause,
        overrides=tuple(overrides), discontinuations=tuple(discs), observation_incomplete=deviation, emergency_ready=checklist,
    )
    return ctx, recs


def verdict(p: Patient, events: Sequence[Event], tl: sch.Timeline, cycle: int, day: int, today: date, users_roles: dict[str, str]) -> pd.Verdict:
    ctx, recs = context_and_records(p, events, tl, cycle, day, today, users_roles)
    v = pd.evaluate(ctx, recs, today)
    # Issue 15: the one answer to "may this dose be given now" (core/eligibility.py) is part of the
    # verdict, so the pre-dose check can never say PROCEED where the timeline or the gate says no.
    from .eligibility import DISCONTINUE, may_give

    dose = tl.dose(cycle, day)
    if dose is not None and dose.state == sch.GIVEN:
        return v  # the check as it stood before the dose; the timeline shows it given
    now = max((ev.at for ev in events), default=None)
    el = may_give(events, prep.dose_id(cycle, day), now, today, users_roles, tl)  # type: ignore[arg-type]
    extra = []
    for i, r in enumerate(el.reasons):
        if r.kind == DISCONTINUE and v.overall == pd.DISCONTINUE:
            continue  # already a check of its own (the severe reaction, the discontinuation record)
        extra.append(pd.Check(key=f"eligibility.{i}", name="May this dose be given now", value=r.text,
                              result=pd.R_DISCONTINUE if r.kind == DISCONTINUE else pd.R_HOLD,
                              rule_ids=r.rule_ids, action=r.next_step))
    if not extra:
        return v
    checks = (*v.checks, *extra)
    return pd.Verdict(pd.overall_of(checks), checks)



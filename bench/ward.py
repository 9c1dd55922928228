"""A realistic ward of about N events on a new SQLite database (issue 19: measure a decade of a ward).

    .venv/bin/python bench/ward.py 100000 --db /tmp/ward-100k.db [--seed 1]
    .venv/bin/python bench/ward.py --profile open|board --db /tmp/ward-100k.db   # where the time goes

Writes ``PATH`` with its site key file ``PATH.key`` and its anchor ``PATH.head`` (the database must
not exist). Every demo user name signs in with PIN 1234 (nina, noah nurses; phil pharmacist; priya
prescriber; adam admin), beside the rest of the staff, who came and went over the years.

How it is made, fast and still real:

- **Courses recorded by commands.** A scratch ledger (in memory, FakeClock moved forward) drives
  template patients through the app's own command path (``Ledger.execute``), as the screens send
  them: registration, the intake forms, cycle 1 started, then for each dose the labs and weight, the
  wristband scan, premedication, the emergency checklist, the calculation, reconstitution,
  dilution, the blind double-check, vitals, the pre-dose verdict, the start (dose given), vitals
  during, at the end and at the end of observation, observation completed; responses after cycles
  1–3; a few infusion reactions (Grade 1–2 resumed; Grade 3 stops the infusion and the treatment is
  discontinued), pauses, Day 8/15 holds and their recovery (a dose that then misses its window is
  omitted), patients who leave early, corrected weights, no response within 3 cycles (CYC-3).
  Each course is 1–6 cycles.
- **Replayed for the ward's patients.** Each patient of the ward takes a template's events with a
  new identity (name, MRN, and the record id that follows from the MRN), every date and time moved
  by whole days to the patient's arrival (so the local dates and the clinical intervals stay as the
  commands decided them), and the template's staff replaced by ward staff of the same role on duty
  then. Patients arrive about 1.1 a day going back from now, so the most recent are just
  registered, in intake or mid-cycle (a course is cut only where the record is at rest: after a
  form, after a dose's observation), and older ones finished. A few templates stop after
  registration or intake (never treated).
- **1–3 infusions running now**, recorded by commands at today's times (started 10–50 minutes
  before the generator ran: regenerate before measuring the board, or they age).
- **Users and the site**: the first admin, the staff (nurses, pharmacists, prescribers)
  created when they joined and deactivated when they left; a sign-in for each member of staff on
  each day they worked (a few failed tries first); the site's time zone, name and premedication
  protocol.

Every event goes through ``SqliteStore.append`` with the site key bound (``store.set_keys``), in
time order across the patients, so each one carries its MAC and the hash chain is the real one
(``bedside verify-log --db PATH`` exits 0). For speed the generator writes with
``synchronous=OFF`` and moves the anchor once at the end (``reset_anchors`` at the last event,
what ``bedside anchor reset`` does); the app opens the file with its own settings.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bedside.core import all_commands  # noqa: F401  (every job's commands and events)
from bedside.core import infusion as inf
from bedside.core import predose as pd
from bedside.core import preparation as prep
from bedside.core import schedule as sch
from bedside.core.auth import USERS_STREAM, SiteKey
from bedside.core.auth.events import SignInFailed, UserCreated, UserDeactivated, UserSignedIn
from bedside.core.auth.pins import hash_pin
from bedside.core.clock import FakeClock, fmt_local, local_date
from bedside.core.commands import Refused
from bedside.core.events import Event, NewEvent, iso_utc
from bedside.core.intake import PATIENT_PREFIX
from bedside.core.intake.patient import patient_id_for_mrn
from bedside.core.logcheck import AnchorFile
from bedside.core.preparation import baglabel
from bedside.core.service import Ledger
from bedside.core.site import SITE_STREAM, SettingRecorded, check_setting
from bedside.core.store import SqliteStore

ZONE_NAME = "Europe/Berlin"
ZONE = ZoneInfo(ZONE_NAME)
#: The scratch ledger's first day (a Monday); templates are recorded from here on.
TEMPLATE_BASE = datetime(2016, 1, 4, 8, 0, tzinfo=UTC)
ARRIVALS_PER_DAY = 1.1  # about 4,000 patients over a decade, as issue 19 measured
TEMPLATES = 120  # distinct courses recorded by commands (each ward patient replays one)
PIN = "1234"
NORMAL_VITALS = {"temp_c": "36.8", "hr": "78", "sys": "122", "dia": "76", "rr": "15", "spo2": "98"}
PREMEDS = (
    pd.PremedRow("corticosteroid", "dexamethasone", "12 mg IV"),
    pd.PremedRow("antipyretic", "paracetamol", "1000 mg PO"),
    pd.PremedRow("antihistamine", "loratadine", "10 mg PO"),
)
#: The scratch ledger's staff, one per role a course needs (replaced by ward staff on replay).
TEMPLATE_STAFF = (("nina", "nurse"), ("noah", "nurse"), ("phil", "pharmacist"), ("priya", "prescriber"))
#: Who stays on the ward till now (the bench signs in as them), with their role.
DEMO_STAFF = (
    ("adam", "Adam Okafor", "admin"),
    ("nina", "Nina Berg", "nurse"),
    ("noah", "Noah Lindgren", "nurse"),
    ("phil", "Phil Marsh", "pharmacist"),
    ("priya", "Priya Raman", "prescriber"),
)
STAFF_ON_DUTY = {"nurse": 10, "pharmacist": 3, "prescriber": 4, "admin": 1}
MEAN_TENURE_DAYS = 4 * 365

GIVEN = {
    "female": ("Anna", "Chloe", "Elif", "Farah", "Hana", "Kira", "Mina", "Olga", "Rosa", "Tove", "Uma", "Zofia"),
    "male": ("Ben", "David", "Gustav", "Ivan", "Jonas", "Lars", "Nils", "Pavel", "Sami", "Viktor", "Wen", "Yusuf"),
}
FAMILY = ("ANDERSSON", "BAUER", "CHEN", "DIALLO", "ERIKSSON", "FISCHER", "GARCIA", "HANSEN", "IVANOVA", "JENSEN",
          "KOWALSKI", "LEHMANN", "MOREAU", "NOVAK", "OKONKWO", "PETROV", "QUINN", "ROSSI", "SATO", "TANAKA",
          "URBAN", "VOGEL", "WAGNER", "YILMAZ", "ZIMMER")  # fmt: skip

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


# -- templates: courses recorded by commands ----------------------------------------------------------
@dataclass
class Template:
    """One patient's stream as the commands wrote it, and where the record is at rest."""

    pid: str
    name: str
    mrn: str
    sex: str
    events: list[Event]
    cuts: list[int]  # prefix lengths after which the record is at rest (ascending; the last is len(events))
    running: bool = False  # ends with an infusion running (not cut: replayed whole, once)


class Recorder:
    """A scratch ledger in memory with its own staff and clock, driven by commands."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.clock = FakeClock(TEMPLATE_BASE)
        self.store = SqliteStore(":memory:")
        self.ledger = Ledger(self.store, self.clock, SiteKey(None, os.urandom(32)))
        self.ledger.add_user("system", "adam", "Adam Okafor", "admin", PIN)
        for username, role in TEMPLATE_STAFF:
            self.ledger.add_user("adam", username, username.title(), role, PIN)
        for name, value in site_settings():
            self.ledger.set_site("adam", name, value)
        self.count = 0
        self.refusals: list[str] = []
        self.severe_stop = False

    # -- the clock only moves forward ----------------------------------------------------------------
    def at(self, when: datetime) -> None:
        self.clock.set(max(when, self.clock.now()))

    def after(self, **delta: float) -> None:
        self.clock.advance(**delta)

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, dtime(hour, minute), ZONE).astimezone(UTC)

    def x(self, command: Any, actor: str) -> list[Event]:
        return self.ledger.execute(command, actor)

    def today(self) -> date:
        return self.ledger.today()

    # -- a course --------------------------------------------------------------------------------------
    def course(self, plan: Plan) -> Template:
        """Drive one patient through ``plan`` by commands; the template of their stream."""
        self.count += 1
        self.at(plan.registered)
        rng = self.rng
        mrn = f"MRN-T{self.count:06d}"
        name = f"TEMPLATE, Patient{self.count:06d}"
        age_days = int(rng.uniform(19, 80) * 365.25) if rng.random() > 0.06 else int(rng.uniform(12, 17) * 365.25)
        dob = (self.today() - timedelta(days=age_days)).isoformat()
        sex = rng.choice(("female", "male"))
        p = self.ledger.register_patient("nina", {"name": name, "dob": dob, "mrn": mrn, "sex": sex})
        pid = p.id
        cuts: list[int] = [self.version(pid)]
        t = Template(pid, name, mrn, sex, [], cuts)
        if plan.stage != "registered":
            self.intake(pid, plan, child=age_days < 18 * 365)
            cuts.append(self.version(pid))
        if plan.stage == "course":
            self.treat(pid, plan, cuts)
        t.events = self.ledger.stream_events(PATIENT_PREFIX + pid)
        t.running = plan.running is not None
        if not t.running and cuts[-1] != len(t.events):
            cuts.append(len(t.events))
        return t

    def version(self, pid: str) -> int:
        return self.ledger.version(PATIENT_PREFIX + pid)

    def intake(self, pid: str, plan: Plan, child: bool) -> None:
        rng = self.rng
        today = self.today()
        height = rng.randint(145, 175) if child else rng.randint(152, 196)
        weight = round(height * height / 10000 * rng.uniform(19, 30), 1)
        plan.height, plan.weight = str(height), f"{weight:.1f}"
        sections: dict[str, dict[str, Any]] = {
            "diagnosis": {"disease_status": rng.choice(("relapsed", "refractory")), "cd22": "positive",
                          "allergies": rng.choice(("none known", "none known", "Penicillin (rash)", "Latex"))},
            "measurement": {"height_cm": plan.height, "weight_kg": plan.weight, "measured_on": today.isoformat()},
            "labs": labs(rng, today),
            "blasts": {"collected_on": today.isoformat(), "wbc": f"{rng.uniform(2, 12):.1f}",
                       "blast_pct": str(rng.randint(5, 40))},
            "vod_risk": {"two_alkylator_conditioning": False, "bilirubin_ge_uln_before_hsct": False, "liver_disease": False,
                         "prior_hsct": rng.random() < 0.2, "later_salvage": rng.random() < 0.5, "prior_vod": False,
                         "serious_liver_disease": False},
            "hsct": {"plan": plan.hsct},
            "reproductive": {"potential": "no", "pregnancy_test": "not_applicable", "breastfeeding": "no"},
            "consent": {"consent": "given", "consent_date": today.isoformat()},
        }  # fmt: skip
        for section, data in sections.items():
            if plan.stage == "intake" and section == "consent":
                break  # intake begun, never finished (the patient was not treated)
            self.after(minutes=rng.randint(2, 9))
            actor = "priya" if section in ("diagnosis", "hsct", "consent") else "nina"
            self.ledger.record(actor, pid, section, data)
        if not plan.quiet and rng.random() < 0.1:  # a weight typed wrong and corrected
            self.after(minutes=20)
            entry = next(e for e in reversed(self.ledger.patient(pid).entries) if e.section == "measurement")
            data = dict(sections["measurement"], weight_kg=plan.weight)
            self.ledger.correct("nina", pid, entry.version, data, "weighed again: scale not zeroed")

    def treat(self, pid: str, plan: Plan, cuts: list[int]) -> None:
        """Cycle 1 started the next day, then each dose as the timeline offers it, until the
        course ends (the plan's cycles, discontinued, a refusal) or the running dose starts."""
        rng = self.rng
        day0 = self.today()
        self.at(self.local(day0 + timedelta(days=1), rng.randint(9, 12), rng.randint(0, 59)))
        self.x(sch.StartCycle(pid, day0 + timedelta(days=2)), "priya")
        cuts.append(self.version(pid))
        omitted: set[tuple[int, int]] = set()
        while True:
            tl = self.ledger.view(pid).timeline
            dose = tl.next_dose
            if dose is None or tl.discontinued or dose.cycle > plan.cycles:
                return
            if self.responses(pid, plan, tl, dose.cycle) or self.settle(pid, tl):
                continue  # a response, a decision or a discontinuation changed the timeline
            running = plan.running == (dose.cycle, dose.day)
            on = max(dose.planned, self.today() + timedelta(days=1))  # never the day of the last entry
            if not plan.quiet and dose.day != 1 and rng.random() < plan.hold_rate:
                self.hold(pid, dose, on)
                cuts.append(self.version(pid))
                continue
            try:
                self.dose(pid, plan, dose.cycle, dose.day, on, running)
            except Refused as exc:
                if running or (dose.cycle, dose.day) in omitted or not self.omit(pid, dose, str(exc)):
                    self.refusals.append(f"C{dose.cycle} D{dose.day}: {exc}")
                    return
                omitted.add((dose.cycle, dose.day))
                cuts.append(self.version(pid))
                continue
            if running:
                return
            cuts.append(self.version(pid))
            if self.severe_stop:
                self.at(self.clock.now() + timedelta(hours=2))
                self.x(
                    sch.DiscontinueTreatment(pid, "severe_infusion_reaction", "Grade 3 infusion reaction", self.today()), "priya"
                )
                cuts.append(self.version(pid))
                return

    def omit(self, pid: str, dose: Any, why: str) -> bool:
        """A dose that could not start (its window passed after a hold): the prescriber omits it."""
        try:
            self.x(sch.OmitDose(pid, dose.cycle, dose.day, "could not be given in its window"), "priya")
        except Refused as exc:
            self.refusals.append(f"omit C{dose.cycle} D{dose.day} after {why}: {exc}")
            return False
        return True

    def settle(self, pid: str, tl: Any) -> bool:
        """Open proposals the prescriber (or pharmacist) confirms as proposed: levels (CONV-MOD-3),
        Table 4 and date proposals. True if one was recorded."""
        for p in tl.proposals:
            actor = "phil" if p.needs_role == "pharmacist" else "priya"
            if p.rule in sch.LEVEL_RULES and p.cycle is not None:
                cmd: Any = sch.ConfirmLevels(pid, p.cycle, "as proposed")
            elif p.rule in ("CONV-CYC-1", "CONV-IRR-1"):
                continue
            else:
                cmd = sch.DecideProposal(pid, p.id, "confirmed", "as proposed")
            try:
                self.x(cmd, actor)
            except Refused as exc:
                self.refusals.append(f"proposal {p.id}: {exc}")
                continue
            return True
        return False

    def responses(self, pid: str, plan: Plan, tl: Any, next_cycle: int) -> bool:
        """At the end of cycles 1–3 the prescriber records the response; no CR/CRi within 3 cycles:
        discontinued (CYC-3). True if something was recorded."""
        done = next_cycle - 1
        if done < 1 or done > 3 or any(r.cycle == done for r in tl.facts.responses):
            return False
        if any(r.response in ("cr", "cri") for r in tl.facts.responses):
            return False
        cycle = tl.cycle(done)
        self.at(self.local(cycle.day1 + timedelta(days=cycle.length_planned - 2), 11))
        answer = plan.responses[done - 1] if done - 1 < len(plan.responses) else "neither"
        mrd = "negative" if answer in ("cr", "cri") and self.rng.random() < 0.7 else "unknown"
        self.x(sch.RecordResponse(pid, done, answer, mrd, self.today()), "priya")
        if done == 3 and answer not in ("cr", "cri"):
            self.x(sch.DiscontinueTreatment(pid, "no_response_3_cycles", "", self.today()), "priya")
        return True

    def hold(self, pid: str, dose: Any, on: date) -> None:
        """A Day 8/15 held for a non-hematologic toxicity, recovered two to five days later."""
        self.at(self.local(on, 9, self.rng.randint(0, 59)))
        try:
            self.x(sch.HoldDose(pid, dose.cycle, dose.day, "ALT rising (Grade 2)", "non_hematologic"), "priya")
            self.at(self.local(on + timedelta(days=self.rng.randint(2, 5)), 10))
            self.x(sch.RecordRecovery(pid, dose.cycle, dose.day, self.today()), "priya")
        except Refused as exc:
            self.refusals.append(f"hold C{dose.cycle} D{dose.day}: {exc}")

    def dose(self, pid: str, plan: Plan, cycle: int, day: int, on: date, running: bool) -> None:
        """One dose day, by the commands each screen sends; stops after the start if ``running``."""
        rng = self.rng
        self.severe_stop = False
        did = f"c{cycle}d{day}"
        start = plan.running_start if running else self.local(on, rng.randint(9, 14), rng.randint(0, 59))
        self.at(start - timedelta(minutes=100))
        today = self.today()
        self.ledger.record("nina", pid, "labs", labs(rng, today))
        weight = f"{float(plan.weight) * rng.uniform(0.99, 1.01):.1f}"
        self.ledger.record(
            "nina", pid, "measurement", {"height_cm": plan.height, "weight_kg": weight, "measured_on": today.isoformat()}
        )
        self.after(minutes=5)
        p = self.ledger.patient(pid)
        self.x(pd.ConfirmIdentity(pid, cycle, day, p.name, p.identity["dob"], p.mrn, "scanned"), "nina")
        if (cycle, day) == (1, 1):
            self.x(pd.RecordEcg(pid, today.isoformat()), "nina")
            self.x(pd.RecordElectrolytes(pid, today.isoformat()), "nina")
        self.after(minutes=2)
        self.x(prep.CalculateDose(pid, cycle, day), "phil")
        self.after(minutes=rng.randint(3, 10))
        self.x(prep.Reconstitute(pid, did, self.clock.now()), "phil")
        self.after(minutes=10)
        self.x(prep.Dilute(pid, did, self.clock.now(), "refrigerated"), "phil")
        self.after(minutes=rng.randint(5, 20))
        self.x(prep.DoubleCheck(pid, did, **self.ledger.view(pid).prep(did).calculation.expected()), "noah")
        self.at(start - timedelta(minutes=35))
        self.x(pd.RecordPremeds(pid, cycle, day, PREMEDS, fmt_local(self.clock.now(), day=False)), "nina")
        self.x(pd.RecordChecklist(pid, cycle, day, True), "nina")
        self.at(start - timedelta(minutes=5))
        self.x(inf.RecordVitals(pid, did, NORMAL_VITALS), "nina")
        self.x(pd.RecordVerdict(pid, cycle, day), "nina")
        self.at(start)
        bag = baglabel.current(pid, self.ledger.view(pid).prep(did))  # the label scanned at the bedside
        self.x(inf.StartInfusion(pid, did, bag.code if bag else ""), "nina")
        if running:
            if plan.running_vitals_at is not None:
                self.at(plan.running_vitals_at)
                self.x(inf.RecordVitals(pid, did, vitals(rng)), "nina")
            return
        self.infusion(pid, did, plan.quiet)

    def infusion(self, pid: str, did: str, quiet: bool) -> None:
        """The running hour: vitals, now and then a pause or a reaction, the end, observation."""
        rng = self.rng
        self.after(minutes=rng.randint(10, 15))
        self.x(inf.RecordVitals(pid, did, vitals(rng)), rng.choice(("nina", "noah")))
        roll = 1.0 if quiet else rng.random()
        if roll < 0.015:
            self.reaction(pid, did, grade=3)
            self.severe_stop = True
        elif roll < 0.09:
            self.reaction(pid, did, grade=rng.choice((1, 2)))
        elif roll < 0.14:
            self.after(minutes=3)
            self.x(inf.PauseInfusion(pid, did, reason="patient to the bathroom"), "nina")
            self.after(minutes=rng.randint(4, 12))
            self.x(inf.ResumeInfusion(pid, did), "nina")
        for _ in range(rng.randint(0, 2)):  # more sets while it runs
            mon = inf.monitor(self.ledger.stream_events(PATIENT_PREFIX + pid), did, self.clock.now())
            if mon.infusion_end_at is None or self.clock.now() + timedelta(minutes=15) >= mon.infusion_end_at:
                break
            self.after(minutes=rng.randint(10, 15))
            self.x(inf.RecordVitals(pid, did, vitals(rng)), rng.choice(("nina", "noah")))
        mon = inf.monitor(self.ledger.stream_events(PATIENT_PREFIX + pid), did, self.clock.now())
        self.at((mon.infusion_end_at or self.clock.now()) + timedelta(minutes=1))
        self.x(inf.RecordVitals(pid, did, vitals(rng), point="end"), "nina")
        if not quiet and rng.random() < 0.02:
            self.after(minutes=35)
            self.x(inf.RecordLeftEarly(pid, did, reason="transport home arrived", who="patient"), "nina")
            return
        self.after(minutes=60)
        self.x(inf.RecordVitals(pid, did, vitals(rng), point="observation_end"), "nina")
        self.after(minutes=1)
        self.x(inf.CompleteObservation(pid, did), "nina")

    def reaction(self, pid: str, did: str, grade: int) -> None:
        """An infusion reaction: symptoms, vitals, grade, who was told, treatment, outcome."""
        self.after(minutes=5)
        self.x(inf.StartReaction(pid, did, symptoms="rigors, flushing"), "nina")
        self.after(minutes=1)
        self.x(inf.RecordVitals(pid, did, dict(NORMAL_VITALS, temp_c="38.3", hr="108"), point="reaction:1"), "nina")
        self.x(inf.GradeReaction(pid, did, reaction=1, grade=grade), "nina")
        self.after(minutes=1)
        self.x(inf.NotifyReaction(pid, did, reaction=1, who="on-call hematologist"), "nina")
        self.x(
            inf.TreatReaction(pid, did, reaction=1, treatment="paracetamol 1 g PO" if grade < 3 else "hydrocortisone 100 mg IV"),
            "nina",
        )
        self.after(minutes=self.rng.randint(8, 25))
        self.x(inf.ResolveReaction(pid, did, reaction=1, outcome="stop" if grade >= 3 else "resume"), "nina")
        if grade < 3:
            self.after(minutes=1)
            self.x(inf.ResumeInfusion(pid, did), "nina")


def labs(rng: random.Random, on: date) -> dict[str, Any]:
    """Pre-dose labs inside every hold limit (the template's holds are recorded as holds)."""
    return {
        "collected_on": on.isoformat(), "anc": f"{rng.uniform(1.1, 3.5):.1f}", "platelets": str(rng.randint(60, 250)),
        "platelet_transfusion": "no", "bilirubin_unit": "mg/dL", "bilirubin": f"{rng.uniform(0.3, 1.1):.1f}",
        "bilirubin_uln": "1.2", "ast": str(rng.randint(15, 38)), "ast_uln": "40", "alt": str(rng.randint(12, 38)),
        "alt_uln": "40", "alp": str(rng.randint(50, 115)), "alp_uln": "120",
    }  # fmt: skip


def vitals(rng: random.Random) -> dict[str, str]:
    return {"temp_c": f"{rng.uniform(36.3, 37.3):.1f}", "hr": str(rng.randint(62, 92)), "sys": str(rng.randint(108, 138)),
            "dia": str(rng.randint(64, 86)), "rr": str(rng.randint(12, 18)), "spo2": str(rng.randint(95, 99))}  # fmt: skip


def site_settings() -> list[tuple[str, Any]]:
    protocol = [{"drug_class": r.drug_class, "drug": r.drug, "dose": r.dose} for r in PREMEDS]
    return [("time_zone", ZONE_NAME), ("site_name", "Ward 7 (generated)"), ("premed_protocol", protocol), ("lock_minutes", 10)]


@dataclass
class Plan:
    """What a template patient goes through (drawn at random)."""

    registered: datetime
    stage: str = "course"  # registered | intake | course
    cycles: int = 3
    hsct: str = "not_planned"
    responses: tuple[str, ...] = ("cr",)
    hold_rate: float = 0.05
    quiet: bool = False  # no reaction, pause, hold, correction or early leave (the running patients)
    running: tuple[int, int] | None = None  # the dose left running
    running_start: datetime | None = None
    running_vitals_at: datetime | None = None
    height: str = ""
    weight: str = ""


def random_plan(rng: random.Random, registered: datetime) -> Plan:
    roll = rng.random()
    stage = "registered" if roll < 0.03 else "intake" if roll < 0.06 else "course"
    hsct = "planned" if rng.random() < 0.35 else "not_planned"
    cycles = rng.choice((1, 2, 2)) if hsct == "planned" else rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 6))
    first = rng.choices(("cr", "cri", "neither"), (0.6, 0.15, 0.25))[0]
    return Plan(registered, stage, cycles, hsct, (first, rng.choice(("cr", "cri", "neither")), "neither"))


def record_templates(rng: random.Random, count: int) -> tuple[Recorder, list[Template]]:
    """``count`` courses by commands, each in its own stream, the k-th registered k days after
    TEMPLATE_BASE (the streams are independent: each one's clock only moves forward)."""
    rec = Recorder(rng)
    out = []
    for k in range(count):
        day = local_date(TEMPLATE_BASE, ZONE) + timedelta(days=k + 1)
        rec.clock.set(rec.local(day, rng.randint(9, 15), rng.randint(0, 59)))
        out.append(rec.course(random_plan(rng, rec.clock.now())))
    return rec, out


def record_running(rng: random.Random, rec: Recorder, now: datetime, count: int) -> list[Template]:
    """Patients with an infusion running now: their course recorded by commands so that the dose
    (C1 D8, C2 D1, C3 D15 …) started 10–50 minutes ago today."""
    out = []
    doses = [(1, 1), (1, 8), (1, 15), (2, 1), (2, 8), (3, 15)]
    rng.shuffle(doses)
    for cycle, day in doses[:count]:
        start = now - timedelta(minutes=rng.randint(10, 50))
        today = local_date(start, ZONE)
        offset = 2 + (0 if cycle == 1 else 21 + 28 * (cycle - 2)) + day - 1
        plan = Plan(rec.local(today - timedelta(days=offset), 10), "course", cycle, "not_planned", ("cr",), quiet=True)
        plan.running, plan.running_start = (cycle, day), start
        if start + timedelta(minutes=5) < now:
            plan.running_vitals_at = start + timedelta(minutes=5)
        rec.clock.set(plan.registered)
        out.append(rec.course(plan))
    return out


def check_templates(templates: list[Template]) -> None:
    """Fail loudly if a template holds its identity inside a longer text, where the replay (which
    replaces whole values) would leave it behind (dates inside a text are moved, :func:`_moved`)."""
    for t in templates:
        marks = (t.name, t.mrn, t.pid)
        for ev in t.events:
            for value in _strings(ev.data):
                if value in marks or _DATE.fullmatch(value) or _INSTANT.fullmatch(value):
                    continue
                if any(m in value for m in marks):
                    raise SystemExit(f"ward.py: {ev.kind} of {t.mrn} holds {value!r}: the replay cannot move it")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# -- the ward's staff ---------------------------------------------------------------------------------
@dataclass
class Member:
    username: str
    full_name: str
    role: str
    joined: datetime
    left: datetime | None = None

    def on_duty(self, when: datetime) -> bool:
        return self.joined + timedelta(days=1) <= when and (self.left is None or when < self.left)


def build_staff(rng: random.Random, start: datetime, now: datetime) -> list[Member]:
    """The demo names from the start till now; every other post filled in turn by people who stay
    about four years each (the first of each post from the ward's start)."""
    staff = [Member(u, n, r, start) for u, n, r in DEMO_STAFF]
    taken = {m.username for m in staff}
    for role, posts in STAFF_ON_DUTY.items():
        kept = sum(1 for m in staff if m.role == role)
        for _post in range(posts - kept):
            joined = start
            while joined < now:
                given, family = rng.choice(GIVEN[rng.choice(("female", "male"))]), rng.choice(FAMILY)
                username = given.lower() + family[0].lower()
                while username in taken:
                    username += str(rng.randint(0, 9))
                taken.add(username)
                left = joined + timedelta(days=rng.expovariate(1 / MEAN_TENURE_DAYS))
                staff.append(Member(username, f"{given} {family.title()}", role, joined, left if left < now else None))
                joined = left
    return staff


class Roster:
    """Who of the staff stands in for the template's nurse, second nurse, pharmacist and
    prescriber on one patient's day."""

    def __init__(self, staff: list[Member]):
        self.by_role: dict[str, list[Member]] = {}
        for m in staff:
            self.by_role.setdefault(m.role, []).append(m)

    def day(self, rng: random.Random, when: datetime) -> dict[str, str]:
        nurses = [m.username for m in self.by_role["nurse"] if m.on_duty(when)]
        first, second = rng.sample(nurses, 2)
        return {
            "nina": first,
            "noah": second,
            "phil": rng.choice([m.username for m in self.by_role["pharmacist"] if m.on_duty(when)]),
            "priya": rng.choice([m.username for m in self.by_role["prescriber"] if m.on_duty(when)]),
        }


# -- replaying a template for a ward patient ----------------------------------------------------------
@dataclass
class Placed:
    """One ward patient: which template, how far into it, and where in time."""

    template: Template
    upto: int  # how many of the template's events happened by now
    shift_days: int
    name: str
    mrn: str
    seed: int


def replay(p: Placed, roster: Roster) -> Iterator[NewEvent]:
    """The patient's events: the template's, under a new identity, moved by whole days, signed by
    the staff on duty."""
    t = p.template
    pid = patient_id_for_mrn(p.mrn)
    stream = PATIENT_PREFIX + pid
    same = {t.name: p.name, t.mrn: p.mrn, t.pid: pid}
    shift = timedelta(days=p.shift_days)
    rng = random.Random(p.seed)
    days: dict[date, dict[str, str]] = {}
    for ev in t.events[: p.upto]:
        at = ev.at + shift
        on = local_date(at, ZONE)
        staff = days.get(on)
        if staff is None:
            staff = days[on] = roster.day(rng, at)
        data = {k: _moved(v, same, p.shift_days, shift) for k, v in ev.data.items()}
        yield NewEvent(stream, ev.kind, staff.get(ev.actor, ev.actor), at, data)


def _moved(value: Any, same: dict[str, str], days: int, shift: timedelta) -> Any:
    if isinstance(value, str):
        if value in same:
            return same[value]
        if len(value) == 10 and _DATE.fullmatch(value):
            return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
        if len(value) == 27 and _INSTANT.fullmatch(value):
            return iso_utc(datetime.fromisoformat(value) + shift)
        if _DATE.search(value):  # a date inside a text ("response of cycle 1, 2016-01-26")
            return _DATE.sub(lambda m: (date.fromisoformat(m[0]) + timedelta(days=days)).isoformat(), value)
        return value
    if isinstance(value, dict):
        return {k: _moved(v, same, days, shift) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, same, days, shift) for v in value]
    return value


def place_patients(
    rng: random.Random, templates: list[Template], running: list[Template], now: datetime, budget: int
) -> list[Placed]:
    """Patients arriving about ARRIVALS_PER_DAY a day, going back from now, until their events
    (as far as each has got by now) fill ``budget``; the running ones first."""
    placed: list[Placed] = []
    used: set[str] = set()

    def identity(t: Template) -> tuple[str, str]:
        while True:
            mrn = f"MRN-{rng.randint(1_000_000, 9_999_999)}"
            if mrn not in used:
                used.add(mrn)
                return f"{rng.choice(FAMILY)}, {rng.choice(GIVEN[t.sex])}", mrn

    total = 0
    for t in running:
        placed.append(Placed(t, len(t.events), 0, *identity(t), rng.randrange(2**32)))
        total += len(t.events)
    ago = 0.0
    while total < budget:
        ago += rng.expovariate(ARRIVALS_PER_DAY)
        t = rng.choice(templates)
        arrival = local_date(now - timedelta(days=ago), ZONE)
        shift_days = (arrival - local_date(t.events[0].at, ZONE)).days
        shift = timedelta(days=shift_days)
        upto = max((c for c in t.cuts if c and t.events[c - 1].at + shift <= now), default=0)
        if upto == 0:
            continue  # arrives later today
        placed.append(Placed(t, upto, shift_days, *identity(t), rng.randrange(2**32)))
        total += upto
    return placed


# -- the users log and the site -----------------------------------------------------------------------
def staff_events(staff: list[Member], key: SiteKey, start: datetime) -> list[NewEvent]:
    """The first admin (by "system"), the site settings, then each member created when they joined
    and deactivated when they left (by the admin), in time order."""
    admin = staff[0].username
    out = [UserCreated(admin, staff[0].full_name, "admin", hash_pin(key, PIN)).new(USERS_STREAM, "system", start)]
    for i, (name, value) in enumerate(site_settings()):
        out.append(SettingRecorded(name, check_setting(name, value)).new(SITE_STREAM, admin, start + timedelta(minutes=2 + i)))
    for i, m in enumerate(staff[1:]):
        joined = max(m.joined, start + timedelta(minutes=10, seconds=i))
        out.append(UserCreated(m.username, m.full_name, m.role, hash_pin(key, PIN)).new(USERS_STREAM, admin, joined))
        if m.left is not None:
            out.append(UserDeactivated(m.username).new(USERS_STREAM, admin, m.left))
    out.sort(key=lambda ev: ev.at)
    return out


class SignIns:
    """A sign-in for each member of staff on each local day they act, just before their first
    entry (now and then a wrong PIN first), in the users log's own time order."""

    def __init__(self, rng: random.Random, staff: list[Member]):
        self.rng = rng
        self.staff = {m.username for m in staff}
        self.seen: set[tuple[str, date]] = set()
        self.last = datetime.min.replace(tzinfo=UTC)

    def before(self, ev: NewEvent) -> list[NewEvent]:
        if ev.stream == USERS_STREAM:
            self.last = max(self.last, ev.at)
        key = (ev.actor, local_date(ev.at, ZONE))
        if ev.actor not in self.staff or key in self.seen:
            return []
        self.seen.add(key)
        at = min(ev.at, max(self.last + timedelta(milliseconds=1), ev.at - timedelta(minutes=self.rng.randint(1, 4))))
        out = []
        if self.rng.random() < 0.03:
            out.append(SignInFailed(ev.actor).new(USERS_STREAM, ev.actor, at))
        out.append(UserSignedIn(ev.actor).new(USERS_STREAM, ev.actor, at))
        self.last = at
        return out


# -- writing ------------------------------------------------------------------------------------------
class Writer:
    """Appends runs of one stream's consecutive events through the store (each signed, chained)."""

    def __init__(self, store: SqliteStore):
        self.store = store
        self.versions: dict[str, int] = {}
        self.run: list[NewEvent] = []
        self.last: Event | None = None
        self.count = 0

    def add(self, ev: NewEvent) -> None:
        if self.run and self.run[0].stream != ev.stream:
            self.flush()
        self.run.append(ev)

    def flush(self) -> None:
        if not self.run:
            return
        stream = self.run[0].stream
        stored = self.store.append(stream, self.versions.get(stream, 0), self.run)
        self.versions[stream] = stored[-1].version
        self.last = stored[-1]
        self.count += len(stored)
        self.run = []


def write_ward(path: Path, n: int, seed: int, now: datetime) -> dict[str, Any]:
    rng = random.Random(seed)
    began = time.perf_counter()
    rec, templates = record_templates(rng, TEMPLATES)
    running = record_running(rng, rec, now, rng.randint(1, 3))
    check_templates(templates + running)
    recorded = time.perf_counter() - began
    placed = place_patients(rng, templates, running, now, int(n * PATIENT_SHARE))
    first = min(min(p.template.events[0].at + timedelta(days=p.shift_days) for p in placed), now - timedelta(days=3))
    start = datetime.combine(local_date(first, ZONE) - timedelta(days=2), dtime(8), ZONE).astimezone(UTC)
    staff = build_staff(rng, start, now)
    roster = Roster(staff)

    store = SqliteStore(path)
    key = SiteKey(Path(str(path) + ".key"))
    store.set_keys(key)  # every event authenticated (core/keyring.py), the key file made here
    anchors, store.anchors = store.anchors, []  # moved once, at the end
    store.conn.execute("PRAGMA synchronous=OFF")
    writer = Writer(store)
    signins = SignIns(rng, staff)
    streams = [staff_events(staff, key, start), *(replay(p, roster) for p in placed)]
    for ev in heapq.merge(*streams, key=lambda e: e.at):
        for s in signins.before(ev):
            writer.add(s)
        writer.add(ev)
    writer.flush()
    store.anchors = anchors or [AnchorFile(Path(str(path) + ".head"))]
    store.reset_anchors(writer.last)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return {
        "events": writer.count,
        "patients": len(placed),
        "running": len(running),
        "staff": len(staff),
        "from": local_date(start, ZONE).isoformat(),
        "templates_s": round(recorded, 1),
        "seconds": round(time.perf_counter() - began, 1),
        "refusals": rec.refusals,
    }


#: The share of the events that are the patients' (the rest: sign-ins, the staff, the site),
#: measured on generated wards of 10k–1M events.
PATIENT_SHARE = 0.93


def profile(path: Path, what: str) -> None:
    """cProfile of what a terminal does on a ward: ``open`` the ledger (before the sign-in lands),
    or three ticks of the active-infusions board (its data(), as tui/screens/board.py computes it)."""
    import cProfile
    import pstats
    import resource

    from bedside.core.clock import RealClock, local_tz

    store = SqliteStore(path)
    key = SiteKey(Path(str(path) + ".key"))
    prof = cProfile.Profile()
    began = time.perf_counter()
    if what == "open":
        prof.enable()
    ledger = Ledger(store, RealClock(), key)
    prof.disable()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"open: {time.perf_counter() - began:.2f} s, {len(ledger.events):,} events, peak RSS {rss:.0f} MB")
    if what == "board":
        for tick in range(3):
            prof = cProfile.Profile()
            began = time.perf_counter()
            prof.enable()
            started = [
                p.id for p in ledger.patients() if any(e.kind == inf.INFUSION_STARTED for e in ledger.stream_events(p.stream))
            ]
            rows = inf.active_doses([ledger.view(pid) for pid in started], ledger.clock.now(), inf.MonitorSettings(tz=local_tz()))
            prof.disable()
            shown = f"{len(rows)} active, {len(started)} patients ever infused"
            print(f"board tick {tick + 1}: {time.perf_counter() - began:.3f} s, {shown}")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(20)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, nargs="?", help="about how many events")
    ap.add_argument("--db", required=True, type=Path, help="the new SQLite database (must not exist; with --profile: a ward)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", choices=("open", "board"), help="profile an existing ward instead (cProfile)")
    args = ap.parse_args(argv)
    if args.profile:
        if not args.db.exists():
            print(f"ward.py: {args.db} does not exist (make it first: bench/ward.py N --db {args.db})", file=sys.stderr)
            return 2
        profile(args.db, args.profile)
        return 0
    if args.n is None:
        ap.error("N is required (or --profile)")
    for p in (args.db, Path(str(args.db) + ".key"), Path(str(args.db) + ".head")):
        if p.exists():
            print(f"ward.py: {p} exists; choose a new path", file=sys.stderr)
            return 2
    if args.n < 200:
        print("ward.py: N must be at least 200", file=sys.stderr)
        return 2
    out = write_ward(args.db, args.n, args.seed, datetime.now(UTC))
    print(
        f"{out['events']:,} events, {out['patients']:,} patients ({out['running']} infusing now), "
        f"{out['staff']} staff since {out['from']}, in {out['seconds']} s "
        f"(templates by commands: {out['templates_s']} s) -> {args.db}"
    )
    for r in out["refusals"]:
        print("  template stopped early (a refusal):", r.replace("\n", " "), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

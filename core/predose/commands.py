"""The pre-dose screen's commands, each with its one decision (core/commands.py).

Every decision reads the actor's role from the users log (``actor``), the dose from the
patient's timeline and the verdict from the patient's projection (core/predose/view.py): a screen
sends only what its user typed or chose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime

from attrs import frozen

from .. import rules
from ..clock import local_instant, to_local
from ..commands import Actor, Command, Decision, Refusal, State, decider, refuse, require_role
from ..events import iso_utc
from ..intake import DATE_RE, PATIENT_PREFIX
from ..text import unsafe_message, with_article
from .events import (
    BilirubinCauseRecorded,
    ChecklistRecorded,
    EcgRecorded,
    ElectrolytesRecorded,
    IdentityConfirmed,
    OverrideRecorded,
    PremedGiven,
    QtDrugRecorded,
    ToxicityRecorded,
    ToxicityResolved,
    VerdictRecorded,
)
from .results import OVERRIDE_ROLES, PRESCRIBER, Verdict
from .view import overridable, predose_verdict

CLINICIANS = ("nurse", "pharmacist", "prescriber")  # who records pre-dose facts (an admin does not)
IDENTITY_METHODS = ("typed", "scanned")
BILIRUBIN_CAUSES = ("gilbert", "hemolysis")  # CONV-LAB-2
TOXICITY_GRADES = rules.CTCAE_GRADES  # the grades a user records (MOD-NH-6, CTCAE-5)
BILIRUBIN_CAUSE_ROLE = PRESCRIBER  # CONV-LAB-2: a prescriber confirms the cause


@frozen
class PatientCommand(Command):
    """Base of the pre-dose commands on one patient's stream (not a command itself)."""

    pid: str

    @property
    def stream(self) -> str:  # type: ignore[override]
        return PATIENT_PREFIX + self.pid


@frozen
class DoseCommand(PatientCommand):
    """Base of the commands about one dose (not a command itself)."""

    cycle: int
    day: int


# -- shared checks -------------------------------------------------------------------------------


def iso_date(text: str, label: str) -> date:
    """A typed date (YYYY-MM-DD, as the timeline's date fields); ValueError names the field."""
    text = (text or "").strip()
    if not DATE_RE.match(text):
        raise ValueError(f"{label}: a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{label}: {text} is not a real date.") from None


def premed_given_at(text: str, now: datetime) -> tuple[datetime, str]:
    """The instant of a premedication typed as HH:MM (24 h, the site's local time, today), and a
    note to show ("" if none). A time the clocks skipped is refused; one they repeated is the
    earlier (CONV-TIME-1); a time after ``now`` is refused. ValueError names the field."""
    try:
        hh, mm = (text or "").strip().split(":")
        wall = dtime(int(hh), int(mm))
    except ValueError:
        raise ValueError("Time: HH:MM (24 h, local).") from None
    at, note = local_instant(to_local(now).date(), wall, "Given at")
    if at > now:
        raise ValueError("Time: not in the future.")
    return at, note


def _text(label: str, value: str, required: bool = True) -> str:
    """A typed text, stripped; ValueError if it is empty (when required) or unsafe."""
    text = (value or "").strip()
    if required and not text:
        raise ValueError(f"{label}: required.")
    bad = unsafe_message(label, text)
    if bad:
        raise ValueError(bad)
    return text


def _patient(
    state: State, cmd: PatientCommand, actor: Actor, roles: tuple[str, ...], what: str, *rule_ids: str
) -> Refusal | None:
    refused = require_role(actor, roles, what, *rule_ids)
    if refused:
        return refused
    if cmd.pid not in state.patients:
        return refuse(f"{what}: no patient {cmd.pid!r}.")
    return None


def _dose(
    state: State, cmd: DoseCommand, actor: Actor, what: str, roles: tuple[str, ...] = CLINICIANS, *rule_ids: str
) -> Refusal | None:
    """A refusal unless the actor may act and the dose is on the patient's timeline."""
    refused = _patient(state, cmd, actor, roles, what, *rule_ids)
    if refused:
        return refused
    if state.view(cmd.pid).timeline.dose(cmd.cycle, cmd.day) is None:
        return refuse(f"{what}: C{cmd.cycle} D{cmd.day} is not on the timeline.", "SCHED-6")
    return None


def _checked(build: Callable[[], Decision], *rule_ids: str) -> Decision:
    """``build()``; a field's ValueError becomes a Refusal with its message."""
    try:
        return build()
    except ValueError as exc:
        return refuse(str(exc), *rule_ids)


def _verdict(state: State, cmd: DoseCommand) -> Verdict | Refusal:
    try:
        return predose_verdict(state.view(cmd.pid), cmd.cycle, cmd.day)
    except ValueError as exc:
        return refuse(str(exc))


# -- n: identity ---------------------------------------------------------------------------------


@frozen
class ConfirmIdentity(DoseCommand):
    """Pre-dose, n: record the identifiers confirmed with the patient and the wristband at this dose (typed or scanned).

    The wristband scanned (its MRN, a GS1 GSRN or the site's own identifier; issue 20) or the MRN
    typed, and the name and date of birth typed as the patient
    states them, or ``stated``: "match" (the patient stated both and the user compared them with the
    record shown) or "mismatch" (they do not match: recorded, and the check holds)."""

    name: str = ""
    dob: str = ""
    mrn: str = ""
    method: str = "typed"
    stated: str = ""  # "" (name and date of birth typed) | "match" | "mismatch"
    emits = (IdentityConfirmed,)


STATED_ANSWERS = {"match": "+stated", "mismatch": "+stated-mismatch"}


@decider(ConfirmIdentity)
def decide_identity(state: State, cmd: ConfirmIdentity, now: datetime, actor: Actor) -> Decision:
    refused = _dose(state, cmd, actor, "Identity")
    if refused:
        return refused

    def build() -> Decision:
        from ..scan import read_identifier

        if cmd.method not in IDENTITY_METHODS:
            raise ValueError(f"How: one of {', '.join(IDENTITY_METHODS)}.")
        if cmd.stated and cmd.stated not in STATED_ANSWERS:
            raise ValueError("Name and date of birth as stated: match or do not match.")
        if cmd.stated:  # name and date of birth stated and compared, not typed: both may be left empty
            name = _text("Full name", cmd.name, required=False) or None
            dob_text = (cmd.dob or "").strip()
            dob = iso_date(dob_text, "Date of birth").isoformat() if dob_text else None
        else:
            name, dob = _text("Full name", cmd.name), iso_date(cmd.dob, "Date of birth").isoformat()
        if not (cmd.mrn or "").strip():
            raise ValueError("Wristband: required (scan it, or type the MRN).")
        bad = unsafe_message("Wristband", cmd.mrn.strip("\r\n"), allow="\x1d")  # a scanned wristband's GS1 separator
        if bad:
            raise ValueError(bad)
        scan = read_identifier(cmd.mrn)
        if scan.error:
            raise ValueError(f"Wristband: {scan.error}")
        if scan.gs1 and not state.patient(cmd.pid).wristband:
            raise ValueError(
                f"Wristband: GSRN {scan.identifier} cannot be checked: this patient has no wristband ID on record. "
                "Record it with the identity (x on the patient screen), or type the MRN."
            )
        method = ("scanned" if scan.gs1 else cmd.method) + STATED_ANSWERS.get(cmd.stated, "")
        plain, gsrn = (None, scan.identifier) if scan.gs1 else (scan.identifier, None)
        return [IdentityConfirmed(cycle=cmd.cycle, day=cmd.day, name=name, dob=dob, mrn=plain, wristband=gsrn, method=method)]

    return _checked(build)


# -- m: premedication ----------------------------------------------------------------------------


@frozen
class RecordPremed(DoseCommand):
    """Pre-dose, m: record one premedication given before this dose (PRE-1).

    Its class, drug, dose and route, and the time it was given (HH:MM today, the site's local time)."""

    drug_class: str = ""
    drug: str = ""
    dose: str = ""
    time: str = ""  # HH:MM, the site's local time today (CONV-TIME-1)
    emits = (PremedGiven,)


@decider(RecordPremed)
def decide_premed(state: State, cmd: RecordPremed, now: datetime, actor: Actor) -> Decision:
    refused = _dose(state, cmd, actor, "Premedication")
    if refused:
        return refused

    def build() -> Decision:
        if cmd.drug_class not in rules.PREMED_CLASSES:
            raise ValueError(f"Class: one of {', '.join(rules.PREMED_CLASSES)} (PRE-1).")
        drug, dose = _text("Drug", cmd.drug), _text("Dose and route", cmd.dose)
        at, _note = premed_given_at(cmd.time, now)
        return [PremedGiven(cycle=cmd.cycle, day=cmd.day, drug_class=cmd.drug_class, drug=drug, dose=dose, given_at=iso_utc(at))]

    return _checked(build, "PRE-1")


# -- k: the emergency-readiness checklist --------------------------------------------------------


@frozen
class RecordChecklist(DoseCommand):
    """Pre-dose, k: record whether emergency drugs and equipment are available (PRE-10, never blocks)."""

    emergency_ready: bool = False
    emits = (ChecklistRecorded,)


@decider(RecordChecklist)
def decide_checklist(state: State, cmd: RecordChecklist, now: datetime, actor: Actor) -> Decision:
    refused = _dose(state, cmd, actor, "Checklist", CLINICIANS, "PRE-10")
    if refused:
        return refused
    if not isinstance(cmd.emergency_ready, bool):
        return refuse("Ready: yes or no.", "PRE-10")
    return [ChecklistRecorded(cycle=cmd.cycle, day=cmd.day, emergency_ready=cmd.emergency_ready)]


# -- o: override ---------------------------------------------------------------------------------


@frozen
class OverrideCheck(DoseCommand):
    """Pre-dose, o: override or confirm one check with a reason (CONV-OVR-1).

    Only the role the check names may (a prescriber or a pharmacist, never a nurse), read from the
    users log; the decision finds the check in the verdict as it stands and records its rule."""

    check: str = ""  # the check's key in the verdict
    reason: str = ""
    emits = (OverrideRecorded,)


@decider(OverrideCheck)
def decide_override(state: State, cmd: OverrideCheck, now: datetime, actor: Actor) -> Decision:
    refused = _dose(state, cmd, actor, "Override", OVERRIDE_ROLES, "CONV-OVR-1")
    if refused:
        return refused
    v = _verdict(state, cmd)
    if isinstance(v, Refusal):
        return v
    c = v.check(cmd.check)
    if c is None:
        return refuse(f"Override: no check {cmd.check!r} at C{cmd.cycle} D{cmd.day}.", "CONV-OVR-1")
    if not overridable(c):
        return refuse("This check cannot be overridden (§16.1): enter new data or correct the facts.", "CONV-OVR-1")
    if actor.role != c.overridable_by:
        return refuse(f"{c.name}: only {with_article(c.overridable_by)} may override (CONV-OVR-1).", "CONV-OVR-1")
    try:
        reason = _text("Reason", cmd.reason)
    except ValueError as exc:
        return refuse(str(exc), "CONV-OVR-1")
    return [
        OverrideRecorded(
            cycle=cmd.cycle,
            day=cmd.day,
            rule_id=c.override_rule or c.rule_ids[0],
            check=c.key,
            reason=reason,
            role=actor.role,
            decision="proceed",
        )
    ]


# -- v: the verdict ------------------------------------------------------------------------------


@frozen
class RecordVerdict(DoseCommand):
    """Pre-dose, v: record the verdict as it stands now, with the checks that decide it."""

    emits = (VerdictRecorded,)


@decider(RecordVerdict)
def decide_verdict(state: State, cmd: RecordVerdict, now: datetime, actor: Actor) -> Decision:
    refused = _dose(state, cmd, actor, "Verdict")
    if refused:
        return refused
    v = _verdict(state, cmd)
    if isinstance(v, Refusal):
        return v
    return [VerdictRecorded(cycle=cmd.cycle, day=cmd.day, overall=v.overall, deciding=[c.key for c in v.checks if c.blocking])]


# -- t: toxicities -------------------------------------------------------------------------------


@frozen
class RecordToxicity(PatientCommand):
    """Pre-dose, t: record a toxicity: CTCAE term, grade, onset, type and attribution (CTCAE v5, MOD-NH-6)."""

    term: str = ""
    grade: int = 0
    onset: str = ""  # YYYY-MM-DD
    hematologic: bool = False
    attribution: str = ""
    emits = (ToxicityRecorded,)


@decider(RecordToxicity)
def decide_toxicity(state: State, cmd: RecordToxicity, now: datetime, actor: Actor) -> Decision:
    refused = _patient(state, cmd, actor, CLINICIANS, "Toxicity")
    if refused:
        return refused

    def build() -> Decision:
        term = _text("CTCAE term", cmd.term)
        if isinstance(cmd.grade, bool) or cmd.grade not in TOXICITY_GRADES:
            raise ValueError(f"Grade: {TOXICITY_GRADES[0]} to {TOXICITY_GRADES[-1]} (CTCAE v{rules.CTCAE_VERSION}).")
        onset = iso_date(cmd.onset, "Onset")
        return [
            ToxicityRecorded(
                term=term,
                grade=int(cmd.grade),
                onset=onset.isoformat(),
                attribution=_text("Attribution", cmd.attribution, False),
                hematologic=bool(cmd.hematologic),
                ctcae_version=rules.CTCAE_VERSION,
            )
        ]

    return _checked(build, "MOD-NH-6")


@frozen
class ResolveToxicity(PatientCommand):
    """Pre-dose, (no key yet): record that a recorded toxicity recovered on a date (MOD-NH-4)."""

    toxicity: int = 0  # the version of its toxicity.recorded event
    resolved: str = ""  # YYYY-MM-DD
    emits = (ToxicityResolved,)


@decider(ResolveToxicity)
def decide_resolve_toxicity(state: State, cmd: ResolveToxicity, now: datetime, actor: Actor) -> Decision:
    refused = _patient(state, cmd, actor, CLINICIANS, "Toxicity resolved")
    if refused:
        return refused
    recorded = next(
        (ev for ev in state.events(cmd.stream) if ev.version == cmd.toxicity and ev.kind == ToxicityRecorded.KIND), None
    )
    if recorded is None:
        return refuse(f"Toxicity resolved: no toxicity recorded as entry {cmd.toxicity}.", "MOD-NH-4")

    def build() -> Decision:
        resolved = iso_date(cmd.resolved, "Resolved on")
        if resolved < date.fromisoformat(recorded.payload.onset):
            raise ValueError(f"Resolved on: {resolved.isoformat()} is before the onset ({recorded.payload.onset}).")
        return [ToxicityResolved(toxicity=cmd.toxicity, resolved=resolved.isoformat())]

    return _checked(build, "MOD-NH-4")


# -- e: ECG and electrolytes; a QT-prolonging drug -----------------------------------------------


@frozen
class RecordEcg(PatientCommand):
    """Pre-dose, e: record an ECG taken on a date (PRE-6)."""

    date: str = ""  # YYYY-MM-DD
    emits = (EcgRecorded,)


@decider(RecordEcg)
def decide_ecg(state: State, cmd: RecordEcg, now: datetime, actor: Actor) -> Decision:
    refused = _patient(state, cmd, actor, CLINICIANS, "ECG", "PRE-6")
    if refused:
        return refused
    return _checked(lambda: [EcgRecorded(date=iso_date(cmd.date, "Date").isoformat())], "PRE-6")


@frozen
class RecordElectrolytes(PatientCommand):
    """Pre-dose, e: record electrolytes taken on a date (PRE-6)."""

    date: str = ""  # YYYY-MM-DD
    emits = (ElectrolytesRecorded,)


@decider(RecordElectrolytes)
def decide_electrolytes(state: State, cmd: RecordElectrolytes, now: datetime, actor: Actor) -> Decision:
    refused = _patient(state, cmd, actor, CLINICIANS, "Electrolytes", "PRE-6")
    if refused:
        return refused
    return _checked(lambda: [ElectrolytesRecorded(date=iso_date(cmd.date, "Date").isoformat())], "PRE-6")


@frozen
class RecordQtDrug(PatientCommand):
    """Pre-dose, (no key yet): record a QT-prolonging drug and the date it started (PRE-6, WARN-QT-1)."""

    drug: str = ""
    started_on: str = ""  # YYYY-MM-DD
    emits = (QtDrugRecorded,)


@decider(RecordQtDrug)
def decide_qt_drug(state: State, cmd: RecordQtDrug, now: datetime, actor: Actor) -> Decision:
    refused = _patient(state, cmd, actor, CLINICIANS, "QT-prolonging drug", "PRE-6")
    if refused:
        return refused
    return _checked(
        lambda: [QtDrugRecorded(drug=_text("Drug", cmd.drug), started_on=iso_date(cmd.started_on, "Started on").isoformat())],
        "PRE-6",
        "WARN-QT-1",
    )


# -- B: bilirubin cause --------------------------------------------------------------------------


@frozen
class RecordBilirubinCause(PatientCommand):
    """Pre-dose, B: record that the bilirubin rise is due to Gilbert's syndrome or hemolysis (a prescriber; CONV-LAB-2)."""

    cause: str = ""  # "gilbert" | "hemolysis"
    emits = (BilirubinCauseRecorded,)


@decider(RecordBilirubinCause)
def decide_bilirubin_cause(state: State, cmd: RecordBilirubinCause, now: datetime, actor: Actor) -> Decision:
    refused = _patient(state, cmd, actor, (BILIRUBIN_CAUSE_ROLE,), "Bilirubin cause", "CONV-LAB-2")
    if refused:
        return refused
    if cmd.cause not in BILIRUBIN_CAUSES:
        return refuse(f"Cause: one of {', '.join(BILIRUBIN_CAUSES)}.", "CONV-LAB-2")
    return [BilirubinCauseRecorded(cause=cmd.cause)]

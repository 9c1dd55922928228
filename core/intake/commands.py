"""The intake's commands: register a patient, record a form, correct an entry.

Each command carries what the user typed (``values``: field → text, or a bool for a checkbox) and
the unusual values they confirmed (CONV-INPUT-1). The decision checks the whole form again on the
record as it stands (:func:`bedside.core.intake.validate`: today's date, the patient's date of birth,
the MRNs of the other patients) and derives what core derives: the BSA with the site's formula
(CONV-BSA-2) and the blast count (PRE-3). Any active user may record intake.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from attrs import Factory, field, frozen

from ..auth.users import ROLES
from ..calc import bsa as compute_bsa
from ..commands import Actor, Command, Decision, Refusal, State, decider, refuse, require_role
from ..text import unsafe_message
from .events import SECTION_PAYLOADS, EntryCorrected, SectionPayload
from .forms import INTAKE_ORDER, PATIENT_PREFIX, SECTIONS
from .patient import Patient, patient_id_for_mrn
from .summary import form_values
from .validate import clean_text, validate


def _values(v: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict(v)


@frozen
class RegisterPatient(Command):
    """Patient list, n then ctrl+s: register a patient (identity, IND-1; the MRN unique)."""

    values: Mapping[str, Any] = field(converter=_values)
    confirmed: frozenset[str] = field(default=frozenset(), converter=frozenset)
    # The record's id follows from the MRN (the MRN is unique): two terminals registering one MRN at the same
    # moment write to the same new stream, so the second loses the race, is decided again and is
    # refused; random ids let both succeed, one patient with two records.
    pid: str = field(default=Factory(lambda self: patient_id_for_mrn(str(self.values.get("mrn", ""))), takes_self=True))
    emits = (SECTION_PAYLOADS["identity"],)

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.pid

    @classmethod
    def of_record(cls, record: Mapping[str, Any]) -> RegisterPatient:
        """The command for an identity record already checked (tests, tools)."""
        values, confirmed = form_values("identity", record)
        return cls(values, confirmed)


@frozen
class RecordSection(Command):
    """Patient screen, enter then ctrl+s: record one intake form (diagnosis, measurement, labs …)."""

    pid: str
    section: str
    values: Mapping[str, Any] = field(converter=_values)
    confirmed: frozenset[str] = field(default=frozenset(), converter=frozenset)
    emits = tuple(SECTION_PAYLOADS[s] for s in INTAKE_ORDER)

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.pid

    @classmethod
    def of_record(cls, pid: str, section: str, record: Mapping[str, Any]) -> RecordSection:
        values, confirmed = form_values(section, record)
        return cls(pid, section, values, confirmed)


@frozen
class CorrectEntry(Command):
    """Patient screen, x then ctrl+s: correct an intake entry, with a reason (the old values stay)."""

    pid: str
    version: int
    values: Mapping[str, Any] = field(converter=_values)
    reason: str = ""
    confirmed: frozenset[str] = field(default=frozenset(), converter=frozenset)
    emits = (EntryCorrected,)

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.pid

    @classmethod
    def of_record(cls, p: Patient, version: int, record: Mapping[str, Any], reason: str) -> CorrectEntry:
        entry = p.entry(version)
        values, confirmed = form_values(entry.section if entry else "identity", record)
        return cls(p.id, version, values, reason, confirmed)


def _checked(
    section: str, values: Mapping[str, Any], confirmed: frozenset[str], state: State, dob: date | None, others: str | None
) -> dict[str, Any] | Refusal:
    """The record a valid form stores (with what core derives), or the form's refusal; ``others``:
    for an identity, the patient whose MRN and wristband the others' must not be (None: none)."""
    taken = [p for p in state.index.values() if p.id != others] if section == "identity" and others is not None else []
    result = validate(
        section,
        values,
        today=state.today,
        confirmed=confirmed,
        dob=dob,
        taken_mrns=[p.mrn for p in taken],
        taken_wristbands=[p.wristband for p in taken],
        wristband_scheme=state.site.wristband_scheme,
    )
    if result.errors:
        return refuse(" ".join(result.errors.values()))
    if not result.ok:  # unusual values nobody confirmed
        return refuse(" ".join(result.confirm.values()), "CONV-INPUT-1")
    assert result.data is not None
    return _derived(section, result.data, state)


def _derived(section: str, data: dict[str, Any], state: State) -> dict[str, Any]:
    """CONV-BSA-2: a measurement stores its BSA, computed with the site's formula of the moment."""
    if section != "measurement":
        return data
    b = compute_bsa(Decimal(data["height_cm"]), Decimal(data["weight_kg"]), state.site.bsa_formula)
    return {**data, "bsa_formula": b.formula, "bsa_m2": str(b.exact)}


def _payload(section: str, data: Mapping[str, Any]) -> SectionPayload:
    return SECTION_PAYLOADS[section](**data)  # a key the class does not declare is a TypeError, never dropped


def _taken(state: State, cmd: RegisterPatient) -> Refusal:
    """Why a registration's record exists already: the same MRN registered meanwhile (another
    terminal), or the record first registered with this MRN now carries another one."""
    mrn = str(cmd.values.get("mrn", "")).strip().upper()
    p = state.patients.get(cmd.pid)
    if p is not None and p.mrn.upper() == mrn:  # the form's own words for a taken MRN
        taken = _checked("identity", cmd.values, cmd.confirmed, state, None, "")  # every record, this one too
        if isinstance(taken, Refusal):
            return taken
    if p is None or p.mrn.upper() == mrn:
        return refuse(
            f"MRN: {mrn} was registered just now (another terminal, or this one): its record exists already; "
            "open it from the patient list."
        )
    return refuse(
        f"MRN: the record first registered as {mrn} exists already, now under MRN {p.mrn} (corrected since): "
        "check both records with an admin before registering this patient."
    )


def _patient(state: State, pid: str, what: str) -> Patient | Refusal:
    p = state.patients.get(pid)
    return p if p is not None else refuse(f"{what}: no such patient.")


@decider(RegisterPatient)
def decide_register(state: State, cmd: RegisterPatient, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ROLES, "Register a patient")
    if refused:
        return refused
    if state.events(cmd.stream):
        return _taken(state, cmd)
    data = _checked("identity", cmd.values, cmd.confirmed, state, None, cmd.pid)
    return data if isinstance(data, Refusal) else [_payload("identity", data)]


@decider(RecordSection)
def decide_record(state: State, cmd: RecordSection, now: datetime, actor: Actor) -> Decision:
    title = SECTIONS[cmd.section].title if cmd.section in SECTIONS else cmd.section
    refused = require_role(actor, ROLES, f"Record {title.lower()}")
    if refused:
        return refused
    if cmd.section == "identity":
        return refuse("Identity is set at registration; use x to correct it.")
    if cmd.section not in INTAKE_ORDER:
        return refuse(f"Intake: no form named {cmd.section!r}.")
    p = _patient(state, cmd.pid, title)
    if isinstance(p, Refusal):
        return p
    data = _checked(cmd.section, cmd.values, cmd.confirmed, state, p.dob, None)
    return data if isinstance(data, Refusal) else [_payload(cmd.section, data)]


def _reason(reason: str) -> str | Refusal:
    refused = unsafe_message("Reason", reason)
    if refused:
        return refuse(refused)
    text = clean_text(reason)
    return text if text else refuse("Reason: a correction needs a reason.")


@decider(CorrectEntry)
def decide_correct(state: State, cmd: CorrectEntry, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ROLES, "Correct an entry")
    if refused:
        return refused
    p = _patient(state, cmd.pid, "Correct an entry")
    if isinstance(p, Refusal):
        return p
    entry = p.entry(cmd.version)
    if entry is None:
        return refuse(f"no entry {cmd.version} to correct")
    reason = _reason(cmd.reason)
    if isinstance(reason, Refusal):
        return reason
    data = _checked(entry.section, cmd.values, cmd.confirmed, state, p.dob, p.id)
    if isinstance(data, Refusal):
        return data
    _payload(entry.section, data)  # the corrected record holds only its form's keys
    return [EntryCorrected(cmd.version, entry.section, reason, data)]

"""The commands of the laboratory feed and its quarantine (issue 20).

- :class:`ImportLabs` (the feed: ``bedside import labs``, the watched folder, the MLLP listener):
  apply one message to the patient it names, or refuse with the reason; the feed then keeps the
  message in the quarantine (:class:`QuarantineLabs`). A message already recorded or quarantined
  (the same digest) changes nothing; the same message id with other content is a duplicate.
- :class:`AssignQuarantined` and :class:`ResolveQuarantine` (Lab inbox, admins): apply a held
  message to the patient an admin names, with a reason (their confirmation stands for an unusual
  value's, CONV-INPUT-1), then mark it assigned; or reject it, with a reason.
- :class:`AnswerTransfusion` (pre-dose, a clinician): whether a platelet transfusion came before a
  count the laboratory sent (CONV-HEM-3; a laboratory message does not say).

The feed's actor is the operating-system user running it (``os:<name>``) or an admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from attrs import frozen

from ..auth.commands import by_os_or_admin
from ..clock import site_zone
from ..commands import Actor, Command, Decision, Refusal, State, decider, refuse, require_role
from ..intake.events import LabsImported, TransfusionAnswered
from ..intake.forms import PATIENT_PREFIX
from ..intake.validate import clean_text
from ..text import unsafe_message
from .check import Problem, identity, panels, taken
from .events import LABS_STREAM, RAW_KEPT_CHARS, LabsQuarantined, QuarantineResolved
from .inbox import Held, fold_inbox, held_digests
from .model import LabMessage, Unreadable
from .parse import parse_any

WHAT = "Laboratory results"


def _refusal(p: Problem) -> Refusal:
    return Refusal(p.reason, p.rules)


def _records(msg: LabMessage, got: Sequence[dict], not_used: Sequence[str], **extra: object) -> list[LabsImported]:
    return [
        LabsImported(
            **panel,
            sender=_safe_line(msg.sender, 200),
            message_id=_safe_line(msg.message_id, 200),
            digest=msg.digest,
            not_used=list(not_used) or None,
            **extra,  # type: ignore[arg-type]
        )
        for panel in got
    ]


def _already(state: State, pid: str, msg: LabMessage) -> Decision | None:
    """[] when this very message is recorded or quarantined already; a refusal when its id was used
    for other content (a duplicate); None when it is new."""
    if msg.digest in held_digests(state.events(LABS_STREAM)):
        return []
    key = (_safe_line(msg.sender, 200), _safe_line(msg.message_id, 200))  # as stored
    seen = taken(state.events(PATIENT_PREFIX + pid), LabsImported.KIND).get(key)
    if seen == msg.digest:
        return []
    if seen is not None:
        return refuse(
            f"message {msg.message_id} from {msg.sender or 'the sender'} was imported already with other content: duplicate"
        )
    return None


@frozen
class ImportLabs(Command):
    """bedside import labs: apply one laboratory message to the patient it names."""

    pid: str
    message: LabMessage
    emits = (LabsImported,)

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.pid


@decider(ImportLabs)
def decide_import(state: State, cmd: ImportLabs, now: datetime, actor: Actor) -> Decision:
    refused = by_os_or_admin(actor, WHAT)
    if refused:
        return refused
    if cmd.pid not in state.index:
        return refuse("no such patient on this ward: unmatched")
    done = _already(state, cmd.pid, cmd.message)
    if done is not None:
        return done
    p = state.patient(cmd.pid)
    problem = identity(cmd.message, p.mrn, p.dob, p.name)
    if problem:
        return _refusal(problem)
    got = panels(cmd.message, site_zone(state.site.time_zone), now, p.dob)
    if isinstance(got, Problem):
        return _refusal(got)
    return _records(cmd.message, got.panels, got.not_used)


@frozen
class QuarantineLabs(Command):
    """bedside import labs: keep a message that was not applied, with the reason."""

    message_id: str
    sender: str
    digest: str
    format: str
    reason: str
    rules: tuple[str, ...]
    raw: str
    source: str
    stream: ClassVar[str] = LABS_STREAM
    emits = (LabsQuarantined,)

    @classmethod
    def of(cls, msg: LabMessage | Unreadable, reason: str, rules: Sequence[str], source: str) -> QuarantineLabs:
        fmt = msg.kind if isinstance(msg, LabMessage) else "unreadable"
        return cls(msg.message_id, msg.sender, msg.digest, fmt, reason, tuple(rules), msg.raw, source)


def _safe_line(text: str, limit: int) -> str:
    """A feed's text kept for an admin: control characters shown as spaces (the raw message keeps them)."""
    return "".join(c if c.isprintable() else " " for c in text)[:limit]


@decider(QuarantineLabs)
def decide_quarantine(state: State, cmd: QuarantineLabs, now: datetime, actor: Actor) -> Decision:
    refused = by_os_or_admin(actor, WHAT)
    if refused:
        return refused
    if cmd.digest in held_digests(state.events(LABS_STREAM)):
        return []  # the same message again: kept once
    return [
        LabsQuarantined(
            message_id=_safe_line(cmd.message_id, 200),
            sender=_safe_line(cmd.sender, 200),
            digest=cmd.digest,
            format=cmd.format,
            reason=_safe_line(cmd.reason, 2000),
            rules=list(cmd.rules),
            raw=cmd.raw[:RAW_KEPT_CHARS],
            source=_safe_line(cmd.source, 500),
            cut=len(cmd.raw) > RAW_KEPT_CHARS,
        )
    ]


def _held(state: State, entry: int) -> Held | Refusal:
    held = next((h for h in fold_inbox(state.events(LABS_STREAM)) if h.entry == entry), None)
    if held is None:
        return refuse(f"Lab inbox: no quarantine entry {entry}.")
    if not held.pending:
        return refuse(f"Lab inbox: entry {entry} was {held.resolved.outcome} already by {held.resolved_by}.")
    return held


def _reason(text: str, what: str) -> str | Refusal:
    refused = unsafe_message("Reason", text)
    if refused:
        return refuse(refused)
    cleaned = clean_text(text)
    return cleaned if cleaned else refuse(f"Reason: {what} needs a reason.")


def _message_of(held: Held) -> LabMessage | Refusal:
    if held.message.cut:
        return refuse("Lab inbox: only the start of this message was kept (too long): it cannot be assigned; reject it.")
    read = parse_any(held.message.raw)
    one = read[0] if len(read) == 1 else None
    if not isinstance(one, LabMessage):
        why = one.reason if isinstance(one, Unreadable) else "it does not hold one message"
        return refuse(f"Lab inbox: this message cannot be read ({why}): it cannot be assigned; reject it.")
    return one


@frozen
class AssignQuarantined(Command):
    """Lab inbox, a (an admin): apply a quarantined message to a named patient, with a reason."""

    entry: int
    pid: str
    reason: str
    emits = (LabsImported,)

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.pid


@decider(AssignQuarantined)
def decide_assign(state: State, cmd: AssignQuarantined, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ("admin",), "Assign a laboratory message") or (
        None if cmd.pid in state.index else refuse("Assign: no such patient on this ward.")
    )
    if refused:
        return refused
    if any(ev.data.get("assigned_from") == cmd.entry for ev in state.events(PATIENT_PREFIX + cmd.pid)):
        return []  # applied already (the resolution was not recorded yet): nothing to add
    held = _held(state, cmd.entry)
    if isinstance(held, Refusal):
        return held
    reason = _reason(cmd.reason, "an assignment")
    if isinstance(reason, Refusal):
        return reason
    msg = _message_of(held)
    if isinstance(msg, Refusal):
        return msg
    key = (_safe_line(msg.sender, 200), _safe_line(msg.message_id, 200))
    seen = taken(state.events(PATIENT_PREFIX + cmd.pid), LabsImported.KIND).get(key)
    if seen is not None:
        return refuse(f"Assign: message {msg.message_id} is in this patient's record already.")
    p = state.patient(cmd.pid)
    got = panels(msg, site_zone(state.site.time_zone), now, p.dob, confirmed=True)
    if isinstance(got, Problem):
        return refuse(f"Assign: {got.reason}", *got.rules)
    return _records(msg, got.panels, got.not_used, assigned_from=cmd.entry, assigned_reason=reason)


@frozen
class ResolveQuarantine(Command):
    """Lab inbox (an admin, after AssignQuarantined, or r to reject): record what was done with a quarantined message."""

    entry: int
    outcome: str  # "assigned" or "rejected"
    reason: str
    pid: str | None = None
    stream: ClassVar[str] = LABS_STREAM
    emits = (QuarantineResolved,)


@decider(ResolveQuarantine)
def decide_resolve(state: State, cmd: ResolveQuarantine, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ("admin",), "Lab inbox")
    if refused:
        return refused
    held = _held(state, cmd.entry)
    if isinstance(held, Refusal):
        return held
    if cmd.outcome not in ("assigned", "rejected"):
        return refuse("Lab inbox: a message is assigned or rejected.")
    reason = _reason(cmd.reason, "a rejection" if cmd.outcome == "rejected" else "an assignment")
    if isinstance(reason, Refusal):
        return reason
    if cmd.outcome == "assigned":
        applied = cmd.pid is not None and any(
            ev.data.get("assigned_from") == cmd.entry for ev in state.events(PATIENT_PREFIX + cmd.pid)
        )
        if not applied:
            return refuse("Lab inbox: assign the message to the patient first (it is not in their record).")
    return [QuarantineResolved(cmd.entry, cmd.outcome, reason, cmd.pid if cmd.outcome == "assigned" else None)]


CLINICIANS = ("nurse", "pharmacist", "prescriber")  # who answers a clinical question (an admin does not)
TRANSFUSION_ANSWERS = ("no", "yes")


@frozen
class AnswerTransfusion(Command):
    """Pre-dose, T: whether a platelet transfusion came before a platelet count the laboratory sent
    (CONV-HEM-3, MOD-HEM-5). ``entry`` is that labs record's version; "no" makes the count
    transfusion-independent, "yes" keeps it out of dosing; an answer can be changed (both kept)."""

    pid: str
    entry: int
    answer: str
    emits = (TransfusionAnswered,)

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.pid


@decider(AnswerTransfusion)
def decide_transfusion(state: State, cmd: AnswerTransfusion, now: datetime, actor: Actor) -> Decision:
    what = "Platelet transfusion before this count"
    refused = require_role(actor, CLINICIANS, what, "CONV-HEM-3")
    if refused:
        return refused
    if cmd.pid not in state.index:
        return refuse(f"{what}: no such patient on this ward.")
    if cmd.answer not in TRANSFUSION_ANSWERS:
        return refuse(f"{what}: answer yes or no.", "CONV-HEM-3")
    entry = state.patient(cmd.pid).entry(cmd.entry)
    if entry is None or entry.section != "labs" or entry.data.get("platelets") in (None, ""):
        return refuse(f"{what}: record {cmd.entry} holds no platelet count.", "CONV-HEM-3")
    if entry.data.get("source") != "laboratory":
        return refuse(f"{what}: a typed count is answered on its form (correct the entry with x).", "CONV-HEM-3")
    if entry.data.get("platelet_transfusion") == cmd.answer:
        return []  # answered so already: nothing to add
    return [TransfusionAnswered(cmd.entry, cmd.answer)]

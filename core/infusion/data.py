"""Valid ``data`` for the monitor's events, checked field by field (each error names the field)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .. import rules
from ..events import Payload, iso_utc
from ..text import unsafe_message
from .events import (
    DOSE_KINDS,
    INFUSION_PAUSED,
    INFUSION_STARTED,
    INFUSION_STOPPED,
    OBSERVATION_INCOMPLETE,
    PAYLOADS,
    REACTION_GRADED,
    REACTION_NOTIFIED,
    REACTION_RESOLVED,
    REACTION_STARTED,
    REACTION_TREATED,
    VITALS_RECORDED,
)
from .model import OUTCOMES, ROUTES, Alert, MonitorState, _grade_text, _parse_grade, _text, _utc, dose_label
from .vitals import VITALS_FIELDS

_MAX_TEXT = 500


def _refuse_controls(fields: Mapping[str, Any], name: str, label: str) -> None:
    """Typed text with C0/C1, DEL or bidi controls is refused, naming the field (core/text.py)."""
    value = fields.get(name)
    if isinstance(value, str) and unsafe_message(label, value):
        raise ValueError(unsafe_message(label, value))


def _need_text(fields: Mapping[str, Any], name: str, label: str) -> str:
    _refuse_controls(fields, name, label)
    text = _text(fields.get(name))
    if not text:
        raise ValueError(f"{label}: required.")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{label}: at most {_MAX_TEXT} characters.")
    return text


def _started(fields: Mapping[str, Any]) -> dict[str, Any]:
    route = fields.get("route", "bag")
    if route not in ROUTES:
        raise ValueError("route: bag or syringe.")
    flush = fields.get("flush_min", 0)
    if isinstance(flush, bool) or not isinstance(flush, int) or flush < 0:
        raise ValueError("flush_min: whole minutes ≥ 0 (PREP-9).")
    deadline = fields.get("stability_deadline")
    data: dict[str, Any] = dict(
        route=route,
        flush_min=flush,
        stability_deadline=None if deadline is None else iso_utc(_utc("stability_deadline", deadline)),
    )
    label = fields.get("label_deadline")
    if label is not None:
        data["label_deadline"] = iso_utc(_utc("label_deadline", label))
    bag = fields.get("bag_code")
    if bag:
        if not isinstance(bag, str) or not bag.isalnum() or len(bag) > 20:
            raise ValueError("bag_code: the bag label's code (letters and digits).")
        data["bag_code"] = bag
    return data


def _reason(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": _need_text(fields, "reason", "Reason")}


def _incomplete(fields: Mapping[str, Any]) -> dict[str, Any]:
    data = _reason(fields)
    _refuse_controls(fields, "who", "Who")
    who = _text(fields.get("who"))
    if who:
        data["who"] = who
    return data


def _vitals(fields: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, label, *_r in VITALS_FIELDS:
        if name not in fields:
            raise ValueError(f"{label}: required (validate with validate_vitals first).")
        data[name] = fields[name]
    if fields.get("confirmed_unusual"):
        data["confirmed_unusual"] = list(fields["confirmed_unusual"])
    if fields.get("point"):
        data["point"] = str(fields["point"])
    return data


def _graded(fields: Mapping[str, Any]) -> dict[str, Any]:
    grade = _parse_grade(fields.get("grade"))
    if grade is None:
        raise ValueError("Grade: CTCAE Grade 1, 2, 3 or 4, or anaphylaxis (CTCAE-1).")
    data: dict[str, Any] = dict(grade=grade, ctcae_version=rules.CTCAE_VERSION)
    _refuse_controls(fields, "correction_reason", "Reason")
    correction = _text(fields.get("correction_reason"))
    if correction:
        data["correction_reason"] = correction
    return data


def _resolved(fields: Mapping[str, Any]) -> dict[str, Any]:
    outcome = fields.get("outcome")
    if outcome not in OUTCOMES:
        raise ValueError("Outcome: resume or stop.")
    return {"outcome": outcome}


_FIELDS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    INFUSION_STARTED: _started,
    INFUSION_PAUSED: _reason,
    INFUSION_STOPPED: _reason,
    OBSERVATION_INCOMPLETE: _incomplete,
    VITALS_RECORDED: _vitals,
    REACTION_STARTED: lambda fields: {"symptoms": _need_text(fields, "symptoms", "Symptoms")},
    REACTION_GRADED: _graded,
    REACTION_NOTIFIED: lambda fields: {"who": _need_text(fields, "who", "Who was notified")},
    REACTION_TREATED: lambda fields: {"treatment": _need_text(fields, "treatment", "Treatment (or 'none')")},
    REACTION_RESOLVED: _resolved,
}
_NUMBERED = (REACTION_GRADED, REACTION_NOTIFIED, REACTION_TREATED, REACTION_RESOLVED)


def event_data(kind: str, dose_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """Valid ``data`` for an event of ``kind`` (see the package docstring); raises ValueError naming the field."""
    if kind not in DOSE_KINDS:
        raise ValueError(f"unknown infusion event kind {kind!r}")
    if not isinstance(dose_id, str) or not dose_id.strip():
        raise ValueError("dose_id: required.")
    data: dict[str, Any] = {"dose_id": dose_id, "at": iso_utc(_utc("at", at))}
    reaction = fields.get("reaction")
    if reaction is not None and (isinstance(reaction, bool) or not isinstance(reaction, int) or reaction < 1):
        raise ValueError("reaction: the reaction's number (1, 2, …).")
    extra = _FIELDS.get(kind)
    if extra is not None:
        data.update(extra(fields))
    if reaction is not None and kind in _NUMBERED:
        data["reaction"] = reaction
    return data


def payload(kind: str, dose_id: str, at: datetime, **fields: Any) -> Payload:
    """The typed event of ``kind`` (core/infusion/events.py) built from :func:`event_data`."""
    return PAYLOADS[kind].from_data(event_data(kind, dose_id, at, **fields))


def grade_correction_data(
    state: MonitorState, reaction: int, grade: object, reason: object, role: str, at: datetime
) -> dict[str, Any]:
    """``reaction.graded`` data correcting a reaction's grade (CONV-IRR-1, CONV-OVR-1, §16.1).

    The worst grade otherwise stands; only this recorded correction, by a prescriber, with a reason,
    replaces it, and so lifts (or imposes) the permanent-discontinuation block of a severe grade.
    Raises ValueError naming the field: a role other than prescriber, an empty reason, an unknown or
    ungraded reaction, or the grade it already has."""
    if role != "prescriber":
        raise ValueError("Grade correction: only a prescriber may correct a reaction's grade (CONV-IRR-1, CONV-OVR-1).")
    why = _text(reason)
    if not why:
        raise ValueError("Reason: required (why the recorded grade was wrong; CONV-IRR-1).")
    r = next((x for x in state.reactions if x.number == reaction), None)
    if r is None:
        raise ValueError(f"Reaction: there is no reaction {reaction} on {dose_label(state.dose_id)}.")
    if r.grade is None:
        raise ValueError(f"Reaction {reaction} is not graded yet: grade it (e) rather than correct it.")
    new = _parse_grade(grade)
    if new is None:
        raise ValueError("Grade: CTCAE Grade 1, 2, 3 or 4, or anaphylaxis (CTCAE-1).")
    if new == r.grade:
        raise ValueError(f"Grade: reaction {reaction} is already {_grade_text(new)}.")
    data = event_data(REACTION_GRADED, state.dose_id, at, grade=new, correction_reason=why, reaction=reaction)
    data["corrected_by_role"] = "prescriber"
    return data


def acknowledgement_data(alert: Alert | str, at: datetime, dose_id: str | None = None) -> dict[str, Any]:
    """``data`` of an ``alert.acknowledged`` event (WARN-ALERT-1)."""
    alert_id = alert.id if isinstance(alert, Alert) else alert
    if not isinstance(alert_id, str) or not alert_id:
        raise ValueError("alert_id: required.")
    data: dict[str, Any] = {"alert_id": alert_id, "at": iso_utc(_utc("at", at))}
    if dose_id:
        data["dose_id"] = dose_id
    return data

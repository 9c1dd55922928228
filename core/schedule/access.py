"""What the timeline screen asks core: may this user take an action now (or whose sign-in is
needed, and why), and the dose in mg to show for a dose (never computed in the screen).

The decisions (core/schedule/commands.py) apply the same rules: a screen only uses these to ask
for the right person before sending the command, which is decided again on a fresh record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from attrs import frozen

from ..commands import Actor
from ..events import Event
from .model import Dose, Proposal
from .vocab import GIVEN
from .voids import VoidedEntry, describe_entry, void_needs, voided_entries

CLINICIANS = ("nurse", "pharmacist", "prescriber")  # who records schedule entries (an admin does not)
PRESCRIBER_ACTIONS = {
    "levels": "Levels are confirmed by a prescriber (CONV-MOD-3, CONV-RESP-4).",
    "discontinue": "A prescriber records a permanent discontinuation (§16.1).",
}
ACTIONS = (
    "start",
    "give",
    "hold",
    "recover",
    "move",
    "omit",
    "extend",
    "response",
    "decide",
    "levels",
    "discontinue",
    "in_error",
)


@frozen
class ActionAccess:
    """Whether the user may take the action; if not, the role whose sign-in may (None: nobody
    else either, or no such user) and why, in words for the screen."""

    allowed: bool
    needs_role: str | None = None
    why: str = ""


def access(action: str, actor: Actor, *, proposal: Proposal | None = None, entry: Event | None = None) -> ActionAccess:
    """May ``actor`` take ``action`` (one of :data:`ACTIONS`) now? ``proposal``: the one to decide;
    ``entry``: the latest schedule entry, for "in_error"."""
    if action not in ACTIONS:
        raise ValueError(f"no timeline action {action!r}")
    if not actor.known:
        return ActionAccess(False, None, f"'{actor.username}' is not an active user.")
    if action == "decide":
        if proposal is None:  # decided meanwhile (another terminal), or never open
            return ActionAccess(False, None, "That proposal is not open any more: look at the timeline again.")
        return _role(actor, proposal.needs_role, f"{proposal.id} needs a {proposal.needs_role} (CONV-OVR-1).")
    if action == "in_error":
        if entry is None:
            return ActionAccess(False, None, "There is no schedule entry to enter in error.")
        role = void_needs(entry, actor.username, actor.role)
        what = describe_entry(entry)
        return ActionAccess(
            role is None,
            role,
            "" if role is None else f"{what} was recorded by {entry.actor}: they or a prescriber may mark it in error.",
        )
    if action in PRESCRIBER_ACTIONS:
        return _role(actor, "prescriber", PRESCRIBER_ACTIONS[action])
    if actor.role not in CLINICIANS:
        return ActionAccess(
            False,
            None,
            f"Schedule entries are recorded by a nurse, pharmacist or prescriber ('{actor.username}' is an {actor.role}).",
        )
    return ActionAccess(True)


def _role(actor: Actor, role: str, why: str) -> ActionAccess:
    return ActionAccess(True) if actor.role == role else ActionAccess(False, role, why)


# -- the dose in mg --------------------------------------------------------------------------------


@frozen
class DoseAmount:
    """The dose in mg of one dose and where the number comes from, in words for the screen.

    ``source``: "given" (as recorded), "preparation" (the preparation's calculation, the number the
    start gate uses), "estimate" (from the current height, weight and the site's BSA formula: no
    preparation is calculated yet at this level), or "none" (``mg`` None, ``text`` says why)."""

    mg: Decimal | None
    level: Decimal | None
    source: str
    text: str


def dose_amount(view: Any, dose: Dose) -> DoseAmount:
    """The dose in mg to show (and to record with ``g``), read once per patient view."""
    return view.memo(("schedule.dose_amount", dose.cycle, dose.day), lambda: _amount(view, dose))


def _amount(view: Any, dose: Dose) -> DoseAmount:
    if dose.state == GIVEN and dose.dose_mg is not None:
        return DoseAmount(dose.dose_mg, dose.level, "given", f"{dose.dose_mg} mg (as given)")
    if dose.level is None:
        return DoseAmount(None, None, "none", f"no dose in mg: no level yet ({dose.level_basis})")
    calc_ = view.prep(f"c{dose.cycle}d{dose.day}").calculation
    if calc_ is not None and Decimal(str(calc_.data["level_mg_m2"])) == dose.level:
        mg = Decimal(str(calc_.data["dose_mg"]))
        return DoseAmount(mg, dose.level, "preparation", f"{mg} mg (the preparation's calculation, by {calc_.actor})")
    return _estimate(view, dose)


def _estimate(view: Any, dose: Dose) -> DoseAmount:
    """An estimate from the current BSA (CONV-BSA-2: the site's formula), when no preparation is
    calculated at this level."""
    from .. import calc

    m = view.patient.current("measurement")
    if m is None:
        return DoseAmount(None, dose.level, "none", "no dose in mg: record height and weight first (CONV-BSA-2)")
    formula = view.site.bsa_formula
    try:
        p = calc.prepare(Decimal(m["height_cm"]), Decimal(m["weight_kg"]), dose.level, formula)  # type: ignore[arg-type]
    except ValueError as exc:
        return DoseAmount(None, dose.level, "none", f"no dose in mg: {exc}")
    return DoseAmount(
        p.dose_mg,
        dose.level,
        "estimate",
        f"{p.dose_mg} mg (an estimate from the current BSA {p.bsa.shown} m², {formula}: no preparation calculated at this level)",
    )


def voided_of(view: Any) -> tuple[VoidedEntry, ...]:
    """The patient's entries recorded in error, newest first (read once per patient view)."""
    return view.memo("schedule.voided", lambda: voided_entries(view.events))

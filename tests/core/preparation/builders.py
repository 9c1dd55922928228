"""Test builders: the preparation's events as the code before the commands built them (issue 16).

For the tests that check the preparation's rules directly, without a ledger: each takes the actor's
role from its caller, which no screen may do (screens send a command to ``Ledger.execute``; its
decision reads the role from the users log). Each runs the same check as the command's decision
(core/preparation/checks.py), built from the same event class. Not part of the app."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from bedside.core.events import NewEvent
from bedside.core.preparation import checks
from bedside.core.preparation.state import PrepState


def calculation_event(
    stream: str,
    actor: str,
    at: datetime,
    dose: str,
    cycle: int,
    day: int,
    level: Decimal,
    level_basis: str,
    measurement: Mapping[str, Any],
    formula: str,
    syringe_volume_ml: Decimal | None = None,
) -> NewEvent:
    """The preparer's calculation from the current measurement (raises ValueError when refused)."""
    return checks.calculation(dose, cycle, day, level, level_basis, measurement, formula, syringe_volume_ml).new(
        stream, actor, at
    )


def syringe_volume_event(st: PrepState, stream: str, actor: str, actor_role: str, at: datetime, volume_text: str) -> NewEvent:
    return checks.syringe_volume(st, actor_role, volume_text).new(stream, actor, at)


def step_event(
    st: PrepState,
    stream: str,
    actor: str,
    actor_role: str,
    now: datetime,
    step: str,
    at: datetime,
    vials_kept: str | None = None,
    reason: str | None = None,
) -> NewEvent:
    return checks.step(st, actor_role, actor, now, step, at, vials_kept, reason).new(stream, actor, now)


def override_event(st: PrepState, stream: str, actor: str, actor_role: str, now: datetime, rule: str, reason: str) -> NewEvent:
    return checks.override(st, actor_role, now, rule, reason).new(stream, actor, now)


def syringe_event(
    st: PrepState, stream: str, actor: str, actor_role: str, at: datetime, set_text: str, primed: bool, flush_ml_text: str
) -> NewEvent:
    return checks.syringe(st, actor_role, set_text, primed, flush_ml_text).new(stream, actor, at)


def verification_event(
    st: PrepState,
    stream: str,
    verifier: str,
    verifier_role: str,
    at: datetime,
    entered: Mapping[str, str],
    tolerance: Decimal = Decimal("0"),
) -> NewEvent:
    return checks.verification(st, verifier, verifier_role, entered, tolerance).new(stream, verifier, at)

"""The preparation screen's commands, each with its one decision (core/commands.py).

Every decision reads the actor's role from the users log (``actor``), the dose's fold from the
patient's projection, and the calculation's inputs (the current height and weight, the site's
BSA formula, the timeline's level) from the state: a screen sends only what its user chose."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from attrs import frozen

from ..commands import Actor, Command, Decision, Refusal, State, decider, refuse, refused_unless, require_role
from ..intake import PATIENT_PREFIX
from . import checks
from .events import CartonScanned, PrepCalculated, PrepOverride, PrepStep, PrepSyringe, PrepVerification
from .state import PrepState, dose_id
from .view import dose_level, stale, verify_refusal


@frozen
class PrepCommand(Command):
    """Base of the preparation's commands: one patient's dose (not a command itself)."""

    pid: str
    dose_id: str

    @property
    def stream(self) -> str:  # type: ignore[override]
        return PATIENT_PREFIX + self.pid


def _known(actor: Actor, what: str) -> Refusal | None:
    """Anyone acting must be an active user (their role is then checked by the rule itself)."""
    return None if actor.known else refuse(f"{what}: '{actor.username}' is not an active user.")


def _prep(state: State, cmd: PrepCommand) -> PrepState | Refusal:
    if cmd.pid not in state.patients:
        return refuse(f"No patient {cmd.pid!r}.")
    return state.view(cmd.pid).prep(cmd.dose_id)


# -- c: the calculation --------------------------------------------------------------------------


@frozen
class CalculateDose(Command):
    """Preparation, c: calculate the dose (a pharmacist or nurse).

    From the latest height and weight, the site's BSA formula and the timeline's level."""

    pid: str
    cycle: int
    day: int
    emits = (PrepCalculated,)

    @property
    def stream(self) -> str:  # type: ignore[override]
        return PATIENT_PREFIX + self.pid


@decider(CalculateDose)
def decide_calculation(state: State, cmd: CalculateDose, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, checks.PREPARER_ROLES, "Preparation")
    if refused:
        return refused
    if cmd.pid not in state.patients:
        return refuse(f"No patient {cmd.pid!r}.")
    measurement = state.patient(cmd.pid).current("measurement")
    if measurement is None:
        return refuse("Record height and weight first.", "CONV-BSA-2")
    view = state.view(cmd.pid)
    level, basis = dose_level(view, cmd.cycle, cmd.day)
    if level is None:
        return refuse(f"C{cmd.cycle} D{cmd.day}: no level yet ({basis}).", "DOSE-1")
    dose = dose_id(cmd.cycle, cmd.day)
    if view.prep(dose).calculation is not None and not stale(view, cmd.cycle, cmd.day):
        return refuse("The calculation already matches the current inputs.", "CONV-VERIFY-1")
    formula = state.site.bsa_formula  # CONV-BSA-2: the site's formula
    return refused_unless(lambda: [checks.calculation(dose, cmd.cycle, cmd.day, level, basis, measurement, formula)])


# -- V: the syringe's final volume (PREP-9) ------------------------------------------------------


@frozen
class SetSyringeVolume(PrepCommand):
    """Preparation, V: a pharmacist confirms or edits the syringe's final volume (PREP-9, UNVERIFIED): a new calculation."""

    volume: str
    ROLE: ClassVar[str] = "pharmacist"
    emits = (PrepCalculated,)


@decider(SetSyringeVolume)
def decide_syringe_volume(state: State, cmd: SetSyringeVolume, now: datetime, actor: Actor) -> Decision:
    st = _prep(state, cmd)
    if isinstance(st, Refusal):
        return st
    return _known(actor, "Final volume") or refused_unless(lambda: [checks.syringe_volume(st, actor.role, cmd.volume)], "PREP-9")


# -- r, d, f, o, x: the steps ------------------------------------------------------------------


@frozen
class RecordStep(PrepCommand):
    """Preparation: a recorded step (the base of the five step commands, not a command itself)."""

    at: datetime
    vials_kept: str | None = None
    reason: str | None = None
    STEP: ClassVar[str] = ""
    emits = (PrepStep,)


@frozen
class Reconstitute(RecordStep):
    """Preparation, r: the vials were reconstituted at this time (the stability clock starts, STAB-1/2)."""

    STEP: ClassVar[str] = "reconstituted"


@frozen
class Dilute(RecordStep):
    """Preparation, d: the dose was diluted at this time, within 4 h of reconstitution (STAB-1).

    The user says how the reconstituted vials were kept (CONV-STAB-4)."""

    STEP: ClassVar[str] = "diluted"


@frozen
class RefrigerateBag(RecordStep):
    """Preparation, f: the bag went into the refrigerator (STAB-4, CONV-STAB-2)."""

    STEP: ClassVar[str] = "bag_refrigerated"


@frozen
class RemoveBag(RecordStep):
    """Preparation, o: the bag came out of the refrigerator to equilibrate (STAB-5)."""

    STEP: ClassVar[str] = "bag_removed"


@frozen
class DiscardPreparation(RecordStep):
    """Preparation, x: the preparation was discarded, with a reason (CONV-STAB-3)."""

    STEP: ClassVar[str] = "discarded"


STEP_COMMANDS: dict[str, type[RecordStep]] = {
    c.STEP: c for c in (Reconstitute, Dilute, RefrigerateBag, RemoveBag, DiscardPreparation)
}


def _preparers_prep(state: State, cmd: PrepCommand, actor: Actor, what: str) -> PrepState | Refusal:
    """The dose's preparation, for a user whose role prepares; else the refusal."""
    return require_role(actor, checks.PREPARER_ROLES, what) or _prep(state, cmd)


def step_command(
    pid: str, dose: str, step: str, at: datetime, vials_kept: str | None = None, reason: str | None = None
) -> RecordStep:
    """The command that records ``step`` (one of STEPS) for the dose."""
    return STEP_COMMANDS[step](pid, dose, at, vials_kept, reason)


def decide_step(state: State, cmd: RecordStep, now: datetime, actor: Actor) -> Decision:
    st = _preparers_prep(state, cmd, actor, "Preparation")
    if isinstance(st, Refusal):
        return st
    return refused_unless(
        lambda: [checks.step(st, actor.role, actor.username, now, cmd.STEP, cmd.at, cmd.vials_kept, cmd.reason)]
    )


for _cls in STEP_COMMANDS.values():
    decider(_cls)(decide_step)


# -- O: a pharmacist's override (§16.1) -----------------------------------------------------------


@frozen
class OverrideStability(PrepCommand):
    """Preparation, O: a pharmacist overrides STAB-4 (UNVERIFIED limits) or STAB-5 (early start), with a reason.

    It covers the current preparation only (and STAB-5 one equilibration)."""

    rule: str
    reason: str
    ROLE: ClassVar[str] = "pharmacist"
    emits = (PrepOverride,)


@decider(OverrideStability)
def decide_override(state: State, cmd: OverrideStability, now: datetime, actor: Actor) -> Decision:
    st = _prep(state, cmd)
    if isinstance(st, Refusal):
        return st
    return _known(actor, "Override") or refused_unless(
        lambda: [checks.override(st, actor.role, now, cmd.rule, cmd.reason)], "CONV-OVR-1"
    )


# -- s: the syringe route's set, priming and flush (PREP-9) ----------------------------------------


@frozen
class RecordSyringe(PrepCommand):
    """Preparation, s: a pharmacist records the syringe's set, priming and flush (PREP-9, UNVERIFIED).

    Primed with 0.9% NaCl, not drug; the flush runs at the infusion rate after the drug (CONV-SYR-1)."""

    set: str
    primed: bool
    flush_ml: str
    ROLE: ClassVar[str] = "pharmacist"
    emits = (PrepSyringe,)


def syringe_refusal(st: PrepState, actor: Actor) -> str | None:
    """Why ``actor`` may not record the syringe details of this dose at all (before the form)."""
    c = st.calculation
    if c is None or c.data.get("route") != "syringe":
        return "This dose is not on the syringe route (PREP-8/PREP-9)."
    refused = _known(actor, "Syringe route")
    if refused:
        return refused.text
    if actor.role != RecordSyringe.ROLE:
        return "Syringe route: a pharmacist records the set, priming and flush (PREP-9)."
    return None


@decider(RecordSyringe)
def decide_syringe(state: State, cmd: RecordSyringe, now: datetime, actor: Actor) -> Decision:
    st = _prep(state, cmd)
    if isinstance(st, Refusal):
        return st
    return _known(actor, "Syringe route") or refused_unless(
        lambda: [checks.syringe(st, actor.role, cmd.set, cmd.primed, cmd.flush_ml)], "PREP-9"
    )


# -- v: the blind double-check (CONV-VERIFY-1) -------------------------------------------------------


@frozen
class DoubleCheck(PrepCommand):
    """Preparation, v: a second person re-derives the numbers blind (CONV-VERIFY-1).

    The verifier is the command's actor: a pharmacist or nurse, never the preparer."""

    bsa_m2: str
    level_mg_m2: str
    dose_mg: str
    withdraw_ml: str
    emits = (PrepVerification,)

    def entered(self) -> dict[str, str]:
        return {"bsa_m2": self.bsa_m2, "level_mg_m2": self.level_mg_m2, "dose_mg": self.dose_mg, "withdraw_ml": self.withdraw_ml}


@decider(DoubleCheck)
def decide_double_check(state: State, cmd: DoubleCheck, now: datetime, actor: Actor) -> Decision:
    refused = _known(actor, "Double-check")
    if refused:
        return refused
    st = _prep(state, cmd)
    if isinstance(st, Refusal):
        return st
    view = state.view(cmd.pid)
    why = checks.second_person(st.calculation, actor.username) or verify_refusal(view, cmd.dose_id)
    if why:
        return refuse(why, "CONV-VERIFY-1")
    values, errors = checks.parse_verification(cmd.entered())
    if errors:
        return refuse(" ".join(errors.values()), "CONV-VERIFY-1")
    return refused_unless(lambda: [checks.verification(st, actor.username, actor.role, values)], "CONV-VERIFY-1")


# -- b: a vial carton scanned (issue 20) ------------------------------------------------------------


@frozen
class ScanCarton(PrepCommand):
    """Preparation, b: the preparer scans a vial carton's GS1 DataMatrix; its GTIN, lot, expiry and
    serial are recorded with the preparation (PREP-1). A wrong product, an expired or recalled lot,
    a carton scanned before, or more cartons than the calculation's vials are refused."""

    code: str = ""
    emits = (CartonScanned,)


def _carton(state: State, st: PrepState, cmd: ScanCarton, now: datetime):
    """The carton scanned, or the refusal: unreadable, wrong product, expired, recalled, one too many, twice."""
    from ..clock import local_date, site_zone
    from ..text import unsafe_message
    from .carton import read_carton, refusal

    bad = unsafe_message("Carton", (cmd.code or "").strip("\r\n"), allow="\x1d")  # GS1's group separator
    carton = bad or read_carton(cmd.code)
    if isinstance(carton, str):
        return refuse(carton if bad else f"Carton: {carton}.", "PREP-1", "SUP-1")
    why = refusal(carton, local_date(now, site_zone(state.site.time_zone)), state.site.recalled_lots)
    vials = int(st.calculation.data["vials"])
    if not why and len(st.cartons) >= vials:
        why = f"this dose needs {vials} vial{'s' if vials != 1 else ''}, all scanned already"
    if not why and carton.serial:
        kind = CartonScanned.KIND
        earlier = [e for e in state.events(cmd.stream) if e.kind == kind and e.data.get("serial") == carton.serial]
        if any(e.data.get("gtin") == carton.gtin for e in earlier):
            why = f"serial {carton.serial} was scanned already (dose {earlier[0].data['dose_id']}): one carton, one vial"
    return refuse(f"Carton: {why}.", "PREP-1") if why else carton


@decider(ScanCarton)
def decide_carton(state: State, cmd: ScanCarton, now: datetime, actor: Actor) -> Decision:
    st = _preparers_prep(state, cmd, actor, "Carton scan")
    if isinstance(st, Refusal):
        return st
    if st.calculation is None:
        return refuse("Carton scan: calculate the dose first (c): it says how many vials (PREP-1).", "PREP-1")
    carton = _carton(state, st, cmd, now)
    if isinstance(carton, Refusal):
        return carton
    return [CartonScanned(cmd.dose_id, st.calculation.version, carton.gtin, carton.lot, carton.expiry.isoformat(), carton.serial)]

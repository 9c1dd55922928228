"""The bag label: a code Bedside makes for one preparation, printed on the bag, scanned at the start.

A preparation is one dilution of one dose of one patient, for the calculation it was made from.
Its code is made from exactly that (the patient's id, the dose, the calculation's version, the
time of the dilution): ``B`` and twelve digits, the last a GS1 mod-10 check digit so that a
misread is caught before any comparison. A preparation discarded and made again, or a dose
recalculated after its dilution, has a different code, so a label printed for the old bag never
matches. Shown grouped (``B-1234-5678-9012``); read with or without the hyphens and spaces, in
either case, with a scanner's AIM symbology prefix (``]C0`` …) dropped.

The clinical reference is silent on bar-code administration; the rule Bedside keeps is the
safest: no infusion starts until the label scanned (or typed) at the bedside is this dose's
current bag (core/infusion/commands.py ``decide_start``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from attrs import frozen

from ..clock import fmt_local
from ..events import iso_utc
from ..scan import gs1_check_digit_ok, without_aim
from .state import PrepState, Step, dose_label, status_words

if TYPE_CHECKING:
    from ..intake import Patient

PREFIX = "B"
DIGITS = 12  # eleven from the hash, one check digit
CODE_RE = re.compile(rf"^{PREFIX}[0-9]{{{DIGITS}}}$")
WIDTH = 40  # columns of a label line


def _with_check(body: str) -> str:
    for c in "0123456789":
        if gs1_check_digit_ok(body + c):
            return body + c
    raise AssertionError("unreachable: one digit always completes a GS1 check")


def code_of(pid: str, dose_id: str, step: Step) -> str | None:
    """The code of the preparation whose dilution is ``step`` (None: not a dilution of a known calculation)."""
    if step.step != "diluted" or step.calc_version is None:
        return None
    seed = "\x1f".join(("bedside-bag-label-1", pid, dose_id, str(step.calc_version), iso_utc(step.at)))
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % 10 ** (DIGITS - 1)
    return PREFIX + _with_check(f"{number:0{DIGITS - 1}d}")


def shown(code: str) -> str:
    """``B123456789012`` → ``B-1234-5678-9012`` (how the label and the screens show it)."""
    digits = code[len(PREFIX) :]
    return "-".join([PREFIX, digits[0:4], digits[4:8], digits[8:]])


def normalise(text: str) -> str:
    """A scanned or typed label as its code: the AIM prefix, spaces and hyphens dropped, upper case."""
    return re.sub(r"[\s\-]", "", without_aim(text.strip())).upper()


@frozen
class BagLabel:
    """The current bag of a dose, as its label names it."""

    code: str
    diluted_at: datetime  # UTC
    diluted_by: str


def current(pid: str, st: PrepState) -> BagLabel | None:
    """The label of the dose's current (not discarded) bag: None before the dilution is recorded."""
    step = st.step("diluted")
    code = None if step is None else code_of(pid, st.dose_id, step)
    return None if code is None else BagLabel(code, step.at, step.actor)


def recalculated_since(st: PrepState) -> str | None:
    """Why the current bag is not the current calculation's (a recalculation after its dilution)."""
    step = st.step("diluted")
    if step is None or st.calculation is None or step.calc_version == st.calculation.version:
        return None
    return (
        f"The bag was diluted at {fmt_local(step.at, day=False)} for an earlier calculation; the dose was "
        "recalculated since: discard it (Preparation, x) and prepare the bag again (CONV-VERIFY-1)."
    )


def refusal(pid: str, st: PrepState, scanned: str, others: Iterable[PrepState] = ()) -> str | None:
    """Why the label scanned at the start is not this dose's current bag (None: it is).

    ``others``: the patient's doses' preparations, to say whose bag it is when it is theirs (read
    only for a code that is none of this dose's bags)."""
    label = current(pid, st)
    if label is None:
        return "No bag label: the dilution is not recorded (Preparation, d)."
    if not scanned.strip():
        return "Bag label: required. Scan the label on the bag (or type its code) to start."
    code = normalise(scanned)
    if not CODE_RE.match(code) or not gs1_check_digit_ok(code[len(PREFIX) :]):
        return (
            f"Bag label: {scanned.strip()[:WIDTH]!r} is not a Bedside bag code (B and 12 digits, its check digit "
            "verified): scan it again, or type the code printed under the bar code."
        )
    if code == label.code:
        return None
    dose = dose_label(st.dose_id)
    for old in st.discarded:
        diluted = next((s for s in old if s.step == "diluted"), None)
        if diluted is not None and code_of(pid, st.dose_id, diluted) == code:
            return (
                f"Wrong bag: this label is of a {dose} bag diluted at {fmt_local(diluted.at, day=False)} and discarded. "
                f"Do not give it; the current bag was diluted at {fmt_local(label.diluted_at, day=False)}."
            )
    for other in others:
        bag = current(pid, other)
        if bag is not None and bag.code == code and other.dose_id != st.dose_id:
            return f"Wrong bag: this label is of this patient's {dose_label(other.dose_id)} bag, not {dose}. Do not give it."
    return (
        f"Wrong bag: this label is not this patient's {dose} bag (another patient's, or an older label). "
        "Do not give it: check the name and MRN on the bag against the wristband."
    )


def label_lines(patient: Patient, st: PrepState, now: datetime, tz: tzinfo | None = None) -> list[str]:
    """The label's text, as it is printed and shown (≤ 40 columns a line): whose bag, what is in it,
    who made and checked it, until when it may run (in ``tz``, else the site's zone), and its code.
    [] before the dilution. Stored text (the name) as stored: the caller prints it literally."""
    label = current(patient.id, st)
    c = st.calculation
    if label is None or c is None:
        return []
    p = c.prep  # the calculation's numbers (core/calc), as the trail shows them
    dob = patient.dob
    lines = [
        f"{patient.name}"[:WIDTH],
        f"MRN {patient.mrn}  DOB {dob.isoformat() if dob else '?'}"[:WIDTH],
        f"BESPONSA (inotuzumab ozogamicin) {dose_label(st.dose_id)}",
        f"{p.dose_mg} mg in {p.final_volume_ml} mL " + ("0.9% NaCl" if p.route == "bag" else "(syringe)"),
        f"IV over {p.infusion_minutes} min at {p.rate_ml_per_h} mL/h (ADM-1)",
        "Protect from light (ADM-5)",
        f"Diluted {fmt_local(label.diluted_at, tz)} by {label.diluted_by}",
    ]
    dl = st.deadlines(now)
    if dl is not None and dl.end_deadline is not None:
        lines.append(f"End by {fmt_local(dl.end_deadline, tz)} ({dl.binding.rule_id})")
    lines.append("CYTOTOXIC: hazardous drug (PREP-12)")
    lines.append(status_words(st).removeprefix("✓ ").removeprefix("✗ ")[:WIDTH])
    lines.append(shown(label.code))
    return lines

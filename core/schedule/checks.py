"""The checks: each validates one user action against a timeline and returns the ``data`` of the
event to record (the fields of its payload class, core/schedule/events.py), or raises ValueError
with a message that names the rule and, where there is one, the nearest allowed date.

They are pure (the timeline is folded as of the local date ``tl.today``); the commands' decisions
(core/schedule/commands.py) call them after the role checks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import rules
from ..text import unsafe_message
from .model import Dose, Proposal, Timeline
from .parse import _dec, _fmt
from .vocab import (
    BLOCKED,
    DISCONTINUE_REASONS,
    EXTENSION_REASONS,
    GIVEN,
    HELD,
    IN_CR_CRI,
    MRD_VALUES,
    NOT_APPLICABLE,
    OMITTED,
    RESPONSES,
    SCOPE_ALL,
    SCOPE_CYCLE,
    SCOPE_DOSE,
    SPACING,
    TOXICITIES,
)


def _need_started(tl: Timeline) -> None:
    if not tl.started:
        raise ValueError("Treatment not started: record the cycle 1 start date first (cycle.started).")


def _need_active(tl: Timeline) -> None:
    _need_started(tl)
    if tl.discontinued:
        raise ValueError(f"Treatment is discontinued ({tl.discontinued_reason}); no dose can be scheduled or given (§16.1).")


def _need_dose(tl: Timeline, cycle: int, day: int) -> Dose:
    if isinstance(day, bool) or day not in rules.DAYS:
        raise ValueError(f"day must be one of {', '.join(map(str, rules.DAYS))} (SCHED-1), got {day!r}")
    dose = tl.dose(cycle, day)
    if dose is None:
        if isinstance(cycle, int) and cycle > tl.cycles_allowed:
            binding = "; ".join(f"{lim.rule}: {lim.text}" for lim in tl.limits if lim.max_cycles == tl.cycles_allowed)
            raise ValueError(f"Cycle {cycle} is not allowed: {tl.cycles_allowed} cycles at most ({binding}).")
        raise ValueError(f"C{cycle} D{day} is not scheduled yet (a cycle starts when its Day 1 is given, SCHED-6).")
    return dose


def _need_open(dose: Dose) -> None:
    if dose.state == GIVEN:
        raise ValueError(f"{dose.label} was already given on {dose.given_on}.")
    if dose.state == OMITTED:
        raise ValueError(f"{dose.label} was omitted ({dose.omit_reason}).")
    if dose.state == NOT_APPLICABLE:
        raise ValueError(f"{dose.label} does not apply: {dose.note}.")


def _optional_text(value: str, what: str) -> str:
    """``value`` with its edges trimmed; C0/C1, DEL and bidi controls are refused, not dropped (core/text.py)."""
    refused = unsafe_message(what, value)
    if refused:
        raise ValueError(refused)
    return "".join(ch for ch in str(value or "") if ch == " " or ch.isprintable()).strip()


def _text(value: str, what: str) -> str:
    """:func:`_optional_text`, and required."""
    clean = _optional_text(value, what)
    if not clean:
        raise ValueError(f"{what} is required.")
    return clean


def _blocking(tl: Timeline, dose: Dose) -> list[Proposal]:
    out = []
    for p in tl.proposals:
        if (
            p.scope == SCOPE_ALL
            or (p.scope == SCOPE_CYCLE and p.cycle == dose.cycle)
            or (p.scope == SCOPE_DOSE and (p.cycle, p.day) == (dose.cycle, dose.day))
        ):
            out.append(p)
    return out


def _earlier_open(tl: Timeline, dose: Dose) -> list[Dose]:
    out = []
    for x in tl.doses():
        if (x.cycle, x.day) >= (dose.cycle, dose.day):
            break
        if not x.resolved:
            out.append(x)
    return out


def check_start(tl: Timeline, day1: date) -> dict[str, Any]:
    """``cycle.started``: choose (or move) the cycle 1 start date, until C1 D1 is given."""
    if tl.discontinued:
        raise ValueError(f"Treatment is discontinued ({tl.discontinued_reason}).")
    if not isinstance(day1, date):
        raise ValueError("day1 must be a date.")
    if (1, 1) in tl.facts.given:
        raise ValueError(f"C1 D1 was given on {tl.facts.given[(1, 1)].on}; cycle 1 has started (SCHED-6).")
    return {"cycle": 1, "day1": day1.isoformat()}


def check_give(
    tl: Timeline, cycle: int, day: int, on_date: date, level_mg_m2: Decimal | str, dose_mg: Decimal | str
) -> dict[str, Any]:
    """``dose.given``: refuse after discontinuation, out of order, against the spacing or window
    rules (SCHED-2/3/7, CONV-SCHED-1/3), with an undecided blocking proposal, or at a level other
    than the allowed one (DOSE-1, DOSE-6, MOD-GEN-3, CONV-MOD-3, CONV-RESP-4)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    _may_give_on(tl, dose, on_date)
    _not_waiting(tl, dose)
    mg = _given_amount(dose, level_mg_m2, dose_mg)
    return {"cycle": cycle, "day": day, "date": on_date.isoformat(), "level_mg_m2": _fmt(dose.level), "dose_mg": format(mg, "f")}


def _may_give_on(tl: Timeline, dose: Dose, on_date: date) -> None:
    """Not in the future, not held or blocked, in order, spaced and inside the effective window."""
    if not isinstance(on_date, date):
        raise ValueError("on_date must be a date.")
    if on_date > tl.today:
        raise ValueError(f"{dose.label}: {on_date} is in the future (today is {tl.today}); record a dose when it is given.")
    if dose.state == HELD:
        raise ValueError(
            f"{dose.label} is held since {dose.held_from} ({dose.hold_reason}); record recovery first (MOD-GEN-2, Table 2/3)."
        )
    if dose.state == BLOCKED:
        raise ValueError(f"{dose.label} is blocked: {dose.note}.")
    before = _earlier_open(tl, dose)
    if before:
        names = ", ".join(f"{x.label} ({x.state})" for x in before)
        raise ValueError(
            f"{dose.label}: earlier doses are not given or omitted: {names}. Resolve them first (SCHED-6, CONV-SCHED-7)."
        )
    if tl.last_given is not None and on_date < tl.last_given + SPACING:
        raise ValueError(
            f"{dose.label} on {on_date}: < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
            f"({tl.last_given}) (SCHED-3, CONV-SCHED-2/3); earliest {tl.last_given + SPACING}."
        )
    if dose.effective is None:
        rule = "SCHED-3, CONV-SCHED-3" if dose.day == 1 else "SCHED-7"
        raise ValueError(
            f"{dose.label}: no allowed date in its window ({rule}); earliest spacing-compliant date "
            f"{dose.earliest}, which a prescriber must confirm."
        )
    if on_date not in dose.effective:
        rule = "CONV-SCHED-1 (Day 1 has no window)" if dose.day == 1 else "SCHED-2, SCHED-7 (effective window)"
        raise ValueError(
            f"{dose.label} on {on_date} is outside {dose.effective.text} ({rule}); nearest allowed date "
            f"{dose.effective.nearest(on_date)}."
        )


def _not_waiting(tl: Timeline, dose: Dose) -> None:
    """No severe reaction standing (CONV-IRR-1), no undecided proposal blocking it, a confirmed level."""
    blocks = _blocking(tl, dose)
    severe = next((p for p in blocks if p.rule == "CONV-IRR-1"), None)
    if severe is not None:
        raise ValueError(f"{dose.label}: no further dose. {severe.text}")
    if blocks:
        names = "; ".join(f"{p.id} ({p.needs_role}" + (f", proposed date {p.date}" if p.date else "") + ")" for p in blocks)
        raise ValueError(f"{dose.label}: waiting for a decision: {names}.")
    if dose.level is None:
        raise ValueError(f"{dose.label}: no level can be computed: {dose.level_basis}.")
    if not dose.level_confirmed:
        raise ValueError(f"{dose.label}: a prescriber must confirm cycle {dose.cycle}'s levels first ({dose.level_basis}).")


def _given_amount(dose: Dose, level_mg_m2: Decimal | str, dose_mg: Decimal | str) -> Decimal:
    """The dose in mg, at exactly the allowed level (DOSE-6, MOD-GEN-3)."""
    assert dose.level is not None
    try:
        lv = _dec(level_mg_m2)
        mg = _dec(dose_mg)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{dose.label}: level and dose must be decimal numbers.") from exc
    if lv != dose.level:
        direction = "above" if lv > dose.level else "below"
        raise ValueError(
            f"{dose.label}: level {_fmt(lv)} mg/m² is {direction} the allowed {_fmt(dose.level)} mg/m² "
            f"({dose.level_basis}; DOSE-6, MOD-GEN-3)."
        )
    if not mg.is_finite() or mg <= 0:
        raise ValueError(f"{dose.label}: dose_mg must be a positive number of mg.")
    return mg


def check_hold(tl: Timeline, cycle: int, day: int, reason: str, toxicity: str) -> dict[str, Any]:
    """``dose.held``: a Day 8/15 is never held for counts (MOD-GEN-1); planned date from the timeline."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    if dose.state == HELD:
        raise ValueError(f"{dose.label} is already held since {dose.held_from}.")
    if toxicity not in TOXICITIES:
        raise ValueError(f"toxicity must be one of {', '.join(TOXICITIES)}.")
    if toxicity == "hematologic" and day not in rules.HEMATOLOGIC_HOLD_DAYS:
        raise ValueError(
            f"{dose.label}: doses within a cycle are not held for neutropenia or thrombocytopenia "
            "(MOD-GEN-1, MOD-HEM-6); Table 2 applies at Day 1 only."
        )
    planned = dose.held_from or dose.planned
    return {
        "cycle": cycle,
        "day": day,
        "planned_date": planned.isoformat(),
        "reason": _text(reason, "A hold reason"),
        "toxicity": toxicity,
    }


def check_recover(tl: Timeline, cycle: int, day: int, on_date: date) -> dict[str, Any]:
    """``dose.recovered``: the recovery date (CONV-SCHED-5 counts to it)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    if dose.state != HELD:
        raise ValueError(f"{dose.label} is not held.")
    if not isinstance(on_date, date) or on_date > tl.today:
        raise ValueError(f"{dose.label}: the recovery date must be a date not after today ({tl.today}).")
    return {"cycle": cycle, "day": day, "date": on_date.isoformat()}


def check_omit(tl: Timeline, cycle: int, day: int, reason: str) -> dict[str, Any]:
    """``dose.omitted``: Day 8/15 only (a Day 1 is delayed, never omitted: SCHED-6, MOD-INT-2)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    if day not in rules.OMITTABLE_DAYS:
        raise ValueError(f"{dose.label}: a Day 1 is delayed, never omitted (SCHED-6, MOD-INT-2, CONV-MOD-4).")
    return {"cycle": cycle, "day": day, "reason": _text(reason, "An omission reason")}


def check_move(tl: Timeline, cycle: int, day: int, new_date: date, reason: str) -> dict[str, Any]:
    """``dose.moved``: Day 8/15 within the effective window (SCHED-2, SCHED-3, SCHED-7); a Day 1
    only later than planned, as a recorded delay (CONV-SCHED-1, CONV-SCHED-3)."""
    _need_active(tl)
    dose = _need_dose(tl, cycle, day)
    _need_open(dose)
    if not isinstance(new_date, date):
        raise ValueError("new_date must be a date.")
    if dose.state == HELD:
        raise ValueError(f"{dose.label} is held; it is delayed by the hold until recovery is recorded (CONV-SCHED-5).")
    why = _text(reason, "A reason for the move")
    if new_date < tl.today:
        raise ValueError(f"{dose.label}: {new_date} is in the past (today {tl.today}); nearest allowed date {tl.today} or later.")
    earliest = tl.last_given + SPACING if tl.last_given else None
    if earliest is not None and new_date < earliest:
        raise ValueError(
            f"{dose.label} on {new_date}: < {rules.MIN_DAYS_BETWEEN_DOSES} days after the last dose "
            f"({tl.last_given}) (SCHED-3); nearest allowed date {earliest}."
        )
    if day == 1:
        _may_move_day1(tl, dose, new_date, earliest)
    elif dose.effective is None:
        raise ValueError(
            f"{dose.label}: no date in its window is allowed (SCHED-7); the earliest compliant date "
            f"{dose.earliest} needs a prescriber's confirmation."
        )
    elif new_date not in dose.effective:
        raise ValueError(
            f"{dose.label} on {new_date} is outside its effective window {dose.effective.text} "
            f"(SCHED-2, SCHED-7); nearest allowed date {dose.effective.nearest(new_date)}."
        )
    return {"cycle": cycle, "day": day, "date": new_date.isoformat(), "reason": why}


def _may_move_day1(tl: Timeline, dose: Dose, new_date: date, earliest: date | None) -> None:
    """A Day 1 moves only later (CONV-SCHED-1, SCHED-3); C2 D1 within 28 days is an extension (SCHED-4)."""
    if dose.cycle == 1:
        raise ValueError("C1 D1 is the start date: record a new cycle 1 start (check_start) instead.")
    floor = max(dose.nominal, earliest) if earliest else dose.nominal
    if new_date < floor:
        raise ValueError(
            f"{dose.label}: Day 1 has no window and cannot come earlier than {floor} "
            f"(CONV-SCHED-1, SCHED-3); nearest allowed date {floor}."
        )
    if dose.cycle == rules.EXTENDABLE_CYCLE + 1:
        c1 = tl.cycle(rules.EXTENDABLE_CYCLE)
        assert c1 is not None
        last_ext = c1.day1 + timedelta(days=rules.CYCLE1_MAX_DAYS)
        if new_date <= last_ext:
            length = (new_date - c1.day1).days
            raise ValueError(
                f"C2 D1 on {new_date} is a cycle 1 of {length} days: extend cycle 1 instead "
                f"(SCHED-4, check_extend length {length}, with its reason)."
            )


def check_extend(tl: Timeline, length_days: int, reason: str, note: str = "") -> dict[str, Any]:
    """``cycle.extended``: cycle 1 only, 22–28 days (SCHED-4), keeping C2 D1 ≥ 6 days after the last dose."""
    _need_active(tl)
    lo, hi = rules.CYCLE1_MIN_EXTENDED_DAYS, rules.CYCLE1_MAX_DAYS
    if isinstance(length_days, bool) or not isinstance(length_days, int) or not lo <= length_days <= hi:
        raise ValueError(f"Cycle 1 may be extended to {lo}–{hi} days (SCHED-4), got {length_days!r}.")
    if reason not in EXTENSION_REASONS:
        raise ValueError(f"Extension reason must be one of {', '.join(EXTENSION_REASONS)} (SCHED-4).")
    if (rules.EXTENDABLE_CYCLE + 1, 1) in tl.facts.given:
        raise ValueError("C2 D1 was given: cycle 1 is over and only cycle 1 may be extended (SCHED-4, SCHED-5).")
    clean_note = _optional_text(note, "Note")
    if reason == "other" and not clean_note:
        raise ValueError("Neither label reason applies: the prescriber records why (CONV-SCHED-3).")
    if reason == "cr_cri" and not any(r.response in IN_CR_CRI for r in tl.facts.responses):
        raise ValueError(
            "No CR/CRi is recorded: record the response, or give toxicity recovery (or another reason) "
            "for the extension (SCHED-4)."
        )
    _spacing_after_extension(tl, length_days)
    return {"cycle": rules.EXTENDABLE_CYCLE, "length_days": length_days, "reason": reason, "note": clean_note}


def _spacing_after_extension(tl: Timeline, length_days: int) -> None:
    """C2 D1 stays ≥ 6 days after the last dose (SCHED-3, CONV-SCHED-3)."""
    hi = rules.CYCLE1_MAX_DAYS
    c1 = tl.cycle(1)
    assert c1 is not None
    c2 = c1.day1 + timedelta(days=length_days)
    if tl.last_given is not None and c2 < tl.last_given + SPACING:
        need = (tl.last_given + SPACING - c1.day1).days
        if need > hi:
            raise ValueError(
                f"C2 D1 must be ≥ {tl.last_given + SPACING} (SCHED-3), beyond the {hi}-day extension: "
                "record the delay with its cause (CONV-SCHED-3)."
            )
        raise ValueError(
            f"A {length_days}-day cycle 1 puts C2 D1 on {c2}, < {rules.MIN_DAYS_BETWEEN_DOSES} days after "
            f"the last dose ({tl.last_given}) (SCHED-3, CONV-SCHED-3); nearest allowed: {need} days "
            f"(C2 D1 {tl.last_given + SPACING})."
        )


def check_response(tl: Timeline, cycle: int, response: str, mrd: str, assessed_on: date) -> dict[str, Any]:
    """``response.recorded`` (RESP-4) for a cycle that has started."""
    _need_started(tl)
    if response not in RESPONSES:
        raise ValueError(f"response must be one of {', '.join(RESPONSES)} (RESP-4).")
    if mrd not in MRD_VALUES:
        raise ValueError(f"MRD must be one of {', '.join(MRD_VALUES)} (RESP-3, RESP-4).")
    cy = tl.cycle(cycle) if isinstance(cycle, int) else None
    if cy is None or not cy.day1_given:
        raise ValueError(f"Cycle {cycle} has not started (its Day 1 is not given).")
    if not isinstance(assessed_on, date) or assessed_on < cy.day1 or assessed_on > tl.today:
        raise ValueError(f"The assessment date must be between {cy.day1} (C{cycle} D1) and today ({tl.today}).")
    return {"cycle": cycle, "response": response, "mrd": mrd, "assessed_on": assessed_on.isoformat()}


def check_discontinue(tl: Timeline, reason: str, note: str, on_date: date) -> dict[str, Any]:
    """``treatment.discontinued``: permanent; no override (§16.1)."""
    _need_started(tl)
    if tl.discontinued:
        raise ValueError(f"Treatment is already discontinued ({tl.discontinued_reason}).")
    if reason not in DISCONTINUE_REASONS:
        raise ValueError(f"reason must be one of {', '.join(DISCONTINUE_REASONS)}.")
    clean = _optional_text(note, "Note")
    if reason == "other" and not clean:
        raise ValueError("A discontinuation for another reason needs a note.")
    if not isinstance(on_date, date) or on_date > tl.today:
        raise ValueError(f"The discontinuation date must be a date not after today ({tl.today}).")
    return {"reason": reason, "note": clean, "date": on_date.isoformat()}

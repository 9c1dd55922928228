"""The printed medication administration record (MAR): what a unit keeps for downtime.

:func:`administration_record` turns one patient's events into plain text, at most 80 columns a
line, for the whole treatment or one cycle. It is a pure function: no I/O, no clock (``now`` is
the printed-at time), no Textual. Times are shown in the ``tz`` passed in (the site's local zone,
CONV-TIME-1); dose dates are the local calendar dates the schedule stores.

Everything a user typed (names, reasons, symptoms, treatments, who was notified) is printed
literally: markup such as ``[bold]`` stays as typed, long text is wrapped, and characters that a
terminal or printer would act on (control characters) are shown as visible escapes (``\\x1b``),
never sent raw.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from . import infusion as inf
from . import preparation as prep
from . import schedule as sch
from .clock import parse_aware
from .events import Event
from .intake import Patient, age_years
from .text import printable

__all__ = ["WIDTH", "administration_record"]

WIDTH = 80
MEDICATION = "inotuzumab ozogamicin (BESPONSA)"
_TIME_COL = 16  # "YYYY-MM-DD HH:MM"
_LATE_ENTRY = timedelta(minutes=5)  # an entry made this much after the fact shows when it was entered

FORMULA_LABELS = {
    "mosteller": "Mosteller",
    "dubois": "DuBois & DuBois",
    "haycock": "Haycock",
    "gehan_george": "Gehan & George",
    "boyd": "Boyd",
}
SEX_LABELS = {"female": "Female", "male": "Male", "other": "Other/unknown"}
STATE_WORDS = {
    sch.PLANNED: "PLANNED",
    sch.DUE_TODAY: "DUE TODAY",
    sch.IN_WINDOW: "IN WINDOW",
    sch.GIVEN: "GIVEN",
    sch.HELD: "HELD",
    sch.OMITTED: "OMITTED",
    sch.DELAYED: "DELAYED",
    sch.NOT_APPLICABLE: "NOT APPLICABLE",
    sch.OVERDUE: "OVERDUE",
}
TOXICITY_WORDS = {"hematologic": "hematologic", "non_hematologic": "non-hematologic", "other": "other"}
DISCONTINUE_WORDS = {
    "vod": "VOD/SOS",
    "severe_infusion_reaction": "severe infusion reaction",
    "no_response_3_cycles": "no response after 3 cycles",
    "prescriber_decision": "prescriber decision",
    "patient_choice": "patient choice",
    "other": "other",
}
RESPONSE_WORDS = {"cr": "CR", "cri": "CRi", "neither": "neither CR nor CRi", "not_assessed": "not assessed"}
EXTENSION_WORDS = {"cr_cri": "CR/CRi", "toxicity_recovery": "recovery from toxicity", "other": "other"}
STEP_WORDS = dict(prep.STEP_LABELS)
POINT_LABELS = {"before_start": "before start", "start": "start", "end": "end of infusion",
                "observation_end": "end of observation"}
_TAG_RE = re.compile(r":c(\d+)d(\d+)$")


# --- text -----------------------------------------------------------------------------------------


def _clean(value: Any) -> str:
    """User text as printed: literal, on one line, with control characters shown as escapes."""
    text = "" if value is None else str(value)
    for ch in "\t\n\r":
        text = text.replace(ch, " ")
    return printable(text, escapes=True)  # the one sanitiser (core/text.py)


def _cost(ch: str) -> int:
    """Columns a character may take: 2 for wide (East Asian) characters, else 1 (never 0, so
    that a line's length in characters is never more than its budget either)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _width(text: str) -> int:
    return sum(_cost(ch) for ch in text)


def _wrap(text: str, first: int, rest: int | None = None) -> list[str]:
    """Greedy word wrap: the first line to ``first`` columns, the others to ``rest``. Spaces inside
    a line are kept as typed; a word longer than a line is cut."""
    rest = first if rest is None else rest
    lines: list[str] = []
    cur = ""

    def budget() -> int:
        return first if not lines else rest

    for token in re.split(r"( +)", text):
        if not token:
            continue
        if token.startswith(" "):
            if cur:
                cur += token
            continue
        if _width(cur) + _width(token) <= budget():
            cur += token
            continue
        if cur.strip(" "):
            lines.append(cur.rstrip(" "))
            cur = ""
        else:
            cur = ""
        while _width(token) > budget():
            piece = ""
            for ch in token:
                if _width(piece) + _cost(ch) > budget():
                    break
                piece += ch
            lines.append(piece)
            token = token[len(piece):]
        cur = token
    cur = cur.rstrip(" ")
    if cur or not lines:
        lines.append(cur)
    return lines


class _Page:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def rule(self, ch: str = "-") -> None:
        self.lines.append(ch * WIDTH)

    def text(self, text: str, indent: int = 0, hang: int | None = None, prefix: str = "") -> None:
        """A paragraph: ``prefix`` then ``text`` at ``indent``; continuation lines at ``hang``."""
        hang = indent if hang is None else hang
        text, prefix = _clean(text), _clean(prefix)  # every printed line: nothing raw reaches a printer
        lines = _wrap(text, WIDTH - indent - _width(prefix), WIDTH - hang)
        self.lines.append(" " * indent + prefix + lines[0])
        self.lines.extend(" " * hang + line for line in lines[1:])

    def field(self, label: str, text: str, indent: int = 2, label_width: int = 14) -> None:
        prefix = f"{label}:".ljust(label_width - 1) + " "
        self.text(text, indent, indent + label_width, prefix)

    def entry(self, when: str, text: str, indent: int = 4) -> None:
        """A time-stamped record line: the time in a column, the text hanging beside it."""
        self.text(text, indent, indent + _TIME_COL + 2, when.ljust(_TIME_COL) + "  ")

    def render(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        for line in self.lines:
            if _width(line) > WIDTH:  # pragma: no cover - the wrapper guarantees it
                raise AssertionError(f"line wider than {WIDTH} columns: {line!r}")
        return "\n".join(self.lines) + "\n"


# --- values ---------------------------------------------------------------------------------------


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return _clean(value)


def _level(value: Decimal | str | None) -> str:
    if value in (None, ""):
        return "level to be confirmed"
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        return f"{format(d.normalize(), 'f')} mg/m²"
    except (ArithmeticError, ValueError):
        return f"{_clean(value)} mg/m²"  # printed as stored


def _time_of(value: Any) -> datetime | None:
    return parse_aware(value)


class _Who:
    def __init__(self, users: Mapping[str, tuple[str, str]]):
        self.users = users

    def __call__(self, username: str) -> str:
        entry = self.users.get(username)
        if entry is None:
            return f"{_clean(username)} (unknown user)"
        full, role = entry
        return f"{_clean(full)}, {_clean(role)}"

    def named(self, username: str) -> str:
        entry = self.users.get(username)
        if entry is None:
            return f"{_clean(username)} (unknown user)"
        return f"{_clean(entry[0])} ({_clean(entry[1])})"


def _grade(grade: Any) -> str:
    if grade is None:
        return "not graded"
    if grade == "anaphylaxis":
        return "anaphylaxis"
    return f"Grade {_clean(grade)}"


def _dur(delta: timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    h, m = divmod(max(total, 0), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


# --- the record -----------------------------------------------------------------------------------


def _dose_key(ev: Event) -> tuple[int, int] | None:
    d = ev.data
    did = d.get("dose_id")
    if isinstance(did, str):
        m = re.fullmatch(r"c(\d+)d(\d+)", did)
        return (int(m.group(1)), int(m.group(2))) if m else None
    c, day = d.get("cycle"), d.get("day")
    if isinstance(c, int) and isinstance(day, int) and not isinstance(c, bool) and not isinstance(day, bool):
        return c, day
    pid = d.get("proposal_id")
    if isinstance(pid, str):
        m = _TAG_RE.search(pid)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def _fact_time(ev: Event) -> datetime:
    d = ev.data
    for name in ("at", "given_at"):
        t = _time_of(d.get(name))
        if t is not None:
            return t
    return ev.at


def _vitals_text(d: Mapping[str, Any]) -> str:
    parts = [
        f"T {_clean(d.get('temp_c'))} °C",
        f"HR {_clean(d.get('hr'))}/min",
        f"BP {_clean(d.get('sys'))}/{_clean(d.get('dia'))} mmHg",
        f"RR {_clean(d.get('rr'))}/min",
        f"SpO2 {_clean(d.get('spo2'))}%",
    ]
    text = "Vital signs: " + ", ".join(parts)
    if d.get("point"):
        point = str(d["point"])
        label = POINT_LABELS.get(point) or (f"reaction {point.split(':', 1)[1]}" if point.startswith("reaction:") else point)
        text += f" ({_clean(label)})"
    if d.get("confirmed_unusual"):
        text += " (unusual values confirmed: " + ", ".join(_clean(x) for x in d["confirmed_unusual"]) + ")"
    return text


def _describe(ev: Event, reaction_no: Mapping[int, int], fmt_day: Any) -> str | None:
    """One record line for an event (user text literal), or None for events not on the record."""
    d = ev.data
    k = ev.kind
    if k == prep.CALCULATED:
        formula = FORMULA_LABELS.get(str(d.get("formula")), _clean(d.get("formula")))
        try:
            shown = Decimal(str(d.get("bsa_m2"))).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
            bsa = f"BSA {shown} m²"
        except Exception:  # noqa: BLE001 - a damaged value is printed as stored
            bsa = f"BSA {_clean(d.get('bsa_m2'))} m²"
        measured = f" measured {_clean(d['measured_on'])}" if d.get("measured_on") else ""
        text = (f"Calculated: {bsa} ({formula}; {_clean(d.get('height_cm'))} cm, {_clean(d.get('weight_kg'))} kg{measured}), "
                f"{_level(d.get('level_mg_m2'))} = {_clean(d.get('dose_mg'))} mg; withdraw {_clean(d.get('withdraw_ml'))} mL "
                f"from {_clean(d.get('vials'))} vial(s); {_clean(d.get('route'))} {_clean(d.get('final_volume_ml'))} mL")
        if d.get("level_basis"):
            text += f"; level basis: {_clean(d['level_basis'])}"
        return text
    if k == prep.STEP:
        step = STEP_WORDS.get(str(d.get("step")), _clean(d.get("step")))
        text = step
        if d.get("vials_kept"):
            text += f" (vials kept {_clean(str(d['vials_kept']).replace('_', ' '))})"
        if d.get("reason"):
            text += f": {_clean(d['reason'])}"
        return text
    if k == prep.VERIFICATION:
        if d.get("matched"):
            return "Blind double-check: matched (BSA, level, dose, volume)"
        fields = ", ".join(prep.VERIFY_LABELS.get(str(x), _clean(x)) for x in d.get("mismatches", []))
        return f"Blind double-check: MISMATCH ({fields})"
    if k == "predose.identity":
        return (f"Identity confirmed ({_clean(d.get('method'))}): {_clean(d.get('name'))}, DOB {_clean(d.get('dob'))}, "
                f"MRN {_clean(d.get('mrn'))}")
    if k == "predose.premed":
        return (f"Premedication given: {_clean(d.get('drug'))} {_clean(d.get('dose'))} "
                f"({_clean(str(d.get('drug_class', '')).replace('_', ' '))})")
    if k == "predose.checklist":
        return "Emergency equipment and medicines ready: " + ("yes" if d.get("emergency_ready") else "NO")
    if k == "predose.override":
        return (f"Override {_clean(d.get('rule_id'))} ({_clean(d.get('decision', 'proceed'))}, as "
                f"{_clean(d.get('role'))}): {_clean(d.get('reason'))}")
    if k == "predose.verdict":
        deciding = ", ".join(_clean(x) for x in d.get("deciding") or [])
        return f"Pre-dose check: {_clean(d.get('overall'))}" + (f" ({deciding})" if deciding else "")
    if k == inf.INFUSION_STARTED:
        deadline = _time_of(d.get("stability_deadline"))
        text = f"Infusion started (route {_clean(d.get('route', 'bag'))}"
        if d.get("flush_min"):
            text += f", flush {_clean(d['flush_min'])} min"
        text += ")"
        if deadline is not None:
            text += f"; bag stable until {fmt_day(deadline)}"
        return text
    if k == inf.INFUSION_PAUSED:
        return f"Infusion paused: {_clean(d.get('reason'))}"
    if k == inf.INFUSION_RESUMED:
        return "Infusion resumed"
    if k == inf.INFUSION_ENDED:
        return "Infusion ended"
    if k == inf.INFUSION_STOPPED:
        return f"Infusion STOPPED: {_clean(d.get('reason'))}"
    if k == inf.OBSERVATION_COMPLETED:
        return "Observation completed"
    if k == inf.OBSERVATION_INCOMPLETE:
        who = f" (who: {_clean(d['who'])})" if d.get("who") else ""
        return f"Observation INCOMPLETE, deviation (MON-2): {_clean(d.get('reason'))}{who}"
    if k == inf.VITALS_RECORDED:
        return _vitals_text(d)
    if k == inf.REACTION_STARTED:
        n = reaction_no.get(ev.seq)
        return f"Infusion reaction {n if n else '?'} started: {_clean(d.get('symptoms'))}"
    if k in (inf.REACTION_GRADED, inf.REACTION_NOTIFIED, inf.REACTION_TREATED, inf.REACTION_RESOLVED):
        which = f" {_clean(d['reaction'])}" if d.get("reaction") is not None else ""
        if k == inf.REACTION_GRADED:
            text = f"Reaction{which} graded: {_grade(d.get('grade'))} (CTCAE v{_clean(d.get('ctcae_version', '5.0'))})"
            if d.get("correction_reason"):
                text += f"; grade correction: {_clean(d['correction_reason'])}"
            return text
        if k == inf.REACTION_NOTIFIED:
            return f"Reaction{which}: notified {_clean(d.get('who'))}"
        if k == inf.REACTION_TREATED:
            return f"Reaction{which} treatment: {_clean(d.get('treatment'))}"
        return f"Reaction{which} resolved; outcome: {_clean(d.get('outcome'))}"
    if k == sch.DOSE_GIVEN:
        mg = f", {_clean(d['dose_mg'])} mg" if d.get("dose_mg") not in (None, "") else ""
        return f"Recorded as given on {_clean(d.get('date'))}: {_level(d.get('level_mg_m2'))}{mg}"
    if k == sch.DOSE_HELD:
        tox = TOXICITY_WORDS.get(str(d.get("toxicity")), _clean(d.get("toxicity")))
        return f"HELD from {_clean(d.get('planned_date'))} ({tox} toxicity): {_clean(d.get('reason'))}"
    if k == sch.DOSE_RECOVERED:
        return f"Recovered from the hold on {_clean(d.get('date'))}"
    if k == sch.DOSE_OMITTED:
        return f"OMITTED: {_clean(d.get('reason'))}"
    if k == sch.DOSE_MOVED:
        return f"Moved to {_clean(d.get('date'))}: {_clean(d.get('reason'))}"
    if k == sch.PROPOSAL_DECIDED:
        return (f"{_clean(d.get('rule'))} proposal {_clean(d.get('decision'))} (as {_clean(d.get('role'))})"
                + (f" for {_clean(d['date'])}" if d.get("date") else "") + f": {_clean(d.get('reason'))}")
    return None


def _cycle_describe(ev: Event) -> str | None:
    d = ev.data
    k = ev.kind
    if k == sch.CYCLE_STARTED:
        return f"Cycle 1 start date set to {_clean(d.get('day1'))}"
    if k == sch.CYCLE_EXTENDED:
        note = f": {_clean(d['note'])}" if d.get("note") else ""
        reason = EXTENSION_WORDS.get(str(d.get("reason")), _clean(d.get("reason")))
        return f"Cycle 1 extended to {_clean(d.get('length_days'))} days ({reason}){note}"
    if k == sch.LEVELS_CONFIRMED:
        lv = d.get("levels") or {}
        days = ", ".join(f"D{x} {_plain(lv.get(str(x)))}" for x in (1, 8, 15))
        return f"Levels confirmed (mg/m²): {days}; basis: {_clean(d.get('basis'))}"
    if k == sch.RESPONSE_RECORDED:
        resp = RESPONSE_WORDS.get(str(d.get("response")), _clean(d.get("response")))
        return f"Response assessed {_clean(d.get('assessed_on'))}: {resp}, MRD {_clean(d.get('mrd'))}"
    return None


def _cycle_of(ev: Event) -> int | None:
    c = ev.data.get("cycle")
    return c if isinstance(c, int) and not isinstance(c, bool) else None


def administration_record(
    patient: Patient,
    events: Sequence[Event],
    users: Mapping[str, tuple[str, str]],
    *,
    cycle: int | None = None,
    tz: tzinfo,
    now: datetime,
) -> str:
    """The medication administration record of ``patient`` (all cycles, or ``cycle``) as plain text.

    ``events`` are the patient's stream; ``users`` maps a user name to (full name, role); ``now``
    (aware) is the printed-at time and the moment the infusion states are computed at; ``tz`` is
    the zone every time is shown in. Raises ValueError for a cycle that is not on the timeline.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    who = _Who(users)
    events = [e for e in events if e.stream == patient.stream] or list(events)
    today = now.astimezone(tz).date()
    tl = sch.timeline(events, today, {u: role for u, (_n, role) in users.items()})
    settings = inf.MonitorSettings(tz=tz)

    def t(when: datetime | None) -> str:
        return "—" if when is None else when.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    page = _Page()
    ident = patient.identity
    tz_name = getattr(tz, "key", None) or now.astimezone(tz).tzname() or str(tz)

    # --- header ---
    page.rule("=")
    page.text(f"MEDICATION ADMINISTRATION RECORD: {MEDICATION}")
    page.rule("=")
    page.field("Name", _clean(ident.get("name")) or "—", indent=0, label_width=15)
    dob = patient.dob
    age = f" (age {age_years(dob, today)})" if dob else ""
    page.field("Date of birth", f"{_clean(ident.get('dob')) or '—'}{age}", indent=0, label_width=15)
    page.field("MRN", _clean(ident.get("mrn")) or "—", indent=0, label_width=15)
    page.field("Sex", SEX_LABELS.get(str(ident.get("sex")), _clean(ident.get("sex")) or "—"), indent=0, label_width=15)
    m = patient.current("measurement")
    if m:
        formula = FORMULA_LABELS.get(str(m.get("bsa_formula", "mosteller")), _clean(m.get("bsa_formula")))
        try:
            from .intake import measurement_bsa

            b = f", BSA {measurement_bsa(m).shown} m²"
        except Exception:  # noqa: BLE001 - print what is stored
            b = ""
        page.field("BSA formula", f"{formula} (latest measurement {_clean(m.get('measured_on'))}: "
                                  f"{_clean(m.get('height_cm'))} cm, {_clean(m.get('weight_kg'))} kg{b})",
                   indent=0, label_width=15)
    else:
        page.field("BSA formula", "— (no height and weight recorded)", indent=0, label_width=15)
    diag = patient.current("diagnosis") or {}
    page.field("Allergies", _clean(diag.get("allergies")) or "not recorded", indent=0, label_width=15)
    page.field("Record of", "all cycles" if cycle is None else f"cycle {cycle}", indent=0, label_width=15)
    page.field("Printed at", f"{t(now)} ({_clean(tz_name)}); all times are local ({_clean(tz_name)})",
               indent=0, label_width=15)
    status = f"DISCONTINUED on {tl.discontinued_on or '—'}: {_clean(tl.discontinued_reason)}" if tl.discontinued else _clean(tl.status)
    page.field("Treatment", status or "—", indent=0, label_width=15)
    page.rule("=")

    cycles = tl.cycles
    if cycle is not None:
        cycles = tuple(c for c in tl.cycles if c.number == cycle)
        if not cycles:
            raise ValueError(f"Cycle {cycle} is not on the timeline.")
    if not tl.cycles:
        page.blank()
        page.text("No treatment cycle is recorded.")

    # events by dose, in fact-time order
    by_dose: dict[tuple[int, int], list[Event]] = {}
    by_cycle: dict[int, list[Event]] = {}
    general: list[Event] = []
    for ev in events:
        if ev.kind == inf.ALERT_ACKNOWLEDGED:
            continue
        if ev.kind in (sch.CYCLE_STARTED, sch.CYCLE_EXTENDED, sch.LEVELS_CONFIRMED, sch.RESPONSE_RECORDED):
            c = _cycle_of(ev) or 1
            by_cycle.setdefault(c, []).append(ev)
            continue
        if ev.kind == sch.TREATMENT_DISCONTINUED:
            general.append(ev)
            continue
        key = _dose_key(ev)
        if key is not None:
            by_dose.setdefault(key, []).append(ev)
        elif ev.kind == sch.PROPOSAL_DECIDED:
            general.append(ev)

    # Entries recorded in error stay on the record, marked with who marked them, when and why.
    in_error = {int(ev.data["voids"]): ev for ev in events if ev.kind == sch.SCHEDULE_VOIDED}

    def log(evs: Iterable[Event], describe: Any) -> None:
        for ev in sorted(evs, key=lambda e: (_fact_time(e), e.seq)):
            text = describe(ev)
            if text is None:
                continue
            fact = _fact_time(ev)
            late = f" [entered {t(ev.at)}]" if ev.at - fact > _LATE_ENTRY else ""
            void = in_error.get(ev.version)
            mark = (f" ENTERED IN ERROR (marked by {who(void.actor)} {t(void.at)}: {_clean(void.data.get('reason'))})"
                    if void is not None else "")
            page.entry(t(fact), f"{text} (by {who(ev.actor)}){late}{mark}")

    for cy in cycles:
        page.blank()
        length = f"{cy.length_planned} days" + (f", extended ({EXTENSION_WORDS.get(str(cy.extension_reason), _clean(cy.extension_reason))})" if cy.extended_length else "")
        start_word = "Day 1" if cy.day1_given else "planned Day 1"
        page.text(f"CYCLE {cy.number}: {start_word} {cy.day1.isoformat()}, {length}, to {cy.end.isoformat()}")
        if by_cycle.get(cy.number):
            log(by_cycle[cy.number], _cycle_describe)
        for dose in cy.doses:
            _dose_block(page, dose, by_dose.get((dose.cycle, dose.day), []), events, now, settings, who, t, log)

    extra = [ev for ev in general if cycle is None or ev.kind == sch.TREATMENT_DISCONTINUED]
    if extra:
        page.blank()
        page.rule()
        page.text("TREATMENT DECISIONS")

        def describe_general(ev: Event) -> str | None:
            if ev.kind == sch.TREATMENT_DISCONTINUED:
                d = ev.data
                reason = DISCONTINUE_WORDS.get(str(d.get("reason")), _clean(d.get("reason")))
                note = f": {_clean(d['note'])}" if d.get("note") else ""
                return f"Treatment DISCONTINUED from {_clean(d.get('date'))} ({reason}){note}"
            return _describe(ev, {}, t)

        log(extra, describe_general)

    page.blank()
    page.rule("=")
    page.text(f"End of record. {MEDICATION}. Printed {t(now)} ({_clean(tz_name)}).")
    return page.render()


def _dose_block(page: _Page, dose: sch.Dose, evs: list[Event], events: Sequence[Event], now: datetime,
                settings: inf.MonitorSettings, who: _Who, t: Any, log: Any) -> None:
    page.blank()
    page.rule()
    on = dose.given_on or dose.held_from or dose.planned
    state = STATE_WORDS.get(dose.state, dose.state.upper())
    did = prep.dose_id(dose.cycle, dose.day)
    mon = inf.monitor(events, did, now, settings) if any(e.kind == inf.INFUSION_STARTED for e in evs) else None
    if mon is not None and dose.state == sch.GIVEN:
        state += f", {mon.phase}"
    mg = f"  {dose.dose_mg} mg" if dose.dose_mg is not None else ""
    page.text(f"{dose.label}  {on.isoformat()}  {state}  {_level(dose.level)}{mg}")

    # preparation
    st = prep.fold(events, did)
    if st.calculation is not None:
        preparers = [st.calculation.actor] + [s.actor for s in st.steps if s.actor != st.calculation.actor]
        names = "; ".join(dict.fromkeys(who.named(u) for u in preparers))
        page.field("Prepared by", names)
        v = st.last_verification
        if v is None:
            page.field("Verified by", "NOT VERIFIED (no double-check recorded)")
        elif v.matched:
            page.field("Verified by", f"{who.named(v.actor)}, blind double-check matched at {t(v.at)}")
        else:
            page.field("Verified by", f"MISMATCH at the double-check by {who.named(v.actor)} {t(v.at)}")
        for discarded in st.discarded:
            last = discarded[-1]
            page.field("Discarded", f"{t(last.at)} by {who.named(last.actor)}: {_clean(last.reason)}")
    elif dose.state == sch.GIVEN:
        page.field("Prepared by", "no preparation record in Bedside")

    if dose.state == sch.GIVEN and mon is None:
        page.field("Recorded by", f"{who.named(dose.given_by or '')}; no infusion record in Bedside (dose "
                                  "documented as given)")
    if mon is not None:
        _infusion_summary(page, mon, who, t, evs)

    if dose.held_from is not None:
        rec = f"recovered {dose.recovered_on.isoformat()}" if dose.recovered_on else "not recovered"
        tox = TOXICITY_WORDS.get(str(dose.toxicity), _clean(dose.toxicity))
        days = ""
        if dose.interruption_days is not None:
            days = f"; interruption {dose.interruption_days} days" + ("" if dose.recovered_on else " so far")
        page.field("Hold", f"from {dose.held_from.isoformat()} ({tox}): {_clean(dose.hold_reason)}; {rec}{days}")
    if dose.state == sch.OMITTED:
        page.field("Omitted", _clean(dose.omit_reason))
    if dose.state not in (sch.GIVEN, sch.OMITTED, sch.HELD) and dose.note:
        window = f"window {dose.effective.text}; " if dose.effective is not None else ""
        page.field("Schedule", window + _clean(dose.note))
    elif dose.state not in (sch.GIVEN, sch.OMITTED, sch.HELD) and dose.effective is not None:
        page.field("Schedule", f"window {dose.effective.text}")

    numbered = sorted((e for e in evs if e.kind == inf.REACTION_STARTED), key=lambda e: (_fact_time(e), e.seq))
    reaction_no = {e.seq: i for i, e in enumerate(numbered, 1)}
    if any(_describe(e, reaction_no, t) is not None for e in evs):
        page.text("Record:", 2)
        log(evs, lambda e: _describe(e, reaction_no, t))


def _infusion_summary(page: _Page, mon: inf.MonitorState, who: _Who, t: Any, evs: list[Event]) -> None:
    start_ev = next((e for e in evs if e.kind == inf.INFUSION_STARTED), None)
    by = f" by {who.named(start_ev.actor)}" if start_ev is not None else ""
    page.field("Started", f"{t(mon.started_at)}{by}, route {mon.route}")
    paused = f", {_dur(mon.paused)} paused" if mon.paused else ""
    if mon.stopped_at is not None:
        page.field("STOPPED", f"{t(mon.stopped_at)} after {_dur(mon.running)} running{paused}: {_clean(mon.stop_reason)}")
    elif mon.ended_at is not None:
        page.field("Ended", f"{t(mon.ended_at)} after {_dur(mon.running)} running{paused}")
    else:
        page.field("Ends", f"not yet; {_dur(mon.running)} running{paused} so far, projected end "
                           f"{t(mon.infusion_end_at)}")
    if mon.pauses:
        for p in mon.pauses:
            span = (f"{t(p.started_at)} to {t(p.ended_at)} ({_dur(p.length(mon.now))})" if p.ended_at
                    else f"{t(p.started_at)}, still paused ({_dur(p.length(mon.now))} so far)")
            page.field("Pause", f"{span}: {_clean(p.reason)}")
    else:
        page.field("Pauses", "none")
    if mon.observation_outcome == "completed":
        page.field("Observation", f"completed {t(mon.observation_closed_at)}")
    elif mon.observation_outcome == "incomplete":
        page.field("Observation", f"INCOMPLETE, closed {t(mon.observation_closed_at)} (deviation, see below)")
    elif mon.observation_open:
        until = t(mon.observation_earliest_end) if mon.observation_earliest_end else "every reaction is resolved"
        page.field("Observation", f"in progress; at least until {until}")
    else:
        page.field("Observation", f"from the end of the infusion, at least until {t(mon.observation_min_end)}")
    done = [v for v in mon.vitals_due if v.status in ("missed", "overdue")]
    page.field("Vital signs", f"{len(mon.vitals)} set(s) recorded" + ("; " + "; ".join(f"{v.label}: {v.status.upper()}" for v in done) if done else ""))
    if mon.reactions:
        for r in mon.reactions:
            res = f"resolved {t(r.resolved_at)}, outcome {r.outcome}" if r.resolved_at else "NOT RESOLVED"
            version = f" (CTCAE v{r.ctcae_version})" if r.ctcae_version else ""
            page.field(f"Reaction {r.number}", f"{t(r.started_at)} during {r.during}: {_grade(r.grade)}{version}; {res}; "
                                               f"symptoms: {_clean(r.symptoms)}")
    else:
        page.field("Reactions", "none")
    for dv in mon.deviations:
        text = f"{dv.kind.replace('_', ' ')} at {t(dv.at)} ({dv.rule}): {_clean(dv.reason)}"
        if dv.kind == "observation_incomplete":
            text += f"; who: {_clean(dv.who)}"
        text += f" (recorded by {who(dv.recorded_by)})" if dv.recorded_by else ""
        page.field("Deviation", text)
    for pr in mon.problems:
        page.field("Not applied", f"{_clean(pr.text)} ({pr.rule})")
    if mon.discontinuation is not None:
        page.field("Proposal", _clean(mon.discontinuation.text))

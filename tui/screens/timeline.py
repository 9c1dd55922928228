"""The cycle timeline: Days 1, 8 and 15 of every cycle with windows, states in words and symbols,
cycles remaining with the rule that sets the number, and every schedule action by key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from bedside.core import calc, rules
from bedside.core import schedule as sch
from bedside.core.intake import DATE_RE

from ..text import literal, shown, when
from .dialogs import FieldsDialog
from .base import PatientView

SYMBOL = {
    sch.PLANNED: "○", sch.DUE_TODAY: "◉", sch.IN_WINDOW: "◐", sch.GIVEN: "✓", sch.HELD: "‖",
    sch.OMITTED: "✗", sch.DELAYED: "↷", sch.NOT_APPLICABLE: "—", sch.OVERDUE: "!", sch.BLOCKED: "⊘",
}
WORDS = {
    sch.PLANNED: "planned", sch.DUE_TODAY: "due today", sch.IN_WINDOW: "in window", sch.GIVEN: "given",
    sch.HELD: "held", sch.OMITTED: "omitted", sch.DELAYED: "delayed", sch.NOT_APPLICABLE: "not applicable",
    sch.OVERDUE: "overdue", sch.BLOCKED: "blocked",
}
DAY_COLUMNS = {1: 1, 2: 8, 3: 15}


def cell(d: sch.Dose | None) -> Text:
    if d is None:
        return Text("")
    t = Text(f"{SYMBOL.get(d.state, '?')} {d.planned:%m-%d}")
    lvl = d.level if d.level is not None else "?"
    t.append(f" {lvl}" + ("r" if d.reduced else ""))
    return t


def need_text(label: str):
    def validate(raw):
        v = (raw.get("value") or "").strip()
        return ({"value": v}, {}) if v else (None, {"value": f"{label}: required."})
    return validate


def parse_date_field(text: str, label: str) -> tuple[date | None, str | None]:
    text = (text or "").strip()
    if not DATE_RE.match(text):
        return None, f"{label}: a date as YYYY-MM-DD."
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, f"{label}: {text} is not a real date."


class TimelineScreen(PatientView):
    BINDINGS = [
        Binding("b", "start", "Start C1", show=False),
        Binding("g", "give", "Give"),
        Binding("h", "hold", "Hold"),
        Binding("y", "recover", "Recov"),
        Binding("m", "move", "Move", show=False),
        Binding("o", "omit", "Omit", show=False),
        Binding("x", "extend", "Extend C1", show=False),
        Binding("R", "response", "Resp"),
        Binding("d", "decide", "Decide"),
        Binding("L", "levels", "Levels", show=False),
        Binding("D", "discontinue", "Stop Tx", show=False),
        Binding("E", "in_error", "In error", show=False),
        Binding("c", "check", "Check"),
        Binding("p", "prepare", "Prep"),
        Binding("i", "monitor", "Monitor"),
        Binding("P", "calendar", "Print", show=False),
        Binding("escape", "back", "Back"),
    ]

    @property
    def tl(self) -> sch.Timeline:
        return self.app.ledger.timeline(self.pid)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="identity", classes="identity")
        yield Static(id="tl-status", classes="screen-title")
        yield DataTable(id="cycles", cursor_type="cell")
        with VerticalScroll(id="tl-detail-box"):
            yield Static(id="tl-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        t = self.query_one("#cycles", DataTable)
        t.add_columns("Cycle", "Day 1", "Day 8", "Day 15", "Ends")
        self.refill()
        t.move_cursor(row=0, column=1)
        self.set_focus(t)

    def fill(self) -> None:
        tl = self.tl
        self.query_one("#tl-status", Static).update(literal(tl.status))
        t = self.query_one("#cycles", DataTable)
        keep = t.cursor_coordinate
        t.clear()
        for c in tl.cycles:
            doses = {d.day: d for d in c.doses}
            ext = f" ({c.length_days} d)" if c.extended_length else ""
            t.add_row(f"C{c.number}", cell(doses.get(1)), cell(doses.get(8)), cell(doses.get(15)), f"{c.end:%m-%d}{ext}", key=str(c.number))
        if t.row_count:
            t.move_cursor(row=min(keep.row, t.row_count - 1), column=max(1, min(keep.column, 3)))
        self.show_detail()

    def selected(self) -> sch.Dose | None:
        t = self.query_one("#cycles", DataTable)
        if not t.row_count:
            return None
        row, col = t.cursor_coordinate
        if col not in DAY_COLUMNS:
            col = 1
        cycle = int(t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value)
        return self.tl.dose(cycle, DAY_COLUMNS[col])

    def on_data_table_cell_highlighted(self, event) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        tl = self.tl
        d = self.selected()
        t = Text()
        if not tl.started:
            t.append("Cycle 1 not started. b starts it on a chosen date (SCHED-6).\n")
        if d is not None:
            t.append(f"{d.label}: {WORDS.get(d.state, d.state).upper()} ", style="bold")
            t.append(f"({SYMBOL.get(d.state, '')})  planned {d.planned}")
            if d.day != 1:
                t.append(f"  window {d.window.text}")
            if d.effective is not None and d.effective != d.window:
                t.append(f"  effective {d.effective.text} [SCHED-7]")
            t.append("\n")
            t.append(f"Level {d.level if d.level is not None else '—'} mg/m²: ")
            t.append(d.level_basis)
            if not d.level_confirmed:
                t.append("  (a prescriber must confirm: L)", style="bold")
            t.append("\n")
            if d.given_on:
                t.append(f"Given {d.given_on} by {d.given_by}, {d.dose_mg} mg\n")
            if d.held_from:
                t.append(f"Held from {d.held_from}: ")
                t.append(f"{d.hold_reason} ({d.toxicity})")
                t.append(f"; recovered {d.recovered_on}" if d.recovered_on else "; not recovered")
                if d.interruption_days is not None:
                    t.append(f"; interruption {d.interruption_days} days [CONV-SCHED-5]")
                t.append("\n")
            if d.omit_reason:
                t.append("Omitted: " + d.omit_reason + "\n")
            if d.note:
                t.append(d.note + "\n", style="dim")
        for v in sch.voided_entries(self.app.ledger.stream_events(self.app.ledger.patient(self.pid).stream))[:3]:
            t.append("In error: ", style="bold")
            t.append(f"{v.entry} (recorded by {v.recorded_by}); marked by {v.voided_by} {when(v.voided_at)}: ")
            t.append(v.reason + "\n")
        t.append(f"Cycles given {tl.cycles_given} · remaining {tl.cycles_remaining} (of {tl.cycles_allowed})\n", style="bold")
        for lim in tl.limits:
            t.append(f"  {lim.rule}: {lim.text}\n")
        if tl.discontinued:
            t.append(f"DISCONTINUED {tl.discontinued_on}: {tl.discontinued_reason}\n", style="bold reverse")
        for pr in tl.proposals:
            t.append(f"⚠ {pr.id}: ", style="bold")
            t.append(pr.text)
            t.append(f" ({pr.needs_role}{', UNVERIFIED' if pr.unverified else ''}; d decides)\n")
        t.append("More keys: b start C1 · m move · o omit · x extend C1 · L levels · D discontinue · E latest entry in error · P print", style="dim")
        self.query_one("#tl-detail", Static).update(shown(t))

    # -- helpers -------------------------------------------------------------------------------
    def record(self, kind: str, decide, actor: str | None = None) -> bool:
        try:
            self.app.ledger.schedule_event(actor or self.app.actor, self.pid, kind, decide)
        except ValueError as exc:
            self.notify(f"Refused: {exc}", severity="error", timeout=15)
            return False
        self.refill()
        return True

    def _dose_or_warn(self) -> sch.Dose | None:
        d = self.selected()
        if d is None:
            self.notify("Start cycle 1 first (b).", severity="warning")
        return d

    # -- actions -------------------------------------------------------------------------------
    @work(exclusive=True)
    async def action_start(self) -> None:
        today = self.app.ledger.today()

        def validate(raw):
            d, err = parse_date_field(raw["day1"], "Cycle 1 Day 1")
            return ({"day1": d}, {}) if d else (None, {"day1": err})

        ans = await self.app.push_screen_wait(FieldsDialog("Start cycle 1", [("day1", "Day 1 date (YYYY-MM-DD)", "text")], validate,
                                                           values={"day1": today.isoformat()}, note="Days 8 and 15 and the cycle length follow (SCHED-1, SCHED-4, SCHED-6)."))
        if ans:
            self.record(sch.CYCLE_STARTED, lambda tl: sch.check_start(tl, ans["day1"]))

    @work(exclusive=True)
    async def action_give(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        m = self.app.ledger.patient(self.pid).current("measurement")
        if m is None or d.level is None:
            self.notify("Needs height and weight and a computable level.", severity="error")
            return
        prep = calc.prepare(Decimal(m["height_cm"]), Decimal(m["weight_kg"]), d.level, self.app.ledger.site().bsa_formula)

        def validate(raw):
            on, err = parse_date_field(raw["date"], "Date given")
            return ({"date": on}, {}) if on else (None, {"date": err})

        ans = await self.app.push_screen_wait(FieldsDialog(
            f"Record {d.label} given: {d.level} mg/m² = {prep.dose_mg} mg", [("date", "Date given (YYYY-MM-DD)", "text")], validate,
            values={"date": self.app.ledger.today().isoformat()}, note="Normally recorded by starting the infusion (i); use this for a dose documented elsewhere."))
        if ans:
            self.record(sch.DOSE_GIVEN, lambda tl: sch.check_give(tl, d.cycle, d.day, ans["date"], d.level, prep.dose_mg))

    @work(exclusive=True)
    async def action_hold(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        choices = [("Non-hematologic toxicity", "non_hematologic"), ("Hematologic (Day 1 only)", "hematologic"), ("Other", "other")]

        def validate(raw):
            errs = {}
            if not (raw["reason"] or "").strip():
                errs["reason"] = "Reason: required."
            if not raw["toxicity"]:
                errs["toxicity"] = "Cause: choose one."
            return ({"reason": raw["reason"].strip(), "toxicity": raw["toxicity"]}, errs) if not errs else (None, errs)

        ans = await self.app.push_screen_wait(FieldsDialog(f"Hold {d.label}", [("reason", "Reason", "text"), ("toxicity", "Cause", "choice", choices)], validate))
        if ans:
            self.record(sch.DOSE_HELD, lambda tl: sch.check_hold(tl, d.cycle, d.day, ans["reason"], ans["toxicity"]))

    @work(exclusive=True)
    async def action_recover(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return

        def validate(raw):
            on, err = parse_date_field(raw["date"], "Recovery date")
            return ({"date": on}, {}) if on else (None, {"date": err})

        ans = await self.app.push_screen_wait(FieldsDialog(f"Recovery for {d.label}", [("date", "Recovered on (YYYY-MM-DD)", "text")], validate,
                                                           values={"date": self.app.ledger.today().isoformat()}, note="Table 4 proposals follow from the interruption length (MOD-INT, UNVERIFIED)."))
        if ans:
            self.record(sch.DOSE_RECOVERED, lambda tl: sch.check_recover(tl, d.cycle, d.day, ans["date"]))

    @work(exclusive=True)
    async def action_move(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return

        def validate(raw):
            on, err = parse_date_field(raw["date"], "New date")
            errs = {} if on else {"date": err}
            if not (raw["reason"] or "").strip():
                errs["reason"] = "Reason: required."
            return ({"date": on, "reason": raw["reason"].strip()}, {}) if not errs else (None, errs)

        ans = await self.app.push_screen_wait(FieldsDialog(f"Move {d.label}", [("date", "New date (YYYY-MM-DD)", "text"), ("reason", "Reason", "text")], validate,
                                                           note=f"Allowed: {d.effective.text if d.effective else 'none: a prescriber must decide'} (SCHED-2, SCHED-3, SCHED-7)."))
        if ans:
            self.record(sch.DOSE_MOVED, lambda tl: sch.check_move(tl, d.cycle, d.day, ans["date"], ans["reason"]))

    @work(exclusive=True)
    async def action_omit(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        ans = await self.app.push_screen_wait(FieldsDialog(f"Omit {d.label}", [("value", "Reason", "text")], need_text("Reason")))
        if ans:
            self.record(sch.DOSE_OMITTED, lambda tl: sch.check_omit(tl, d.cycle, d.day, ans["value"]))

    @work(exclusive=True)
    async def action_extend(self) -> None:
        choices = [("In CR/CRi", "cr_cri"), ("Recovery from toxicity", "toxicity_recovery"), ("Other (note)", "other")]

        def validate(raw):
            errs = {}
            length = (raw["length"] or "").strip()
            if not length.isdigit():
                errs["length"] = f"Length: whole days, {rules.CYCLE1_MIN_EXTENDED_DAYS} to {rules.CYCLE1_MAX_DAYS} (SCHED-4)."
            if not raw["reason"]:
                errs["reason"] = "Reason: choose one (SCHED-4)."
            return ({"length": int(length) if length.isdigit() else 0, "reason": raw["reason"], "note": (raw["note"] or "").strip()}, errs) if not errs else (None, errs)

        ans = await self.app.push_screen_wait(FieldsDialog("Extend cycle 1", [("length", f"Length (days, {rules.CYCLE1_MIN_EXTENDED_DAYS}–{rules.CYCLE1_MAX_DAYS})", "text"), ("reason", "Reason", "choice", choices), ("note", "Note", "text")], validate))
        if ans:
            self.record(sch.CYCLE_EXTENDED, lambda tl: sch.check_extend(tl, ans["length"], ans["reason"], ans["note"]))

    @work(exclusive=True)
    async def action_response(self) -> None:
        tl = self.tl
        cycle = tl.current_cycle or 1
        responses = [("CR", "cr"), ("CRi", "cri"), ("Neither", "neither"), ("Not assessed", "not_assessed")]
        mrds = [("Negative", "negative"), ("Positive", "positive"), ("Unknown", "unknown")]

        def validate(raw):
            errs = {}
            on, err = parse_date_field(raw["assessed_on"], "Assessed on")
            if err:
                errs["assessed_on"] = err
            if not raw["response"]:
                errs["response"] = "Response: choose one (RESP-4)."
            if not raw["mrd"]:
                errs["mrd"] = "MRD: choose one (RESP-3)."
            c = (raw["cycle"] or "").strip()
            if not c.isdigit():
                errs["cycle"] = "Cycle: a number."
            return ({"cycle": int(c) if c.isdigit() else 0, "response": raw["response"], "mrd": raw["mrd"], "on": on}, errs) if not errs else (None, errs)

        ans = await self.app.push_screen_wait(FieldsDialog("Response at the end of a cycle", [("cycle", "Cycle assessed", "text"), ("response", "Response", "choice", responses),
                                                           ("mrd", "MRD", "choice", mrds), ("assessed_on", "Assessed on (YYYY-MM-DD)", "text")], validate,
                                                           values={"cycle": str(cycle), "assessed_on": self.app.ledger.today().isoformat()},
                                                           note="CR: marrow blasts < 5%, full count recovery; CRi: incomplete recovery (RESP-1, RESP-2)."))
        if ans:
            self.record(sch.RESPONSE_RECORDED, lambda tl: sch.check_response(tl, ans["cycle"], ans["response"], ans["mrd"], ans["on"]))

    @work(exclusive=True)
    async def action_decide(self) -> None:
        tl = self.tl
        props = [p for p in tl.proposals if p.rule not in sch.LEVEL_RULES and p.rule != "CONV-CYC-1"]
        if not props:
            self.notify("No proposal to decide here (levels: L; HSCT decision: intake).")
            return
        choices = [(f"{p.id}: {p.text[:50]}", p.id) for p in props]

        def validate(raw):
            errs = {}
            if not raw["proposal"]:
                errs["proposal"] = "Proposal: choose one."
            if not raw["decision"]:
                errs["decision"] = "Decision: confirm or decline."
            if not (raw["reason"] or "").strip():
                errs["reason"] = "Reason: required (CONV-OVR-1)."
            on = None
            if (raw["date"] or "").strip():
                on, err = parse_date_field(raw["date"], "Date")
                if err:
                    errs["date"] = err
            return ({"proposal": raw["proposal"], "decision": raw["decision"], "reason": raw["reason"].strip(), "date": on}, errs) if not errs else (None, errs)

        ans = await self.app.push_screen_wait(FieldsDialog("Decide a proposal", [("proposal", "Proposal", "choice", choices), ("decision", "Decision", "choice", [("Confirm", "confirmed"), ("Decline", "declined")]),
                                                           ("reason", "Reason", "text"), ("date", "Date (date proposals)", "text")], validate))
        if not ans:
            return
        p = tl.proposal(ans["proposal"])
        user = await self.as_role(p.needs_role, f"{p.id} needs a {p.needs_role} (CONV-OVR-1).")
        if user is None:
            return
        self.record(sch.PROPOSAL_DECIDED, lambda tl: sch.check_decide(tl, ans["proposal"], ans["decision"], ans["reason"], user.role, ans["date"]), actor=user.username)

    @work(exclusive=True)
    async def action_levels(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        lv = sch.levels_for(self.tl, d.cycle)
        def row(levels) -> str:
            return "/".join(str(levels[d]) for d in rules.DAYS)

        rows = [(f"CR/CRi row ({row(rules.LEVELS_CR_CRI)})", "cr_cri"), (f"Not in CR/CRi row ({row(rules.LEVELS_NO_CR)})", "no_cr_cri"), ("Keep the proposed levels", "")]

        def validate(raw):
            return ({"row": raw["row"] or None, "basis": (raw["basis"] or "").strip()}, {}) if (raw["basis"] or "").strip() else (None, {"basis": "Basis: required."})

        proposed = ", ".join(f"D{k} {v}" for k, v in lv.levels.items() if v is not None)
        ans = await self.app.push_screen_wait(FieldsDialog(f"Confirm cycle {d.cycle} levels (prescriber)", [("row", "Table 1 row (not assessed)", "choice", rows), ("basis", "Basis", "text")],
                                                           validate, note=f"Proposed: {proposed or 'none'} — {lv.basis}"))
        if not ans:
            return
        user = await self.as_role("prescriber", "Levels are confirmed by a prescriber (CONV-MOD-3, CONV-RESP-4).")
        if user is None:
            return
        levels = dict(lv.levels) if not ans["row"] else {}
        self.record(sch.LEVELS_CONFIRMED, lambda tl: sch.check_levels(tl, d.cycle, levels, ans["basis"], ans["row"]), actor=user.username)

    @work(exclusive=True)
    async def action_discontinue(self) -> None:
        reasons = [(r.replace("_", " "), r) for r in sch.DISCONTINUE_REASONS]

        def validate(raw):
            return ({"reason": raw["reason"], "note": (raw["note"] or "").strip()}, {}) if raw["reason"] else (None, {"reason": "Reason: choose one."})

        ans = await self.app.push_screen_wait(FieldsDialog("Discontinue permanently", [("reason", "Reason", "choice", reasons), ("note", "Note", "text")], validate,
                                                           note="Permanent: no dose can be scheduled or given afterwards (§16.1)."))
        if not ans:
            return
        user = await self.as_role("prescriber", "A prescriber records a permanent discontinuation.")
        if user is None:
            return
        today = self.app.ledger.today()
        self.record(sch.TREATMENT_DISCONTINUED, lambda tl: sch.check_discontinue(tl, ans["reason"], ans["note"], today), actor=user.username)

    @work(exclusive=True)
    async def action_in_error(self) -> None:
        """The latest schedule entry was recorded in error: it stays in the record, marked with who
        and why, and the timeline is computed without it."""
        ledger = self.app.ledger
        latest = sch.latest_entry(ledger.stream_events(ledger.patient(self.pid).stream))
        if latest is None:
            self.notify("There is no schedule entry to enter in error.", severity="warning")
            return
        what = sch.describe_entry(latest)
        try:  # refusals about the entry itself come before asking anyone for a reason
            sch.check_void(ledger.stream_events(ledger.patient(self.pid).stream), latest.actor, "prescriber", "?")
        except ValueError as exc:
            self.notify(f"Cannot mark in error: {exc}", severity="warning", timeout=15)
            return
        ans = await self.app.push_screen_wait(FieldsDialog(
            f"Latest entry recorded in error? {what}", [("value", "What was wrong", "text")], need_text("What was wrong"),
            note=f"Recorded by {latest.actor}, {when(latest.at)}. It stays in the record, marked in error with your name and "
                 "reason; the timeline is then computed without it. Only the latest entry can be marked (then the one before)."))
        if not ans:
            return
        user = self.app.user
        if user.username != latest.actor and user.role != "prescriber":
            user = await self.as_role("prescriber", f"{what} was recorded by {latest.actor}: they or a prescriber may mark it in error.")
            if user is None:
                return
        try:
            ledger.void_schedule_entry(user.username, user.role, self.pid, ans["value"], expected_version=latest.version)
        except ValueError as exc:
            self.notify(f"Refused: {exc}", severity="error", timeout=15)
            return
        self.notify(f"Marked in error: {what}")
        self.refill()

    def _dose_screen(self, factory) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        if d.level is None:
            self.notify(f"{d.label}: no level yet ({d.level_basis}).", severity="error", timeout=10)
            return
        self.app.push_screen(factory(d))

    def action_prepare(self) -> None:
        from .preparation import DoseRef, PreparationScreen

        def make(d):
            blind = f"cycle {d.cycle} day {d.day}; {'reduced (see timeline)' if d.reduced else 'no reduction'}"
            return PreparationScreen(self.pid, DoseRef(d.cycle, d.day, d.level, d.level_basis, blind))

        self._dose_screen(make)

    def action_check(self) -> None:
        from .predose import PredoseScreen

        self._dose_screen(lambda d: PredoseScreen(self.pid, d.cycle, d.day))

    def action_monitor(self) -> None:
        from .monitor import MonitorScreen

        self._dose_screen(lambda d: MonitorScreen(self.pid, f"c{d.cycle}d{d.day}", f"{d.label} · {d.level} mg/m²"))

    def action_calendar(self) -> None:
        from bedside.core.calendar import calendar_lines

        from .dialogs import TextScreen

        lines = calendar_lines(self.app.ledger.patient(self.pid), self.tl)
        self.app.push_screen(TextScreen("Treatment calendar (plain text, 80 columns)", Text("\n".join(lines)), rule="SCHED-1..8, CYC-1..4"))

    def action_back(self) -> None:
        self.app.pop_screen()

"""The cycle timeline: Days 1, 8 and 15 of every cycle with windows, states in words and symbols,
cycles remaining with the rule that sets the number, and every schedule action by key.

Each action sends a command (core/schedule/commands.py) through ``ledger.execute``; who may act is
asked of core (``schedule.access``), the dose in mg is core's (``schedule.dose_amount``), and the
timeline is read from the patient's projection (``ledger.view(pid).timeline``), never refolded
per key."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Static

from bedside.core import rules
from bedside.core import schedule as sch
from bedside.core.intake import DATE_RE

from ..palette import HEADER_ICON
from ..text import literal, shown, when
from ..widgets.keys import Keys
from .base import PatientView, cell_width, key_lines, room_of, set_table
from .dialogs import FieldsDialog

SYMBOL = {
    sch.PLANNED: "○", sch.DUE_TODAY: "◉", sch.IN_WINDOW: "◐", sch.GIVEN: "✓", sch.HELD: "‖",
    sch.OMITTED: "✗", sch.DELAYED: "↷", sch.NOT_APPLICABLE: "—", sch.OVERDUE: "!", sch.BLOCKED: "⊘",
}  # fmt: skip
WORDS = {
    sch.PLANNED: "planned", sch.DUE_TODAY: "due today", sch.IN_WINDOW: "in window", sch.GIVEN: "given",
    sch.HELD: "held", sch.OMITTED: "omitted", sch.DELAYED: "delayed", sch.NOT_APPLICABLE: "not applicable",
    sch.OVERDUE: "overdue", sch.BLOCKED: "blocked",
}  # fmt: skip
DAY_COLUMNS = {1: 1, 2: 8, 3: 15}
COLUMNS = ("Cycle", "Day 1", "Day 8", "Day 15", "Ends")
DECISIONS = [("Confirm", "confirmed"), ("Decline", "declined")]
MORE_KEYS = (
    "b start C1", "g record given", "R response", "m move", "o omit", "x extend C1", "L confirm levels",
    "D discontinue", "E mark the latest entry in error", "P print the calendar",
)  # fmt: skip
LEGEND = "Each dose: state, planned date (MM-DD), level in mg/m² (r reduced, ? not set)."


#: A hold's cause, stored by value, shown and chosen by its words (the timeline's h dialog).
HOLD_CAUSES = {
    "non_hematologic": "Non-hematologic toxicity",
    "hematologic": "Hematologic (Day 1 only)",
    "other": "Other",
}


def cell(d: sch.Dose | None, words: bool = False) -> Text:
    """A dose in the table: its symbol, planned date (month-day) and level; with ``words`` (a wide
    terminal) the state in words too."""
    if d is None:
        return Text("")
    t = Text(f"{SYMBOL.get(d.state, '?')} {d.planned:%m-%d}")
    lvl = d.level if d.level is not None else "?"
    t.append(f" {lvl}" + ("r" if d.reduced else ""))
    if words:
        t.append(f" {WORDS.get(d.state, d.state)}", style="dim")
    return t


def proposal_label(pr: sch.Proposal) -> str:
    """A proposal as users read it: its rule and dose ("MOD-INT-1 C1 D8"), not its stored id."""
    return pr.rule + (f" C{pr.cycle} D{pr.day}" if pr.cycle is not None and pr.day is not None else "")


def parse_date_field(text: str, label: str) -> tuple[date | None, str | None]:
    text = (text or "").strip()
    if not DATE_RE.match(text):
        return None, f"{label}: a date as YYYY-MM-DD."
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, f"{label}: {text} is not a real date."


def validator(**spec: tuple[str, str]):
    """A dialog validator from ``field=(kind, words)``: "text" (required; words: the error), "choice"
    (required), "option" (None when blank), "free" (optional text), "int" (whole number), "date" (the
    words: its label), "date?" (optional date)."""

    def validate(raw):
        out, errs = {}, {}
        for name, (kind, words) in spec.items():
            value = (raw.get(name) or "").strip()
            if kind in ("date", "date?"):
                out[name], err = (None, None) if kind == "date?" and not value else parse_date_field(value, words)
            elif kind == "int":
                out[name], err = (int(value), None) if value.isdigit() else (0, words)
            elif kind in ("text", "free"):
                out[name], err = value, (words if kind == "text" and not value else None)
            else:  # a choice's value as chosen ("option": None when none is)
                out[name] = raw.get(name) or (None if kind == "option" else raw.get(name))
                err = words if kind == "choice" and not value else None
            if err:
                errs[name] = err
        return (out, {}) if not errs else (None, errs)

    return validate


# -- what the detail pane shows (all of it from core) ------------------------------------------------


def dose_lines(t: Text, d: sch.Dose) -> None:
    t.append(f"{d.label}: {WORDS.get(d.state, d.state).upper()} ", style="bold")
    t.append(f"({SYMBOL.get(d.state, '')})  planned {d.planned}")
    if d.day != 1:
        t.append(f"  window {d.window.text}")
    if d.effective is not None and d.effective != d.window:
        t.append(f"  effective {d.effective.text} [SCHED-7]")
    t.append("\n")
    t.append(f"Level {d.level if d.level is not None else '—'} mg/m² · ")
    t.append(d.level_basis)
    if not d.level_confirmed:
        t.append("  (a prescriber must confirm: L)", style="bold")
    t.append("\n")
    if d.given_on:
        t.append(f"Given {d.given_on} by {d.given_by}, {d.dose_mg} mg\n")
    if d.held_from:
        t.append(f"Held from {d.held_from}: ")
        t.append(f"{d.hold_reason} ({sch.TOXICITY_WORDS.get(d.toxicity or '', d.toxicity or 'no cause')})")
        t.append(f"; recovered {d.recovered_on}" if d.recovered_on else "; not recovered")
        if d.interruption_days is not None:
            n = d.interruption_days
            t.append(f"; interruption {n} day{'' if n == 1 else 's'} [CONV-SCHED-5]")
        t.append("\n")
    if d.omit_reason:
        t.append("Omitted: " + d.omit_reason + "\n")
    if d.note:
        t.append(d.note + "\n", style="dim")


def record_lines(t: Text, tl: sch.Timeline, voided) -> None:
    """Entries in error, cycles remaining with their limits, discontinuation and open proposals."""
    for v in voided[:3]:
        t.append("In error: ", style="bold")
        t.append(f"{v.entry} (recorded by {v.recorded_by}); marked by {v.voided_by} {when(v.voided_at)}: ")
        t.append(v.reason + "\n")
    t.append(f"Cycles given {tl.cycles_given} · remaining {tl.cycles_remaining} (of {tl.cycles_allowed})\n", style="bold")
    for lim in tl.limits:
        t.append(f"  {lim.rule}: {lim.text}\n")
    if tl.discontinued:
        t.append(f"DISCONTINUED {tl.discontinued_on}: {tl.discontinued_reason}\n", style="bold reverse")
    for pr in tl.proposals:
        t.append(f"⚠ {proposal_label(pr)}: ", style="bold")
        t.append(pr.text)
        t.append(f" ({pr.needs_role}{', UNVERIFIED' if pr.unverified else ''}; d decides)\n")


class TimelineScreen(PatientView):
    BINDINGS = [
        # The footer (80 columns, with the palette's key) shows a dose's usual path; the rest are
        # listed under "More keys" on the screen, and all of them in the help.
        Binding("c", "check", "Check"),
        Binding("p", "prepare", "Prep"),
        Binding("i", "monitor", "Monitor"),
        Binding("h", "hold", "Hold"),
        Binding("y", "recover", "Recovered"),
        Binding("d", "decide", "Decide"),
        Binding("b", "start", "Start C1", show=False),
        Binding("g", "give", "Record given", show=False),
        Binding("R", "response", "Response", show=False),
        Binding("m", "move", "Move", show=False),
        Binding("o", "omit", "Omit", show=False),
        Binding("x", "extend", "Extend C1", show=False),
        Binding("L", "levels", "Levels", show=False),
        Binding("D", "discontinue", "Discontinue", show=False),
        Binding("E", "in_error", "In error", show=False),
        Binding("P", "calendar", "Print", show=False),
        Binding("escape", "back", "Back"),
    ]

    @property
    def view(self):
        """The patient's projection (rebuilt by the ledger only when the record or the date changes)."""
        return self.app.ledger.view(self.pid)

    @property
    def tl(self) -> sch.Timeline:
        return self.view.timeline

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="identity", classes="identity")
        yield Static(id="tl-status", classes="screen-title")
        yield DataTable(id="cycles", cursor_type="cell")
        with VerticalScroll(id="tl-detail-box"):
            yield Static(id="tl-detail")
        yield Keys()

    def on_mount(self) -> None:
        t = self.query_one("#cycles", DataTable)
        self.refill()
        t.move_cursor(row=0, column=1)
        self.set_focus(t)

    def fill(self) -> None:
        tl = self.tl
        self.query_one("#tl-status", Static).update(literal(tl.status))
        t = self.query_one("#cycles", DataTable)
        keep = t.cursor_coordinate
        room = room_of(t)
        rows = self._rows(tl, words=True)
        if (
            sum(max([cell_width(label)] + [cell_width(cells[i]) for _k, cells in rows]) + 2 for i, label in enumerate(COLUMNS))
            > room
        ):
            rows = self._rows(tl, words=False)  # the states in words only where they fit
        set_table(t, COLUMNS, rows, room)  # explicit widths: the header lines up at once
        if t.row_count:
            t.move_cursor(row=min(keep.row, t.row_count - 1), column=max(1, min(keep.column, 3)))
        self.show_detail()

    @staticmethod
    def _rows(tl: sch.Timeline, words: bool) -> list[tuple[str, list[Text]]]:
        rows = []
        for c in tl.cycles:
            doses = {d.day: d for d in c.doses}
            ext = f" ({c.length_days} d)" if c.extended_length else ""
            days = [cell(doses.get(day), words) for day in DAY_COLUMNS.values()]
            rows.append((str(c.number), [Text(f"C{c.number}"), *days, Text(f"{c.end:%m-%d}{ext}")]))
        return rows

    def selected(self) -> sch.Dose | None:
        t = self.query_one("#cycles", DataTable)
        if not t.row_count:
            return None
        _row, col = t.cursor_coordinate
        if col not in DAY_COLUMNS:
            col = 1
        cycle = int(t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value)
        return self.tl.dose(cycle, DAY_COLUMNS[col])

    def on_data_table_cell_highlighted(self, event) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        view = self.view
        tl = view.timeline
        d = self.selected()
        t = Text()
        if not tl.started:
            t.append("Cycle 1 not started. b starts it on a chosen date (SCHED-6).\n")
        if d is not None:
            dose_lines(t, d)
        record_lines(t, tl, sch.voided_of(view))
        detail = self.query_one("#tl-detail", Static)
        t.append(LEGEND + "\n", style="dim")
        t.append_text(key_lines("More keys: ", MORE_KEYS, room_of(detail, padding=2), style="dim"))
        detail.update(shown(t))

    # -- helpers -------------------------------------------------------------------------------
    def send(self, command, actor: str | None = None) -> bool:
        """Execute ``command`` as ``actor`` (the signed-in user by default); a refusal is shown."""
        try:
            self.app.ledger.execute(command, actor or self.app.actor)
        except ValueError as exc:
            self.notify(f"Refused: {exc}", severity="error", timeout=15)
            return False
        self.refill()
        return True

    async def acting_user(self, action: str, **about) -> str | None:
        """Who acts: the signed-in user if core says they may, else someone of the role core names
        signs in here (None: cancelled, or nobody may)."""
        may = sch.access(action, self.app.ledger.actor(self.app.actor), **about)
        if may.allowed:
            return self.app.actor
        if may.needs_role is None:
            self.notify(f"Refused: {may.why}", severity="error", timeout=15)
            return None
        user = await self.as_role(may.needs_role, may.why)
        return None if user is None else user.username

    def _dose_or_warn(self) -> sch.Dose | None:
        d = self.selected()
        if d is None:
            self.notify("Start cycle 1 first (b).", severity="warning")
        return d

    async def ask(self, title: str, fields, validate, **kw):
        return await self.app.push_screen_wait(FieldsDialog(title, fields, validate, **kw))

    # -- actions -------------------------------------------------------------------------------
    @work(exclusive=True)
    async def action_start(self) -> None:
        ans = await self.ask(
            "Start cycle 1", [("day1", "Day 1 date (YYYY-MM-DD)", "text")], validator(day1=("date", "Cycle 1 Day 1")),
            values={"day1": self.app.ledger.today().isoformat()},
            note="Days 8 and 15 and the cycle length follow (SCHED-1, SCHED-4, SCHED-6).",
        )  # fmt: skip
        if ans:
            self.send(sch.StartCycle(self.pid, ans["day1"]))

    @work(exclusive=True)
    async def action_give(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        amount = sch.dose_amount(self.view, d)  # the preparation's calculation, else an estimate (labelled)
        if amount.mg is None:
            self.notify(f"{d.label}: {amount.text}.", severity="error")
            return
        ans = await self.ask(
            f"Record {d.label} given: {d.level} mg/m² = {amount.text}", [("date", "Date given (YYYY-MM-DD)", "text")],
            validator(date=("date", "Date given")), values={"date": self.app.ledger.today().isoformat()},
            note="Normally recorded by starting the infusion (i); use this for a dose documented elsewhere.",
        )  # fmt: skip
        if ans:
            self.send(sch.RecordDoseGiven(self.pid, d.cycle, d.day, ans["date"]))

    @work(exclusive=True)
    async def action_hold(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        choices = [(label, value) for value, label in HOLD_CAUSES.items()]
        fields = [("reason", "Reason", "text"), ("toxicity", "Cause", "choice", choices)]
        ans = await self.ask(
            f"Hold {d.label}", fields, validator(reason=("text", "Reason: required."), toxicity=("choice", "Cause: choose one."))
        )
        if ans:
            self.send(sch.HoldDose(self.pid, d.cycle, d.day, ans["reason"], ans["toxicity"]))

    @work(exclusive=True)
    async def action_recover(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        ans = await self.ask(
            f"Recovery for {d.label}", [("date", "Recovered on (YYYY-MM-DD)", "text")], validator(date=("date", "Recovery date")),
            values={"date": self.app.ledger.today().isoformat()},
            note="Table 4 proposals follow from the interruption length (MOD-INT, UNVERIFIED).",
        )  # fmt: skip
        if ans:
            self.send(sch.RecordRecovery(self.pid, d.cycle, d.day, ans["date"]))

    @work(exclusive=True)
    async def action_move(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        allowed = d.effective.text if d.effective else "none: a prescriber must decide"
        ans = await self.ask(
            f"Move {d.label}", [("date", "New date (YYYY-MM-DD)", "text"), ("reason", "Reason", "text")],
            validator(date=("date", "New date"), reason=("text", "Reason: required.")),
            note=f"Allowed: {allowed} (SCHED-2, SCHED-3, SCHED-7).",
        )  # fmt: skip
        if ans:
            self.send(sch.MoveDose(self.pid, d.cycle, d.day, ans["date"], ans["reason"]))

    @work(exclusive=True)
    async def action_omit(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        ans = await self.ask(f"Omit {d.label}", [("value", "Reason", "text")], validator(value=("text", "Reason: required.")))
        if ans:
            self.send(sch.OmitDose(self.pid, d.cycle, d.day, ans["value"]))

    @work(exclusive=True)
    async def action_extend(self) -> None:
        choices = [("In CR/CRi", "cr_cri"), ("Recovery from toxicity", "toxicity_recovery"), ("Other (note)", "other")]
        lo, hi = rules.CYCLE1_MIN_EXTENDED_DAYS, rules.CYCLE1_MAX_DAYS
        fields = [
            ("length", f"Length (days, {lo}–{hi})", "text"),
            ("reason", "Reason", "choice", choices),
            ("note", "Note", "text"),
        ]
        check = validator(length=("int", f"Length: whole days, {lo} to {hi} (SCHED-4)."),
                          reason=("choice", "Reason: choose one (SCHED-4)."), note=("free", ""))  # fmt: skip
        ans = await self.ask("Extend cycle 1", fields, check)
        if ans:
            self.send(sch.ExtendCycle(self.pid, ans["length"], ans["reason"], ans["note"]))

    @work(exclusive=True)
    async def action_response(self) -> None:
        responses = [("CR", "cr"), ("CRi", "cri"), ("Neither", "neither"), ("Not assessed", "not_assessed")]
        mrds = [("Negative", "negative"), ("Positive", "positive"), ("Unknown", "unknown")]
        fields = [("cycle", "Cycle assessed", "text"), ("response", "Response", "choice", responses),
                  ("mrd", "MRD", "choice", mrds), ("assessed_on", "Assessed on (YYYY-MM-DD)", "text")]  # fmt: skip
        check = validator(cycle=("int", "Cycle: a number."), response=("choice", "Response: choose one (RESP-4)."),
                          mrd=("choice", "MRD: choose one (RESP-3)."), assessed_on=("date", "Assessed on"))  # fmt: skip
        ans = await self.ask(
            "Response at the end of a cycle", fields, check,
            values={"cycle": str(self.tl.current_cycle or 1), "assessed_on": self.app.ledger.today().isoformat()},
            note="CR: marrow blasts < 5%, full count recovery; CRi: incomplete recovery (RESP-1, RESP-2).",
        )  # fmt: skip
        if ans:
            self.send(sch.RecordResponse(self.pid, ans["cycle"], ans["response"], ans["mrd"], ans["assessed_on"]))

    @work(exclusive=True)
    async def action_decide(self) -> None:
        tl = self.tl
        props = [p for p in tl.proposals if p.rule not in sch.LEVEL_RULES and p.rule != "CONV-CYC-1"]
        if not props:
            self.notify("No proposal to decide here (levels: L; HSCT decision: intake).")
            return
        choices = [(f"{proposal_label(p)}: {p.text[:50]}", p.id) for p in props]
        fields = [("proposal", "Proposal", "choice", choices), ("decision", "Decision", "choice", DECISIONS),
                  ("reason", "Reason", "text"), ("date", "Date (date proposals)", "text")]  # fmt: skip
        check = validator(proposal=("choice", "Proposal: choose one."), decision=("choice", "Decision: confirm or decline."),
                          reason=("text", "Reason: required (CONV-OVR-1)."), date=("date?", "Date"))  # fmt: skip
        ans = await self.ask("Decide a proposal", fields, check)
        if not ans:
            return
        who = await self.acting_user("decide", proposal=tl.proposal(ans["proposal"]))
        if who is not None:
            self.send(sch.DecideProposal(self.pid, ans["proposal"], ans["decision"], ans["reason"], ans["date"]), who)

    @work(exclusive=True)
    async def action_levels(self) -> None:
        d = self._dose_or_warn()
        if d is None:
            return
        lv = sch.levels_for(self.tl, d.cycle)
        table = (("CR/CRi", rules.LEVELS_CR_CRI, "cr_cri"), ("Not in CR/CRi", rules.LEVELS_NO_CR, "no_cr_cri"))
        rows = [(f"{name} row ({'/'.join(str(row[x]) for x in rules.DAYS)})", key) for name, row, key in table]
        fields = [
            ("row", "Table 1 row (not assessed)", "choice", [*rows, ("Keep the proposed levels", "")]),
            ("basis", "Basis", "text"),
        ]
        proposed = ", ".join(f"D{k} {v}" for k, v in lv.levels.items() if v is not None)
        ans = await self.ask(
            f"Confirm cycle {d.cycle} levels (prescriber)", fields,
            validator(row=("option", ""), basis=("text", "Basis: required.")),
            note=f"Proposed: {proposed or 'none'} — {lv.basis}",
        )  # fmt: skip
        if not ans:
            return
        who = await self.acting_user("levels")
        if who is not None:  # the proposed levels, or the chosen row's (core fills them in: CONV-RESP-4)
            self.send(sch.ConfirmLevels(self.pid, d.cycle, ans["basis"], ans["row"]), who)

    @work(exclusive=True)
    async def action_discontinue(self) -> None:
        reasons = [(r.replace("_", " "), r) for r in sch.DISCONTINUE_REASONS]
        ans = await self.ask(
            "Discontinue permanently", [("reason", "Reason", "choice", reasons), ("note", "Note", "text")],
            validator(reason=("choice", "Reason: choose one."), note=("free", "")),
            note="Permanent: no dose can be scheduled or given afterwards (§16.1).",
        )  # fmt: skip
        if not ans:
            return
        who = await self.acting_user("discontinue")
        if who is not None:  # dated today, the site's local date (core)
            self.send(sch.DiscontinueTreatment(self.pid, ans["reason"], ans["note"]), who)

    @work(exclusive=True)
    async def action_in_error(self) -> None:
        """The latest schedule entry was recorded in error: it stays in the record, marked with who
        and why, and the timeline is computed without it."""
        events = self.view.events
        latest = sch.latest_entry(events)
        if latest is None:
            self.notify("There is no schedule entry to enter in error.", severity="warning")
            return
        why_not = sch.void_refusal(events)  # refusals about the entry itself come before asking anyone for a reason
        if why_not:
            self.notify(f"Cannot mark in error: {why_not}", severity="warning", timeout=15)
            return
        what = sch.describe_entry(latest)
        ans = await self.ask(
            f"Latest entry recorded in error? {what}", [("value", "What was wrong", "text")],
            validator(value=("text", "What was wrong: required.")),
            note=f"Recorded by {latest.actor}, {when(latest.at)}. It stays in the record, marked in error with your name and "
            "reason; the timeline is then computed without it. Only the latest entry can be marked (then the one before).",
        )  # fmt: skip
        if not ans:
            return
        who = await self.acting_user("in_error", entry=latest)
        if who is not None and self.send(sch.VoidLatestEntry(self.pid, ans["value"], expected_version=latest.version), who):
            self.notify(f"Marked in error: {what}")

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
        self.app.push_screen(
            TextScreen("Treatment calendar (plain text, 80 columns)", Text("\n".join(lines)), rule="SCHED-1..8, CYC-1..4")
        )

    def action_back(self) -> None:
        self.app.pop_screen()

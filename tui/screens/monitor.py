"""The infusion monitor: phase and timers derived from stored events and the clock, vitals,
reactions as a guided sequence, and alerts that stay until acknowledged."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.renderables.bar import Bar as BarRenderable
from textual.screen import Screen
from textual.widgets import Digits, Header, ProgressBar, Static

from bedside.core import infusion as inf
from bedside.core import rules
from bedside.core.clock import fmt_clock, fmt_near, local_tz
from bedside.core.commands import Refusal

from ..palette import HEADER_ICON
from ..text import literal
from ..widgets.countdown import LiveText, span
from ..widgets.keys import Keys
from .base import identity_line
from .dialogs import ConfirmScreen, FieldsDialog, MessageScreen


def clock_hm(at: datetime | None, now: datetime) -> str:
    return fmt_near(at, now, missing="—", other_day="%d %b %H:%M")


def hms(delta: timedelta | None) -> str:
    return fmt_clock(delta)


def hm_only(delta: timedelta) -> str:
    return fmt_clock(delta, seconds=False)


def settings() -> inf.MonitorSettings:
    return inf.MonitorSettings(tz=local_tz())


class PlainBar(BarRenderable):
    """A progress bar readable without colour: the part done heavy (━), the rest light (─)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width or options.max_width
        done = max(0, min(width, round(self.highlight_range[1])))
        bar = Text(end="")
        bar.append("━" * done, style=console.get_style(self.highlight_style))
        bar.append("─" * (width - done), style=console.get_style(self.background_style))
        yield bar


class PhaseBar(ProgressBar):
    """The phase's progress in whole minutes (no ETA: the end's clock time is shown beside it)."""

    BAR_RENDERABLE = PlainBar


#: The phase box's class, for its colour; the phase is always written in words as well.
PHASE_CLASS = {
    inf.NOT_STARTED: "-idle",
    inf.INFUSING: "-running",
    inf.PAUSED: "-held",
    inf.OBSERVING: "-observing",
    inf.STOPPED: "-stopped",
    inf.OBSERVATION_COMPLETE: "-done",
    inf.OBSERVATION_INCOMPLETE_PHASE: "-stopped",
}

#: The monitor key that does what an alert asks, by the alert id's kind (core/infusion/alerts.py).
ALERT_KEYS = {
    "reaction-open": "e",
    "reaction-record": "e",
    "vitals-due": "v",
    "vitals-overdue": "v",
    "vitals-missed": "v",
    "infusion-ended": "v",
    "infusion-stopped": "v",
    "observation-may-end": "o",
}


#: Deviations and outcomes as words (core/infusion/model.py Deviation.kind, Reaction.outcome).
DEVIATION_WORDS = {
    "observation_incomplete": "patient left before observation ended",
    "infusion_short": "infusion shorter than its running time",
    "resumed_past_deadline": "resumed past the bag's stability deadline",
    "resumed_with_reaction": "resumed with a reaction not resolved",
}
OUTCOME_WORDS = {"resume": "outcome: resume the infusion", "stop": "outcome: stop the infusion"}


def big_numbers(st: inf.MonitorState) -> tuple[str, str, str, str] | None:
    """What the large digits show: (digits, label, ends, rule) of the phase's one timer, or None
    when no counter runs (not started, observation closed). Whole minutes left, rounded up (so
    "1" is the last minute), because the large digits change once a minute; the timer line
    below them keeps the seconds."""
    tm = st.timer
    if tm is None:
        return None
    if tm.left is None:
        return "--", "minutes left: open", "until the reaction is resolved", tm.rule
    minutes = math.ceil(tm.left.total_seconds() / 60)
    ends = f"ends at {clock_hm(tm.expected_end, st.now)}" if tm.expected_end is not None else ""
    return str(minutes), "minute left" if minutes == 1 else "minutes left", ends, tm.rule


def bar_minutes(st: inf.MonitorState) -> tuple[str, int, int] | None:
    """The progress bar: (label, whole minutes counted, minutes of the target) or None."""
    tm = st.timer
    if tm is None or tm.target is None:
        return None
    label = "Infusion" if tm.kind == "infusion" else "Observation"
    total = max(1, math.ceil(tm.target.total_seconds() / 60))
    return label, min(total, int(tm.counted.total_seconds() // 60)), total


class VitalsDialog(FieldsDialog):
    """The vital-signs form: Enter moves on, and Enter on the last field records (as ctrl+s), so a
    set costs v, one Enter per value and one more (the time, prefilled with now)."""

    async def on_input_submitted(self, event) -> None:
        event.stop()
        if event.input.id == f"f-{self.fields[-1][0]}":
            await self.run_action("save")  # through the app's fault handling


class MonitorScreen(Screen):
    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("e", "reaction", "Reaction"),
        Binding("v", "vitals", "Vitals"),
        Binding("k", "acknowledge", "Ack alert"),
        Binding("o", "complete", "Obs. done"),
        Binding("l", "left_early", "Left early", show=False),
        Binding("t", "stop", "Stop", show=False),
        Binding("G", "correct_grade", "Correct grade", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, pid: str, dose_id: str, label: str = ""):
        super().__init__()
        self.pid, self.dose_id, self.label = pid, dose_id, label
        self._rung: set[str] = set()

    # -- state ---------------------------------------------------------------------------------
    def state(self) -> inf.MonitorState:
        """The monitor state now: the dose is folded once per projection of the patient (a new
        one comes only with new events); each clock second only advances its timers (four live
        lines ask for it each tick)."""
        ledger = self.app.ledger
        now = ledger.clock.now()
        view = ledger.view(self.pid)
        key = (id(view), view.version, int(now.timestamp()))
        if getattr(self, "_cache_key", None) != key:
            self._cache = inf.monitor_at(view, self.dose_id, now, settings())
            self._cache_key = key
        return self._cache

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        # Grouped so that a second's repaint of the timer line leaves the other groups' lines alone
        # (the compositor renders every widget whose container overlaps the changed cells).
        with Vertical(id="mon-top"):
            yield Static(id="identity", classes="identity")
            yield Static(id="mon-dose", classes="screen-title")
        # The phase in words and the minutes left in large digits: these change once a minute.
        with Horizontal(id="mon-big"):
            yield Static(id="mon-phase")
            yield Digits("", id="mon-left")
            yield Static(id="mon-left-label")
        with Horizontal(id="mon-bar"):
            yield Static(id="mon-bar-label")
            yield PhaseBar(total=rules.INFUSION_MINUTES, show_eta=False, id="mon-progress")  # then the phase's own
        # One line; a second repaints only the cells that changed (a digit or two).
        yield LiveText(self.timer_line, id="mon-timer", classes="timer", interval=None)
        with Vertical(id="mon-bottom"):
            yield LiveText(self.detail_text, id="mon-detail", classes="mon-detail", interval=None)
        yield LiveText(self.alert_text, id="mon-alerts", classes="alerts", interval=None)
        yield Keys()

    def on_mount(self) -> None:
        # One tick for all live lines, so a second's changes leave in one burst.
        self._live = list(self.query(LiveText))
        self._timer = self.set_interval(1, self.tick)
        p = self.app.ledger.patient(self.pid)
        self.query_one("#identity", Static).update(identity_line(p, self.app.ledger.today()))
        self.query_one("#mon-dose", Static).update(literal(f"Infusion monitor · {self.label or inf.dose_label(self.dose_id)}"))
        self._shown: dict[str, object] = {}
        self.refresh_big()

    def ledger_changed(self) -> None:
        self.refresh_all()

    def on_screen_resume(self) -> None:
        self._timer.resume()
        self.refresh_all()

    def on_screen_suspend(self) -> None:
        self._timer.pause()

    def refresh_all(self) -> None:
        for w in self._live:
            w.tick()
        self.refresh_big()
        phase = self.state().phase
        if getattr(self, "_keys_phase", None) != phase:  # the footer shows only this phase's keys
            self._keys_phase = phase
            self.refresh_bindings()

    # Keys that belong to one phase: hidden in the others, so that after OBSERVATION COMPLETE no
    # key of an earlier phase stays on screen (reaction, vitals and alerts stay: MON-1, MON-4).
    _PHASE_KEYS = {
        "start": lambda st: st.phase == inf.NOT_STARTED,
        "pause": lambda st: st.phase == inf.INFUSING,
        "resume": lambda st: st.phase == inf.PAUSED,
        "stop": lambda st: st.phase in (inf.INFUSING, inf.PAUSED),
        "complete": lambda st: st.observation_open,
        "left_early": lambda st: st.observation_open,
    }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rule = self._PHASE_KEYS.get(action)
        if rule is None or not self.is_mounted:
            return True
        return bool(rule(self.state()))

    def tick(self) -> None:
        self.refresh_all()

    # -- the live lines (each its own widget: only a changed line is redrawn) -------------------
    def _changed(self, key: str, value: object) -> bool:
        """Whether ``value`` differs from what is shown under ``key`` (then it is remembered):
        a widget is updated only when what it shows changes, so an idle second writes nothing here."""
        if self._shown.get(key, ...) == value:
            return False
        self._shown[key] = value
        return True

    def refresh_big(self) -> None:
        """The phase box, the large minutes left, the end's clock time and the progress bar."""
        if not self.is_mounted or not hasattr(self, "_shown"):
            return
        st = self.state()
        if self._changed("phase", st.phase):
            box = self.query_one("#mon-phase", Static)
            box.set_classes(PHASE_CLASS.get(st.phase, "-idle"))
            if self.app.has_class("-no-color"):  # a solid reverse-video block: no colour to fill it
                width = box.styles.width.cells if box.styles.width and box.styles.width.cells else 26
                box.update(Text("\n".join((" " * width, st.phase.center(width), " " * width)), style="bold reverse"))
            else:
                box.update(st.phase)
        big = big_numbers(st)
        if self._changed("big", big):
            digits, label = self.query_one("#mon-left", Digits), self.query_one("#mon-left-label", Static)
            digits.display = label.display = big is not None
            if big is not None:
                digits.update(big[0])
                label.update(Text(f"{big[1]}\n{big[2]}\n({big[3]})"))
        bar = bar_minutes(st)
        if self._changed("bar", bar):
            row = self.query_one("#mon-bar", Horizontal)
            row.display = bar is not None
            if bar is not None:
                self.query_one("#mon-bar-label", Static).update(bar[0])
                self.query_one("#mon-progress", PhaseBar).update(total=bar[2], progress=bar[1])

    def timer_text(self) -> str:
        return self.query_one("#mon-timer", LiveText).text.plain

    def timer_line(self) -> str:
        """One style for the whole line (bold in the tcss): a second's change then leaves as a
        single run of text (ptybench: about 70 bytes a second)."""
        st = self.state()
        if st.phase == inf.NOT_STARTED:
            return "Not started. s starts the 1-hour infusion (ADM-1)."
        tm = st.timer  # one consistent pair: counted + left = target (MON-3, MON-2)
        if tm is None:
            return f"{st.phase.capitalize()}."
        what = "Running" if tm.kind == "infusion" else "Observing"
        of = f" of {hms(tm.target)}" if tm.target is not None else ""
        left = hms(tm.left) if tm.left is not None else "open (a reaction is not resolved)"
        return f"{what} {hms(tm.counted)}{of}   Left {left}"

    def detail_text(self) -> Text:
        st = self.state()
        now = st.now
        t = Text()
        closed = st.observation_closed_at is not None
        if st.phase == inf.PAUSED and st.pauses:
            t.append(f"Paused at {clock_hm(st.pauses[-1].started_at, now)}: ", style="bold")
            t.append(st.pauses[-1].reason + "\n")
        if st.started_at:
            self._wall_clock(t, st, now, closed)
        if st.stability_deadline and not closed:
            left = (st.stability_deadline - now).total_seconds()
            t.append(
                f"Bag stable until {clock_hm(st.stability_deadline, now)} "
                f"({'in ' + span(left) if left >= 0 else 'PASSED'}) [CONV-STAB-1]\n"
            )
        nxt = None if closed else next((v for v in st.vitals_due if v.status in ("due", "overdue", "pending")), None)
        if nxt:
            t.append(f"Next vitals: {nxt.label} {clock_hm(nxt.due_at, now)} — {nxt.status.upper()} [{nxt.rule}]\n")
        for r in st.reactions:
            t.append(f"Reaction {r.number} at {clock_hm(r.started_at, now)}: ", style="bold")
            t.append(r.symptoms)
            grade = "not graded yet" if r.grade is None else ("anaphylaxis" if r.grade == "anaphylaxis" else f"Grade {r.grade}")
            outcome = f"resolved at {clock_hm(r.resolved_at, now)} ({OUTCOME_WORDS.get(str(r.outcome), r.outcome)})"
            t.append(f" · {grade} · {outcome if r.resolved_at else 'OPEN'}\n")
        if st.discontinuation:
            t.append(f"⚠ {st.discontinuation.text} [{st.discontinuation.rule}]\n", style="bold")
        self._more_keys(t, st)
        for d in st.deviations:
            t.append(f"Deviation: {DEVIATION_WORDS.get(d.kind, d.kind)} at {clock_hm(d.at, now)} ({d.who}): ", style="dim")
            t.append(d.reason + "\n", style="dim")
        return t

    @staticmethod
    def _wall_clock(t: Text, st: inf.MonitorState, now: datetime, closed: bool) -> None:
        # Wall clock only (the counters are the timer line above): this block is redrawn when
        # its text changes, minutes at most.
        if st.phase in (inf.INFUSING, inf.PAUSED):
            t.append(
                f"Started {clock_hm(st.started_at, now)} · expected end {clock_hm(st.infusion_end_at, now)}"
                f" (start + 60 min + pauses {hm_only(st.paused)}, MON-3)\n"
            )
            t.append(f"Observation until ≥ {clock_hm(st.observation_min_end, now)} (MON-2)\n")
        else:
            ended = "stopped" if st.phase == inf.STOPPED else "ended"
            t.append(
                f"Started {clock_hm(st.started_at, now)} · {ended} {clock_hm(st.infusion_end_at, now)}"
                f" (paused {hm_only(st.paused)})\n"
            )
            if closed:
                word = "complete" if st.observation_outcome == "completed" else "INCOMPLETE (patient left early, MON-2)"
                t.append(f"Observation {word} at {clock_hm(st.observation_closed_at, now)}\n")
            else:
                t.append(f"Observation until ≥ {clock_hm(st.observation_earliest_end or st.observation_min_end, now)} (MON-2)\n")

    @staticmethod
    def _more_keys(t: Text, st: inf.MonitorState) -> None:
        regrade = " · G correct a grade (prescriber)" if any(r.grade is not None for r in st.reactions) else ""
        if st.phase in (inf.INFUSING, inf.PAUSED):
            t.append(f"More keys: l patient left early · t stop the infusion{regrade}\n", style="dim")
        elif st.observation_open:
            t.append(f"More keys: l patient left early{regrade}\n", style="dim")
        elif regrade:
            t.append(f"More keys:{regrade[2:]}\n", style="dim")

    def alert_text(self) -> Text:
        """The first alert in full (what happened, what to do and why, the key that does it, the
        rule): k acknowledges that one. The next two in one line each, so the details and the keys
        stay on an 80x24 screen."""
        st = self.state()
        t = Text()
        if not st.alerts:
            return t
        for a in st.alerts:
            if a.id not in self._rung and self.app.ledger.site().bell:
                self._rung.add(a.id)
                self.app.bell()
        first = st.alerts[0]
        t.append("!! ALERT" if first.severity == "critical" else "! ALERT", style="bold reverse")
        key = ALERT_KEYS.get(first.id.split(":", 1)[0])
        rule = "" if f"{first.rule})" in first.action else f" [{first.rule}]"
        t.append(f" {first.text} → {first.action}" + (f" Key {key}." if key else "") + rule + "\n")
        width = max(20, self.app.size.width - 2)  # the alerts line spans the screen (padding 0 1)
        for a in st.alerts[1:3]:
            line = Text(("!! " if a.severity == "critical" else "! ") + f"Also: {a.text}", style="bold")
            line.truncate(width, overflow="ellipsis")
            t.append_text(line)
            t.append("\n")
        more = f"{len(st.alerts) - 3} more; " if len(st.alerts) > 3 else ""
        t.append(f"{more}k acknowledges the first alert (it asks first).", style="dim")
        return t

    # -- actions: each sends a command; core decides and records (core/infusion/commands.py) -------
    def _execute(self, command, actor: str | None = None) -> bool:
        """Carry out ``command`` for the signed-in user (or ``actor``); a refusal is shown as it is."""
        try:
            self.app.ledger.execute(command, actor or self.app.actor)
        except ValueError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return False
        self.refresh_all()
        return True

    @staticmethod
    def _required(name: str, message: str):
        """A dialog check that ``name`` is not empty (core checks it again in the decision)."""
        return lambda raw: ({name: raw[name].strip()}, {} if raw[name].strip() else {name: message})

    @work(exclusive=True)
    async def action_start(self) -> None:
        st = self.state()
        if st.phase != inf.NOT_STARTED:
            self.notify("Already started.", severity="warning")
            return
        ledger = self.app.ledger
        dry = ledger.decide(inf.StartInfusion(self.pid, self.dose_id), self.app.actor)  # the start gate, as core decides it now
        if isinstance(dry, Refusal) and dry.ask != inf.ASK_BAG_CODE:
            # Each reason names its rules and what to do next (core/infusion/gate.py).
            await self.app.push_screen_wait(MessageScreen("Cannot start", dry.text.removeprefix("Cannot start:\n")))
            return

        def validate(raw):  # the bag label scanned: core's own words when it is not this dose's bag
            answer = ledger.decide(inf.StartInfusion(self.pid, self.dose_id, raw["bag"] or ""), self.app.actor)
            return (None, {"bag": answer.text}) if isinstance(answer, Refusal) else (raw, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                f"Scan the bag label: {inf.dose_label(self.dose_id)}",
                [("bag", "Bag label (scan)", "text")],
                validate,
                note="Scan the bar code on the bag's label (or type the code under it): "
                "the infusion starts only with this dose's current bag.",
                enter_records="bag",
            )
        )
        if ans:
            # The dose counts as given when its infusion starts (SCHED-6): core records both together.
            self._execute(inf.StartInfusion(self.pid, self.dose_id, ans["bag"]))

    def action_pause(self) -> None:
        st = self.state()
        if not st.can_pause.allowed:
            self.notify(st.can_pause.reason, severity="warning")
            return
        self.app.push_screen(
            FieldsDialog("Pause the infusion", [("reason", "Reason", "text")], self._required("reason", "Reason: required.")),
            lambda d: d and self._execute(inf.PauseInfusion(self.pid, self.dose_id, reason=d["reason"])),
        )

    @work(exclusive=True)
    async def action_resume(self) -> None:
        st = self.state()
        if not st.can_resume.allowed:
            self.notify(st.can_resume.reason, severity="warning", timeout=10)
            return
        warning = st.resume_warning  # CONV-STAB-3, computed by core (inf.check_resume)
        if warning and not await self.app.push_screen_wait(
            ConfirmScreen("Resume after the stability deadline?", warning + "\n\nResume anyway?", rule="CONV-STAB-3")
        ):
            return
        self._execute(inf.ResumeInfusion(self.pid, self.dose_id, confirmed=bool(warning)))

    async def ask_vitals(self, point: str | None = None) -> bool:
        """Ask for a set of vital signs, taken now (the time is editable for a late entry); Enter on
        the last field records it; unusual values need a second ctrl+s (CONV-INPUT-1)."""
        fields = [(name, label, "text") for name, label, *_r in inf.VITALS_FIELDS] + [("time", "Taken at (HH:MM)", "text")]
        seen: dict = {}
        now = self.app.ledger.clock.now()
        prefill = clock_hm(now, now)  # left as it is, the set is taken when it is recorded

        def validate(raw):
            raw = dict(raw)
            typed_time = raw.pop("time", "")
            unusual = inf.unusual_vitals(raw)
            confirmed = unusual.keys() if seen.get("raw") == raw else ()
            seen["raw"] = dict(raw)
            seen["confirmed"] = tuple(confirmed)
            seen["time"] = "" if typed_time.strip() == prefill else typed_time
            data, errors = inf.validate_vitals(raw, confirmed=confirmed)
            if errors and set(errors) <= set(unusual):
                errors = {k: v + " Press ctrl+s again to confirm." for k, v in errors.items()}
            try:
                inf.vitals_taken_at(seen["time"], self.app.ledger.clock.now())
            except ValueError as exc:
                errors["time"] = str(exc)
            return data, errors

        title = "Vital signs" + (f" (reaction {point.split(':')[1]})" if point and point.startswith("reaction:") else "")
        note = "Enter moves on; Enter on the time records the set. The time is now: change it for a late entry."
        dialog = VitalsDialog(title, fields, validate, note=note, values={"time": prefill})
        data = await self.app.push_screen_wait(dialog)
        if data is None:
            return False
        return self._execute(
            inf.RecordVitals(
                self.pid, self.dose_id, values=seen["raw"], confirmed=seen["confirmed"], point=point, time=seen["time"]
            )
        )

    @work(exclusive=True)
    async def action_vitals(self) -> None:
        await self.ask_vitals()

    def _reaction_of(self, n: int):
        return next(r for r in self.state().reactions if r.number == n)

    @work(exclusive=True)
    async def action_reaction(self) -> None:
        """The guided sequence: each step is recorded (time-stamped) as it is answered."""
        st = self.state()
        open_r = next((r for r in st.reactions if r.resolved_at is None), None)
        if open_r is None:
            symptoms = await self._ask_text(
                "Infusion reaction: symptoms (the infusion pauses at once)", "symptoms", "Symptoms", "Symptoms: required."
            )
            if symptoms is None or not self._execute(inf.StartReaction(self.pid, self.dose_id, symptoms=symptoms)):
                return
            open_r = self.state().reactions[-1]
        n = open_r.number
        if open_r.vitals_at is None and not await self.ask_vitals(point=f"reaction:{n}"):
            return
        if open_r.grade is None and not await self._grade(n):
            return
        open_r = self._reaction_of(n)
        if not open_r.notified:
            who = await self._ask_text("Who was notified?", "who", "Who (name, role)", "Who was notified: required.")
            if who is None or not self._execute(inf.NotifyReaction(self.pid, self.dose_id, reaction=n, who=who)):
                return
        if not open_r.treatments:
            treatment = await self._ask_text(
                "Treatment given", "treatment", "Treatment (or 'none')", "Treatment: required ('none' if none)."
            )
            if treatment is None or not self._execute(inf.TreatReaction(self.pid, self.dose_id, reaction=n, treatment=treatment)):
                return
        await self._outcome(n)

    async def _ask_text(self, title: str, name: str, label: str, required: str) -> str | None:
        """One text field in a dialog (None: cancelled)."""
        d = await self.app.push_screen_wait(FieldsDialog(title, [(name, label, "text")], self._required(name, required)))
        return None if d is None else d[name]

    async def _outcome(self, n: int) -> None:
        """Ask for reaction ``n``'s outcome (a severe reaction can only stop: CONV-IRR-1) and record it."""
        severe = inf.is_severe(self._reaction_of(n).grade)
        choices = (
            [("Stop this infusion", "stop")]
            if severe
            else [("Resume at the same rate (CONV-IRR-2)", "resume"), ("Stop this infusion", "stop")]
        )
        d = await self.app.push_screen_wait(
            FieldsDialog(
                "Outcome",
                [("outcome", "Outcome", "choice", choices)],
                lambda raw: ({"outcome": raw["outcome"]}, {} if raw["outcome"] else {"outcome": "Outcome: choose one."}),
            )
        )
        if d is not None:
            self._execute(inf.ResolveReaction(self.pid, self.dose_id, reaction=n, outcome=d["outcome"]))

    async def _grade(self, n: int) -> bool:
        """Ask for reaction ``n``'s CTCAE grade and record it."""
        choices = [
            ("Grade 1 — mild, transient", "1"),
            ("Grade 2 — interrupt, responds promptly", "2"),
            ("Grade 3 — severe, prolonged", "3"),
            ("Grade 4 — life-threatening", "4"),
            ("Anaphylaxis", "anaphylaxis"),
        ]
        d = await self.app.push_screen_wait(
            FieldsDialog(
                "CTCAE grade (v5, CTCAE-1)",
                [("grade", "Grade", "choice", choices)],
                lambda raw: ({"grade": raw["grade"]}, {} if raw["grade"] else {"grade": "Grade: choose one."}),
            )
        )
        if d is None or not self._execute(inf.GradeReaction(self.pid, self.dose_id, reaction=n, grade=d["grade"])):
            return False
        if self._reaction_of(n).severe:
            self.notify(
                "Severe or life-threatening: the infusion is stopped; permanent discontinuation needs a prescriber "
                "(CONV-IRR-1, MOD-NH-3).",
                severity="error",
                timeout=15,
            )
        return True

    @work(exclusive=True)
    async def action_correct_grade(self) -> None:
        """A prescriber corrects a reaction's recorded grade, with a reason (CONV-IRR-1, §16.1): the
        only way a severe grade's permanent-discontinuation block is lifted."""
        st = self.state()
        graded = [r for r in st.reactions if r.grade is not None]
        if not graded:
            self.notify("No graded reaction to correct.", severity="warning")
            return
        r = graded[-1]
        choices = [("Grade 1", "1"), ("Grade 2", "2"), ("Grade 3", "3"), ("Grade 4", "4"), ("Anaphylaxis", "anaphylaxis")]
        choices = [c for c in choices if c[1] != str(r.grade)]

        def validate(raw):
            errors = {}
            if not raw.get("grade"):
                errors["grade"] = "Grade: choose one."
            if not (raw.get("reason") or "").strip():
                errors["reason"] = "Reason: required (why the recorded grade was wrong)."
            return ({"grade": raw.get("grade"), "reason": (raw.get("reason") or "").strip()}, errors)

        d = await self.app.push_screen_wait(
            FieldsDialog(
                f"Correct the grade of reaction {r.number} (now {r.grade}; CONV-IRR-1)",
                [("grade", "Correct grade", "choice", choices), ("reason", "Reason", "text")],
                validate,
                note="Only a prescriber's recorded correction replaces the grade; the old grade stays on the record.",
            )
        )
        if d is None:
            return
        actor = self.app.actor
        signer = inf.grade_correction_signer(self.app.ledger.actor(actor))  # core says whose sign-in is needed
        if signer:
            from .dialogs import AuthScreen

            user = await self.app.push_screen_wait(
                AuthScreen(signer, "A reaction's grade is corrected by a prescriber (CONV-IRR-1).")
            )
            if user is None:
                return
            actor = user.username
        self._execute(inf.CorrectGrade(self.pid, self.dose_id, reaction=r.number, grade=d["grade"], reason=d["reason"]), actor)

    def _who(self) -> str:
        """The signed-in user, as a confirmation names them."""
        user = self.app.user
        return user.label if user else self.app.actor

    def _now(self) -> str:
        now = self.app.ledger.clock.now()
        return clock_hm(now, now)

    def _confirm(self, title: str, text: str, rule: str, command) -> None:
        """Ask y/n in a dialog naming what will be recorded; only y records ``command``. The dialog is
        on the screen stack before this returns, so keys typed right after the one that opened it go
        to the dialog (where they mean nothing), never to this screen again."""
        self.app.push_screen(ConfirmScreen(title, text, rule=rule), lambda ok: ok and self._execute(command))

    def action_acknowledge(self) -> None:
        """k: acknowledge the first alert, after a y in a dialog that names it (a burst of keys once
        acknowledged an alert: k opens the question, only y answers it)."""
        st = self.state()
        if not st.alerts:
            self.notify("No alert to acknowledge.")
            return
        alert = st.alerts[0]
        text = (
            f"{alert.text}\n→ {alert.action}\n\n"
            f"y records that {self._who()} acknowledged this alert at {self._now()}; it does not come back for "
            "this fact (WARN-ALERT-1). Acknowledging does not do what the alert asks."
        )
        self._confirm(
            "Acknowledge this alert?", text, alert.rule, inf.AcknowledgeAlert(self.pid, self.dose_id, alert_id=alert.id)
        )

    def action_complete(self) -> None:
        """o: complete the observation, after a y (the patient may then leave; MON-2)."""
        st = self.state()
        if not st.can_complete_observation.allowed:
            self.notify(st.can_complete_observation.reason, severity="warning", timeout=10)
            return
        text = (
            f"y records that {self._who()} completed the observation of {inf.dose_label(self.dose_id)} at "
            f"{self._now()}: the patient may leave. It cannot be reopened; a later reaction is still recorded "
            "against this dose (MON-2, CONV-IRR-3)."
        )
        self._confirm("Complete the observation?", text, "MON-2", inf.CompleteObservation(self.pid, self.dose_id))

    def action_left_early(self) -> None:
        """l: the patient left before observation ended: a reason, then ctrl+s records the deviation."""
        st = self.state()
        if not st.observation_open:
            self.notify("Observation is not open.", severity="warning")
            return
        self.app.push_screen(
            FieldsDialog(
                "Patient left before observation ended (MON-2 deviation)",
                [("reason", "Why", "text")],
                self._required("reason", "Why: required."),
                note=f"ctrl+s records that the patient left at {self._now()}: the observation of "
                f"{inf.dose_label(self.dose_id)} is INCOMPLETE, recorded by {self._who()} with why; the next "
                "pre-dose check shows it.",
            ),
            lambda d: d and self._execute(inf.RecordLeftEarly(self.pid, self.dose_id, reason=d["reason"])),
        )

    def action_stop(self) -> None:
        """t: stop the infusion: a reason, then ctrl+s records the stop (it cannot be resumed)."""
        st = self.state()
        if not st.can_stop.allowed:
            self.notify(st.can_stop.reason, severity="warning")
            return
        self.app.push_screen(
            FieldsDialog(
                "Stop this infusion",
                [("reason", "Reason", "text")],
                self._required("reason", "Reason: required."),
                note=f"ctrl+s records that {self._who()} stopped the infusion of {inf.dose_label(self.dose_id)} at "
                f"{self._now()}: it cannot be resumed; observation continues (MON-1).",
            ),
            lambda d: d and self._execute(inf.StopInfusion(self.pid, self.dose_id, reason=d["reason"])),
        )

    def action_back(self) -> None:
        self.app.pop_screen()

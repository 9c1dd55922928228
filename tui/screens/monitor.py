"""The infusion monitor: phase and timers derived from stored events and the clock, vitals,
reactions as a guided sequence, and alerts that stay until acknowledged."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from bedside.core import infusion as inf
from bedside.core.clock import fmt_clock, fmt_near, local_tz
from bedside.core.commands import Refusal

from ..text import literal
from ..widgets.countdown import LiveText, span
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
        yield Header()
        # Grouped so that a second's repaint of the timer line leaves the other groups' lines alone
        # (the compositor renders every widget whose container overlaps the changed cells).
        with Vertical(id="mon-top"):
            yield Static(id="identity", classes="identity")
            yield Static(id="mon-dose", classes="screen-title")
            yield LiveText(self.phase_text, id="mon-phase", classes="phase", interval=None)
        # One line; a second repaints only the cells that changed (a digit or two).
        yield LiveText(self.timer_line, id="mon-timer", classes="timer", interval=None)
        with Vertical(id="mon-bottom"):
            yield LiveText(self.detail_text, id="mon-detail", classes="mon-detail", interval=None)
        yield LiveText(self.alert_text, id="mon-alerts", classes="alerts", interval=None)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # One tick for all live lines, so a second's changes leave in one burst.
        self._live = list(self.query(LiveText))
        self._timer = self.set_interval(1, self.tick)
        p = self.app.ledger.patient(self.pid)
        self.query_one("#identity", Static).update(identity_line(p, self.app.ledger.today()))
        self.query_one("#mon-dose", Static).update(literal(f"Infusion monitor · {self.label or self.dose_id}"))

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
    def phase_text(self) -> Text:
        st = self.state()
        t = Text()
        t.append(f" {st.phase} ", style="bold reverse")
        if st.phase == inf.PAUSED and st.pauses:
            t.append(" reason: ")
            t.append(st.pauses[-1].reason)
        return t

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
            t.append(f" · grade {r.grade or '?'} · {'resolved (' + str(r.outcome) + ')' if r.resolved_at else 'OPEN'}\n")
        if st.discontinuation:
            t.append(f"⚠ {st.discontinuation.text} [{st.discontinuation.rule}]\n", style="bold")
        self._more_keys(t, st)
        for d in st.deviations:
            t.append(f"Deviation: {d.kind} at {clock_hm(d.at, now)} ({d.who}): ", style="dim")
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
        st = self.state()
        t = Text()
        if not st.alerts:
            return t
        for i, a in enumerate(st.alerts[:3]):
            mark = "!!" if a.severity == "critical" else "!"
            t.append(f"{mark} ALERT: ", style="bold reverse" if i == 0 else "bold")
            t.append(f"{a.text} → {a.action} [{a.rule}]\n")
            if a.id not in self._rung and self.app.ledger.site().bell:
                self._rung.add(a.id)
                self.app.bell()
        if len(st.alerts) > 3:
            t.append(f"… {len(st.alerts) - 3} more; k acknowledges the first.\n")
        else:
            t.append("k acknowledges the first alert.", style="dim")
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
        command = inf.StartInfusion(self.pid, self.dose_id)
        dry = self.app.ledger.decide(command, self.app.actor)  # the start gate, as core decides it now
        if isinstance(dry, Refusal):
            # Each reason names its rules and what to do next (core/infusion/gate.py).
            await self.app.push_screen_wait(MessageScreen("Cannot start", dry.text.removeprefix("Cannot start:\n")))
            return
        # The dose counts as given when its infusion starts (SCHED-6): core records both together.
        self._execute(command)

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
        """Ask for a set of vital signs; unusual values need a second ctrl+s (CONV-INPUT-1)."""
        fields = [(name, label, "text") for name, label, *_r in inf.VITALS_FIELDS]
        seen: dict = {}

        def validate(raw):
            unusual = inf.unusual_vitals(raw)
            confirmed = unusual.keys() if seen.get("raw") == raw else ()
            seen["raw"] = dict(raw)
            seen["confirmed"] = tuple(confirmed)
            data, errors = inf.validate_vitals(raw, confirmed=confirmed)
            if errors and set(errors) <= set(unusual):
                errors = {k: v + " Press ctrl+s again to confirm." for k, v in errors.items()}
            return data, errors

        title = "Vital signs" + (f" (reaction {point.split(':')[1]})" if point and point.startswith("reaction:") else "")
        data = await self.app.push_screen_wait(FieldsDialog(title, fields, validate))
        if data is None:
            return False
        return self._execute(
            inf.RecordVitals(self.pid, self.dose_id, values=seen["raw"], confirmed=seen["confirmed"], point=point)
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

    def action_acknowledge(self) -> None:
        st = self.state()
        if not st.alerts:
            self.notify("No alert to acknowledge.")
            return
        self._execute(inf.AcknowledgeAlert(self.pid, self.dose_id, alert_id=st.alerts[0].id))

    def action_complete(self) -> None:
        st = self.state()
        if not st.can_complete_observation.allowed:
            self.notify(st.can_complete_observation.reason, severity="warning", timeout=10)
            return
        self._execute(inf.CompleteObservation(self.pid, self.dose_id))

    def action_left_early(self) -> None:
        st = self.state()
        if not st.observation_open:
            self.notify("Observation is not open.", severity="warning")
            return
        self.app.push_screen(
            FieldsDialog(
                "Patient left before observation ended (MON-2 deviation)",
                [("reason", "Why", "text")],
                self._required("reason", "Why: required."),
                note="Recorded with your name and the time; the next pre-dose check shows it.",
            ),
            lambda d: d and self._execute(inf.RecordLeftEarly(self.pid, self.dose_id, reason=d["reason"])),
        )

    def action_stop(self) -> None:
        st = self.state()
        if not st.can_stop.allowed:
            self.notify(st.can_stop.reason, severity="warning")
            return
        self.app.push_screen(
            FieldsDialog("Stop this infusion", [("reason", "Reason", "text")], self._required("reason", "Reason: required.")),
            lambda d: d and self._execute(inf.StopInfusion(self.pid, self.dose_id, reason=d["reason"])),
        )

    def action_back(self) -> None:
        self.app.pop_screen()

"""Preparation of one scheduled dose: the calculation trail, recorded steps with live stability
deadlines, and the blind double-check by a second person."""

from __future__ import annotations

from datetime import datetime
from datetime import time as dtime
from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Header, Select, Static

from bedside.core import preparation as prep
from bedside.core import rules
from bedside.core.calc import FORMULA_LABELS
from bedside.core.clock import fmt_local, local_instant, to_local
from bedside.core.commands import Refusal
from bedside.core.preparation import baglabel

from ..palette import HEADER_ICON
from ..text import literal, shown
from ..widgets.countdown import LiveText, span
from ..widgets.field import Choice, ErrorLine, Field
from ..widgets.keys import Keys
from .base import PatientView, key_lines, room_of

MORE_KEYS = (
    "l the bag label", "b scan a vial carton", "f bag into the refrigerator", "o out to equilibrate", "x discard",
    "s syringe set, priming and flush", "V syringe volume", "O pharmacist override (STAB-4, STAB-5)",
)  # fmt: skip


class DoseRef:
    """Which dose is prepared and why its level is what it is (from the timeline)."""

    def __init__(self, cycle: int, day: int, level: Decimal, basis: str, blind_basis: str):
        self.cycle, self.day, self.level, self.basis, self.blind_basis = cycle, day, level, basis, blind_basis

    @property
    def id(self) -> str:
        return prep.dose_id(self.cycle, self.day)


def hm(at: datetime) -> str:
    return fmt_local(at, day=False)


class PreparationScreen(PatientView):
    BINDINGS = [
        Binding("c", "calculate", "Calculate"),
        Binding("r", "step('reconstituted')", "Reconstituted"),
        Binding("d", "step('diluted')", "Diluted"),
        Binding("b", "carton", "Scan carton", show=False),
        Binding("l", "label", "Bag label", show=False),
        Binding("f", "step('bag_refrigerated')", "Fridge in", show=False),
        Binding("o", "step('bag_removed')", "Fridge out", show=False),
        Binding("x", "step('discarded')", "Discard", show=False),
        Binding("v", "verify", "Double-check"),
        Binding("s", "syringe", "Syringe", show=False),
        Binding("O", "override", "Override", show=False),
        Binding("V", "volume", "Syringe volume", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, pid: str, dose: DoseRef):
        super().__init__(pid)
        self.dose = dose

    # -- state ---------------------------------------------------------------------------------
    def view(self):
        """The patient's projection (rebuilt only when their record changes, never per tick)."""
        return self.app.ledger.view(self.pid)

    def state(self) -> prep.PrepState:
        return self.view().prep(self.dose.id)

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="identity", classes="identity")
        yield Static(id="prep-title", classes="screen-title")
        with VerticalScroll(id="prep-trail"):
            yield Static(id="trail")
        yield Static(id="prep-status", classes="status")
        yield LiveText(self.deadline_text, id="prep-deadlines", classes="status", interval=None)
        yield Keys()

    def on_mount(self) -> None:
        self.refill()
        self._timer = self.set_interval(1, lambda: self.query_one("#prep-deadlines", LiveText).tick())

    def on_screen_suspend(self) -> None:
        self._timer.pause()  # hidden: no work, no repaint

    def on_screen_resume(self) -> None:
        self._timer.resume()
        super().on_screen_resume()

    def fill(self) -> None:
        self.query_one("#prep-title", Static).update(
            shown(
                Text.assemble(
                    ("Preparation", "bold"),
                    f" · C{self.dose.cycle} D{self.dose.day} · {self.dose.level} mg/m² · ",
                    self.dose.basis,
                )
            )
        )
        st = self.state()
        stale = self._stale(st)
        self.query_one("#trail", Static).update(shown(self._trail(st, stale)))
        self.query_one("#prep-status", Static).update(shown(self._status(st, stale)))
        self.query_one("#prep-deadlines", LiveText).tick()

    def _trail(self, st: prep.PrepState, stale: list[str]) -> Text:
        trail = Text()
        if st.calculation is None:
            trail.append("Not calculated yet. Press c to calculate from the latest height and weight.\n")
        else:
            c = st.calculation
            trail.append(
                f"Calculated by {c.actor} at {hm(c.at)} from height and weight measured {c.data.get('measured_on')}:\n",
                style="dim",
            )
            for line in c.prep.trail_lines():
                trail.append(line + "\n")
            if stale:
                trail.append(
                    "⚠ RECALCULATE: " + "; ".join(stale) + " — the verification is void (CONV-VERIFY-1).\n", style="bold"
                )
        return trail

    def _status(self, st: prep.PrepState, stale: list[str]) -> Text:
        status = Text()
        status.append("Check: ", style="bold")
        status.append(prep.status_words(st) if not stale else "✗ VOID: inputs changed since the calculation")
        if st.steps:
            status.append("\nSteps: ", style="bold")
            status.append(" · ".join(f"{prep.STEP_LABELS[s.step]} {hm(s.at)} ({s.actor})" for s in st.steps))
        if st.calculation is not None:
            vials = int(st.calculation.data["vials"])
            status.append("\nCartons: ", style="bold")
            status.append(
                f"{len(st.cartons)} of {vials} scanned"
                + (f": {st.lots}" if st.cartons else " (b scans each carton's DataMatrix)")
            )
        label = baglabel.current(self.pid, st)
        if label is not None:  # the code the nurse scans at the start (core/preparation/baglabel.py)
            status.append("\nBag label: ", style="bold")
            status.append(f"{baglabel.shown(label.code)} (l shows the label to print)")
        if st.discarded:
            status.append(f"\n{len(st.discarded)} earlier preparation(s) discarded", style="dim")
        self._syringe_status(st, status)
        for rule in prep.OVERRIDABLE:
            o = st.override(rule)
            if o:
                status.append(
                    f"\n{rule} overridden by {o['actor']} {hm(o['recorded_at'])}"
                    + (" (UNVERIFIED rule)" if o.get("unverified_rule") else "")
                    + ": ",
                    style="bold",
                )
                status.append(o["reason"])
        status.append("\n")
        status.append_text(key_lines("More keys: ", MORE_KEYS, room_of(self.query_one("#prep-status"), padding=2), "dim"))
        return status

    def _syringe_status(self, st: prep.PrepState, status: Text) -> None:
        if st.calculation is None or st.calculation.data.get("route") != "syringe":
            return
        rec = st.syringe
        status.append("\nSyringe (PREP-9, UNVERIFIED): ", style="bold")
        if rec:
            status.append(
                f"set {rec['set']}; primed with 0.9% NaCl; flush {rec['flush_ml']} mL = {rec['flush_min']} min "
                f"after the drug; by {rec['actor']}"
            )
        else:
            status.append("a pharmacist records the set, priming and flush (s) before the start")
        status.append(
            f"\nFinal volume {st.calculation.data['final_volume_ml']} mL"
            + (
                f" (the proposal: dose ÷ {rules.SYRINGE_PROPOSED_MG_PER_ML} mg/mL)"
                if not st.calculation.data.get("syringe_volume_ml")
                else f" (set by {st.calculation.actor})"
            )
            + "; V: the pharmacist confirms or edits it, then s and the double-check"
        )

    def _stale(self, st: prep.PrepState) -> list[str]:
        return prep.stale(self.view(), self.dose.cycle, self.dose.day)

    def deadline_text(self) -> Text:
        st = self.state()
        now = self.app.ledger.clock.now()
        dl = st.deadlines(now)
        t = Text()
        if dl is None:
            t.append("Stability: starts at reconstitution (dilute within 4 h, STAB-1; end within 8 h, STAB-2).")
            return t
        if dl.problems:
            for rule, text in dl.problems:
                t.append(f"✗ {text} [{rule}]\n", style="bold")
        for rule, text in st.cannot_give(now):  # issue 15: as soon as it can be known (CONV-STAB-1/3, STAB-5)
            t.append("✗ CANNOT BE GIVEN AS PLANNED", style="bold reverse")
            t.append(f" {text.removeprefix('Cannot be given as planned: ')} [{rule}]\n", style="bold")
        if st.step_at("diluted") is None:
            left = (dl.dilution_deadline - now).total_seconds()
            t.append(f"Dilute by {hm(dl.dilution_deadline)} (in {span(left)}) [STAB-1]  ", style="bold")
        t.append(f"End by {hm(dl.end_deadline)} [{dl.binding.rule_id}{' UNVERIFIED' if dl.binding.unverified else ''}]\n")
        left = (dl.latest_start - now).total_seconds()
        words = f"in {span(left)}" if left >= 0 else f"PASSED {span(-left)} ago: discard and prepare again (CONV-STAB-3)"
        t.append(f"LATEST START {hm(dl.latest_start)} ({words})", style="bold reverse" if dl.start_soon(now) else "bold")
        if dl.remove_from_refrigerator_by:
            t.append(f"\nTake out of the refrigerator by {hm(dl.remove_from_refrigerator_by)} [STAB-4]")
        if dl.earliest_start and dl.earliest_start > now:
            t.append(f"\nEquilibrate: start no earlier than {hm(dl.earliest_start)} [STAB-5]")
        return t

    # -- actions: each sends a command (core/preparation/commands.py) -------------------------
    def _execute(self, cmd, actor: str | None = None, prefix: str = "") -> list | None:
        """Carry out ``cmd`` for ``actor`` (the signed-in user by default); a refusal is shown."""
        try:
            return self.app.ledger.execute(cmd, actor or self.app.actor)
        except ValueError as exc:
            self.notify(f"{prefix}{exc}", severity="error", timeout=12 if prefix else 10)
            return None
        finally:
            self.refill()

    def action_calculate(self) -> None:
        self._execute(prep.CalculateDose(self.pid, self.dose.cycle, self.dose.day))

    @work(exclusive=True)
    async def action_step(self, step: str) -> None:
        answer = await self.app.push_screen_wait(StepScreen(step, self.app.ledger.clock.now()))
        if answer is None:
            return
        cmd = prep.step_command(self.pid, self.dose.id, step, answer["at"], answer.get("vials_kept"), answer.get("reason"))
        if self._execute(cmd, prefix="Refused: ") is not None:
            self.notify(f"{prep.STEP_LABELS[step]} at {hm(answer['at'])} recorded.")

    def action_label(self) -> None:
        """l: the bag label, as ``bedside print label`` prints it (the code the start asks for)."""
        from .dialogs import MessageScreen

        lines = baglabel.label_lines(self.view().patient, self.state(), self.app.ledger.clock.now())
        if not lines:
            self.notify("No bag label yet: record the dilution first (d).", severity="warning")
            return
        mrn = self.view().patient.mrn
        title = f"Bag label · C{self.dose.cycle} D{self.dose.day}"
        lines += [
            "",
            f"Print: bedside print label {mrn} --cycle {self.dose.cycle} --day {self.dose.day}",
            "With its barcode: add --format svg (any printer) or zpl (Zebra)",
        ]
        self.app.push_screen(MessageScreen(title, "\n".join(lines)))

    @work(exclusive=True)
    async def action_carton(self) -> None:
        """b: scan each vial carton (GTIN, lot, expiry, serial); the dialog comes back for the next one."""
        from .dialogs import FieldsDialog

        ledger = self.app.ledger

        def command(raw) -> prep.ScanCarton:
            return prep.ScanCarton(self.pid, self.dose.id, raw["code"] or "")

        def validate(raw):
            answer = ledger.decide(command(raw), self.app.actor)  # a dry run: the decision's own words
            return (None, {"code": answer.text}) if isinstance(answer, Refusal) else (raw, {})

        while True:
            st = self.state()
            if st.calculation is not None and len(st.cartons) >= int(st.calculation.data["vials"]):
                self.notify(f"All {len(st.cartons)} cartons are scanned: {st.lots}.")
                return
            vials = f" of {st.calculation.data['vials']}" if st.calculation is not None else ""
            ans = await self.app.push_screen_wait(
                FieldsDialog(
                    f"Scan vial carton {len(st.cartons) + 1}{vials} (PREP-1)",
                    [("code", "Carton DataMatrix (scan)", "text")],
                    validate,
                    note="Scan the GS1 DataMatrix on the carton: the product, lot and expiry are checked and recorded.",
                    enter_records="code",
                )
            )
            if not ans or self._execute(command(ans), prefix="Refused: ") is None:
                return
            last = self.state().cartons[-1]
            self.notify(
                f"Carton recorded: lot {last.lot}, expiry {last.expiry}"
                + (f", serial {last.serial}" if last.serial else "")
                + "."
            )

    @work(exclusive=True)
    async def action_syringe(self) -> None:
        from .dialogs import FieldsDialog

        ledger = self.app.ledger
        refused = prep.syringe_refusal(self.state(), ledger.actor(self.app.actor))
        if refused:
            self.notify(refused, severity="error")
            return

        def command(raw) -> prep.RecordSyringe:
            return prep.RecordSyringe(self.pid, self.dose.id, raw["set"] or "", raw["primed"] == "yes", raw["flush_ml"] or "")

        def validate(raw):
            answer = ledger.decide(command(raw), self.app.actor)  # a dry run: the decision's own words
            if isinstance(answer, Refusal):
                text = answer.text
                field = "set" if text.startswith("Set") else "primed" if "Priming" in text else "flush_ml"
                return None, {field: text}
            return raw, {}

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Syringe route (PREP-9, UNVERIFIED): set, priming, flush",
                [
                    ("set", "Administration set", "text"),
                    ("primed", "Primed with 0.9% NaCl (not drug)", "choice", [("Yes", "yes"), ("No", "no")]),
                    ("flush_ml", "Flush volume (mL)", "text"),
                ],
                validate,
                note="The flush runs at the infusion rate after the 60-minute drug time; the site has no default volume.",
            )
        )
        if ans:
            self._execute(command(ans))

    @work(exclusive=True)
    async def action_volume(self) -> None:
        """PREP-9 (UNVERIFIED): the pharmacist confirms or edits the syringe's final volume."""
        from .dialogs import FieldsDialog

        st = self.state()
        rng = prep.syringe_volume_range(st)
        if rng is None:
            self.notify("This dose is not on the syringe route (PREP-8/PREP-9).", severity="warning")
            return
        lo, hi = rng

        def validate(raw):
            try:
                prep.check_syringe_volume(st, raw["volume"] or "")
            except ValueError as exc:
                return None, {"volume": str(exc)}
            return {"volume": raw["volume"].strip()}, {}

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                f"Syringe final volume (PREP-9, UNVERIFIED): {st.calculation.data['dose_mg']} mg",
                [("volume", f"Final volume (mL, {lo}–{hi})", "text")],
                validate,
                values={"volume": st.calculation.data["final_volume_ml"]},
                note="A new calculation with this volume: the double-check and the syringe record (s) are made again for it.",
            )
        )
        if not ans:
            return
        user = await self.as_role(prep.SetSyringeVolume.ROLE, "A pharmacist sets the syringe's final volume (PREP-9).")
        if user is None:
            return
        if self._execute(prep.SetSyringeVolume(self.pid, self.dose.id, ans["volume"]), user.username, "Refused: ") is not None:
            self.notify(f"Final volume {ans['volume']} mL set by {user.username}.")

    @work(exclusive=True)
    async def action_override(self) -> None:
        """A pharmacist's recorded override: STAB-4 (UNVERIFIED limits) or STAB-5 (equilibration)."""
        from .dialogs import FieldsDialog

        refused = prep.override_refusal(self.state())
        if refused:
            self.notify(refused, severity="warning")
            return
        choices = [(f"{rule}: {why}", rule) for rule, why in prep.OVERRIDABLE.items()]

        def validate(raw):
            errs = {}
            if not raw["rule"]:
                errs["rule"] = "Rule: choose one."
            if not (raw["reason"] or "").strip():
                errs["reason"] = "Reason: required for an override."
            return (None, errs) if errs else ({"rule": raw["rule"], "reason": raw["reason"].strip()}, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Pharmacist override (recorded with your name and reason)",
                [("rule", "Rule", "choice", choices), ("reason", "Reason", "text")],
                validate,
                note=prep.OVERRIDE_NOTE,
            )
        )
        if not ans:
            return
        user = await self.as_role(prep.OverrideStability.ROLE, f"A pharmacist overrides {ans['rule']}.")
        if user is None:
            return
        cmd = prep.OverrideStability(self.pid, self.dose.id, ans["rule"], ans["reason"])
        if self._execute(cmd, user.username, "Refused: ") is not None:
            self.notify(f"{ans['rule']} overridden by {user.username}.")

    @work(exclusive=True)
    async def action_verify(self) -> None:
        refused = prep.verify_refusal(self.view(), self.dose.id)
        if refused:
            self.notify(refused, severity="error")
            return
        st = self.state()
        result = await self.app.push_screen_wait(VerifyScreen(self.pid, st.calculation, self.dose))
        if result is None:
            return
        user, cmd = result
        stored = self._execute(cmd, user.username)
        if not stored:
            return
        v = stored[0].payload
        if v.matched:
            self.notify(f"Verified: {user.username} agrees with {st.calculation.actor}.")
        else:
            await self.app.push_screen_wait(MismatchScreen(v, st.calculation.actor, user.username))

    def action_back(self) -> None:
        self.app.pop_screen()


class StepScreen(ModalScreen[dict | None]):
    """When a step happened (local time, default now) and what the step needs."""

    BINDINGS = [Binding("ctrl+s", "save", "Record"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, step: str, now: datetime):
        super().__init__()
        self.step = step
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Static(f"Record: {prep.STEP_LABELS[self.step]}", classes="box-title")
            with Horizontal(classes="frow"):
                yield Static("Time (HH:MM, today)", classes="flabel")
                yield Field(value=fmt_local(self.now, day=False), id="f-time", max_length=5, restrict=r"[0-9:]*")
            yield ErrorLine(id="e-time")
            if self.step == "diluted":
                with Horizontal(classes="frow"):
                    yield Static("Vials kept until dilution", classes="flabel")
                    yield Choice(
                        [
                            ("Refrigerated 2–8 °C, protected from light", "refrigerated"),
                            ("Room temperature (pharmacist)", "room_temperature"),
                        ],
                        id="f-vials",
                    )
                yield ErrorLine(id="e-vials")
                yield Static(
                    "CONV-STAB-4: vials refrigerated ≤ 4 h; room temperature needs a pharmacist's reason.", classes="hint"
                )
            if self.step in ("diluted", "discarded"):
                with Horizontal(classes="frow"):
                    yield Static("Reason" + (" (room temperature)" if self.step == "diluted" else ""), classes="flabel")
                    yield Field(id="f-reason", max_length=200)
            yield Static("ctrl+s records · escape cancels", classes="hint")
        yield Keys()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#f-time", Field))

    async def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()
        await self.run_action("save")  # through the app's fault handling

    def action_save(self) -> None:
        text = self.query_one("#f-time", Field).value.strip()
        try:
            hh, mm = text.split(":")
            wall = dtime(int(hh), int(mm))
        except ValueError:
            self.query_one("#e-time", ErrorLine).say("Time: HH:MM in 24-hour local time, e.g. 08:05.")
            return
        try:  # a time the clocks skipped is refused; one they repeated is the earlier, safer one (CONV-TIME-1)
            at, note = local_instant(to_local(self.now).date(), wall, "Time")
        except ValueError as exc:
            self.query_one("#e-time", ErrorLine).say(str(exc))
            return
        if note:
            self.notify(note)
        answer: dict = {"at": at}
        if self.step == "diluted":
            sel = self.query_one("#f-vials", Select)
            if sel.value is Select.NULL:
                self.query_one("#e-vials", ErrorLine).say("Vials kept until dilution: choose one (CONV-STAB-4).")
                return
            answer["vials_kept"] = sel.value
        if self.step in ("diluted", "discarded"):
            answer["reason"] = self.query_one("#f-reason", Field).value.strip() or None
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)


class VerifyScreen(ModalScreen[tuple | None]):
    """The second person signs in here and re-derives the numbers without seeing the first result."""

    BINDINGS = [Binding("ctrl+s", "save", "Submit"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, pid: str, calculation: prep.Calculation, dose: DoseRef):
        super().__init__()
        self.pid, self.calculation, self.dose = pid, calculation, dose
        self.user = None

    def compose(self) -> ComposeResult:
        d = self.calculation.data
        with Vertical(classes="box dialog", id="verify-box"):
            yield Static("Independent double-check (blind)", classes="box-title")
            yield Static(
                literal(
                    f"Source inputs: height {d['height_cm']} cm, weight {d['weight_kg']} kg (measured {d.get('measured_on')}), "
                    f"formula {FORMULA_LABELS.get(d['formula'], d['formula'])}, {self.dose.blind_basis}"
                    + (f"; syringe route, final volume {d['final_volume_ml']} mL (PREP-9)" if d.get("route") == "syringe" else "")
                    + ". Re-derive the numbers yourself (CONV-VERIFY-1)."
                )
            )
            with Horizontal(classes="frow"):
                yield Static("Second user", classes="flabel")
                yield Field(id="f-user", max_length=32, placeholder="user name (not the preparer)")
            with Horizontal(classes="frow"):
                yield Static("PIN", classes="flabel")
                yield Field(id="f-pin", password=True, max_length=8, restrict=r"[0-9]*")
            yield ErrorLine(id="e-user")
            for f in prep.VERIFY_FIELDS:
                with Horizontal(classes="frow"):
                    yield Static(prep.VERIFY_LABELS[f], classes="flabel")
                    yield Field(id=f"f-{f}", max_length=12, restrict=r"[0-9.]*")
                yield ErrorLine(id=f"e-{f}")
            yield Static("ctrl+s submits · escape cancels", classes="hint")
        yield Keys()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#f-user", Field))

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on

    def action_save(self) -> None:
        ledger = self.app.ledger
        username = self.query_one("#f-user", Field).value.strip()
        err = self.query_one("#e-user", ErrorLine)
        refused = prep.second_person(self.calculation, username)  # before any sign-in (CONV-VERIFY-1)
        if refused:
            err.say(f"Second user: {refused}")
            return
        raw = {f: self.query_one(f"#f-{f}", Field).value for f in prep.VERIFY_FIELDS}
        values, errors = prep.parse_verification(raw)
        for f in prep.VERIFY_FIELDS:
            self.query_one(f"#e-{f}", ErrorLine).say(errors.get(f, ""))
        if errors:
            return
        result = ledger.sign_in(username, self.query_one("#f-pin", Field).value)
        self.query_one("#f-pin", Field).value = ""
        if result.user is None:
            err.say(result.message)
            return
        cmd = prep.DoubleCheck(self.pid, self.dose.id, **values)
        answer = ledger.decide(cmd, result.user.username)  # a dry run: their role, read from the users log
        if isinstance(answer, Refusal):
            err.say(f"Second user: {answer.text}")
            return
        err.say("")
        self.dismiss((result.user, cmd))

    def action_cancel(self) -> None:
        self.dismiss(None)


class MismatchScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("enter", "close", "Close", show=False)]

    def __init__(self, verification: prep.PrepVerification, preparer: str, verifier: str):
        super().__init__()
        self.v, self.preparer, self.verifier = verification, preparer, verifier

    def compose(self) -> ComposeResult:
        t = Text()
        t.append("The two derivations differ: this dose cannot be given until it is resolved.\n\n", style="bold")
        t.append(f"{'':16}{self.preparer:>14}{self.verifier:>14}\n", style="bold")
        for f in prep.VERIFY_FIELDS:
            mark = "  ✗" if f in self.v.mismatches else "  ✓"
            t.append(f"{prep.VERIFY_LABELS[f]:16}{self.v.expected[f]:>14}{self.v.entered[f]:>14}{mark}\n")
        t.append("\nRecheck the source inputs together; recalculate (c) if an input was wrong, then double-check again.")
        with Vertical(classes="box dialog"):
            yield Static("✗ Double-check MISMATCH", classes="box-title")
            yield Static(t)
        yield Keys()

    def action_close(self) -> None:
        self.dismiss(None)

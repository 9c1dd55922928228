"""One intake form, built from the section's field specs in ``core.intake``.

Saving either records one whole, valid event or shows, next to each bad field, a message that
names the field and the allowed range; nothing is half-saved. Unusual values (CONV-INPUT-1)
need an explicit confirmation, recorded with the event. The same screen corrects an earlier
entry: prefilled, with a required reason; the correction is a new event.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Header, Select, Static

from bedside.core import intake
from bedside.core.commands import Command

from ..text import literal, shown, when
from ..widgets.field import ErrorLine, Field
from .dialogs import ConfirmScreen


class FormScreen(Screen[str | None]):
    """Record a section for a patient (or register one: section "identity" without a patient)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, section: str, pid: str | None = None, correcting: intake.Entry | None = None):
        super().__init__()
        self.section = intake.SECTIONS[section]
        self.pid = pid
        self.correcting = correcting

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._title(), classes="screen-title", id="form-title")
        prefill: dict[str, Any] = {}
        if self.correcting is not None:
            prefill = intake.raw_from_data(self.section.name, self.correcting.data)
        with VerticalScroll(id="form"):
            for spec in self.section.fields:
                with Horizontal(classes="frow"):
                    yield Static(spec.label + ("" if spec.required or spec.kind == "bool" else " (optional)"), classes="flabel")
                    yield self._widget(spec, prefill.get(spec.name))
                yield ErrorLine(id=f"e-{spec.name}")
            if self.correcting is not None:
                with Horizontal(classes="frow"):
                    yield Static("Reason for correction", classes="flabel")
                    yield Field(id="f-reason", max_length=200)
                yield ErrorLine(id="e-reason")
            yield Static("", id="form-message", classes="message")
            if self.section.rule:
                yield Static(f"Rules: {self.section.rule}", classes="hint")
        yield Footer(compact=True)

    def _title(self) -> Any:
        from rich.text import Text

        t = Text()
        if self.correcting is not None:
            t.append(f"Correct {self.section.title.lower()} recorded {when(self.correcting.at)} by ")
            t.append(self.correcting.actor)
        elif self.pid is None:
            t.append("Register a patient")
        else:
            t.append(self.section.title)
        if self.pid is not None:
            p = self.app.ledger.patient(self.pid)
            t.append(" — ")
            t.append(f"{p.name} · {p.mrn}")
        return shown(t)

    def _widget(self, spec: intake.FieldSpec, value: Any):
        wid = f"f-{spec.name}"
        if spec.kind == "bool":
            return Checkbox("", bool(value), id=wid)
        if spec.kind == "choice":
            options = [(label, v) for v, label in spec.choices]
            sel: Select[str] = Select(options, prompt="choose…", id=wid, compact=True, allow_blank=True)
            if value:
                sel.value = value
            return sel
        placeholder = "YYYY-MM-DD" if spec.kind == "date" else (spec.range_text if spec.kind == "decimal" else spec.help)
        return Field(
            value=value or "", placeholder=placeholder, id=wid, max_length=max(spec.max_len, 30) if spec.kind == "text" else 30
        )

    def on_mount(self) -> None:
        self.set_focus(self.query_one(f"#f-{self.section.fields[0].name}"))

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on

    # -- reading and saving ---------------------------------------------------------------------
    def raw_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in self.section.fields:
            w = self.query_one(f"#f-{spec.name}")
            if isinstance(w, Checkbox):
                out[spec.name] = w.value
            elif isinstance(w, Select):
                out[spec.name] = "" if w.value is Select.NULL else w.value
            else:
                out[spec.name] = w.value
        return out

    def _validate(self, confirmed: frozenset[str] = frozenset()) -> intake.FormResult:
        ledger = self.app.ledger
        dob = None
        taken: list[str] = []
        if self.pid is not None:
            dob = ledger.patient(self.pid).dob
        if self.section.name == "identity":
            taken = [p.mrn for p in ledger.patients() if p.id != self.pid]
        return intake.validate(
            self.section.name, self.raw_values(), today=ledger.today(), confirmed=confirmed, dob=dob, taken_mrns=taken
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        for spec in self.section.fields:
            self.query_one(f"#e-{spec.name}", ErrorLine).say(errors.get(spec.name, ""))
        if self.correcting is not None:
            self.query_one("#e-reason", ErrorLine).say(errors.get("reason", ""))
        msg = self.query_one("#form-message", Static)
        if errors:
            n = len(errors)
            msg.update(f"{n} field{'s' if n > 1 else ''} need{'' if n > 1 else 's'} attention — nothing was saved.")
            first = next(iter(errors))
            self.set_focus(self.query_one(f"#f-{first}"))
        else:
            msg.update("")

    @work(exclusive=True)
    async def action_save(self) -> None:
        result = self._validate()
        errors = dict(result.errors)
        reason = ""
        if self.correcting is not None:
            reason = self.query_one("#f-reason", Field).value.strip()
            if not reason:
                errors["reason"] = "Reason for correction: required."
        if errors:
            self.show_errors(errors)
            return
        if result.confirm and not result.ok:
            text = "\n".join(result.confirm.values())
            if not await self.app.push_screen_wait(
                ConfirmScreen("Unusual values", text + "\n\nRecord them as typed?", rule="CONV-INPUT-1")
            ):
                self.show_errors({k: v for k, v in result.confirm.items()})
                return
            result = self._validate(frozenset(result.confirm))
            if not result.ok:
                self.show_errors(result.errors)
                return
        self.show_errors({})
        assert result.data is not None
        cmd = self.command(frozenset(result.confirm), reason)
        try:
            self.app.ledger.execute(cmd, self.app.actor)
        except ValueError as exc:  # refused on the record as it stands now (another terminal's MRN …)
            self.query_one("#form-message", Static).update(literal(f"Not saved: {exc}"))
            return
        if self.correcting is not None:
            self.notify("Correction recorded; the old value stays in the history.")
            self.dismiss(self.pid)
        elif isinstance(cmd, intake.RegisterPatient):
            p = self.app.ledger.patient(cmd.pid)
            self.notify(f"Registered {p.mrn}.")
            self.dismiss(p.id)
        else:
            self.notify(f"{self.section.title} recorded.")
            self.dismiss(self.pid)

    def command(self, confirmed: frozenset[str], reason: str) -> Command:
        """What the user typed, as the command core decides (the form is checked again there)."""
        values = self.raw_values()
        if self.correcting is not None:
            assert self.pid is not None
            return intake.CorrectEntry(self.pid, self.correcting.version, values, reason, confirmed)
        if self.pid is None:
            return intake.RegisterPatient(values, confirmed)
        return intake.RecordSection(self.pid, self.section.name, values, confirmed)

    def action_cancel(self) -> None:
        self.dismiss(None)

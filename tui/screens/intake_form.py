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
from textual.widgets import Checkbox, Header, Select, Static

from bedside.core import intake
from bedside.core.commands import Command

from ..palette import HEADER_ICON
from ..text import literal, shown, when
from ..widgets.field import Choice, ErrorLine, Field, Tick
from ..widgets.keys import Keys
from .dialogs import ConfirmScreen, fit_labels


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
        yield Header(icon=HEADER_ICON)
        yield Static(self._title(), classes="screen-title", id="form-title")
        if self.correcting is not None:
            prefill = intake.raw_from_data(self.section.name, self.correcting.data)
        else:  # a new record: today's date where the date is normally today (editable)
            prefill = intake.form_defaults(self.section.name, self.app.ledger.today())
        with VerticalScroll(id="form"):
            for spec in self.section.fields:
                with Horizontal(classes="frow"):
                    yield Static(self._label(spec), classes="flabel")
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
        yield Keys()

    def _title(self) -> Any:
        from rich.text import Text

        t = Text()
        if self.correcting is not None:
            title = self.section.title
            if not title.split()[0].isupper():  # "height and weight", but "VOD risk factors"
                title = title[:1].lower() + title[1:]
            t.append(f"Correct {title} recorded {when(self.correcting.at)} by ")
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

    @staticmethod
    def _label(spec: intake.FieldSpec) -> str:
        return spec.label + ("" if spec.required or spec.kind == "bool" else " (optional)")

    def _widget(self, spec: intake.FieldSpec, value: Any):
        wid = f"f-{spec.name}"
        if spec.kind == "bool":
            return Tick("", bool(value), id=wid)
        if spec.kind == "choice":
            sel = Choice([(label, v) for v, label in spec.choices], id=wid, allow_blank=True)
            if value:
                sel.value = value
            return sel
        return Field(
            value=value or "", placeholder=spec.hint, id=wid, max_length=max(spec.max_len, 30) if spec.kind == "text" else 30
        )

    def on_mount(self) -> None:
        fit_labels(self, [self._label(spec) for spec in self.section.fields], 44)
        self.set_focus(self.first_empty())

    def first_empty(self):
        """Where typing starts: the first field still empty (a date already filled with today is
        passed over; shift+tab goes back to it), else the first field."""
        widgets = [self.query_one(f"#f-{spec.name}") for spec in self.section.fields]
        empty = [w for w in widgets if isinstance(w, Field | Choice) and w.value in ("", Select.NULL)]
        return (empty or widgets)[0]

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on

    def on_select_changed(self, event: Select.Changed) -> None:
        """A choice that makes a date due (a pregnancy test result): that date starts as today."""
        if self.correcting is not None:
            return
        for name, value in intake.dates_to_fill(self.section.name, self.raw_values(), self.app.ledger.today()).items():
            self.query_one(f"#f-{name}", Field).value = value

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
        taken: list = []
        if self.pid is not None:
            dob = ledger.patient(self.pid).dob
        if self.section.name == "identity":
            taken = [p for p in ledger.patients() if p.id != self.pid]
        return intake.validate(
            self.section.name,
            self.raw_values(),
            today=ledger.today(),
            confirmed=confirmed,
            dob=dob,
            taken_mrns=[p.mrn for p in taken],
            taken_wristbands=[p.wristband for p in taken],
            wristband_scheme=ledger.site().wristband_scheme,
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

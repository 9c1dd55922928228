"""The audit trail: every event with who, what and when; filter by keyboard; either order."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from bedside.core import auth, intake
from bedside.core.clock import fmt_local
from bedside.core.site import SettingRecorded

from ..text import literal
from ..text import shown as shown_text
from ..widgets.field import Field
from .dialogs import TextScreen

if TYPE_CHECKING:
    from bedside.core.events import Event  # an annotation only: the tui imports no event classes

_KIND_WORDS = {  # the kinds from their event classes (core), the words the audit shows
    intake.PatientRegistered.KIND: "registered patient",
    intake.CORRECTION_KIND: "corrected entry",
    auth.USER_CREATED: "created user",
    auth.USER_SIGNED_IN: "signed in",
    auth.USER_SIGNIN_FAILED: "failed sign-in",
    auth.USER_UNLOCKED: "unlocked user",
    auth.USER_PIN_CHANGED: "changed PIN",
    auth.USER_DEACTIVATED: "deactivated user",
    SettingRecorded.KIND: "changed setting",
}


def describe(ev: Event) -> str:
    if ev.kind in _KIND_WORDS:
        words = _KIND_WORDS[ev.kind]
    elif ev.kind in intake.KIND_TO_SECTION:
        words = "recorded " + intake.SECTIONS[intake.KIND_TO_SECTION[ev.kind]].title.lower()
    else:
        words = ev.kind
    if ev.kind == "intake.corrected":
        words += f" #{ev.data.get('corrects')}"
    return words


def details(ev: Event) -> str:
    d = {k: v for k, v in ev.data.items() if k != "pin_hash"}
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


class AuditScreen(Screen):
    BINDINGS = [
        # priority: resolved in the order keys arrive, so what is typed after "/" lands in the field
        Binding("slash", "filter", "Filter", priority=True),
        Binding("o", "order", "Oldest/newest first"),
        Binding("enter", "show", "Details", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, pid: str | None = None):
        super().__init__()
        self.pid = pid
        self.newest_first = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="audit-title", classes="screen-title")
        yield Field(placeholder="/ filter: user, event, MRN, text", id="audit-filter", max_length=60)
        yield DataTable(id="audit", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#audit", DataTable)
        table.add_columns("When (local)", "Who", "What", "Patient", "Details")
        self.fill()
        self.set_focus(table)

    def events(self) -> list[Event]:
        """The patient's events (their projection, ``ledger.view``), or the whole log."""
        ledger = self.app.ledger
        if self.pid:
            return list(ledger.view(self.pid).events)
        return list(ledger.events)

    def fill(self) -> None:
        ledger = self.app.ledger
        table = self.query_one("#audit", DataTable)
        query = self.query_one("#audit-filter", Field).value.strip().casefold()
        table.clear()
        evs = self.events()
        if self.newest_first:
            evs = list(reversed(evs))
        shown = 0
        for ev in evs:
            mrn = ""
            if ev.stream.startswith(intake.PATIENT_PREFIX):
                try:
                    mrn = ledger.patient(ev.stream[len(intake.PATIENT_PREFIX) :]).mrn
                except KeyError:
                    mrn = "?"
            what = describe(ev)
            det = details(ev)
            row = (fmt_local(ev.at, seconds=True), ev.actor, what, mrn, det)
            if query and not any(query in str(c).casefold() for c in row):
                continue
            table.add_row(row[0], literal(ev.actor), literal(what), literal(mrn), literal(det[:200]), key=str(ev.seq))
            shown += 1
        patient = ledger.view(self.pid).patient if self.pid else None
        scope = "whole database" if patient is None else f"{patient.name} · {patient.mrn}"
        order = "newest first" if self.newest_first else "oldest first"
        title = Text()
        title.append("Audit — ")
        title.append(scope)
        title.append(f" — {shown} of {len(evs)} events, {order}; times in local time (stored UTC)")
        self.query_one("#audit-title", Static).update(shown_text(title))

    def ledger_changed(self) -> None:
        self.fill()

    def on_input_changed(self, event: Field.Changed) -> None:
        self.fill()

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on to the table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # already in the field: "/" is typed there
        return not (action == "filter" and self.focused is not None and self.focused.id == "audit-filter")

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#audit-filter", Field))

    def action_order(self) -> None:
        self.newest_first = not self.newest_first
        self.fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if not table.row_count:  # the row under the cursor now (a filter may have run since)
            return
        seq = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        ev = next(e for e in self.app.ledger.events if e.seq == seq)
        body = Text()
        for label, value in (
            ("Event", f"{ev.seq} ({ev.ref})"),
            ("Kind", ev.kind),
            ("Who", ev.actor),
            ("When (local)", fmt_local(ev.at, seconds=True)),
            ("When (UTC)", ev.at.isoformat()),
            ("Hash", ev.hash[:16] + "…"),
        ):
            body.append(f"{label}: ", style="bold")
            body.append(f"{value}\n")
        body.append("\n")
        body.append(
            json.dumps({k: v for k, v in ev.data.items() if k != "pin_hash"}, ensure_ascii=False, indent=2, sort_keys=True)
        )
        self.app.push_screen(TextScreen("Event", shown_text(body)))

    def action_back(self) -> None:
        self.app.pop_screen()
